#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/bench-smoke-test.sh - `make bench`'s script works: bench/run.sh with tiny sizes (one run,
# a few thousand pairs, a few hundred rows; the agent and, when installed, massif) prints a
# figure in every cell of its table, a timed snapshot in every snapshot row, the goals, and the
# same as Markdown with BENCH_MD; a tool that is not there is a "-" with its reason; bad sizes
# are usage errors. Checks that the script works, never the figures (speed is `make bench`'s).
# Takes a few seconds. Prints "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
B=${B:-build/debug}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=ci/check-lib.sh
. ci/check-lib.sh

tools=agent
small=(RUNS=1 PAIRS=20000 THREADS="1 2" SQL_ROWS=200 JQ_OBJECTS=200 CC1_FUNCS=3 SNAP_BLOCKS=2000
    SNAP_THREADS=4 SNAP_COUNT=2 CAP=60)
out=$(env "${small[@]}" TOOLS="$tools" BENCH_MD="$tmp/bench.md" bash bench/run.sh "$B" 2>"$tmp/err")
rc=$?
if [ $rc -eq 0 ]; then ok "bench/run.sh with tiny sizes exits 0"; else fail "bench/run.sh with tiny sizes exits 0 (got $rc)" "$out" "$(cat "$tmp/err")"; fi

# every workload row has the bare figures and a ratio for every tool
n_tools=$(echo "$tools" | wc -w)
for row in '^churn \(4-12 deep\) +1 ' '^churn \(4-12 deep\) +2 ' '^churn_flat \(4 frames\) +1 ' \
    '^sqlite3 CLI, 200 inserts ' '^jq, 200 objects ' '^cc1 -O2, '; do
    line=$(grep -E "$row" <<<"$out" | head -1)
    ratios=$(grep -oE '[0-9.]+x / [0-9.]+x' <<<"$line" | wc -l)
    if [ -n "$line" ] && [ "$ratios" -eq "$n_tools" ] && grep -qE '[0-9.]+s +[0-9.]+s' <<<"$line"; then
        ok "a figure in every cell: $row"
    else
        fail "a figure in every cell: $row" "$out"
    fi
done
check "every snapshot row is timed" \
    bash -c 'grep -qE "^2000 blocks held +[0-9]+ +[0-9.]+ " <<<"$0" && grep -qE "^4 threads churning +[0-9]+ +[0-9.]+ " <<<"$0"' "$out"
check "the goals are listed, each with a verdict" \
    bash -c '[ "$(grep -cE "(met|not measured)$" <<<"$0")" -ge 6 ]' "$out"
check "the header names the machine, the load and the command" \
    bash -c 'grep -q "machine: " <<<"$0" && grep -q "load average" <<<"$0" && grep -q "command (what make bench runs): RUNS=1 " <<<"$0"' "$out"
check "BENCH_MD gets the same tables as Markdown" \
    bash -c 'grep -qE "^\| churn \(4-12 deep\) \| 1 \| [0-9.]+ s \|" "$0" && grep -q "^| 2000 blocks held | " "$0" && grep -q "^| goal | measured" "$0"' "$tmp/bench.md"

# a tool that is not installed: "-" and why (a PATH without heaptrack); massif, when valgrind
# is installed, gets its figure
mkdir -p "$tmp/bin"
for f in /usr/bin/* /bin/*; do
    case ${f##*/} in heaptrack*) continue ;; esac
    [ -e "$tmp/bin/${f##*/}" ] || ln -s "$f" "$tmp/bin/${f##*/}"
done
out=$(env PATH="$tmp/bin" RUNS=1 PAIRS=2000 THREADS=1 WORKLOADS=churn SNAP_BLOCKS= SNAP_THREADS=0 \
    TOOLS="agent heaptrack massif" bash bench/run.sh "$B" 2>&1)
check "a missing tool shows '-' and the reason" \
    bash -c 'grep -qE "^churn \(4-12 deep\) +1 .*x +- " <<<"$0" && grep -q "heaptrack: heaptrack not installed" <<<"$0"' "$out"
if command -v valgrind >/dev/null; then
    check "massif gets its figure" bash -c 'grep -qE "^churn \(4-12 deep\) +1 .* - +[0-9.]+x / [0-9.]+x *$" <<<"$0"' "$out"
fi

out=$(RUNS=x bash bench/run.sh "$B" 2>&1)
rc=$?
check "a bad size is a usage error naming it" bash -c '[ "$0" -eq 2 ] && grep -q "RUNS: expected a whole number, found .x." <<<"$1"' "$rc" "$out"
out=$(WORKLOADS=nope bash bench/run.sh "$B" 2>&1)
rc=$?
check "an unknown workload is a usage error naming it" bash -c '[ "$0" -eq 2 ] && grep -q "unknown workload .nope." <<<"$1"' "$rc" "$out"
finish
