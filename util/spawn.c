/* SPDX-License-Identifier: MIT */
/* spawn.c - posix_spawn with pipes, and running a short command under a deadline (see spawn.h).
 *
 * Pipes are made O_CLOEXEC and dup2'ed onto the child's standard streams by file actions; the
 * kept descriptor is dup2'ed onto itself, which clears its close-on-exec flag in the child only.
 * spawn_run() reads the child's stdout and stderr under one poll() until both close, then waits
 * for the exit, all before one deadline from the monotonic clock.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

#define SPAWN_OUT_CHUNK 4096

static void spawn_close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* The set-up of one spawn: the pipes (both ends), /dev/null, the file actions. */
struct spawn_setup {
    int pipes[3][2];
    int null_fd;
    posix_spawn_file_actions_t fa;
    bool fa_init;
};

/* Creates the pipes and /dev/null the options ask for. Returns 0 or -errno with `d` filled. */
static int spawn_open(const struct spawn_opts *o, struct spawn_setup *s, struct diag *d)
{
    for (int k = 0; k < 3; k++) {
        if (o->io[k] == SPAWN_PIPE && pipe2(s->pipes[k], O_CLOEXEC) < 0) {
            int err = errno;
            return diag_set(d, -err, "can't create pipes%s%s: %s", o->what ? " for " : "",
                            o->what ? o->what : "", strerror(err));
        }
        if (o->io[k] == SPAWN_NULL && s->null_fd < 0) {
            s->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (s->null_fd < 0) {
                int err = errno;
                return diag_set(d, -err, "can't open /dev/null: %s", strerror(err));
            }
        }
    }
    return 0;
}

/* Fills the file actions: the streams, the kept descriptor, the folder. */
static void spawn_actions(const struct spawn_opts *o, struct spawn_setup *s)
{
    posix_spawn_file_actions_init(&s->fa);
    s->fa_init = true;
    for (int k = 0; k < 3; k++) {
        int from = -1;
        if (o->io[k] == SPAWN_NULL) {
            from = s->null_fd;
        } else if (o->io[k] == SPAWN_PIPE) {
            from = s->pipes[k][k == 0 ? 0 : 1]; /* the child reads stdin, writes the others */
        } else if (o->io[k] == SPAWN_FD) {
            from = o->fd[k];
        }
        if (from >= 0) {
            posix_spawn_file_actions_adddup2(&s->fa, from, k);
        }
    }
    if (o->keep_fd > 2) {
        posix_spawn_file_actions_adddup2(&s->fa, o->keep_fd, o->keep_fd);
    }
    if (o->cwd) {
        posix_spawn_file_actions_addchdir_np(&s->fa, o->cwd);
    }
}

int spawn_start(const struct spawn_opts *o, struct spawn_child *c, struct diag *d)
{
    struct spawn_setup s = {.pipes = {{-1, -1}, {-1, -1}, {-1, -1}}, .null_fd = -1};
    int rc = spawn_open(o, &s, d);
    pid_t pid = -1;
    if (rc == 0) {
        spawn_actions(o, &s);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        if (o->new_session) {
            posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        }
        int err = posix_spawnp(&pid, o->argv[0], &s.fa, &attr, o->argv, o->env ? o->env : environ);
        posix_spawnattr_destroy(&attr);
        if (err != 0) {
            bool hint = err == ENOENT && o->cwd && o->cwd_hint;
            rc = diag_set(d, -err, "can't %s '%s': %s%s", o->verb ? o->verb : "run", o->argv[0],
                          strerror(err), hint ? o->cwd_hint : "");
        }
    }
    if (rc == 0) {
        c->pid = pid;
        for (int k = 0; k < 3; k++) {
            c->fd[k] = s.pipes[k][k == 0 ? 1 : 0];
            s.pipes[k][k == 0 ? 1 : 0] = -1;
        }
    }
    if (s.fa_init) {
        posix_spawn_file_actions_destroy(&s.fa);
    }
    for (int k = 0; k < 3; k++) {
        spawn_close_fd(&s.pipes[k][0]);
        spawn_close_fd(&s.pipes[k][1]);
    }
    spawn_close_fd(&s.null_fd);
    return rc;
}

void spawn_close(struct spawn_child *c)
{
    for (int k = 0; k < 3; k++) {
        spawn_close_fd(&c->fd[k]);
    }
}

/* True when environment entry `e` sets a name that `env_add` sets too. */
static bool spawn_env_replaced(const char *e, char *const *env_add)
{
    const char *eq = strchr(e, '=');
    size_t name_len = eq ? (size_t)(eq - e) + 1 : strlen(e);
    for (size_t j = 0; env_add && env_add[j]; j++) {
        if (strncmp(env_add[j], e, name_len) == 0) {
            return true;
        }
    }
    return false;
}

char **spawn_env_merge(char *const *env_add)
{
    size_t n = 0;
    size_t n_add = 0;
    while (environ[n]) {
        n++;
    }
    while (env_add && env_add[n_add]) {
        n_add++;
    }
    char **env = calloc(n + n_add + 1, sizeof(*env));
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!spawn_env_replaced(environ[i], env_add)) {
            env[k++] = environ[i];
        }
    }
    for (size_t j = 0; j < n_add; j++) {
        env[k++] = env_add[j];
    }
    return env;
}

/* What spawn_run() is reading. */
struct spawn_reader {
    const char *prog;
    struct spawn_result *res;
    size_t out_cap;   /* stdout plus its NUL must fit */
    size_t out_alloc; /* bytes allocated at res->out */
    size_t err_len;   /* bytes kept in res->err */
};

/* Appends `n` bytes of stdout. Returns 0, -EFBIG past the cap or -ENOMEM, with `d` filled. */
static int spawn_add_out(struct spawn_reader *r, const char *buf, size_t n, struct diag *d)
{
    struct spawn_result *res = r->res;
    if (res->out_len + n + 1 > r->out_cap) {
        return diag_set(d, -EFBIG, "'%s' printed more than %zu bytes", r->prog, r->out_cap);
    }
    if (res->out_len + n + 1 > r->out_alloc) {
        size_t cap = r->out_alloc ? r->out_alloc * 2 : SPAWN_OUT_CHUNK;
        while (cap < res->out_len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(res->out, cap);
        if (!p) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        res->out = p;
        r->out_alloc = cap;
    }
    memcpy(res->out + res->out_len, buf, n);
    res->out_len += n;
    res->out[res->out_len] = '\0';
    return 0;
}

/* Keeps the last bytes of stderr in res->err. Can't fail. */
static void spawn_add_err(struct spawn_reader *r, const char *buf, size_t n)
{
    char *err = r->res->err;
    size_t cap = sizeof(r->res->err) - 1;
    if (n >= cap) {
        memcpy(err, buf + n - cap, cap);
        r->err_len = cap;
    } else {
        if (r->err_len + n > cap) {
            size_t drop = r->err_len + n - cap;
            memmove(err, err + drop, r->err_len - drop);
            r->err_len -= drop;
        }
        memcpy(err + r->err_len, buf, n);
        r->err_len += n;
    }
    err[r->err_len] = '\0';
}

/* Reads what is ready on stream k (1 stdout, 2 stderr) of `c`; closes it at its end. Returns 0
 * or a negative errno with `d` filled. */
static int spawn_read_one(struct spawn_reader *r, struct spawn_child *c, int k, struct diag *d)
{
    char buf[4096];
    ssize_t n = read(c->fd[k], buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return 0;
    }
    if (n <= 0) {
        spawn_close_fd(&c->fd[k]);
        return 0;
    }
    if (k == 1) {
        return spawn_add_out(r, buf, (size_t)n, d);
    }
    spawn_add_err(r, buf, (size_t)n);
    return 0;
}

/* Reads stdout and stderr until both end or `deadline` (clock_ms()) passes. Returns 0 or a
 * negative errno with `d` filled. */
static int spawn_collect(struct spawn_reader *r, struct spawn_child *c, int64_t deadline,
                         int timeout_ms, struct diag *d)
{
    while (c->fd[1] >= 0 || c->fd[2] >= 0) {
        struct pollfd pf[2] = {{.fd = c->fd[1], .events = POLLIN},
                               {.fd = c->fd[2], .events = POLLIN}};
        int64_t left = deadline - clock_ms();
        if (left <= 0) {
            return diag_set(d, -ETIMEDOUT, "'%s' did not finish within %d ms", r->prog, timeout_ms);
        }
        int pr = poll(pf, 2, (int)left);
        if (pr < 0 && errno != EINTR) {
            int err = errno;
            return diag_set(d, -err, "poll: %s", strerror(err));
        }
        for (int k = 0; pr > 0 && k < 2; k++) {
            if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            int rc = spawn_read_one(r, c, k + 1, d);
            if (rc < 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* Waits for the child's exit until `deadline`; on success c->pid becomes -1. Returns 0 or a
 * negative errno with `d` filled. */
static int spawn_reap(struct spawn_reader *r, struct spawn_child *c, int64_t deadline,
                      int timeout_ms, struct diag *d)
{
    for (;;) {
        int status;
        pid_t w = waitpid(c->pid, &status, WNOHANG);
        if (w == c->pid) {
            r->res->status = status;
            c->pid = -1;
            return 0;
        }
        if (w < 0 && errno != EINTR) {
            int err = errno;
            return diag_set(d, -err, "waitpid: %s", strerror(err));
        }
        if (clock_ms() >= deadline) {
            return diag_set(d, -ETIMEDOUT, "'%s' did not exit within %d ms", r->prog, timeout_ms);
        }
        poll(NULL, 0, 5);
    }
}

int spawn_run(char *const *argv, char *const *env_add, bool want_out, size_t out_cap,
              int timeout_ms, struct spawn_result *res, struct diag *d)
{
    struct spawn_reader r = {.prog = argv[0], .res = res, .out_cap = out_cap};
    struct spawn_child c = {.pid = -1, .fd = {-1, -1, -1}};
    int64_t deadline = clock_ms() + timeout_ms;
    memset(res, 0, sizeof(*res));
    char **env = spawn_env_merge(env_add);
    if (!env) {
        return diag_set(d, -ENOMEM, "can't prepare '%s': out of memory", argv[0]);
    }
    struct spawn_opts o = {.argv = argv, .env = env, .io = {SPAWN_NULL, SPAWN_PIPE, SPAWN_PIPE}};
    if (!want_out) {
        o.io[1] = SPAWN_NULL;
    }
    int rc = spawn_start(&o, &c, d);
    free(env);
    if (rc == 0) {
        rc = spawn_collect(&r, &c, deadline, timeout_ms, d);
    }
    if (rc == 0) {
        rc = spawn_reap(&r, &c, deadline, timeout_ms, d);
    }
    if (c.pid > 0) {
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
    }
    spawn_close(&c);
    if (rc < 0) {
        free(res->out);
        res->out = NULL;
        res->out_len = 0;
    } else if (want_out && !res->out) {
        rc = spawn_add_out(&r, "", 0, d); /* an empty output is still a string */
    }
    return rc;
}
