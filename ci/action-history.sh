#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/action-history.sh - the "Publish history" step of the GitHub Action (ci/action.yml).
#
# On a push to the repository's default branch, appends the report to the per-commit history
# on LEAKCHECK_HISTORY_BRANCH (folder LEAKCHECK_HISTORY_DIR), redraws the dashboard and pushes
# with LEAKCHECK_HISTORY_TOKEN (ci/history-publish.sh does the work). Anything else (pull
# requests, other branches, tags) leaves the history alone: only reviewed code makes the graph.
# The remote is this repository on this GitHub server unless LEAKCHECK_HISTORY_REMOTE names
# another (a separate history repository, or a local path).
set -uo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
report=${LEAKCHECK_REPORT_DIR:-leakcheck-reports}/report.json
branch=${LEAKCHECK_HISTORY_BRANCH:-off}
default=${LEAKCHECK_DEFAULT_BRANCH:-}
summary=${GITHUB_STEP_SUMMARY:-/dev/null}

if [ "$branch" = off ] || [ -z "$branch" ]; then
    exit 0
fi
if [ "${GITHUB_EVENT_NAME:-}" != push ] || [ -z "$default" ] ||
    [ "${GITHUB_REF:-}" != "refs/heads/$default" ]; then
    echo "leakcheck: ${GITHUB_EVENT_NAME:-?} to ${GITHUB_REF:-?}, not a push to the default branch" \
        "(${default:-unknown}): history not updated"
    exit 0
fi
remote=${LEAKCHECK_HISTORY_REMOTE:-${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}.git}

export LEAKCHECK_GIT_NAME=${LEAKCHECK_GIT_NAME:-github-actions[bot]}
export LEAKCHECK_GIT_EMAIL=${LEAKCHECK_GIT_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}
if bash "$ci_dir/history-publish.sh" --remote "$remote" --branch "$branch" \
    --dir "${LEAKCHECK_HISTORY_DIR:-leakcheck}" --report "$report"; then
    # shellcheck disable=SC2016
    printf '\nHistory: `%s/history.jsonl` and the dashboard `%s/index.html` on branch `%s` are up to date.\n' \
        "${LEAKCHECK_HISTORY_DIR:-leakcheck}" "${LEAKCHECK_HISTORY_DIR:-leakcheck}" "$branch" >>"$summary"
    exit 0
fi
echo "::error title=leakcheck history::could not push the history to branch '$branch'; give the job 'permissions: contents: write' or pass a token that may push"
exit 1
