#!/usr/bin/env bash
# Runs every test against the PostgreSQL that scripts/with-postgres.sh started: the unit tests
# (ctest, SQLite and PostgreSQL) and the system tests (node --test, multi-process). Exits non-zero
# if any fails. Usage: scripts/run-tests.sh BUILD_DIR
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0

echo "== unit tests"
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 300 || status=1

echo "== system tests"
export CUTTLE_SERVER_BIN="$root/$build/src/apps/cuttle-server"
export CUTTLE_AGENT_BIN="$root/$build/src/agent/cuttle-agent"
# Screenshots and other files tests keep for a human (the browser tests print their folder).
export CUTTLE_TEST_ARTIFACTS_DIR="$root/$build/test-artifacts"
# The real Octopus clients the system tests drive, at the versions package-lock.json pins.
if grep -q '"dependencies"' "$root/tests/system/package.json"; then
  npm ci --prefix "$root/tests/system" --no-audit --no-fund --loglevel=error || status=1
fi
(cd "$root/tests/system" && node --test --test-concurrency=1 ./*.test.mjs) || status=1

exit $status
