/* SPDX-License-Identifier: MIT */
/* cli.c - the `leakcheck` command: subcommands, options, help texts, progress and tables.
 *
 * Each subcommand parses its own options with getopt_long; `run` splits its arguments at "--"
 * first (before: options and scenario files; after: the program for the quick stdio form).
 * Messages follow git's style: "error: what failed: why (what to do)".
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../analysis/analysis.h"
#include "../analysis/snap.h"
#include "../model/rpt.h"
#include "../reports/rpt_write.h"
#include "../util/clock.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "cmd_ci.h"
#include "cmd_reports.h"
#include "scn.h"
#include "session.h"
#include "target.h"

#define AGENT_NAME         "libleakcheck-agent.so"
#define DEFAULT_REPORT_DIR "leakcheck-reports"

/* Settings shared by every subcommand. */
struct cli {
    int verbose; /* -1 quiet, 0 normal, 1 verbose */
    const char *agent;
    bool tty;
};

static void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (try 'leakcheck %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* ---------------------------------------------------------------- help */

static const char help_main[] =
    "usage: leakcheck [--quiet | --verbose] [--agent PATH] COMMAND [ARGS]\n"
    "\n"
    "Finds memory a C or C++ program keeps more of every time it does the same work.\n"
    "\n"
    "commands:\n"
    "  run        run scenarios (or one program with the stdio driver) and judge them\n"
    "  validate   check scenario files without running them\n"
    "  analyze    analyse a recorded snapshots.bin again and write reports\n"
    "  exec       run a program with the agent preloaded and a control channel\n"
    "  compare    compare two JSON reports\n"
    "  merge      merge shard reports into one\n"
    "  history    append a report to the per-commit history and draw the dashboard\n"
    "  report     print a report's CI annotations and outputs\n"
    "\n"
    "options:\n"
    "  -q, --quiet        print only errors, and the final table when a scenario failed\n"
    "  -v, --verbose      print the per-round table too\n"
    "      --agent PATH   the agent library (default: $LEAKCHECK_AGENT, then beside leakcheck)\n"
    "  -h, --help         show help ('leakcheck COMMAND --help' for a command)\n"
    "  -V, --version      show the version\n"
    "\n"
    "exit status: 0 every scenario met its expectation, 1 a leak or another unexpected verdict,\n"
    "2 usage or input error, 3 the run itself failed (target crashed, hung, not found; agent\n"
    "not loaded).\n";

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
    "      --expect leak|no-leak|any  what the scenario should find (default no-leak)\n"
    "      --round-timeout SECS    per-round timeout (default 60)\n"
    "      --report-dir DIR        where reports go (default leakcheck-reports)\n"
    "      --shard I/N             run only shard I of N of the scenario files (sorted by path)\n"
    "      --agent PATH            the agent library\n"
    "  -q, --quiet                 silent on success; errors, and the table on failure\n"
    "  -v, --verbose               also the per-round table\n"
    "\n"
    "example:\n"
    "  leakcheck run --rounds 8 --warmup 2 --requests-per-round 50 --request 'put k{round}-{i}' "
    "\\\n"
    "      -- ./kvstore\n";

static const char help_validate[] =
    "usage: leakcheck validate SCENARIO.json...\n"
    "\n"
    "Checks scenario files (keys, types, placeholders, regular expressions) without running\n"
    "anything. Exit status 0 when all are valid, 2 otherwise. See docs/SCENARIOS.md.\n";

static const char help_analyze[] =
    "usage: leakcheck analyze [options] SNAPSHOTS.bin\n"
    "\n"
    "Analyses a recording written by 'leakcheck run' (REPORT-DIR/NAME/snapshots.bin) again and\n"
    "writes reports. Settings come from the scenario.json beside the recording unless given.\n"
    "\n"
    "options:\n"
    "      --scenario FILE     take settings (warm-up, threshold, suppressions...) from FILE\n"
    "      --warmup W          warm-up rounds\n"
    "      --threshold BYTES   leak threshold in bytes per round\n"
    "      --expect leak|no-leak|any\n"
    "      --name NAME         scenario name\n"
    "      --report-dir DIR    where reports go (default leakcheck-reports)\n";

static const char help_exec[] =
    "usage: leakcheck exec [--record FILE] [--] PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with the agent preloaded and LEAKCHECK_FD set to a channel served by\n"
    "leakcheck, takes a start-up snapshot, waits for the program to end and exits with its\n"
    "status. --record writes the channel's bytes to FILE for 'leakcheck analyze'.\n"
    "LEAKCHECK_INPROC=1 is set too, so unit tests using include/leakcheck.h measure\n"
    "themselves (see docs/INPROC.md).\n";

/* ---------------------------------------------------------------- small helpers */

/* Checked unsigned parser: no empty string, junk, sign or overflow. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+') {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!s || !*s) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int cli_parse_shard(const char *s, unsigned *index, unsigned *count, struct diag *d)
{
    const char *slash = strchr(s, '/');
    unsigned long i;
    unsigned long n;
    char left[32];
    if (!slash || (size_t)(slash - s) >= sizeof(left)) {
        return diag_set(d, -EINVAL, "--shard: expected I/N (e.g. 2/4), found '%s'", s);
    }
    memcpy(left, s, (size_t)(slash - s));
    left[slash - s] = '\0';
    if (parse_uint(left, 10000, &i) < 0 || parse_uint(slash + 1, 10000, &n) < 0 || i < 1 || n < 1 ||
        i > n) {
        return diag_set(d, -EINVAL, "--shard: expected I/N with 1 <= I <= N, found '%s'", s);
    }
    *index = (unsigned)i;
    *count = (unsigned)n;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t cli_shard_select(char **paths, size_t n, unsigned index, unsigned count)
{
    qsort(paths, n, sizeof(*paths), cmp_str);
    size_t k = 0;
    for (size_t i = index - 1; i < n; i += count) {
        char *p = paths[i];
        memmove(paths + k + 1, paths + k, (i - k) * sizeof(*paths));
        paths[k++] = p;
    }
    return k;
}

int cli_find_agent(const char *opt, const char *self_exe, char *out, size_t len, struct diag *d)
{
    char tried[4 * PATH_MAX] = "";
    size_t tl = 0;
    const char *env = getenv("LEAKCHECK_AGENT");
    char cand[2][PATH_MAX];
    const char *list[4];
    size_t n = 0;
    if (opt) {
        list[n++] = opt;
    } else if (env && *env) {
        list[n++] = env;
    } else if (self_exe) {
        const char *slash = strrchr(self_exe, '/');
        int dl = slash ? (int)(slash - self_exe) : 1;
        const char *dir = slash ? self_exe : ".";
        snprintf(cand[0], sizeof(cand[0]), "%.*s/%s", dl, dir, AGENT_NAME);
        snprintf(cand[1], sizeof(cand[1]), "%.*s/../lib/leakcheck/%s", dl, dir, AGENT_NAME);
        list[n++] = cand[0];
        list[n++] = cand[1];
    }
    for (size_t i = 0; i < n; i++) {
        if (file_is_regular(list[i])) {
            char *real = realpath(list[i], NULL);
            snprintf(out, len, "%s", real ? real : list[i]);
            free(real);
            return 0;
        }
        tl += (size_t)snprintf(tried + tl, tl < sizeof(tried) ? sizeof(tried) - tl : 0, "%s'%s'",
                               i ? ", " : "", list[i]);
    }
    return diag_set(d, -ENOENT,
                    "agent library not found (tried %s); build it with 'make' or point --agent "
                    "or LEAKCHECK_AGENT at %s",
                    n ? tried : "nothing", AGENT_NAME);
}

/* ---------------------------------------------------------------- terminal output */

struct progress {
    struct cli *cli;
    size_t index, count;
    bool line_open;
};

static void progress_cb(void *arg, const struct scn *s, const struct rpt_round *rounds,
                        size_t n_done)
{
    size_t round_idx = n_done ? n_done - 1 : SIZE_MAX;
    struct progress *p = arg;
    if (p->cli->verbose < 0) {
        return;
    }
    uint32_t total = s->warmup + s->rounds;
    if (round_idx == SIZE_MAX) {
        if (p->cli->verbose > 0) {
            fprintf(stderr, "%-7s %-6s %12s %12s %12s %10s\n", "round", "phase", "live bytes",
                    "live blocks", "rss", "work (ms)");
        }
        return;
    }
    const struct rpt_round *r = &rounds[round_idx];
    char live[32];
    char rate[32];
    fmt_bytes(live, sizeof(live), (double)r->live_bytes);
    double per = round_idx > 0
                     ? ((double)r->live_bytes - (double)rounds[0].live_bytes) / (double)round_idx
                     : 0;
    fmt_bytes_signed(rate, sizeof(rate), per);
    if (p->cli->verbose > 0) {
        char rss[32];
        fmt_bytes(rss, sizeof(rss), (double)r->rss_bytes);
        fprintf(stderr, "%-7u %-6s %12llu %12llu %12s %10.1f\n", r->round,
                r->warmup ? "warmup" : "", (unsigned long long)r->live_bytes,
                (unsigned long long)r->live_blocks, rss, r->seconds * 1000.0);
    } else if (p->cli->tty) {
        fprintf(stderr, "\r\033[K%s: round %u/%u  live %s  %s/round", s->name, r->round, total,
                live, rate);
        p->line_open = true;
    } else if (round_idx + 1 == total || (round_idx + 1) % 10 == 0) {
        fprintf(stderr, "%s: round %u/%u  live %s  %s/round\n", s->name, r->round, total, live,
                rate);
    }
    fflush(stderr);
}

static void progress_end(struct progress *p)
{
    if (p->line_open) {
        fputs("\r\033[K", stderr);
        p->line_open = false;
    }
}

/* "function (file:line)" of the top suspect, or of the biggest grower. */
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

static void print_table(const struct rpt_run *run, const char *report_dir)
{
    printf("%-24s %-12s %-4s %14s  %s\n", "scenario", "verdict", "ok", "growth/round",
           "top culprit");
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *sc = &run->scenarios[i];
        char g[32];
        fmt_bytes_signed(g, sizeof(g), sc->growth_bytes_per_round);
        const struct rpt_site *t = top_site(sc);
        char culprit[512] = "-";
        if (t) {
            char b[32];
            const char *file = t->file ? strrchr(t->file, '/') : NULL;
            file = file ? file + 1 : t->file;
            fmt_bytes_signed(b, sizeof(b), t->bytes_per_round);
            if (file) {
                snprintf(culprit, sizeof(culprit), "%s (%s:%u) %s/round, %+.1f blocks/round",
                         t->function ? t->function : "??", file, t->line, b, t->blocks_per_round);
            } else {
                snprintf(culprit, sizeof(culprit), "%s %s/round, %+.1f blocks/round",
                         t->function ? t->function : "??", b, t->blocks_per_round);
            }
        }
        printf("%-24s %-12s %-4s %14s  %s\n", sc->name, rpt_verdict_name(sc->verdict),
               sc->ok ? "yes" : "NO", sc->verdict == RPT_VERDICT_ERROR ? "-" : g, culprit);
        if (sc->reason && sc->verdict != RPT_VERDICT_ERROR) {
            printf("    %s\n", sc->reason);
        }
    }
    if (report_dir) {
        printf("reports: %s/report.json\n", report_dir);
    }
}

/* Commit of the code under test: $LEAKCHECK_COMMIT, $GITHUB_SHA, else `git rev-parse HEAD`. */
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
    FILE *f = popen("git rev-parse HEAD 2>/dev/null", "r");
    if (!f) {
        return;
    }
    char buf[128];
    if (fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        if (strlen(buf) >= 7) {
            run->commit = strdup(buf);
        }
    }
    pclose(f);
    f = popen("git log -1 --format=%s 2>/dev/null", "r");
    if (f && fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\r\n")] = '\0';
        run->commit_message = strdup(buf);
    }
    if (f) {
        pclose(f);
    }
}

static struct rpt_run *run_new(void)
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

/* Exit code for a finished run. */
static int run_exit_code(const struct rpt_run *run)
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

static int write_reports(struct rpt_run *run, const char *dir)
{
    struct diag dg = {{0}};
    int rc = rpt_write_all(run, dir, &dg);
    if (rc < 0) {
        error_msg("%s", dg.msg[0] ? dg.msg : "can't write the reports");
        return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- run */

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
};

static const struct option run_long[] = {
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
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Options of run and analyze. */
struct run_args {
    long rounds, warmup, rpr, round_timeout_s;
    double threshold;
    bool have_threshold;
    int expect; /* -1 unset */
    const char **requests;
    size_t n_requests;
    const char *requests_file, *requests_command, *report_dir, *name, *shard, *ready_line;
    const char *scenario, *record;
    char **files;
    size_t n_files;
};

/* Splits a command line on spaces (no quoting, no shell) into a NULL-terminated argv. */
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
            for (size_t i = 0; i < n; i++) {
                free(v[i]);
            }
            free(v);
            return NULL;
        }
        n++;
        p += len;
    }
    return v;
}

/* Parses options of `cmd` from argv[0..argc-1] (argv[0] is the subcommand). Returns -1 to go
 * on, or an exit code. */
static int parse_run_args(struct cli *cli, const char *cmd, const char *help, int argc, char **argv,
                          struct run_args *a)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":qvh", run_long, NULL)) != -1) {
        unsigned long v;
        switch (c) {
        case OPT_ROUNDS:
            if (parse_uint(optarg, SCN_MAX_ROUNDS, &v) < 0 || v < 2) {
                return usage_error(cmd, "--rounds: expected an integer from 2 to %u, found '%s'",
                                   SCN_MAX_ROUNDS, optarg);
            }
            a->rounds = (long)v;
            break;
        case OPT_WARMUP:
            if (parse_uint(optarg, SCN_MAX_ROUNDS, &v) < 0) {
                return usage_error(cmd, "--warmup: expected an integer from 0 to %u, found '%s'",
                                   SCN_MAX_ROUNDS, optarg);
            }
            a->warmup = (long)v;
            break;
        case OPT_RPR:
            if (parse_uint(optarg, 10000000, &v) < 0 || v < 1) {
                return usage_error(cmd,
                                   "--requests-per-round: expected a positive integer, "
                                   "found '%s'",
                                   optarg);
            }
            a->rpr = (long)v;
            break;
        case OPT_ROUND_TIMEOUT:
            if (parse_uint(optarg, 86400, &v) < 0 || v < 1) {
                return usage_error(cmd,
                                   "--round-timeout: expected seconds from 1 to 86400, "
                                   "found '%s'",
                                   optarg);
            }
            a->round_timeout_s = (long)v;
            break;
        case OPT_REQUEST: {
            const char **r = realloc(a->requests, (a->n_requests + 1) * sizeof(*r));
            if (!r) {
                error_msg("out of memory");
                return CLI_EXIT_RUN;
            }
            a->requests = r;
            a->requests[a->n_requests++] = optarg;
            break;
        }
        case OPT_REQFILE:
            a->requests_file = optarg;
            break;
        case OPT_REQCMD:
            a->requests_command = optarg;
            break;
        case OPT_THRESHOLD:
            if (parse_double(optarg, &a->threshold) < 0) {
                return usage_error(cmd, "--threshold: expected a number of bytes >= 0, found '%s'",
                                   optarg);
            }
            a->have_threshold = true;
            break;
        case OPT_REPORT_DIR:
            a->report_dir = optarg;
            break;
        case OPT_NAME:
            a->name = optarg;
            break;
        case OPT_EXPECT:
            a->expect = rpt_expect_parse(optarg);
            if (a->expect < 0) {
                return usage_error(cmd, "--expect: expected leak, no-leak or any, found '%s'",
                                   optarg);
            }
            break;
        case OPT_SHARD:
            a->shard = optarg;
            break;
        case OPT_AGENT:
            cli->agent = optarg;
            break;
        case OPT_READY_LINE:
            a->ready_line = optarg;
            break;
        case OPT_SCENARIO:
            a->scenario = optarg;
            break;
        case OPT_RECORD:
            a->record = optarg;
            break;
        case 'q':
            cli->verbose = -1;
            break;
        case 'v':
            cli->verbose = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return CLI_EXIT_OK;
        case ':':
            return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    a->files = argv + optind;
    a->n_files = (size_t)(argc - optind);
    return -1;
}

/* Applies command-line overrides to a loaded scenario. */
static void apply_overrides(struct scn *s, const struct run_args *a)
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
    if (a->expect >= 0) {
        s->expect = (enum rpt_expect)a->expect;
    }
    if (a->round_timeout_s > 0) {
        s->round_timeout_ms = (int)(a->round_timeout_s * 1000);
    }
}

/* Builds the quick-form scenario from options and the program. Returns an exit code or -1. */
static int quick_scenario(const struct run_args *a, char **prog, int n_prog, struct scn **out)
{
    struct diag d = {{0}};
    struct scn *s = scn_new();
    if (!s) {
        error_msg("out of memory");
        return CLI_EXIT_RUN;
    }
    int sources = (a->n_requests > 0) + (a->requests_file != NULL) + (a->requests_command != NULL);
    if (sources != 1) {
        scn_free(s);
        return usage_error("run",
                           "give exactly one of --request, --requests-file, --requests-command "
                           "for the program after '--'");
    }
    const char *base = strrchr(prog[0], '/');
    free(s->name);
    s->name = strdup(a->name ? a->name : base ? base + 1 : prog[0]);
    s->argv = calloc((size_t)n_prog + 1, sizeof(*s->argv));
    for (int i = 0; s->argv && i < n_prog; i++) {
        s->argv[i] = strdup(prog[i]);
    }
    if (a->n_requests) {
        s->stdio.requests = calloc(a->n_requests, sizeof(*s->stdio.requests));
        s->stdio.n_requests = a->n_requests;
        for (size_t i = 0; s->stdio.requests && i < a->n_requests; i++) {
            s->stdio.requests[i] = strdup(a->requests[i]);
        }
    }
    if (a->requests_file) {
        s->stdio.requests_file = strdup(a->requests_file);
    }
    if (a->requests_command) {
        s->stdio.requests_command = split_words(a->requests_command);
        if (s->stdio.requests_command && !s->stdio.requests_command[0]) {
            scn_free(s);
            return usage_error("run", "--requests-command: empty command");
        }
    }
    if (a->rpr > 0) {
        s->stdio.requests_per_round = (unsigned)a->rpr;
    }
    if (a->ready_line) {
        s->ready = SCN_READY_STDOUT;
        s->ready_value = strdup(a->ready_line);
    }
    apply_overrides(s, a);
    if (a->expect < 0) {
        s->expect = RPT_EXPECT_NO_LEAK;
    }
    if (scn_finish(s, &d) < 0) {
        error_msg("%s", d.msg);
        scn_free(s);
        return CLI_EXIT_USAGE;
    }
    /* argv[0] with a slash is resolved against the current directory, as in scenario files. */
    if (s->argv && s->argv[0] && s->argv[0][0] != '/' && strchr(s->argv[0], '/')) {
        char *abs = realpath(s->argv[0], NULL);
        if (abs) {
            free(s->argv[0]);
            s->argv[0] = abs;
        }
    }
    *out = s;
    return -1;
}

static int self_exe(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n < 0) {
        return -errno;
    }
    buf[n] = '\0';
    return 0;
}

static int cmd_run(struct cli *cli, int argc, char **argv)
{
    int dd = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            dd = i;
            break;
        }
    }
    struct run_args a = {.rounds = -1, .warmup = -1, .rpr = -1, .expect = -1};
    int code = parse_run_args(cli, "run", help_run, dd >= 0 ? dd : argc, argv, &a);
    struct scn **scns = NULL;
    size_t n_scns = 0;
    struct rpt_run *run = NULL;
    char **files = NULL;
    if (code >= 0) {
        goto out;
    }
    char **prog = dd >= 0 ? argv + dd + 1 : NULL;
    int n_prog = dd >= 0 ? argc - dd - 1 : 0;
    if (dd >= 0 && n_prog == 0) {
        code = usage_error("run", "no program after '--'");
        goto out;
    }
    if (prog && a.n_files) {
        code = usage_error("run", "give scenario files or a program after '--', not both");
        goto out;
    }
    if (!prog && a.n_files == 0) {
        code = usage_error("run", "no scenario files and no program after '--'");
        goto out;
    }
    if (!prog && (a.n_requests || a.requests_file || a.requests_command || a.rpr > 0 ||
                  a.ready_line || a.name)) {
        code = usage_error("run", "--request, --requests-*, --ready-line and --name are for a "
                                  "program after '--', not for scenario files");
        goto out;
    }
    if (prog) {
        scns = calloc(1, sizeof(*scns));
        if (!scns) {
            error_msg("out of memory");
            code = CLI_EXIT_RUN;
            goto out;
        }
        code = quick_scenario(&a, prog, n_prog, &scns[0]);
        if (code >= 0) {
            goto out;
        }
        n_scns = 1;
    } else {
        files = calloc(a.n_files, sizeof(*files));
        if (!files) {
            error_msg("out of memory");
            code = CLI_EXIT_RUN;
            goto out;
        }
        memcpy(files, a.files, a.n_files * sizeof(*files));
        size_t n = a.n_files;
        if (a.shard) {
            unsigned si;
            unsigned sn;
            struct diag d = {{0}};
            if (cli_parse_shard(a.shard, &si, &sn, &d) < 0) {
                code = usage_error("run", "%s", d.msg);
                goto out;
            }
            n = cli_shard_select(files, n, si, sn);
            if (n == 0 && cli->verbose >= 0) {
                fprintf(stderr, "shard %u/%u has no scenarios\n", si, sn);
            }
        }
        scns = calloc(n ? n : 1, sizeof(*scns));
        if (!scns) {
            error_msg("out of memory");
            code = CLI_EXIT_RUN;
            goto out;
        }
        bool bad = false;
        for (size_t i = 0; i < n; i++) {
            struct diag d = {{0}};
            if (scn_load(files[i], &scns[n_scns], &d) < 0) {
                error_msg("%s", d.msg);
                bad = true;
                continue;
            }
            apply_overrides(scns[n_scns], &a);
            n_scns++;
        }
        if (bad) {
            code = CLI_EXIT_USAGE;
            goto out;
        }
    }

    char exe[PATH_MAX];
    char agent[PATH_MAX];
    struct diag d = {{0}};
    if (cli_find_agent(cli->agent, self_exe(exe, sizeof(exe)) == 0 ? exe : NULL, agent,
                       sizeof(agent), &d) < 0) {
        error_msg("%s", d.msg);
        code = CLI_EXIT_RUN;
        goto out;
    }
    const char *report_dir = a.report_dir ? a.report_dir : DEFAULT_REPORT_DIR;
    if (file_mkdirs(report_dir) < 0) {
        error_msg("can't create the report folder '%s': %s", report_dir, strerror(errno));
        code = CLI_EXIT_RUN;
        goto out;
    }
    run = run_new();
    if (!run) {
        error_msg("out of memory");
        code = CLI_EXIT_RUN;
        goto out;
    }
    run->scenarios = calloc(n_scns ? n_scns : 1, sizeof(*run->scenarios));
    if (!run->scenarios) {
        error_msg("out of memory");
        code = CLI_EXIT_RUN;
        goto out;
    }
    for (size_t i = 0; i < n_scns; i++) {
        char sub[256];
        char dir[PATH_MAX];
        /* The folder name needs the names of this and earlier scenarios only. */
        run->scenarios[i].name = strdup(scns[i]->name);
        run->n_scenarios = i + 1;
        rpt_write_dirname(run, i, sub, sizeof(sub));
        snprintf(dir, sizeof(dir), "%s/%s", report_dir, sub);
        if (file_mkdirs(dir) < 0) {
            error_msg("can't create '%s': %s", dir, strerror(errno));
            code = CLI_EXIT_RUN;
            goto out;
        }
        free(run->scenarios[i].name);
        run->scenarios[i].name = NULL;
        struct progress p = {.cli = cli, .index = i, .count = n_scns};
        struct session_opts ro = {
            .agent_path = agent, .out_dir = dir, .progress = progress_cb, .progress_arg = &p};
        if (cli->verbose >= 0) {
            fprintf(stderr, "%s: %u warm-up + %u measured rounds\n", scns[i]->name, scns[i]->warmup,
                    scns[i]->rounds);
        }
        int rc = session_run(scns[i], &ro, &run->scenarios[i], &run->agent_version, &d);
        progress_end(&p);
        if (rc < 0) {
            error_msg("%s", d.msg);
            run->n_scenarios = i;
            code = CLI_EXIT_USAGE;
            goto out;
        }
        const struct rpt_scenario *sc = &run->scenarios[i];
        if (sc->verdict == RPT_VERDICT_ERROR && sc->error) {
            error_msg("%s: %s", sc->name, sc->error);
        }
    }
    if (write_reports(run, report_dir) < 0) {
        code = CLI_EXIT_RUN;
        goto out;
    }
    if (cli->verbose >= 0 || run_exit_code(run) != CLI_EXIT_OK) {
        print_table(run, report_dir);
    }
    code = run_exit_code(run);
out:
    for (size_t i = 0; i < n_scns; i++) {
        scn_free(scns[i]);
    }
    free(scns);
    free(files);
    free(a.requests);
    rpt_run_free(run);
    return code;
}

/* ---------------------------------------------------------------- validate */

static int cmd_validate(struct cli *cli, int argc, char **argv)
{
    static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'h') {
            fputs(help_validate, stdout);
            return CLI_EXIT_OK;
        }
        return usage_error("validate", "unknown option '%s'", argv[optind - 1]);
    }
    if (optind >= argc) {
        return usage_error("validate", "no scenario files given");
    }
    int code = CLI_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct scn *s = NULL;
        struct diag d = {{0}};
        if (scn_load(argv[i], &s, &d) < 0) {
            error_msg("%s", d.msg);
            code = CLI_EXIT_USAGE;
            continue;
        }
        if (cli->verbose >= 0) {
            printf("%s: ok (%s, %s driver, %u+%u rounds)\n", argv[i], s->name,
                   s->driver == SCN_DRIVER_STDIO  ? "stdio"
                   : s->driver == SCN_DRIVER_HTTP ? "http"
                                                  : "command",
                   s->warmup, s->rounds);
        }
        scn_free(s);
    }
    return code;
}

/* ---------------------------------------------------------------- analyze */

static int read_recording(const char *path, struct snap_stream *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_msg("%s: can't read: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    uint8_t buf[65536];
    size_t r;
    struct diag d = {{0}};
    int code = -1;
    while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (snap_stream_feed(st, buf, r, &d) < 0) {
            error_msg("%s: %s", path, d.msg);
            code = CLI_EXIT_USAGE;
            break;
        }
    }
    fclose(f);
    return code;
}

static int cmd_analyze(struct cli *cli, int argc, char **argv)
{
    struct run_args a = {.rounds = -1, .warmup = -1, .rpr = -1, .expect = -1};
    int code = parse_run_args(cli, "analyze", help_analyze, argc, argv, &a);
    struct scn *s = NULL;
    struct rpt_run *run = NULL;
    struct snap_stream st;
    snap_stream_init(&st);
    if (code >= 0) {
        goto out;
    }
    if (a.n_files != 1) {
        code =
            usage_error("analyze", "expected one recording (snapshots.bin), found %zu", a.n_files);
        goto out;
    }
    const char *bin = a.files[0];
    char sc_path[PATH_MAX];
    const char *slash = strrchr(bin, '/');
    snprintf(sc_path, sizeof(sc_path), "%.*s%sscenario.json", slash ? (int)(slash - bin) : 0, bin,
             slash ? "/" : "");
    struct diag d = {{0}};
    if (a.scenario || file_is_regular(sc_path)) {
        if (scn_load(a.scenario ? a.scenario : sc_path, &s, &d) < 0) {
            error_msg("%s", d.msg);
            code = CLI_EXIT_USAGE;
            goto out;
        }
    } else {
        s = scn_new();
        if (!s) {
            code = CLI_EXIT_RUN;
            goto out;
        }
        s->argv = calloc(2, sizeof(*s->argv));
        if (s->argv) {
            s->argv[0] = strdup("?");
        }
    }
    if (a.name) {
        free(s->name);
        s->name = strdup(a.name);
    }
    apply_overrides(s, &a);
    code = read_recording(bin, &st);
    if (code >= 0) {
        goto out;
    }
    if (st.n_snaps == 0) {
        error_msg("%s: no complete snapshot in the recording", bin);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    /* Rounds recorded decide how many are measured, whatever the scenario planned. */
    uint32_t max_round = 0;
    for (size_t i = 0; i < st.n_snaps; i++) {
        if (st.snaps[i].round > max_round) {
            max_round = st.snaps[i].round;
        }
    }
    if (max_round > s->warmup) {
        s->rounds = max_round - s->warmup;
    }
    run = run_new();
    run->scenarios = calloc(1, sizeof(*run->scenarios));
    if (!run->scenarios) {
        code = CLI_EXIT_RUN;
        goto out;
    }
    run->n_scenarios = 1;
    run->agent_version = st.agent_version ? strdup(st.agent_version) : NULL;
    struct analysis_opts ao;
    scn_analysis_opts(s, &ao);
    if (analysis_run(&ao, &st, NULL, NULL, &run->scenarios[0]) < 0) {
        error_msg("out of memory");
        code = CLI_EXIT_RUN;
        goto out;
    }
    if (snap_stream_partial(&st) && cli->verbose >= 0) {
        fprintf(stderr,
                "note: %s ends inside a snapshot (the target died); analysing the %zu "
                "complete ones\n",
                bin, st.n_snaps);
    }
    const char *report_dir = a.report_dir ? a.report_dir : DEFAULT_REPORT_DIR;
    if (file_mkdirs(report_dir) < 0) {
        error_msg("can't create the report folder '%s': %s", report_dir, strerror(errno));
        code = CLI_EXIT_RUN;
        goto out;
    }
    if (write_reports(run, report_dir) < 0) {
        code = CLI_EXIT_RUN;
        goto out;
    }
    if (cli->verbose >= 0 || run_exit_code(run) != CLI_EXIT_OK) {
        print_table(run, report_dir);
    }
    code = run_exit_code(run);
out:
    scn_free(s);
    rpt_run_free(run);
    snap_stream_cleanup(&st);
    free(a.requests);
    return code;
}

/* ---------------------------------------------------------------- exec */

/* The program `leakcheck exec` runs: SIGTERM, SIGINT and SIGHUP sent to leakcheck are passed
 * on to it, so a CI job that stops leakcheck stops the program too. */
static volatile sig_atomic_t exec_child;

static void forward_signal(int sig)
{
    if (exec_child > 0) {
        kill((pid_t)exec_child, sig);
    }
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
    int first = 1;
    const char *record = NULL;
    while (first < argc && argv[first][0] == '-') {
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        }
        if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
            fputs(help_exec, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[first], "--record") == 0 && first + 1 < argc) {
            record = argv[first + 1];
            first += 2;
            continue;
        }
        if (strcmp(argv[first], "--agent") == 0 && first + 1 < argc) {
            cli->agent = argv[first + 1];
            first += 2;
            continue;
        }
        return usage_error("exec", "unknown option '%s'", argv[first]);
    }
    if (first >= argc) {
        return usage_error("exec", "no program given");
    }
    char exe[PATH_MAX];
    char agent[PATH_MAX];
    struct diag d = {{0}};
    if (cli_find_agent(cli->agent, self_exe(exe, sizeof(exe)) == 0 ? exe : NULL, agent,
                       sizeof(agent), &d) < 0) {
        error_msg("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    /* LEAKCHECK_INPROC=1 also lets the program measure itself (include/leakcheck.h). */
    static char inproc[] = PROTO_ENV_INPROC "=1";
    char *env_add[] = {inproc, NULL};
    struct target_opts to = {.argv = argv + first,
                             .agent_path = agent,
                             .channel = true,
                             .inherit_stdio = true,
                             .env_add = env_add};
    struct target *t = NULL;
    if (target_start(&to, &t, &d) < 0) {
        error_msg("%s", d.msg);
        return CLI_EXIT_RUN;
    }
    exec_child = t->pid;
    struct sigaction sa = {.sa_handler = forward_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    FILE *bin = record ? fopen(record, "wb") : NULL;
    if (record && !bin) {
        error_msg("can't write '%s': %s", record, strerror(errno));
    }
    /* Serve the channel until the program ends: record everything it sends. */
    uint8_t buf[65536];
    for (;;) {
        ssize_t r = read(t->chan_fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        if (bin) {
            fwrite(buf, 1, (size_t)r, bin);
        }
    }
    if (bin) {
        fclose(bin);
    }
    target_stop(t, 1000000);
    int code = target_exit_code(t);
    int sig = target_term_signal(t);
    target_free(t);
    if (sig) {
        if (cli->verbose >= 0) {
            fprintf(stderr, "error: '%s' was killed by signal %d (%s)\n", argv[first], sig,
                    strsignal(sig));
        }
        return 128 + sig;
    }
    return code < 0 ? CLI_EXIT_RUN : code;
}

/* ---------------------------------------------------------------- main */

int cli_main(int argc, char **argv)
{
    struct cli cli = {.verbose = 0, .tty = isatty(STDERR_FILENO) == 1};
    signal(SIGPIPE, SIG_IGN);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(help_main, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "-V") == 0 || strcmp(o, "--version") == 0) {
            printf("leakcheck %s\n", LEAKCHECK_VERSION);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "-q") == 0 || strcmp(o, "--quiet") == 0) {
            cli.verbose = -1;
        } else if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0) {
            cli.verbose = 1;
        } else if (strcmp(o, "--agent") == 0 && i + 1 < argc) {
            cli.agent = argv[++i];
        } else if (strncmp(o, "--agent=", 8) == 0) {
            cli.agent = o + 8;
        } else {
            return usage_error(NULL, "unknown option '%s'", o);
        }
    }
    if (i >= argc) {
        fputs(help_main, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "run") == 0) {
        return cmd_run(&cli, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "validate") == 0) {
        return cmd_validate(&cli, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "analyze") == 0 || strcmp(cmd, "analyse") == 0) {
        return cmd_analyze(&cli, sub_argc, sub_argv);
    }
    if (strcmp(cmd, "exec") == 0) {
        return cmd_exec(&cli, sub_argc, sub_argv);
    }
    int (*fn)(int, char **) = NULL;
    if (strcmp(cmd, "compare") == 0) {
        fn = cmd_compare;
    } else if (strcmp(cmd, "merge") == 0) {
        fn = cmd_merge;
    } else if (strcmp(cmd, "history") == 0) {
        fn = cmd_history;
    } else if (strcmp(cmd, "report") == 0) {
        fn = cmd_ci_report;
    } else if (strcmp(cmd, "help") == 0) {
        fputs(help_main, stdout);
        return CLI_EXIT_OK;
    } else {
        static const char *const cmds[] = {"run",   "validate", "analyze", "exec", "compare",
                                           "merge", "history",  "report",  NULL};
        const char *best = NULL;
        size_t bd = 3;
        for (const char *const *c = cmds; *c; c++) {
            size_t dist = scn_edit_distance(cmd, *c);
            if (dist < bd) {
                bd = dist;
                best = *c;
            }
        }
        if (best) {
            fprintf(stderr, "error: unknown command '%s' (did you mean '%s'?)\n", cmd, best);
            return CLI_EXIT_USAGE;
        }
        return usage_error(NULL, "unknown command '%s'", cmd);
    }
    if (!fn) {
        error_msg("'%s' is not available in this build", cmd);
        return CLI_EXIT_RUN;
    }
    return fn(sub_argc, sub_argv);
}
