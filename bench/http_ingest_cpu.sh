#!/usr/bin/env bash
# Server CPU per 1000 events, end to end, under saturating HTTP ingest:
# A/B of one or more duckmesh binaries, alternating, on loopback.
#
# Each run starts a fresh server on embedded defaults, creates the 7-column
# table of bench_ingest_http, and has wrk POST 1000-event NDJSON bodies (500
# distinct bodies, the events of bench_ingest_http: unique ids and notes)
# from CONNECTIONS connections for SECONDS seconds. It then waits until the
# coordinator has committed every accepted event and reports:
#   - requests/s acknowledged, and the server's CPU (user + system, from
#     /proc) per 1000 events, counting the commit of every accepted event;
#   - end to end events/s: accepted events over the load plus the drain;
#   - the machine's idle share during the load.
# CPU per event is the steadier figure for comparing builds: it does not
# depend on how the two cores were shared in that minute.
#
# Usage: bench/http_ingest_cpu.sh BINARY [BINARY...]
#        (ROUNDS=3 CONNECTIONS=8 DURATION=8 in the environment: rounds, wrk
#        connections, seconds of load per run)
set -euo pipefail
[ "$#" -ge 1 ] || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
rounds="${ROUNDS:-3}"
conns="${CONNECTIONS:-8}"
secs="${DURATION:-8}"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The corpus: 500 bodies of 1000 events.
python3 - "$work" <<'EOF'
import sys
kinds = ["view", "click", "purchase", "refund"]
countries = ["FR", "DE", "US", "JP", "BR"]
for b in range(500):
    with open(f"{sys.argv[1]}/{b}.ndjson", "w") as out:
        for i in range(b * 1000, b * 1000 + 1000):
            out.write(
                '{"event_id":"evt-%010d","user_id":%d,"kind":"%s","amount":%d.%02d,'
                '"at":"2026-11-%02dT%02d:%02d:%02dZ","country":"%s",'
                '"note":"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do %d"}\n'
                % (i, i % 100000, kinds[i % 4], i % 5000, i % 100, 1 + i % 28, i % 24, i % 60,
                   (i // 60) % 60, countries[i % 5], i))
EOF
cat >"$work/post.lua" <<EOF
local reqs = {}
local hdr = { ["Content-Type"] = "application/x-ndjson" }
init = function(args)
  for i = 0, 499 do
    local f = io.open("$work/" .. i .. ".ndjson", "rb")
    reqs[i + 1] = wrk.format("POST", nil, hdr, f:read("*all"))
    f:close()
  end
end
local n = 0
request = function()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end
EOF

table='{"name":"events","kind":"append","columns":[{"name":"event_id","type":"varchar"},{"name":"user_id","type":"bigint"},{"name":"kind","type":"varchar"},{"name":"amount","type":"decimal(12,2)"},{"name":"at","type":"timestamp"},{"name":"country","type":"varchar"},{"name":"note","type":"varchar"}]}'
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -s "$1/metrics" | awk -v m="$2" '$1 == m {printf "%d\n", $2}'; }

run() {
  local bin="$1" data="$work/data" out="$work/stdout"
  rm -rf "$data"
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --log-level warn --insecure-no-auth \
    >"$out" 2>"$work/stderr" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
  local url
  url="$(grep -o 'http://[0-9.:]*' "$out" | head -n 1)"
  [ -n "$url" ] || { echo "$bin did not start: $(cat "$work/stderr")" >&2; exit 1; }
  curl -sf -XPOST "$url/v1/products" -H 'content-type: application/json' \
    -d '{"name":"bench","description":"CPU per event","owner":"bench"}' >/dev/null
  curl -sf -XPOST "$url/v1/products/bench/tables" -H 'content-type: application/json' \
    -d "$table" >/dev/null
  local t0 s0 s1 t1 start end
  read -r -a s0 < <(head -1 /proc/stat)
  t0=$(cpu_ticks "$pid")
  start=$(date +%s.%N)
  local rps
  rps=$(wrk -t2 -c"$conns" -d"${secs}s" -s "$work/post.lua" \
    "$url/v1/products/bench/tables/events/events" | awk '/Requests\/sec/ {print $2}')
  read -r -a s1 < <(head -1 /proc/stat)
  local accepted committed
  accepted=$(metric "$url" 'duckmesh_ingest_events_total{outcome="accepted"}')
  for _ in $(seq 1200); do
    committed=$(metric "$url" duckmesh_commit_events_total)
    [ "${committed:-0}" -ge "$accepted" ] && break
    sleep 0.025
  done
  end=$(date +%s.%N)
  t1=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  python3 - "$bin" "$rps" "$accepted" "$committed" "$t0" "$t1" "$start" "$end" "$secs" \
    "$(getconf CLK_TCK)" "${s0[*]}" "${s1[*]}" <<'EOF'
import sys
bin, rps, accepted, committed, t0, t1, start, end, secs, hz, s0, s1 = sys.argv[1:]
accepted, committed = int(accepted), int(committed)
cpu = (int(t1) - int(t0)) / int(hz)
a = [int(x) for x in s0.split()[1:]]
b = [int(x) for x in s1.split()[1:]]
d = [y - x for x, y in zip(a, b)]
idle = 100 * (d[3] + d[4]) / sum(d)
elapsed = float(end) - float(start)
flag = "" if committed >= accepted else f" (only {committed} of {accepted} committed)"
print(f"{bin}: {float(rps):.0f} req/s, {1000 * cpu / accepted * 1000:.3f} CPU ms per 1000 events, "
      f"end to end {accepted / elapsed:,.0f} events/s ({accepted:,} events, drain "
      f"{elapsed - float(secs):.2f} s), machine idle {idle:.1f}%{flag}")
EOF
}

echo "connections $conns, $secs s per run, $rounds rounds, cores $(nproc)"
for _ in $(seq "$rounds"); do
  for bin in "$@"; do run "$bin"; done
done
