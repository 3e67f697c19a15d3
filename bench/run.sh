#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR - the agent's cost side by side with heaptrack and valgrind massif, on
# allocation churn and on real programs, and how long the agent takes to answer a snapshot
# (`make bench`; docs/PERFORMANCE.md says how to read it).
#
# Workloads (inputs generated into a temporary folder, the same bytes every run):
#   churn        bench/churn.c: PAIRS malloc/free pairs split over THREADS threads, 4096 live
#                blocks a thread, stacks 4-12 frames deep
#   churn_flat   bench/churn_flat.c: the same churn from one 4-frame stack (the cheapest pairs)
#   sqlite3      the sqlite3 CLI on a SQL script: SQL_ROWS inserts into an indexed table in one
#                transaction, then a grouped query, an update and a delete (in memory)
#   jq           jq over JQ_OBJECTS JSON objects (one a line): a filter that rebuilds each
#   cc1          GCC's compiler proper (gcc -print-prog-name=cc1) at -O2 on a generated,
#                preprocessed C file of CC1_FUNCS functions (100: about 100 KB)
# Tools: bare (the program alone), agent (libleakcheck-agent.so preloaded with a live control
# channel, as under `leakcheck run`: every block tracked with its full stack), heaptrack (its
# recording, compressed with zstd as `heaptrack PROGRAM` does when zstd is installed, which
# ci/install-deps.sh --bench installs), massif (valgrind --tool=massif).
# Each run takes every cell in turn, the bare program and then each tool back to back (paired),
# so a machine that slows down slows both; a ratio is the tool's figure over the bare
# program's in the same run, and the table gives the median over RUNS runs of the CPU-time
# ratio (user + system time of the program and everything it waited for) and of the wall-time
# ratio. A tool that is not installed, a cell that fails, or one still running after CAP seconds
# (then skipped in later runs) shows "-" with the reason under the table.
# Snapshots: bench/snaptime.c runs a program under the agent with a live channel and times
# SNAP_COUNT snapshots, request to last byte, once it holds 1e5 and 1e6 blocks (churn holding
# them) and while SNAP_THREADS threads churn.
#
# Env (defaults in brackets): RUNS [5], PAIRS [2000000], THREADS ["1 2 4 8"],
# WORKLOADS ["churn churn_flat sqlite3 jq cc1"], TOOLS ["agent heaptrack massif"], CAP [120],
# SQL_ROWS [25000], JQ_OBJECTS [40000], CC1_FUNCS [100], SNAP_BLOCKS ["100000 1000000"],
# SNAP_THREADS [64], SNAP_COUNT [5], BENCH_MD (also write the results as Markdown tables to this
# file), BENCH_DOC (write those tables into this document, between its lines
# "<!-- bench/run.sh tables: begin -->" and "<!-- bench/run.sh tables: end -->": how
# docs/PERFORMANCE.md is refreshed, `make bench BENCH_DOC=docs/PERFORMANCE.md`).
set -euo pipefail
B=${1:-build/debug}
RUNS=${RUNS:-5}
PAIRS=${PAIRS:-2000000}
THREADS=${THREADS:-1 2 4 8}
WORKLOADS=${WORKLOADS:-churn churn_flat sqlite3 jq cc1}
TOOLS=${TOOLS:-agent heaptrack massif}
CAP=${CAP:-120}
SQL_ROWS=${SQL_ROWS:-25000}
JQ_OBJECTS=${JQ_OBJECTS:-40000}
CC1_FUNCS=${CC1_FUNCS:-100}
SNAP_BLOCKS=${SNAP_BLOCKS:-100000 1000000}
SNAP_THREADS=${SNAP_THREADS:-64}
SNAP_COUNT=${SNAP_COUNT:-5}
BENCH_MD=${BENCH_MD:-}
BENCH_DOC=${BENCH_DOC:-}
mark_begin='<!-- bench/run.sh tables: begin -->'
mark_end='<!-- bench/run.sh tables: end -->'
if [ -n "$BENCH_DOC" ] && [ ! -w "$BENCH_DOC" ]; then
    echo "bench: BENCH_DOC: can't write $BENCH_DOC" >&2
    exit 2
fi

agent="$B/libleakcheck-agent.so"
timed="$B/bench/timed"
snaptime="$B/bench/snaptime"
for f in "$agent" "$timed" "$snaptime" "$B/bench/churn" "$B/bench/churn_flat"; do
    if [ ! -x "$f" ] && [ ! -f "$f" ]; then
        echo "bench: $f not found; build it first ('make bench' does)" >&2
        exit 2
    fi
done
for v in RUNS PAIRS CAP SQL_ROWS JQ_OBJECTS CC1_FUNCS SNAP_THREADS SNAP_COUNT; do
    case ${!v} in
    '' | *[!0-9]*)
        echo "bench: $v: expected a whole number, found '${!v}'" >&2
        exit 2
        ;;
    esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- inputs
gen_sql() { # gen_sql ROWS
    awk -v n="$1" 'BEGIN {
        print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, v REAL);"
        print "CREATE INDEX t_grp ON t(grp, name);"
        print "BEGIN;"
        for (i = 1; i <= n; i++) {
            printf "INSERT INTO t VALUES(%d, %cname-%d-%s%c, %d, %.1f);\n", i, 39, (i * 7919) % 100003, substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 26), 39, i % 97, i * 0.5
        }
        print "COMMIT;"
        print "SELECT grp, count(*), sum(v), max(name) FROM t GROUP BY grp ORDER BY 2 DESC LIMIT 5;"
        print "UPDATE t SET name = name || \x27-u\x27 WHERE grp % 3 = 0;"
        print "DELETE FROM t WHERE grp % 5 = 0;"
        print "SELECT count(*), length(group_concat(name)) FROM t;"
    }'
}

gen_json() { # gen_json OBJECTS
    awk -v n="$1" 'BEGIN {
        for (i = 1; i <= n; i++) {
            printf "{\"id\":%d,\"name\":\"user-%d\",\"score\":%d,\"tags\":[\"t%d\",\"t%d\",\"t%d\"],\"geo\":{\"x\":%.2f,\"y\":%.2f},\"note\":\"%s\"}\n", i, (i * 7919) % 100003, i % 1000, i % 7, i % 11, i % 13, i * 0.25, i * 0.5, substr("the quick brown fox jumps over the lazy dog", 1 + i % 20)
        }
    }'
}

gen_c() { # gen_c FUNCTIONS: a C file of that many functions of loops, switches and lists
    awk -v n="$1" 'BEGIN {
        print "#include <stddef.h>"
        print "struct node { struct node *next; long key; double w[4]; char name[16]; };"
        print "static long table[256];"
        for (i = 0; i < n; i++) {
            printf "struct s%d { int a; long b[%d]; double c; struct node *n; };\n", i, 2 + i % 7
            printf "long f%d(struct s%d *s, struct node *list, int k)\n{\n    long acc = %d;\n", i, i, i
            printf "    for (int j = 0; j < k; j++) {\n        switch ((j + s->a) %% %d) {\n", 3 + i % 5
            for (c = 0; c < 3 + i % 5; c++) {
                printf "        case %d: acc += s->b[j %% %d] * %d + table[(acc + j) & 255]; break;\n", c, 2 + i % 7, c + i
            }
            printf "        default: acc ^= j;\n        }\n    }\n"
            printf "    for (struct node *p = list; p; p = p->next) {\n        if (p->key %% %d == %d) {\n", 5 + i % 11, i % 5
            printf "            acc += (long)(p->w[%d] * s->c) + p->name[%d];\n", i % 4, i % 16
            printf "        } else if (p->key > acc) {\n            acc = p->key - acc / %d;\n        }\n    }\n", 2 + i % 9
            if (i > 0) {
                printf "    if (k > %d) {\n        acc += f%d((struct s%d *)(void *)s, list, k / 2);\n    }\n", 10 + i % 13, i - 1, i - 1
            }
            printf "    table[acc & 255] = acc;\n    return acc;\n}\n\n"
        }
    }'
}

# Why a workload can't run here, or "" when it can.
missing_workload() {
    case $1 in
    sqlite3) command -v sqlite3 >/dev/null || echo "sqlite3 not installed" ;;
    jq) command -v jq >/dev/null || echo "jq not installed" ;;
    cc1) [ -x "$cc1" ] || echo "cc1 not found (gcc -print-prog-name=cc1)" ;;
    esac
    return 0
}

cc1=$(gcc -print-prog-name=cc1 2>/dev/null || true)
wl_rows=() # "workload threads" cells, in table order
for w in $WORKLOADS; do
    case $w in
    churn | churn_flat) for t in $THREADS; do wl_rows+=("$w $t"); done ;;
    sqlite3 | jq | cc1) wl_rows+=("$w -") ;;
    *)
        echo "bench: WORKLOADS: unknown workload '$w' (churn churn_flat sqlite3 jq cc1)" >&2
        exit 2
        ;;
    esac
done
case " $WORKLOADS " in *" sqlite3 "*) gen_sql "$SQL_ROWS" >"$tmp/in.sql" ;; esac
case " $WORKLOADS " in *" jq "*) gen_json "$JQ_OBJECTS" >"$tmp/in.json" ;; esac
case " $WORKLOADS " in *" cc1 "*) gen_c "$CC1_FUNCS" | gcc -E -P -x c - -o "$tmp/in.i" ;; esac

# The command of a cell (workload, threads), one word a line.
cell_cmd() {
    case $1 in
    churn) printf '%s\n' "$B/bench/churn" "$2" $((PAIRS / $2)) ;;
    churn_flat) printf '%s\n' "$B/bench/churn_flat" "$2" $((PAIRS / $2)) ;;
    sqlite3) printf '%s\n' sqlite3 :memory: ".read $tmp/in.sql" ;;
    jq) printf '%s\n' jq -c '{id, name: (.name | ascii_upcase), n: (.tags | length), d: (.geo.x * .geo.x + .geo.y * .geo.y), hot: (.score > 500)} | select(.n == 3)' "$tmp/in.json" ;;
    cc1) printf '%s\n' "$cc1" -fpreprocessed -quiet -O2 "$tmp/in.i" -o "$tmp/out.s" ;;
    esac
}

label() {
    case $1 in
    churn) echo "churn (4-12 deep)" ;;
    churn_flat) echo "churn_flat (4 frames)" ;;
    sqlite3) echo "sqlite3 CLI, $SQL_ROWS inserts" ;;
    jq) echo "jq, $JQ_OBJECTS objects" ;;
    cc1) echo "cc1 -O2, $(($(wc -c <"$tmp/in.i") / 1024)) KB" ;;
    esac
}

tool_missing() {
    case $1 in
    heaptrack) command -v heaptrack >/dev/null || echo "heaptrack not installed" ;;
    massif) command -v valgrind >/dev/null || echo "valgrind not installed" ;;
    agent) ;;
    *) echo "unknown tool" ;;
    esac
    return 0
}

# run_cell KEY TOOL CMD...: one timed run; appends to $tmp/KEY.TOOL.{cpu,wall}, or marks it
# capped / failed.
run_cell() {
    local key=$1 tool=$2 out
    shift 2
    case $tool in
    bare) out=$("$timed" --cap "$CAP" "$@" 2>"$tmp/err") || true ;;
    agent) out=$("$timed" --cap "$CAP" --agent "$agent" "$@" 2>"$tmp/err") || true ;;
    heaptrack)
        out=$("$timed" --cap "$CAP" heaptrack -o "$tmp/ht" "$@" 2>"$tmp/err") || true
        rm -f "$tmp"/ht* ;;
    massif)
        out=$("$timed" --cap "$CAP" valgrind -q --tool=massif --massif-out-file="$tmp/massif.out" "$@" 2>"$tmp/err") || true
        rm -f "$tmp/massif.out" ;;
    esac
    case $out in
    *status=capped*) echo "still running after $CAP s (CAP)" >"$tmp/$key.$tool.why" ;;
    *status=0)
        echo "$out" | sed 's/.*cpu=\([0-9.]*\).*/\1/' >>"$tmp/$key.$tool.cpu"
        echo "$out" | sed 's/^wall=\([0-9.]*\).*/\1/' >>"$tmp/$key.$tool.wall" ;;
    *) echo "failed (${out##*status=}): $(head -c 200 "$tmp/err" | tr '\n' ' ')" >"$tmp/$key.$tool.why" ;;
    esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- timed runs
for ((run = 1; run <= RUNS; run++)); do
    for row in "${wl_rows[@]}"; do
        read -r w t <<<"$row"
        key="$w.$t"
        why=$(missing_workload "$w")
        if [ -n "$why" ]; then
            echo "$why" >"$tmp/$key.bare.why"
            continue
        fi
        mapfile -t cmd < <(cell_cmd "$w" "$t")
        run_cell "$key" bare "${cmd[@]}"
        [ -e "$tmp/$key.bare.why" ] && continue
        bare_cpu=$(tail -1 "$tmp/$key.bare.cpu")
        bare_wall=$(tail -1 "$tmp/$key.bare.wall")
        for tool in $TOOLS; do
            why=$(tool_missing "$tool")
            [ -n "$why" ] && echo "$why" >"$tmp/$key.$tool.why"
            [ -e "$tmp/$key.$tool.why" ] && continue
            run_cell "$key" "$tool" "${cmd[@]}"
            [ -e "$tmp/$key.$tool.why" ] && continue
            awk -v t="$(tail -1 "$tmp/$key.$tool.cpu")" -v b="$bare_cpu" 'BEGIN { printf "%.4f\n", (b > 0 ? t / b : 0) }' >>"$tmp/$key.$tool.rcpu"
            awk -v t="$(tail -1 "$tmp/$key.$tool.wall")" -v b="$bare_wall" 'BEGIN { printf "%.4f\n", (b > 0 ? t / b : 0) }' >>"$tmp/$key.$tool.rwall"
        done
    done
    echo "bench: run $run of $RUNS done ($(($(date +%s) - t_start)) s)" >&2
done

# ---------------------------------------------------------------- snapshots
snap_rows=()
for n in $SNAP_BLOCKS; do
    case $n in '' | *[!0-9]*)
        echo "bench: SNAP_BLOCKS: expected whole numbers, found '$n'" >&2
        exit 2 ;;
    esac
    out=$("$snaptime" --count "$SNAP_COUNT" --min-blocks "$n" --timeout "$CAP" "$agent" \
        "$B/bench/churn" 1 0 "$n" 3600000 2>&1) || out="failed: $out"
    snap_rows+=("$n blocks held|$out")
done
if [ "$SNAP_THREADS" -gt 0 ]; then
    out=$("$snaptime" --count "$SNAP_COUNT" --min-blocks $((SNAP_THREADS * 512)) --timeout "$CAP" \
        "$agent" "$B/bench/churn" "$SNAP_THREADS" 4000000000 1024 2>&1) || out="failed: $out"
    snap_rows+=("$SNAP_THREADS threads churning|$out")
fi
echo "bench: snapshots done ($(($(date +%s) - t_start)) s)" >&2

# ---------------------------------------------------------------- tables
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
seconds=$(($(date +%s) - t_start))
fmt_ratio() { awk -v r="$1" 'BEGIN { if (r == "-") print "-"; else if (r >= 10) printf "%.1fx\n", r; else printf "%.2fx\n", r }'; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# cell KEY TOOL: "CPUx / WALLx", or "-" (the reason is in the notes)
cell() {
    local key=$1 tool=$2
    if [ -e "$tmp/$key.$tool.why" ] || [ ! -s "$tmp/$key.$tool.rcpu" ]; then
        echo "-"
        return
    fi
    echo "$(fmt_ratio "$(median <"$tmp/$key.$tool.rcpu")") / $(fmt_ratio "$(median <"$tmp/$key.$tool.rwall")")"
}

# Why cells show "-", one line each.
notes=()
for row in "${wl_rows[@]}"; do
    read -r w t <<<"$row"
    for tool in bare $TOOLS; do
        if [ -e "$tmp/$w.$t.$tool.why" ]; then
            where=$(label "$w")
            [ "$t" != - ] && where+=", $t thread(s)"
            notes+=("$where: $tool: $(cat "$tmp/$w.$t.$tool.why")")
        fi
    done
done

machine="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, $(uname -sr)"
versions="gcc $(gcc -dumpfullversion 2>/dev/null || echo ?)"
if command -v heaptrack >/dev/null; then
    # heaptrack compresses its recording with zstd when installed, else gzip: that changes its cost
    compressor=gzip
    command -v zstd >/dev/null && compressor=zstd
    versions+=", heaptrack $(dpkg-query -W -f='${Version}' heaptrack 2>/dev/null || echo ?) (writing $compressor)"
fi
if command -v valgrind >/dev/null; then versions+=", $(valgrind --version 2>/dev/null || echo 'valgrind ?')"; fi
if command -v sqlite3 >/dev/null; then versions+=", sqlite3 $( (sqlite3 --version 2>/dev/null || echo '?') | cut -d' ' -f1)"; fi
if command -v jq >/dev/null; then versions+=", $(jq --version 2>/dev/null || echo 'jq ?')"; fi
versions+=", libunwind $(dpkg-query -W -f='${Version}' libunwind8 2>/dev/null || echo ?)"
header_lines=(
    "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $machine"
    "versions: $versions"
    "load average (1, 5, 15 min): $load_start at start, $load_end at end; $seconds s in all"
    "command (what make bench runs): RUNS=$RUNS PAIRS=$PAIRS THREADS=\"$THREADS\" CAP=$CAP SQL_ROWS=$SQL_ROWS JQ_OBJECTS=$JQ_OBJECTS CC1_FUNCS=$CC1_FUNCS SNAP_COUNT=$SNAP_COUNT bash bench/run.sh $B"
)

# Goals (issue 15): checked here, never in tests.
goals=()
goal() { # goal TEXT FIGURE OK(1/0/-)
    local verdict="met"
    [ "$3" = 0 ] && verdict="NOT met"
    [ "$3" = - ] && verdict="not measured"
    goals+=("$1|$2|$verdict")
}
agent_cpu() { [ -s "$tmp/$1.agent.rcpu" ] && median <"$tmp/$1.agent.rcpu" || echo -; }
for w in churn churn_flat; do
    for t in 1 2; do
        r=$(agent_cpu "$w.$t")
        ok=-
        [ "$r" != - ] && ok=$(awk -v r="$r" 'BEGIN { print (r <= 2.5) }')
        goal "$w, $t thread(s): agent CPU <= 2.5x" "$(fmt_ratio "$r")" "$ok"
    done
    r1=$(agent_cpu "$w.1")
    r8=$(agent_cpu "$w.8")
    ok=-
    [ "$r1" != - ] && [ "$r8" != - ] && ok=$(awk -v a="$r1" -v b="$r8" 'BEGIN { print (b <= a * 1.1) }')
    goal "$w: the ratio does not grow from 1 to 8 threads" "$(fmt_ratio "$r1") -> $(fmt_ratio "$r8")" "$ok"
done
for s in "${snap_rows[@]}"; do
    name=${s%%|*}
    out=${s#*|}
    ms=$(field median_ms "$out")
    case $name in
    "1000000 blocks held")
        ok=-
        [ -n "$ms" ] && ok=$(awk -v m="$ms" 'BEGIN { print (m <= 50) }')
        goal "snapshot of 1,000,000 live blocks <= 50 ms" "${ms:--} ms" "$ok"
        bpb=$(field bytes_per_block "$out")
        ok=-
        [ -n "$bpb" ] && ok=$(awk -v m="$bpb" 'BEGIN { print (m <= 48) }')
        goal "agent memory <= 48 B per live block (1e6 held)" "${bpb:--} B" "$ok"
        ;;
    "64 threads churning")
        ok=-
        [ -n "$ms" ] && ok=$(awk -v m="$ms" 'BEGIN { print (m <= 200) }')
        goal "snapshot with 64 threads churning <= 200 ms" "${ms:--} ms" "$ok"
        busy=$(field busy_cores "$out")
        ok=-
        # the snapshot takes a core; the program's threads should keep at least half the rest
        free_cores=$(($(nproc) > 1 ? $(nproc) - 1 : 1))
        [ -n "$busy" ] && [ "$busy" != - ] && ok=$(awk -v b="$busy" -v n="$free_cores" 'BEGIN { print (b >= 0.5 * n) }')
        goal "its threads keep running (busy cores >= 0.5 x $free_cores)" "${busy:--}" "$ok"
        ;;
    esac
done

print_text() {
    echo "leakcheck bench"
    printf '  %s\n' "${header_lines[@]}"
    echo
    echo "Cost over the bare program: median over $RUNS paired runs of CPU-time ratio / wall-time ratio"
    printf '%-26s %4s %9s %9s' workload thr "bare cpu" "bare wall"
    for tool in $TOOLS; do printf ' %17s' "$tool"; done
    echo
    for row in "${wl_rows[@]}"; do
        read -r w t <<<"$row"
        key="$w.$t"
        printf '%-26s %4s' "$(label "$w")" "$t"
        if [ -s "$tmp/$key.bare.cpu" ]; then
            printf ' %8.3fs %8.3fs' "$(median <"$tmp/$key.bare.cpu")" "$(median <"$tmp/$key.bare.wall")"
        else
            printf ' %9s %9s' - -
        fi
        for tool in $TOOLS; do printf ' %17s' "$(cell "$key" "$tool")"; done
        echo
    done
    echo
    echo "Snapshots under the agent ($SNAP_COUNT each, request to last byte; busy cores: the CPU of the program's own threads over the snapshots' time)"
    printf '%-26s %12s %10s %10s %10s %12s %10s\n' program "live blocks" "median ms" "min ms" "max ms" "agent B/blk" "busy cores"
    for s in "${snap_rows[@]}"; do
        out=${s#*|}
        if [ -z "$(field median_ms "$out")" ]; then
            printf '%-26s %s\n' "${s%%|*}" "- ($(echo "$out" | tr '\n' ' ' | head -c 160))"
            continue
        fi
        printf '%-26s %12s %10s %10s %10s %12s %10s\n' "${s%%|*}" "$(field live_blocks "$out")" \
            "$(field median_ms "$out")" "$(field min_ms "$out")" "$(field max_ms "$out")" \
            "$(field bytes_per_block "$out")" "$(field busy_cores "$out")"
    done
    echo
    echo "Goals"
    for g in "${goals[@]}"; do
        IFS='|' read -r text fig verdict <<<"$g"
        printf '  %-58s %-16s %s\n' "$text" "$fig" "$verdict"
    done
    if [ ${#notes[@]} -gt 0 ]; then
        echo
        echo "Not measured"
        printf '  %s\n' "${notes[@]}"
    fi
}

print_md() {
    printf -- '- %s\n' "${header_lines[@]}"
    echo
    printf '| workload | threads | bare CPU | bare wall |'
    for tool in $TOOLS; do printf ' %s (CPU / wall) |' "$tool"; done
    echo
    printf '|---|---|---|---|'
    for tool in $TOOLS; do printf -- '---|'; done
    echo
    for row in "${wl_rows[@]}"; do
        read -r w t <<<"$row"
        key="$w.$t"
        printf '| %s | %s |' "$(label "$w")" "$t"
        if [ -s "$tmp/$key.bare.cpu" ]; then
            printf ' %.3f s | %.3f s |' "$(median <"$tmp/$key.bare.cpu")" "$(median <"$tmp/$key.bare.wall")"
        else
            printf ' - | - |'
        fi
        for tool in $TOOLS; do printf ' %s |' "$(cell "$key" "$tool")"; done
        echo
    done
    echo
    echo '| snapshot | live blocks | median | min | max | agent bytes per live block | busy cores |'
    echo '|---|---|---|---|---|---|---|'
    for s in "${snap_rows[@]}"; do
        out=${s#*|}
        if [ -z "$(field median_ms "$out")" ]; then
            echo "| ${s%%|*} | - | - | - | - | - | - |"
            continue
        fi
        echo "| ${s%%|*} | $(field live_blocks "$out") | $(field median_ms "$out") ms | $(field min_ms "$out") ms | $(field max_ms "$out") ms | $(field bytes_per_block "$out") | $(field busy_cores "$out") |"
    done
    echo
    echo '| goal | measured | |'
    echo '|---|---|---|'
    for g in "${goals[@]}"; do
        IFS='|' read -r text fig verdict <<<"$g"
        echo "| $text | $fig | $verdict |"
    done
    if [ ${#notes[@]} -gt 0 ]; then
        echo
        printf -- '- not measured: %s\n' "${notes[@]}"
    fi
}

print_text
if [ -n "$BENCH_MD" ]; then
    print_md >"$BENCH_MD"
    echo
    echo "Markdown tables: $BENCH_MD"
fi
if [ -n "$BENCH_DOC" ]; then
    # Between the marker lines of the document, the Markdown tables of this run.
    print_md >"$tmp/tables.md"
    if ! grep -qx "$mark_begin" "$BENCH_DOC" || ! grep -qx "$mark_end" "$BENCH_DOC"; then
        echo "bench: BENCH_DOC: $BENCH_DOC has no lines '$mark_begin' and '$mark_end' to write between" >&2
        exit 2
    fi
    awk -v tables="$tmp/tables.md" -v b="$mark_begin" -v e="$mark_end" '
        $0 == b { print; while ((getline l < tables) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }
    ' "$BENCH_DOC" >"$tmp/doc.md"
    cp "$tmp/doc.md" "$BENCH_DOC"
    echo "tables written into $BENCH_DOC"
fi
