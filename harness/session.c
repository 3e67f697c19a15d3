/* SPDX-License-Identifier: MIT */
/* session.c - one scenario end to end (see session.h).
 *
 * A session is the steps of one run, each its own function over one struct session: prepare
 * (recording, port, argv), start (spawn, the agent's HELLO), ready (the scenario's probe),
 * baseline (the start-up snapshot and the canary), rounds, and finish (stop, analyse). A step
 * that fails writes one message into `err` and the run goes straight to finish, which still
 * analyses every round that completed.
 */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analysis/analysis.h"
#include "../analysis/series.h"
#include "../analysis/snap.h"
#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/strv.h"
#include "chan.h"
#include "drv.h"
#include "target.h"

#define SNAPSHOT_TIMEOUT_MS 30000
#define STOP_GRACE_MS       3000

struct session {
    const struct scn *s;
    const struct session_opts *o;
    struct snap_stream st;
    struct chan ch;
    struct target *t;
    struct drv *drv;
    char **argv, **env;
    char *cwd;
    double *seconds;          /* per round */
    struct rpt_round *rounds; /* per round, for progress */
    size_t n_done;            /* rounds completed */
    uint32_t answered;        /* requests the target answered in the last round driven */
    uint16_t port;
    uint32_t total; /* warm-up + measured rounds */
    char log_path[4096];
    struct diag rd;           /* a step's detail */
    char err[DIAG_MAX + 256]; /* why the run failed, or "" */
};

/* Sets the run's failure message (printf-style). Returns -1, so steps can `return fail(...)`. */
static int fail(struct session *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct session *ss, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ss->err, sizeof(ss->err), fmt, ap);
    va_end(ap);
    return -1;
}

/* Expands {port} in every string of a NULL-terminated vector. NULL when out of memory. */
static char **strv_expand(char *const *v, uint16_t port)
{
    size_t n = strv_len(v);
    char **out = calloc(n + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++) {
        out[i] = drv_expand(v[i], port, 0, 0);
        if (!out[i]) {
            strv_free(out);
            return NULL;
        }
    }
    return out;
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
static int chan_closed(struct session *ss, const char *when)
{
    return fail(ss,
                "the agent's channel closed %s while the target is still running: it exec'd "
                "another program (which runs untracked) or closed the channel's descriptor; point "
                "target.argv at the program that does the work",
                when);
}

/* True while the target has answered nothing: no round completed, and the round under way (if
 * any) got no answer. */
static bool answered_nothing(const struct session *ss)
{
    return ss->n_done == 0 && ss->answered == 0;
}

/* The one account of a target that ended having answered nothing, whichever step noticed it
 * first: the start-up snapshot, round 1, or the snapshot after it. Which of them sees the exit
 * of a target that quits at once is a race (the agent may still answer the start-up snapshot
 * while the process exits), so the message says only what is known: no request of the first
 * round got an answer. Returns -1. */
static int ended_unanswered(struct session *ss, const char *how)
{
    return fail(ss,
                "target %s before the first round was answered (a server must keep running "
                "while leakcheck drives it; see the log: %s)",
                how, ss->log_path);
}

/* Builds "msg" plus the tail of the target's log (owned), or NULL when out of memory. */
static char *error_with_log(const char *msg, const char *log_path)
{
    char tail[2048];
    size_t n = log_path ? target_log_tail(log_path, 8, tail, sizeof(tail)) : 0;
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

/* Opens the recording, saves the scenario beside it, picks the port, expands argv, env and cwd,
 * and refuses static programs. Returns 0 or -1 with ss->err set. */
static int prepare(struct session *ss)
{
    const struct scn *s = ss->s;
    char path[4096];
    snprintf(path, sizeof(path), "%s/snapshots.bin", ss->o->out_dir);
    snprintf(ss->log_path, sizeof(ss->log_path), "%s/target.log", ss->o->out_dir);
    ss->ch.bin = fopen(path, "wb");
    if (!ss->ch.bin) {
        return fail(ss, "can't write '%.1000s': %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/scenario.json", ss->o->out_dir);
    scn_save(s, path);
    if (s->uses_port && target_free_port(&ss->port, &ss->rd) < 0) {
        return fail(ss, "%s", ss->rd.msg);
    }
    ss->argv = strv_expand(s->argv, ss->port);
    ss->env = s->env ? strv_expand(s->env, ss->port) : NULL;
    ss->cwd = s->cwd ? drv_expand(s->cwd, ss->port, 0, 0) : NULL;
    if (!ss->argv || (s->env && !ss->env) || (s->cwd && !ss->cwd)) {
        return fail(ss, "out of memory");
    }
    if (target_is_static(ss->argv[0])) {
        return fail(ss,
                    "agent not loaded: target '%.1000s' is statically linked, and a static "
                    "program never loads LD_PRELOAD libraries; build it dynamically linked "
                    "(without -static) to measure it",
                    ss->argv[0]);
    }
    return 0;
}

/* Starts the target and waits for the agent's HELLO. Returns 0 or -1 with ss->err set. */
static int start(struct session *ss, char **agent_version)
{
    const struct scn *s = ss->s;
    struct target_opts to = {
        .argv = ss->argv,
        .env_add = ss->env,
        .cwd = ss->cwd,
        .agent_path = ss->o->agent_path,
        .pipe_stdin = (ss->s->driver->needs & DRV_PIPES_STDIN) != 0,
        .pipe_stdout = (ss->s->driver->needs & DRV_READS_STDOUT) || s->ready == SCN_READY_STDOUT,
        .log_path = ss->log_path,
        .channel = true,
    };
    if (target_start(&to, &ss->t, &ss->rd) < 0) {
        return fail(ss, "%s", ss->rd.msg);
    }
    ss->ch.fd = target_chan_fd(ss->t);
    ss->ch.t = ss->t;
    int rc = chan_wait(&ss->ch, true, 0, s->ready_timeout_ms, &ss->rd);
    if (rc == 0) {
        if (agent_version && !*agent_version) {
            *agent_version = strv_dup_str(ss->st.agent_version);
        }
        return 0;
    }
    char how[128];
    target_alive(ss->t);
    target_describe_exit(ss->t, how, sizeof(how));
    if (rc == -EBADMSG) {
        return fail(ss, "%s", ss->rd.msg);
    }
    if (target_exited(ss->t)) {
        return fail(ss,
                    "target %s before the agent said hello (it crashed at start-up, or the "
                    "agent could not load: see the log: %s)",
                    how, ss->log_path);
    }
    return fail(ss,
                "agent not loaded: no hello from it within %d ms, so this program is not "
                "tracked (a static binary, a setuid program, one that resets LD_PRELOAD, or "
                "a library that is not the agent); check that '%s' is the leakcheck agent "
                "and loads with LD_PRELOAD",
                s->ready_timeout_ms, ss->o->agent_path);
}

/* Runs the scenario's readiness probe. Returns 0 or -1 with ss->err set. */
static int ready(struct session *ss)
{
    const struct scn *s = ss->s;
    int rc = 0;
    char *url = NULL;
    switch (s->ready) {
    case SCN_READY_NONE:
        break;
    case SCN_READY_STDOUT:
        rc = target_wait_stdout(ss->t, s->ready_value, s->ready_timeout_ms, &ss->rd);
        break;
    case SCN_READY_TCP:
        rc = target_wait_tcp(ss->t, s->ready_port_is_placeholder ? ss->port : s->ready_port,
                             s->ready_timeout_ms, &ss->rd);
        break;
    case SCN_READY_HTTP:
        url = drv_expand(s->ready_value, ss->port, 0, 0);
        rc = url ? target_wait_http(ss->t, url, s->ready_timeout_ms, &ss->rd) : -ENOMEM;
        break;
    }
    free(url);
    if (rc < 0) {
        return fail(ss, "target never became ready: %s", ss->rd.msg);
    }
    if (!(ss->s->driver->needs & DRV_READS_STDOUT) && target_stdout_fd(ss->t) >= 0) {
        target_drain_stdout(ss->t);
    }
    return 0;
}

/* Takes the start-up snapshot and checks the canary: proof that the agent sees this program's
 * allocations before an empty profile is trusted. Returns 0 or -1 with ss->err set. */
static int baseline(struct session *ss)
{
    int rc = chan_snapshot(&ss->ch, 0, SNAPSHOT_TIMEOUT_MS, &ss->rd);
    if (rc < 0) {
        char how[128];
        bool alive = rc == -EPIPE ? settle(ss->t) : target_alive(ss->t);
        target_describe_exit(ss->t, how, sizeof(how));
        if (rc == -EBADMSG) {
            return fail(ss, "no start-up snapshot from the agent: %s", ss->rd.msg);
        }
        if (!alive) {
            return ended_unanswered(ss, how);
        }
        if (rc == -EPIPE) {
            return chan_closed(ss, "before the first round");
        }
        return fail(ss, "no start-up snapshot from the agent within %d ms", SNAPSHOT_TIMEOUT_MS);
    }
    const struct snap_snapshot *first = &ss->st.snaps[0];
    if (!(first->flags & PROTO_SNAP_CANARY_LIVE)) {
        return fail(ss, "the agent is loaded but does not see the program's allocations (its "
                        "canary block is missing): the program may use its own allocator or be "
                        "statically linked; leakcheck can't measure it (build it with the system "
                        "malloc)");
    }
    if (first->flags & PROTO_SNAP_PASSTHROUGH) {
        return fail(ss,
                    "the agent is loaded but not tracking (pass-through from the start: %llu "
                    "allocations dropped, %llu unwind errors); leakcheck can't measure this "
                    "program, see the log: %s",
                    (unsigned long long)first->counters[PROTO_C_DROPPED],
                    (unsigned long long)first->counters[PROTO_C_UNWIND_ERRORS], ss->log_path);
    }
    return 0;
}

/* Explains a driver round that failed with `rc`. Returns -1. */
static int round_failed(struct session *ss, uint32_t r, int rc)
{
    char how[128];
    bool alive = rc == -EPIPE ? settle(ss->t) : target_alive(ss->t);
    target_describe_exit(ss->t, how, sizeof(how));
    if (!alive && answered_nothing(ss)) {
        return ended_unanswered(ss, how);
    }
    if (!alive) {
        return fail(ss, "target %s during round %u (%s)", how, r, ss->rd.msg);
    }
    if (rc == -ETIMEDOUT) {
        /* A driver that names the timeout to raise (stdio: reply or round) has said it all. */
        return fail(ss, "round %u timed out: %s%s", r, ss->rd.msg,
                    strstr(ss->rd.msg, "timeout_s")
                        ? ""
                        : " (the target may hang; raise round_timeout_s if it is just slow)");
    }
    if (rc == -EPIPE && (ss->s->driver->needs & DRV_READS_STDOUT)) {
        /* The driver's message already names the round. */
        return fail(ss,
                    "%s, and is still running (the %s driver reads one reply line per request "
                    "from the target's stdout: keep it open)",
                    ss->rd.msg, ss->s->driver->name);
    }
    return fail(ss, "round %u failed: %s", r, ss->rd.msg);
}

/* Explains a snapshot after round `r` that failed with `rc`. Returns -1. */
static int snapshot_failed(struct session *ss, uint32_t r, int rc)
{
    char how[128];
    bool alive = rc == -EPIPE ? settle(ss->t) : target_alive(ss->t);
    target_describe_exit(ss->t, how, sizeof(how));
    if (rc == -EPIPE && alive) {
        char when[64];
        snprintf(when, sizeof(when), "after round %u", r);
        return chan_closed(ss, when);
    }
    if (rc == -EBADMSG) {
        return fail(ss, "round %u: %s", r, ss->rd.msg);
    }
    if (!alive && answered_nothing(ss)) {
        return ended_unanswered(ss, how);
    }
    if (rc == -ETIMEDOUT) {
        return fail(ss, "round %u: the agent did not answer a snapshot within %d ms (target %s)", r,
                    SNAPSHOT_TIMEOUT_MS, how);
    }
    return fail(ss, "target %s after round %u, before its snapshot", how, r);
}

/* Runs every round: the driver's work, then a snapshot, then progress. Returns 0 or -1 with
 * ss->err set. */
static int rounds(struct session *ss)
{
    const struct scn *s = ss->s;
    const struct session_opts *o = ss->o;
    struct drv_target dt = {.stdin_fd = target_stdin_fd(ss->t),
                            .stdout_fd = target_stdout_fd(ss->t),
                            .port = ss->port,
                            .pid = (int)target_pid(ss->t)};
    if (o->progress) {
        o->progress(o->progress_arg, s, ss->rounds, 0);
    }
    for (uint32_t r = 1; r <= ss->total; r++) {
        double t0 = clock_s();
        int rc = ss->drv->ops->round(ss->drv, &dt, r, s->round_timeout_ms, &ss->answered, &ss->rd);
        ss->seconds[r - 1] = clock_s() - t0;
        if (rc < 0) {
            return round_failed(ss, r, rc);
        }
        rc = chan_snapshot(&ss->ch, r, SNAPSHOT_TIMEOUT_MS, &ss->rd);
        if (rc < 0) {
            return snapshot_failed(ss, r, rc);
        }
        const struct snap_snapshot *sn = &ss->st.snaps[ss->st.n_snaps - 1];
        /* The canary is never freed: a snapshot without it means tracking broke. */
        if (!(sn->flags & PROTO_SNAP_CANARY_LIVE)) {
            return fail(ss,
                        "round %u: the agent's canary block is gone from its table, so its "
                        "tracking broke (the program freed memory it did not allocate, or the "
                        "agent failed); the profile can't be trusted",
                        r);
        }
        series_round(sn, r, r <= s->warmup, ss->seconds[r - 1], &ss->rounds[r - 1]);
        ss->n_done = r;
        if (o->progress) {
            o->progress(o->progress_arg, s, ss->rounds, ss->n_done);
        }
    }
    return 0;
}

/* Stops the target, keeps what the agent still sent, and analyses the recording into `out`.
 * Returns 0 or -ENOMEM. */
static int finish(struct session *ss, struct rpt_scenario *out, double t_start)
{
    const struct session_opts *o = ss->o;
    if (ss->t) {
        bool was_alive = target_alive(ss->t);
        target_stop(ss->t, o->stop_grace_ms > 0 ? o->stop_grace_ms : STOP_GRACE_MS);
        if (!ss->err[0] && !was_alive) {
            char how[128];
            target_describe_exit(ss->t, how, sizeof(how));
            fail(ss, "target %s before the run ended", how);
        }
    }
    if (ss->ch.bin) {
        fclose(ss->ch.bin);
        ss->ch.bin = NULL;
    }
    char *full = ss->err[0] ? error_with_log(ss->err, ss->t ? ss->log_path : NULL) : NULL;
    struct analysis_opts ao;
    scn_analysis_opts(ss->s, &ao);
    rpt_scenario_cleanup(out);
    memset(out, 0, sizeof(*out));
    int rc =
        analysis_run(&ao, &ss->st, ss->seconds, ss->err[0] ? (full ? full : ss->err) : NULL, out);
    free(full);
    out->exit_code = ss->t ? target_exit_code(ss->t) : -1;
    out->term_signal = ss->t ? target_term_signal(ss->t) : 0;
    strv_free(out->argv);
    out->argv = strv_dup(ss->argv);
    out->seconds = clock_s() - t_start;
    return rc;
}

/* Frees what the session owns. */
static void session_cleanup(struct session *ss)
{
    target_free(ss->t);
    drv_free(ss->drv);
    strv_free(ss->argv);
    strv_free(ss->env);
    free(ss->cwd);
    free(ss->seconds);
    free(ss->rounds);
    snap_stream_cleanup(&ss->st);
}

int session_run(const struct scn *s, const struct session_opts *o, struct rpt_scenario *out,
                char **agent_version, struct diag *d)
{
    double t_start = clock_s();
    struct session ss = {.s = s, .o = o, .ch = {.fd = -1}, .total = s->warmup + s->rounds};
    snap_stream_init(&ss.st);
    ss.ch.st = &ss.st;
    ss.drv = drv_new(s->driver, s->driver_cfg, d);
    if (!ss.drv) {
        return -EINVAL;
    }
    ss.seconds = calloc((size_t)ss.total + 1, sizeof(*ss.seconds));
    ss.rounds = calloc((size_t)ss.total + 1, sizeof(*ss.rounds));
    if (!ss.seconds || !ss.rounds) {
        session_cleanup(&ss);
        return diag_set(d, -ENOMEM, "out of memory");
    }
    if (prepare(&ss) == 0 && start(&ss, agent_version) == 0 && ready(&ss) == 0 &&
        baseline(&ss) == 0) {
        rounds(&ss);
    }
    int rc = finish(&ss, out, t_start);
    session_cleanup(&ss);
    return rc == -ENOMEM ? diag_set(d, rc, "out of memory") : 0;
}
