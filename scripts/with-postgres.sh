#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
# Starts a throwaway PostgreSQL 15 (initdb + pg_ctl in a temp dir, on a free loopback port, as the
# unprivileged `postgres` user when run as root), runs COMMAND with
#   CUTTLE_TEST_PG_URL   postgresql://cuttle@127.0.0.1:PORT/cuttle_test (a superuser, trust auth)
#   CUTTLE_TEST_PG_ADMIN_URL  the same server's `postgres` database (for CREATE DATABASE)
#   CUTTLE_TEST_PG_DATA, CUTTLE_TEST_PG_BIN, CUTTLE_TEST_PG_PORT, CUTTLE_TEST_PG_RUNAS
# so tests can stop, restart or replicate it, then stops the server and removes the directory.
# A server that cannot start is a failure (exit 1), never a skip. The set-up itself is
# scripts/pg-lib.sh, shared with scripts/cluster.sh.
set -euo pipefail

# shellcheck source=scripts/pg-lib.sh
. "$(dirname "$0")/pg-lib.sh"
pg_check_bin || exit 1
runas=$pg_runas

dir=$(mktemp -d /tmp/cuttle-pg-XXXXXX)
port=$(pg_free_port)

cleanup() {
  pg_stop "$dir" immediate
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

pg_start "$dir" "$port" || { echo "with-postgres: PostgreSQL did not start" >&2; exit 1; }

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
