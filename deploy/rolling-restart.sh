#!/usr/bin/env bash
# Rolling restart (or upgrade) of a running Cuttle cluster, one node at a time, without downtime:
#   drain -> wait until the node runs no task -> let the load balancer take it out -> stop ->
#   (upgrade) -> start -> wait for its ping -> undrain -> let the load balancer put it back.
#
# Usage: deploy/rolling-restart.sh [options] NAME=URL...
#   NAME=URL          a node's name (node.name) and its own address (not the balancer's),
#                     e.g. node1=http://10.0.0.11:8080
#   --api URL         where to send drain/undrain (the balancer, or any node)   [$CUTTLE_API_URL]
#                     the API key comes from $CUTTLE_API_KEY
#   --stop CMD        stops a node; %n is replaced by its name  [$CUTTLE_STOP_CMD]
#                     default: ssh %n sudo systemctl stop cuttle
#   --start CMD       starts a node (install the new version here for an upgrade)
#                     default: ssh %n sudo systemctl start cuttle   [$CUTTLE_START_CMD]
#   --drain-timeout S give up if the node still runs tasks after S seconds (default 3600)
#   --lb-settle S     seconds the balancer needs to notice a health change: fall x inter and
#                     rise x inter plus a margin (default 5; deploy/haproxy.cfg needs 2-3)
#
# Before an upgrade: back up the database and run `cuttle-server migrate` with the new version
# once (migrations are expand-only, so the old version keeps working on the new schema).
# Exits non-zero, leaving the current node drained, if any step fails.
set -euo pipefail

api=${CUTTLE_API_URL:-}
key=${CUTTLE_API_KEY:-}
stop_cmd=${CUTTLE_STOP_CMD:-'ssh %n sudo systemctl stop cuttle'}
start_cmd=${CUTTLE_START_CMD:-'ssh %n sudo systemctl start cuttle'}
drain_timeout=3600
settle=5
nodes=()
while [ $# -gt 0 ]; do
  case $1 in
    --api) api=$2; shift 2 ;;
    --stop) stop_cmd=$2; shift 2 ;;
    --start) start_cmd=$2; shift 2 ;;
    --drain-timeout) drain_timeout=$2; shift 2 ;;
    --lb-settle) settle=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *=*) nodes+=("$1"); shift ;;
    *) echo "rolling-restart: unexpected argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#nodes[@]} -gt 0 ] || { echo "rolling-restart: name the nodes as NAME=URL" >&2; exit 2; }
[ -n "$api" ] || { echo "rolling-restart: --api URL (or CUTTLE_API_URL) is required" >&2; exit 2; }
[ -n "$key" ] || { echo "rolling-restart: set CUTTLE_API_KEY" >&2; exit 2; }

log() { echo "rolling-restart: $(date +%H:%M:%S) $*"; }
ping_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1/api/octopusservernodes/ping" || true; }
set_drain() {  # NAME true|false
  curl -fsS -m 10 -X PUT -H "X-Octopus-ApiKey: $key" -H 'Content-Type: application/json' \
    -d "{\"IsInMaintenanceMode\": $2}" "$api/api/octopusservernodes/OctopusServerNodes-$1" >/dev/null
}
running_tasks() {
  curl -fsS -m 10 -H "X-Octopus-ApiKey: $key" "$api/api/octopusservernodes/OctopusServerNodes-$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["RunningTaskCount"])'
}
status_is() {  # URL CODE...: the node's ping answers one of CODEs
  local s; s=$(ping_status "$1"); shift
  for c in "$@"; do [ "$s" = "$c" ] && return 0; done
  return 1
}
idle() { [ "$(running_tasks "$1")" = 0 ]; }
wait_for() {  # SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || { log "gave up waiting for $what"; return 1; }
    sleep 0.2
  done
}
cmd_for() { printf '%s' "${1//%n/$2}"; }

for spec in "${nodes[@]}"; do
  name=${spec%%=*}
  url=${spec#*=}
  log "$name: draining"
  set_drain "$name" true
  wait_for 30 "$name to answer 418" status_is "$url" 418
  wait_for "$drain_timeout" "$name to finish its tasks" idle "$name"
  log "$name: no running tasks; waiting ${settle}s for the load balancer to take it out"
  sleep "$settle"
  log "$name: stopping"
  bash -c "$(cmd_for "$stop_cmd" "$name")"
  log "$name: starting"
  bash -c "$(cmd_for "$start_cmd" "$name")"
  wait_for 120 "$name to come up" status_is "$url" 418 200
  log "$name: up; undraining"
  set_drain "$name" false
  wait_for 30 "$name to answer 200" status_is "$url" 200
  log "$name: serving; waiting ${settle}s for the load balancer to put it back"
  sleep "$settle"
done
log "done: ${#nodes[@]} node(s) restarted"
