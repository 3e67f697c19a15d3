/* SPDX-License-Identifier: MIT */
/* drv_cmd.c - the command driver, and running a short-lived child with a deadline.
 *
 * The child's stdout and stderr are read through pipes under poll() until both close and the
 * child exits, or the deadline passes (then SIGKILL). No shell is involved.
 */
#include "drv_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct drv_cmd {
    struct drv base;
    char **argv;
    char **env;
    int timeout_ms;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void strv_free(char **v)
{
    for (char **p = v; p && *p; p++) {
        free(*p);
    }
    free(v);
}

static char **strv_dup(char *const *v)
{
    size_t n = 0;
    while (v && v[n]) {
        n++;
    }
    char **c = calloc(n + 1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        c[i] = strdup(v[i]);
        if (!c[i]) {
            strv_free(c);
            return NULL;
        }
    }
    return c;
}

/* environ with env_add on top (same names replaced). Entries are borrowed; free the vector. */
static char **merge_env(char *const *env_add)
{
    size_t n = 0;
    size_t na = 0;
    while (environ[n]) {
        n++;
    }
    while (env_add && env_add[na]) {
        na++;
    }
    char **env = calloc(n + na + 1, sizeof(*env));
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t kl = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < na; j++) {
            if (strncmp(env_add[j], environ[i], kl) == 0) {
                replaced = true;
            }
        }
        if (!replaced) {
            env[k++] = environ[i];
        }
    }
    for (size_t j = 0; j < na; j++) {
        env[k++] = env_add[j];
    }
    return env;
}

int drv_run(char *const *argv, char *const *env_add, bool want_out, size_t out_cap, int timeout_ms,
            struct drv_run_result *res, struct diag *d)
{
    int outp[2] = {-1, -1};
    int errp[2] = {-1, -1};
    int null_fd = -1;
    char **env = NULL;
    posix_spawn_file_actions_t fa;
    bool fa_init = false;
    pid_t pid = -1;
    size_t err_len = 0;
    int rc = 0;
    memset(res, 0, sizeof(*res));
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = diag_set(d, -errno, "can't create pipes: %s", strerror(errno));
        goto out;
    }
    null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    env = merge_env(env_add);
    if (null_fd < 0 || !env) {
        rc = diag_set(d, -ENOMEM, "can't prepare '%s': out of memory", argv[0]);
        goto out;
    }
    posix_spawn_file_actions_init(&fa);
    fa_init = true;
    posix_spawn_file_actions_adddup2(&fa, null_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, want_out ? outp[1] : null_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env);
    if (err != 0) {
        rc = diag_set(d, -err, "can't run '%s': %s", argv[0], strerror(err));
        pid = -1;
        goto out;
    }
    close(outp[1]);
    outp[1] = -1;
    close(errp[1]);
    errp[1] = -1;
    if (want_out) {
        res->out = malloc(4096);
        if (!res->out) {
            rc = diag_set(d, -ENOMEM, "out of memory");
            goto out;
        }
    }
    size_t out_alloc = want_out ? 4096 : 0;
    int64_t deadline = mono_ms() + timeout_ms;
    while (outp[0] >= 0 || errp[0] >= 0) {
        struct pollfd pf[2] = {{.fd = outp[0], .events = POLLIN},
                               {.fd = errp[0], .events = POLLIN}};
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            rc = diag_set(d, -ETIMEDOUT, "'%s' did not finish within %d ms", argv[0], timeout_ms);
            goto out;
        }
        int pr = poll(pf, 2, (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = diag_set(d, -errno, "poll: %s", strerror(errno));
            goto out;
        }
        char buf[4096];
        for (int k = 0; k < 2; k++) {
            if (pf[k].fd < 0 || !(pf[k].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            ssize_t r = read(pf[k].fd, buf, sizeof(buf));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                close(pf[k].fd);
                if (k == 0) {
                    outp[0] = -1;
                } else {
                    errp[0] = -1;
                }
                continue;
            }
            if (k == 0) {
                if (res->out_len + (size_t)r + 1 > out_cap) {
                    rc = diag_set(d, -EFBIG, "'%s' printed more than %zu bytes", argv[0], out_cap);
                    goto out;
                }
                if (res->out_len + (size_t)r + 1 > out_alloc) {
                    size_t nc = out_alloc * 2;
                    while (nc < res->out_len + (size_t)r + 1) {
                        nc *= 2;
                    }
                    char *p = realloc(res->out, nc);
                    if (!p) {
                        rc = diag_set(d, -ENOMEM, "out of memory");
                        goto out;
                    }
                    res->out = p;
                    out_alloc = nc;
                }
                memcpy(res->out + res->out_len, buf, (size_t)r);
                res->out_len += (size_t)r;
            } else {
                /* Keep the last bytes of stderr. */
                size_t cap = sizeof(res->err) - 1;
                if ((size_t)r >= cap) {
                    memcpy(res->err, buf + (size_t)r - cap, cap);
                    err_len = cap;
                } else {
                    if (err_len + (size_t)r > cap) {
                        size_t drop = err_len + (size_t)r - cap;
                        memmove(res->err, res->err + drop, err_len - drop);
                        err_len -= drop;
                    }
                    memcpy(res->err + err_len, buf, (size_t)r);
                    err_len += (size_t)r;
                }
                res->err[err_len] = '\0';
            }
        }
    }
    for (;;) {
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            res->status = status;
            pid = -1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            rc = diag_set(d, -errno, "waitpid: %s", strerror(errno));
            goto out;
        }
        if (mono_ms() >= deadline) {
            rc = diag_set(d, -ETIMEDOUT, "'%s' did not exit within %d ms", argv[0], timeout_ms);
            goto out;
        }
        poll(NULL, 0, 5);
    }
out:
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    if (fa_init) {
        posix_spawn_file_actions_destroy(&fa);
    }
    free(env);
    for (int k = 0; k < 2; k++) {
        if (outp[k] >= 0) {
            close(outp[k]);
        }
        if (errp[k] >= 0) {
            close(errp[k]);
        }
    }
    if (null_fd >= 0) {
        close(null_fd);
    }
    if (res->out) {
        res->out[res->out_len] = '\0';
    }
    if (rc < 0) {
        free(res->out);
        res->out = NULL;
        res->out_len = 0;
    }
    return rc;
}

static int cmd_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                     struct diag *d)
{
    struct drv_cmd *c = (struct drv_cmd *)drv;
    size_t argc = 0;
    size_t envc = 0;
    while (c->argv[argc]) {
        argc++;
    }
    while (c->env && c->env[envc]) {
        envc++;
    }
    char **argv = calloc(argc + 1, sizeof(*argv));
    char **env = calloc(envc + 3, sizeof(*env));
    int rc = 0;
    if (!argv || !env) {
        rc = diag_set(d, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < argc; i++) {
        argv[i] = drv_expand(c->argv[i], t->port, round, 0);
        if (!argv[i]) {
            rc = diag_set(d, -ENOMEM, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < envc; i++) {
        env[i] = drv_expand(c->env[i], t->port, round, 0);
        if (!env[i]) {
            rc = diag_set(d, -ENOMEM, "out of memory");
            goto out;
        }
    }
    if (asprintf(&env[envc], "LEAKCHECK_ROUND=%u", round) < 0) {
        env[envc] = NULL;
        rc = diag_set(d, -ENOMEM, "out of memory");
        goto out;
    }
    if (asprintf(&env[envc + 1], "LEAKCHECK_PORT=%u", t->port) < 0) {
        env[envc + 1] = NULL;
        rc = diag_set(d, -ENOMEM, "out of memory");
        goto out;
    }
    int limit = c->timeout_ms < timeout_ms ? c->timeout_ms : timeout_ms;
    struct drv_run_result res;
    struct diag rd = {{0}};
    rc = drv_run(argv, env, false, 0, limit, &res, &rd);
    if (rc < 0) {
        rc = diag_set(d, rc, "round %u: %s", round, rd.msg);
    } else if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0) {
        char *tail = res.err;
        size_t n = strlen(tail);
        while (n > 0 && tail[n - 1] == '\n') {
            tail[--n] = '\0';
        }
        char *last = strrchr(tail, '\n');
        rc = diag_set(d, -EIO, "round %u: driver command '%s' %s %d%s%s", round, argv[0],
                      WIFEXITED(res.status) ? "exited with code" : "was killed by signal",
                      WIFEXITED(res.status) ? WEXITSTATUS(res.status) : WTERMSIG(res.status),
                      n ? ": " : "", last ? last + 1 : tail);
    }
out:
    strv_free(argv);
    strv_free(env);
    return rc;
}

static void cmd_free(struct drv *drv)
{
    struct drv_cmd *c = (struct drv_cmd *)drv;
    strv_free(c->argv);
    strv_free(c->env);
    free(c);
}

static const struct drv_ops cmd_ops = {.kind = "command", .round = cmd_round, .free = cmd_free};

struct drv *drv_cmd_new(const struct scn_cmd *cfg, struct diag *d)
{
    if (!cfg->argv || !cfg->argv[0]) {
        diag_set(d, -EINVAL, "command driver: no argv");
        return NULL;
    }
    struct drv_cmd *c = calloc(1, sizeof(*c));
    if (!c) {
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    c->base.ops = &cmd_ops;
    c->argv = strv_dup(cfg->argv);
    c->env = cfg->env ? strv_dup(cfg->env) : NULL;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    if (!c->argv || (cfg->env && !c->env)) {
        cmd_free(&c->base);
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    return &c->base;
}
