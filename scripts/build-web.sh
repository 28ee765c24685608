#!/usr/bin/env bash
# Builds the web portal (web/) into web/dist, which every node serves at /app (--web-dir).
# Fast when nothing changed: `npm ci` runs only when package-lock.json is newer than the last
# install, and the build only when a source is newer than the last build.
# Usage: scripts/build-web.sh [--force]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web="$root/web"
cd "$web"

if ! command -v npm >/dev/null 2>&1; then
  echo "build-web: npm is missing (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

installed=node_modules/.package-lock.json  # npm writes it on every install
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ] || [ package.json -nt "$installed" ]; then
  echo "build-web: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$installed"
fi

stamp=dist/.built
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] && [ -f dist/index.html ] &&
   [ -z "$(find src index.html package.json package-lock.json tsconfig.json vite.config.ts scripts \
           "$installed" -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
echo "build-web: building web/dist"
npm run --silent build
touch "$stamp"
