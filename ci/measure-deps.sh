#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/measure-deps.sh - what each package set of ci/install-deps.sh costs on a fresh Debian 12
# root (debootstrap minbase): apt's download and installed sizes, asked with --assume-no, so
# nothing is installed. The figures in docs/CI.md come from here.
#
#   ci/measure-deps.sh        (root and debootstrap needed; about a minute)
set -uo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LEAKCHECK_DEBOOTSTRAP_CACHE:-$HOME/.cache/leakcheck/debootstrap}
if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null 2>&1; then
    echo "measure-deps: needs root and debootstrap ('ci/install-deps.sh --test')" >&2
    exit 2
fi
work=$(mktemp -d "${TMPDIR:-/var/tmp}/leakcheck-measure.XXXXXX")
root=$work/root
cleanup() {
    mountpoint -q "$root/proc" 2>/dev/null && umount -l "$root/proc"
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$cache"
if ! debootstrap --variant=minbase --cache-dir="$cache" bookworm "$root" "$mirror" >"$work/log" 2>&1; then
    tail -n 20 "$work/log" >&2
    exit 1
fi
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
chroot "$root" apt-get update -qq >/dev/null 2>&1

# cost LABEL PACKAGE...: one row of the table
cost() {
    local label=$1 out need after n
    shift
    out=$(chroot "$root" apt-get install --no-install-recommends --assume-no "$@" 2>&1)
    need=$(sed -n 's/^Need to get \([^ ]* [kMG]*B\).*/\1/p' <<<"$out")
    after=$(sed -n 's/^After this operation, \([^ ]* [kMG]*B\).*/\1/p' <<<"$out")
    n=$(sed -n 's/^[0-9]* upgraded, \([0-9]*\) newly installed.*/\1/p' <<<"$out")
    printf '| %s | %s | %s | %s |\n' "$label" "${n:-?}" "${need:-?}" "${after:-?}"
}
set_of() { bash "$ci_dir/install-deps.sh" --list "$@" | tr '\n' ' '; }

echo "| on a fresh Debian 12 root | packages | download | installed |"
echo "|---|---:|---:|---:|"
# shellcheck disable=SC2046
{
    cost "--runtime" $(set_of --runtime)
    cost "--runtime --build (what the action installs)" $(set_of --runtime --build)
    cost "--runtime --build --scenarios (make leakcheck)" $(set_of --runtime --build --scenarios)
    cost "all four sets (make test)" $(set_of)
}
# What the action adds where a C compiler is already there: after the first step of the
# README's debian:12 workflow (git ca-certificates make gcc libc6-dev).
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    git ca-certificates make gcc libc6-dev >/dev/null 2>&1
# shellcheck disable=SC2046
cost "--runtime --build after the debian:12 workflow's first step" $(set_of --runtime --build)
