#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/check-layers.sh [ROOT] - the include arrows between the source folders point the allowed
# way, and no two modules of one folder include each other in a circle.
#
# Reads every `#include "..."` of the .c and .h files under the folders of the table below
# (ROOT defaults to `.`), resolves the quoted path against the including file's folder and
# fails (exit 1) on:
#   - an include whose target folder is not allowed for the including folder;
#   - an include that resolves to no existing file (or to a file outside ROOT);
#   - a circle between modules of one folder (module x = x.c + x.h + x_test.c); *_test.c files
#     are left out of the circle search, their folder arrows are still checked;
#   - a folder of the table that does not exist.
# Prints one summary line and exits 0 when the tree is clean; exit 2 on a usage error.
# Needs bash 4, find, sort and a POSIX awk (mawk is enough); no python.
set -euo pipefail
export LC_ALL=C

# ------------------------------------------------------------------------------ allowed arrows
# folder:  folders it may include from (its own folder is always allowed). One folder a line;
# the order here is the order of the "allowed:" lists in messages. Only these folders are
# checked; tests/, fuzz/, bench/, examples/, scenarios/ are outside the check.
ARROWS='
common:
util:
model:    util
analysis: model util common
reports:  model util
harness:  analysis reports model util common include
lib:      include analysis model util common
agent:    common
include:
'
# ----------------------------------------------------------------------------------------------

usage() {
    echo "usage: check-layers.sh [ROOT]" >&2
    exit 2
}
[ $# -le 1 ] || usage
root=${1:-.}
case $root in
-h | --help) usage ;;
esac
if [ ! -d "$root" ]; then
    echo "check-layers: '$root' is not a folder" >&2
    exit 2
fi
cd "$root"

declare -A allowed=() # allowed[from]=" to1 to2 " (with its own folder)
declare -A listed=()  # listed[from]="to1, to2" for messages
folders=()
while read -r line; do
    [ -n "$line" ] || continue
    from=${line%%:*}
    tos=${line#*:}
    folders+=("$from")
    allowed[$from]=" $from "
    listed[$from]=""
    for to in $tos; do
        allowed[$from]+="$to "
        listed[$from]+="${listed[$from]:+, }$to"
    done
    [ -n "${listed[$from]}" ] || listed[$from]="none"
done <<<"$ARROWS"

n_missing=0
present=()
for f in "${folders[@]}"; do
    if [ -d "$f" ]; then
        present+=("$f")
    else
        echo "$f/: folder is missing (the layout expects: ${folders[*]})" >&2
        n_missing=$((n_missing + 1))
    fi
done

files=()
if [ ${#present[@]} -gt 0 ]; then
    mapfile -t files < <(find "${present[@]}" -type f \( -name '*.c' -o -name '*.h' \) | sort)
fi

# One record per quoted include: FILE <TAB> LINE <TAB> QUOTED <TAB> RESOLVED, RESOLVED being the
# path from ROOT with `.` and `..` folded; it starts with `../` when it leaves ROOT.
includes=$(
    [ ${#files[@]} -gt 0 ] || exit 0
    awk '
    function resolve(dir, inc,    n, parts, i, out, m, k, up, res) {
        if (substr(inc, 1, 1) == "/") {
            return "../" inc
        }
        n = split(dir "/" inc, parts, "/")
        m = 0
        up = 0
        for (i = 1; i <= n; i++) {
            if (parts[i] == "" || parts[i] == ".") {
                continue
            }
            if (parts[i] == "..") {
                if (m > 0) {
                    m--
                } else {
                    up++
                }
                continue
            }
            out[++m] = parts[i]
        }
        res = ""
        for (k = 1; k <= up; k++) {
            res = res "../"
        }
        for (k = 1; k <= m; k++) {
            res = res (k > 1 ? "/" : "") out[k]
        }
        return res
    }
    /^[ \t]*#[ \t]*include[ \t]*"/ {
        s = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", s)
        q = index(s, "\"")
        if (q == 0) {
            next
        }
        inc = substr(s, 1, q - 1)
        dir = FILENAME
        if (sub(/\/[^\/]*$/, "", dir) == 0) {
            dir = "."
        }
        printf "%s\t%d\t%s\t%s\n", FILENAME, FNR, inc, resolve(dir, inc)
    }' "${files[@]}"
)

n_includes=0
n_bad=0
n_dangling=0
edges="" # FOLDER <TAB> FROM-MODULE <TAB> TO-MODULE <TAB> FILE:LINE <TAB> QUOTED

# module PATH: the module a file belongs to, named from its folder: harness/drv_test.c -> drv
module() {
    local m=${1#*/}
    case $m in
    *_test.c) m=${m%_test.c} ;;
    *.c) m=${m%.c} ;;
    *.h) m=${m%.h} ;;
    esac
    echo "$m"
}

while IFS=$'\t' read -r file line inc res; do
    [ -n "$file" ] || continue
    n_includes=$((n_includes + 1))
    from=${file%%/*}
    case $res in
    ../*)
        echo "$file:$line: includes \"$inc\", which leaves the tree" >&2
        n_dangling=$((n_dangling + 1))
        continue
        ;;
    esac
    if [ ! -f "$res" ]; then
        echo "$file:$line: includes \"$inc\", which resolves to $res: no such file" >&2
        n_dangling=$((n_dangling + 1))
        continue
    fi
    if [ "$res" = "${res#*/}" ]; then
        to="(root)"
    else
        to=${res%%/*}
    fi
    if [[ ${allowed[$from]} != *" $to "* ]]; then
        echo "$file:$line: includes \"$inc\" ($from -> $to is not allowed;" \
            "allowed: ${listed[$from]})" >&2
        n_bad=$((n_bad + 1))
        continue
    fi
    # Circles are looked for between modules of one folder, from non-test files only.
    if [ "$to" = "$from" ] && [[ $file != *_test.c ]]; then
        m_from=$(module "$file")
        m_to=$(module "$res")
        if [ "$m_from" != "$m_to" ]; then
            edges+="$from"$'\t'"$m_from"$'\t'"$m_to"$'\t'"$file:$line"$'\t'"$inc"$'\n'
        fi
    fi
done <<<"$includes"

# Circles: for each module, the shortest circle back to it (breadth-first, neighbours in name
# order); each circle printed once, from its smallest module name, with the includes that make
# each of its arrows. Prints the number of circles on the last line of stdout.
circles=$(
    printf '%s' "$edges" | sort -t $'\t' -k1,1 -k2,2 -k3,3 -k4,4 | awk -F '\t' '
    {
        key = $1 SUBSEP $2
        if (!(key in seen)) {
            seen[key] = 1
            nodes[++n_nodes] = key
        }
        if (!(($1, $2, $3) in has_edge)) {
            has_edge[$1, $2, $3] = 1
            adj[key, ++n_adj[key]] = $3
        }
        why[$1, $2, $3] = why[$1, $2, $3] "    " $4 ": #include \"" $5 "\"\n"
    }
    END {
        found = 0
        for (i = 1; i <= n_nodes; i++) {
            split(nodes[i], fm, SUBSEP)
            folder = fm[1]
            start = fm[2]
            # breadth-first search from start back to start, inside folder
            for (k in prev) {
                delete prev[k]
            }
            head = 1
            tail = 0
            queue[++tail] = start
            visited = SUBSEP start SUBSEP
            hit = ""
            while (head <= tail && hit == "") {
                cur = queue[head++]
                for (j = 1; j <= n_adj[folder, cur]; j++) {
                    nxt = adj[folder, cur, j]
                    if (nxt == start) {
                        hit = cur
                        break
                    }
                    if (index(visited, SUBSEP nxt SUBSEP) == 0) {
                        visited = visited nxt SUBSEP
                        prev[nxt] = cur
                        queue[++tail] = nxt
                    }
                }
            }
            if (hit == "") {
                continue
            }
            # the path start -> ... -> hit, then back to start
            m = 0
            for (v = hit; v != start; v = prev[v]) {
                rev[++m] = v
            }
            cyc[1] = start
            for (k = 1; k <= m; k++) {
                cyc[k + 1] = rev[m - k + 1]
            }
            len = m + 1
            # rotate so that the smallest name comes first: one spelling per circle
            low = 1
            for (k = 2; k <= len; k++) {
                if (cyc[k] < cyc[low]) {
                    low = k
                }
            }
            for (k = 1; k <= len; k++) {
                rot[k] = cyc[(low + k - 2) % len + 1]
            }
            text = rot[1]
            for (k = 2; k <= len; k++) {
                text = text " -> " rot[k]
            }
            text = text " -> " rot[1]
            if ((folder, text) in printed) {
                continue
            }
            printed[folder, text] = 1
            found++
            printf "%s/: circle %s\n", folder, text
            for (k = 1; k <= len; k++) {
                a = rot[k]
                b = rot[k % len + 1]
                printf "  %s -> %s:\n%s", a, b, why[folder, a, b]
            }
        }
        print found
    }'
)
n_circles=${circles##*$'\n'}
if [ "$circles" != "$n_circles" ]; then
    printf '%s\n' "${circles%$'\n'*}" >&2
fi

n_files=${#files[@]}
if [ $((n_bad + n_dangling + n_circles + n_missing)) -eq 0 ]; then
    echo "layers: $n_files files, $n_includes includes, no disallowed arrow, no circle"
    exit 0
fi
echo "layers: $n_files files, $n_includes includes: $n_bad disallowed arrows, $n_circles circles," \
    "$n_dangling dangling includes, $n_missing missing folders" >&2
exit 1
