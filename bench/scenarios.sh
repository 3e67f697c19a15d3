#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/scenarios.sh - wall time of one round of each shipped scenario, with and without the agent.
#
#   bench/scenarios.sh [BUILD_DIR] [ROUNDS]      (`make bench-scenarios`; defaults build/debug, 10)
#
# For each scenario service and mode, the same round of work (the one its scenario file sends)
# is timed against the program started normally and against the program started under
# `leakcheck exec`, which preloads the agent with a live control channel, so every allocation is
# tracked with its full stack exactly as during `leakcheck run` (the snapshots a run takes
# between rounds are not part of a round). The client is the same in both cases: curl for the
# HTTP services (same request count and concurrency as the scenario), a bash coprocess writing
# lines and reading the replies for the stdio programs. The median round time of ROUNDS rounds
# (after one warm-up round) is reported; the table goes to stdout and, under a "Scenarios"
# heading, replaces that section of docs/PERFORMANCE.md (other sections are left as they are).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${1:-build/debug}
rounds=${2:-20}
leakcheck="$build/leakcheck"
scn="$build/scenarios"
doc=docs/PERFORMANCE.md

for f in "$leakcheck" "$scn/uploads" "$scn/inserts" "$scn/pool" "$scn/cache"; do
    if [ ! -x "$f" ]; then
        echo "bench-scenarios: $f not found; run 'make build' first" >&2
        exit 2
    fi
done
command -v curl >/dev/null || {
    echo "bench-scenarios: curl not found (ci/install-deps.sh installs it)" >&2
    exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/leakcheck-bench.XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# Median of the numbers on stdin (one per line), printed with one decimal.
median() { sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.1f", m}'; }

# A TCP port on 127.0.0.1 that nothing listens on, below the ephemeral range.
free_port() {
    local p
    for p in $(shuf -i 20000-32000 -n 50); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "bench-scenarios: no free port found" >&2
    exit 3
}

# Starts an HTTP service (argv after the first argument, which is "agent" or "plain") and waits
# for /healthz. Sets server_pid.
start_http() {
    local how=$1 port=$2
    shift 2
    if [ "$how" = agent ]; then
        "$leakcheck" --quiet exec -- "$@" >"$work/server.log" 2>&1 &
    else
        "$@" >"$work/server.log" 2>&1 &
    fi
    server_pid=$!
    for _ in $(seq 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
            return
        fi
        sleep 0.1
    done
    echo "bench-scenarios: service on port $port did not start:" >&2
    cat "$work/server.log" >&2
    exit 3
}

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# Times rounds of an HTTP scenario. $1 agent|plain, $2 program, $3 mode. Prints one round time
# in ms per line; a failed request stops the benchmark.
time_http() {
    local how=$1 prog=$2 mode=$3 port r n t0 t1 ok=1
    port=$(free_port)
    local extra=() args=()
    if [ "$prog" = cache ] && [ "$mode" = fixed ]; then
        extra=(--max-entries 32)
    fi
    start_http "$how" "$port" "$scn/$prog" --port "$port" --mode "$mode" "${extra[@]}"
    : >"$work/times"
    for r in $(seq 0 "$rounds"); do
        args=()
        if [ "$prog" = uploads ]; then
            for n in $(seq 0 19); do
                args+=(-o /dev/null -F "file=@$work/upload.bin" -H 'X-Upload-Bytes: 262144'
                    "http://127.0.0.1:$port/upload?n=$n" --next)
            done
        else
            for n in $(seq 0 24); do
                args+=(-o /dev/null "http://127.0.0.1:$port/api/items?q=user-$r-$n" --next)
            done
        fi
        unset 'args[${#args[@]}-1]'
        t0=$(now_ns)
        if ! curl -fsS --no-progress-meter -Z --parallel-max 4 "${args[@]}"; then
            ok=0
            break
        fi
        t1=$(now_ns)
        if [ "$r" -gt 0 ]; then
            echo $(((t1 - t0) / 1000)) >>"$work/times"
        fi
    done
    stop_server
    if [ "$ok" = 0 ]; then
        echo "bench-scenarios: $prog --mode $mode: a request failed" >&2
        exit 3
    fi
    awk '{printf "%.3f\n", $1 / 1000}' "$work/times"
}

# The request lines of round $2 for stdio program $1, one per line.
stdio_round() {
    local prog=$1 r=$2 i k rows
    if [ "$prog" = inserts ]; then
        for i in $(seq 0 39); do
            rows=
            for k in 0 1 2 3 4 5 6 7; do
                rows="$rows${rows:+;}sku-$r-$i-$k,$((k + 1)),$((199 + 100 * k))"
            done
            echo "batch b$r-$i $rows"
        done
    else
        for i in $(seq 0 19); do
            case $((i % 5)) in
            0) echo "GET /post/$r$i" ;;
            1) echo "GET /tag/c$i" ;;
            2) echo "GET /archive/2015/$r" ;;
            3) echo "GET /page/$i" ;;
            4) echo "GET /feed" ;;
            esac
        done
    fi
}

# Times rounds of a stdio scenario: writes a round's lines to the program and reads as many
# reply lines. $1 agent|plain, $2 program, $3 mode. Prints one round time in ms per line.
time_stdio() {
    local how=$1 prog=$2 mode=$3 r n k line t0 t1
    if [ "$how" = agent ]; then
        coproc SVC { exec "$leakcheck" --quiet exec -- "$scn/$prog" --mode "$mode" 2>"$work/svc.err"; }
    else
        coproc SVC { exec "$scn/$prog" --mode "$mode" 2>"$work/svc.err"; }
    fi
    local in=${SVC[1]} out=${SVC[0]} pid=$SVC_PID
    while read -r line <&"$out"; do
        if [[ $line == ready* ]]; then
            break
        fi
    done
    : >"$work/times"
    for r in $(seq 0 "$rounds"); do
        stdio_round "$prog" "$r" >"$work/round.txt"
        n=$(wc -l <"$work/round.txt")
        t0=$(now_ns)
        cat "$work/round.txt" >&"$in"
        for ((k = 0; k < n; k++)); do
            if ! read -r line <&"$out"; then
                echo "bench-scenarios: $prog --mode $mode stopped answering:" >&2
                cat "$work/svc.err" >&2
                exit 3
            fi
        done
        t1=$(now_ns)
        if [ "$r" -gt 0 ]; then
            echo $(((t1 - t0) / 1000)) >>"$work/times"
        fi
    done
    exec {in}>&-
    wait "$pid" 2>/dev/null || true
    awk '{printf "%.3f\n", $1 / 1000}' "$work/times"
}

head -c 262144 /dev/urandom >"$work/upload.bin"

rows=()
measure() {
    local name=$1 kind=$2 prog=$3 mode=$4 plain agent
    if [ "$kind" = stdio ]; then
        plain=$(time_stdio plain "$prog" "$mode" | median)
        agent=$(time_stdio agent "$prog" "$mode" | median)
    else
        plain=$(time_http plain "$prog" "$mode" | median)
        agent=$(time_http agent "$prog" "$mode" | median)
    fi
    local ratio
    ratio=$(awk -v a="$agent" -v p="$plain" 'BEGIN { printf "%.2f", (p > 0 ? a / p : 0) }')
    printf '%-16s %10s ms %10s ms %7sx\n' "$name" "$plain" "$agent" "$ratio"
    rows+=("| $name | $plain | $agent | ${ratio}x |")
}

printf '%-16s %13s %13s %8s\n' scenario "without agent" "with agent" slowdown
measure uploads-leaky http uploads leaky
measure uploads-fixed http uploads fixed
measure uploads-plateau http uploads plateau
measure inserts-leaky stdio inserts leaky
measure inserts-fixed stdio inserts fixed
measure pool-leaky stdio pool leaky
measure pool-fixed stdio pool fixed
measure cache-leaky http cache leaky
measure cache-fixed http cache fixed

# Replace (or append) the "## Scenarios" section of docs/PERFORMANCE.md.
section="$work/section.md"
{
    echo "## Scenarios"
    echo
    echo "Wall time of one round of each shipped scenario (the work its scenario file sends in a"
    echo "round), median of $rounds rounds after one warm-up round, against the program started"
    echo "normally and under \`leakcheck exec\` (agent preloaded and tracking every allocation with"
    echo "its stack; the snapshots taken between rounds are not included). Same client both times:"
    echo "curl for the HTTP services, a shell coprocess for the stdio programs. Measured with"
    echo "\`make bench-scenarios\` (\`bench/scenarios.sh\`) on $(nproc) cores, $(date -u +%Y-%m-%d)."
    echo
    echo "| scenario | without agent (ms) | with agent (ms) | slowdown |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
}>"$section"
mkdir -p docs
touch "$doc"
awk -v sect="$section" '
    BEGIN { skipping = 0; done = 0 }
    /^## Scenarios[[:space:]]*$/ { while ((getline l < sect) > 0) print l; skipping = 1; done = 1; next }
    skipping && /^## / { skipping = 0 }
    !skipping { print }
    END { if (!done) { print ""; while ((getline l < sect) > 0) print l } }
' "$doc" >"$work/perf.md"
cp "$work/perf.md" "$doc"
echo "bench-scenarios: results written to $doc (section \"Scenarios\")"
