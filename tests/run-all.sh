#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/run-all.sh - runs leakcheck's test binaries and prints one closing line:
#   "N passed, N failed" (test cases, counted from each cmocka summary).
#
# Environment: B (build folder, default build/debug), ONLY (unit | unit-agent | it | all),
# VALGRIND=1 (unit tests under valgrind memcheck), TEST_FILTER (substring of binary names).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build/debug}
ONLY=${ONLY:-all}
VALGRIND=${VALGRIND:-0}
log_dir="$B/test-logs"
mkdir -p "$log_dir"

# A locale with a decimal comma, built into the build folder (no system change), so the tests
# that prove numbers ignore setlocale() run instead of skipping (localedef and the locale
# sources come with Debian's libc-bin and locales). The tests point LOCPATH at it themselves
# (util/test_locale.h): set for the whole process, it makes a library's start-up code leak.
if [ ! -d "$B/locale/de_DE.UTF-8" ] && command -v localedef >/dev/null 2>&1; then
    mkdir -p "$B/locale"
    localedef -i de_DE -f UTF-8 "$B/locale/de_DE.UTF-8" >/dev/null 2>&1 || rm -rf "$B/locale/de_DE.UTF-8"
fi
if [ -d "$B/locale/de_DE.UTF-8" ]; then
    case $B in
    /*) export LEAKCHECK_TEST_LOCPATH="$B/locale" ;;
    *) export LEAKCHECK_TEST_LOCPATH="$PWD/$B/locale" ;;
    esac
fi

bins=()
if [ "$ONLY" = all ] || [ "$ONLY" = unit ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$B/unit" -type f -perm -u+x 2>/dev/null | sort)
fi
if [ "$ONLY" = unit-agent ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$B/unit/agent" -type f -perm -u+x 2>/dev/null | sort)
fi
if [ "$ONLY" = all ] || [ "$ONLY" = it ]; then
    while IFS= read -r f; do bins+=("$f"); done < <(find "$B/it" -type f -perm -u+x 2>/dev/null | sort)
fi
if [ -n "${TEST_FILTER:-}" ]; then
    kept=()
    for b in "${bins[@]}"; do
        case "$b" in *"$TEST_FILTER"*) kept+=("$b") ;; esac
    done
    bins=("${kept[@]}")
fi

passed=0
failed=0
skipped=0
failed_bins=()
for bin in "${bins[@]}"; do
    name=${bin#"$B"/}
    log="$log_dir/$(echo "$name" | tr '/' '_').log"
    start=$(date +%s)
    if [ "$VALGRIND" = 1 ]; then
        B="$B" valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            --suppressions=ci/valgrind.supp "$bin" >"$log" 2>&1
    elif [ -x "$B/leakcheck" ] && [ "$(nm "$bin" 2>/dev/null | grep -c ' T lc_begin$')" != 0 ] &&
        [ "$(nm "$bin" 2>/dev/null | grep -c '__[at]san_init')" = 0 ]; then
        # in-process leak assertions measure under the agent (sanitized builds skip them)
        B="$B" "$B/leakcheck" exec -- "$bin" >"$log" 2>&1
    else
        B="$B" "$bin" >"$log" 2>&1
    fi
    rc=$?
    secs=$(($(date +%s) - start))
    p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    s=$(sed -n 's/.*\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    p=${p:-0}
    f=${f:-0}
    s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed, or valgrind found errors
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        failed_bins+=("$name")
        printf 'FAIL  %-45s %3d passed %3d failed  (%ds)  log: %s\n' "$name" "$p" "$f" "$secs" "$log"
        grep -E '\[  (ERROR|FAILED) |ERROR SUMMARY|error:|Assertion|==[0-9]+==' "$log" | head -20 | sed 's/^/      /'
    else
        printf 'ok    %-45s %3d passed%s  (%ds)\n' "$name" "$p" "$([ "$s" -gt 0 ] && echo ", $s skipped")" "$secs"
    fi
done

if [ ${#bins[@]} -eq 0 ]; then
    echo "no test binaries found under $B (run 'make build' first)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
