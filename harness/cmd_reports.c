/* SPDX-License-Identifier: MIT */
/* cmd_reports.c - `leakcheck compare`, `merge` and `history` over JSON reports (see
 * cmd_reports.h). Reads reports with rpt_json_read(), writes with the reports/ writers. */
#include "cmd_reports.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/rpt.h"
#include "../reports/rpt_history.h"
#include "../reports/rpt_html.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../reports/rpt_write.h"

/* A report or history that could not be written (full disk, unwritable folder) is not the
 * user's input error: exit 3, as a run that failed; bad input stays 2. */
#define EXIT_IO 3

/* Parses a non-negative number (no empty string, no trailing junk). */
static int parse_num(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s) {
        return -EINVAL;
    }
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Copies `s` for a terminal: control characters become '?', so a name stays on one line. */
static const char *one_line(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (const char *p = s ? s : "(unnamed)"; *p && o + 1 < len; p++) {
        buf[o++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    }
    buf[o] = '\0';
    return buf;
}

/* Prints "error: what; try 'leakcheck CMD --help'" and returns 2. */
static int usage_error(const char *cmd, const char *what, const char *arg)
{
    if (arg) {
        fprintf(stderr, "error: %s '%s'; try 'leakcheck %s --help'\n", what, arg, cmd);
    } else {
        fprintf(stderr, "error: %s; try 'leakcheck %s --help'\n", what, cmd);
    }
    return 2;
}

static const char compare_help[] =
    "usage: leakcheck compare BASE.json HEAD.json [--tolerance BYTES]\n"
    "\n"
    "Compares two JSON reports scenario by scenario and site by site: growth per round in\n"
    "bytes, base against head. Exits 1 when a scenario of head retains more per round than\n"
    "base by more than BYTES (default 0), 2 on usage or input errors, 0 otherwise.\n";

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

/* Finds a site with the same culprit (function, file, line), or NULL. */
static const struct rpt_site *find_site(const struct rpt_scenario *s, const struct rpt_site *x)
{
    for (size_t i = 0; s && i < s->n_sites; i++) {
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

int cmd_compare(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *paths[2] = {NULL, NULL};
    int np = 0;
    double tol = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(compare_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--tolerance") == 0) {
            if (i + 1 >= argc) {
                return usage_error("compare", "--tolerance needs a number of bytes", NULL);
            }
            if (parse_num(argv[++i], &tol)) {
                return usage_error("compare", "--tolerance: not a non-negative number:", argv[i]);
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("compare", "unknown option", argv[i]);
        } else if (np < 2) {
            paths[np++] = argv[i];
        } else {
            return usage_error("compare", "too many reports; expected BASE.json HEAD.json", NULL);
        }
    }
    if (np != 2) {
        return usage_error("compare", "expected two reports: BASE.json HEAD.json", NULL);
    }
    struct rpt_run *base = NULL, *head = NULL;
    struct diag dg = {{0}};
    if (rpt_json_read(paths[0], &base, &dg) || rpt_json_read(paths[1], &head, &dg)) {
        fprintf(stderr, "error: %s\n", dg.msg);
        rpt_run_free(base);
        return 2;
    }
    int status = 0;
    printf("%-32s %16s %16s %16s  %s\n", "scenario", "base B/round", "head B/round", "change",
           "result");
    for (size_t i = 0; i < head->n_scenarios; i++) {
        const struct rpt_scenario *h = &head->scenarios[i];
        const struct rpt_scenario *b = find_scenario(base, h->name);
        double hv = isfinite(h->growth_bytes_per_round) ? h->growth_bytes_per_round : 0;
        double bv = b && isfinite(b->growth_bytes_per_round) ? b->growth_bytes_per_round : 0;
        bool worse = hv - bv > tol;
        if (worse) {
            status = 1;
        }
        char line[128];
        fmt_c(line, sizeof(line), "%16.1f %16.1f %+16.1f", bv, hv, hv - bv);
        char nb[256];
        printf("%-32s %s  %s%s\n", one_line(h->name, nb, sizeof(nb)), line, worse ? "WORSE" : "ok",
               b ? "" : " (new scenario)");
        for (size_t k = 0; k < h->n_sites; k++) {
            const struct rpt_site *hs = &h->sites[k];
            const struct rpt_site *bs = find_site(b, hs);
            double d = hs->bytes_per_round - (bs ? bs->bytes_per_round : 0);
            if (fabs(d) <= tol && bs) {
                continue;
            }
            char where[512];
            fmt_where(where, sizeof(where), hs->function, hs->file, hs->line);
            fmt_c(line, sizeof(line), "%+.1f", d);
            char wb[512];
            printf("    %s: %s bytes/round%s\n", one_line(where, wb, sizeof(wb)), line,
                   bs ? "" : " (new site)");
        }
    }
    for (size_t i = 0; i < base->n_scenarios; i++) {
        if (!find_scenario(head, base->scenarios[i].name)) {
            char nb[256];
            printf("%-32s missing from head\n", one_line(base->scenarios[i].name, nb, sizeof(nb)));
        }
    }
    rpt_run_free(base);
    rpt_run_free(head);
    return status;
}

static const char merge_help[] =
    "usage: leakcheck merge --out DIR SHARD/report.json...\n"
    "\n"
    "Joins the JSON reports of shards (leakcheck run --shard i/n) into one run and writes\n"
    "every report into DIR. Run-level fields (commit, start time, agent) come from the first\n"
    "report. A scenario name found in two shards is an error.\n";

/* Moves the scenarios of `src` to the end of `dst` (src keeps none). */
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

int cmd_merge(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *out = NULL;
    int first = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(merge_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) {
                return usage_error("merge", "--out needs a directory", NULL);
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("merge", "unknown option", argv[i]);
        } else {
            if (!count) {
                first = i;
            }
            // Reports must follow one another; an option between them would be read as one.
            if (first + count != i) {
                return usage_error("merge", "put the reports after the options", NULL);
            }
            count++;
        }
    }
    if (!out) {
        return usage_error("merge", "missing --out DIR", NULL);
    }
    if (!count) {
        return usage_error("merge", "no reports to merge", NULL);
    }
    struct diag dg = {{0}};
    struct rpt_run *all = NULL;
    int status = 0;
    for (int i = first; i < first + count; i++) {
        struct rpt_run *r = NULL;
        if (rpt_json_read(argv[i], &r, &dg)) {
            fprintf(stderr, "error: %s\n", dg.msg);
            status = 2;
            break;
        }
        for (size_t k = 0; all && k < r->n_scenarios; k++) {
            if (find_scenario(all, r->scenarios[k].name)) {
                char nb[256];
                fprintf(stderr,
                        "error: %s: scenario '%s' is also in an earlier report; each "
                        "scenario must run in exactly one shard\n",
                        argv[i], one_line(r->scenarios[k].name, nb, sizeof(nb)));
                status = 2;
            }
        }
        if (status) {
            rpt_run_free(r);
            break;
        }
        if (!all) {
            all = r;
            continue;
        }
        if (merge_into(all, r)) {
            fprintf(stderr, "error: out of memory merging %s\n", argv[i]);
            rpt_run_free(r);
            status = 2;
            break;
        }
        rpt_run_free(r);
    }
    if (!status && rpt_write_all(all, out, &dg)) {
        fprintf(stderr, "error: %s\n", dg.msg);
        status = EXIT_IO;
    }
    if (!status) {
        size_t failed = 0;
        for (size_t i = 0; i < all->n_scenarios; i++) {
            failed += !all->scenarios[i].ok;
        }
        printf("merged %d reports, %zu scenarios (%zu failed) into %s\n", count, all->n_scenarios,
               failed, out);
    }
    rpt_run_free(all);
    return status;
}

static const char history_help[] =
    "usage: leakcheck history add --file H.jsonl --report R.json [--max-commits N]\n"
    "                             [--commit SHA] [--message MSG] [--date DATE]\n"
    "       leakcheck history render --file H.jsonl --out DIR\n"
    "\n"
    "add     appends one record per scenario of R.json for its commit (replacing the records\n"
    "        of that commit if it is already there) and keeps the last N commits (100).\n"
    "render  writes DIR/index.html, a self-contained dashboard of growth across commits.\n";

int cmd_history(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        if (argc < 2) {
            fputs(history_help, stderr);
            return 2;
        }
        fputs(history_help, stdout);
        return 0;
    }
    const char *sub = argv[1];
    bool add = strcmp(sub, "add") == 0;
    if (!add && strcmp(sub, "render") != 0) {
        return usage_error("history", "unknown subcommand", sub);
    }
    const char *file = NULL, *report = NULL, *out = NULL, *commit = NULL, *message = NULL,
               *date = NULL;
    double max_commits = RPT_HISTORY_DEFAULT_COMMITS;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(history_help, stdout);
            return 0;
        }
        if (strcmp(a, "--file") == 0) {
            dst = &file;
        } else if (add && strcmp(a, "--report") == 0) {
            dst = &report;
        } else if (add && strcmp(a, "--commit") == 0) {
            dst = &commit;
        } else if (add && strcmp(a, "--message") == 0) {
            dst = &message;
        } else if (add && strcmp(a, "--date") == 0) {
            dst = &date;
        } else if (!add && strcmp(a, "--out") == 0) {
            dst = &out;
        } else if (add && strcmp(a, "--max-commits") == 0) {
            if (i + 1 >= argc || parse_num(argv[i + 1], &max_commits) || max_commits < 1 ||
                max_commits > 1e6 || floor(max_commits) != max_commits) {
                return usage_error("history",
                                   "--max-commits needs a whole number from 1 to "
                                   "1000000, not",
                                   i + 1 < argc ? argv[i + 1] : "");
            }
            i++;
            continue;
        } else {
            return usage_error("history", "unknown option", a);
        }
        if (i + 1 >= argc) {
            return usage_error("history", "option needs a value:", a);
        }
        *dst = argv[++i];
    }
    if (!file) {
        return usage_error("history", "missing --file H.jsonl", NULL);
    }
    struct diag dg = {{0}};
    struct rpt_history h = {0};
    int status = 0;
    if (rpt_history_read(file, &h, &dg)) {
        fprintf(stderr, "error: %s\n", dg.msg);
        return 2;
    }
    if (add) {
        struct rpt_run *run = NULL;
        if (!report) {
            rpt_history_cleanup(&h);
            return usage_error("history", "missing --report R.json", NULL);
        }
        if (rpt_json_read(report, &run, &dg) ||
            rpt_history_add(&h, run, commit, message, date, (size_t)max_commits, &dg)) {
            fprintf(stderr, "error: %s\n", dg.msg);
            status = 2;
        } else if (rpt_history_write(&h, file, &dg)) {
            fprintf(stderr, "error: %s\n", dg.msg);
            status = EXIT_IO;
        }
        rpt_run_free(run);
    } else {
        char path[PATH_MAX];
        struct buf b;
        buf_init(&b);
        if (!out) {
            rpt_history_cleanup(&h);
            return usage_error("history", "missing --out DIR", NULL);
        }
        int rc = file_mkdirs(out);
        if (rc) {
            fprintf(stderr, "error: %s: cannot create: %s\n", out, strerror(-rc));
            status = EXIT_IO;
        } else {
            rpt_html_dashboard(&h, &b);
            fmt_c(path, sizeof(path), "%s/index.html", out);
            if (file_write_buf(&b, path, &dg)) {
                fprintf(stderr, "error: %s\n", dg.msg);
                status = EXIT_IO;
            }
        }
        buf_cleanup(&b);
    }
    rpt_history_cleanup(&h);
    return status;
}
