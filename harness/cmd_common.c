/* SPDX-License-Identifier: MIT */
/* cmd_common.c - options, run bookkeeping and the result table shared by `leakcheck run` and
 * `leakcheck analyze` (see cmd_common.h). Options are read with getopt_long. */
#include "cmd_common.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../reports/rpt_name.h"
#include "../reports/rpt_retain.h"
#include "../reports/rpt_write.h"
#include "../util/clock.h"
#include "../util/file.h"
#include "../util/fmt.h"

/* ---------------------------------------------------------------- options */

enum {
    OPT_ROUNDS = 256,
    OPT_WARMUP,
    OPT_RPR,
    OPT_REQUEST,
    OPT_REQFILE,
    OPT_REQCMD,
    OPT_THRESHOLD,
    OPT_REPORT_DIR,
    OPT_NAME,
    OPT_EXPECT,
    OPT_SHARD,
    OPT_AGENT,
    OPT_READY_LINE,
    OPT_ROUND_TIMEOUT,
    OPT_SCENARIO,
    OPT_RECORD,
    OPT_WRAPPER,
    OPT_FULL_NAMES,
    OPT_SUPPRESS,
    OPT_THRESHOLD_BLOCKS,
};

static const struct option long_opts[] = {
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"requests-per-round", required_argument, NULL, OPT_RPR},
    {"request", required_argument, NULL, OPT_REQUEST},
    {"requests-file", required_argument, NULL, OPT_REQFILE},
    {"requests-command", required_argument, NULL, OPT_REQCMD},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"report-dir", required_argument, NULL, OPT_REPORT_DIR},
    {"name", required_argument, NULL, OPT_NAME},
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"agent", required_argument, NULL, OPT_AGENT},
    {"ready-line", required_argument, NULL, OPT_READY_LINE},
    {"round-timeout", required_argument, NULL, OPT_ROUND_TIMEOUT},
    {"scenario", required_argument, NULL, OPT_SCENARIO},
    {"record", required_argument, NULL, OPT_RECORD},
    {"wrapper", required_argument, NULL, OPT_WRAPPER},
    {"full-names", no_argument, NULL, OPT_FULL_NAMES},
    {"suppress", required_argument, NULL, OPT_SUPPRESS},
    {"threshold-blocks", required_argument, NULL, OPT_THRESHOLD_BLOCKS},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void cmd_args_init(struct cmd_args *a)
{
    *a = (struct cmd_args){.rounds = -1, .warmup = -1, .rpr = -1, .expect = -1};
}

void cmd_args_cleanup(struct cmd_args *a)
{
    free(a->requests);
    a->requests = NULL;
    a->n_requests = 0;
    free(a->wrappers);
    a->wrappers = NULL;
    a->n_wrappers = 0;
    free(a->suppress);
    a->suppress = NULL;
    a->n_suppress = 0;
}

/* Parses the value `v` of numeric option `c` into `a`. Returns CLI_CONTINUE or prints a usage
 * error and returns CLI_EXIT_USAGE. */
static int parse_number(const char *cmd, int c, const char *v, struct cmd_args *a)
{
    unsigned long n;
    switch (c) {
    case OPT_ROUNDS:
        if (cli_parse_uint(v, SCN_MAX_ROUNDS, &n) < 0 || n < 2) {
            return cli_usage_error(cmd, "--rounds: expected an integer from 2 to %u, found '%s'",
                                   SCN_MAX_ROUNDS, v);
        }
        a->rounds = (long)n;
        break;
    case OPT_WARMUP:
        if (cli_parse_uint(v, SCN_MAX_ROUNDS, &n) < 0) {
            return cli_usage_error(cmd, "--warmup: expected an integer from 0 to %u, found '%s'",
                                   SCN_MAX_ROUNDS, v);
        }
        a->warmup = (long)n;
        break;
    case OPT_RPR:
        if (cli_parse_uint(v, 10000000, &n) < 0 || n < 1) {
            return cli_usage_error(
                cmd, "--requests-per-round: expected a positive integer, found '%s'", v);
        }
        a->rpr = (long)n;
        break;
    case OPT_ROUND_TIMEOUT:
        if (cli_parse_uint(v, 86400, &n) < 0 || n < 1) {
            return cli_usage_error(
                cmd, "--round-timeout: expected seconds from 1 to 86400, found '%s'", v);
        }
        a->round_timeout_s = (long)n;
        break;
    case OPT_THRESHOLD:
        if (cli_parse_double(v, &a->threshold) < 0) {
            return cli_usage_error(cmd, "--threshold: expected a number of bytes >= 0, found '%s'",
                                   v);
        }
        a->have_threshold = true;
        break;
    case OPT_THRESHOLD_BLOCKS:
        if (cli_parse_double(v, &a->threshold_blocks) < 0 || !(a->threshold_blocks > 0)) {
            return cli_usage_error(
                cmd, "--threshold-blocks: expected a number of blocks per round > 0, found '%s'",
                v);
        }
        a->have_threshold_blocks = true;
        break;
    default:
        a->expect = rpt_expect_parse(v);
        if (a->expect < 0) {
            return cli_usage_error(cmd, "--expect: expected leak, no-leak or any, found '%s'", v);
        }
        break;
    }
    return CLI_CONTINUE;
}

/* Where the value of string option `c` goes, or NULL when `c` is not one. */
static const char **string_slot(int c, struct cmd_args *a)
{
    switch (c) {
    case OPT_REQFILE:
        return &a->requests_file;
    case OPT_REQCMD:
        return &a->requests_command;
    case OPT_REPORT_DIR:
        return &a->report_dir;
    case OPT_NAME:
        return &a->name;
    case OPT_SHARD:
        return &a->shard;
    case OPT_READY_LINE:
        return &a->ready_line;
    case OPT_SCENARIO:
        return &a->scenario;
    case OPT_RECORD:
        return &a->record;
    default:
        return NULL;
    }
}

/* Appends one --request template. Returns CLI_CONTINUE, or CLI_EXIT_RUN when out of memory. */
static int add_request(struct cmd_args *a, const char *v)
{
    const char **r = realloc(a->requests, (a->n_requests + 1) * sizeof(*r));
    if (!r) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    a->requests = r;
    a->requests[a->n_requests++] = v;
    return CLI_CONTINUE;
}

/* Appends one --wrapper glob ("GLOB" or "object:GLOB"). Returns CLI_CONTINUE, CLI_EXIT_USAGE
 * for an empty glob, or CLI_EXIT_RUN when out of memory. */
static int add_wrapper(const char *cmd, struct cmd_args *a, const char *v)
{
    if (!v[0] || strcmp(v, "object:") == 0) {
        return cli_usage_error(cmd,
                               "--wrapper: expected a function glob or object:GLOB, found "
                               "'%s'",
                               v);
    }
    const char **w = realloc(a->wrappers, (a->n_wrappers + 1) * sizeof(*w));
    if (!w) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    a->wrappers = w;
    a->wrappers[a->n_wrappers++] = v;
    return CLI_CONTINUE;
}

/* Appends one --suppress value, which must name a function glob or "object:GLOB". Returns
 * CLI_CONTINUE, CLI_EXIT_USAGE after a usage error, or CLI_EXIT_RUN when out of memory. */
static int add_suppress(const char *cmd, struct cmd_args *a, const char *v)
{
    const char *glob = strncmp(v, "object:", 7) == 0     ? v + 7
                       : strncmp(v, "function:", 9) == 0 ? v + 9
                                                         : v;
    if (!*glob) {
        return cli_usage_error(cmd,
                               "--suppress: expected FUNCTION or object:GLOB (globs as in "
                               "fnmatch), found '%s'",
                               v);
    }
    const char **r = realloc(a->suppress, (a->n_suppress + 1) * sizeof(*r));
    if (!r) {
        cli_error("out of memory");
        return CLI_EXIT_RUN;
    }
    a->suppress = r;
    a->suppress[a->n_suppress++] = v;
    return CLI_CONTINUE;
}

/* Handles option `c` as getopt_long() returned it. Returns CLI_CONTINUE or an exit code. */
static int parse_one(struct cli *cli, const char *cmd, const char *help, int c, char **argv,
                     struct cmd_args *a)
{
    const char **slot = string_slot(c, a);
    if (slot) {
        *slot = optarg;
        return CLI_CONTINUE;
    }
    switch (c) {
    case OPT_ROUNDS:
    case OPT_WARMUP:
    case OPT_RPR:
    case OPT_ROUND_TIMEOUT:
    case OPT_THRESHOLD:
    case OPT_THRESHOLD_BLOCKS:
    case OPT_EXPECT:
        return parse_number(cmd, c, optarg, a);
    case OPT_REQUEST:
        return add_request(a, optarg);
    case OPT_WRAPPER:
        return add_wrapper(cmd, a, optarg);
    case OPT_FULL_NAMES:
        a->full_names = true;
        cli->full_names = true;
        return CLI_CONTINUE;
    case OPT_SUPPRESS:
        return add_suppress(cmd, a, optarg);
    case OPT_AGENT:
        cli->agent = optarg;
        return CLI_CONTINUE;
    case 'q':
        cli->verbose = -1;
        return CLI_CONTINUE;
    case 'v':
        cli->verbose = 1;
        return CLI_CONTINUE;
    case 'h':
        fputs(help, stdout);
        return CLI_EXIT_OK;
    case ':':
        return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    default:
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
}

int cmd_parse_args(struct cli *cli, const char *cmd, const char *help, int argc, char **argv,
                   struct cmd_args *a)
{
    // 0, not 1: glibc then forgets the state of an earlier scan (tests parse many times).
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":qvh", long_opts, NULL);
        if (c == -1) {
            break;
        }
        int code = parse_one(cli, cmd, help, c, argv, a);
        if (code != CLI_CONTINUE) {
            return code;
        }
    }
    a->files = argv + optind;
    a->n_files = (size_t)(argc - optind);
    return CLI_CONTINUE;
}

/* Adds the --wrapper globs after the scenario's own `wrappers`. Out of memory leaves them out
 * (the culprit is then named by the scenario's list only). */
static void add_wrappers(struct scn *s, const struct cmd_args *a)
{
    if (!a->n_wrappers) {
        return;
    }
    char **w = realloc(s->wrappers, (s->n_wrappers + a->n_wrappers) * sizeof(*w));
    if (!w) {
        return;
    }
    s->wrappers = w;
    for (size_t i = 0; i < a->n_wrappers; i++) {
        char *copy = strdup(a->wrappers[i]);
        if (copy) {
            s->wrappers[s->n_wrappers++] = copy;
        }
    }
}

void cmd_apply_overrides(struct scn *s, const struct cmd_args *a)
{
    if (a->rounds >= 0) {
        s->rounds = (uint32_t)a->rounds;
    }
    if (a->warmup >= 0) {
        s->warmup = (uint32_t)a->warmup;
    }
    if (a->have_threshold) {
        s->threshold_bytes_per_round = a->threshold;
    }
    if (a->have_threshold_blocks) {
        s->threshold_blocks_per_round = a->threshold_blocks;
    }
    if (a->expect >= 0) {
        s->expect = (enum rpt_expect)a->expect;
    }
    if (a->round_timeout_s > 0) {
        s->round_timeout_ms = (int)(a->round_timeout_s * 1000);
    }
    add_wrappers(s, a);
}

int cmd_apply_suppress(struct scn *s, const struct cmd_args *a)
{
    if (a->n_suppress == 0) {
        return 0;
    }
    struct supp_rule *r = realloc(s->supp, (s->n_supp + a->n_suppress) * sizeof(*r));
    if (!r) {
        return -ENOMEM;
    }
    s->supp = r;
    size_t n = s->n_supp;
    for (size_t i = 0; i < a->n_suppress; i++) {
        const char *v = a->suppress[i];
        struct supp_rule *x = &r[n + i];
        *x = (struct supp_rule){0};
        if (strncmp(v, "object:", 7) == 0) {
            x->object = strdup(v + 7);
        } else {
            x->function = strdup(strncmp(v, "function:", 9) == 0 ? v + 9 : v);
        }
        if (!x->object && !x->function) {
            for (size_t k = n; k <= n + i; k++) {
                supp_rule_cleanup(&r[k]);
            }
            return -ENOMEM;
        }
    }
    s->n_supp = n + a->n_suppress;
    return 0;
}

const char *cmd_report_dir(const struct cmd_args *a)
{
    return a->report_dir ? a->report_dir : CMD_DEFAULT_REPORT_DIR;
}

int cmd_make_report_dir(const char *dir)
{
    if (file_mkdirs(dir) < 0) {
        cli_error("can't create the report folder '%s': %s", dir, strerror(errno));
        return CLI_EXIT_RUN;
    }
    return CLI_CONTINUE;
}

/* ---------------------------------------------------------------- the run */

/* Reads the first line `cmd` prints, without its line end; false when there is none. */
static bool read_command_line(const char *cmd, char *buf, size_t len)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        return false;
    }
    bool ok = fgets(buf, (int)len, f) != NULL;
    pclose(f);
    if (ok) {
        buf[strcspn(buf, "\r\n")] = '\0';
    }
    return ok;
}

/* Commit of the code under test: $LEAKCHECK_COMMIT, $GITHUB_SHA, else `git rev-parse HEAD`
 * (and the commit's subject). */
static void fill_commit(struct rpt_run *run)
{
    const char *e = getenv("LEAKCHECK_COMMIT");
    if (!e || !*e) {
        e = getenv("GITHUB_SHA");
    }
    if (e && *e) {
        run->commit = strdup(e);
        return;
    }
    char buf[128];
    if (read_command_line("git rev-parse HEAD 2>/dev/null", buf, sizeof(buf)) && strlen(buf) >= 7) {
        run->commit = strdup(buf);
    }
    if (read_command_line("git log -1 --format=%s 2>/dev/null", buf, sizeof(buf))) {
        run->commit_message = strdup(buf);
    }
}

struct rpt_run *cmd_new_run(void)
{
    struct rpt_run *run = calloc(1, sizeof(*run));
    if (!run) {
        return NULL;
    }
    char now[32];
    clock_rfc3339(now, sizeof(now));
    run->started_at = strdup(now);
    char host[256];
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        run->host = strdup(host);
    }
    fill_commit(run);
    return run;
}

int cmd_exit_code(const struct rpt_run *run)
{
    int code = CLI_EXIT_OK;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        if (run->scenarios[i].verdict == RPT_VERDICT_ERROR) {
            return CLI_EXIT_RUN;
        }
        if (!run->scenarios[i].ok) {
            code = CLI_EXIT_FAIL;
        }
    }
    return code;
}

/* ---------------------------------------------------------------- the table */

/* The site the table names: the top suspect, or of the biggest grower. NULL when none. */
static const struct rpt_site *top_site(const struct rpt_scenario *sc)
{
    if (sc->n_sites == 0) {
        return NULL;
    }
    if (sc->sites[0].suspect || sc->verdict != RPT_VERDICT_LEAK) {
        return sc->sites[0].bytes_per_round > 0 || sc->sites[0].suspect ? &sc->sites[0] : NULL;
    }
    return &sc->sites[0];
}

/* "function (file:line) +B/round, +N blocks/round" of the scenario's top site, or "-"; C++
 * names shortened unless `full_names`. A verdict other than leak names no culprit: at most
 * "largest: function (file:line) +B/round, under the threshold" (or ", suppressed"), for a site
 * that grew by a byte a round or more. */
static void describe_culprit(const struct rpt_scenario *sc, bool full_names, char *out, size_t len)
{
    const struct rpt_site *t = top_site(sc);
    bool leak = sc->verdict == RPT_VERDICT_LEAK;
    if (!t || sc->verdict == RPT_VERDICT_ERROR || (!leak && !(t->bytes_per_round >= 1))) {
        fmt_c(out, len, "-");
        return;
    }
    char b[32];
    char name[1024];
    rpt_name_site(sc, t, full_names, name, sizeof(name));
    fmt_bytes_signed(b, sizeof(b), t->bytes_per_round);
    if (leak) {
        fmt_c(out, len, "%s %s/round, %+.1f blocks/round", name, b, t->blocks_per_round);
    } else {
        const char *why = t->suppressed ? "suppressed"
                          : t->bytes_per_round < sc->threshold_bytes_per_round
                              ? "under the threshold"
                              : "not a steady rise";
        fmt_c(out, len, "largest: %s %s/round, %s", name, b, why);
    }
}

void cmd_render_stacks(struct buf *b, const struct rpt_run *run)
{
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        for (size_t k = 0; k < sc->n_sites; k++) {
            const struct rpt_site *site = &sc->sites[k];
            if (!site->suspect) {
                continue;
            }
            char name[1024];
            char nm[256];
            rpt_name_site(sc, site, run->full_names, name, sizeof(name));
            buf_printf(b, "%s: %s\n", cli_one_line(nm, sizeof(nm), sc->name), name);
            for (size_t f = 0; f < site->n_frames; f++) {
                const struct rpt_frame *fr = &site->frames[f];
                char where[1024];
                rpt_name_frame(fr, run->full_names, where, sizeof(where));
                const char *mark = f == site->culprit_frame    ? "=>"
                                   : fr->skip != RPT_SKIP_NONE ? "  ."
                                                               : "  ";
                char skip[64] = "";
                if (fr->skip != RPT_SKIP_NONE && (unsigned)fr->skip < RPT_N_SKIPS) {
                    fmt_c(skip, sizeof(skip), "  (wrapper: %s)", rpt_skip_names[fr->skip]);
                }
                buf_printf(b, "  %s %s%s%s\n", mark, where, fr->inlined ? " [inlined]" : "", skip);
            }
            if (site->culprit_why) {
                buf_printf(b, "  why: %s\n", site->culprit_why);
            }
            for (size_t g = 0; g < site->n_retainers; g++) {
                const struct rpt_retainer *r = &site->retainers[g];
                char path[4096];
                char line[4096];
                rpt_retain_path(r, run->full_names, path, sizeof(path));
                buf_printf(b, "  %s (%llu of %llu sampled survivors)\n",
                           cli_one_line(line, sizeof(line), path), (unsigned long long)r->blocks,
                           (unsigned long long)site->retain_sampled);
            }
        }
    }
}

/* At most this many under-threshold warnings per scenario in the table; the rest are counted. */
#define CMD_MAX_WARNINGS 3

/* Appends "    warning: ... leaks +B/round, under the threshold of T" for each site of `sc` that
 * leaks under the threshold. */
static void render_warnings(struct buf *b, const struct rpt_scenario *sc)
{
    size_t n = 0;
    for (size_t k = 0; sc->verdict != RPT_VERDICT_ERROR && k < sc->n_sites; k++) {
        if (!rpt_site_leaks_under_threshold(&sc->sites[k])) {
            continue;
        }
        if (n++ < CMD_MAX_WARNINGS) {
            char text[1024];
            char line[1024];
            rpt_under_threshold_text(sc, &sc->sites[k], text, sizeof(text));
            buf_printf(b, "    warning: %s\n", cli_one_line(line, sizeof(line), text));
        }
    }
    if (n > CMD_MAX_WARNINGS) {
        buf_printf(b, "    warning: %zu more sites leak under the threshold (report.json)\n",
                   n - CMD_MAX_WARNINGS);
    }
}

/* Appends "    held by ... → these blocks (...)" (or "    lost: ...") for the top suspect when a
 * retainer scan ran (rpt_retain.h has the wording). */
static void render_retainers(struct buf *b, const struct rpt_scenario *sc, bool full_names)
{
    const struct rpt_site *t = top_site(sc);
    char text[4096];
    char line[4096];
    if (t && t->suspect && sc->verdict != RPT_VERDICT_ERROR &&
        rpt_retain_line(sc, t, full_names, text, sizeof(text))) {
        buf_printf(b, "    %s\n", cli_one_line(line, sizeof(line), text));
    }
}

/* For a process tree: the top suspect's role and pids, and the processes, on one line. */
static void describe_tree(struct buf *b, const struct rpt_scenario *sc)
{
    if (sc->n_procs == 0) {
        return;
    }
    size_t untracked = 0;
    for (size_t i = 0; i < sc->n_procs; i++) {
        untracked += !sc->procs[i].tracked;
    }
    const struct rpt_site *t = top_site(sc);
    buf_puts(b, "    ");
    if (t && t->suspect && t->role) {
        char role[128];
        cli_one_line(role, sizeof(role), t->role);
        buf_printf(b, "in role '%s', pid%s", role, t->n_pids == 1 ? "" : "s");
        for (size_t i = 0; i < t->n_pids && i < 8; i++) {
            buf_printf(b, "%s %u", i ? "," : "", t->pids[i]);
        }
        buf_puts(b, t->n_pids > 8 ? ", ...; " : "; ");
    }
    buf_printf(b, "%zu process image%s in %zu role%s", sc->n_procs - untracked,
               sc->n_procs - untracked == 1 ? "" : "s", sc->n_roles, sc->n_roles == 1 ? "" : "s");
    if (untracked) {
        buf_printf(b, ", %zu untracked (see processes in report.json)", untracked);
    }
    buf_puts(b, "\n");
}

void cmd_render_table(struct buf *b, const struct rpt_run *run, const char *report_dir)
{
    buf_printf(b, "%-24s %-12s %-4s %14s  %s\n", "scenario", "verdict", "ok", "heap/round",
               "top site");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        char g[32];
        char culprit[512];
        char name[256];
        fmt_bytes_signed(g, sizeof(g), sc->growth_bytes_per_round);
        describe_culprit(sc, run->full_names, culprit, sizeof(culprit));
        cli_one_line(name, sizeof(name), sc->name); /* a name may hold anything */
        buf_printf(b, "%-24s %-12s %-4s %14s  %s\n", name, rpt_verdict_name(sc->verdict),
                   sc->ok ? "yes" : "NO", sc->verdict == RPT_VERDICT_ERROR ? "-" : g, culprit);
        if (sc->reason && sc->verdict != RPT_VERDICT_ERROR) {
            buf_printf(b, "    %s\n", sc->reason);
        }
        render_retainers(b, sc, run->full_names);
        render_warnings(b, sc);
        if (sc->rss_warning) {
            buf_printf(b, "    warning: %s\n", sc->rss_warning);
        }
        if (sc->n_roles > 1 || (top_site(sc) && top_site(sc)->suspect)) {
            describe_tree(b, sc);
        }
    }
    if (run->interrupted_signal) {
        char sig[32];
        buf_printf(b,
                   "interrupted by %s: the run stopped early; the reports cover the rounds "
                   "that finished\n",
                   rpt_signal_name(run->interrupted_signal, sig, sizeof(sig)));
    }
    if (report_dir) {
        buf_printf(b, "reports: %s/report.json\n", report_dir);
    }
}

int cmd_finish(const struct cli *cli, const struct rpt_run *run, const char *report_dir)
{
    struct diag dg = {{0}};
    int written = rpt_write_all(run, report_dir, &dg);
    int code = cmd_exit_code(run);
    /* The verdicts reach the terminal even when no report file could be written. */
    if (cli->verbose >= 0 || code != CLI_EXIT_OK || written < 0) {
        struct buf b;
        buf_init(&b);
        cmd_render_table(&b, run, written < 0 ? NULL : report_dir);
        if (cli->verbose > 0) {
            cmd_render_stacks(&b, run);
        }
        if (b.data) {
            fputs(b.data, stdout);
            fflush(stdout);
        }
        buf_cleanup(&b);
    }
    if (written < 0) {
        cli_error("%s; the verdicts above are the run's, but its report files are missing or "
                  "incomplete",
                  dg.msg[0] ? dg.msg : "can't write the reports");
        return CLI_EXIT_RUN;
    }
    return code;
}
