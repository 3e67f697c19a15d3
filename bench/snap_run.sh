#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/snap_run.sh BUILD_DIR - snapshot time, the memory a snapshot maps while it runs, and
# whether threads that allocate meanwhile are held up: bench/snap_bench.c under the agent's
# in-process entry point at 1e5 and 1e6 live blocks, then 1e6 with 64 threads churning.
# Env: SNAPSHOTS (default 5 per configuration), THREADS (default 64).
set -euo pipefail
B=${1:-build/debug}
SNAPSHOTS=${SNAPSHOTS:-5}
THREADS=${THREADS:-64}
agent="$(cd "$(dirname "$B/libleakcheck-agent.so")" && pwd)/libleakcheck-agent.so"
bench="$B/bench/snap_bench"
[ -x "$bench" ] || { echo "snap_run.sh: $bench not built (make build)" >&2; exit 2; }
[ -f "$agent" ] || { echo "snap_run.sh: $agent not built (make build)" >&2; exit 2; }

echo "leakcheck bench: snapshots through the in-process entry point, $SNAPSHOTS per line;"
echo "$(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for cfg in "100000 0" "1000000 0" "1000000 $THREADS"; do
    # The agent strips its variables at start-up: set them on the program itself.
    # shellcheck disable=SC2086
    env LEAKCHECK_INPROC=1 LD_PRELOAD="$agent" "$bench" $cfg "$SNAPSHOTS"
done
