#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/install-deps.sh - install the packages leakcheck needs, in sets, on Debian 12, Ubuntu 22.04
# and Ubuntu 24.04.
#
#   ci/install-deps.sh [--runtime] [--build] [--scenarios] [--test] [--bench] [--list]
#
#   --runtime    the shared libraries the installed `leakcheck` and its agent load
#   --build      a C compiler, make, pkg-config and the -dev packages to build leakcheck and its
#                agent (what the action and ci/leakcheck-ci.sh install when they build)
#   --scenarios  the libraries of the shipped demo services (`make leakcheck` runs them)
#   --test       everything leakcheck's own tests need beyond those: cmocka, valgrind, the
#                report consumers (xmllint, go tool pprof, chromium, cmark, Node.js for the JSON
#                Schema and workflow validators), clang for the fuzzers, debootstrap for
#                `make test-package`
#   --bench      what `make bench` compares the agent with and runs it on: heaptrack (and zstd,
#                which it compresses with), valgrind, the sqlite3 CLI, jq, gcc (its cc1)
#   --list       print the packages of the chosen sets, one a line, and install nothing
#
# No set named: the first four (what `make test` needs; --bench only when named). Sets combine: `--runtime --build`.
# Sizes measured on a fresh Debian 12 root (docs/CI.md: "What each set costs").
#
# Idempotent and non-interactive: installs only what is missing, runs 'apt-get update' only
# when a package is missing. As root it installs; otherwise it prints the exact command to run
# and exits 1. Set LEAKCHECK_SKIP_DEPS=1 to skip the check entirely. LEAKCHECK_OS_RELEASE names
# another os-release file (the tests use it to see the Ubuntu names on Debian).
set -euo pipefail

usage() {
    echo "usage: ci/install-deps.sh [--runtime] [--build] [--scenarios] [--test] [--bench] [--list]" >&2
}

want_runtime=0 want_build=0 want_scenarios=0 want_test=0 want_bench=0 list=0
for a in "$@"; do
    case $a in
    --runtime) want_runtime=1 ;;
    --build) want_build=1 ;;
    --scenarios) want_scenarios=1 ;;
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    --list) list=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "install-deps: unknown argument '$a'" >&2
        usage
        exit 2
        ;;
    esac
done
if [ $((want_runtime + want_build + want_scenarios + want_test + want_bench)) -eq 0 ]; then
    want_runtime=1 want_build=1 want_scenarios=1 want_test=1
fi

# Which archive's names: Debian 12 (and derivatives that say so), Ubuntu 22.04, Ubuntu 24.04.
os_release=${LEAKCHECK_OS_RELEASE:-/etc/os-release}
os_id=debian os_version=12
if [ -r "$os_release" ]; then
    # shellcheck disable=SC1090
    read -r os_id os_version < <(. "$os_release" && echo "${ID:-debian} ${VERSION_ID:-}")
fi
case "$os_id:$os_version" in
debian:12) flavour=debian12 ;;
ubuntu:22.04) flavour=ubuntu2204 ;;
ubuntu:24.04) flavour=ubuntu2404 ;;
*)
    echo "install-deps: $os_id $os_version is not Debian 12, Ubuntu 22.04 or 24.04; using Debian 12's package names" >&2
    flavour=debian12
    ;;
esac

# The runtime libraries (Ubuntu 24.04 renamed some for the 64-bit time_t transition).
case $flavour in
ubuntu2404) runtime=(libunwind8 libcjson1 libdw1t64 libelf1t64 libcurl4t64 zlib1g) ;;
*) runtime=(libunwind8 libcjson1 libdw1 libelf1 libcurl4 zlib1g) ;;
esac
# No g++ (the Makefile links libstdc++ by its runtime name), no dpkg-dev or perl.
build=(gcc libc6-dev make pkg-config libunwind-dev libcjson-dev libdw-dev libelf-dev
    libcurl4-openssl-dev zlib1g-dev)
scenarios=(libmicrohttpd-dev libsqlite3-dev)
test=(g++ libcmocka-dev valgrind libxml2-utils golang-go sqlite3 clang clang-format cmark
    nodejs npm help2man debootstrap curl ca-certificates git locales python3 debuginfod jq
    nginx-light)
case $flavour in
debian12) test+=(chromium libclang-rt-14-dev) ;;
ubuntu2204) test+=(libclang-common-14-dev) ;; # chromium is a snap on Ubuntu: not installed
ubuntu2404) test+=(libclang-rt-18-dev) ;;
esac

bench=(heaptrack zstd valgrind sqlite3 jq gcc)

pkgs=()
[ $want_runtime = 1 ] && pkgs+=("${runtime[@]}")
[ $want_build = 1 ] && pkgs+=("${build[@]}")
[ $want_scenarios = 1 ] && pkgs+=("${scenarios[@]}")
[ $want_test = 1 ] && pkgs+=("${test[@]}")
[ $want_bench = 1 ] && pkgs+=("${bench[@]}")

if [ $list = 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi
if [ "${LEAKCHECK_SKIP_DEPS:-0}" = 1 ]; then
    exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps: dpkg-query not found: this script supports Debian 12 and Ubuntu 22.04/24.04;" >&2
    echo "install-deps: install the equivalents of: ${pkgs[*]}" >&2
    exit 1
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        # NodeSource's nodejs package carries npm and conflicts with Debian's npm: a working
        # npm command is enough.
        if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
            continue
        fi
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
