#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the storage tests and
# prints the line that points them at it:
#
#   eval "$(bash .ci/pg-start.sh)"   # sets MIMI_TEST_POSTGRES_URL
#
# Idempotent: installs PostgreSQL from Debian's packages only if missing,
# initialises the cluster only once, starts it only if it is not running.
# Runs as root (CI, dev containers); the server itself runs as `postgres`.
# Trust authentication on 127.0.0.1 only: this cluster is for tests, never
# for data anyone wants to keep. Progress goes to stderr, so stdout carries
# nothing but the export line.
#
# Settings (environment): MIMI_PG_DIR (default /tmp/mimi-pg), MIMI_PG_PORT
# (default 5432).
set -euo pipefail

pg_dir="${MIMI_PG_DIR:-/tmp/mimi-pg}"
port="${MIMI_PG_PORT:-5432}"
data="$pg_dir/data"
url="postgres://postgres@127.0.0.1:$port/postgres"

# Durability is worthless for a test cluster; skipping fsync makes commits cheap.
throwaway="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"

say() { printf 'pg-start: %s\n' "$*" >&2; }

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

newest_bin_dir() {
  # Prints nothing (and succeeds) when PostgreSQL is not installed.
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

accepts_trust_login() {
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -w -Atqc 'select 1' >/dev/null 2>&1
}

bin="$(newest_bin_dir)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  say "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  # The package may start its own 'main' cluster on port 5432; ours replaces it.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _; do
      pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
    done
  fi
  bin="$(newest_bin_dir)"
fi
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { say "no PostgreSQL binaries under /usr/lib/postgresql"; exit 1; }

if accepts_trust_login; then
  say "already running on 127.0.0.1:$port"
  printf 'export MIMI_TEST_POSTGRES_URL=%s\n' "$url"
  exit 0
fi

mkdir -p "$pg_dir"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$pg_dir"; fi

if [ ! -f "$data/PG_VERSION" ]; then
  say "initialising $data"
  as_postgres "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
fi

say "starting on 127.0.0.1:$port (log: $pg_dir/log)"
as_postgres "$bin/pg_ctl" -D "$data" -l "$pg_dir/log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c max_connections=300 $throwaway" start >&2 ||
  { say "pg_ctl failed; last lines of the log:"; tail -n 20 "$pg_dir/log" >&2 || true; exit 1; }

for _ in $(seq 1 60); do
  if accepts_trust_login; then
    printf 'export MIMI_TEST_POSTGRES_URL=%s\n' "$url"
    exit 0
  fi
  sleep 1
done
say "PostgreSQL did not accept connections on 127.0.0.1:$port within 60 s"
tail -n 20 "$pg_dir/log" >&2 || true
exit 1
