#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh PORT CACHE_MAX - renders tests/nginx/nginx.conf.in into a fresh folder and execs nginx
# on it (a master and two workers, in the foreground). The scenario runs this wrapper; the
# nginx it execs, and the workers nginx forks, are measured.
set -eu
port=$1
cache_max=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/leakcheck-nginx.XXXXXX")
mkdir -p "$dir/www"
chmod 755 "$dir" "$dir/www" # the workers run as an unprivileged user when nginx starts as root
echo hello > "$dir/www/index.html"
sed -e "s|@PORT@|$port|" -e "s|@DIR@|$dir|g" -e "s|@CACHE_MAX@|$cache_max|" \
    "$here/nginx.conf.in" > "$dir/nginx.conf"
exec /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf"
