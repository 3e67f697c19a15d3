#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/make-deb.sh - wraps an installed tree (`make install install-extra DESTDIR=ROOT
# PREFIX=/usr`) into a Debian binary package with dpkg-deb. `make deb` calls it.
#
#   ci/make-deb.sh ROOT VERSION ARCH OUT.deb
#
# Depends comes from the libraries the binaries load (ci/deb-depends.sh); the static library's
# link-time needs (libdw-dev and friends, `pkg-config --libs leakcheck`) are Suggests, since the
# command and the agent do not need them.
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: ci/make-deb.sh ROOT VERSION ARCH OUT.deb" >&2
    exit 2
fi
root=$1 version=$2 arch=$3 out=$4
ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for f in usr/bin/leakcheck usr/lib/leakcheck/libleakcheck-agent.so usr/include/leakcheck.h \
    usr/lib/libleakcheck.a usr/lib/pkgconfig/leakcheck.pc usr/share/man/man1/leakcheck.1; do
    if [ ! -f "$root/$f" ]; then
        echo "make-deb: $root/$f is missing; run 'make install install-extra DESTDIR=$root PREFIX=/usr' first" >&2
        exit 1
    fi
done

depends=$(bash "$ci_dir/deb-depends.sh" "$root/usr/bin/leakcheck" \
    "$root/usr/lib/leakcheck/libleakcheck-agent.so")
gzip -9nf "$root"/usr/share/man/man1/*.1
cat >"$root/usr/share/doc/leakcheck/copyright" <<'TXT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: leakcheck

Files: *
License: MIT
TXT
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<TXT
Package: leakcheck
Version: $version
Architecture: $arch
Maintainer: leakcheck maintainers <leakcheck@localhost>
Installed-Size: $size
Depends: $depends
Suggests: libdw-dev, libelf-dev, libcmocka-dev, pkg-config
Section: devel
Priority: optional
Homepage: https://github.com/OWNER/leakcheck
Description: leak-regression tests for C and C++ programs
 leakcheck finds memory that a C or C++ program keeps a little more of every
 time it does the same work (unbounded caches, pools that never shrink, buffers
 kept per connection) and fails the build when that happens. It runs the
 program with an allocation agent preloaded, replays the same work round after
 round, and names the function and line that keeps the memory.
 .
 This package holds the leakcheck command, its LD_PRELOAD agent, the
 in-process assertion library (libleakcheck.a, leakcheck.h, leakcheck.pc),
 man pages and documentation.
TXT
mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "deb: $out ($(du -k "$out" | cut -f1) KiB; Depends: $depends)"
