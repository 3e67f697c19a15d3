#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/test-package.sh - the Debian package, tested as a user gets it: a fresh Debian 12 root
# (debootstrap, minbase), the package installed there by the action's own install path
# (`LEAKCHECK_VERSION=... ci/leakcheck-ci.sh deps`, which runs `apt-get install ./leakcheck.deb`,
# so its Depends must be complete), then in that root with chroot: a leaky and a fixed stdio
# program through the quick form, a leaky and a fixed in-process check linked against the
# package's libleakcheck.a, and scenario files through ci/leakcheck-ci.sh with the installed
# binary. Prints "N passed, N failed"; exits 1 on any failure.
#
#   ci/test-package.sh PACKAGE.deb        (`make test-package` builds the package and calls it)
#
# Needs root and debootstrap; DEBIAN_MIRROR (default http://deb.debian.org/debian) names the
# archive. Downloaded packages are kept in ~/.cache/leakcheck/debootstrap for the next run. The
# root lives in a temporary folder, its mounts and itself removed on exit, whatever ends it.
set -uo pipefail

deb=${1:-}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
    echo "usage: ci/test-package.sh PACKAGE.deb (make test-package builds it)" >&2
    exit 2
fi
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deb=$(readlink -f "$deb")
version=$(dpkg-deb -f "$deb" Version)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${LEAKCHECK_DEBOOTSTRAP_CACHE:-$HOME/.cache/leakcheck/debootstrap}
say() { printf 'test-package: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "needs root (debootstrap and chroot); run it as root"
    exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    say "debootstrap not found; install it with 'ci/install-deps.sh --test'"
    exit 2
fi

# shellcheck source=ci/root-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/root-lib.sh"
root_workdir package

# shellcheck source=ci/check-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/check-lib.sh"
# in_root CMD...: runs CMD in the root with a plain environment; output in $out, status in $rc
in_root() {
    out=$(chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        LANG=C.UTF-8 "$@" 2>&1)
    rc=$?
}

# 1. a fresh Debian 12 root
mkdir -p "$cache"
start=$(date +%s)
if debootstrap --variant=minbase --cache-dir="$cache" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    ok "debootstrap: a fresh Debian 12 root in $(($(date +%s) - start)) s"
else
    fail "debootstrap bookworm from $mirror" "$(tail -n 20 "$work/debootstrap.log")"
    finish
fi
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null

# What runs in the root: the package, the CI scripts, a stdio target, an in-process example
# linked against the package's own static library and header.
mkdir -p "$root/opt/t/ci" "$work/pkg"
cp "$deb" "$root/opt/t/leakcheck.deb"
cp "$root_dir"/ci/*.sh "$root/opt/t/ci/"
dpkg-deb -x "$deb" "$work/pkg"
cc=${CC:-gcc}
# the static library's own link line, from the package's leakcheck.pc
libs=$(sed -n 's/^Libs: .*-lleakcheck //p' "$work/pkg/usr/lib/pkgconfig/leakcheck.pc")
if ! $cc -std=gnu11 -g -O0 -fno-omit-frame-pointer -o "$root/opt/t/stdio_kv" \
    "$root_dir/tests/targets/stdio_kv.c" ||
    ! $cc -std=gnu11 -g -O0 -fno-omit-frame-pointer -fno-inline -I"$work/pkg/usr/include" \
        -o "$root/opt/t/hdr_plain" "$root_dir/examples/hdr/hdr_plain.c" \
        "$root_dir/examples/hdr/hdr.c" "$work/pkg/usr/lib/libleakcheck.a" $libs; then
    fail "build the example programs against the package's header, library and leakcheck.pc ($libs)"
    finish
fi
for mode in leaky fixed; do
    argv='"/opt/t/stdio_kv"'
    expect=no-leak
    if [ $mode = leaky ]; then
        argv='"/opt/t/stdio_kv", "--leak"'
        expect=leak
    fi
    cat >"$root/opt/t/kv-$mode.json" <<JSON
{ "name": "kv-$mode",
  "target": { "argv": [$argv] },
  "driver": { "kind": "stdio", "requests": ["put k{round}-{i}"], "requests_per_round": 40 },
  "rounds": 8, "warmup": 2, "expect": "$expect" }
JSON
done

# 2. the action's install path: apt-get install ./leakcheck.deb resolves its Depends
start=$(date +%s)
in_root env LEAKCHECK_VERSION="$version" LEAKCHECK_PACKAGE=/opt/t/leakcheck.deb \
    bash /opt/t/ci/leakcheck-ci.sh deps
if [ $rc -eq 0 ]; then
    ok "apt-get install ./leakcheck_${version}.deb in the fresh root ($(($(date +%s) - start)) s)"
    printf '%s\n' "$out" | sed 's/^/      /'
else
    fail "install the package (leakcheck-ci.sh deps, exit $rc)" "$out"
    finish
fi
in_root leakcheck --version
if [ $rc -eq 0 ] && [ "$out" = "leakcheck $version" ]; then
    ok "leakcheck --version says $version"
else
    fail "leakcheck --version (exit $rc)" "$out"
fi
in_root sh -c 'ls /usr/lib/leakcheck/libleakcheck-agent.so /usr/include/leakcheck.h /usr/lib/libleakcheck.a /usr/lib/pkgconfig/leakcheck.pc /usr/share/man/man1/leakcheck.1.gz /usr/share/man/man1/leakcheck-run.1.gz /usr/share/doc/leakcheck/README.md'
if [ $rc -eq 0 ]; then
    ok "the package holds the agent, header, static library, leakcheck.pc, man pages and docs"
else
    fail "files of the package" "$out"
fi

# 3. the quick form: a leak fails (exit 1) naming its culprit, the fixed program passes
in_root leakcheck run --rounds 8 --warmup 2 --requests-per-round 40 --request 'put k{round}-{i}' \
    --report-dir /tmp/r-leaky -- /opt/t/stdio_kv --leak
if [ $rc -eq 1 ] && grep -q 'leak ' <<<"$out" && grep -q 'main\|keep' <<<"$out"; then
    ok "quick form, leaky program: exit 1, leak named"
else
    fail "quick form, leaky program (exit $rc, wanted 1)" "$out"
fi
in_root leakcheck run --rounds 8 --warmup 2 --requests-per-round 40 --request 'put k{round}-{i}' \
    --report-dir /tmp/r-fixed -- /opt/t/stdio_kv
if [ $rc -eq 0 ] && grep -q 'no-leak' <<<"$out"; then
    ok "quick form, fixed program: exit 0, no-leak"
else
    fail "quick form, fixed program (exit $rc, wanted 0)" "$out"
fi

# 4. the in-process library, found through the agent's installed path
in_root leakcheck exec -- /opt/t/hdr_plain leaky
if [ $rc -eq 1 ] && grep -q 'hdr_parse_leaky' <<<"$out"; then
    ok "in-process check, leaky function: exit 1 naming hdr_parse_leaky"
else
    fail "in-process check, leaky function (exit $rc, wanted 1)" "$out"
fi
in_root leakcheck exec -- /opt/t/hdr_plain fixed
if [ $rc -eq 0 ]; then
    ok "in-process check, fixed function: exit 0"
else
    fail "in-process check, fixed function (exit $rc, wanted 0)" "$out"
fi

# 5. scenario files through the generic CI script with the packaged binary
in_root sh -c "cd /opt/t && LEAKCHECK_VERSION=$version LEAKCHECK_INSTALL_DEPS=false \
    LEAKCHECK_REPORT_DIR=/tmp/r-ci bash ci/leakcheck-ci.sh run kv-leaky.json kv-fixed.json"
if [ $rc -eq 0 ] && grep -q 'verdict: pass' <<<"$out"; then
    ok "ci/leakcheck-ci.sh run with the packaged binary: the known leak and the fixed twin pass"
else
    fail "ci/leakcheck-ci.sh run with the packaged binary (exit $rc, wanted 0)" "$out"
fi

# 6. removal leaves nothing of the package behind
in_root sh -c 'apt-get remove -y -qq leakcheck >/dev/null && ! ls /usr/bin/leakcheck /usr/lib/leakcheck 2>/dev/null'
if [ $rc -eq 0 ]; then
    ok "apt-get remove leakcheck removes the command and the agent"
else
    fail "apt-get remove leakcheck (exit $rc)" "$out"
fi
finish
