#!/usr/bin/env bash
# Installs every Debian package Cuttle's build, tests and benchmarks need. Idempotent: a machine
# that already has them all makes no apt call at all. Run as root on Debian 12.
# `--fuzz` adds the fuzzing toolchain `make fuzz` needs (clang 16 with libFuzzer and the sanitizer
# runtimes; Debian 12's default clang 14 cannot compile C++23's std::expected).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang-format git
  # libraries (DESIGN.md §2.2)
  libboost-dev libboost-system-dev libpq-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libssl-dev libsodium-dev
  libarchive-dev libyaml-dev libexpat1-dev libcurl4-openssl-dev libgtest-dev libgmock-dev zlib1g-dev
  # servers and tools the tests and benchmarks start
  postgresql-15 postgresql-client-15 haproxy nginx-light wrk curl procps util-linux python3 python3-cryptography nodejs
  # the browser the portal's tests drive through playwright-core (no browser download)
  chromium
  # the NuGet v2 client the package-feed tests drive (nuget.exe 2.8.7 on Mono; `script` gives it
  # a terminal for `nuget list`)
  nuget mono-runtime bsdutils
)
# npm builds the portal (web/). Debian's nodejs 18 ships it as a separate package; NodeSource's
# nodejs 20 bundles it (and conflicts with Debian's npm), so it is asked for only when missing.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-16 libclang-rt-16-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    exec sudo "$0" "$@"
  fi
  echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the services it installs; tests start their own on loopback ports.
for svc in postgresql haproxy nginx; do
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
done
