#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/history-publish.sh - append a leakcheck report to the per-commit history kept on a git
# branch, redraw the dashboard beside it, and push (the way github-action-benchmark keeps its
# data on gh-pages).
#
#   ci/history-publish.sh --remote URL --branch BRANCH --report REPORT.json [--dir DIR]
#                         [--commit SHA] [--message MSG] [--max-commits N] [--tries N]
#
# The branch holds DIR/history.jsonl (one record per commit and scenario, the last N commits)
# and DIR/index.html (self-contained dashboard: growth per round across commits). DIR defaults
# to "leakcheck"; the branch is created, with nothing else on it, if it does not exist yet.
# Each try clones the branch afresh into a temporary folder (shallow), so a push that loses a
# race against another job is simply redone on top of the new tip.
#
# Environment: LEAKCHECK_BIN (default: the leakcheck built beside this script),
# LEAKCHECK_HISTORY_TOKEN (sent as HTTP basic auth, never in a URL or an argument) with user
# LEAKCHECK_HISTORY_USER (default x-access-token, as GitHub expects), LEAKCHECK_GIT_NAME / LEAKCHECK_GIT_EMAIL (committer, default "leakcheck").
# Exit status: 0 pushed (or already up to date), 1 failed (the reason is printed), 2 usage.
set -uo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${LEAKCHECK_BIN:-$ci_dir/../build/debug/leakcheck}

say() { printf 'history-publish: %s\n' "$*" >&2; }
usage() {
    say "$1; try '$0 --help'"
    exit 2
}

remote='' branch='' report='' dir=leakcheck commit='' message='' max_commits='' tries=3
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help)
        sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    --remote | --branch | --report | --dir | --commit | --message | --max-commits | --tries)
        [ $# -ge 2 ] || usage "$1 needs a value"
        opt=${1#--}
        opt=${opt//-/_}
        printf -v "$opt" '%s' "$2"
        shift 2
        ;;
    *) usage "unknown argument '$1'" ;;
    esac
done
[ -n "$remote" ] || usage "missing --remote URL"
[ -n "$branch" ] || usage "missing --branch BRANCH"
[ -n "$report" ] || usage "missing --report REPORT.json"
if ! git check-ref-format --branch "$branch" >/dev/null 2>&1; then
    usage "--branch: '$branch' is not a valid branch name"
fi
case $dir in
/* | .. | ../* | */../* | */..) usage "--dir must be a folder inside the branch, not '$dir'" ;;
esac
case $tries in
'' | *[!0-9]*) usage "--tries needs a whole number, not '$tries'" ;;
esac
[ -f "$report" ] || usage "--report: '$report' does not exist"
[ -x "$bin" ] || {
    say "$bin not found; build leakcheck first or set LEAKCHECK_BIN"
    exit 1
}
report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
# A local path remote (a bare repository) is used from inside the temporary clone.
if [ -d "$remote" ]; then
    remote=$(cd "$remote" && pwd)
fi

export GIT_TERMINAL_PROMPT=0
if [ -n "${LEAKCHECK_HISTORY_TOKEN:-}" ]; then
    # Passed through git's environment configuration: not in argv, not in a file.
    auth=$(printf '%s:%s' "${LEAKCHECK_HISTORY_USER:-x-access-token}" "$LEAKCHECK_HISTORY_TOKEN" |
        base64 | tr -d '\n')
    export GIT_CONFIG_COUNT=1
    export GIT_CONFIG_KEY_0=http.extraheader
    export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/leakcheck-history.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

add_args=(--file "$dir/history.jsonl" --report "$report")
[ -z "$commit" ] || add_args+=(--commit "$commit")
[ -z "$message" ] || add_args+=(--message "$message")
[ -z "$max_commits" ] || add_args+=(--max-commits "$max_commits")

# One attempt: fresh clone of the branch tip, add, render, commit, push. Returns 0 pushed or
# nothing to do, 1 a failure worth retrying (push rejected), 2 a failure that is not.
attempt() {
    local repo=$work/repo.$1 rc
    git init -q "$repo" || return 2
    cd "$repo" || return 2
    git remote add origin "$remote" || return 2
    git symbolic-ref HEAD "refs/heads/$branch"
    git config user.name "${LEAKCHECK_GIT_NAME:-leakcheck}"
    git config user.email "${LEAKCHECK_GIT_EMAIL:-leakcheck@localhost}"
    git ls-remote --exit-code --heads origin "refs/heads/$branch" >/dev/null 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        git fetch -q --depth 1 origin "refs/heads/$branch" || return 1
        git reset -q --hard FETCH_HEAD || return 2
    elif [ $rc -eq 2 ]; then
        say "branch '$branch' does not exist yet; creating it"
    else
        say "cannot reach the history remote (git ls-remote exit status $rc); check the URL" \
            "and that the token may read and write the repository"
        return 2
    fi
    mkdir -p "$dir" || return 2
    "$bin" history add "${add_args[@]}" || return 2
    "$bin" history render --file "$dir/history.jsonl" --out "$dir" || return 2
    git add -- "$dir/history.jsonl" "$dir/index.html" || return 2
    if git rev-parse -q --verify HEAD >/dev/null && git diff --cached --quiet; then
        say "history on '$branch' already holds this report"
        return 0
    fi
    local sha
    sha=$commit
    if [ -z "$sha" ]; then
        sha=$("$bin" report outputs "$report" | sed -n 's/^commit=//p')
    fi
    sha=${sha:0:12}
    git commit -q -m "leakcheck: history ${sha:+for $sha}" || return 2
    if git push -q origin "HEAD:refs/heads/$branch"; then
        say "pushed $dir/history.jsonl and $dir/index.html to '$branch'"
        return 0
    fi
    say "push to '$branch' was refused (another job may have pushed first); trying again"
    return 1
}

for ((i = 1; i <= tries; i++)); do
    (attempt "$i")
    rc=$?
    [ $rc -eq 0 ] && exit 0
    [ $rc -eq 2 ] && exit 1
    [ $i -lt "$tries" ] && sleep "$i"
done
say "gave up after $tries tries; the history was not updated"
exit 1
