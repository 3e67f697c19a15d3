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

#include <signal.h>
#include <sys/wait.h>

#include "../analysis/analysis.h"
#include "../analysis/proctree.h"
#include "../analysis/rec.h"
#include "../analysis/series.h"
#include "../analysis/snap.h"
#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/file.h"
#include "../util/strv.h"
#include "chan.h"
#include "drv.h"
#include "sig.h"
#include "target.h"
#include "tree.h"
#include "tpl.h"

#define SNAPSHOT_TIMEOUT_MS 30000
#define STOP_GRACE_MS       3000
#define JOIN_GRACE_MS       300  /* how long a running, unjoined process of the tree gets to join */
#define SIG_STOP_GRACE_MS   1000 /* the stop's grace after a stop signal: the harness has 10 s */

struct session {
    const struct scn *s;
    const struct session_opts *o;
    struct rec rec; /* every process's channel, as recorded */
    struct chan ch;
    FILE *bin; /* snapshots.bin */
    struct target *t;
    struct drv *drv;
    char **argv, **env;
    char *cwd;
    double *seconds;          /* per round */
    double *snap_seconds;     /* per round: its snapshot's time, or < 0 */
    struct rpt_round *rounds; /* per round, for progress */
    size_t n_done;            /* rounds completed */
    uint32_t answered;        /* requests the target answered in the last round driven */
    uint16_t port;
    uint16_t *ports; /* one for each of s->port_names */
    struct tpl_names names;
    struct tpl_ctx tc;  /* what the target's placeholders expand to */
    char run_dir[4096]; /* the run's own folder: target.files go there */
    uint32_t total;     /* warm-up + measured rounds */
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

/* Expands the placeholders (tpl.h) in every string of a NULL-terminated vector. NULL when out
 * of memory. */
static char **strv_expand(char *const *v, const struct tpl_ctx *tc)
{
    size_t n = strv_len(v);
    char **out = calloc(n + 1, sizeof(*out));
    for (size_t i = 0; out && i < n; i++) {
        out[i] = tpl_expand(v[i], TPL_STRICT, tc);
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

/* True while any process of the target's tree runs: the program started, or a process that
 * joined and still has its channel (a daemon's child outlives the program started). */
static bool tree_alive(struct session *ss)
{
    struct diag d = {{0}};
    chan_pump(&ss->ch, 0, &d); /* read the joins and ends that already came */
    if ((ss->t && target_alive(ss->t)) || chan_live(&ss->ch) > 0) {
        return true;
    }
    /* Nothing joined runs; a process of the tree that runs may be joining right now. */
    pid_t one;
    if (chan_tree_pids(&ss->ch, &one, 1) == 0) {
        return false;
    }
    chan_pump(&ss->ch, JOIN_GRACE_MS, &d);
    return chan_live(&ss->ch) > 0;
}

/* True while the program started runs, or it exited with 0 leaving processes of its tree
 * running (it daemonized): whether the work can go on. A program killed or failing is over,
 * whatever its children do. */
static bool work_alive(struct session *ss, int rc)
{
    bool main = rc == -EPIPE ? settle(ss->t) : target_alive(ss->t);
    return main || (target_exit_code(ss->t) == 0 && tree_alive(ss));
}

/* The readiness probes' test: the work goes on (target_set_going). */
static bool going_fn(void *arg)
{
    return work_alive(arg, 0);
}

/* chan_wait_hello's test of the tree. */
static bool tree_alive_fn(void *arg)
{
    return tree_alive(arg);
}

/* Describes a tree whose every channel closed while processes still run (rc -EPIPE). */
static int chan_closed(struct session *ss, const char *when)
{
    return fail(ss,
                "every channel of the target's tree closed %s while processes still run: they "
                "exec'd programs that can't be tracked, or closed the channel's descriptor with a "
                "raw system call; see the processes in report.json",
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

/* A stop signal reached the harness: the run ends after the rounds that finished, whatever the
 * step under way was doing (a watchdog may have stopped the target to end its wait). Returns -1
 * with ss->err set. */
static int interrupted(struct session *ss)
{
    /* A snapshot may have come whole after the step that was waiting for it gave up: the
     * report covers every round the recording holds, and so does the message. */
    size_t held = 0;
    struct rpt_round one;
    while (held < ss->total && rec_round(&ss->rec, (uint32_t)held + 1, false, 0, &one) > 0) {
        held++;
    }
    ss->n_done = held > ss->n_done ? held : ss->n_done;
    return fail(ss,
                "interrupted by %s after %zu of %u rounds (the report covers the rounds that "
                "finished)",
                sig_name(sig_caught()), ss->n_done, ss->total);
}

/* Picks a free port for each {port:NAME}, none equal to {port} or another. Returns 0 or -1 with
 * ss->err set. */
static int pick_named_ports(struct session *ss)
{
    const struct scn *s = ss->s;
    ss->ports = calloc(s->n_port_names + 1, sizeof(*ss->ports));
    if (!ss->ports) {
        return fail(ss, "out of memory");
    }
    for (size_t i = 0; i < s->n_port_names; i++) {
        for (int tries = 0;; tries++) {
            uint16_t p = 0;
            if (target_free_port(&p, &ss->rd) < 0) {
                return fail(ss, "%s", ss->rd.msg);
            }
            bool taken = p == ss->port;
            for (size_t k = 0; k < i; k++) {
                taken |= ss->ports[k] == p;
            }
            if (!taken || tries >= 50) {
                ss->ports[i] = p;
                break;
            }
        }
    }
    return 0;
}

/* True when the target's strings name the run's folder. */
static bool uses_run_dir(const struct scn *s)
{
    bool found = s->n_files > 0 || (s->cwd && strstr(s->cwd, "{run_dir}"));
    for (char **v = s->argv; !found && v && *v; v++) {
        found = strstr(*v, "{run_dir}") != NULL;
    }
    for (char **v = s->env; !found && v && *v; v++) {
        found = strstr(*v, "{run_dir}") != NULL;
    }
    return found;
}

/* Sets up what the target's placeholders expand to: the ports, the run's own folder (made
 * afresh when used: OUT_DIR/run), and renders target.files into it. Returns 0 or -1 with ss->err
 * set. */
static int prepare_files(struct session *ss)
{
    const struct scn *s = ss->s;
    if (pick_named_ports(ss) < 0) {
        return -1;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/run", ss->o->out_dir);
    if (uses_run_dir(s)) {
        /* Fresh for every run: a pid file or socket an earlier run left must not be found. */
        file_remove_tree(dir);
        if (file_mkdirs(dir) < 0 || !realpath(dir, ss->run_dir)) {
            return fail(ss, "can't create the run's folder '%.1000s': %s", dir, strerror(errno));
        }
    } else {
        snprintf(ss->run_dir, sizeof(ss->run_dir), "%s", dir);
    }
    scn_tpl_names(s, &ss->names);
    ss->tc = (struct tpl_ctx){.names = &ss->names,
                              .port = ss->port,
                              .port_names = s->port_names,
                              .ports = ss->ports,
                              .n_ports = s->n_port_names,
                              .run_dir = ss->run_dir};
    for (size_t i = 0; i < s->n_files; i++) {
        if (tpl_render(&ss->tc, &s->files[i], &ss->rd) < 0) {
            return fail(ss, "%s", ss->rd.msg);
        }
    }
    return 0;
}

/* Opens the recording, saves the scenario beside it, picks the port, expands argv, env and cwd,
 * and refuses static programs. Returns 0 or -1 with ss->err set. */
static int prepare(struct session *ss)
{
    const struct scn *s = ss->s;
    char path[4096];
    snprintf(path, sizeof(path), "%s/snapshots.bin", ss->o->out_dir);
    snprintf(ss->log_path, sizeof(ss->log_path), "%s/target.log", ss->o->out_dir);
    ss->bin = fopen(path, "wb");
    if (!ss->bin) {
        return fail(ss, "can't write '%.1000s': %s", path, strerror(errno));
    }
    if (chan_open(&ss->ch, &ss->rec, ss->bin, &ss->rd) < 0) {
        return fail(ss, "%s", ss->rd.msg);
    }
    snprintf(path, sizeof(path), "%s/scenario.json", ss->o->out_dir);
    scn_save(s, path);
    if (s->uses_port && target_free_port(&ss->port, &ss->rd) < 0) {
        return fail(ss, "%s", ss->rd.msg);
    }
    if (prepare_files(ss) < 0) {
        return -1;
    }
    ss->argv = strv_expand(s->argv, &ss->tc);
    ss->env = s->env ? strv_expand(s->env, &ss->tc) : NULL;
    ss->cwd = s->cwd ? tpl_expand(s->cwd, TPL_STRICT, &ss->tc) : NULL;
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

/* The scenario's environment plus the channel's two entries (owned), or NULL. */
static char **env_with_channel(struct session *ss)
{
    char ce[2][160];
    chan_env(&ss->ch, ce);
    size_t n = ss->env ? strv_len(ss->env) : 0;
    char **env = calloc(n + 3, sizeof(*env));
    for (size_t i = 0; env && i < n + 2; i++) {
        env[i] = strdup(i < n ? ss->env[i] : ce[i - n]);
        if (!env[i]) {
            strv_free(env);
            return NULL;
        }
    }
    return env;
}

/* Starts the target and waits for the agent's HELLO. Returns 0 or -1 with ss->err set. */
static int start(struct session *ss, char **agent_version)
{
    const struct scn *s = ss->s;
    if (sig_caught()) {
        return interrupted(ss);
    }
    char **env = env_with_channel(ss);
    if (!env) {
        return fail(ss, "out of memory");
    }
    struct target_opts to = {
        .argv = ss->argv,
        .env_add = env,
        .cwd = ss->cwd,
        .agent_path = ss->o->agent_path,
        .pipe_stdin = (ss->s->driver->needs & DRV_PIPES_STDIN) != 0,
        .pipe_stdout = (ss->s->driver->needs & DRV_READS_STDOUT) || s->ready == SCN_READY_STDOUT,
        .log_path = ss->log_path,
        .new_session = true,
    };
    int started = target_start(&to, &ss->t, &ss->rd);
    strv_free(env);
    if (started < 0) {
        return fail(ss, "%s", ss->rd.msg);
    }
    ss->ch.main_pid = target_pid(ss->t);
    target_set_going(ss->t, going_fn, ss);
    int rc =
        chan_wait_hello(&ss->ch, ss->ch.main_pid, s->ready_timeout_ms, tree_alive_fn, ss, &ss->rd);
    if (rc == 0) {
        const struct rec_proc *p = ss->rec.n_procs ? ss->rec.procs[0] : NULL;
        if (agent_version && !*agent_version && p && p->st.agent_version) {
            *agent_version = strv_dup_str(p->st.agent_version);
        }
        return 0;
    }
    char how[128];
    target_alive(ss->t);
    target_describe_exit(ss->t, how, sizeof(how));
    if (rc != -ETIMEDOUT && rc != -EPIPE) {
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
    if (sig_caught()) {
        return interrupted(ss);
    }
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

/* The snapshots of round `round`, one per process that answered it: counts those whose canary
 * is live and those in pass-through. */
static size_t count_round(const struct session *ss, uint32_t round, size_t *canary,
                          size_t *passthrough, uint64_t *dropped, uint64_t *unwind_errors)
{
    size_t n = 0;
    *canary = *passthrough = 0;
    *dropped = *unwind_errors = 0;
    for (size_t i = 0; i < ss->rec.n_procs; i++) {
        const struct snap_snapshot *sn = snap_stream_find(&ss->rec.procs[i]->st, round);
        if (!sn) {
            continue;
        }
        n++;
        *canary += (sn->flags & PROTO_SNAP_CANARY_LIVE) != 0;
        *passthrough += (sn->flags & PROTO_SNAP_PASSTHROUGH) != 0;
        *dropped += sn->counters[PROTO_C_DROPPED];
        *unwind_errors += sn->counters[PROTO_C_UNWIND_ERRORS];
    }
    return n;
}

/* Takes the start-up snapshot and checks the canary: proof that the agent sees the program's
 * allocations before an empty profile is trusted. A process of the tree whose canary is missing
 * is measured as untracked by the analysis; when none sees its allocations, nothing can be
 * measured. Returns 0 or -1 with ss->err set. */
static int baseline(struct session *ss)
{
    if (sig_caught()) {
        return interrupted(ss);
    }
    int rc = chan_snapshot(&ss->ch, 0, SNAPSHOT_TIMEOUT_MS, &ss->rd);
    if (rc < 0) {
        char how[128];
        bool alive = work_alive(ss, rc);
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
        return fail(ss, "no start-up snapshot from the agent: %s", ss->rd.msg);
    }
    size_t canary;
    size_t passthrough;
    uint64_t dropped;
    uint64_t unwind;
    size_t n = count_round(ss, 0, &canary, &passthrough, &dropped, &unwind);
    if (n > 0 && canary == 0) {
        return fail(ss, "the agent is loaded but does not see the program's allocations (its "
                        "canary block is missing): the program may use its own allocator or be "
                        "statically linked; leakcheck can't measure it (build it with the system "
                        "malloc)");
    }
    if (n > 0 && passthrough == n) {
        return fail(ss,
                    "the agent is loaded but not tracking (pass-through from the start: %llu "
                    "allocations dropped, %llu unwind errors); leakcheck can't measure this "
                    "program, see the log: %s",
                    (unsigned long long)dropped, (unsigned long long)unwind, ss->log_path);
    }
    return 0;
}

/* Explains a driver round that failed with `rc`. Returns -1. */
static int round_failed(struct session *ss, uint32_t r, int rc)
{
    char how[128];
    bool alive = work_alive(ss, rc);
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
    bool alive = work_alive(ss, rc);
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
        return fail(ss, "round %u: %s (target %s)", r, ss->rd.msg, how);
    }
    return fail(ss, "target %s after round %u, before its snapshot", how, r);
}

/* The pid of a process whose canary was live after round r - 1 and is gone after round r, or 0. */
static uint32_t canary_lost(const struct session *ss, uint32_t r)
{
    for (size_t i = 0; i < ss->rec.n_procs; i++) {
        const struct snap_stream *st = &ss->rec.procs[i]->st;
        const struct snap_snapshot *now = snap_stream_find(st, r);
        const struct snap_snapshot *was = snap_stream_find(st, r - 1);
        if (now && was && (was->flags & PROTO_SNAP_CANARY_LIVE) &&
            !(now->flags & PROTO_SNAP_CANARY_LIVE)) {
            return ss->rec.procs[i]->pid;
        }
    }
    return 0;
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
        o->progress(o->progress_arg, s, ss->rounds, ss->snap_seconds, 0);
    }
    for (uint32_t r = 1; r <= ss->total; r++) {
        if (sig_caught()) {
            return interrupted(ss);
        }
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
        /* The canary is never freed: a snapshot without it means tracking broke. */
        uint32_t pid = canary_lost(ss, r);
        if (pid) {
            return fail(ss,
                        "round %u: the agent's canary block is gone from the table of process %u, "
                        "so its tracking broke (the program freed memory it did not allocate, or "
                        "the agent failed); the profile can't be trusted",
                        r, pid);
        }
        chan_scan_untracked(&ss->ch);
        rec_round(&ss->rec, r, r <= s->warmup, ss->seconds[r - 1], &ss->rounds[r - 1]);
        ss->snap_seconds[r - 1] = rec_snapshot_seconds(&ss->rec, r);
        ss->n_done = r;
        if (o->progress) {
            o->progress(o->progress_arg, s, ss->rounds, ss->snap_seconds, ss->n_done);
        }
    }
    return 0;
}

/* Stops the target, keeps what the agent still sent, and analyses the recording into `out`.
 * Returns 0 or -ENOMEM. */
static int finish(struct session *ss, struct rpt_scenario *out, double t_start)
{
    const struct session_opts *o = ss->o;
    /* A stop signal that came before the last round finished cut the run short: whatever a
     * step made of the stop (a watchdog may have ended the target), this is why it ended. */
    int sig = sig_caught();
    bool cut = sig && (ss->err[0] || ss->n_done < ss->total);
    if (cut) {
        interrupted(ss);
    }
    int grace = o->stop_grace_ms > 0 ? o->stop_grace_ms : STOP_GRACE_MS;
    /* Every process still joined ran to the end of the run: record it before stopping them. */
    bool others = chan_live(&ss->ch) > 0;
    chan_close(&ss->ch);
    if (ss->t) {
        bool was_alive = target_alive(ss->t);
        /* target_stop() stops the whole tree with the program (harness/tree.h). */
        target_stop(ss->t, sig ? SIG_STOP_GRACE_MS : grace);
        /* A program that exits with 0 while processes it started go on has daemonized. */
        bool daemonized = others && target_exit_code(ss->t) == 0;
        if (!ss->err[0] && !was_alive && !daemonized) {
            char how[128];
            target_describe_exit(ss->t, how, sizeof(how));
            fail(ss, "target %s before the run ended", how);
        }
    }
    tree_stop(sig ? SIG_STOP_GRACE_MS : grace); /* also when the program never started */
    char bin_name[4200];
    snprintf(bin_name, sizeof(bin_name), "%s/snapshots.bin", o->out_dir);
    struct diag bin_err = {{0}};
    if (chan_close_recording(&ss->ch, bin_name, &bin_err) != 0 && !ss->err[0]) {
        fail(ss, "%s", bin_err.msg);
    }
    /* The log's tail explains a failure; an interruption explains itself. */
    char *full = ss->err[0] && !cut ? error_with_log(ss->err, ss->t ? ss->log_path : NULL) : NULL;
    struct analysis_opts ao;
    scn_analysis_opts(ss->s, &ao);
    rpt_scenario_cleanup(out);
    memset(out, 0, sizeof(*out));
    int rc = proctree_analyse(&ao, &ss->rec, ss->seconds,
                              ss->err[0] ? (full ? full : ss->err) : NULL, out);
    free(full);
    out->interrupted_signal = cut ? sig : 0;
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
    free(ss->ports);
    free(ss->seconds);
    free(ss->snap_seconds);
    free(ss->rounds);
    chan_close(&ss->ch);
    rec_cleanup(&ss->rec);
}

int session_run(const struct scn *s, const struct session_opts *o, struct rpt_scenario *out,
                char **agent_version, struct diag *d)
{
    double t_start = clock_s();
    struct session ss = {.s = s, .o = o, .ch = {.listen_fd = -1}, .total = s->warmup + s->rounds};
    rec_init(&ss.rec);
    ss.drv = drv_new(s->driver, s->driver_cfg, d);
    if (!ss.drv) {
        return -EINVAL;
    }
    ss.seconds = calloc((size_t)ss.total + 1, sizeof(*ss.seconds));
    ss.snap_seconds = calloc((size_t)ss.total + 1, sizeof(*ss.snap_seconds));
    ss.rounds = calloc((size_t)ss.total + 1, sizeof(*ss.rounds));
    if (!ss.seconds || !ss.snap_seconds || !ss.rounds) {
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
