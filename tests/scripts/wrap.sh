#!/bin/sh
# SPDX-License-Identifier: MIT
# wrap.sh - a wrapper as test suites have them (libtool's, pyenv's shims): sets a variable and
# execs its arguments. Used by tests/cases/exec-*.json to run a target two wrappers deep.
LEAKCHECK_TEST_WRAPPED=$((${LEAKCHECK_TEST_WRAPPED:-0} + 1))
export LEAKCHECK_TEST_WRAPPED
exec "$@"
