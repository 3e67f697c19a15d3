#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/run-scenarios.sh - run the shipped scenarios (scenarios/*.json) under leakcheck.
#
#   ci/run-scenarios.sh [BUILD_DIR]        (default build/debug; `make leakcheck` calls it)
#
# Runs every scenario file with BUILD_DIR/leakcheck, writing all reports to
# build/leakcheck-reports (or $LEAKCHECK_REPORT_DIR), prints leakcheck's table and where the
# reports are, and exits with leakcheck's own status: 0 every scenario met its expectation,
# 1 a leak or another unexpected verdict, 2 a usage or input error, 3 a run that failed.
# The scenario files name their programs under build/debug/scenarios, relative to the
# repository root, so the script runs from there whatever the current directory.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 3

build=${1:-build/debug}
leakcheck="$build/leakcheck"
reports=${LEAKCHECK_REPORT_DIR:-build/leakcheck-reports}

if [ ! -x "$leakcheck" ]; then
    echo "run-scenarios: $leakcheck not found; build it first with 'make build'" >&2
    exit 3
fi
shopt -s nullglob
scenarios=(scenarios/*.json)
if [ ${#scenarios[@]} -eq 0 ]; then
    echo "run-scenarios: no scenario files in $root/scenarios" >&2
    exit 2
fi
for s in "${scenarios[@]}"; do
    prog=$(sed -n 's/.*"\(build\/debug\/scenarios\/[A-Za-z0-9_-]*\)".*/\1/p' "$s" | head -n 1)
    if [ -n "$prog" ] && [ ! -x "$prog" ]; then
        echo "run-scenarios: $s runs $prog, which is not built; run 'make build' first" >&2
        exit 3
    fi
done

mkdir -p "$reports"
start=$(date +%s)
"$leakcheck" run --report-dir "$reports" "${scenarios[@]}"
rc=$?
end=$(date +%s)

echo
echo "run-scenarios: ${#scenarios[@]} scenarios in $((end - start)) s, leakcheck exit status $rc"
if [ -f "$reports/index.html" ]; then
    echo "run-scenarios: reports in $reports/ (open $reports/index.html)"
else
    echo "run-scenarios: reports in $reports/"
fi
exit $rc
