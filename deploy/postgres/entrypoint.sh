#!/bin/sh
# Creates the cluster on first start, then runs PostgreSQL in the foreground.
# Arguments are passed to postgres (e.g. -c max_connections=200).
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
  fi
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) for the first start" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-instructions
  rm -f "$pwfile"
  cat >> "$PGDATA/pg_hba.conf" <<'HBA'
# any address, password required
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0      scram-sha-256
HBA
  if [ "$POSTGRES_DB" != "postgres" ]; then
    # Single-user mode: no server listens while the database is created.
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
      | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
