#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/check-layers-test.sh - ci/check-layers.sh against throwaway trees: a clean tree passes
# with its summary line; a disallowed arrow, a circle, a dangling include and a missing folder
# each fail and are named. Prints "N passed, N failed" and exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
script=$PWD/ci/check-layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=ci/check-lib.sh
. ci/check-lib.sh

# put TREE PATH LINE...: writes PATH under TREE, one argument a line
put() {
    local tree=$1 path=$2
    shift 2
    mkdir -p "$(dirname "$tree/$path")"
    printf '%s\n' "$@" >"$tree/$path"
}

# clean_tree DIR: every folder of the layout, each arrow used the allowed way, a test file that
# includes another module of its folder, includes that go through `./` and `..`
clean_tree() {
    local t=$1
    put "$t" common/proto.h '#pragma once'
    put "$t" common/proto.c '#include "proto.h"'
    put "$t" util/buf.h '#pragma once' '#include <stddef.h>'
    put "$t" util/buf.c '#include "buf.h"' '#include "./buf.h"'
    put "$t" model/rpt.h '#pragma once' '#include "../util/buf.h"'
    put "$t" analysis/growth.h '#pragma once' '#include "../model/rpt.h"'
    put "$t" analysis/growth.c '#include "growth.h"' '#include "../common/proto.h"' \
        '  #  include "../util/buf.h"'
    put "$t" analysis/snap.h '#pragma once' '#include "growth.h"'
    put "$t" analysis/growth_test.c '#include "growth.h"' '#include "snap.h"'
    put "$t" reports/rpt_json.c '#include "../model/rpt.h"' '#include "../util/buf.h"'
    put "$t" harness/cli.h '#pragma once'
    put "$t" harness/cli.c '#include "cli.h"' '#include "../analysis/growth.h"' \
        '#include "../reports/../model/rpt.h"' '#include "../common/proto.h"'
    put "$t" harness/drv.h '#pragma once' '#include "cli.h"'
    put "$t" include/leakcheck.h '#pragma once'
    put "$t" lib/lc_inproc.c '#include "../include/leakcheck.h"' '#include "../analysis/snap.h"'
    put "$t" agent/ag_hook.c '#include "../common/proto.h"' '#include <stdio.h>'
    # outside the check: may include anything
    put "$t" tests/it_x.c '#include "../harness/cli.h"' '#include "nothere.h"'
}

# run_check ARGS...: runs the script, leaves its exit status in rc and its output in out
run_check() {
    out=$(bash "$script" "$@" 2>&1)
    rc=$?
}

# expect_line NAME LINE: the last output holds LINE exactly
expect_line() {
    if grep -qxF -- "$2" <<<"$out"; then
        ok "$1"
    else
        fail "$1" "want the line: $2" "got:" "$out"
    fi
}

# clean tree: passes with the summary line, from an argument and with the default root `.`
t=$tmp/clean
clean_tree "$t"
run_check "$t"
if [ $rc -eq 0 ] && [ "$out" = "layers: 16 files, 21 includes, no disallowed arrow, no circle" ]; then
    ok "clean tree passes with its summary line"
else
    fail "clean tree passes with its summary line" "exit $rc" "$out"
fi
out=$(cd "$t" && bash "$script" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [[ $out == "layers: 16 files,"* ]]; then
    ok "the root defaults to ."
else
    fail "the root defaults to ." "exit $rc" "$out"
fi

# a test file may include a module of its folder that includes the test's module back
t=$tmp/test-include
clean_tree "$t"
put "$t" harness/drv.c '#include "drv.h"'
put "$t" harness/cli_test.c '#include "cli.h"' '#include "drv.h"'
put "$t" harness/drv_test.c '#include "drv.h"' '#include "cli.h"'
run_check "$t"
if [ $rc -eq 0 ]; then
    ok "includes from *_test.c make no circle"
else
    fail "includes from *_test.c make no circle" "exit $rc" "$out"
fi

# a disallowed arrow: fails naming the file, the line and the include
t=$tmp/bad-arrow
clean_tree "$t"
put "$t" analysis/growth.c '#include "growth.h"' '' '#include "../harness/cli.h"'
put "$t" agent/ag_chan.c '#include "../util/buf.h"'
put "$t" common/proto_test.c '#include "proto.h"' '#include "../model/rpt.h"'
run_check "$t"
if [ $rc -eq 1 ]; then
    ok "a disallowed arrow fails"
else
    fail "a disallowed arrow fails" "exit $rc" "$out"
fi
expect_line "the arrow is named with the allowed folders" \
    'analysis/growth.c:3: includes "../harness/cli.h" (analysis -> harness is not allowed; allowed: model, util, common)'
expect_line "an arrow from agent/ is named" \
    'agent/ag_chan.c:1: includes "../util/buf.h" (agent -> util is not allowed; allowed: common)'
expect_line "test files obey the arrows too" \
    'common/proto_test.c:2: includes "../model/rpt.h" (common -> model is not allowed; allowed: none)'
expect_line "the summary counts the arrows" \
    'layers: 18 files, 23 includes: 3 disallowed arrows, 0 circles, 0 dangling includes, 0 missing folders'

# a circle: drv.c includes drv_cmd.h, drv_cmd.c includes drv.h
t=$tmp/circle
clean_tree "$t"
put "$t" harness/drv.c '#include "drv.h"' '#include "drv_cmd.h"'
put "$t" harness/drv_cmd.h '#pragma once'
put "$t" harness/drv_cmd.c '#include "drv_cmd.h"' '#include "drv.h"'
# a longer one: a -> b -> c -> a, through headers
put "$t" reports/rpt_a.h '#include "rpt_b.h"'
put "$t" reports/rpt_b.h '#pragma once'
put "$t" reports/rpt_b.c '#include "rpt_c.h"'
put "$t" reports/rpt_c.h '#pragma once'
put "$t" reports/rpt_c.c '#include "rpt_c.h"' '#include "rpt_a.h"'
run_check "$t"
if [ $rc -eq 1 ]; then
    ok "a circle fails"
else
    fail "a circle fails" "exit $rc" "$out"
fi
expect_line "the circle is named" 'harness/: circle drv -> drv_cmd -> drv'
expect_line "its first include is named" '    harness/drv.c:2: #include "drv_cmd.h"'
expect_line "its second include is named" '    harness/drv_cmd.c:2: #include "drv.h"'
expect_line "a three-module circle is named once" 'reports/: circle rpt_a -> rpt_b -> rpt_c -> rpt_a'
n=$(grep -c "^[a-z]*/: circle " <<<"$out")
if [ "$n" -eq 2 ]; then
    ok "each circle is printed once"
else
    fail "each circle is printed once" "$n circle lines" "$out"
fi

# a dangling include, and one that leaves the tree
t=$tmp/dangling
clean_tree "$t"
put "$t" util/buf.c '#include "buf.h"' '#include "nothere.h"'
put "$t" model/rpt.c '#include "../../outside.h"'
run_check "$t"
if [ $rc -eq 1 ]; then
    ok "a dangling include fails"
else
    fail "a dangling include fails" "exit $rc" "$out"
fi
expect_line "the dangling include is named" \
    'util/buf.c:2: includes "nothere.h", which resolves to util/nothere.h: no such file'
expect_line "an include out of the tree is named" \
    'model/rpt.c:1: includes "../../outside.h", which leaves the tree'

# a missing folder of the layout
t=$tmp/missing
clean_tree "$t"
rm -r "$t/model"
put "$t" analysis/growth.h '#pragma once'
put "$t" reports/rpt_json.c '#include "../util/buf.h"'
put "$t" util/buf.c '#include "buf.h"'
run_check "$t"
if [ $rc -eq 1 ] && grep -q '^model/: folder is missing' <<<"$out"; then
    ok "a missing folder fails"
else
    fail "a missing folder fails" "exit $rc" "$out"
fi

# usage errors
run_check "$tmp/no-such-dir"
if [ $rc -eq 2 ]; then
    ok "a root that is not a folder is a usage error"
else
    fail "a root that is not a folder is a usage error" "exit $rc" "$out"
fi

finish
