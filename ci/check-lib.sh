#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/check-lib.sh - sourced by the check scripts (tests/*-test.sh, ci/test-*.sh): the "ok NAME" and
# "FAIL NAME" lines, and the closing "N passed, N failed" line, that every one of them prints.
#   ok NAME                 a check passed
#   fail NAME [DETAIL...]   a check failed; each DETAIL is printed indented (the last 40 lines)
#   check NAME CMD...       ok or fail by CMD's status
#   finish                  prints the count and exits 0 when nothing failed, else 1
passed=0
failed=0
ok() {
    echo "ok    $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL  $1"
    shift
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@" | sed 's/^/      /' | tail -n 40
    fi
    failed=$((failed + 1))
}
check() {
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        fail "$name"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
