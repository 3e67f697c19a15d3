/* SPDX-License-Identifier: MIT */
/* it_cases.c - integration test: every leak case in tests/cases under the real harness.
 *
 * For each tests/cases/NAME.json this runs `$B/leakcheck run --report-dir build/it-cases/NAME
 * FILE` as a child process (fork/exec, no shell), then checks, one cmocka test per case, that
 * the harness exited 0 (the expectation was met, culprit included) and that report.json says
 * the same: verdict == expect and, for a leak, suspects[0].function matches expect_culprit
 * (fnmatch, as the harness does) with a known line. A failing case prints the reason and the
 * per-round live heap from the report.
 *
 * The runs happen in the group set-up, LEAKCHECK_IT_JOBS at a time (default 2), so the whole
 * suite takes half the time on two cores; the tests then only read results. Environment:
 * B (build folder holding leakcheck, default build/debug), LEAKCHECK_IT_FILTER (fnmatch glob on
 * case names), LEAKCHECK_IT_JOBS, LEAKCHECK_IT_OUT (--flake's report folder). Run from the
 * repository root (or from anywhere: it finds the root from its own path, B/it/it_cases).
 *
 * `it_cases --flake RUNS [--dir DIR]...` runs every case RUNS times instead and prints, per
 * case, how many runs gave each verdict, the false alarms (leak when no-leak was expected), the
 * misses (no-leak or inconclusive when a leak was expected), wrong culprits and run errors, and
 * for a case that was not right every time its series of verdicts (one letter per run: L leak,
 * N no-leak, I inconclusive, E error) and the report folder of its first wrong run; it exits 1
 * when any case was not right every time. `--dir` (repeatable) reads the scenario files of
 * other folders instead of tests/cases: `make flake RUNS=20` runs the shipped scenarios
 * (every scenarios/NAME.json) and tests/cases.
 *
 * `it_cases --min-rounds MAX` runs each leak case with `--rounds 2`, 3, ... MAX and prints the
 * fewest measured rounds after which the leak was found with the right culprit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "it_util.h"

#define MAX_CASES        256
#define MAX_DIRS         8
#define MAX_REPORT_BYTES (64u << 20)

struct it_case {
    char name[128];
    char file[PATH_MAX];
    char expect[16];   /* "leak" or "no-leak" */
    char culprit[256]; /* expect_culprit, or "" */
    bool no_line;      /* a "real-" case: a stripped Debian program, whose culprit has no line */
    char report_dir[PATH_MAX];
    char log[PATH_MAX]; /* the harness's stdout and stderr */
    pid_t pid;
    int status; /* wait status of the last run */
    bool ran;
    bool skip;         /* not run by run_all (--min-rounds: already found) */
    unsigned found_at; /* --min-rounds: fewest measured rounds that found the leak, or 0 */
    double seconds;
    /* --flake counters */
    unsigned n_leak, n_no_leak, n_inconclusive, n_error, n_wrong_culprit, n_bad_exit;
    char series[1001];        /* one letter per run: L, N, I, E */
    char first_bad[PATH_MAX]; /* report folder of the first run that was not right, or "" */
};

static struct it_case cases[MAX_CASES];
static size_t n_cases;
static char leakcheck_path[PATH_MAX];
static unsigned jobs = 2;
static char rounds_override[16]; /* "--rounds" value for --min-rounds, or "" */

/* Monotonic clock in seconds. Can't fail. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads a whole file (at most MAX_REPORT_BYTES) into a NUL-terminated buffer the caller frees.
 * Returns NULL when unreadable or too big. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 == cap) {
            char *grown = cap >= MAX_REPORT_BYTES ? NULL : realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - 1 - len, f);
        if (n == 0) {
            buf[len] = '\0';
            break;
        }
        len += n;
    }
    fclose(f);
    return buf;
}

/* Moves to the repository root when tests/cases is not in the current directory: the binary is
 * B/it/it_cases, B being two folders deep (build/debug). Returns 0 or -1. */
static int find_root(void)
{
    struct stat st;
    if (stat("tests/cases", &st) == 0 && S_ISDIR(st.st_mode)) {
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        return -1;
    }
    self[n] = '\0';
    for (int up = 0; up < 5; up++) {
        char *slash = strrchr(self, '/');
        if (!slash || slash == self) {
            return -1;
        }
        *slash = '\0';
        if (chdir(self) == 0 && stat("tests/cases", &st) == 0 && S_ISDIR(st.st_mode)) {
            return 0;
        }
    }
    return -1;
}

/* Orders cases by name. */
static int case_cmp(const void *a, const void *b)
{
    const struct it_case *x = a, *y = b;
    return strcmp(x->name, y->name);
}

/* Reads DIR/NAME.json files into `cases` (after those already loaded), keeping those whose
 * name matches `filter` (or all when NULL). Returns 0, or -1 with a message on stderr. */
static int load_cases(const char *folder, const char *filter)
{
    size_t first = n_cases;
    DIR *dir = opendir(folder);
    if (!dir) {
        fprintf(stderr, "it_cases: cannot open %s: %s\n", folder, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0) {
            continue;
        }
        if (n_cases == MAX_CASES) {
            fprintf(stderr, "it_cases: more than %d cases\n", MAX_CASES);
            rc = -1;
            break;
        }
        struct it_case *c = &cases[n_cases];
        memset(c, 0, sizeof(*c));
        snprintf(c->file, sizeof(c->file), "%s/%s", folder, de->d_name);
        char *text = read_text(c->file);
        cJSON *root = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
        const cJSON *expect = cJSON_GetObjectItemCaseSensitive(root, "expect");
        const cJSON *culprit = cJSON_GetObjectItemCaseSensitive(root, "expect_culprit");
        if (!cJSON_IsString(name) || !cJSON_IsString(expect)) {
            fprintf(stderr, "it_cases: %s: unreadable, or no string 'name' and 'expect'\n",
                    c->file);
            rc = -1;
        } else if (!filter || fnmatch(filter, name->valuestring, 0) == 0) {
            snprintf(c->name, sizeof(c->name), "%s", name->valuestring);
            snprintf(c->expect, sizeof(c->expect), "%s", expect->valuestring);
            c->no_line = strncmp(c->name, "real-", 5) == 0;
            if (cJSON_IsString(culprit)) {
                snprintf(c->culprit, sizeof(c->culprit), "%s", culprit->valuestring);
            }
            n_cases++;
        }
        cJSON_Delete(root);
    }
    closedir(dir);
    if (rc == 0 && n_cases == first) {
        fprintf(stderr, "it_cases: no case in %s matches '%s'\n", folder, filter ? filter : "*");
        rc = -1;
    }
    qsort(cases + first, n_cases - first, sizeof(cases[0]), case_cmp);
    return rc;
}

/* Creates `path` and its parents. Returns 0 or -1. */
static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Starts one harness run of `c` into c->report_dir, output to c->log. Returns 0, or -1 when
 * the child could not be started. */
static int start_case(struct it_case *c)
{
    if (mkdir_p(c->report_dir) != 0) {
        fprintf(stderr, "it_cases: cannot create %s: %s\n", c->report_dir, strerror(errno));
        return -1;
    }
    unlink(c->log);
    char report[PATH_MAX + 16];
    snprintf(report, sizeof(report), "%s/report.json", c->report_dir);
    unlink(report);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
        }
        static char arg_run[] = "run", arg_dir[] = "--report-dir", arg_rounds[] = "--rounds";
        char *argv[] = {leakcheck_path, arg_run, arg_dir, c->report_dir, c->file, NULL, NULL, NULL};
        if (rounds_override[0]) {
            argv[4] = arg_rounds;
            argv[5] = rounds_override;
            argv[6] = c->file;
        }
        execv(leakcheck_path, argv);
        dprintf(STDERR_FILENO, "it_cases: cannot run %s: %s\n", leakcheck_path, strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->seconds = now_s();
    return 0;
}

/* Runs every case once, `jobs` at a time, filling pid/status/ran. `out_root` is the folder the
 * per-case report folders go into; `tag` is appended to each (a run number), or NULL.
 * Returns 0, or -1 when a child could not be started. */
static int run_all(const char *out_root, const char *tag)
{
    size_t next = 0, running = 0;
    int rc = 0;
    it_mark();
    while (next < n_cases || running > 0) {
        while (rc == 0 && next < n_cases && running < jobs) {
            struct it_case *c = &cases[next++];
            if (c->skip) {
                continue;
            }
            snprintf(c->report_dir, sizeof(c->report_dir), "%s/%s%s%s", out_root, c->name,
                     tag ? "/" : "", tag ? tag : "");
            snprintf(c->log, sizeof(c->log), "%s/harness.log", c->report_dir);
            c->ran = false;
            if (start_case(c) != 0) {
                rc = -1;
                break;
            }
            running++;
        }
        if (running == 0) {
            break;
        }
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (size_t i = 0; i < n_cases; i++) {
            if (cases[i].pid == pid) {
                cases[i].pid = 0;
                cases[i].status = status;
                cases[i].ran = true;
                cases[i].seconds = now_s() - cases[i].seconds;
                running--;
                break;
            }
        }
    }
    static char left[8192];
    if (it_leftovers(left, sizeof(left)) > 0) {
        fprintf(stderr, "it_cases: still running after the runs: %s\n", left);
        rc = -1;
    }
    return rc;
}

/* Prints the last lines of a log to stderr, for a failing case. */
static void print_log_tail(const char *path)
{
    char *text = read_text(path);
    if (!text) {
        print_error("  (no harness output at %s)\n", path);
        return;
    }
    size_t len = strlen(text);
    const char *start = len > 2000 ? text + len - 2000 : text;
    print_error("  harness output (%s):\n%s\n", path, start);
    free(text);
}

/* Prints the per-round live heap of a report's scenario, for a failing case. */
static void print_rounds(const cJSON *scn)
{
    const cJSON *rounds = cJSON_GetObjectItemCaseSensitive(scn, "rounds");
    const cJSON *r;
    print_error("  rounds (live bytes / blocks, * = warm-up):");
    cJSON_ArrayForEach(r, rounds)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(r, "live_bytes");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "live_blocks");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "warmup");
        print_error(" %s%.0f/%.0f", cJSON_IsTrue(w) ? "*" : "",
                    cJSON_IsNumber(b) ? b->valuedouble : -1,
                    cJSON_IsNumber(k) ? k->valuedouble : -1);
    }
    print_error("\n");
}

/* Result of reading one run's report. */
struct case_result {
    char verdict[32];
    char function[256];
    unsigned line;
    bool has_suspect;
    char reason[512];
};

/* Reads c's report.json into `res` and returns the parsed document (caller deletes it), or
 * NULL when there is no readable report with a scenario. *scn_out points into it. */
static cJSON *read_report(const struct it_case *c, struct case_result *res, const cJSON **scn_out)
{
    memset(res, 0, sizeof(*res));
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/report.json", c->report_dir);
    char *text = read_text(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *scn = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "scenarios"), 0);
    if (!scn) {
        cJSON_Delete(root);
        return NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(scn, "verdict");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(scn, "reason");
    snprintf(res->verdict, sizeof(res->verdict), "%s", cJSON_IsString(v) ? v->valuestring : "?");
    snprintf(res->reason, sizeof(res->reason), "%s",
             cJSON_IsString(reason) ? reason->valuestring : "");
    const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(scn, "suspects"), 0);
    if (s0) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(s0, "function");
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(s0, "line");
        res->has_suspect = true;
        snprintf(res->function, sizeof(res->function), "%s",
                 cJSON_IsString(fn) ? fn->valuestring : "");
        res->line = cJSON_IsNumber(line) && line->valuedouble > 0 ? (unsigned)line->valuedouble : 0;
    }
    *scn_out = scn;
    return root;
}

/* True when the top suspect is the expected culprit with a known line (any line for a "real-"
 * case: Debian ships its programs stripped). */
static bool culprit_ok(const struct it_case *c, const struct case_result *res)
{
    return !c->culprit[0] || (res->has_suspect && (res->line > 0 || c->no_line) &&
                              fnmatch(c->culprit, res->function, 0) == 0);
}

/* One case: the harness met the expectation and the report says so. */
static void test_case(void **state)
{
    struct it_case *c = *state;
    assert_non_null(c);
    assert_true(c->ran);
    struct case_result res;
    const cJSON *scn = NULL;
    cJSON *root = read_report(c, &res, &scn);
    if (!root) {
        print_error("%s: no report.json in %s\n", c->name, c->report_dir);
        print_log_tail(c->log);
        fail_msg("%s: the harness wrote no report", c->name);
    }
    bool verdict_ok = strcmp(res.verdict, c->expect) == 0;
    bool leak_ok = strcmp(c->expect, "leak") != 0 || culprit_ok(c, &res);
    bool exit_ok = WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
    if (!verdict_ok || !leak_ok || !exit_ok) {
        print_error("%s: verdict '%s' (expected '%s'), top suspect '%s' line %u (expected '%s'), "
                    "harness exit %d\n  reason: %s\n",
                    c->name, res.verdict, c->expect, res.has_suspect ? res.function : "(none)",
                    res.line, c->culprit[0] ? c->culprit : "-",
                    WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1, res.reason);
        print_rounds(scn);
        if (!exit_ok && verdict_ok && leak_ok) {
            print_log_tail(c->log);
        }
    }
    cJSON_Delete(root);
    if (!verdict_ok) {
        fail_msg("%s: verdict '%s', expected '%s'", c->name, res.verdict, c->expect);
    }
    if (!leak_ok) {
        fail_msg("%s: top suspect '%s' line %u, expected '%s' with a line", c->name, res.function,
                 res.line, c->culprit);
    }
    if (!exit_ok) {
        fail_msg("%s: harness exit status %d, expected 0", c->name,
                 WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1);
    }
}

/* Group set-up: runs every case. */
static int setup_run_all(void **state)
{
    (void)state;
    return run_all("build/it-cases", NULL) == 0 ? 0 : -1;
}

/* The --flake mode: RUNS runs of every case, then a table. Reports go to
 * $LEAKCHECK_IT_OUT/NAME/RUN (default build/flake). Returns the exit status. */
static int flake(unsigned runs)
{
    const char *out = getenv("LEAKCHECK_IT_OUT");
    const char *flake_root = out && *out ? out : "build/flake";
    for (unsigned r = 1; r <= runs; r++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "%u", r);
        double t0 = now_s();
        if (run_all(flake_root, tag) != 0) {
            return 3;
        }
        for (size_t i = 0; i < n_cases; i++) {
            struct it_case *c = &cases[i];
            struct case_result res;
            const cJSON *scn = NULL;
            cJSON *root = read_report(c, &res, &scn);
            bool right = strcmp(res.verdict, c->expect) == 0;
            char letter;
            if (!root || strcmp(res.verdict, "error") == 0) {
                c->n_error++;
                letter = 'E';
            } else if (strcmp(res.verdict, "leak") == 0) {
                c->n_leak++;
                letter = 'L';
                if (strcmp(c->expect, "leak") == 0 && !culprit_ok(c, &res)) {
                    c->n_wrong_culprit++;
                    right = false;
                }
            } else if (strcmp(res.verdict, "no-leak") == 0) {
                c->n_no_leak++;
                letter = 'N';
            } else {
                c->n_inconclusive++;
                letter = 'I';
            }
            if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
                c->n_bad_exit++;
                right = false;
            }
            size_t sl = strlen(c->series);
            if (sl + 1 < sizeof(c->series)) {
                c->series[sl] = letter;
                c->series[sl + 1] = '\0';
            }
            if (!right && !c->first_bad[0]) {
                snprintf(c->first_bad, sizeof(c->first_bad), "%s", c->report_dir);
            }
            cJSON_Delete(root);
        }
        fprintf(stderr, "flake: run %u of %u done in %.1f s\n", r, runs, now_s() - t0);
    }
    printf("%-28s %-7s %5s %7s %6s %5s %11s %6s %6s %8s\n", "case", "expect", "leak", "no-leak",
           "incon", "error", "false-alarm", "miss", "culprit", "exit!=0");
    unsigned bad_cases = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const struct it_case *c = &cases[i];
        bool want_leak = strcmp(c->expect, "leak") == 0;
        unsigned false_alarms = want_leak ? 0 : c->n_leak;
        unsigned misses = want_leak ? c->n_no_leak + c->n_inconclusive : 0;
        bool right = c->n_bad_exit == 0 && c->n_error == 0 && c->n_inconclusive == 0 &&
                     false_alarms == 0 && misses == 0 && c->n_wrong_culprit == 0;
        bad_cases += !right;
        printf("%-28s %-7s %5u %7u %6u %5u %11u %6u %6u %8u%s\n", c->name, c->expect, c->n_leak,
               c->n_no_leak, c->n_inconclusive, c->n_error, false_alarms, misses,
               c->n_wrong_culprit, c->n_bad_exit, right ? "" : "  <-");
    }
    for (size_t i = 0; i < n_cases; i++) {
        const struct it_case *c = &cases[i];
        if (c->first_bad[0]) {
            printf("%s: series %s (L leak, N no-leak, I inconclusive, E error); first wrong run "
                   "in %s\n",
                   c->name, c->series, c->first_bad);
        }
    }
    printf("%zu cases x %u runs: %u case(s) not right every time\n", n_cases, runs, bad_cases);
    return bad_cases ? 1 : 0;
}

/* The --min-rounds mode: for each leak case, the fewest measured rounds (2..max) after which
 * the harness finds the leak with the right culprit. Returns the exit status. */
static int min_rounds(unsigned max)
{
    for (size_t i = 0; i < n_cases; i++) {
        cases[i].skip = strcmp(cases[i].expect, "leak") != 0;
    }
    for (unsigned n = 2; n <= max; n++) {
        snprintf(rounds_override, sizeof(rounds_override), "%u", n);
        if (run_all("build/min-rounds", rounds_override) != 0) {
            return 3;
        }
        for (size_t i = 0; i < n_cases; i++) {
            struct it_case *c = &cases[i];
            if (c->skip) {
                continue;
            }
            struct case_result res;
            const cJSON *scn = NULL;
            cJSON *root = read_report(c, &res, &scn);
            if (root && strcmp(res.verdict, "leak") == 0 && culprit_ok(c, &res)) {
                c->found_at = n;
                c->skip = true;
            }
            cJSON_Delete(root);
        }
    }
    unsigned missed = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const struct it_case *c = &cases[i];
        if (strcmp(c->expect, "leak") != 0) {
            continue;
        }
        if (c->found_at) {
            printf("%-28s found within %u measured rounds\n", c->name, c->found_at);
        } else {
            printf("%-28s not found within %u measured rounds\n", c->name, max);
            missed++;
        }
    }
    return missed ? 1 : 0;
}

/* What the command line asked for. */
struct args {
    unsigned runs;       /* --flake RUNS, or 0 */
    unsigned max_rounds; /* --min-rounds MAX, or 0 */
    const char *dirs[MAX_DIRS];
    size_t n_dirs;
};

/* Parses a whole number in [lo, hi] into *out. Returns 0, or -1 with nothing written. */
static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || *end || !*s || v < lo || v > hi) {
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* Reads the command line into `a`. Returns 0, or 2 (usage error, printed). */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const char usage[] =
        "usage: it_cases [--flake RUNS [--dir DIR]... | --min-rounds MAX]\n";
    if (argc == 3 && strcmp(argv[1], "--min-rounds") == 0) {
        if (parse_count(argv[2], 2, 100, &a->max_rounds) != 0) {
            fprintf(stderr, "it_cases: --min-rounds wants a number of rounds (2..100), got '%s'\n",
                    argv[2]);
            return 2;
        }
    } else if (argc >= 3 && strcmp(argv[1], "--flake") == 0 && argc % 2 == 1) {
        if (parse_count(argv[2], 1, 1000, &a->runs) != 0) {
            fprintf(stderr, "it_cases: --flake wants a number of runs (1..1000), got '%s'\n",
                    argv[2]);
            return 2;
        }
        for (int i = 3; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--dir") != 0 || a->n_dirs == MAX_DIRS) {
                fputs(usage, stderr);
                return 2;
            }
            a->dirs[a->n_dirs++] = argv[i + 1];
        }
    } else if (argc != 1) {
        fputs(usage, stderr);
        return 2;
    }
    if (a->n_dirs == 0) {
        a->dirs[a->n_dirs++] = "tests/cases";
    }
    return 0;
}

/* Finds the repository root and the leakcheck binary, reads LEAKCHECK_IT_JOBS and loads the
 * cases of every folder. Returns 0, or 2 (printed). */
static int prepare(const struct args *a)
{
    if (find_root() != 0) {
        fprintf(stderr, "it_cases: cannot find the repository root (tests/cases); run it from "
                        "there\n");
        return 2;
    }
    it_build_path(leakcheck_path, sizeof(leakcheck_path), "leakcheck");
    if (access(leakcheck_path, X_OK) != 0) {
        fprintf(stderr, "it_cases: %s: %s; build it first with 'make build'\n", leakcheck_path,
                strerror(errno));
        return 2;
    }
    const char *j = getenv("LEAKCHECK_IT_JOBS");
    if (j && *j && parse_count(j, 1, 64, &jobs) != 0) {
        fprintf(stderr, "it_cases: LEAKCHECK_IT_JOBS must be 1..64, got '%s'\n", j);
        return 2;
    }
    const char *filter = getenv("LEAKCHECK_IT_FILTER");
    for (size_t i = 0; i < a->n_dirs; i++) {
        if (load_cases(a->dirs[i], filter && *filter ? filter : NULL) != 0) {
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        rc = prepare(&a);
    }
    if (rc != 0) {
        return rc;
    }
    if (a.runs) {
        return flake(a.runs);
    }
    if (a.max_rounds) {
        return min_rounds(a.max_rounds);
    }
    struct CMUnitTest *tests = calloc(n_cases, sizeof(*tests));
    if (!tests) {
        return 2;
    }
    for (size_t i = 0; i < n_cases; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = test_case;
        tests[i].initial_state = &cases[i];
    }
    int failed = _cmocka_run_group_tests("it_cases", tests, n_cases, setup_run_all, NULL);
    free(tests);
    return failed;
}
