#!/usr/bin/env bash
# Requests/s and latency percentiles of GET /monitoring/health under wrk, on
# loopback, against a fresh server on embedded defaults. Bounded: 3 runs of
# 10 s each.
set -euo pipefail
build="${1:?usage: http_health.sh BUILD_DIR}"
data="$(mktemp -d)"
out="$data/stdout"
"$build/duckmesh" serve --listen 127.0.0.1:0 --data-dir "$data/d" --log-level warn >"$out" 2>"$data/stderr" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
url="$(grep -o 'http://[0-9.:]*' "$out" | head -n 1)"
echo "== GET $url/monitoring/health (DuckDB SELECT 1 on every request)"
for conns in 1 16 64; do
  echo "-- wrk -c$conns -d10s --latency"
  threads=$(( conns < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$conns" -d10s --latency "$url/monitoring/health" | grep -E "Requests/sec|50%|99%|Latency  "
done
echo "== GET $url/metrics"
wrk -t2 -c16 -d10s --latency "$url/metrics" | grep -E "Requests/sec|50%|99%"
