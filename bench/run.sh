#!/usr/bin/env bash
# Runs every benchmark; each prints Cuttle's figure beside its reference. Usage: bench/run.sh BUILD
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
echo "== node (issue 2)"
python3 "$here/node_bench.py" "$build"
