/* SPDX-License-Identifier: MIT */
/* drv_stdio.c - the stdio driver: request lines in, one reply line per request out.
 *
 * Requests are written with the target's stdin non-blocking and at most DRV_STDIO_WINDOW
 * requests (and DRV_STDIO_MAX_OUTSTANDING bytes) unanswered, while replies are read under the
 * same poll(): neither side can fill a pipe and wait for the other.
 */
#include "drv_stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drv_cmd.h"

#define DRV_STDIO_WINDOW          16u
#define DRV_STDIO_MAX_OUTSTANDING (32u << 10)
#define DRV_STDIO_MAX_FILE        (256u << 20)
#define DRV_STDIO_MAX_CMD_OUT     (64u << 20)
#define DRV_STDIO_CHECK_MS        100 /* how often a silent round checks that the target still runs */

struct drv_stdio {
    struct drv base;
    char **templates; /* requests, or NULL */
    size_t n_templates;
    char *file_data; /* requests file contents; lines point into it */
    char **lines;
    size_t n_lines;
    size_t next_line; /* read on through the whole run */
    char **command;   /* requests_command argv, or NULL */
    unsigned per_round;
    int reply_timeout_ms;
    char rbuf[8192]; /* bytes after the last reply line seen */
    size_t rlen;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the target process has ended. It is not reaped (WNOWAIT): the caller that owns the
 * process still collects its status; ECHILD means that caller has reaped it already. Can't
 * fail. */
static bool target_ended(const struct drv_target *t)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (t->pid <= 0) {
        return false;
    }
    if (waitid(P_PID, (id_t)t->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return errno == ECHILD;
    }
    return si.si_pid == t->pid;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && (n ? i < n : v[i] != NULL); i++) {
        free(v[i]);
    }
    free(v);
}

/* Splits `data` in place into lines (a final line without '\n' counts; empty lines are kept
 * except a trailing one). Returns a malloc'ed vector of pointers into data, or NULL. */
static char **split_lines(char *data, size_t len, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n') {
            n++;
        }
    }
    if (len > 0 && data[len - 1] != '\n') {
        n++;
    }
    char **lines = calloc(n ? n : 1, sizeof(*lines));
    if (!lines) {
        return NULL;
    }
    size_t k = 0;
    char *p = data;
    while (k < n) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        lines[k++] = p;
        if (!nl) {
            break;
        }
        *nl = '\0';
        if (nl > p && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        p = nl + 1;
    }
    *n_out = n;
    return lines;
}

/* The requests of one round, as malloc'ed strings (owned vector, *n entries). */
static int round_requests(struct drv_stdio *s, const struct drv_target *t, uint32_t round,
                          int timeout_ms, char ***out, size_t *n, char **cmd_out, struct diag *d)
{
    char **reqs = NULL;
    size_t count = s->per_round;
    if (s->command) {
        size_t argc = 0;
        while (s->command[argc]) {
            argc++;
        }
        char **argv = calloc(argc + 1, sizeof(*argv));
        if (!argv) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < argc; i++) {
            /* {n} is the number of requests asked for, {round} the round. */
            char *pass = NULL;
            const char *src = s->command[i];
            char nbuf[16];
            snprintf(nbuf, sizeof(nbuf), "%u", s->per_round);
            const char *at = strstr(src, "{n}");
            if (at) {
                size_t len = strlen(src) + strlen(nbuf) + 1;
                pass = malloc(len);
                if (pass) {
                    snprintf(pass, len, "%.*s%s%s", (int)(at - src), src, nbuf, at + 3);
                }
            }
            argv[i] = drv_expand(pass ? pass : src, t->port, round, 0);
            free(pass);
            if (!argv[i]) {
                strv_free(argv, 0);
                return diag_set(d, -ENOMEM, "out of memory");
            }
        }
        struct drv_run_result res;
        struct diag rd = {{0}};
        int rc = drv_run(argv, NULL, true, DRV_STDIO_MAX_CMD_OUT, timeout_ms, &res, &rd);
        if (rc < 0) {
            diag_set(d, rc, "round %u: requests command: %s", round, rd.msg);
            strv_free(argv, 0);
            return rc;
        }
        if (res.status != 0) {
            diag_set(d, -EIO, "round %u: requests command '%s' failed (status %d): %s", round,
                     argv[0], res.status, res.err);
            strv_free(argv, 0);
            free(res.out);
            return -EIO;
        }
        strv_free(argv, 0);
        size_t nl = 0;
        char **lines = split_lines(res.out, res.out_len, &nl);
        if (!lines) {
            free(res.out);
            return diag_set(d, -ENOMEM, "out of memory");
        }
        if (nl == 0) {
            free(lines);
            free(res.out);
            return diag_set(d, -EINVAL, "round %u: the requests command printed no lines", round);
        }
        reqs = calloc(nl, sizeof(*reqs));
        for (size_t i = 0; reqs && i < nl; i++) {
            reqs[i] = strdup(lines[i]);
        }
        free(lines);
        *cmd_out = res.out;
        count = nl;
    } else {
        reqs = calloc(count, sizeof(*reqs));
        for (size_t i = 0; reqs && i < count; i++) {
            if (s->templates) {
                reqs[i] = drv_expand(s->templates[i % s->n_templates], t->port, round, (uint32_t)i);
            } else {
                reqs[i] = strdup(s->lines[s->next_line]);
                s->next_line = (s->next_line + 1) % s->n_lines;
            }
        }
    }
    if (!reqs) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        if (!reqs[i]) {
            strv_free(reqs, count);
            return diag_set(d, -ENOMEM, "out of memory");
        }
    }
    *out = reqs;
    *n = count;
    return 0;
}

static int stdio_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                       struct diag *d)
{
    struct drv_stdio *s = (struct drv_stdio *)drv;
    char **reqs = NULL;
    size_t n = 0;
    char *cmd_out = NULL;
    int64_t round_deadline = mono_ms() + timeout_ms;
    if (t->stdin_fd < 0 || t->stdout_fd < 0) {
        return diag_set(d, -EINVAL, "stdio driver: the target's stdin/stdout are not piped");
    }
    int rc = round_requests(s, t, round, timeout_ms, &reqs, &n, &cmd_out, d);
    if (rc < 0) {
        return rc;
    }
    int fl = fcntl(t->stdin_fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) {
        fcntl(t->stdin_fd, F_SETFL, fl | O_NONBLOCK);
    }
    size_t sent = 0; /* requests fully written */
    size_t off = 0;  /* bytes of reqs[sent] (plus its newline) written */
    size_t replies = 0;
    size_t outstanding = 0; /* bytes written whose replies have not come */
    int64_t last_progress = mono_ms();
    while (replies < n) {
        bool can_write = sent < n && sent - replies < DRV_STDIO_WINDOW &&
                         outstanding < DRV_STDIO_MAX_OUTSTANDING;
        struct pollfd pf[2] = {{.fd = t->stdout_fd, .events = POLLIN},
                               {.fd = can_write ? t->stdin_fd : -1, .events = POLLOUT}};
        int64_t now = mono_ms();
        int64_t left = last_progress + s->reply_timeout_ms - now;
        if (round_deadline - now < left) {
            left = round_deadline - now;
        }
        if (left <= 0) {
            bool round_out = round_deadline <= now;
            rc =
                diag_set(d, -ETIMEDOUT,
                         "round %u: %s after %zu of %zu replies (waiting for the reply to '%.60s'; "
                         "does the target answer every request with one line?)",
                         round, round_out ? "round timed out" : "no reply in time", replies, n,
                         reqs[replies]);
            goto out;
        }
        int pr = poll(pf, 2, left > DRV_STDIO_CHECK_MS ? DRV_STDIO_CHECK_MS : (int)left);
        if (pr < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = diag_set(d, -errno, "poll: %s", strerror(errno));
            goto out;
        }
        if (pr == 0 && target_ended(t)) {
            /* Nothing to read and the process is gone: a child of it may still hold the pipes
             * open, so EOF may never come. */
            rc = diag_set(d, -EPIPE, "round %u: the target ended after %zu of %zu replies", round,
                          replies, n);
            goto out;
        }
        if (pf[1].revents & (POLLERR | POLLHUP)) {
            rc = diag_set(d, -EPIPE,
                          "round %u: the target closed its stdin after %zu of %zu "
                          "requests",
                          round, sent, n);
            goto out;
        }
        if (pf[1].revents & POLLOUT) {
            /* Write as much of the next request (and its newline) as the pipe takes. */
            const char *line = reqs[sent];
            size_t len = strlen(line);
            while (off <= len) {
                ssize_t w;
                if (off < len) {
                    w = write(t->stdin_fd, line + off, len - off);
                } else {
                    w = write(t->stdin_fd, "\n", 1);
                }
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR) {
                        break;
                    }
                    rc = diag_set(d, -EPIPE,
                                  "round %u: the target stopped reading its stdin "
                                  "after %zu of %zu requests (%s)",
                                  round, sent, n, strerror(errno));
                    goto out;
                }
                off += (size_t)w;
                outstanding += (size_t)w;
            }
            if (off > len) {
                sent++;
                off = 0;
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (s->rlen == sizeof(s->rbuf)) {
                s->rlen = 0; /* a reply line longer than the buffer: only its end matters */
            }
            ssize_t r = read(t->stdout_fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen);
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                rc = diag_set(d, -EPIPE,
                              "round %u: the target closed its stdout after %zu of %zu replies",
                              round, replies, n);
                goto out;
            }
            s->rlen += (size_t)r;
            char *p = s->rbuf;
            char *nl;
            while ((nl = memchr(p, '\n', (size_t)(s->rbuf + s->rlen - p))) != NULL) {
                p = nl + 1;
                if (replies < n) {
                    outstanding -= outstanding < strlen(reqs[replies]) + 1
                                       ? outstanding
                                       : strlen(reqs[replies]) + 1;
                    replies++;
                }
                last_progress = mono_ms();
            }
            s->rlen = (size_t)(s->rbuf + s->rlen - p);
            memmove(s->rbuf, p, s->rlen);
        }
    }
    rc = 0;
out:
    strv_free(reqs, n);
    free(cmd_out);
    return rc;
}

static void stdio_free(struct drv *drv)
{
    struct drv_stdio *s = (struct drv_stdio *)drv;
    strv_free(s->templates, s->n_templates);
    free(s->lines);
    free(s->file_data);
    strv_free(s->command, 0);
    free(s);
}

static const struct drv_ops stdio_ops = {.kind = "stdio", .round = stdio_round, .free = stdio_free};

/* Reads a whole file (at most DRV_STDIO_MAX_FILE bytes). */
static int read_file(const char *path, char **data, size_t *len, struct diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return diag_set(d, -errno, "requests file '%s': %s", path, strerror(errno));
    }
    size_t cap = 65536;
    size_t n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            break;
        }
        if (cap >= DRV_STDIO_MAX_FILE) {
            free(buf);
            fclose(f);
            return diag_set(d, -EFBIG, "requests file '%s': bigger than %u MiB", path,
                            DRV_STDIO_MAX_FILE >> 20);
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
        }
        buf = nb;
    }
    fclose(f);
    if (!buf) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

struct drv *drv_stdio_new(const struct scn_stdio *cfg, struct diag *d)
{
    struct drv_stdio *s = calloc(1, sizeof(*s));
    if (!s) {
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    s->base.ops = &stdio_ops;
    s->per_round = cfg->requests_per_round ? cfg->requests_per_round : 1;
    s->reply_timeout_ms = cfg->reply_timeout_ms > 0 ? cfg->reply_timeout_ms : 10000;
    if (cfg->requests && cfg->n_requests) {
        s->templates = calloc(cfg->n_requests, sizeof(*s->templates));
        s->n_templates = cfg->n_requests;
        for (size_t i = 0; s->templates && i < cfg->n_requests; i++) {
            s->templates[i] = strdup(cfg->requests[i]);
            if (!s->templates[i]) {
                goto nomem;
            }
        }
        if (!s->templates) {
            goto nomem;
        }
    } else if (cfg->requests_file) {
        size_t len = 0;
        if (read_file(cfg->requests_file, &s->file_data, &len, d) < 0) {
            stdio_free(&s->base);
            return NULL;
        }
        s->lines = split_lines(s->file_data, len, &s->n_lines);
        if (!s->lines) {
            goto nomem;
        }
        if (s->n_lines == 0) {
            diag_set(d, -EINVAL, "requests file '%s' is empty (one request per line)",
                     cfg->requests_file);
            stdio_free(&s->base);
            return NULL;
        }
    } else if (cfg->requests_command) {
        size_t n = 0;
        while (cfg->requests_command[n]) {
            n++;
        }
        s->command = calloc(n + 1, sizeof(*s->command));
        for (size_t i = 0; s->command && i < n; i++) {
            s->command[i] = strdup(cfg->requests_command[i]);
            if (!s->command[i]) {
                goto nomem;
            }
        }
        if (!s->command) {
            goto nomem;
        }
    } else {
        diag_set(d, -EINVAL,
                 "stdio driver: no requests (give 'requests', 'requests_file' or "
                 "'requests_command')");
        stdio_free(&s->base);
        return NULL;
    }
    return &s->base;
nomem:
    stdio_free(&s->base);
    diag_set(d, -ENOMEM, "out of memory");
    return NULL;
}
