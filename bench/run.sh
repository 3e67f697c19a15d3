#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR - the agent's overhead on an allocation-churn workload, side by side
# with heaptrack and valgrind massif where installed, as median slow-downs over paired runs.
#
# Workload: bench/churn.c, 4096 live blocks per thread, PAIRS malloc/free pairs per thread,
# stacks 4-12 frames deep, 1 and 2 threads. Each round runs the bare program and every tool
# back to back (paired), so a machine that slows down slows both. Env: RUNS (default 5),
# PAIRS (default 2000000), TOOLS (default "agent heaptrack massif").
set -euo pipefail
B=${1:-build/debug}
RUNS=${RUNS:-5}
PAIRS=${PAIRS:-2000000}
TOOLS=${TOOLS:-agent heaptrack massif}
churn="$B/bench/churn"
hold="$B/bench/hold"
agent="$B/libleakcheck-agent.so"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_ns() { date +%s%N; }

# run_tool TOOL THREADS -> prints elapsed seconds, or "-" when the tool is missing
run_tool() {
    local tool=$1 threads=$2 t0 t1
    case $tool in
    bare) t0=$(now_ns); "$churn" "$threads" "$PAIRS" >/dev/null; t1=$(now_ns) ;;
    agent) t0=$(now_ns); "$hold" "$agent" "$churn" "$threads" "$PAIRS" >/dev/null; t1=$(now_ns) ;;
    heaptrack)
        command -v heaptrack >/dev/null || { echo -; return; }
        t0=$(now_ns)
        heaptrack -o "$tmp/ht" "$churn" "$threads" "$PAIRS" >/dev/null 2>&1
        t1=$(now_ns)
        rm -f "$tmp"/ht* ;;
    massif)
        command -v valgrind >/dev/null || { echo -; return; }
        [ "$threads" = 1 ] || { echo -; return; }
        t0=$(now_ns)
        valgrind -q --tool=massif --massif-out-file="$tmp/massif.out" "$churn" "$threads" "$PAIRS" >/dev/null 2>&1
        t1=$(now_ns) ;;
    esac
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-" } else if (NR % 2) { print v[(NR + 1) / 2] } else { printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'; }

echo "leakcheck bench: churn, $PAIRS malloc/free pairs per thread, 4096 live blocks per thread,"
echo "stacks 4-12 deep; median of $RUNS paired runs; $(nproc) cores; $(uname -m)"
echo
printf '%-10s %8s %12s %12s\n' tool threads "median (s)" "slow-down"
for threads in 1 2; do
    declare -A ratios=()
    bare_times=""
    for ((i = 0; i < RUNS; i++)); do
        bare=$(run_tool bare "$threads")
        bare_times+="$bare"$'\n'
        for tool in $TOOLS; do
            t=$(run_tool "$tool" "$threads")
            [ "$t" = - ] && continue
            ratios[$tool]+=$(awk -v t="$t" -v b="$bare" 'BEGIN { printf "%.3f", t / b }')$'\n'
            ratios[$tool.t]+="$t"$'\n'
        done
    done
    printf '%-10s %8s %12s %12s\n' bare "$threads" "$(printf '%s' "$bare_times" | median)" "1.00x"
    for tool in $TOOLS; do
        [ -n "${ratios[$tool]:-}" ] || { printf '%-10s %8s %12s %12s\n' "$tool" "$threads" - "not run"; continue; }
        printf '%-10s %8s %12s %11sx\n' "$tool" "$threads" "$(printf '%s' "${ratios[$tool.t]}" | median)" \
            "$(printf '%s' "${ratios[$tool]}" | median)"
    done
    unset ratios
done

echo
echo "agent memory per live block (1,000,000 live blocks of 64 B, held 1 s):"
out=$("$hold" --snapshot-after-ms 700 "$agent" "$churn" 1 0 1000000 1500 | grep live_blocks)
echo "  $out"
echo "$out" | awk -F'[= ]' '{ for (i = 1; i < NF; i += 2) v[$i] = $(i + 1) }
    END { if (v["live_blocks"] > 0) printf "  %.1f bytes of agent memory per live block\n", v["agent_bytes"] / v["live_blocks"] }'
