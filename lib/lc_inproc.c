/* SPDX-License-Identifier: MIT */
/* lc_inproc.c - in-process leak assertions (include/leakcheck.h) over the agent and the analysis.
 *
 * A scope is a memfd and a round counter. lc_begin() and each lc_round() ask the preloaded agent
 * (leakcheck_agent_snapshot, found with dlsym) to write one complete snapshot of this process
 * into the memfd; nothing is parsed while the scope is open, so the library allocates nothing on
 * the heap between the first and the last snapshot and never shows up in its own measurement.
 * lc_end() reads the memfd back through the analysis's snapshot parser (the agent resends every
 * stack each time; the parser takes a known stack as no news) and hands the stream, numbered
 * from the scope's first round, to analysis_run(), the very analysis `leakcheck run` uses (series
 * per site, survivors by round of birth, symbolization, culprit frames, suppressions, verdict).
 *
 * Rounds: the agent numbers births with one process-wide epoch that only moves forward. Each
 * scope starts at the next unused round (g_next_round), so blocks left by an earlier scope, or
 * allocated between scopes, are counted as "before the first round" of the next one.
 *
 * Re-execution: a constructor re-executes the program under the agent when LEAKCHECK_REEXEC=1
 * and the agent is absent (see lc_reexec()). Not thread-safe: one scope at a time per process.
 */
#include "../include/leakcheck.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../analysis/analysis.h"
#include "../analysis/growth.h"
#include "../analysis/snap.h"
#include "../analysis/supp.h"
#include "../common/proto.h"
#include "../util/diag.h"
#include "../util/file.h"
#include "../util/strv.h"

#ifndef LC_AGENT_BUILD_PATH
#define LC_AGENT_BUILD_PATH ""
#endif
#ifndef LC_AGENT_INSTALL_PATH
#define LC_AGENT_INSTALL_PATH "/usr/local/lib/leakcheck/libleakcheck-agent.so"
#endif

#define AGENT_SYMBOL      "leakcheck_agent_snapshot"
#define MAX_SNAPSHOT_FILE ((size_t)1 << 34) /* 16 GiB of snapshots: refuse beyond */
#define SKIP_HINT                                                                                  \
    "run the tests under the agent ('leakcheck exec -- PROGRAM ARGS') or set LEAKCHECK_REEXEC=1"

typedef int (*snapshot_fn)(int fd, unsigned round);

struct lc_scope {
    struct analysis_opts ao; /* name, warm-up, thresholds; strings and arrays below */
    char *name;              /* owned */
    struct supp_rule *supp;  /* n_supp rules (owned) */
    char **wrappers;         /* n_wrappers globs (owned) */
    snapshot_fn snap;        /* the agent's entry point */
    int fd;                  /* memfd holding the snapshots */
    unsigned base;           /* agent round of the starting snapshot */
    unsigned n_rounds;       /* rounds marked with lc_round() */
    unsigned warmup;
    int error; /* first lc_round() failure, or 0 */
};

static bool g_open;            /* a scope is open */
static unsigned g_next_round;  /* the next agent round no scope has used */
static char g_reexec_why[512]; /* why the start-up re-execution did not happen, or "" */

/* The agent's entry point, or NULL when the agent is not loaded. Can't fail. */
static snapshot_fn find_agent_snapshot(void)
{
    void *p = dlsym(RTLD_DEFAULT, AGENT_SYMBOL);
    snapshot_fn fn;
    memcpy(&fn, &p, sizeof(fn)); /* object pointer to function pointer, as dlsym(3) says */
    return p ? fn : NULL;
}

bool lc_available(void)
{
    snapshot_fn snap = find_agent_snapshot();
    if (!snap) {
        return false;
    }
    if (g_open) {
        return true; /* a scope's lc_begin() already saw it tracking */
    }
    /* Asking for a snapshot on a bad descriptor tells tracking (-EIO) from not (-ENOSYS). It
     * closes a round: burn that round number so no scope counts its births. */
    int rc = snap(-1, g_next_round);
    g_next_round++;
    return rc != -ENOSYS;
}

/* Writes the skip message for an absent or idle agent into `out`. Can't fail. */
static void skip_message(char *out, size_t len, bool loaded)
{
    if (g_reexec_why[0]) {
        snprintf(out, len, "leakcheck: nothing measured: %.470s", g_reexec_why);
    } else if (loaded) {
        snprintf(out, len,
                 "leakcheck: nothing measured: the agent is loaded but not tracking (it needs "
                 "LEAKCHECK_INPROC=1); %s",
                 SKIP_HINT);
    } else {
        snprintf(out, len, "leakcheck: nothing measured: the agent is not loaded; %s", SKIP_HINT);
    }
}

/* Checks a NULL-terminated glob list: no empty glob. Returns its length, or -EINVAL. */
static ssize_t glob_count(const char *const *globs)
{
    ssize_t n = 0;
    for (; globs && globs[n]; n++) {
        if (!globs[n][0] || strcmp(globs[n], "object:") == 0) {
            return -EINVAL;
        }
    }
    return n;
}

/* Copies the suppression globs ("object:GLOB" for an object) into s->supp. Returns 0, -EINVAL
 * for an empty glob, or -ENOMEM. */
static int copy_supp(struct lc_scope *s, const char *const *globs)
{
    ssize_t n = glob_count(globs);
    if (n <= 0) {
        return (int)n;
    }
    s->supp = calloc((size_t)n, sizeof(*s->supp));
    if (!s->supp) {
        return -ENOMEM;
    }
    for (ssize_t i = 0; i < n; i++) {
        bool obj = strncmp(globs[i], "object:", 7) == 0;
        char *g = strdup(obj ? globs[i] + 7 : globs[i]);
        if (!g) {
            return -ENOMEM;
        }
        if (obj) {
            s->supp[i].object = g;
        } else {
            s->supp[i].function = g;
        }
        s->ao.n_supp = (size_t)i + 1;
    }
    s->ao.supp = s->supp;
    return 0;
}

/* Copies the wrapper globs into s->wrappers. Returns 0, -EINVAL for an empty glob, or -ENOMEM. */
static int copy_wrappers(struct lc_scope *s, const char *const *globs)
{
    ssize_t n = glob_count(globs);
    if (n <= 0) {
        return (int)n;
    }
    s->wrappers = calloc((size_t)n + 1, sizeof(*s->wrappers));
    if (!s->wrappers) {
        return -ENOMEM;
    }
    for (ssize_t i = 0; i < n; i++) {
        s->wrappers[i] = strdup(globs[i]);
        if (!s->wrappers[i]) {
            return -ENOMEM;
        }
        s->ao.n_wrappers = (size_t)i + 1;
    }
    s->ao.wrappers = s->wrappers;
    return 0;
}

/* Fills the analysis options of a new scope from the user's options. Returns 0, -EINVAL or
 * -ENOMEM (what was copied is freed with the scope). */
static int scope_opts(struct lc_scope *s, const struct lc_options *o)
{
    if (o->threshold_bytes_per_round < 0 || o->threshold_blocks_per_round < 0) {
        return -EINVAL;
    }
    s->name = strdup(o->name ? o->name : "scenario");
    if (!s->name) {
        return -ENOMEM;
    }
    s->ao.name = s->name;
    s->ao.warmup = o->no_warmup ? 0 : (o->warmup ? o->warmup : LC_DEFAULT_WARMUP);
    s->ao.threshold_bytes_per_round = o->threshold_bytes_per_round > 0
                                          ? o->threshold_bytes_per_round
                                          : GROWTH_DEFAULT_BYTES_PER_ROUND;
    s->ao.threshold_blocks_per_round = o->threshold_blocks_per_round;
    s->ao.expect = RPT_EXPECT_NO_LEAK;
    int rc = copy_supp(s, o->suppress);
    return rc == 0 ? copy_wrappers(s, o->wrappers) : rc;
}

/* Frees a scope and its memfd. NULL is a no-op. */
static void scope_free(struct lc_scope *s)
{
    if (!s) {
        return;
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    for (size_t i = 0; i < s->ao.n_supp; i++) {
        supp_rule_cleanup(&s->supp[i]);
    }
    free(s->supp);
    strv_free(s->wrappers);
    free(s->name);
    free(s);
}

int lc_begin(const struct lc_options *opt, struct lc_scope **out)
{
    static const struct lc_options defaults = {0};
    const struct lc_options *o = opt ? opt : &defaults;
    if (!out) {
        return -EINVAL;
    }
    if (g_open) {
        return -EBUSY;
    }
    snapshot_fn snap = find_agent_snapshot();
    if (!snap) {
        return -ENOSYS;
    }
    struct lc_scope *s = calloc(1, sizeof(*s));
    if (!s) {
        return -ENOMEM;
    }
    s->fd = -1;
    s->snap = snap;
    int rc = scope_opts(s, o);
    if (rc < 0) {
        goto fail;
    }
    s->warmup = s->ao.warmup;
    s->fd = memfd_create("leakcheck-snapshots", MFD_CLOEXEC);
    if (s->fd < 0) {
        rc = -errno;
        goto fail;
    }
    s->base = g_next_round;
    rc = snap(s->fd, s->base);
    if (rc < 0) {
        g_next_round++;
        rc = rc == -ENOSYS ? -ENOSYS : -EIO;
        goto fail;
    }
    g_open = true;
    *out = s;
    return 0;
fail:
    scope_free(s);
    return rc;
}

int lc_round(struct lc_scope *s)
{
    if (!s) {
        return -EINVAL;
    }
    if (s->error) {
        return s->error;
    }
    int rc = s->snap(s->fd, s->base + s->n_rounds + 1);
    if (rc < 0) {
        s->error = -EIO;
        return s->error;
    }
    s->n_rounds++;
    return 0;
}

/* Feeds the snapshots in the memfd to the parser. Returns 0, -EBADMSG with `d` filled,
 * -ENOMEM or -errno. */
static int read_snapshots(int fd, struct snap_stream *st, struct diag *d)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        return diag_set(d, -errno, "can't read the snapshots back: %s", strerror(errno));
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) {
        return diag_set(d, -EBADMSG, "the agent wrote no snapshot");
    }
    if (size > MAX_SNAPSHOT_FILE) {
        return diag_set(d, -EFBIG, "the snapshots take %zu bytes, over the limit", size);
    }
    const uint8_t *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return diag_set(d, -errno, "can't map the snapshots: %s", strerror(errno));
    }
    /* Every in-process snapshot repeats the whole stack table: the parser takes a stack it
     * already has as no news. */
    int rc = snap_stream_feed(st, p, size, d);
    munmap((void *)(uintptr_t)p, size);
    if (rc == 0 && snap_stream_partial(st)) {
        rc = diag_set(d, -EBADMSG, "the last snapshot is incomplete");
    }
    return rc;
}

/* Copies at most len-1 bytes of `src` (NULL = "") into `dst`. Can't fail. */
static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* `path` relative to the current directory when it lies below it. Borrowed. Can't fail. */
static const char *short_path(const char *path)
{
    static char cwd[PATH_MAX];
    if (!path || path[0] != '/' || !getcwd(cwd, sizeof(cwd))) {
        return path;
    }
    size_t n = strlen(cwd);
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/') {
        return path + n + 1;
    }
    return path;
}

/* Fills `out` from the analysed scenario. Can't fail. */
static void fill_result(const struct rpt_scenario *sc, unsigned measured, struct lc_result *out)
{
    out->rounds = measured;
    out->warmup = sc->warmup;
    out->bytes_per_round = sc->growth_bytes_per_round;
    out->blocks_per_round = sc->growth_blocks_per_round;
    copy_str(out->reason, sizeof(out->reason), sc->reason);
    /* Sites sharing a culprit frame (the same function reached through several call paths)
     * are one line of the result, as the analysis judged them together. */
    size_t n_suspects = 0;
    for (size_t i = 0; i < sc->n_sites; i++) {
        const struct rpt_site *rs = &sc->sites[i];
        const char *file = short_path(rs->file);
        struct lc_site *ls = NULL;
        for (size_t k = 0; k < out->n_sites && rs->function; k++) {
            struct lc_site *o = &out->sites[k];
            if (o->suspect == rs->suspect && o->line == rs->line &&
                strcmp(o->function, rs->function) == 0 && strcmp(o->file, file ? file : "") == 0) {
                ls = o;
                break;
            }
        }
        if (ls) {
            ls->bytes_per_round += rs->bytes_per_round;
            ls->blocks_per_round += rs->blocks_per_round;
            if (rs->rounds_with_survivors > ls->rounds_with_survivors) {
                ls->rounds_with_survivors = rs->rounds_with_survivors;
            }
            continue;
        }
        n_suspects += rs->suspect;
        if (out->n_sites < LC_MAX_SITES) {
            ls = &out->sites[out->n_sites++];
            copy_str(ls->function, sizeof(ls->function), rs->function);
            copy_str(ls->file, sizeof(ls->file), file);
            ls->line = rs->line;
            ls->bytes_per_round = rs->bytes_per_round;
            ls->blocks_per_round = rs->blocks_per_round;
            ls->rounds_with_survivors = rs->rounds_with_survivors;
            ls->suspect = rs->suspect;
            ls->suppressed = rs->suppressed;
        }
    }
    switch (sc->verdict) {
    case RPT_VERDICT_NO_LEAK:
        out->verdict = LC_PASS;
        snprintf(out->message, sizeof(out->message), "no leak over %u rounds: %s", measured,
                 out->reason);
        break;
    case RPT_VERDICT_LEAK: {
        out->verdict = LC_LEAK;
        const struct lc_site *top = &out->sites[0];
        char where[448];
        if (top->function[0] && top->file[0] && top->line) {
            snprintf(where, sizeof(where), "%s (%s:%u)", top->function, top->file, top->line);
        } else if (top->function[0]) {
            snprintf(where, sizeof(where), "%s", top->function);
        } else {
            snprintf(where, sizeof(where), "an unsymbolized site");
        }
        char more[64] = "";
        if (n_suspects > 1) {
            snprintf(more, sizeof(more), " (and %zu more site%s)", n_suspects - 1,
                     n_suspects > 2 ? "s" : "");
        }
        snprintf(out->message, sizeof(out->message),
                 "leaked %.0f B/round over %u rounds at %.380s%.60s", top->bytes_per_round,
                 measured, where, more);
        break;
    }
    case RPT_VERDICT_INCONCLUSIVE:
        out->verdict = LC_INCONCLUSIVE;
        snprintf(out->message, sizeof(out->message), "inconclusive over %u rounds: %s", measured,
                 out->reason);
        break;
    default:
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message), "leakcheck: %s",
                 sc->error ? sc->error : out->reason);
        break;
    }
}

int lc_end(struct lc_scope *s, struct lc_result *out)
{
    if (!s) {
        return -EINVAL;
    }
    g_open = false;
    g_next_round = s->base + s->n_rounds + 1;
    if (!out) {
        scope_free(s);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    struct snap_stream st;
    snap_stream_init(&st);
    struct rpt_scenario sc = {0};
    struct diag d = {{0}};
    int rc = 0;
    unsigned measured = s->n_rounds > s->warmup ? s->n_rounds - s->warmup : 0;
    if (s->error) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message),
                 "leakcheck: the agent could not write a snapshot after round %u", s->n_rounds);
        goto out;
    }
    rc = read_snapshots(s->fd, &st, &d);
    if (rc < 0) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message), "leakcheck: %.490s", d.msg);
        rc = rc == -ENOMEM ? rc : 0;
        goto out;
    }
    const struct snap_snapshot *first = snap_stream_find(&st, s->base);
    if (!first || !(first->flags & PROTO_SNAP_CANARY_LIVE)) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message),
                 "leakcheck: the agent is loaded but does not see this program's allocations "
                 "(its canary block is missing: a static binary or a private allocator?)");
        goto out;
    }
    s->ao.rounds = measured;
    s->ao.round_base = s->base;
    rc = analysis_run(&s->ao, &st, NULL, NULL, &sc);
    if (rc < 0) {
        goto out;
    }
    fill_result(&sc, measured, out);
    if (strcmp(s->name, "scenario") != 0) {
        char msg[sizeof(out->message)];
        snprintf(msg, sizeof(msg), "%.60s: %.440s", s->name, out->message);
        memcpy(out->message, msg, sizeof(msg));
    }
out:
    rpt_scenario_cleanup(&sc);
    snap_stream_cleanup(&st);
    scope_free(s);
    return rc;
}

enum lc_verdict lc_check(lc_work_fn fn, void *arg, const struct lc_options *opt,
                         struct lc_result *out)
{
    static const struct lc_options defaults = {0};
    const struct lc_options *o = opt ? opt : &defaults;
    memset(out, 0, sizeof(*out));
    if (!fn) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message), "leakcheck: no function to check");
        return out->verdict;
    }
    struct lc_scope *s = NULL;
    int rc = lc_begin(o, &s);
    if (rc == -ENOSYS) {
        out->verdict = LC_SKIP;
        skip_message(out->message, sizeof(out->message), find_agent_snapshot() != NULL);
        return out->verdict;
    }
    if (rc < 0) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message), "leakcheck: can't begin a scope: %s%s",
                 strerror(-rc), rc == -EBUSY ? " (another scope is open)" : "");
        return out->verdict;
    }
    unsigned rounds = o->rounds ? o->rounds : LC_DEFAULT_ROUNDS;
    unsigned calls = o->calls_per_round ? o->calls_per_round : 1;
    unsigned total = s->warmup + rounds;
    for (unsigned r = 0; r < total; r++) {
        for (unsigned c = 0; c < calls; c++) {
            fn(arg);
        }
        if (lc_round(s) < 0) {
            break;
        }
    }
    if (lc_end(s, out) < 0) {
        out->verdict = LC_ERROR;
        snprintf(out->message, sizeof(out->message), "leakcheck: out of memory while analysing");
    }
    return out->verdict;
}

/* ---------------------------------------------------------------- re-execution */

/* Reads /proc/self/cmdline into a NULL-terminated argv. Returns 0 with *argv and *buf owned by
 * the caller (free both), or a negative errno. */
static int read_cmdline(char ***argv, char **buf)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    size_t cap = 4096;
    size_t len = 0;
    char *b = malloc(cap + 1);
    int rc = 0;
    while (b) {
        ssize_t n = read(fd, b + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
        if (len == cap) {
            char *nb = cap < ((size_t)1 << 24) ? realloc(b, 2 * cap + 1) : NULL;
            if (!nb) {
                rc = -E2BIG;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (!b) {
        return -ENOMEM;
    }
    if (rc < 0 || len == 0) {
        free(b);
        return rc < 0 ? rc : -ENOENT;
    }
    b[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += b[i] == '\0';
    }
    char **v = calloc(n + 2, sizeof(*v));
    if (!v) {
        free(b);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < len; i += strlen(b + i) + 1) {
        v[k++] = b + i;
    }
    *argv = v;
    *buf = b;
    return 0;
}

/* In the re-executed program: lets children re-execute in turn, and checks that the agent did
 * load. Returns 0, or -ENOENT with the reason in `why`. */
static int check_reexecuted(char *why, size_t len)
{
    setenv(LC_ENV_REEXEC, "1", 1);
    if (!find_agent_snapshot()) {
        snprintf(why, len,
                 "re-executed with the agent preloaded, but it did not load (check "
                 "LEAKCHECK_AGENT and that the program is dynamically linked); %s",
                 SKIP_HINT);
        return -ENOENT;
    }
    return 0;
}

/* The agent library to preload: LEAKCHECK_AGENT when set, else the build tree's, else the
 * installed one. Returns its path (borrowed), or NULL with the reason in `why`. */
static const char *find_agent_library(char *why, size_t len)
{
    const char *env = getenv(LC_ENV_AGENT);
    const char *agent = NULL;
    if (env && env[0]) {
        agent = file_is_regular(env) ? env : NULL;
    } else if (file_is_regular(LC_AGENT_BUILD_PATH)) {
        agent = LC_AGENT_BUILD_PATH;
    } else if (file_is_regular(LC_AGENT_INSTALL_PATH)) {
        agent = LC_AGENT_INSTALL_PATH;
    }
    if (agent) {
        return agent;
    }
    if (env && env[0]) {
        snprintf(why, len,
                 "LEAKCHECK_REEXEC=1 but LEAKCHECK_AGENT names no file ('%s'); point it at "
                 "libleakcheck-agent.so or run under 'leakcheck exec'",
                 env);
    } else {
        snprintf(why, len,
                 "LEAKCHECK_REEXEC=1 but the agent library was not found (tried '%s' and "
                 "'%s'); set LEAKCHECK_AGENT to libleakcheck-agent.so or run under "
                 "'leakcheck exec'",
                 LC_AGENT_BUILD_PATH, LC_AGENT_INSTALL_PATH);
    }
    return NULL;
}

/* Re-executes /proc/self/exe, same arguments, with `agent` preloaded. Returns only when that
 * failed: a negative errno with the reason in `why`, the environment restored. */
static int exec_under_agent(const char *agent, char *why, size_t len)
{
    char **argv = NULL;
    char *buf = NULL;
    int rc = read_cmdline(&argv, &buf);
    if (rc < 0) {
        snprintf(why, len, "can't re-execute under the agent: reading /proc/self/cmdline: %s",
                 strerror(-rc));
        return rc;
    }
    const char *old = getenv("LD_PRELOAD");
    char *old_copy = old ? strdup(old) : NULL;
    char *preload = NULL;
    if (asprintf(&preload, "%s%s%s", agent, old && old[0] ? ":" : "", old ? old : "") < 0) {
        preload = NULL;
    }
    if (preload && setenv("LD_PRELOAD", preload, 1) == 0 && setenv(PROTO_ENV_INPROC, "1", 1) == 0 &&
        setenv(LC_ENV_REEXEC, "done", 1) == 0) {
        fflush(NULL);
        execv("/proc/self/exe", argv);
    }
    rc = -errno;
    snprintf(why, len, "can't re-execute under the agent '%s': %s", agent, strerror(errno));
    if (old_copy) {
        setenv("LD_PRELOAD", old_copy, 1);
    } else {
        unsetenv("LD_PRELOAD");
    }
    unsetenv(PROTO_ENV_INPROC);
    setenv(LC_ENV_REEXEC, "1", 1);
    free(old_copy);
    free(preload);
    free(argv);
    free(buf);
    return rc;
}

int lc_reexec(char *why, size_t len)
{
    char dummy[1];
    if (!why) {
        why = dummy;
        len = sizeof(dummy);
    }
    why[0] = '\0';
    const char *v = getenv(LC_ENV_REEXEC);
    if (v && strcmp(v, "done") == 0) {
        /* This is the re-executed program. */
        return check_reexecuted(why, len);
    }
    if (!v || strcmp(v, "1") != 0 || find_agent_snapshot()) {
        return 0;
    }
    if (dlsym(RTLD_DEFAULT, "__asan_init") || dlsym(RTLD_DEFAULT, "__tsan_init") ||
        dlsym(RTLD_DEFAULT, "__msan_init")) {
        /* A sanitizer runtime and a preloaded allocator cannot share one process. */
        snprintf(why, len,
                 "LEAKCHECK_REEXEC=1 but this program is built with a sanitizer, which replaces "
                 "malloc itself; build the tests without -fsanitize to measure leaks");
        return -ENOTSUP;
    }
    const char *agent = find_agent_library(why, len);
    if (!agent) {
        return -ENOENT;
    }
    return exec_under_agent(agent, why, len);
}

/* Before main(): re-execute under the agent when asked to. */
__attribute__((constructor)) static void lc_init(void)
{
    lc_reexec(g_reexec_why, sizeof(g_reexec_why));
}
