#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/man-pages.sh - man pages from leakcheck's own help texts, so they never drift from them:
# leakcheck.1 from `leakcheck --help`, leakcheck-COMMAND.1 from `leakcheck COMMAND --help`,
# written with help2man (Debian's help2man package, in the test set of ci/install-deps.sh).
#
#   ci/man-pages.sh LEAKCHECK VERSION OUT_DIR
#
# Exits 1 when a help text cannot be read or help2man fails, naming the command.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: ci/man-pages.sh LEAKCHECK VERSION OUT_DIR" >&2
    exit 2
fi
bin=$(readlink -f "$1")
version=$2
out=$3
if ! command -v help2man >/dev/null 2>&1; then
    echo "man-pages: help2man not found; install it with 'ci/install-deps.sh --test' (Debian package help2man)" >&2
    exit 1
fi
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# page NAME SUMMARY [COMMAND]: one page, through a wrapper named as the page
page() {
    local name=$1 summary=$2 cmd=${3:-}
    printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$bin" "$cmd" >"$tmp/$name"
    chmod +x "$tmp/$name"
    if ! help2man --no-info --no-discard-stderr --version-string="$version" \
        --name="$summary" --output="$out/$name.1" "$tmp/$name"; then
        echo "man-pages: help2man failed for '$name'" >&2
        exit 1
    fi
}

page leakcheck "find memory a C or C++ program keeps more of every round of the same work"
# The commands and their one-line summaries, as `leakcheck --help` lists them.
"$bin" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z]*\)  *\(.*\)$/\1\t\2/p' |
    while IFS=$'\t' read -r cmd summary; do
        page "leakcheck-$cmd" "$summary" "$cmd"
    done
ls "$out"/*.1 >/dev/null
