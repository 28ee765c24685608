#!/usr/bin/env bash
# Runs every benchmark; each prints Cuttle's figure beside its reference. Usage: bench/run.sh BUILD
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
echo "== node (issue 2)"
python3 "$here/node_bench.py" "$build"
echo "== task queue (issue 3), beside graphile-worker 0.17.3"
npm ci --prefix "$here/graphile" --no-audit --no-fund --loglevel=error >/dev/null
CUTTLE_SERVER_BIN=$(cd "$build" && pwd)/src/apps/cuttle-server \
  "$root/scripts/with-postgres.sh" node "$here/tasks_bench.mjs"
echo "== package repository (issue 4), beside dd and cat"
python3 "$here/package_bench.py" "$build"
echo "== hostile neighbours (issue 9): ping with slow uploads and idle connections beside it"
python3 "$here/hostile_bench.py" "$build"
echo "== deployment model (issue 10): dashboard, project list and release beside psql"
"$root/scripts/with-postgres.sh" python3 "$here/model_bench.py" "$build"
echo "== lost replies (issue 6 hardening): a one-row transaction with and without its commit marker"
"$root/scripts/with-postgres.sh" "$build/bench/commit_marker_bench" 2000 5
echo "== deployment engine (issue 11): 10 script steps beside 10 bare bash runs"
"$root/scripts/with-postgres.sh" python3 "$here/deploy_bench.py" "$build"
echo "== cuttle-agent (issue 12): 2,000 simulated agents long-polling one node; pick-up and log throughput beside dd"
npm ci --prefix "$root/tests/system" --no-audit --no-fund --loglevel=error >/dev/null
CUTTLE_SERVER_BIN=$(cd "$build" && pwd)/src/apps/cuttle-server \
  "$root/scripts/with-postgres.sh" node "$here/agent_bench.mjs"
echo "== web portal (issue 13): first-load size and the dashboard at 1,000 projects x 10 environments in Chromium"
"$root/scripts/build-web.sh" >/dev/null
"$root/scripts/with-postgres.sh" python3 "$here/portal_bench.py" "$build"
echo "== web portal (issue 13): the task page on a 100,000-line log in headless Chromium"
CUTTLE_SERVER_BIN=$(cd "$build" && pwd)/src/apps/cuttle-server node "$here/portal_log_bench.mjs"
