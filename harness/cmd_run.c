/* SPDX-License-Identifier: MIT */
/* cmd_run.c - `leakcheck run` (see cmd_run.h).
 *
 * The arguments are split at "--" first: before it, options and scenario files; after it, the
 * program of the quick form. Scenarios run one after the other, each into its own folder under
 * the report folder; a progress line (or, verbose, a per-round table) goes to stderr.
 */
#include "cmd_run.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/growth.h"
#include "../model/rpt.h"
#include "../reports/rpt_write.h"
#include "../reports/rpt_layout.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../util/strv.h"
#include "drv.h"
#include "drv_stdio.h"
#include "session.h"
#include "sig.h"
#include "tree.h"

static const char help_run[] =
    "usage: leakcheck run [options] SCENARIO.json...\n"
    "   or: leakcheck run [options] --request LINE... -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs each scenario: starts the target with the agent, drives warm-up and measured rounds,\n"
    "takes a heap snapshot after each round, and judges the growth. Reports (report.json,\n"
    "junit.xml, summary.md, pprof, SVG) go to the report folder.\n"
    "\n"
    "quick form (stdio driver: one request per line on stdin, one reply line on stdout):\n"
    "      --request LINE          a request template; several are used in turn ({round}, {i},\n"
    "                              {port} expand; {i} counts from 0 within the round)\n"
    "      --requests-file FILE    request lines, read on through the run (K per round, wrapping)\n"
    "      --requests-command CMD  run once per round (split on spaces, no shell); its stdout\n"
    "                              lines are the requests ({n} = requests per round, {round})\n"
    "      --requests-per-round K  requests per round (default 10)\n"
    "      --ready-line REGEX      wait for a stdout line matching REGEX before the first round\n"
    "      --name NAME             scenario name (default: the program's name)\n"
    "\n"
    "options (also override scenario files):\n"
    "      --rounds N              measured rounds (default 20)\n"
    "      --warmup W              warm-up rounds before them (default 3)\n"
    "      --threshold BYTES       leak threshold in bytes per round (default 128)\n"
    "      --threshold-blocks N    also a leak from N blocks per round, whatever their bytes\n"
    "      --expect leak|no-leak|any  what the scenario should find (default no-leak)\n"
    "      --suppress FUNCTION     never blame sites with FUNCTION (a glob) on their stack;\n"
    "                              'object:GLOB' matches a library or program instead\n"
    "                              (repeatable; added to a scenario file's own)\n"
    "      --round-timeout SECS    per-round timeout (default 60)\n"
    "      --report-dir DIR        where reports go (default leakcheck-reports)\n"
    "      --wrapper GLOB          a function (or object:GLOB library) never to blame: an\n"
    "                              allocation wrapper the recording did not reveal (repeatable)\n"
    "      --full-names            C++ names in full (default: template arguments elided)\n"
    "      --shard I/N             run only shard I of N of the scenario files (sorted by path)\n"
    "      --agent PATH            the agent library\n"
    "  -q, --quiet                 silent on success; errors, and the table on failure\n"
    "  -v, --verbose               also the per-round table, and each suspect's stack\n"
    "\n"
    "example:\n"
    "  leakcheck run --rounds 8 --warmup 2 --requests-per-round 50 --request 'put k{round}-{i}' "
    "\\\n"
    "      -- ./kvstore\n";

/* The scenarios of one `run`, owned. */
struct run_plan {
    struct scn **scns;
    size_t n_scns;
    char **files; /* a sortable copy of the file operands (strings borrowed from argv) */
};

/* ---------------------------------------------------------------- progress */

struct progress {
    const struct cli *cli;
    bool line_open; /* a terminal status line waits to be cleared */
};

/* Prints the header of the verbose per-round table. */
static void progress_header(const struct progress *p)
{
    if (p->cli->verbose > 0) {
        fprintf(stderr, "%-7s %-6s %12s %12s %12s %10s %10s\n", "round", "phase", "live bytes",
                "live blocks", "rss", "work (ms)", "snap (ms)");
    }
}

/* The running estimate of the heap's growth after the rounds done so far: the Theil-Sen slope
 * of the live heap over the measured rounds, as the analysis computes the scenario's figure, so
 * the last progress line states the number the table, the reason and every report give. Writes
 * "" during warm-up and after one measured round, or when out of memory. */
static void progress_heap(char *out, size_t len, const struct rpt_round *rounds, size_t n_done)
{
    size_t first = 0;
    while (first < n_done && rounds[first].warmup) {
        first++;
    }
    size_t m = n_done - first;
    out[0] = '\0';
    if (m < 2) {
        return;
    }
    double *y = malloc(m * sizeof(*y));
    if (!y) {
        return;
    }
    for (size_t k = 0; k < m; k++) {
        y[k] = (double)rounds[first + k].live_bytes;
    }
    char rate[32];
    fmt_bytes_signed(rate, sizeof(rate), growth_theil_sen(y, m));
    free(y);
    fmt_c(out, len, "  heap %s/round", rate);
}

/* session_progress_fn: a table row (verbose), a status line redrawn in place (terminal), or a
 * line every 10 rounds and at the end (log). */
static void progress_cb(void *arg, const struct scn *s, const struct rpt_round *rounds,
                        const double *snapshot_seconds, size_t n_done)
{
    struct progress *p = arg;
    if (p->cli->verbose < 0) {
        return;
    }
    if (n_done == 0) {
        progress_header(p);
        return;
    }
    size_t round_idx = n_done - 1;
    uint32_t total = s->warmup + s->rounds;
    const struct rpt_round *r = &rounds[round_idx];
    char live[32];
    fmt_bytes(live, sizeof(live), (double)r->live_bytes);
    if (p->cli->verbose > 0) {
        char rss[32];
        fmt_bytes(rss, sizeof(rss), (double)r->rss_bytes);
        char snap[32] = "-";
        if (snapshot_seconds[round_idx] >= 0) {
            fmt_c(snap, sizeof(snap), "%.1f", snapshot_seconds[round_idx] * 1000.0);
        }
        fprintf(stderr, "%-7u %-6s %12llu %12llu %12s %10.1f %10s\n", r->round,
                r->warmup ? "warmup" : "", (unsigned long long)r->live_bytes,
                (unsigned long long)r->live_blocks, rss, r->seconds * 1000.0, snap);
        fflush(stderr);
        return;
    }
    bool last = round_idx + 1 == total;
    if (!p->cli->tty && !last && (round_idx + 1) % 10 != 0) {
        return;
    }
    char heap[64];
    progress_heap(heap, sizeof(heap), rounds, n_done);
    const char *phase = r->warmup ? " (warm-up)" : "";
    if (p->cli->tty) {
        fprintf(stderr, "\r\033[K%s: round %u/%u%s  live %s%s", s->name, r->round, total, phase,
                live, heap);
        p->line_open = true;
    } else {
        fprintf(stderr, "%s: round %u/%u%s  live %s%s\n", s->name, r->round, total, phase, live,
                heap);
    }
    fflush(stderr);
}

/* Clears a terminal status line left by progress_cb(). */
static void progress_end(struct progress *p)
{
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = false;
    }
}

/* ---------------------------------------------------------------- the quick form */

/* Splits a command line on spaces (no quoting, no shell) into a NULL-terminated argv (caller
 * frees with strv_free()). NULL when out of memory. */
static char **split_words(const char *s)
{
    size_t n = 0;
    char **v = calloc(strlen(s) / 2 + 2, sizeof(*v));
    if (!v) {
        return NULL;
    }
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (!*p) {
            break;
        }
        size_t len = strcspn(p, " \t");
        v[n] = strndup(p, len);
        if (!v[n]) {
            strv_free(v);
            return NULL;
        }
        n++;
        p += len;
    }
    return v;
}

/* Sets the name and argv of the quick scenario from the program. */
static void quick_target(struct scn *s, const struct cmd_args *a, char **prog, int n_prog)
{
    const char *base = strrchr(prog[0], '/');
    free(s->name);
    s->name = strdup(a->name ? a->name : base ? base + 1 : prog[0]);
    s->argv = calloc((size_t)n_prog + 1, sizeof(*s->argv));
    for (int i = 0; s->argv && i < n_prog; i++) {
        s->argv[i] = strdup(prog[i]);
    }
}

/* Sets the stdio driver of the quick scenario. Returns CLI_CONTINUE or a usage error's code. */
static int quick_requests(struct scn *s, const struct cmd_args *a)
{
    struct drv_stdio_cfg *st = s->driver_cfg; /* scn_new()'s driver: the first row, stdio */
    if (s->driver != drv_kind_find("stdio")) {
        return cli_usage_error("run", "the quick form drives the target over stdio only");
    }
    if (a->n_requests) {
        st->requests = calloc(a->n_requests, sizeof(*st->requests));
        st->n_requests = a->n_requests;
        for (size_t i = 0; st->requests && i < a->n_requests; i++) {
            st->requests[i] = strdup(a->requests[i]);
        }
    }
    if (a->requests_file) {
        st->requests_file = strdup(a->requests_file);
    }
    if (a->requests_command) {
        st->requests_command = split_words(a->requests_command);
        if (st->requests_command && !st->requests_command[0]) {
            return cli_usage_error("run", "--requests-command: empty command");
        }
    }
    if (a->rpr > 0) {
        st->requests_per_round = (unsigned)a->rpr;
    }
    return CLI_CONTINUE;
}

/* Resolves a relative argv[0] with a slash against the current directory, as in scenario
 * files; left as it is when that fails. */
static void quick_resolve_program(struct scn *s)
{
    if (s->argv && s->argv[0] && s->argv[0][0] != '/' && strchr(s->argv[0], '/')) {
        char *abs = realpath(s->argv[0], NULL);
        if (abs) {
            free(s->argv[0]);
            s->argv[0] = abs;
        }
    }
}

int cmd_run_quick_scenario(const struct cmd_args *a, char **prog, int n_prog, struct scn **out)
{
    struct diag d = {{0}};
    struct scn *s = scn_new();
    if (!s) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    int sources = (a->n_requests > 0) + (a->requests_file != NULL) + (a->requests_command != NULL);
    int code = CLI_CONTINUE;
    if (sources != 1) {
        code = cli_usage_error("run", "give exactly one of --request, --requests-file, "
                                      "--requests-command for the program after '--'");
        goto out;
    }
    quick_target(s, a, prog, n_prog);
    code = quick_requests(s, a);
    if (code != CLI_CONTINUE) {
        goto out;
    }
    if (a->ready_line) {
        s->ready = SCN_READY_STDOUT;
        s->ready_value = strdup(a->ready_line);
    }
    cmd_apply_overrides(s, a);
    if (cmd_apply_suppress(s, a) < 0) {
        cli_error("out of memory");
        code = CLI_EXIT_RUN;
        goto out;
    }
    if (a->expect < 0) {
        s->expect = RPT_EXPECT_NO_LEAK;
    }
    if (scn_finish(s, &d) < 0) {
        cli_error("%s", d.msg);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    quick_resolve_program(s);
    *out = s;
    s = NULL;
out:
    scn_free(s);
    return code;
}

/* ---------------------------------------------------------------- the plan */

/* Index of the first "--" in argv[1..], or -1. */
static int find_dashdash(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return i;
        }
    }
    return -1;
}

/* Checks that the operands name one form: scenario files, or a program after "--" (n_prog < 0:
 * no "--"). Returns CLI_CONTINUE or a usage error's code. */
static int check_form(const struct cmd_args *a, int n_prog)
{
    if (n_prog == 0) {
        return cli_usage_error("run", "no program after '--'");
    }
    if (n_prog > 0 && a->n_files) {
        return cli_usage_error("run", "give scenario files or a program after '--', not both");
    }
    if (n_prog < 0 && a->n_files == 0) {
        return cli_usage_error("run", "no scenario files and no program after '--'");
    }
    if (n_prog < 0 && (a->n_requests || a->requests_file || a->requests_command || a->rpr > 0 ||
                       a->ready_line || a->name)) {
        return cli_usage_error("run", "--request, --requests-*, --ready-line and --name are for "
                                      "a program after '--', not for scenario files");
    }
    if (a->name && strlen(a->name) > SCN_MAX_NAME) {
        return cli_usage_error("run", "--name: at most %u bytes, found %zu", SCN_MAX_NAME,
                               strlen(a->name));
    }
    return CLI_CONTINUE;
}

/* The quick form: one scenario from the options and the program. */
static int plan_quick(struct run_plan *p, const struct cmd_args *a, char **prog, int n_prog)
{
    p->scns = calloc(1, sizeof(*p->scns));
    if (!p->scns) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    int code = cmd_run_quick_scenario(a, prog, n_prog, &p->scns[0]);
    if (code == CLI_CONTINUE) {
        p->n_scns = 1;
    }
    return code;
}

/* Keeps this shard's share of the files (all of them without --shard); *n is updated. */
static int plan_shard(const struct cli *cli, struct run_plan *p, const struct cmd_args *a,
                      size_t *n)
{
    unsigned si;
    unsigned sn;
    struct diag d = {{0}};
    if (!a->shard) {
        return CLI_CONTINUE;
    }
    if (cli_parse_shard(a->shard, &si, &sn, &d) < 0) {
        return cli_usage_error("run", "%s", d.msg);
    }
    *n = cli_shard_select(p->files, *n, si, sn);
    if (*n == 0 && cli->verbose >= 0) {
        fprintf(stderr, "shard %u/%u has no scenarios\n", si, sn);
    }
    return CLI_CONTINUE;
}

/* Scenario files: this shard's files, loaded, with the overrides applied. Every file is loaded
 * (each error printed) before a bad one fails the command. */
static int plan_files(const struct cli *cli, struct run_plan *p, const struct cmd_args *a)
{
    p->files = calloc(a->n_files, sizeof(*p->files));
    if (!p->files) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    memcpy(p->files, a->files, a->n_files * sizeof(*p->files));
    size_t n = a->n_files;
    int code = plan_shard(cli, p, a, &n);
    if (code != CLI_CONTINUE) {
        return code;
    }
    p->scns = calloc(n ? n : 1, sizeof(*p->scns));
    if (!p->scns) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    for (size_t i = 0; i < n; i++) {
        struct diag d = {{0}};
        if (scn_load(p->files[i], &p->scns[p->n_scns], &d) < 0) {
            cli_error("%s", d.msg);
            code = CLI_EXIT_USAGE;
            continue;
        }
        cmd_apply_overrides(p->scns[p->n_scns], a);
        p->n_scns++;
        if (cmd_apply_suppress(p->scns[p->n_scns - 1], a) < 0) {
            cli_error("out of memory");
            return CLI_EXIT_RUN;
        }
    }
    return code;
}

/* Frees the plan's scenarios and copies. Can't fail. */
static void plan_cleanup(struct run_plan *p)
{
    for (size_t i = 0; i < p->n_scns; i++) {
        scn_free(p->scns[i]);
    }
    free(p->scns);
    free(p->files);
}

/* ---------------------------------------------------------------- running */

/* Creates scenario i's folder under `report_dir` (its name depends on the names of this and
 * earlier scenarios only) into `dir`. Returns CLI_CONTINUE or prints why not (CLI_EXIT_RUN). */
static int scenario_dir(struct rpt_run *run, const struct scn *s, size_t i, const char *report_dir,
                        char *dir, size_t len)
{
    char sub[256];
    run->scenarios[i].name = strdup(s->name);
    run->n_scenarios = i + 1;
    rpt_layout_dirname(run, i, sub, sizeof(sub));
    free(run->scenarios[i].name);
    run->scenarios[i].name = NULL;
    snprintf(dir, len, "%s/%s", report_dir, sub);
    if (file_mkdirs(dir) < 0) {
        cli_error("can't create '%s': %s", dir, strerror(errno));
        return CLI_EXIT_RUN;
    }
    return CLI_CONTINUE;
}

/* Runs scenario i of the plan into run->scenarios[i]. Returns CLI_CONTINUE whatever the
 * verdict (a failed run is printed), or an exit code when the scenario could not run. */
static int run_one(const struct cli *cli, const struct scn *s, size_t i, const char *agent,
                   const char *report_dir, struct rpt_run *run)
{
    char dir[PATH_MAX];
    struct diag d = {{0}};
    int code = scenario_dir(run, s, i, report_dir, dir, sizeof(dir));
    if (code != CLI_CONTINUE) {
        return code;
    }
    struct progress p = {.cli = cli};
    struct session_opts ro = {
        .agent_path = agent, .out_dir = dir, .progress = progress_cb, .progress_arg = &p};
    if (cli->verbose >= 0) {
        fprintf(stderr, "%s: %u warm-up + %u measured rounds\n", s->name, s->warmup, s->rounds);
    }
    int rc = session_run(s, &ro, &run->scenarios[i], &run->agent_version, &d);
    progress_end(&p);
    if (rc < 0) {
        cli_error("%s", d.msg);
        run->n_scenarios = i;
        return CLI_EXIT_USAGE;
    }
    const struct rpt_scenario *sc = &run->scenarios[i];
    if (sc->verdict == RPT_VERDICT_ERROR && sc->error) {
        cli_error("%s: %s", sc->name, sc->error);
    }
    return CLI_CONTINUE;
}

/* Makes the harness own every process a run starts (subreaper) and catches the stop signals.
 * Returns CLI_CONTINUE, or prints why not and returns CLI_EXIT_RUN. */
static int own_the_tree(const struct cli *cli)
{
    struct diag d = {{0}};
    /* A step stuck on a hung target gets 3 s before the tree is stopped under it, then 2 s
     * more before SIGKILL: the reports are still written well within 10 s of the signal. */
    struct sig_opts so = {.term_after_ms = 3000, .kill_after_ms = 2000};
    if (tree_adopt(&d) < 0 && cli->verbose >= 0) {
        fprintf(stderr, "warning: %s\n", d.msg);
    }
    if (sig_catch(&so, &d) < 0) {
        cli_error("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    return CLI_CONTINUE;
}

/* Runs every scenario of the plan and ends the command (reports, table, exit code). After a
 * stop signal no further scenario starts; the reports cover what finished and the exit code is
 * sig_exit_code() (docs/CLI.md). */
static int run_plan(const struct cli *cli, const struct run_plan *p, const char *report_dir)
{
    char agent[PATH_MAX];
    int code = cli_agent(cli, agent, sizeof(agent));
    if (code == CLI_CONTINUE) {
        code = cmd_make_report_dir(report_dir);
    }
    if (code != CLI_CONTINUE) {
        return code;
    }
    struct rpt_run *run = cmd_new_run();
    if (run) {
        run->scenarios = calloc(p->n_scns ? p->n_scns : 1, sizeof(*run->scenarios));
    }
    if (!run || !run->scenarios) {
        cli_error("out of memory");
        rpt_run_free(run);
        return CLI_EXIT_RUN;
    }
    if (own_the_tree(cli) != CLI_CONTINUE) {
        rpt_run_free(run);
        return CLI_EXIT_RUN;
    }
    run->full_names = cli->full_names;
    size_t i = 0;
    for (; i < p->n_scns && code == CLI_CONTINUE && !sig_caught(); i++) {
        code = run_one(cli, p->scns[i], i, agent, report_dir, run);
    }
    /* The run was cut short when a scenario was, or when scenarios were left to run. */
    bool cut = i < p->n_scns || (i > 0 && run->scenarios[i - 1].interrupted_signal);
    run->interrupted_signal = cut ? sig_caught() : 0;
    if (code == CLI_CONTINUE) {
        code = cmd_finish(cli, run, report_dir);
    }
    if (sig_caught()) {
        code = sig_exit_code(sig_caught());
    }
    tree_stop(1000);
    sig_release();
    rpt_run_free(run);
    return code;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
    struct cmd_args a;
    struct run_plan plan = {0};
    cmd_args_init(&a);
    int dd = find_dashdash(argc, argv);
    int n_prog = dd >= 0 ? argc - dd - 1 : -1;
    int code = cmd_parse_args(cli, "run", help_run, dd >= 0 ? dd : argc, argv, &a);
    if (code == CLI_CONTINUE) {
        code = check_form(&a, n_prog);
    }
    if (code == CLI_CONTINUE) {
        code =
            n_prog > 0 ? plan_quick(&plan, &a, argv + dd + 1, n_prog) : plan_files(cli, &plan, &a);
    }
    if (code == CLI_CONTINUE) {
        code = run_plan(cli, &plan, cmd_report_dir(&a));
    }
    plan_cleanup(&plan);
    cmd_args_cleanup(&a);
    return code;
}
