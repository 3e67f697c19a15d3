/* SPDX-License-Identifier: MIT */
/* cmd_ci.c - `leakcheck report annotations|outputs` (see cmd_ci.h). Reads the
 * report with rpt_json_read() and prints what CI scripts consume:
 * workflow-command annotations and key=value outputs. Annotated files are
 * resolved against a root folder (the checkout), so a culprit inside a system
 * library is annotated at the first frame of the stack that is in the
 * repository instead. */
#include "cmd_ci.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../model/rpt.h"
#include "../reports/rpt_name.h"
#include "../reports/rpt_retain.h"
#include "../reports/rpt_write.h"
#include "../reports/rpt_json.h"
#include "../util/fmt.h"
#include "../util/json.h"

#define CI_DEFAULT_MAX 9 /* GitHub shows at most 10 error annotations per step: 9 + summary */

static const char report_help[] =
    "usage: leakcheck report annotations REPORT.json [--max N] [--level LEVEL] [--root DIR]\n"
    "       leakcheck report outputs REPORT.json\n"
    "\n"
    "annotations  GitHub workflow commands, one per culprit of each scenario that did\n"
    "             not meet its expectation (largest growth first, at most N, default 9),\n"
    "             then one summary line. LEVEL is error (default), warning or notice.\n"
    "             Files are made relative to DIR (default: the current folder); a\n"
    "             culprit outside DIR is annotated at the first frame inside DIR.\n"
    "outputs      key=value lines for $GITHUB_OUTPUT: verdict (pass, leak, error,\n"
    "             inconclusive or no-leak), passed, scenarios, failed,\n"
    "             growth-bytes-per-round, growth (JSON object: scenario -> bytes per\n"
    "             round), commit, culprit, reason.\n";

size_t cmd_ci_escape(char *out, size_t len, const char *s, int property)
{
    size_t o = 0;
    if (!len) {
        return 0;
    }
    for (const char *p = s ? s : ""; *p; p++) {
        const char *rep = NULL;
        char one[2] = {*p, '\0'};
        unsigned char c = (unsigned char)*p;
        if (c == '%') {
            rep = "%25";
        } else if (c == '\r') {
            rep = "%0D";
        } else if (c == '\n') {
            rep = "%0A";
        } else if (property && c == ':') {
            rep = "%3A";
        } else if (property && c == ',') {
            rep = "%2C";
        } else if (c < 0x20 || c == 0x7f) {
            one[0] = '?';
            rep = one;
        } else {
            rep = one;
        }
        size_t n = strlen(rep);
        if (o + n + 1 > len) {
            break;
        }
        memcpy(out + o, rep, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

/* Resolves `file` to a path relative to `root` naming an existing regular file.
 * Absolute paths must lie under root; relative ones are taken from root.
 * Returns true and fills `rel`, or false. */
static bool ci_resolve(const char *root, const char *file, char *rel, size_t len)
{
    char path[PATH_MAX];
    struct stat st;
    const char *r = NULL;
    size_t rl = strlen(root);
    if (!file || !*file) {
        return false;
    }
    if (file[0] == '/') {
        if (strncmp(file, root, rl) != 0 || file[rl] != '/') {
            return false;
        }
        r = file + rl + 1;
    } else {
        r = file;
    }
    while (strncmp(r, "./", 2) == 0) {
        r += 2;
    }
    // A path that climbs out of the root is not in the repository, whatever it
    // names.
    if (!*r || strncmp(r, "../", 3) == 0 || strstr(r, "/../")) {
        return false;
    }
    if (fmt_c(path, sizeof(path), "%s/%s", root, r) >= (int)sizeof(path)) {
        return false;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    cli_one_line(rel, len, r);
    return true;
}

/* One annotation to print: a culprit site, or a whole scenario that failed
 * without one. */
struct ci_note {
    const struct rpt_scenario *sc;
    const struct rpt_site *site; /* NULL for a scenario-level note */
    double weight;               /* sort key: bytes per round (scenario notes first) */
    size_t order;                /* original position, for a stable sort */
};

/* Orders notes: scenario-level first, then by growth descending, then as found.
 */
static int ci_note_cmp(const void *a, const void *b)
{
    const struct ci_note *x = a;
    const struct ci_note *y = b;
    if (x->weight != y->weight) {
        return x->weight > y->weight ? -1 : 1;
    }
    return x->order < y->order ? -1 : (x->order > y->order ? 1 : 0);
}

/* Prints one workflow command: `::LEVEL file=F,line=L,title=T::MSG`. file may
 * be NULL. */
static void ci_print_command(const char *level, const char *file, uint32_t line, const char *title,
                             const char *msg)
{
    char ef[PATH_MAX * 3];
    char et[1024];
    char em[4096];
    cmd_ci_escape(et, sizeof(et), title, 1);
    cmd_ci_escape(em, sizeof(em), msg, 0);
    if (file) {
        cmd_ci_escape(ef, sizeof(ef), file, 1);
        if (line) {
            printf("::%s file=%s,line=%u,title=%s::%s\n", level, ef, line, et, em);
        } else {
            printf("::%s file=%s,title=%s::%s\n", level, ef, et, em);
        }
    } else {
        printf("::%s title=%s::%s\n", level, et, em);
    }
}

/* Prints the annotation of one note. */
static void ci_print_note(const struct ci_note *n, const char *level, const char *root)
{
    const struct rpt_scenario *sc = n->sc;
    char name[256];
    char rel[PATH_MAX];
    char title[512];
    char msg[2048];
    cli_one_line(name, sizeof(name), sc->name ? sc->name : "(unnamed)");
    if (!n->site) {
        const char *why = sc->error ? sc->error : sc->reason;
        bool have = ci_resolve(root, sc->file, rel, sizeof(rel));
        fmt_c(title, sizeof(title), "leakcheck: %s: %s (expected %s)", name,
              rpt_verdict_name(sc->verdict), rpt_expect_name(sc->expect));
        fmt_c(msg, sizeof(msg), "%s", why ? why : "no reason recorded");
        ci_print_command(level, have ? rel : NULL, have ? 1 : 0, title, msg);
        return;
    }
    const struct rpt_site *s = n->site;
    char where[512];
    char bytes[64];
    char limit[64];
    uint32_t line = s->line;
    bool have = ci_resolve(root, s->file, rel, sizeof(rel));
    // A culprit in a library or a system header: annotate the first caller in the
    // checkout.
    for (size_t i = 0; !have && i < s->n_frames; i++) {
        have = ci_resolve(root, s->frames[i].file, rel, sizeof(rel));
        line = s->frames[i].line;
    }
    rpt_name_site(sc, s, false, where, sizeof(where));
    fmt_bytes(bytes, sizeof(bytes), s->bytes_per_round);
    fmt_bytes(limit, sizeof(limit), sc->threshold_bytes_per_round);
    fmt_c(title, sizeof(title), "leakcheck: %s leaks +%s per round", name, bytes);
    fmt_c(msg, sizeof(msg),
          "%s keeps +%s (%.1f blocks) more every round; %u of %u measured "
          "rounds left "
          "blocks behind here (limit %s per round for the scenario)",
          where, bytes, s->blocks_per_round, s->rounds_with_survivors, s->measured_rounds, limit);
    char held[1536];
    if (rpt_retain_line(sc, s, false, held, sizeof(held))) {
        size_t used = strlen(msg);
        fmt_c(msg + used, sizeof(msg) - used, "; %s", held);
    }
    char safe[sizeof(msg)];
    cli_one_line(safe, sizeof(safe), msg);
    ci_print_command(level, have ? rel : NULL, have ? line : 0, title, safe);
}

/* Prints the summary annotation: how many scenarios of `run` failed (`failed` > 0), which,
 * and how many culprits were left out (`hidden`). */
static void ci_print_summary(const struct rpt_run *run, const char *level, size_t failed,
                             size_t hidden)
{
    char msg[2048];
    char names[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < run->n_scenarios && o + 1 < sizeof(names); i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        if (!sc->ok) {
            char nm[256];
            cli_one_line(nm, sizeof(nm), sc->name ? sc->name : "(unnamed)");
            int w = fmt_c(names + o, sizeof(names) - o, "%s%s (%s)", o ? ", " : "", nm,
                          rpt_verdict_name(sc->verdict));
            o = w < 0 ? o : (o + (size_t)w < sizeof(names) ? o + (size_t)w : sizeof(names) - 1);
        }
    }
    if (hidden) {
        fmt_c(msg, sizeof(msg),
              "%zu of %zu scenarios did not meet their expectation: %s; %zu more culprits are "
              "not annotated, see the job summary and report.json",
              failed, run->n_scenarios, names, hidden);
    } else {
        fmt_c(msg, sizeof(msg), "%zu of %zu scenarios did not meet their expectation: %s", failed,
              run->n_scenarios, names);
    }
    ci_print_command(level, NULL, 0, "leakcheck", msg);
}

/* Prints a warning annotation for each scenario whose memory outside tracked blocks grew
 * (analysis/rss.h), whatever its verdict. */
static void ci_print_rss_warnings(const struct rpt_run *run)
{
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        if (!sc->rss_warning) {
            continue;
        }
        char name[256];
        char title[512];
        char msg[2048];
        cli_one_line(name, sizeof(name), sc->name ? sc->name : "(unnamed)");
        fmt_c(title, sizeof(title), "leakcheck: %s: memory outside tracked blocks grows", name);
        cli_one_line(msg, sizeof(msg), sc->rss_warning);
        ci_print_command("warning", NULL, 0, title, msg);
    }
}

/* At most this many warnings for sites that leak under the threshold (GitHub shows 10
 * annotations of a kind per step). */
#define CI_MAX_WARNINGS 5

/* Prints a ::warning for each site that leaks under its scenario's threshold (whatever the
 * verdict: such a site passes, and the warning is the only place a reviewer sees it), at the
 * site's line when it is in the checkout. */
static void ci_print_warnings(const struct rpt_run *run, const char *root)
{
    size_t n = 0;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        for (size_t k = 0; sc->verdict != RPT_VERDICT_ERROR && k < sc->n_sites; k++) {
            const struct rpt_site *s = &sc->sites[k];
            if (!rpt_site_leaks_under_threshold(s) || n++ >= CI_MAX_WARNINGS) {
                continue;
            }
            char name[256];
            char title[512];
            char text[1024];
            char safe[1024];
            char rel[PATH_MAX];
            uint32_t line = s->line;
            bool have = ci_resolve(root, s->file, rel, sizeof(rel));
            for (size_t f = 0; !have && f < s->n_frames; f++) {
                have = ci_resolve(root, s->frames[f].file, rel, sizeof(rel));
                line = s->frames[f].line;
            }
            cli_one_line(name, sizeof(name), sc->name ? sc->name : "(unnamed)");
            fmt_c(title, sizeof(title), "leakcheck: %s: a site leaks under the threshold", name);
            rpt_under_threshold_text(sc, s, text, sizeof(text));
            cli_one_line(safe, sizeof(safe), text);
            ci_print_command("warning", have ? rel : NULL, have ? line : 0, title, safe);
        }
    }
    if (n > CI_MAX_WARNINGS) {
        char msg[128];
        fmt_c(msg, sizeof(msg), "%zu more sites leak under the threshold; see report.json",
              n - CI_MAX_WARNINGS);
        ci_print_command("warning", NULL, 0, "leakcheck", msg);
    }
}

/* `report annotations`. */
static int ci_annotations(const struct rpt_run *run, long max, const char *level, const char *root)
{
    size_t cap = 0, n = 0, failed = 0;
    for (size_t i = 0; i < run->n_scenarios; i++) {
        cap += 1 + run->scenarios[i].n_sites;
    }
    struct ci_note *notes = calloc(cap ? cap : 1, sizeof(*notes));
    if (!notes) {
        cli_error("out of memory listing culprits");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        size_t before = n;
        if (sc->ok) {
            continue;
        }
        failed++;
        if (sc->verdict == RPT_VERDICT_LEAK) {
            for (size_t k = 0; k < sc->n_sites; k++) {
                if (sc->sites[k].suspect) {
                    notes[n] = (struct ci_note){sc, &sc->sites[k], sc->sites[k].bytes_per_round, n};
                    n++;
                }
            }
        }
        if (n == before) {
            notes[n] = (struct ci_note){sc, NULL, INFINITY, n};
            n++;
        }
    }
    qsort(notes, n, sizeof(*notes), ci_note_cmp);
    size_t shown = n < (size_t)max ? n : (size_t)max;
    for (size_t i = 0; i < shown; i++) {
        ci_print_note(&notes[i], level, root);
    }
    if (failed) {
        ci_print_summary(run, level, failed, n - shown);
    }
    ci_print_rss_warnings(run);
    ci_print_warnings(run, root);
    free(notes);
    return CLI_EXIT_OK;
}

/* Rank of a failing verdict for the run's one-word verdict: higher is more
 * severe. */
static int ci_severity(enum rpt_verdict v)
{
    switch (v) {
    case RPT_VERDICT_LEAK:
        return 4;
    case RPT_VERDICT_ERROR:
        return 3;
    case RPT_VERDICT_INCONCLUSIVE:
        return 2;
    case RPT_VERDICT_NO_LEAK:
        return 1;
    }
    return 0;
}

/* Prints the outputs commit, culprit (the first suspect of `top`) and reason (why `top`, the
 * failing scenario with the largest growth, failed; empty when none did). */
static void ci_print_culprit(const struct rpt_run *run, const struct rpt_scenario *top)
{
    char line[2048] = "";
    char where[1024] = "";
    if (top) {
        for (size_t k = 0; k < top->n_sites; k++) {
            if (top->sites[k].suspect) {
                const struct rpt_site *s = &top->sites[k];
                rpt_name_site(top, s, false, line, sizeof(line));
                break;
            }
        }
        cli_one_line(where, sizeof(where), line);
        char nm[256];
        const char *why = top->error ? top->error : top->reason;
        cli_one_line(nm, sizeof(nm), top->name ? top->name : "(unnamed)");
        fmt_c(line, sizeof(line), "%s: %s", nm, why ? why : rpt_verdict_name(top->verdict));
    }
    char reason[2048];
    cli_one_line(reason, sizeof(reason), line);
    char commit[128];
    cli_one_line(commit, sizeof(commit), run->commit);
    printf("commit=%s\n", commit);
    printf("culprit=%s\n", where);
    printf("reason=%s\n", top ? reason : "");
}

/* `report outputs`. */
static int ci_outputs(const struct rpt_run *run)
{
    size_t failed = 0;
    int worst = 0;
    const char *verdict = "pass";
    const struct rpt_scenario *top = NULL; /* failing scenario with the largest growth */
    double max_growth = 0;
    bool any = false;
    cJSON *growth = cJSON_CreateObject();
    if (!growth) {
        cli_error("out of memory writing outputs");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        double g = isfinite(sc->growth_bytes_per_round) ? sc->growth_bytes_per_round : 0;
        char nm[256];
        cli_one_line(nm, sizeof(nm), sc->name ? sc->name : "(unnamed)");
        if (!cJSON_GetObjectItemCaseSensitive(growth, nm)) {
            cJSON_AddNumberToObject(growth, nm, round(g * 10) / 10);
        }
        if (!any || g > max_growth) {
            max_growth = g;
            any = true;
        }
        if (sc->ok) {
            continue;
        }
        failed++;
        if (ci_severity(sc->verdict) > worst) {
            worst = ci_severity(sc->verdict);
            verdict = rpt_verdict_name(sc->verdict);
        }
        double tg = top && isfinite(top->growth_bytes_per_round) ? top->growth_bytes_per_round : 0;
        if (!top || g > tg) {
            top = sc;
        }
    }
    char *json = json_print(growth, false);
    cJSON_Delete(growth);
    if (!json) {
        cli_error("out of memory writing outputs");
        return CLI_EXIT_USAGE;
    }
    char num[64];
    fmt_c(num, sizeof(num), "%.1f", max_growth);
    printf("verdict=%s\n", verdict);
    printf("passed=%s\n", failed ? "false" : "true");
    printf("scenarios=%zu\n", run->n_scenarios);
    printf("failed=%zu\n", failed);
    printf("growth-bytes-per-round=%s\n", num);
    printf("growth=%s\n", json);
    free(json);
    ci_print_culprit(run, top);
    return CLI_EXIT_OK;
}

/* Parses a whole number in [lo, hi]. */
static int ci_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    if (!s || !*s) {
        return -EINVAL;
    }
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Options of `report`; strings borrowed from argv. */
struct ci_args {
    bool annotations; /* else outputs */
    const char *report;
    const char *level;
    const char *root; /* NULL: the current folder */
    long max;
};

/* Parses the value `v` of an annotations option `opt` (--max, --level or --root). Returns
 * CLI_CONTINUE or a usage error's code. */
static int ci_parse_value(struct ci_args *a, const char *opt, const char *v)
{
    if (strcmp(opt, "--max") == 0) {
        if (ci_parse_long(v, 0, 1000, &a->max)) {
            return cli_usage_error("report", "--max needs a whole number from 0 to 1000, not '%s'",
                                   v);
        }
    } else if (strcmp(opt, "--level") == 0) {
        if (strcmp(v, "error") != 0 && strcmp(v, "warning") != 0 && strcmp(v, "notice") != 0) {
            return cli_usage_error("report", "--level must be error, warning or notice, not '%s'",
                                   v);
        }
        a->level = v;
    } else {
        a->root = v;
    }
    return CLI_CONTINUE;
}

/* True for an option that takes a value in the current subcommand. */
static bool ci_has_value(const struct ci_args *a, const char *opt)
{
    return a->annotations &&
           (strcmp(opt, "--max") == 0 || strcmp(opt, "--level") == 0 || strcmp(opt, "--root") == 0);
}

/* Parses the options and the report after the subcommand word. Returns CLI_CONTINUE or an
 * exit code (help, usage error). */
static int ci_parse_opts(int argc, char **argv, struct ci_args *a)
{
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        int code = CLI_CONTINUE;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(report_help, stdout);
            return CLI_EXIT_OK;
        }
        if (ci_has_value(a, o)) {
            if (i + 1 >= argc) {
                return cli_usage_error("report", "option needs a value: '%s'", o);
            }
            i++;
            code = ci_parse_value(a, o, argv[i]);
        } else if (o[0] == '-' && o[1]) {
            code = cli_usage_error("report", "unknown option '%s'", o);
        } else if (!a->report) {
            a->report = o;
        } else {
            code = cli_usage_error("report", "expected one report, found another: '%s'", o);
        }
        if (code != CLI_CONTINUE) {
            return code;
        }
    }
    if (!a->report) {
        return cli_usage_error("report", "missing REPORT.json");
    }
    return CLI_CONTINUE;
}

/* Parses `report`'s arguments: the subcommand, then its options. Returns CLI_CONTINUE or an
 * exit code (help, usage error). */
static int ci_parse_args(int argc, char **argv, struct ci_args *a)
{
    static const char *const subs[] = {"annotations", "outputs", NULL};
    size_t which = 0;
    int code = cli_subcommand(argc, argv, "report", report_help, subs, &which);
    if (code != CLI_CONTINUE) {
        return code;
    }
    a->annotations = which == 0;
    return ci_parse_opts(argc, argv, a);
}

/* The root files are made relative to: --root (or the current folder) without trailing
 * slashes, into `out` (PATH_MAX). Returns CLI_CONTINUE or an exit code after the error. */
static int ci_root(const char *root, char *out)
{
    char cwd[PATH_MAX];
    if (!root) {
        if (!getcwd(cwd, sizeof(cwd))) {
            cli_error("cannot read the current folder: %s; pass --root DIR", strerror(errno));
            return CLI_EXIT_USAGE;
        }
        root = cwd;
    }
    size_t rl = strlen(root);
    if (rl >= PATH_MAX) {
        return cli_usage_error("report", "--root is too long: '%s'", root);
    }
    memcpy(out, root, rl + 1);
    while (rl > 1 && out[rl - 1] == '/') {
        out[--rl] = '\0';
    }
    return CLI_CONTINUE;
}

int cmd_ci_report(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    struct ci_args a = {.level = "error", .max = CI_DEFAULT_MAX};
    char root[PATH_MAX];
    int code = ci_parse_args(argc, argv, &a);
    if (code == CLI_CONTINUE) {
        code = ci_root(a.root, root);
    }
    if (code != CLI_CONTINUE) {
        return code;
    }
    struct rpt_run *run = NULL;
    struct diag dg = {{0}};
    if (rpt_json_read(a.report, &run, &dg)) {
        cli_error("%s", dg.msg);
        return CLI_EXIT_USAGE;
    }
    code = a.annotations ? ci_annotations(run, a.max, a.level, root) : ci_outputs(run);
    rpt_run_free(run);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        code = CLI_EXIT_USAGE;
    }
    return code;
}
