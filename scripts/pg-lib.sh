# Shared PostgreSQL helpers, sourced by scripts/with-postgres.sh and scripts/cluster.sh.
# pg_start DIR PORT creates a throwaway PostgreSQL 15 cluster in DIR/data (initdb, trust auth,
# superuser `cuttle`, loopback only, replication allowed from 127.0.0.1 with wal_level=replica),
# starts it logging to DIR/server.log and creates the database `cuttle_test`. When run as root the
# server runs as the unprivileged `postgres` user (pg_runas / as_pg). Failures print the log and
# return 1; callers treat that as fatal, never as a skip.

pg_bin=${CUTTLE_PG_BIN:-/usr/lib/postgresql/15/bin}
pg_runas=""
if [ "$(id -u)" -eq 0 ]; then pg_runas=postgres; fi

as_pg() { if [ -n "$pg_runas" ]; then runuser -u "$pg_runas" -- "$@"; else "$@"; fi; }

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pg_check_bin() {
  if [ ! -x "$pg_bin/initdb" ]; then
    echo "$pg_bin/initdb not found; install postgresql-15 (scripts/install-deps.sh)" >&2
    return 1
  fi
}

# pg_start DIR PORT
pg_start() {
  local dir=$1 port=$2
  pg_check_bin || return 1
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [ -n "$pg_runas" ]; then chown "$pg_runas" "$dir"; fi
  as_pg "$pg_bin/initdb" -D "$dir/data" -U cuttle --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; echo "initdb failed" >&2; return 1; }
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
    { cat "$dir/server.log" >&2; echo "PostgreSQL did not start" >&2; return 1; }
  "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U cuttle cuttle_test
}

# pg_stop DIR [MODE]  (fast by default)
pg_stop() {
  as_pg "$pg_bin/pg_ctl" -D "$1/data" -m "${2:-fast}" stop >/dev/null 2>&1 || true
}
