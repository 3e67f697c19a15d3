#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/action-run.sh - the "Run leakcheck" step of the GitHub Action (ci/action.yml).
#
# Runs the scenarios (or merges shard reports) with ci/leakcheck-ci.sh, then does what only
# GitHub has: the job summary ($GITHUB_STEP_SUMMARY), annotations on the culprit lines
# (workflow commands on stdout), and the step outputs ($GITHUB_OUTPUT). Inputs arrive as
# environment variables set by the action's `env:` (never spliced into the script):
# LEAKCHECK_SCENARIOS, LEAKCHECK_ARGS, LEAKCHECK_REPORT_DIR, LEAKCHECK_THRESHOLD,
# LEAKCHECK_FAIL_ON_LEAK, LEAKCHECK_MERGE, LEAKCHECK_ARTIFACT_NAME (see leakcheck-ci.sh).
#
# Exit status: leakcheck-ci.sh's: non-zero fails the step, and so the build, with the reason
# in the annotations and the summary.
set -uo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${LEAKCHECK_BIN:-$ci_dir/../build/debug/leakcheck}
if [ -z "${LEAKCHECK_BIN:-}" ] && [ -n "${LEAKCHECK_VERSION:-}" ]; then
    bin=/usr/bin/leakcheck # the released package (the action's `version:`)
fi
report_dir=${LEAKCHECK_REPORT_DIR:-leakcheck-reports}
export LEAKCHECK_REPORT_DIR=$report_dir
report=$report_dir/report.json
out=${GITHUB_OUTPUT:-/dev/null}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}
max_summary=$((1000 * 1024)) # GitHub refuses a step summary over 1 MiB

# The artifact name must be unique in the workflow run: the job, the shard, and a digest of
# what distinguishes matrix jobs that share a job id.
artifact_name() {
    local name=${LEAKCHECK_ARTIFACT_NAME:-} shard=${LEAKCHECK_SHARD:-} digest
    if [ -n "$name" ]; then
        printf '%s\n' "$name"
        return
    fi
    if [ -z "$shard" ]; then
        shard=$(printf '%s\n' "${LEAKCHECK_ARGS:-}" | sed -n 's/.*--shard[= ]\([0-9]*\/[0-9]*\).*/\1/p')
    fi
    digest=$(printf '%s\n' "${GITHUB_JOB:-}" "${LEAKCHECK_SCENARIOS:-}" "${LEAKCHECK_ARGS:-}" \
        "${LEAKCHECK_THRESHOLD:-}" "${LEAKCHECK_MERGE:-}" "$report_dir" "${RUNNER_OS:-}" \
        "${RUNNER_ARCH:-}" "${RUNNER_NAME:-}" | sha256sum | cut -c1-8)
    name="leakcheck-${GITHUB_JOB:-job}${shard:+-shard-${shard/\//-of-}}-$digest"
    # Artifact names may not hold " : < > | * ? \ / or control characters.
    printf '%s\n' "$name" | tr -c 'A-Za-z0-9._\n-' '_'
}

# The run prints names from scenario files and targets; a line of theirs that starts with "::"
# must not become a workflow command, so commands are off until the run is over.
stop_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "::stop-commands::$stop_token"
bash "$ci_dir/leakcheck-ci.sh" run
rc=$?
echo "::$stop_token::"

{
    printf 'report-dir=%s\n' "$report_dir"
    printf 'artifact-name=%s\n' "$(artifact_name)"
} >>"$out"

if [ ! -f "$report" ]; then
    echo "::error title=leakcheck::the run wrote no report (exit status $rc); the log above says why"
    {
        echo "## leakcheck: no report"
        echo
        echo "The run ended with exit status $rc before writing $report; the job log says why."
    } >>"$summary"
    printf 'verdict=error\npassed=false\n' >>"$out"
    [ $rc -ne 0 ] || rc=3
    exit $rc
fi

{
    printf 'report-json=%s\n' "$report"
    printf 'junit-xml=%s\n' "$report_dir/junit.xml"
    printf 'summary-md=%s\n' "$report_dir/summary.md"
    printf 'index-html=%s\n' "$report_dir/index.html"
    "$bin" report outputs "$report"
} >>"$out"

if [ -f "$report_dir/summary.md" ]; then
    size=$(stat -c %s "$report_dir/summary.md")
    if [ "$size" -le "$max_summary" ]; then
        cat "$report_dir/summary.md" >>"$summary"
    else
        {
            head -c "$max_summary" "$report_dir/summary.md" | sed '$d'
            echo
            echo "(summary cut at 1000 KiB; the whole of it is summary.md in the reports artifact)"
        } >>"$summary"
    fi
fi

level=error
if [ "${LEAKCHECK_FAIL_ON_LEAK:-true}" = false ]; then
    level=warning
fi
"$bin" report annotations --level "$level" --root "${GITHUB_WORKSPACE:-$PWD}" "$report"
exit $rc
