#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/check-agent.sh AGENT.so - the agent exports exactly the allocator family (agent/agent.map)
# and imports nothing from stdio or the printf family (agent rules, STYLE.md).
set -euo pipefail
so=${1:?usage: check-agent.sh AGENT.so}
want=$(sed -n 's/^ *\([a-z_0-9]*\);$/\1/p' agent/agent.map | sort)
have=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort)
status=0
if [ "$want" != "$have" ]; then
    echo "check-agent: $so exports differ from agent/agent.map:" >&2
    diff <(echo "$want") <(echo "$have") >&2 || true
    status=1
fi
banned='^(printf|fprintf|vfprintf|sprintf|snprintf|vsnprintf|puts|fputs|fwrite|fopen|fclose|fflush|perror|malloc|calloc|realloc|free|getenv|abort|exit|_exit|raise)(@.*)?$'
bad=$(nm -D --undefined-only "$so" | awk '{print $2}' | grep -E "$banned" || true)
if [ -n "$bad" ]; then
    echo "check-agent: $so imports functions the agent must not call:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    status=1
fi
[ $status -eq 0 ] && echo "check-agent: ok ($(echo "$have" | wc -l) exports, no stdio, no heap imports)"
exit $status
