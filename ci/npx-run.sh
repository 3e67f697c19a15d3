#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/npx-run.sh - runs one pinned npm validator with npx for leakcheck's tests (the JSON Schema
# check of report.json, the action and workflow linters). The one place that decides whether a
# validator could run, so every test recognises a network failure the same way:
#
#   ci/npx-run.sh PACKAGE@VERSION [ARGS...]
#
# Exit status: the validator's own; 77 when Node.js or npx is not installed; 75 when the npm
# registry cannot be reached, whatever the cause (DNS, connection refused or reset, TLS,
# timeout, an HTTP error status): first the probe `npm view PACKAGE@VERSION version` fails, or
# npx's own fetch fails with one of npm's network error codes. Either way stderr ends with one
# line "npx-run: unavailable: WHY" for the test to quote. Versions are pinned to ones that run on
# Debian 12's Node.js 18 (docs/CI.md).
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: ci/npx-run.sh PACKAGE@VERSION [ARGS...]" >&2
    exit 2
fi
pkg=$1
shift
timeout_s=${LEAKCHECK_NPX_TIMEOUT:-180}

unavailable() {
    echo "npx-run: unavailable: $*" >&2
    exit "$code"
}
if ! command -v node >/dev/null 2>&1 || ! command -v npx >/dev/null 2>&1; then
    code=77
    unavailable "npx not found (Node.js and npm are needed to run $pkg; ci/install-deps.sh --test installs them)"
fi

# npm's network failures, as it reports them (error codes and messages).
network_re='E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|HOSTUNREACH|SOCKETTIMEOUT|PROTO)|ERR_SOCKET|CERT_|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|ssl|tls|TLS|SSL|npm (ERR|error) code E[0-9]{3}|network|fetch failed|socket hang up'

code=75
probe=$(timeout "$timeout_s" npm view "$pkg" version 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -z "$probe" ]; then
    why=$(printf '%s\n' "$probe" | grep -m1 -E 'code|error|ERR' || printf '%s\n' "$probe" | head -n 1)
    [ $rc -eq 124 ] && why="timed out after $timeout_s s"
    unavailable "the npm registry is not reachable (npm view $pkg: exit $rc: ${why:-no answer})"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout "$timeout_s" npx --yes "$pkg" "$@" >"$out" 2>&1
rc=$?
cat "$out"
# Only npm's own error lines count: a validator's findings never start with "npm error".
npm_errors=$(grep -E '^npm (ERR!|error) ' "$out")
if [ $rc -ne 0 ] && grep -qE "$network_re" <<<"$npm_errors"; then
    unavailable "npx could not fetch $pkg or its dependencies (exit $rc: $(grep -m1 -E "$network_re" <<<"$npm_errors"))"
fi
if [ $rc -eq 124 ]; then
    unavailable "npx $pkg timed out after $timeout_s s"
fi
exit $rc
