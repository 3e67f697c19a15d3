#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ci/leakcheck-ci.sh - leakcheck in any CI (GitLab, Jenkins, Buildkite, a shell): install the
# packages, build leakcheck, run the scenarios (or merge shard reports), print the verdict, and
# publish the per-commit history. The GitHub Action (ci/action.yml) runs the same phases.
#
#   ci/leakcheck-ci.sh [PHASE] [SCENARIO-OR-GLOB...]
#
# PHASE is one of: all (default: deps, build, run, publish), deps, build, run, publish.
# Settings come from the environment (CI systems set variables more easily than arguments):
#
#   LEAKCHECK_SCENARIOS     scenario files or globs, separated by spaces or newlines
#                           (also the arguments after PHASE); default scenarios/*.json
#   LEAKCHECK_ARGS          extra arguments for `leakcheck run`, split on white space (no
#                           quoting, no expansion), e.g. "--rounds 30 --warmup 5"
#   LEAKCHECK_SHARD         I/N: run shard I of N; "auto" takes GitLab's CI_NODE_INDEX and
#                           CI_NODE_TOTAL (parallel: N)
#   LEAKCHECK_MERGE         shard reports (files or globs) to merge instead of running
#   LEAKCHECK_REPORT_DIR    where the reports go (default leakcheck-reports)
#   LEAKCHECK_THRESHOLD     threshold override in bytes per round
#   LEAKCHECK_FAIL_ON_LEAK  true (default): an unexpected leak fails the job; false: only warns
#   LEAKCHECK_INSTALL_DEPS  true (default): run ci/install-deps.sh --runtime --build (with sudo
#                           when not root): the libraries, a compiler and the -dev packages,
#                           nothing that only leakcheck's own tests need
#   LEAKCHECK_VERSION       a released version (e.g. 0.1.0): the deps phase installs its Debian
#                           package with apt-get (runtime libraries only, no build) and the
#                           installed /usr/bin/leakcheck is used
#   LEAKCHECK_PACKAGE       the .deb to install for LEAKCHECK_VERSION: a path or an https URL
#                           (default: the release asset leakcheck_VERSION_ARCH.deb of
#                           LEAKCHECK_REPOSITORY, default OWNER/leakcheck, on GitHub)
#   LEAKCHECK_BIN           an installed leakcheck to use instead of building one
#   LEAKCHECK_HISTORY_BRANCH  branch that keeps the history and dashboard, or "off" (default
#                           off here; the publish phase needs it)
#   LEAKCHECK_HISTORY_REMOTE  git URL or path of the history repository (default: the
#                           checkout's "origin")
#   LEAKCHECK_HISTORY_DIR   folder on that branch (default leakcheck)
#   LEAKCHECK_HISTORY_TOKEN token sent as HTTP basic auth when pushing over https (optional),
#                           with user LEAKCHECK_HISTORY_USER (default x-access-token)
#   LEAKCHECK_COMMIT        the commit recorded (default: $GITHUB_SHA, else git HEAD)
#
# Exit status: leakcheck's own: 0 every scenario met its expectation, 1 an unexpected leak or
# verdict (0 with LEAKCHECK_FAIL_ON_LEAK=false), 2 usage or input error, 3 the run failed
# (target crashed, hung, not found). A failed history push is reported and exits 4.
set -uo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$ci_dir/.." && pwd)

say() { printf 'leakcheck-ci: %s\n' "$*" >&2; }

# Splits $1 on white space into the array named $2, without globbing or expansion.
split_words() {
    local -n out_=$2
    local IFS=$' \t\n'
    set -f
    # shellcheck disable=SC2206,SC2034
    out_=($1)
    set +f
}

# Expands each word of $1 as a glob (pathname expansion only) into the array named $2.
# A pattern that matches nothing is kept as is, so leakcheck names the missing file.
expand_globs() {
    local -n res_=$2
    local words=() w m
    split_words "$1" words
    res_=()
    shopt -s nullglob globstar
    for w in "${words[@]}"; do
        local IFS=
        # shellcheck disable=SC2206
        m=($w)
        if [ ${#m[@]} -eq 0 ]; then
            res_+=("$w")
        else
            res_+=("${m[@]}")
        fi
    done
    shopt -u nullglob globstar
}

# Finds the leakcheck binary: $LEAKCHECK_BIN, the packaged one with $LEAKCHECK_VERSION, else
# the one this checkout builds.
leakcheck_bin() {
    if [ -n "${LEAKCHECK_BIN:-}" ]; then
        printf '%s\n' "$LEAKCHECK_BIN"
    elif [ -n "${LEAKCHECK_VERSION:-}" ]; then
        printf '%s\n' /usr/bin/leakcheck
    else
        printf '%s\n' "$root/build/debug/leakcheck"
    fi
}

# Runs "$@" as root: directly, or with sudo (GitHub's ubuntu-latest runners).
as_root() {
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        "$@"
    fi
}

# Installs the released package of $LEAKCHECK_VERSION: apt-get resolves its Depends (the
# runtime set), so nothing is built and no -dev package is installed.
install_package() {
    local version=$LEAKCHECK_VERSION pkg=${LEAKCHECK_PACKAGE:-} arch tmp rc
    if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([.~+-][0-9A-Za-z.~+-]*)?$ ]]; then
        say "LEAKCHECK_VERSION='$version' is not a version such as 0.1.0"
        return 2
    fi
    arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
    if [ -z "$pkg" ]; then
        pkg="https://github.com/${LEAKCHECK_REPOSITORY:-OWNER/leakcheck}/releases/download/v$version/leakcheck_${version}_$arch.deb"
    fi
    tmp=$(mktemp -d) || return 3
    case $pkg in
    https://* | http://*)
        say "downloading $pkg"
        if ! curl -fsSL --retry 3 -o "$tmp/leakcheck.deb" "$pkg"; then
            say "could not download $pkg; check LEAKCHECK_VERSION (a released version) or set LEAKCHECK_PACKAGE"
            rm -rf "$tmp"
            return 3
        fi
        ;;
    *)
        if [ ! -f "$pkg" ]; then
            say "LEAKCHECK_PACKAGE=$pkg is not a file"
            rm -rf "$tmp"
            return 2
        fi
        cp "$pkg" "$tmp/leakcheck.deb" || return 3
        ;;
    esac
    chmod 755 "$tmp" && chmod 644 "$tmp/leakcheck.deb"
    say "installing leakcheck $version from its Debian package"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "$tmp/leakcheck.deb" >/dev/null
    rc=$?
    rm -rf "$tmp"
    if [ $rc -ne 0 ]; then
        say "apt-get could not install the leakcheck package (exit $rc)"
        return 3
    fi
    /usr/bin/leakcheck --version >&2
}

phase_deps() {
    if [ -n "${LEAKCHECK_VERSION:-}" ]; then
        install_package
        return
    fi
    if [ "${LEAKCHECK_INSTALL_DEPS:-true}" != true ]; then
        return 0
    fi
    as_root bash "$ci_dir/install-deps.sh" --runtime --build
}

phase_build() {
    if [ -n "${LEAKCHECK_BIN:-}" ]; then
        if [ ! -x "$LEAKCHECK_BIN" ]; then
            say "LEAKCHECK_BIN=$LEAKCHECK_BIN is not an executable file"
            return 2
        fi
        return 0
    fi
    if [ -n "${LEAKCHECK_VERSION:-}" ]; then
        return 0 # the package is installed by the deps phase
    fi
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    say "building leakcheck in $root/build/debug"
    make -C "$root" --no-print-directory -j"$jobs" build/debug/leakcheck \
        build/debug/libleakcheck-agent.so
}

# Reads `leakcheck report outputs` of report $1 into the global associative array OUT.
declare -A OUT=()
read_outputs() {
    local line
    OUT=()
    while IFS= read -r line; do
        OUT["${line%%=*}"]=${line#*=}
    done < <("$(leakcheck_bin)" report outputs "$1")
}

phase_run() {
    local bin report_dir args=() scenarios=() shard rc
    bin=$(leakcheck_bin)
    report_dir=${LEAKCHECK_REPORT_DIR:-leakcheck-reports}
    if [ ! -x "$bin" ]; then
        say "$bin not found; run the build phase first, or set LEAKCHECK_BIN"
        return 3
    fi
    mkdir -p "$report_dir" || return 2
    if [ -n "${LEAKCHECK_MERGE:-}" ]; then
        local reports=()
        expand_globs "$LEAKCHECK_MERGE" reports
        say "merging ${#reports[@]} shard reports into $report_dir"
        "$bin" merge --out "$report_dir" "${reports[@]}"
        rc=$?
        if [ $rc -ne 0 ]; then
            return $rc
        fi
        read_outputs "$report_dir/report.json"
        [ "${OUT[passed]:-false}" = true ] || rc=1
    else
        split_words "${LEAKCHECK_ARGS:-}" args
        if [ -n "${LEAKCHECK_THRESHOLD:-}" ]; then
            args+=(--threshold "$LEAKCHECK_THRESHOLD")
        fi
        shard=${LEAKCHECK_SHARD:-}
        if [ "$shard" = auto ]; then
            shard=
            if [ -n "${CI_NODE_INDEX:-}" ] && [ -n "${CI_NODE_TOTAL:-}" ]; then
                shard="$CI_NODE_INDEX/$CI_NODE_TOTAL"
            fi
        fi
        if [ -n "$shard" ]; then
            args+=(--shard "$shard")
        fi
        expand_globs "${LEAKCHECK_SCENARIOS:-scenarios/*.json}" scenarios
        if [ ${#scenarios[@]} -eq 0 ]; then
            say "no scenario files given; set LEAKCHECK_SCENARIOS or pass them as arguments"
            return 2
        fi
        "$bin" run --report-dir "$report_dir" "${args[@]}" "${scenarios[@]}"
        rc=$?
    fi
    if [ -f "$report_dir/report.json" ]; then
        read_outputs "$report_dir/report.json"
        say "verdict: ${OUT[verdict]:-?} (${OUT[failed]:-?} of ${OUT[scenarios]:-?} scenarios failed)"
        if [ -n "${OUT[reason]:-}" ]; then
            say "why: ${OUT[reason]}"
        fi
        if [ -n "${OUT[culprit]:-}" ]; then
            say "top culprit: ${OUT[culprit]}"
        fi
        say "reports: $report_dir/ (report.json, junit.xml, summary.md, index.html)"
    fi
    if [ $rc -eq 1 ] && [ "${LEAKCHECK_FAIL_ON_LEAK:-true}" = false ]; then
        say "LEAKCHECK_FAIL_ON_LEAK=false: not failing the job"
        rc=0
    fi
    return $rc
}

phase_publish() {
    local branch=${LEAKCHECK_HISTORY_BRANCH:-off}
    local report_dir=${LEAKCHECK_REPORT_DIR:-leakcheck-reports}
    local remote=${LEAKCHECK_HISTORY_REMOTE:-}
    if [ "$branch" = off ] || [ -z "$branch" ]; then
        return 0
    fi
    if [ ! -f "$report_dir/report.json" ]; then
        say "no $report_dir/report.json to publish"
        return 4
    fi
    if [ -z "$remote" ]; then
        remote=$(git remote get-url origin 2>/dev/null) || {
            say "no history remote: set LEAKCHECK_HISTORY_REMOTE"
            return 4
        }
    fi
    LEAKCHECK_BIN=$(leakcheck_bin) bash "$ci_dir/history-publish.sh" \
        --remote "$remote" --branch "$branch" --dir "${LEAKCHECK_HISTORY_DIR:-leakcheck}" \
        --report "$report_dir/report.json" || return 4
}

main() {
    local phase=all rc=0
    case "${1:-}" in
    all | deps | build | run | publish)
        phase=$1
        shift
        ;;
    -h | --help)
        sed -n '3,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        return 0
        ;;
    esac
    if [ $# -gt 0 ]; then
        LEAKCHECK_SCENARIOS="$*"
    fi
    case $phase in
    deps) phase_deps ;;
    build) phase_build ;;
    run) phase_run ;;
    publish) phase_publish ;;
    all)
        phase_deps || return $?
        phase_build || return $?
        phase_run
        rc=$?
        # A broken run (2, 3) has nothing worth recording; a leak is exactly what the
        # per-commit graph is for.
        if [ $rc -le 1 ]; then
            phase_publish || { [ $rc -ne 0 ] || rc=4; }
        fi
        return $rc
        ;;
    esac
}

main "$@"
