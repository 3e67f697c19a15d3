#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/install-deps.sh - install the Debian packages leakcheck needs to build and test.
#
# Idempotent and non-interactive: installs only what is missing, runs 'apt-get update'
# only when a package is missing. As root it installs; otherwise it prints the exact
# command to run and exits 1. Set LEAKCHECK_SKIP_DEPS=1 to skip the check entirely.
set -euo pipefail

# Build and run-time libraries, then the tools the tests use as real consumers.
pkgs=(
    build-essential pkg-config
    libunwind-dev libcmocka-dev libcjson-dev libdw-dev libelf-dev
    libcurl4-openssl-dev libmicrohttpd-dev libsqlite3-dev sqlite3 zlib1g-dev
    valgrind libxml2-utils golang-go chromium
    clang libclang-rt-14-dev clang-format
    curl ca-certificates git locales python3
    debuginfod jq
)

if [ "${LEAKCHECK_SKIP_DEPS:-0}" = 1 ]; then
    exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found: this script supports Debian 12 and its derivatives;" >&2
    echo "install-deps: install the equivalents of: ${pkgs[*]}" >&2
    exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

# libunwind-dev (the nongnu libunwind, which has unw_backtrace) conflicts with LLVM's
# libunwind-14-dev: apt refuses to install it while the other is present.
remove=()
if printf '%s\n' "${missing[@]}" | grep -qx libunwind-dev &&
    dpkg-query -W -f='${Status}' libunwind-14-dev 2>/dev/null | grep -q 'install ok installed'; then
    remove=(libunwind-14-dev-)
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]} ${remove[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" "${remove[@]}" >/dev/null
echo "install-deps: done"
