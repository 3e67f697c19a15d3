#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/install-deps-test.sh - ci/install-deps.sh's package sets, listed (--list installs
# nothing) for Debian 12, Ubuntu 22.04 and 24.04 through LEAKCHECK_OS_RELEASE: the runtime set
# has no -dev package and no compiler, the build set no test tool, every set is non-empty, no
# option means all four sets (the bench set only when named), Ubuntu 24.04 gets its t64 names, a bad option is a usage error.
# Prints "N passed, N failed" and exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=ci/check-lib.sh
. ci/check-lib.sh
list() { # list OS VERSION ARGS...
    local os=$1 ver=$2
    shift 2
    printf 'ID=%s\nVERSION_ID="%s"\n' "$os" "$ver" >"$tmp/os-release"
    LEAKCHECK_OS_RELEASE=$tmp/os-release bash ci/install-deps.sh --list "$@"
}
for os in "debian 12" "ubuntu 22.04" "ubuntu 24.04"; do
    # shellcheck disable=SC2086
    set -- $os
    rt=$(list "$1" "$2" --runtime)
    bd=$(list "$1" "$2" --build)
    ts=$(list "$1" "$2" --test)
    all=$(list "$1" "$2")
    four=$(list "$1" "$2" --runtime --build --scenarios --test)
    check "$os: runtime set holds no -dev package and no compiler" \
        bash -c '[ -n "$0" ] && ! grep -qE -- "-dev$|^gcc$|^make$" <<<"$0"' "$rt"
    check "$os: build set has the compiler and no test tool" \
        bash -c 'grep -qx gcc <<<"$0" && grep -qx libdw-dev <<<"$0" && ! grep -qE "^(valgrind|chromium|golang-go|nodejs|clang)$" <<<"$0"' "$bd"
    check "$os: test set has nodejs, npm, cmark and debootstrap" \
        bash -c 'for p in nodejs npm cmark debootstrap; do grep -qx $p <<<"$0" || exit 1; done' "$ts"
    check "$os: no option lists all four sets" [ "$all" = "$four" ]
    check "$os: bench set has the tools make bench compares with, and only with --bench" \
        bash -c 'for p in heaptrack valgrind sqlite3 jq gcc; do grep -qx $p <<<"$0" || exit 1; done; ! grep -qx heaptrack <<<"$1"' \
        "$(list "$1" "$2" --bench)" "$all"
done
check "ubuntu 24.04: the t64 runtime names" \
    bash -c 'grep -qx libcurl4t64 <<<"$0" && grep -qx libdw1t64 <<<"$0"' "$(list ubuntu 24.04 --runtime)"
check "debian 12: the runtime set is the libraries the binaries load" \
    [ "$(list debian 12 --runtime | sort | tr '\n' ' ')" = "libcjson1 libcurl4 libdw1 libelf1 libunwind8 zlib1g " ]
out=$(bash ci/install-deps.sh --bogus 2>&1)
rc=$?
check "an unknown option exits 2 naming it" bash -c '[ "$0" -eq 2 ] && grep -q "unknown argument .--bogus." <<<"$1"' "$rc" "$out"
out=$(printf 'ID=fedora\nVERSION_ID=40\n' >"$tmp/f" && LEAKCHECK_OS_RELEASE=$tmp/f bash ci/install-deps.sh --list --runtime 2>&1 >/dev/null)
check "another system is named, and gets Debian 12's names" grep -q "fedora 40 is not Debian 12" <<<"$out"
finish
