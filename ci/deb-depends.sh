#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/deb-depends.sh - the Debian package's Depends line for the given ELF files: the package
# that holds each shared library they name (readelf's NEEDED, found by ldd, owned per dpkg -S),
# sorted, comma-separated. Libraries those load come with their own packages' dependencies.
#
#   ci/deb-depends.sh FILE...
#
# Exits 1 naming the library when one is not found, or belongs to no package (a library built
# by hand would make a package that installs but does not run). `make test-package` proves the
# result complete by installing the package into a fresh Debian root.
set -euo pipefail

[ $# -gt 0 ] || {
    echo "usage: ci/deb-depends.sh FILE..." >&2
    exit 2
}
pkgs=()
for f in "$@"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    while read -r name _ path _; do
        case $name in
        linux-vdso.so.* | /*) continue ;;
        esac
        grep -qxF "$name" <<<"$needed" || continue
        if [ "$path" = "not" ] || [ -z "$path" ]; then
            echo "deb-depends: $f: $name not found (ldd)" >&2
            exit 1
        fi
        # dpkg knows the path it unpacked: /lib/... or /usr/lib/... on a merged /usr.
        owner=
        for cand in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr$path"; do
            owner=$(dpkg-query -S "$cand" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$owner" ] && break
        done
        if [ -z "$owner" ]; then
            echo "deb-depends: $f: $path ($name) belongs to no installed package" >&2
            exit 1
        fi
        pkgs+=("$owner")
    done < <(ldd "$f")
done
printf '%s\n' "${pkgs[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
