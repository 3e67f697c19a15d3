#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/test-workflows.sh - the README's GitHub workflow for a debian:12 container
# (examples/workflows/leakcheck-debian.yml), step by step, in a fresh Debian 12 root made with
# debootstrap, as a runner would run it: each `run:` step in the workspace, `actions/checkout`
# as a copy of a user's project (tests/workflow-project: a Makefile, a C program, a leaky and
# a fixed scenario), and `OWNER/leakcheck/ci@v1` as the action's own steps (leakcheck-ci.sh
# deps and build, action-run.sh) from a copy of this checkout, with the step's `with:` inputs.
# Also checks that the workflows the README shows are the example files. Prints
# "N passed, N failed".
#
#   ci/test-workflows.sh            (`make test-package` runs it after the package test)
#
# Needs root and debootstrap; DEBIAN_MIRROR and the debootstrap cache as ci/test-package.sh.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LEAKCHECK_DEBOOTSTRAP_CACHE:-$HOME/.cache/leakcheck/debootstrap}
workflow=examples/workflows/leakcheck-debian.yml
say() { printf 'test-workflows: %s\n' "$*"; }
# shellcheck source=ci/check-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/check-lib.sh"

# 1. the README shows the example workflows as they are (their lines from `name:` on)
blocks=$(mktemp -d)
awk -v dir="$blocks" '/^```yaml$/ {on=1; n++; next} /^```$/ {on=0; next} on {print > (dir "/" n)}' "$src/README.md"
for f in examples/workflows/leakcheck.yml examples/workflows/leakcheck-debian.yml; do
    found=0
    for b in "$blocks"/*; do
        if [ -f "$b" ] && cmp -s <(sed -n '/^name:/,$p' "$src/$f" | grep -v '^$') \
            <(sed -n '/^name:/,$p' "$b" | grep -v '^$'); then
            found=1
        fi
    done
    if [ $found = 1 ]; then
        ok "README shows $f as it is"
    else
        fail "README shows $f as it is (no yaml block of README.md is that file from 'name:' on)"
    fi
done
rm -rf "$blocks"

if [ "$(id -u)" -ne 0 ] || ! command -v debootstrap >/dev/null 2>&1; then
    fail "running the workflow needs root and debootstrap ('ci/install-deps.sh --test')"
    finish
fi
# shellcheck source=ci/root-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/root-lib.sh"
root_workdir workflow

mkdir -p "$cache"
start=$(date +%s)
if ! debootstrap --variant=minbase --cache-dir="$cache" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    fail "debootstrap bookworm from $mirror" "$(tail -n 20 "$work/debootstrap.log")"
    finish
fi
ok "debootstrap: a fresh Debian 12 root in $(($(date +%s) - start)) s"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
mkdir -p "$root/github/workspace" "$root/github/action" "$root/github/files"
# the action's checkout: the tracked files of this one
(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -C "$root/github/action" -xf -

# run_step NAME SCRIPT: one `run:` step in the workspace, as root in the container
run_step() {
    local name=$1 script=$2 out rc t0
    t0=$(date +%s)
    out=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
        GITHUB_ACTIONS=true GITHUB_WORKSPACE=/github/workspace bash -eo pipefail -c \
        "cd /github/workspace && $script" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        ok "step '$name' ($(($(date +%s) - t0)) s)"
    else
        fail "step '$name' (exit $rc)" "$out"
        finish
    fi
}

# The steps of the workflow, in order: "- name:", "run:", "uses:" and "with:" keys.
name= run= uses= scenarios= args=
flush() {
    if [ -n "$run" ]; then
        run_step "${name:-$run}" "$run"
    elif [[ $uses == actions/checkout@* ]]; then
        cp -a "$src/tests/workflow-project/." "$root/github/workspace/"
        ok "step 'actions/checkout' (tests/workflow-project)"
    elif [[ $uses == */leakcheck/ci@* ]]; then
        run_step "${name:-leakcheck}: the action's steps" "export GITHUB_ACTION_PATH=/github/action/ci \
            GITHUB_OUTPUT=/github/files/output GITHUB_STEP_SUMMARY=/github/files/summary \
            LEAKCHECK_SCENARIOS='$scenarios' LEAKCHECK_ARGS='$args' LEAKCHECK_REPORT_DIR=leakcheck-reports \
            LEAKCHECK_FAIL_ON_LEAK=true; bash \$GITHUB_ACTION_PATH/leakcheck-ci.sh deps && \
            bash \$GITHUB_ACTION_PATH/leakcheck-ci.sh build && bash \$GITHUB_ACTION_PATH/action-run.sh"
        if grep -qx 'passed=true' "$root/github/files/output" &&
            grep -q 'kv.\{0,1\}-leaky' "$root/github/files/summary" &&
            [ -f "$root/github/workspace/leakcheck-reports/junit.xml" ]; then
            ok "the action's outputs say passed=true; summary and junit.xml written"
        else
            fail "the action's outputs and summary" "$(cat "$root/github/files/output" 2>&1)" "$(head -c 600 "$root/github/files/summary" 2>&1)"
        fi
    elif [ -n "$uses" ]; then
        fail "step '$uses' is not one this check knows how to run"
    fi
    name= run= uses=
}
while IFS= read -r line; do
    case $line in
    '      - '*)
        flush
        line="        ${line#      - }"
        ;;
    esac
    case $line in
    '        name: '*) name=${line#        name: } ;;
    '        run: '*) run=${line#        run: } ;;
    '        uses: '*) uses=${line#        uses: } ;;
    '          scenarios: '*) scenarios=${line#          scenarios: } ;;
    '          args: '*) args=${line#          args: } ;;
    esac
done < <(sed -n '/^    steps:/,$p' "$src/$workflow" | tail -n +2)
flush
du_mib=$(du -sm --one-file-system "$root" | cut -f1)
say "the root holds $du_mib MiB after the workflow (the base system is about 200 MiB)"
finish
