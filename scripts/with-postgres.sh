#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# Starts a throwaway PostgreSQL 15 (initdb + pg_ctl in a temp dir, on a free loopback port, as the
# unprivileged `postgres` user when run as root), runs COMMAND with
#   CUTTLE_TEST_PG_URL   postgresql://cuttle@127.0.0.1:PORT/cuttle_test (a superuser, trust auth)
#   CUTTLE_TEST_PG_ADMIN_URL  the same server's `postgres` database (for CREATE DATABASE)
#   CUTTLE_TEST_PG_DATA, CUTTLE_TEST_PG_BIN, CUTTLE_TEST_PG_PORT, CUTTLE_TEST_PG_RUNAS
# so tests can stop, restart or replicate it, then stops the server and removes the directory.
# A server that cannot start is a failure (exit 1), never a skip.
set -euo pipefail

pg_bin=${CUTTLE_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$pg_bin/initdb" ]; then
  echo "with-postgres: $pg_bin/initdb not found; install postgresql-15 (scripts/install-deps.sh)" >&2
  exit 1
fi

runas=""
if [ "$(id -u)" -eq 0 ]; then runas=postgres; fi
as_pg() { if [ -n "$runas" ]; then runuser -u "$runas" -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/cuttle-pg-XXXXXX)
chmod 755 "$dir"
[ -n "$runas" ] && chown "$runas" "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cleanup() {
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

as_pg "$pg_bin/initdb" -D "$dir/data" -U cuttle --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; echo "with-postgres: initdb failed" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = replica
max_wal_senders = 5
shared_buffers = 128MB
log_min_messages = warning
CONF
echo "host replication all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
  { cat "$dir/server.log" >&2; echo "with-postgres: PostgreSQL did not start" >&2; exit 1; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U cuttle cuttle_test

export CUTTLE_TEST_PG_URL="postgresql://cuttle@127.0.0.1:$port/cuttle_test"
export CUTTLE_TEST_PG_ADMIN_URL="postgresql://cuttle@127.0.0.1:$port/postgres"
export CUTTLE_TEST_PG_DATA="$dir/data" CUTTLE_TEST_PG_BIN="$pg_bin" CUTTLE_TEST_PG_PORT="$port"
export CUTTLE_TEST_PG_RUNAS="$runas" CUTTLE_TEST_PG_LOG="$dir/server.log"
echo "with-postgres: PostgreSQL 15 on 127.0.0.1:$port ($dir)"
set +e
"$@"
rc=$?
set -e
exit $rc
