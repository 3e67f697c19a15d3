/* SPDX-License-Identifier: MIT */
/* cmd_reports.c - `leakcheck compare`, `merge` and `history` over JSON reports (see
 * cmd_reports.h). Reads reports with rpt_json_read(), writes with the reports/ writers. A
 * report or history that could not be written (full disk, unwritable folder) is not the user's
 * input error: exit 3, as a run that failed; bad input stays 2. */
#include "cmd_reports.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reports/rpt_history.h"
#include "../reports/rpt_name.h"
#include "../reports/rpt_html.h"
#include "../reports/rpt_write.h"
#include "../reports/rpt_json.h"
#include "../util/file.h"
#include "../util/fmt.h"

/* A scenario's name for a terminal line. */
static const char *name_line(const char *name, char *buf, size_t len)
{
    return cli_one_line(buf, len, name ? name : "(unnamed)");
}

/* Finds a scenario by name in a run, or NULL. */
static const struct rpt_scenario *find_scenario(const struct rpt_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_scenarios; i++) {
        if (run->scenarios[i].name && name && strcmp(run->scenarios[i].name, name) == 0) {
            return &run->scenarios[i];
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- compare */

static const char compare_help[] =
    "usage: leakcheck compare BASE.json HEAD.json [--tolerance BYTES]\n"
    "\n"
    "Compares two JSON reports scenario by scenario and site by site: growth per round in\n"
    "bytes, base against head. Exits 1 when a scenario of head retains more per round than\n"
    "base by more than BYTES (default 0), 2 on usage or input errors, 0 otherwise. Sites new\n"
    "in head are listed when they grow by more than BYTES and 16 B/round (the noise floor);\n"
    "the rest are counted.\n";

/* New sites growing by less than this (and the tolerance) are counted, not listed: sites that
 * only churned show up with +0.0 bytes/round and would drown the ones that matter. */
#define COMPARE_NOISE_BYTES 16.0

/* Finds the site of `s` with the same stack as `x` (rpt_name_same_stack(); two sites of one
 * function and line reached from different callers stay apart), else, for reports without
 * stacks, one with the same culprit (function, file, line); NULL when there is none. */
static const struct rpt_site *find_site(const struct rpt_scenario *s, const struct rpt_site *x)
{
    for (size_t i = 0; s && x->n_frames && i < s->n_sites; i++) {
        if (rpt_name_same_stack(x, &s->sites[i])) {
            return &s->sites[i];
        }
    }
    for (size_t i = 0; s && i < s->n_sites; i++) {
        if (x->n_frames && s->sites[i].n_frames) {
            continue; /* both have stacks, and they differ */
        }
        const struct rpt_site *y = &s->sites[i];
        bool fn = (!x->function && !y->function) ||
                  (x->function && y->function && strcmp(x->function, y->function) == 0);
        bool file = (!x->file && !y->file) || (x->file && y->file && strcmp(x->file, y->file) == 0);
        if (fn && file && x->line == y->line) {
            return y;
        }
    }
    return NULL;
}

/* Appends the sites of `h` whose growth differs from their twin in `b` (NULL: none) by more
 * than `tol`, the sites new in `h` that grow by more than the noise floor, and a count of the
 * new sites under it. */
static void compare_sites(struct buf *out, const struct rpt_scenario *h,
                          const struct rpt_scenario *b, double tol)
{
    double floor = tol > COMPARE_NOISE_BYTES ? tol : COMPARE_NOISE_BYTES;
    size_t quiet = 0;
    for (size_t k = 0; k < h->n_sites; k++) {
        const struct rpt_site *hs = &h->sites[k];
        const struct rpt_site *bs = find_site(b, hs);
        double d = hs->bytes_per_round - (bs ? bs->bytes_per_round : 0);
        if (fabs(d) <= tol && bs) {
            continue;
        }
        if (!bs && !(fabs(d) > floor)) {
            quiet++;
            continue;
        }
        char where[512];
        char wb[512];
        char line[128];
        rpt_name_site(h, hs, false, where, sizeof(where));
        fmt_c(line, sizeof(line), "%+.1f", d);
        buf_printf(out, "    %s: %s bytes/round%s\n", cli_one_line(wb, sizeof(wb), where), line,
                   bs ? "" : " (new site)");
    }
    if (quiet > 0) {
        buf_printf(out, "    and %zu new %s within +/-%.0f bytes/round (not listed)\n", quiet,
                   quiet == 1 ? "site" : "sites", floor);
    }
}

int cmd_compare_render(struct buf *out, const struct rpt_run *base, const struct rpt_run *head,
                       double tol)
{
    int status = CLI_EXIT_OK;
    char nb[256];
    buf_printf(out, "%-32s %16s %16s %16s  %s\n", "scenario", "base B/round", "head B/round",
               "change", "result");
    for (size_t i = 0; i < head->n_scenarios; i++) {
        const struct rpt_scenario *h = &head->scenarios[i];
        const struct rpt_scenario *b = find_scenario(base, h->name);
        double hv = isfinite(h->growth_bytes_per_round) ? h->growth_bytes_per_round : 0;
        double bv = b && isfinite(b->growth_bytes_per_round) ? b->growth_bytes_per_round : 0;
        bool worse = hv - bv > tol;
        if (worse) {
            status = CLI_EXIT_FAIL;
        }
        char line[128];
        fmt_c(line, sizeof(line), "%16.1f %16.1f %+16.1f", bv, hv, hv - bv);
        buf_printf(out, "%-32s %s  %s%s\n", name_line(h->name, nb, sizeof(nb)), line,
                   worse ? "WORSE" : "ok", b ? "" : " (new scenario)");
        compare_sites(out, h, b, tol);
    }
    for (size_t i = 0; i < base->n_scenarios; i++) {
        if (!find_scenario(head, base->scenarios[i].name)) {
            buf_printf(out, "%-32s missing from head\n",
                       name_line(base->scenarios[i].name, nb, sizeof(nb)));
        }
    }
    return status;
}

/* Parses compare's arguments: the two reports into paths[], --tolerance into *tol. Returns
 * CLI_CONTINUE or an exit code (help, usage error). */
static int parse_compare_args(int argc, char **argv, const char **paths, double *tol)
{
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(compare_help, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--tolerance") == 0) {
            if (i + 1 >= argc) {
                return cli_usage_error("compare", "--tolerance needs a number of bytes");
            }
            i++;
            if (cli_parse_double(argv[i], tol)) {
                return cli_usage_error("compare", "--tolerance: not a non-negative number: '%s'",
                                       argv[i]);
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("compare", "unknown option '%s'", argv[i]);
        } else if (np < 2) {
            paths[np++] = argv[i];
        } else {
            return cli_usage_error("compare", "too many reports; expected BASE.json HEAD.json");
        }
    }
    if (np != 2) {
        return cli_usage_error("compare", "expected two reports: BASE.json HEAD.json");
    }
    return CLI_CONTINUE;
}

int cmd_compare(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *paths[2] = {NULL, NULL};
    double tol = 0;
    int code = parse_compare_args(argc, argv, paths, &tol);
    if (code != CLI_CONTINUE) {
        return code;
    }
    struct rpt_run *base = NULL;
    struct rpt_run *head = NULL;
    struct diag dg = {{0}};
    int rc = rpt_json_read(paths[0], &base, &dg);
    if (rc == 0) {
        rc = rpt_json_read(paths[1], &head, &dg);
    }
    if (rc != 0) {
        cli_error("%s", dg.msg);
        rpt_run_free(base);
        return CLI_EXIT_USAGE;
    }
    struct buf b;
    buf_init(&b);
    code = cmd_compare_render(&b, base, head, tol);
    if (b.data) {
        fputs(b.data, stdout);
    }
    buf_cleanup(&b);
    rpt_run_free(base);
    rpt_run_free(head);
    return code;
}

/* ---------------------------------------------------------------- merge */

static const char merge_help[] =
    "usage: leakcheck merge --out DIR SHARD/report.json...\n"
    "\n"
    "Joins the JSON reports of shards (leakcheck run --shard i/n) into one run and writes\n"
    "every report into DIR. Run-level fields (commit, start time, agent) come from the first\n"
    "report. A scenario name found in two shards is an error.\n";

/* Parses merge's arguments: --out into *out, the reports into argv[*first .. *first+*count-1].
 * Returns CLI_CONTINUE or an exit code (help, usage error). */
static int parse_merge_args(int argc, char **argv, const char **out, int *first, int *count)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(merge_help, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) {
                return cli_usage_error("merge", "--out needs a directory");
            }
            *out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("merge", "unknown option '%s'", argv[i]);
        } else {
            if (!*count) {
                *first = i;
            }
            // Reports must follow one another; an option between them would be read as one.
            if (*first + *count != i) {
                return cli_usage_error("merge", "put the reports after the options");
            }
            (*count)++;
        }
    }
    if (!*out) {
        return cli_usage_error("merge", "missing --out DIR");
    }
    if (!*count) {
        return cli_usage_error("merge", "no reports to merge");
    }
    return CLI_CONTINUE;
}

/* Moves the scenarios of `src` to the end of `dst` (src keeps none). Returns 0 or -ENOMEM. */
static int merge_into(struct rpt_run *dst, struct rpt_run *src)
{
    size_t n = dst->n_scenarios + src->n_scenarios;
    struct rpt_scenario *ns = realloc(dst->scenarios, (n ? n : 1) * sizeof(*ns));
    if (!ns) {
        return -ENOMEM;
    }
    memcpy(ns + dst->n_scenarios, src->scenarios, src->n_scenarios * sizeof(*ns));
    dst->scenarios = ns;
    dst->n_scenarios = n;
    free(src->scenarios);
    src->scenarios = NULL;
    src->n_scenarios = 0;
    return 0;
}

/* Prints an error for each scenario of `r` (read from `path`) already in `all`. Returns true
 * when there was one. */
static bool has_duplicates(const struct rpt_run *all, const struct rpt_run *r, const char *path)
{
    bool dup = false;
    for (size_t k = 0; all && k < r->n_scenarios; k++) {
        if (find_scenario(all, r->scenarios[k].name)) {
            char nb[256];
            cli_error("%s: scenario '%s' is also in an earlier report; each scenario must run in "
                      "exactly one shard",
                      path, name_line(r->scenarios[k].name, nb, sizeof(nb)));
            dup = true;
        }
    }
    return dup;
}

/* Reads the reports paths[0..count-1] into one run (*all, caller frees with rpt_run_free(),
 * also on failure). Returns CLI_CONTINUE or CLI_EXIT_USAGE after printing why. */
static int read_shards(char **paths, int count, struct rpt_run **all)
{
    struct diag dg = {{0}};
    for (int i = 0; i < count; i++) {
        struct rpt_run *r = NULL;
        if (rpt_json_read(paths[i], &r, &dg)) {
            cli_error("%s", dg.msg);
            return CLI_EXIT_USAGE;
        }
        int code = CLI_CONTINUE;
        if (has_duplicates(*all, r, paths[i])) {
            code = CLI_EXIT_USAGE;
        } else if (!*all) {
            *all = r;
            continue;
        } else if (merge_into(*all, r)) {
            cli_error("out of memory merging %s", paths[i]);
            code = CLI_EXIT_USAGE;
        }
        rpt_run_free(r);
        if (code != CLI_CONTINUE) {
            return code;
        }
    }
    return CLI_CONTINUE;
}

int cmd_merge(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *out = NULL;
    int first = 0;
    int count = 0;
    struct rpt_run *all = NULL;
    struct diag dg = {{0}};
    int code = parse_merge_args(argc, argv, &out, &first, &count);
    if (code == CLI_CONTINUE) {
        code = read_shards(argv + first, count, &all);
    }
    if (code == CLI_CONTINUE && rpt_write_all(all, out, &dg)) {
        cli_error("%s", dg.msg);
        code = CLI_EXIT_RUN;
    }
    if (code == CLI_CONTINUE) {
        size_t failed = 0;
        for (size_t i = 0; i < all->n_scenarios; i++) {
            failed += !all->scenarios[i].ok;
        }
        printf("merged %d reports, %zu scenarios (%zu failed) into %s\n", count, all->n_scenarios,
               failed, out);
        code = CLI_EXIT_OK;
    }
    rpt_run_free(all);
    return code;
}

/* ---------------------------------------------------------------- history */

static const char history_help[] =
    "usage: leakcheck history add --file H.jsonl --report R.json [--max-commits N]\n"
    "                             [--commit SHA] [--message MSG] [--date DATE] [--replace]\n"
    "       leakcheck history render --file H.jsonl --out DIR\n"
    "\n"
    "add     appends one record per scenario of R.json for its commit and keeps the last N\n"
    "        commits (100). A commit already there keeps its records of other scenarios and\n"
    "        loses those of the scenarios R.json reports; --replace drops all of them first.\n"
    "render  writes DIR/index.html, a self-contained dashboard of growth across commits.\n";

/* Options of `history add` and `history render`; strings borrowed from argv. */
struct history_args {
    bool add;     /* else render */
    bool replace; /* add: every earlier record of the commit goes */
    const char *file, *report, *out, *commit, *message, *date;
    double max_commits;
};

/* Where the value of option `opt` goes for the subcommand, or NULL when it takes none. */
static const char **history_slot(struct history_args *h, const char *opt)
{
    if (strcmp(opt, "--file") == 0) {
        return &h->file;
    }
    if (!h->add) {
        return strcmp(opt, "--out") == 0 ? &h->out : NULL;
    }
    if (strcmp(opt, "--report") == 0) {
        return &h->report;
    }
    if (strcmp(opt, "--commit") == 0) {
        return &h->commit;
    }
    if (strcmp(opt, "--message") == 0) {
        return &h->message;
    }
    return strcmp(opt, "--date") == 0 ? &h->date : NULL;
}

/* Parses the value of --max-commits (NULL when missing). Returns CLI_CONTINUE or a usage
 * error's code. */
static int parse_max_commits(const char *v, double *out)
{
    if (!v || cli_parse_double(v, out) || *out < 1 || *out > 1e6 || floor(*out) != *out) {
        return cli_usage_error("history",
                               "--max-commits needs a whole number from 1 to 1000000, not '%s'",
                               v ? v : "");
    }
    return CLI_CONTINUE;
}

/* Parses the options after the subcommand word (argv[1]). Returns CLI_CONTINUE or an exit
 * code (help, usage error). */
static int parse_history_opts(int argc, char **argv, struct history_args *h)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(history_help, stdout);
            return CLI_EXIT_OK;
        }
        if (h->add && strcmp(a, "--replace") == 0) {
            h->replace = true;
            continue;
        }
        if (h->add && strcmp(a, "--max-commits") == 0) {
            int code = parse_max_commits(i + 1 < argc ? argv[i + 1] : NULL, &h->max_commits);
            if (code != CLI_CONTINUE) {
                return code;
            }
            i++;
            continue;
        }
        const char **dst = history_slot(h, a);
        if (!dst) {
            return cli_usage_error("history", "unknown option '%s'", a);
        }
        if (i + 1 >= argc) {
            return cli_usage_error("history", "option needs a value: '%s'", a);
        }
        *dst = argv[++i];
    }
    if (!h->file) {
        return cli_usage_error("history", "missing --file H.jsonl");
    }
    return CLI_CONTINUE;
}

/* Parses history's arguments: the subcommand, then its options. Returns CLI_CONTINUE or an
 * exit code (help, usage error). */
static int parse_history_args(int argc, char **argv, struct history_args *h)
{
    static const char *const subs[] = {"add", "render", NULL};
    size_t which = 0;
    int code = cli_subcommand(argc, argv, "history", history_help, subs, &which);
    if (code != CLI_CONTINUE) {
        return code;
    }
    h->add = which == 0;
    h->max_commits = RPT_HISTORY_DEFAULT_COMMITS;
    return parse_history_opts(argc, argv, h);
}

/* Prints what `history add` did: records added, and for a commit that was already there, how
 * many of its records were replaced and kept. */
static void history_say(const struct history_args *a, const struct rpt_run *run,
                        const struct rpt_history *h, const struct rpt_history_change *chg)
{
    char commit[64];
    const char *sha = a->commit ? a->commit : run->commit;
    cli_one_line(commit, sizeof(commit), sha ? sha : "?");
    commit[strnlen(commit, 12)] = '\0';
    size_t commits = 0;
    for (size_t i = 0; i < h->n; i++) {
        commits += i == 0 || strcmp(h->recs[i].commit, h->recs[i - 1].commit) != 0;
    }
    printf("history: %s: commit %s: added %zu record%s", a->file, commit, chg->added,
           chg->added == 1 ? "" : "s");
    if (chg->replaced) {
        printf("; replaced %zu earlier record%s of this commit (%s)", chg->replaced,
               chg->replaced == 1 ? "" : "s",
               a->replace ? "--replace: all of them" : "the same scenarios");
    }
    if (chg->kept) {
        printf("; kept %zu record%s of its other scenarios", chg->kept, chg->kept == 1 ? "" : "s");
    }
    if (chg->dropped) {
        printf("; dropped %zu record%s of the oldest commits (--max-commits %.0f)", chg->dropped,
               chg->dropped == 1 ? "" : "s", a->max_commits);
    }
    printf("; now %zu commit%s, %zu record%s\n", commits, commits == 1 ? "" : "s", h->n,
           h->n == 1 ? "" : "s");
}

/* `history add`: the report's records into `h`, then `h` written back. Returns an exit code. */
static int history_add(const struct history_args *a, struct rpt_history *h)
{
    struct rpt_run *run = NULL;
    struct diag dg = {{0}};
    int code = CLI_EXIT_OK;
    if (!a->report) {
        return cli_usage_error("history", "missing --report R.json");
    }
    struct rpt_history_change chg = {0};
    if (rpt_json_read(a->report, &run, &dg) ||
        rpt_history_add_ex(h, run, a->commit, a->message, a->date, (size_t)a->max_commits,
                           a->replace, &chg, &dg)) {
        cli_error("%s", dg.msg);
        code = CLI_EXIT_USAGE;
    } else if (rpt_history_write(h, a->file, &dg)) {
        cli_error("%s", dg.msg);
        code = CLI_EXIT_RUN;
    } else {
        history_say(a, run, h, &chg);
    }
    rpt_run_free(run);
    return code;
}

/* `history render`: the dashboard of `h` into OUT/index.html. Returns an exit code. */
static int history_render(const struct history_args *a, const struct rpt_history *h)
{
    char path[PATH_MAX];
    struct diag dg = {{0}};
    if (!a->out) {
        return cli_usage_error("history", "missing --out DIR");
    }
    int rc = file_mkdirs(a->out);
    if (rc) {
        cli_error("%s: cannot create: %s", a->out, strerror(-rc));
        return CLI_EXIT_RUN;
    }
    struct buf b;
    buf_init(&b);
    rpt_html_dashboard(h, &b);
    fmt_c(path, sizeof(path), "%s/index.html", a->out);
    int code = CLI_EXIT_OK;
    if (file_write_buf(&b, path, &dg)) {
        cli_error("%s", dg.msg);
        code = CLI_EXIT_RUN;
    }
    buf_cleanup(&b);
    return code;
}

int cmd_history(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    struct history_args a = {0};
    int code = parse_history_args(argc, argv, &a);
    if (code != CLI_CONTINUE) {
        return code;
    }
    struct diag dg = {{0}};
    struct rpt_history h = {0};
    if (rpt_history_read(a.file, &h, &dg)) {
        cli_error("%s", dg.msg);
        return CLI_EXIT_USAGE;
    }
    code = a.add ? history_add(&a, &h) : history_render(&a, &h);
    rpt_history_cleanup(&h);
    return code;
}
