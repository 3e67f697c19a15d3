#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/root-lib.sh - sourced by ci/test-package.sh and ci/test-workflows.sh: a folder for a fresh
# Debian 12 root. `root_workdir NAME` sets $work (a new folder) and $root ($work/root) and makes
# sure that whatever ends the script, the root's mounts are undone and the folder is removed.
root_cleanup() {
    for m in "$root/dev/pts" "$root/dev" "$root/proc"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m"
    done
    rm -rf --one-file-system "$work"
}
root_workdir() {
    work=$(mktemp -d "${TMPDIR:-/var/tmp}/leakcheck-$1.XXXXXX")
    root=$work/root
    trap root_cleanup EXIT
    trap 'exit 130' INT TERM
}
