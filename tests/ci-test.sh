#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/ci-test.sh - everything `make test` runs after the build, in phases, with one closing
# line "N passed, N failed" over all of them:
#   1. checks: the agent's exports (check-agent), the include arrows between layers
#      (check-layers, and its own self-test), the package sets of ci/install-deps.sh
#      (tests/install-deps-test.sh), `make bench`'s script on tiny sizes (tests/bench-smoke-test.sh,
#      never its figures), source formatting (format-check)
#   2. unit and integration tests (tests/run-all.sh)
#   3. unit tests built with AddressSanitizer and UndefinedBehaviorSanitizer
#   4. unit tests under valgrind memcheck (the agent is never run under valgrind)
#   5. fuzz smoke: each libFuzzer target a few seconds on its seed corpus (fuzz/run.sh)
#   6. the Debian package in a fresh Debian 12 root, and the README's workflow run there step by
#      step (make test-package: ci/test-package.sh, ci/test-workflows.sh; about 2 min)
# Env: B (build folder), SKIP_SAN=1 / SKIP_VALGRIND=1 / SKIP_FUZZ=1 / SKIP_PACKAGE=1 to leave a
# phase out locally.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${B:-build/debug}
total_pass=0
total_fail=0
total_skip=0
failed_phases=()

# count LOG: adds the closing line of a run-all.sh log to the totals
count() {
    local line p f s
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-1}))
    total_skip=$((total_skip + ${s:-0}))
}

check() { # check NAME CMD...: a single pass/fail check
    local name=$1
    shift
    if "$@"; then
        echo "ok    check: $name"
        total_pass=$((total_pass + 1))
    else
        echo "FAIL  check: $name"
        total_fail=$((total_fail + 1))
        failed_phases+=("$name")
    fi
}

echo "== checks"
check check-agent bash ci/check-agent.sh "$B/libleakcheck-agent.so"
check check-layers bash ci/check-layers.sh .
log=$(mktemp)
bash tests/check-layers-test.sh >"$log" 2>&1
count "$log"
grep -E '^(FAIL|ok) ' "$log" | grep -v '^ok ' || true
bash tests/install-deps-test.sh >"$log" 2>&1
count "$log"
grep -E '^(FAIL|ok) ' "$log" | grep -v '^ok ' || true
B="$B" bash tests/bench-smoke-test.sh >"$log" 2>&1
count "$log"
grep -E '^(FAIL|ok) ' "$log" | grep -v '^ok ' || true
if [ -f .clang-format ]; then
    check format-check make --no-print-directory -s format-check
fi

echo
echo "== unit and integration tests ($B)"
log=$(mktemp)
B="$B" bash tests/run-all.sh | tee "$log"
count "$log"

if [ "${SKIP_SAN:-0}" != 1 ]; then
    echo
    echo "== unit tests under ASan + UBSan (build/asan)"
    if make --no-print-directory -s B=build/asan SAN=address,undefined OPT=-O1 asan-build >/dev/null; then
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            B=build/asan ONLY=unit bash tests/run-all.sh | tee "$log"
        count "$log"
    else
        echo "FAIL  the sanitizer build failed"
        total_fail=$((total_fail + 1))
    fi
fi

if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
    echo
    echo "== unit tests under valgrind memcheck"
    B="$B" VALGRIND=1 ONLY=unit bash tests/run-all.sh | tee "$log"
    count "$log"
fi
# ---- fuzz smoke (fuzz/, docs/RELIABILITY.md): each libFuzzer target for FUZZ_SMOKE_SECONDS on
# its committed seed corpus; one pass/fail check per target, crashing inputs in build/fuzz/crashes.
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    echo
    echo "== fuzz smoke (${FUZZ_SMOKE_SECONDS:-10} s per target, build/fuzz)"
    if make --no-print-directory -s fuzz-build >/dev/null; then
        names=$(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_\(.*\)\.c|\1|')
        # shellcheck disable=SC2086
        FUZZ_SECONDS=${FUZZ_SMOKE_SECONDS:-10} bash fuzz/run.sh $names | tee "$log"
        count "$log"
    else
        echo "FAIL  the fuzz build (clang -fsanitize=fuzzer) failed"
        total_fail=$((total_fail + 1))
    fi
fi
# ---- end of fuzz smoke

if [ "${SKIP_PACKAGE:-0}" != 1 ]; then
    echo
    echo "== the package and the README's workflow in fresh Debian 12 roots (make test-package)"
    phase_start=$SECONDS
    if make --no-print-directory -s deb >"$log" 2>&1; then
        bash ci/test-package.sh "build/leakcheck_$(cat VERSION)_$(dpkg --print-architecture).deb" | tee "$log"
        count "$log"
        bash ci/test-workflows.sh | tee "$log"
        count "$log"
        echo "package phase: $((SECONDS - phase_start)) s"
    else
        cat "$log"
        echo "FAIL  make deb failed"
        total_fail=$((total_fail + 1))
    fi
fi

rm -f "$log"

echo
if [ "$total_skip" -gt 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
