#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz/run.sh - runs libFuzzer targets one after another (never in parallel) and prints, per
# target, seconds, executions and crashes, then "N passed, N failed" (a target passes when it
# ran its time with no crash, leak or sanitizer report).
#
# Usage: fuzz/run.sh NAME...   (binaries build/fuzz/fuzz_NAME, seeds fuzz/corpus/NAME)
# Env: FUZZ_SECONDS (per target, default 60), FUZZ_OUT (default build/fuzz): new inputs go to
# FUZZ_OUT/corpus/NAME, crashing inputs to FUZZ_OUT/crashes/NAME (those of an earlier run are
# moved to FUZZ_OUT/crashes-old/NAME first), logs to FUZZ_OUT/logs.
# FUZZ_STATS=FILE appends "NAME SECONDS EXECS CRASHES" lines (for docs/RELIABILITY.md).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-build/fuzz}
passed=0
failed=0
for name in "$@"; do
    bin="build/fuzz/fuzz_$name"
    seeds="fuzz/corpus/$name"
    work="$out/corpus/$name"
    crashes="$out/crashes/$name"
    log="$out/logs/$name.log"
    mkdir -p "$work" "$crashes" "$(dirname "$log")" "$out/crashes-old/$name"
    # Inputs of an earlier run were reported then; keep them apart so this run counts its own.
    find "$crashes" -type f -exec mv -f {} "$out/crashes-old/$name/" \;
    dict=()
    [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
    start=$(date +%s)
    # New inputs go to $work (first corpus folder); the committed seeds are only read.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$work" "$seeds" \
        >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    found=$(find "$crashes" -type f | wc -l)
    [ -n "${FUZZ_STATS:-}" ] && echo "$name $took ${execs:-0} $found" >>"$FUZZ_STATS"
    if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
        printf 'ok    fuzz: %-8s %4ds %10s execs, 0 crashes\n' "$name" "$took" "${execs:-?}"
        passed=$((passed + 1))
    else
        printf 'FAIL  fuzz: %-8s %4ds %10s execs, exit %d, %d crashing inputs in %s (log: %s)\n' \
            "$name" "$took" "${execs:-?}" "$rc" "$found" "$crashes" "$log"
        grep -E 'ERROR:|SUMMARY:|runtime error|Test unit written' "$log" | head -10 | sed 's/^/      /'
        for f in $(find "$crashes" -type f | head -5); do
            echo "      $f: $(head -c 200 "$f" | od -An -c | head -3 | tr -s ' ' | tr '\n' ' ')"
        done
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
