/* SPDX-License-Identifier: MIT */
/* run.c - one scenario end to end: spawn, ready, rounds with snapshots, stop, analyse.
 *
 * The channel is read under poll() with a deadline for every wait; each byte read is fed to the
 * snapshot parser and appended to snapshots.bin. Analysis works from the parsed stream only, so
 * a live run and `leakcheck analyze` of its recording give the same result.
 */
#include "run.h"

#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "culprit.h"
#include "drv.h"
#include "growth.h"
#include "supp.h"
#include "sym.h"
#include "target.h"

#define RUN_SNAPSHOT_TIMEOUT_MS  30000
#define RUN_STOP_GRACE_MS        3000
#define RUN_MAX_FRAMES_PER_PC    8
#define RUN_MAX_SYMBOLIZED_SITES 4000

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The live channel: the socket, the parser and the recording. */
struct chan {
    int fd;
    struct snap_stream *st;
    FILE *bin;
    struct target *t;
    bool eof;
};

/* Reads from the channel until `want_snaps` snapshots are complete (or, when want_hello, the
 * HELLO arrived), the deadline passes, or the channel ends. Returns 0, -ETIMEDOUT, -EPIPE (EOF
 * or target gone) or -EBADMSG (malformed, `d` filled). */
static int chan_wait(struct chan *c, bool want_hello, size_t want_snaps, int timeout_ms,
                     struct diag *d)
{
    double deadline = mono_s() + timeout_ms / 1000.0;
    uint8_t buf[65536];
    for (;;) {
        if (want_hello ? c->st->have_hello : c->st->n_snaps >= want_snaps) {
            return 0;
        }
        if (c->eof) {
            return -EPIPE;
        }
        double left = deadline - mono_s();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
        int pr = poll(&pfd, 1, ms);
        if (pr < 0 && errno != EINTR) {
            return diag_set(d, -errno, "poll on the agent channel: %s", strerror(errno));
        }
        if (pr <= 0) {
            /* A forked child may hold the channel open: notice the target's own exit. */
            if (!target_alive(c->t)) {
                pfd.revents = 0;
                if (poll(&pfd, 1, 0) <= 0) {
                    c->eof = true;
                }
            }
            continue;
        }
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            c->eof = true;
            continue;
        }
        if (c->bin) {
            fwrite(buf, 1, (size_t)r, c->bin);
        }
        int rc = snap_stream_feed(c->st, buf, (size_t)r, d);
        if (rc < 0) {
            return rc;
        }
    }
}

/* Sends REQ_SNAPSHOT{round} and waits for its SNAP_END. */
static int chan_snapshot(struct chan *c, uint32_t round, int timeout_ms, struct diag *d)
{
    uint8_t frame[PROTO_HEADER_SIZE + 8];
    struct proto_wbuf b = {.data = frame, .cap = sizeof(frame)};
    proto_frame_begin(&b, PROTO_REQ_SNAPSHOT);
    proto_put_u32(&b, round);
    proto_put_u32(&b, 0);
    proto_frame_end(&b);
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = send(c->fd, frame + off, b.len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -EPIPE;
        }
        off += (size_t)w;
    }
    return chan_wait(c, false, c->st->n_snaps + 1, timeout_ms, d);
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char **strv_expand(char *const *v, uint16_t port)
{
    size_t n = 0;
    while (v && v[n]) {
        n++;
    }
    char **out = calloc(n + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++) {
        out[i] = drv_expand(v[i], port, 0, 0);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++) {
                free(out[j]);
            }
            free(out);
            return NULL;
        }
    }
    return out;
}

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++) {
        free(*p);
    }
    free(v);
}

/* After a closed pipe or channel: gives the target up to a second to be reaped, as it is usually
 * ending, so the message can say how it ended. Returns target_alive(). */
static bool settle(struct target *t)
{
    bool alive = target_alive(t);
    for (int k = 0; alive && k < 100; k++) {
        poll(NULL, 0, 10);
        alive = target_alive(t);
    }
    return alive;
}

/* Describes a channel that closed while the target still runs (rc -EPIPE): it exec'd another
 * program (the agent's channel is close-on-exec and the agent strips itself from the new
 * program's environment) or closed the descriptor. */
static void chan_closed_msg(char *err, size_t len, const char *when)
{
    snprintf(err, len,
             "the agent's channel closed %s while the target is still running: it exec'd another "
             "program (which runs untracked) or closed the channel's descriptor; point "
             "target.argv at the program that does the work",
             when);
}

/* Builds "msg" plus the tail of the target's log. */
static char *error_with_log(const char *msg, const char *log_path)
{
    char tail[2048];
    size_t n = target_log_tail(log_path, 8, tail, sizeof(tail));
    char *out = NULL;
    if (n > 0) {
        if (asprintf(&out, "%s\nlast lines of %s:\n%s", msg, log_path, tail) < 0) {
            out = NULL;
        }
    } else {
        out = strdup(msg);
    }
    return out;
}

int run_scenario(const struct scn *s, const struct run_opts *o, struct rpt_scenario *out,
                 char **agent_version, struct diag *d)
{
    struct snap_stream st;
    struct chan ch = {.fd = -1};
    struct target *t = NULL;
    struct drv *drv = NULL;
    char **argv = NULL;
    char **env = NULL;
    char *cwd = NULL;
    char *ready_url = NULL;
    double *seconds = NULL;
    char path[4096];
    char log_path[4096];
    struct diag rd = {{0}};
    char err[DIAG_MAX + 256] = "";
    uint16_t port = 0;
    uint32_t total = s->warmup + s->rounds;
    double t_start = mono_s();
    int rc = 0;
    snap_stream_init(&st);

    drv = drv_new(s, d);
    if (!drv) {
        return -EINVAL;
    }
    seconds = calloc(total + 1, sizeof(*seconds));
    if (!seconds) {
        drv_free(drv);
        return diag_set(d, -ENOMEM, "out of memory");
    }
    snprintf(path, sizeof(path), "%s/snapshots.bin", o->out_dir);
    snprintf(log_path, sizeof(log_path), "%s/target.log", o->out_dir);
    ch.bin = fopen(path, "wb");
    if (!ch.bin) {
        snprintf(err, sizeof(err), "can't write '%.1000s': %s", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof(path), "%s/scenario.json", o->out_dir);
    scn_save(s, path);

    if (s->uses_port && target_free_port(&port, &rd) < 0) {
        snprintf(err, sizeof(err), "%s", rd.msg);
        goto done;
    }
    argv = strv_expand(s->argv, port);
    env = s->env ? strv_expand(s->env, port) : NULL;
    cwd = s->cwd ? drv_expand(s->cwd, port, 0, 0) : NULL;
    if (!argv || (s->env && !env) || (s->cwd && !cwd)) {
        snprintf(err, sizeof(err), "out of memory");
        goto done;
    }
    if (target_is_static(argv[0])) {
        snprintf(err, sizeof(err),
                 "agent not loaded: target '%.1000s' is statically linked, and a static program "
                 "never loads LD_PRELOAD libraries; build it dynamically linked (without "
                 "-static) to measure it",
                 argv[0]);
        goto done;
    }
    struct target_opts to = {
        .argv = argv,
        .env_add = env,
        .cwd = cwd,
        .agent_path = o->agent_path,
        .pipe_stdin = s->driver == SCN_DRIVER_STDIO,
        .pipe_stdout = s->driver == SCN_DRIVER_STDIO || s->ready == SCN_READY_STDOUT,
        .log_path = log_path,
        .channel = true,
    };
    if (target_start(&to, &t, &rd) < 0) {
        snprintf(err, sizeof(err), "%s", rd.msg);
        goto done;
    }
    ch.fd = t->chan_fd;
    ch.st = &st;
    ch.t = t;

    /* The agent says HELLO as soon as it is loaded. */
    rc = chan_wait(&ch, true, 0, s->ready_timeout_ms, &rd);
    if (rc < 0) {
        char how[128];
        target_alive(t);
        target_describe_exit(t, how, sizeof(how));
        if (rc == -EBADMSG) {
            snprintf(err, sizeof(err), "%s", rd.msg);
        } else if (t->exited) {
            snprintf(err, sizeof(err),
                     "target %s before the agent said hello (it crashed at start-up, or the "
                     "agent could not load: see the log)",
                     how);
        } else {
            snprintf(err, sizeof(err),
                     "agent not loaded: no hello from it within %d ms, so this program is not "
                     "tracked (a static binary, a setuid program, one that resets LD_PRELOAD, or "
                     "a library that is not the agent); check that '%s' is the leakcheck agent "
                     "and loads with LD_PRELOAD",
                     s->ready_timeout_ms, o->agent_path);
        }
        goto done;
    }
    if (agent_version && !*agent_version) {
        *agent_version = xstrdup(st.agent_version);
    }

    switch (s->ready) {
    case SCN_READY_NONE:
        rc = 0;
        break;
    case SCN_READY_STDOUT:
        rc = target_wait_stdout(t, s->ready_value, s->ready_timeout_ms, &rd);
        break;
    case SCN_READY_TCP:
        rc = target_wait_tcp(t, s->ready_port_is_placeholder ? port : s->ready_port,
                             s->ready_timeout_ms, &rd);
        break;
    case SCN_READY_HTTP:
        ready_url = drv_expand(s->ready_value, port, 0, 0);
        rc = ready_url ? target_wait_http(t, ready_url, s->ready_timeout_ms, &rd) : -ENOMEM;
        break;
    }
    if (rc < 0) {
        snprintf(err, sizeof(err), "target never became ready: %s", rd.msg);
        goto done;
    }
    if (s->driver != SCN_DRIVER_STDIO && t->stdout_fd >= 0) {
        target_drain_stdout(t);
    }

    rc = chan_snapshot(&ch, 0, RUN_SNAPSHOT_TIMEOUT_MS, &rd);
    if (rc < 0) {
        char how[128];
        bool alive = rc == -EPIPE ? settle(t) : target_alive(t);
        target_describe_exit(t, how, sizeof(how));
        if (rc == -EBADMSG) {
            snprintf(err, sizeof(err), "no start-up snapshot from the agent: %s", rd.msg);
        } else if (!alive) {
            snprintf(err, sizeof(err),
                     "target %s before the first round (a server must keep running while "
                     "leakcheck drives it; see the log)",
                     how);
        } else if (rc == -EPIPE) {
            chan_closed_msg(err, sizeof(err), "before the first round");
        } else {
            snprintf(err, sizeof(err), "no start-up snapshot from the agent within %d ms",
                     RUN_SNAPSHOT_TIMEOUT_MS);
        }
        goto done;
    }
    /* The canary: proof that the agent sees this program's allocations before an empty
     * profile is trusted. */
    if (!(st.snaps[0].flags & PROTO_SNAP_CANARY_LIVE)) {
        snprintf(err, sizeof(err),
                 "the agent is loaded but does not see the program's allocations (its canary "
                 "block is missing): the program may use its own allocator or be statically "
                 "linked; leakcheck can't measure it (build it with the system malloc)");
        goto done;
    }
    if (st.snaps[0].flags & PROTO_SNAP_PASSTHROUGH) {
        snprintf(err, sizeof(err),
                 "the agent is loaded but not tracking (pass-through from the start: %llu "
                 "allocations dropped, %llu unwind errors); leakcheck can't measure this "
                 "program, see the log",
                 (unsigned long long)st.snaps[0].counters[PROTO_C_DROPPED],
                 (unsigned long long)st.snaps[0].counters[PROTO_C_UNWIND_ERRORS]);
        goto done;
    }
    if (o->progress) {
        run_fill(s, &st, seconds, NULL, out);
        o->progress(o->progress_arg, s, out, SIZE_MAX);
    }

    struct drv_target dt = {
        .stdin_fd = t->stdin_fd, .stdout_fd = t->stdout_fd, .port = port, .pid = (int)t->pid};
    for (uint32_t r = 1; r <= total; r++) {
        double t0 = mono_s();
        rc = drv->ops->round(drv, &dt, r, s->round_timeout_ms, &rd);
        seconds[r - 1] = mono_s() - t0;
        if (rc < 0) {
            char how[128];
            bool alive = rc == -EPIPE ? settle(t) : target_alive(t);
            target_describe_exit(t, how, sizeof(how));
            if (!alive) {
                snprintf(err, sizeof(err), "target %s during round %u (%s)", how, r, rd.msg);
            } else if (rc == -ETIMEDOUT) {
                snprintf(err, sizeof(err),
                         "round %u timed out: %s (the target may hang; raise round_timeout_s if "
                         "it is just slow)",
                         r, rd.msg);
            } else if (rc == -EPIPE && s->driver == SCN_DRIVER_STDIO) {
                /* The driver's message already names the round. */
                snprintf(err, sizeof(err),
                         "%s, and is still running (the stdio driver reads one reply line per "
                         "request from the target's stdout: keep it open)",
                         rd.msg);
            } else {
                snprintf(err, sizeof(err), "round %u failed: %s", r, rd.msg);
            }
            goto done;
        }
        rc = chan_snapshot(&ch, r, RUN_SNAPSHOT_TIMEOUT_MS, &rd);
        if (rc < 0) {
            char how[128];
            bool alive = rc == -EPIPE ? settle(t) : target_alive(t);
            target_describe_exit(t, how, sizeof(how));
            if (rc == -EPIPE && alive) {
                char when[64];
                snprintf(when, sizeof(when), "after round %u", r);
                chan_closed_msg(err, sizeof(err), when);
            } else if (rc == -EBADMSG) {
                snprintf(err, sizeof(err), "round %u: %s", r, rd.msg);
            } else if (rc == -ETIMEDOUT) {
                snprintf(err, sizeof(err),
                         "round %u: the agent did not answer a snapshot within "
                         "%d ms (target %s)",
                         r, RUN_SNAPSHOT_TIMEOUT_MS, how);
            } else {
                snprintf(err, sizeof(err), "target %s after round %u, before its snapshot", how, r);
            }
            goto done;
        }
        /* The canary is never freed: a snapshot without it means tracking broke. */
        if (!(st.snaps[st.n_snaps - 1].flags & PROTO_SNAP_CANARY_LIVE)) {
            snprintf(err, sizeof(err),
                     "round %u: the agent's canary block is gone from its table, so its tracking "
                     "broke (the program freed memory it did not allocate, or the agent failed); "
                     "the profile can't be trusted",
                     r);
            goto done;
        }
        if (o->progress) {
            rpt_scenario_cleanup(out);
            memset(out, 0, sizeof(*out));
            run_fill(s, &st, seconds, NULL, out);
            o->progress(o->progress_arg, s, out, r - 1);
        }
    }

done:
    if (t) {
        bool was_alive = target_alive(t);
        target_stop(t, o->stop_grace_ms > 0 ? o->stop_grace_ms : RUN_STOP_GRACE_MS);
        /* Whatever the agent still sent belongs in the recording. */
        if (!err[0] && !was_alive) {
            char how[128];
            target_describe_exit(t, how, sizeof(how));
            snprintf(err, sizeof(err), "target %s before the run ended", how);
        }
    }
    if (ch.bin) {
        fclose(ch.bin);
    }
    char *full = err[0] ? error_with_log(err, t ? log_path : NULL) : NULL;
    rpt_scenario_cleanup(out);
    memset(out, 0, sizeof(*out));
    rc = run_fill(s, &st, seconds, err[0] ? (full ? full : err) : NULL, out);
    if (t) {
        out->exit_code = target_exit_code(t);
        out->term_signal = target_term_signal(t);
    } else {
        out->exit_code = -1;
    }
    size_t n = 0;
    while (argv && argv[n]) {
        n++;
    }
    out->argv = calloc(n + 1, sizeof(*out->argv));
    for (size_t i = 0; out->argv && i < n; i++) {
        out->argv[i] = strdup(argv[i]);
    }
    out->seconds = mono_s() - t_start;
    free(full);
    target_free(t);
    drv_free(drv);
    strv_free(argv);
    strv_free(env);
    free(cwd);
    free(ready_url);
    free(seconds);
    snap_stream_cleanup(&st);
    return rc < 0 && rc != -ENOMEM ? 0 : rc;
}

/* ---------------------------------------------------------------- analysis */

/* Per-site working data while filling the report. */
struct site_work {
    uint32_t id;
    uint64_t *live_bytes, *live_blocks;
    uint64_t *surv_blocks, *surv_bytes;
    uint64_t alloc_bytes, alloc_blocks;
    struct rpt_frame *frames;
    size_t n_frames;
    size_t culprit;
    bool suppressed;
    uint32_t group;
    struct growth_site_out g;
    uint64_t peak;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static size_t find_id(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && ids[lo] == id ? lo : SIZE_MAX;
}

static void frames_free(struct rpt_frame *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].function);
        free(f[i].system_name);
        free(f[i].file);
        free(f[i].object);
    }
    free(f);
}

/* Symbolizes one stack into w->frames (all frames, inlined expanded). */
static void symbolize_site(struct sym *sy, const struct snap_stack *stk, struct site_work *w)
{
    if (!stk || stk->depth == 0) {
        return;
    }
    struct rpt_frame *frames = calloc((size_t)stk->depth * RUN_MAX_FRAMES_PER_PC, sizeof(*frames));
    if (!frames) {
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < stk->depth; i++) {
        int k = sy ? sym_resolve(sy, stk->pcs[i], frames + n, RUN_MAX_FRAMES_PER_PC) : 0;
        if (k <= 0) {
            frames[n].address = stk->pcs[i] ? stk->pcs[i] - 1 : 0;
            k = 1;
        }
        n += (size_t)k;
    }
    w->frames = frames;
    w->n_frames = n;
}

/* True when a stack (allocator side first) ends at a thread's first frame. A stack that stops
 * short of it was cut: the depth limit, or code without unwind information the unwinder could
 * not get through. Such sites are flagged in the report, since their culprit may be a callee
 * of the real one. */
static bool reaches_root(const struct rpt_frame *frames, size_t n)
{
    static const char *const roots[] = {
        "_start",  "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
        "__clone", "__clone3",          "_dl_start_user",         "_dl_start",    NULL};
    if (n == 0) {
        return false;
    }
    const char *outer = frames[n - 1].function;
    for (const char *const *r = roots; outer && *r; r++) {
        if (strcmp(outer, *r) == 0) {
            return true;
        }
    }
    return false;
}

static int cmp_sites(const void *a, const void *b)
{
    const struct rpt_site *x = a;
    const struct rpt_site *y = b;
    if (x->suspect != y->suspect) {
        return x->suspect ? -1 : 1;
    }
    if (x->bytes_per_round != y->bytes_per_round) {
        return x->bytes_per_round > y->bytes_per_round ? -1 : 1;
    }
    if (x->final_bytes != y->final_bytes) {
        return x->final_bytes > y->final_bytes ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}

/* a - b as a signed value, saturated: counters come from the agent (or a recording) and may
 * be anything up to 2^64 - 1 (found by fuzz/fuzz_analyze.c). Can't fail. */
static int64_t diff_sat(uint64_t a, uint64_t b)
{
    if (a >= b) {
        return a - b > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(a - b);
    }
    return b - a > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(b - a);
}

int run_fill(const struct scn *s, const struct snap_stream *st, const double *seconds,
             const char *run_error, struct rpt_scenario *out)
{
    int rc = 0;
    uint32_t *ids = NULL;
    struct site_work *w = NULL;
    struct growth_site_in *gin = NULL;
    struct growth_site_out *gout = NULL;
    uint64_t *heap_bytes = NULL;
    uint64_t *heap_blocks = NULL;
    struct sym *sy = NULL;
    struct culprit_rules *rules = NULL;
    struct supp_rule *supp = NULL;
    size_t n_ids = 0;
    const struct snap_snapshot **snaps = NULL;

    out->name = strdup(s->name);
    out->file = xstrdup(s->file);
    out->expect = s->expect;
    out->threshold_bytes_per_round = s->threshold_bytes_per_round;
    out->threshold_blocks_per_round = s->threshold_blocks_per_round;
    out->rounds_planned = s->warmup + s->rounds;
    out->warmup = s->warmup;
    out->trend_p_value = 1;
    out->exit_code = -1;

    /* Rounds 1..n that completed, in order. */
    size_t n = 0;
    snaps = calloc(out->rounds_planned + 1, sizeof(*snaps));
    if (!snaps) {
        rc = -ENOMEM;
        goto out;
    }
    while (n < out->rounds_planned && (snaps[n] = snap_stream_find(st, (uint32_t)n + 1)) != NULL) {
        n++;
    }
    out->rounds = calloc(n ? n : 1, sizeof(*out->rounds));
    if (!out->rounds) {
        rc = -ENOMEM;
        goto out;
    }
    out->n_rounds = n;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = snaps[i]->counters;
        struct rpt_round *r = &out->rounds[i];
        r->round = (uint32_t)i + 1;
        r->warmup = i < s->warmup;
        r->live_bytes = c[PROTO_C_LIVE_BYTES];
        r->live_blocks = c[PROTO_C_LIVE_BLOCKS];
        r->rss_bytes = c[PROTO_C_RSS_BYTES];
        r->heap_inuse_bytes = c[PROTO_C_HEAP_INUSE];
        r->heap_free_bytes = c[PROTO_C_HEAP_FREE];
        r->agent_bytes = c[PROTO_C_AGENT_BYTES];
        r->seconds = seconds ? seconds[i] : 0;
    }
    const struct snap_snapshot *last =
        n ? snaps[n - 1] : (st->n_snaps ? &st->snaps[st->n_snaps - 1] : NULL);
    if (last) {
        out->unknown_frees = last->counters[PROTO_C_UNKNOWN_FREES];
        out->dropped = last->counters[PROTO_C_DROPPED];
        out->unwind_errors = last->counters[PROTO_C_UNWIND_ERRORS];
        out->truncated_stacks = last->counters[PROTO_C_TRUNCATED];
        out->stacks_truncated = (last->flags & PROTO_SNAP_TRUNCATED) != 0;
    }

    /* Every stack id with a site in a completed round. */
    size_t cap_ids = 0;
    for (size_t i = 0; i < n; i++) {
        cap_ids += snaps[i]->n_sites;
    }
    ids = malloc((cap_ids ? cap_ids : 1) * sizeof(*ids));
    if (!ids) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < snaps[i]->n_sites; j++) {
            ids[n_ids++] = snaps[i]->sites[j].stack_id;
        }
    }
    qsort(ids, n_ids, sizeof(*ids), cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (u == 0 || ids[u - 1] != ids[i]) {
            ids[u++] = ids[i];
        }
    }
    n_ids = u;
    w = calloc(n_ids ? n_ids : 1, sizeof(*w));
    if (!w) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < n_ids; k++) {
        w[k].id = ids[k];
        w[k].live_bytes = calloc(n, sizeof(uint64_t));
        w[k].live_blocks = calloc(n, sizeof(uint64_t));
        w[k].surv_blocks = calloc(n, sizeof(uint64_t));
        w[k].surv_bytes = calloc(n, sizeof(uint64_t));
        if (!w[k].live_bytes || !w[k].live_blocks || !w[k].surv_blocks || !w[k].surv_bytes) {
            rc = -ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < snaps[i]->n_sites; j++) {
            const struct snap_site *ss = &snaps[i]->sites[j];
            size_t k = find_id(ids, n_ids, ss->stack_id);
            w[k].live_bytes[i] = ss->live_bytes;
            w[k].live_blocks[i] = ss->live_blocks;
            if (ss->live_bytes > w[k].peak) {
                w[k].peak = ss->live_bytes;
            }
            w[k].alloc_bytes = ss->alloc_bytes;
            w[k].alloc_blocks = ss->alloc_blocks;
            if (i == n - 1) {
                for (size_t b = 0; b < ss->n_births; b++) {
                    uint32_t e = ss->births[b].epoch;
                    if (e >= 1 && e <= n) {
                        w[k].surv_blocks[e - 1] = ss->births[b].blocks;
                        w[k].surv_bytes[e - 1] = ss->births[b].bytes;
                    }
                }
            }
        }
    }

    /* Symbolize (objects: union over every snapshot), pick culprits, match suppressions. */
    sy = sym_new();
    if (sy) {
        for (size_t i = 0; i < st->n_snaps; i++) {
            for (size_t j = 0; j < st->snaps[i].n_objects; j++) {
                const struct snap_object *ob = &st->snaps[i].objects[j];
                sym_add_object(sy, ob->path, ob->base, ob->segs, ob->n_segs, ob->build_id,
                               ob->build_id_len);
            }
        }
    }
    rules = culprit_rules_new();
    for (size_t i = 0; rules && i < s->n_wrappers; i++) {
        culprit_rules_add(rules, s->wrappers[i]);
    }
    supp = calloc(s->n_supp ? s->n_supp : 1, sizeof(*supp));
    for (size_t i = 0; supp && i < s->n_supp; i++) {
        supp[i].function = s->supp[i].function;
        supp[i].object = s->supp[i].object;
        supp[i].stack = s->supp[i].stack;
        supp[i].n_stack = s->supp[i].n_stack;
    }
    size_t symbolized = 0;
    for (size_t k = 0; k < n_ids; k++) {
        if (w[k].peak == 0) {
            continue;
        }
        if (symbolized++ < RUN_MAX_SYMBOLIZED_SITES) {
            symbolize_site(sy, snap_stream_stack(st, w[k].id), &w[k]);
        }
        if (w[k].n_frames && rules) {
            w[k].culprit = culprit_pick(rules, w[k].frames, w[k].n_frames);
            if (w[k].culprit >= w[k].n_frames) {
                w[k].culprit = 0;
            }
        }
        if (w[k].n_frames && supp && s->n_supp) {
            w[k].suppressed = supp_match(supp, s->n_supp, w[k].frames + w[k].culprit,
                                         w[k].n_frames - w[k].culprit);
        }
    }
    /* Sites sharing a culprit frame form one group. */
    for (size_t k = 0; k < n_ids; k++) {
        if (!w[k].n_frames || w[k].group) {
            continue;
        }
        const struct rpt_frame *f = &w[k].frames[w[k].culprit];
        w[k].group = (uint32_t)k + 1;
        for (size_t m = k + 1; m < n_ids; m++) {
            if (!w[m].n_frames || w[m].group) {
                continue;
            }
            const struct rpt_frame *g = &w[m].frames[w[m].culprit];
            bool same = f->function && g->function
                            ? strcmp(f->function, g->function) == 0 && f->line == g->line
                            : f->address == g->address;
            if (same) {
                w[m].group = w[k].group;
            }
        }
    }

    /* Analysis. */
    struct growth_out go = {.verdict = RPT_VERDICT_INCONCLUSIVE, .trend_p_value = 1};
    bool analysed = false;
    if (n > s->warmup + 1) {
        heap_bytes = calloc(n, sizeof(*heap_bytes));
        heap_blocks = calloc(n, sizeof(*heap_blocks));
        gin = calloc(n_ids ? n_ids : 1, sizeof(*gin));
        gout = calloc(n_ids ? n_ids : 1, sizeof(*gout));
        if (!heap_bytes || !heap_blocks || !gin || !gout) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            heap_bytes[i] = out->rounds[i].live_bytes;
            heap_blocks[i] = out->rounds[i].live_blocks;
        }
        for (size_t k = 0; k < n_ids; k++) {
            gin[k].live_bytes = w[k].live_bytes;
            gin[k].live_blocks = w[k].live_blocks;
            gin[k].surv_blocks = w[k].surv_blocks;
            gin[k].surv_bytes = w[k].surv_bytes;
            gin[k].suppressed = w[k].suppressed;
            gin[k].group = w[k].group;
        }
        struct growth_in in = {
            .n_rounds = n,
            .warmup = s->warmup,
            .live_bytes = heap_bytes,
            .live_blocks = heap_blocks,
            .n_sites = n_ids,
            .sites = gin,
            .threshold_bytes_per_round = s->threshold_bytes_per_round > 0
                                             ? s->threshold_bytes_per_round
                                             : GROWTH_DEFAULT_BYTES_PER_ROUND,
            .threshold_blocks_per_round = s->threshold_blocks_per_round,
        };
        if (growth_analyze(&in, &go, gout) == 0) {
            analysed = true;
            for (size_t k = 0; k < n_ids; k++) {
                w[k].g = gout[k];
            }
        }
    }
    out->growth_bytes_per_round = go.bytes_per_round;
    out->growth_blocks_per_round = go.blocks_per_round;
    out->trend_p_value = analysed ? go.trend_p_value : 1;

    /* Sites worth reporting: any live bytes at some round. */
    size_t n_rep = 0;
    for (size_t k = 0; k < n_ids; k++) {
        n_rep += w[k].peak > 0 || w[k].g.suspect;
    }
    out->sites = calloc(n_rep ? n_rep : 1, sizeof(*out->sites));
    if (!out->sites) {
        rc = -ENOMEM;
        goto out;
    }
    size_t first_measured = s->warmup < n ? s->warmup : 0;
    for (size_t k = 0; k < n_ids; k++) {
        if (!(w[k].peak > 0 || w[k].g.suspect)) {
            continue;
        }
        struct rpt_site *site = &out->sites[out->n_sites++];
        const struct snap_stack *stk = snap_stream_stack(st, w[k].id);
        site->id = w[k].id;
        site->kind = w[k].g.kind;
        site->suppressed = w[k].suppressed;
        site->suspect = w[k].g.suspect;
        site->bytes_per_round = w[k].g.bytes_per_round;
        site->blocks_per_round = w[k].g.blocks_per_round;
        site->rounds_with_survivors = w[k].g.rounds_with_survivors;
        site->measured_rounds = w[k].g.measured_rounds;
        site->peak_bytes = w[k].peak;
        site->final_bytes = n ? w[k].live_bytes[n - 1] : 0;
        site->final_blocks = n ? w[k].live_blocks[n - 1] : 0;
        if (n) {
            int64_t gb = diff_sat(w[k].live_bytes[n - 1], w[k].live_bytes[first_measured]);
            int64_t gk = diff_sat(w[k].live_blocks[n - 1], w[k].live_blocks[first_measured]);
            site->growth_bytes_signed = gb;
            site->growth_blocks_signed = gk;
            site->growth_bytes = gb > 0 ? (uint64_t)gb : 0;
        }
        site->alloc_bytes = w[k].alloc_bytes;
        site->alloc_blocks = w[k].alloc_blocks;
        site->live_bytes = w[k].live_bytes;
        site->live_blocks = w[k].live_blocks;
        w[k].live_bytes = w[k].live_blocks = NULL;
        site->frames = w[k].frames;
        site->n_frames = w[k].n_frames;
        w[k].frames = NULL;
        w[k].n_frames = 0;
        site->truncated = (stk && stk->truncated) || !reaches_root(site->frames, site->n_frames);
        out->stacks_truncated |= site->truncated;
        if (site->n_frames) {
            const struct rpt_frame *f = &site->frames[w[k].culprit];
            site->function = xstrdup(f->function);
            site->file = xstrdup(f->file);
            site->line = f->line;
            site->object = xstrdup(f->object);
        }
    }
    qsort(out->sites, out->n_sites, sizeof(*out->sites), cmp_sites);

    /* Verdict. */
    const char *reason = NULL;
    char buf[512];
    if (run_error) {
        out->verdict = RPT_VERDICT_ERROR;
        out->error = strdup(run_error);
        const char *nl = strchr(run_error, '\n');
        out->reason = nl ? strndup(run_error, (size_t)(nl - run_error)) : strdup(run_error);
    } else if (last && (last->flags & PROTO_SNAP_PASSTHROUGH)) {
        out->verdict = RPT_VERDICT_INCONCLUSIVE;
        reason = "the agent stopped tracking during the run (pass-through); the profile is "
                 "incomplete";
    } else if (out->dropped > 0) {
        out->verdict = RPT_VERDICT_INCONCLUSIVE;
        snprintf(buf, sizeof(buf),
                 "the agent dropped %llu allocations (table full or agent error); the profile is "
                 "incomplete",
                 (unsigned long long)out->dropped);
        reason = buf;
    } else if (!analysed) {
        out->verdict = RPT_VERDICT_INCONCLUSIVE;
        snprintf(buf, sizeof(buf), "too few measured rounds to analyse (%zu completed, %u warm-up)",
                 n, s->warmup);
        reason = buf;
    } else {
        out->verdict = go.verdict;
        reason = go.reason;
    }
    if (reason) {
        out->reason = strdup(reason);
    }
    run_judge(s, out);
out:
    if (w) {
        for (size_t k = 0; k < n_ids; k++) {
            free(w[k].live_bytes);
            free(w[k].live_blocks);
            free(w[k].surv_blocks);
            free(w[k].surv_bytes);
            frames_free(w[k].frames, w[k].n_frames);
        }
    }
    free(w);
    free(ids);
    free(gin);
    free(gout);
    free(heap_bytes);
    free(heap_blocks);
    free(snaps);
    free(supp);
    culprit_rules_free(rules);
    sym_free(sy);
    return rc;
}

void run_judge(const struct scn *s, struct rpt_scenario *out)
{
    switch (out->verdict) {
    case RPT_VERDICT_LEAK:
        out->ok = out->expect == RPT_EXPECT_LEAK || out->expect == RPT_EXPECT_ANY;
        break;
    case RPT_VERDICT_NO_LEAK:
        out->ok = out->expect == RPT_EXPECT_NO_LEAK || out->expect == RPT_EXPECT_ANY;
        break;
    default:
        out->ok = false;
        break;
    }
    if (out->ok && out->verdict == RPT_VERDICT_LEAK && s->expect_culprit) {
        const char *found = out->n_sites && out->sites[0].suspect && out->sites[0].function
                                ? out->sites[0].function
                                : NULL;
        if (!found || fnmatch(s->expect_culprit, found, 0) != 0) {
            out->ok = false;
            char *r = NULL;
            if (asprintf(&r, "%s; expected the culprit '%s', found '%s'",
                         out->reason ? out->reason : "leak", s->expect_culprit,
                         found ? found : "no symbolized suspect") >= 0) {
                free(out->reason);
                out->reason = r;
            }
        }
    }
}
