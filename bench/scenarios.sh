#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/scenarios.sh - wall time of one round of each shipped scenario, with and without the agent.
#
#   bench/scenarios.sh [BUILD_DIR] [ROUNDS]      (`make bench-scenarios`; defaults build/debug, 20)
#
# For each scenario service and mode, the same round of work (the one its scenario file sends)
# is timed against the program started normally and against the program started under
# `leakcheck exec`, which preloads the agent with a live control channel, so every allocation is
# tracked with its full stack exactly as during `leakcheck run` (the snapshots a run takes
# between rounds are not part of a round). Both instances run side by side and take turns round
# by round, so a busy machine slows both alike. The client is the same for both: curl for the
# HTTP services (same request count and concurrency as the scenario), lines written to a fifo
# and replies read back for the stdio programs. The median round time of ROUNDS rounds (after one
# warm-up round) is reported; the table goes to stdout and, under a "Scenarios" heading,
# replaces that section of docs/PERFORMANCE.md (other sections are left as they are).
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
pid_plain=
pid_agent=
cleanup() {
    local p c
    for p in "$pid_agent" "$pid_plain"; do
        if [ -n "$p" ]; then
            for c in $(children_of "$p"); do
                kill "$c" 2>/dev/null || true
            done
            kill "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# The pids of the children of process $1 (empty when it has none or is gone).
children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null || true; }

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

# Starts one instance of a service in the background: $1 plain|agent, $2 program, $3 mode,
# $4 port (HTTP) or "-" (stdio). A stdio instance reads its stdin from fifo $work/$1.in and
# writes to fifo $work/$1.out, opened here as fds in_$1 / out_$1. Sets pid_$1.
start_instance() {
    local how=$1 prog=$2 mode=$3 port=$4 line
    local cmd=("$scn/$prog" --mode "$mode")
    if [ "$port" != - ]; then
        cmd+=(--port "$port")
    fi
    if [ "$prog" = cache ] && [ "$mode" = fixed ]; then
        cmd+=(--max-entries 32)
    fi
    if [ "$how" = agent ]; then
        cmd=("$leakcheck" --quiet exec -- "${cmd[@]}")
    fi
    if [ "$port" != - ]; then
        "${cmd[@]}" </dev/null >"$work/$how.log" 2>&1 &
        printf -v "pid_$how" '%s' $!
        for _ in $(seq 100); do
            if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
                return
            fi
            sleep 0.1
        done
        echo "bench-scenarios: $prog ($how) did not start on port $port:" >&2
        cat "$work/$how.log" >&2
        exit 3
    fi
    rm -f "$work/$how.in" "$work/$how.out"
    mkfifo "$work/$how.in" "$work/$how.out"
    "${cmd[@]}" <"$work/$how.in" >"$work/$how.out" 2>"$work/$how.log" &
    printf -v "pid_$how" '%s' $!
    local fd_in fd_out
    exec {fd_in}>"$work/$how.in"
    exec {fd_out}<"$work/$how.out"
    printf -v "in_$how" '%s' "$fd_in"
    printf -v "out_$how" '%s' "$fd_out"
    while read -r line <&"$fd_out"; do
        if [[ $line == ready* ]]; then
            return
        fi
    done
    echo "bench-scenarios: $prog ($how) ended before it was ready:" >&2
    cat "$work/$how.log" >&2
    exit 3
}

# Stops an instance started by start_instance: end of stdin for stdio, SIGTERM for HTTP.
stop_instance() {
    local how=$1 pid_var="pid_$1" in_var="in_$1" out_var="out_$1"
    local fd_in=${!in_var:-} fd_out=${!out_var:-}
    if [ -n "$fd_in" ]; then
        eval "exec $fd_in>&- $fd_out<&-"
        printf -v "$in_var" '%s' ""
        printf -v "$out_var" '%s' ""
    else
        # Under `leakcheck exec` the service is the child of the pid we know: stop it first.
        local child
        for child in $(children_of "${!pid_var}"); do
            kill -TERM "$child" 2>/dev/null || true
        done
        kill -TERM "${!pid_var}" 2>/dev/null || true
    fi
    wait "${!pid_var}" 2>/dev/null || true
    printf -v "$pid_var" '%s' ""
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

# Runs round $3 of program $2 against instance $1 (plain|agent) and prints its wall time in
# microseconds. $4 is the port of an HTTP instance, "-" for stdio.
one_round() {
    local how=$1 prog=$2 r=$3 port=$4 n k t0 t1 args=()
    if [ "$port" = - ]; then
        local in_var="in_$how" out_var="out_$how"
        stdio_round "$prog" "$r" >"$work/round.txt"
        n=$(wc -l <"$work/round.txt")
        t0=$(now_ns)
        cat "$work/round.txt" >&"${!in_var}"
        # The program answers exactly n lines, so head cannot read past this round's replies.
        k=$(head -n "$n" <&"${!out_var}" | wc -l)
        t1=$(now_ns)
        if [ "$k" -ne "$n" ]; then
            echo "bench-scenarios: $prog ($how) stopped answering after $k of $n replies:" >&2
            cat "$work/$how.log" >&2
            exit 3
        fi
    else
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
            echo "bench-scenarios: $prog ($how): a request failed" >&2
            exit 3
        fi
        t1=$(now_ns)
    fi
    echo $(((t1 - t0) / 1000))
}

head -c 262144 /dev/urandom >"$work/upload.bin"

# Measures one scenario: both instances run side by side and take turns, round by round (which
# one goes first alternates), so a busy machine slows both alike. Round 0 is a warm-up.
rows=()
measure() {
    local name=$1 prog=$2 mode=$3 port_plain=- port_agent=- r plain agent ratio
    if [ "$prog" = uploads ] || [ "$prog" = cache ]; then
        port_plain=$(free_port)
        port_agent=$(free_port)
        while [ "$port_agent" = "$port_plain" ]; do
            port_agent=$(free_port)
        done
    fi
    start_instance plain "$prog" "$mode" "$port_plain"
    start_instance agent "$prog" "$mode" "$port_agent"
    : >"$work/plain.times"
    : >"$work/agent.times"
    for r in $(seq 0 "$rounds"); do
        if [ $((r % 2)) = 0 ]; then
            plain=$(one_round plain "$prog" "$r" "$port_plain")
            agent=$(one_round agent "$prog" "$r" "$port_agent")
        else
            agent=$(one_round agent "$prog" "$r" "$port_agent")
            plain=$(one_round plain "$prog" "$r" "$port_plain")
        fi
        if [ "$r" -gt 0 ]; then
            echo "$plain" >>"$work/plain.times"
            echo "$agent" >>"$work/agent.times"
        fi
    done
    # The agent's instance was started second and holds copies of the plain instance's fifo
    # ends: it must end first, or the plain one never sees the end of its input.
    stop_instance agent
    stop_instance plain
    plain=$(awk '{printf "%.3f\n", $1 / 1000}' "$work/plain.times" | median)
    agent=$(awk '{printf "%.3f\n", $1 / 1000}' "$work/agent.times" | median)
    ratio=$(awk -v a="$agent" -v p="$plain" 'BEGIN { printf "%.2f", (p > 0 ? a / p : 0) }')
    printf '%-16s %10s ms %10s ms %7sx\n' "$name" "$plain" "$agent" "$ratio"
    rows+=("| $name | $plain | $agent | ${ratio}x |")
}

printf '%-16s %13s %13s %8s\n' scenario "without agent" "with agent" slowdown
measure uploads-leaky uploads leaky
measure uploads-fixed uploads fixed
measure uploads-plateau uploads plateau
measure inserts-leaky inserts leaky
measure inserts-fixed inserts fixed
measure pool-leaky pool leaky
measure pool-fixed pool fixed
measure cache-leaky cache leaky
measure cache-fixed cache fixed

# Replace (or append) the "## Scenarios" section of docs/PERFORMANCE.md.
section="$work/section.md"
{
    echo "## Scenarios"
    echo
    echo "Wall time of one round of each shipped scenario (the work its scenario file sends in a"
    echo "round), median of $rounds rounds after one warm-up round, against the program started"
    echo "normally and under \`leakcheck exec\` (agent preloaded and tracking every allocation with"
    echo "its stack; the snapshots taken between rounds are not included). Both run side by side and"
    echo "take turns round by round; same client for both: curl for the HTTP services, lines through"
    echo "a fifo for the stdio programs. Measured with"
    echo "\`make bench-scenarios\` (\`bench/scenarios.sh\`) on $(nproc) cores, $(date -u +%Y-%m-%d)."
    echo
    echo "| scenario | without agent (ms) | with agent (ms) | slowdown |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "These services spend their rounds in system calls (sockets, pipes, SQLite's file) and make"
    echo "a few allocations per request, so the agent's cost is within the round-to-round noise of a"
    echo "shared two-core machine: differences of 20% either way are noise here. The churn benchmark"
    echo "above is the agent's worst case."
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
