#!/usr/bin/env bash
# A three-node Cuttle cluster on this machine, for trying HA out (`make cluster`, `make cluster-stop`):
# a throwaway PostgreSQL 15, three nodes sharing it and one storage directory, HAProxy in front on
# 127.0.0.1:8080 (deploy/haproxy.cfg), nodes on 127.0.0.1:8081-8083. Everything lives in one
# directory ($CUTTLE_CLUSTER_DIR, default /tmp/cuttle-cluster) and goes away with `stop`.
#
# Usage: scripts/cluster.sh start [BUILD_DIR] | stop | status | stop-node NAME | start-node NAME
#        | rolling-restart        (deploy/rolling-restart.sh against this cluster)
#        | add-agent NAME --environment E --role R [--environment E2 --role R2 ...]
#        | stop-agent NAME | start-agent NAME | agents
# Agents (cuttle-agent) poll the balancer only; each has its home in $dir/agents/NAME.
# Ports: CUTTLE_CLUSTER_PORT (balancer, 8080), CUTTLE_CLUSTER_NODE_PORT (first node, 8081).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/pg-lib.sh
. "$root/scripts/pg-lib.sh"

dir=${CUTTLE_CLUSTER_DIR:-/tmp/cuttle-cluster}
lb_port=${CUTTLE_CLUSTER_PORT:-8080}
first_port=${CUTTLE_CLUSTER_NODE_PORT:-8081}
names=(node1 node2 node3)

node_port() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && echo $((first_port + i)) && return; done; return 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_node() {
  local name=$1 port; port=$(node_port "$name") || { echo "cluster: no node named $name" >&2; exit 2; }
  if alive "$dir/$name.pid"; then echo "cluster: $name is already running"; return; fi
  setsid nohup "$(cat "$dir/bin")" run --config "$dir/cuttle.toml" --node-name "$name" \
    --listen "127.0.0.1:$port" >>"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
  local i
  for i in $(seq 1 150); do
    case $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/api/octopusservernodes/ping" || true) in
      200|418) return 0 ;;
    esac
    alive "$dir/$name.pid" || { tail -20 "$dir/$name.log" >&2; echo "cluster: $name exited" >&2; exit 1; }
    sleep 0.2
  done
  echo "cluster: $name did not answer its ping within 30 s (log: $dir/$name.log)" >&2
  exit 1
}

stop_pidfile() {  # PIDFILE: SIGTERM, wait up to 30 s, then SIGKILL
  local f=$1 pid
  alive "$f" || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$f"
}

# ---- agents (cuttle-agent against the balancer; homes in $dir/agents/NAME) ----

agent_bin() {
  local b; b="$(dirname "$(cat "$dir/bin")")/../agent/cuttle-agent"
  [ -x "$b" ] || { echo "cluster: $b not found; build the cuttle-agent target" >&2; exit 1; }
  echo "$b"
}
api_key() { cat "$dir/admin-api-key"; }

# Creates environment $1 unless one of that name exists (a trial cluster starts with none).
ensure_environment() {
  local url="http://127.0.0.1:$lb_port/api/Spaces-1/environments" existing
  existing=$(curl -sf -H "X-Octopus-ApiKey: $(api_key)" "$url/all" | python3 -c '
import json, sys
print("\n".join(e["Name"].lower() for e in json.load(sys.stdin)))')
  if ! grep -qxF "$(echo "$1" | tr '[:upper:]' '[:lower:]')" <<<"$existing"; then
    curl -sf -o /dev/null -H "X-Octopus-ApiKey: $(api_key)" -H 'Content-Type: application/json' \
      -d "$(python3 -c 'import json, sys; print(json.dumps({"Name": sys.argv[1]}))' "$1")" "$url" ||
      { echo "cluster: could not create environment $1" >&2; exit 1; }
    echo "cluster: created environment $1"
  fi
}

start_agent() {
  local name=$1 home="$dir/agents/$1"
  [ -f "$home/agent.json" ] || { echo "cluster: no agent named $name (add-agent first)" >&2; exit 2; }
  if alive "$home.pid"; then echo "cluster: agent $name is already running"; return; fi
  setsid nohup "$(agent_bin)" run --home "$home" >>"$home.log" 2>&1 </dev/null &
  echo $! >"$home.pid"
  sleep 0.5
  alive "$home.pid" || { tail -5 "$home.log" >&2; echo "cluster: agent $name exited" >&2; exit 1; }
  echo "cluster: agent $name polling http://127.0.0.1:$lb_port (log: $home.log)"
}

add_agent() {
  local name=${1:?agent name}; shift
  case $name in -*|'') echo "cluster: add-agent NAME --environment E --role R" >&2; exit 2 ;; esac
  [ -e "$dir/cuttle.toml" ] || { echo "cluster: no cluster in $dir; run make cluster first" >&2; exit 1; }
  local args=() envs=0 roles=0
  while [ $# -gt 0 ]; do
    case $1 in
      --environment|--role|--space)
        [ $# -ge 2 ] || { echo "cluster: $1 needs a value" >&2; exit 2; }
        case $1 in
          --environment) ensure_environment "$2"; envs=$((envs + 1)) ;;
          --role) roles=$((roles + 1)) ;;
        esac
        args+=("$1" "$2"); shift 2 ;;
      *) echo "cluster: add-agent: unknown argument $1" >&2; exit 2 ;;
    esac
  done
  if [ $envs -eq 0 ] || [ $roles -eq 0 ]; then
    echo "cluster: add-agent needs --environment and --role" >&2; exit 2
  fi
  mkdir -p "$dir/agents"
  "$(agent_bin)" register --server "http://127.0.0.1:$lb_port" --api-key "$(api_key)" --name "$name" \
    --home "$dir/agents/$name" "${args[@]}"
  start_agent "$name"
}

list_agents() {
  local home
  for home in "$dir"/agents/*/; do
    [ -d "$home" ] || continue
    home=${home%/}
    printf '%-20s %s\n' "$(basename "$home")" "$(alive "$home.pid" && echo running || echo stopped)"
  done
}

render_haproxy() {
  local servers="" i
  for i in "${!names[@]}"; do
    servers+="    server ${names[$i]} 127.0.0.1:$((first_port + i)) check"$'\n'
  done
  # Our own global section (no user switch, chroot or system socket); loopback bind; our nodes.
  awk -v lb="$lb_port" -v servers="$servers" '
    /^global$/ { print "global\n    maxconn 5000\n    pidfile '"$dir"'/haproxy.pid\n"; skip = 1; next }
    skip && /^$/ { skip = 0; next }
    skip { next }
    /^    bind 127\.0\.0\.1:8080$/ { print "    bind 127.0.0.1:" lb; next }
    /^    server / { if (!done) { printf "%s", servers; done = 1 } next }
    { print }' "$root/deploy/haproxy.cfg"
}

start() {
  local build=${1:-build}
  local bin="$root/$build/src/apps/cuttle-server"
  [ -x "$bin" ] || { echo "cluster: $bin not found; run make build" >&2; exit 1; }
  if [ -e "$dir/cuttle.toml" ]; then
    echo "cluster: $dir already holds a cluster; run 'make cluster-stop' first" >&2
    exit 1
  fi
  for p in "$lb_port" $(seq "$first_port" $((first_port + ${#names[@]} - 1))); do
    port_free "$p" || { echo "cluster: port 127.0.0.1:$p is in use (set CUTTLE_CLUSTER_PORT / CUTTLE_CLUSTER_NODE_PORT)" >&2; exit 1; }
  done
  mkdir -p "$dir/shared"
  echo "$bin" >"$dir/bin"
  local pg_port; pg_port=$(pg_free_port)
  echo "$pg_port" >"$dir/pg.port"
  pg_start "$dir/pg" "$pg_port" || { echo "cluster: PostgreSQL did not start" >&2; exit 1; }
  "$bin" master-key generate >"$dir/master.key"
  chmod 600 "$dir/master.key"
  local key; key=API-$(python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(28)))')
  echo "$key" >"$dir/admin-api-key"
  cat >"$dir/cuttle.toml" <<TOML
# Shared by the three nodes of scripts/cluster.sh; node.name and server.listen are flags.
[database]
url = "postgresql://cuttle@127.0.0.1:$pg_port/cuttle_test"
[storage]
shared_dir = "$dir/shared"
[security]
master_key_file = "$dir/master.key"
[bootstrap]
admin_api_key = "$key"
[server]
web_dir = "$root/web/dist"
TOML
  # The first node creates the schema; the others join it.
  for n in "${names[@]}"; do start_node "$n"; done
  # node1 printed the admin's first password into its log; replace it with one that is in no log.
  local password; password=$(python3 -c 'import secrets,string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20)))')
  printf '%s\n' "$password" | "$bin" admin set-password --user admin --config "$dir/cuttle.toml" >/dev/null
  (umask 077; echo "$password" >"$dir/admin-password")
  render_haproxy >"$dir/haproxy.cfg"
  haproxy -c -q -f "$dir/haproxy.cfg"
  haproxy -q -D -f "$dir/haproxy.cfg"
  for _ in $(seq 1 50); do
    [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$lb_port/api/octopusservernodes/ping" || true)" = 200 ] && break
    sleep 0.2
  done
  cat <<MSG

Cuttle cluster is up: http://127.0.0.1:$lb_port  (HAProxy; statistics on http://127.0.0.1:8404/)
  nodes       ${names[*]} on 127.0.0.1:$first_port-$((first_port + ${#names[@]} - 1)), logs in $dir/*.log
  database    postgresql://cuttle@127.0.0.1:$pg_port/cuttle_test
  admin user  admin (sign in with POST http://127.0.0.1:$lb_port/api/users/login)
  API key: $key
  Password: $password
  try         curl -H "X-Octopus-ApiKey: $key" http://127.0.0.1:$lb_port/api/octopusservernodes
  kill a node scripts/cluster.sh stop-node node2   (start-node node2 brings it back)
  rolling     scripts/cluster.sh rolling-restart
  an agent    scripts/cluster.sh add-agent web-01 --environment Dev --role web   (stop-agent / start-agent NAME)
  stop        make cluster-stop
MSG
}

stop() {
  [ -d "$dir" ] || { echo "cluster: nothing to stop in $dir"; return 0; }
  local f
  for f in "$dir"/agents/*.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
  stop_pidfile "$dir/haproxy.pid"
  for n in "${names[@]}"; do stop_pidfile "$dir/$n.pid"; done
  [ -d "$dir/pg/data" ] && pg_stop "$dir/pg" fast
  rm -rf "$dir"
  echo "cluster: stopped and removed $dir"
}

status() {
  [ -e "$dir/cuttle.toml" ] || { echo "cluster: not running ($dir)"; return 1; }
  "$(cat "$dir/bin")" node list --config "$dir/cuttle.toml"
}

case ${1:-} in
  start) start "${2:-build}" ;;
  stop) stop ;;
  status) status ;;
  stop-node) stop_pidfile "$dir/${2:?node name}.pid" ;;
  start-node) start_node "${2:?node name}" ;;
  add-agent) shift; add_agent "$@" ;;
  stop-agent) stop_pidfile "$dir/agents/${2:?agent name}.pid" ;;
  start-agent) start_agent "${2:?agent name}" ;;
  agents) list_agents ;;
  rolling-restart)
    specs=()
    for n in "${names[@]}"; do specs+=("$n=http://127.0.0.1:$(node_port "$n")"); done
    CUTTLE_API_KEY=$(cat "$dir/admin-api-key") "$root/deploy/rolling-restart.sh" \
      --api "http://127.0.0.1:$lb_port" --lb-settle 3 \
      --stop "$root/scripts/cluster.sh stop-node %n" --start "$root/scripts/cluster.sh start-node %n" "${specs[@]}" ;;
  *) sed -n '2,12p' "$0"; exit 2 ;;
esac
