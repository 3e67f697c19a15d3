/* SPDX-License-Identifier: MIT */
/* drv_stdio.c - the stdio driver: request lines in, one reply line per request out.
 *
 * Requests are written with the target's stdin non-blocking and at most DRV_STDIO_WINDOW
 * requests (and DRV_STDIO_MAX_OUTSTANDING bytes) unanswered, while replies are read under the
 * same poll(): neither side can fill a pipe and wait for the other. (So the writes are partial
 * by design, not io_write_all() loops.) A requests command runs with util/spawn. The settings
 * (struct drv_stdio_cfg) are read from and written to the scenario's "driver" object here too.
 */
#include "drv_stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../util/spawn.h"
#include "../util/strv.h"

#define DRV_STDIO_WINDOW          16u
#define DRV_STDIO_MAX_OUTSTANDING (32u << 10)
#define DRV_STDIO_MAX_FILE        (256u << 20)
#define DRV_STDIO_MAX_CMD_OUT     (64u << 20)
#define DRV_STDIO_CHECK_MS        100 /* how often a silent round checks that the target still runs */

/* ------------------------------------------------------------------ settings */

void drv_stdio_init(void *cfg)
{
    struct drv_stdio_cfg *c = cfg;
    memset(c, 0, sizeof(*c));
    c->requests_per_round = DRV_STDIO_DEFAULT_REQUESTS_PER_ROUND;
    c->reply_timeout_ms = DRV_STDIO_DEFAULT_REPLY_TIMEOUT_MS;
}

void drv_stdio_cleanup(void *cfg)
{
    struct drv_stdio_cfg *c = cfg;
    strv_free_n(c->requests, c->n_requests);
    free(c->requests_file);
    strv_free(c->requests_command);
    memset(c, 0, sizeof(*c));
}

/* Reads the three sources of requests. */
static int parse_sources(struct drv_parse *p, const cJSON *dv, struct drv_stdio_cfg *c)
{
    size_t n_cmd = 0;
    int rc = json_get_strs(p->json, dv, "requests", true, &c->requests, &c->n_requests);
    if (rc == 0) {
        rc = drv_check_strs(p->json, c->requests, c->n_requests, "requests", false, p->uses_port);
    }
    if (rc == 0) {
        rc = json_get_str(p->json, dv, "requests_file", false, NULL, &c->requests_file);
    }
    if (rc == 0 && drv_resolve_path(p->dir, &c->requests_file) < 0) {
        rc = json_nomem(p->json);
    }
    if (rc == 0) {
        rc = json_get_strs(p->json, dv, "requests_command", true, &c->requests_command, &n_cmd);
    }
    if (rc == 0) {
        rc = drv_check_strs(p->json, c->requests_command, n_cmd, "requests_command", true,
                            p->uses_port);
    }
    return rc;
}

int drv_stdio_parse(struct drv_parse *p, const cJSON *dv, void *cfg)
{
    static const char *const known[] = {"kind",
                                        "requests",
                                        "requests_file",
                                        "requests_command",
                                        "requests_per_round",
                                        "reply_timeout_s",
                                        NULL};
    struct drv_stdio_cfg *c = cfg;
    int64_t k = c->requests_per_round;
    int rc = json_check_keys(p->json, dv, known);
    if (rc == 0) {
        rc = parse_sources(p, dv, c);
    }
    if (rc == 0) {
        rc = json_get_int(p->json, dv, "requests_per_round", 1, 10000000, &k);
    }
    c->requests_per_round = (unsigned)k;
    if (rc == 0) {
        rc = json_get_seconds(p->json, dv, "reply_timeout_s", &c->reply_timeout_ms);
    }
    if (rc < 0) {
        return rc;
    }
    int sources =
        (c->requests != NULL) + (c->requests_file != NULL) + (c->requests_command != NULL);
    if (sources != 1) {
        return json_fail(p->json, NULL,
                         "a stdio driver needs exactly one of 'requests', 'requests_file', "
                         "'requests_command', found %d",
                         sources);
    }
    return 0;
}

int drv_stdio_check(struct drv_parse *p, const void *cfg)
{
    const struct drv_stdio_cfg *c = cfg;
    int rc = drv_check_strs(p->json, c->requests, c->n_requests, "requests", false, p->uses_port);
    if (rc == 0) {
        rc =
            drv_check_strs(p->json, c->requests_command, 0, "requests_command", true, p->uses_port);
    }
    return rc;
}

bool drv_stdio_save(const void *cfg, cJSON *dv)
{
    const struct drv_stdio_cfg *c = cfg;
    bool ok = true;
    if (c->requests) {
        ok &= json_put_strs(dv, "requests", c->requests, c->n_requests);
    }
    if (c->requests_file) {
        ok &= cJSON_AddStringToObject(dv, "requests_file", c->requests_file) != NULL;
    }
    if (c->requests_command) {
        ok &= json_put_strs(dv, "requests_command", c->requests_command, 0);
    }
    ok &= cJSON_AddNumberToObject(dv, "requests_per_round", c->requests_per_round) != NULL;
    ok &= cJSON_AddNumberToObject(dv, "reply_timeout_s", c->reply_timeout_ms / 1000.0) != NULL;
    return ok;
}

/* ------------------------------------------------------------------ the driver */

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

/* The requests command's argv for `round`: {n} is the number of requests asked for, then {port},
 * {round} expand. Returns the vector (owned, strv_free()) or NULL when out of memory. */
static char **command_argv(const struct drv_stdio *s, const struct drv_target *t, uint32_t round)
{
    size_t argc = strv_len(s->command);
    char **argv = calloc(argc + 1, sizeof(*argv));
    char nbuf[16];
    snprintf(nbuf, sizeof(nbuf), "%u", s->per_round);
    for (size_t i = 0; argv && i < argc; i++) {
        const char *src = s->command[i];
        const char *at = strstr(src, "{n}");
        char *pass = NULL;
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
            strv_free(argv);
            return NULL;
        }
    }
    return argv;
}

/* Runs the requests command of `round`; its stdout lines become the requests (owned vector of
 * *n strings). Returns 0 or a negative errno with `d` filled. */
static int requests_from_command(struct drv_stdio *s, const struct drv_target *t, uint32_t round,
                                 int timeout_ms, char ***out, size_t *n, struct diag *d)
{
    char **argv = command_argv(s, t, round);
    if (!argv) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    struct spawn_result res;
    struct diag rd = {{0}};
    int rc = spawn_run(argv, NULL, true, DRV_STDIO_MAX_CMD_OUT, timeout_ms, &res, &rd);
    if (rc < 0) {
        strv_free(argv);
        return diag_set(d, rc, "round %u: requests command: %s", round, rd.msg);
    }
    if (res.status != 0) {
        diag_set(d, -EIO, "round %u: requests command '%s' failed (status %d): %s", round, argv[0],
                 res.status, res.err);
        strv_free(argv);
        free(res.out);
        return -EIO;
    }
    strv_free(argv);
    size_t nl = 0;
    char **lines = split_lines(res.out, res.out_len, &nl);
    bool empty = lines && nl == 0;
    char **reqs = lines && nl ? calloc(nl, sizeof(*reqs)) : NULL;
    for (size_t i = 0; reqs && i < nl; i++) {
        reqs[i] = strdup(lines[i]); /* checked by the caller */
    }
    free(lines);
    free(res.out);
    if (empty) {
        return diag_set(d, -EINVAL, "round %u: the requests command printed no lines", round);
    }
    *out = reqs;
    *n = nl;
    return 0;
}

/* The requests of one round, as malloc'ed strings (owned vector, *n entries). */
static int round_requests(struct drv_stdio *s, const struct drv_target *t, uint32_t round,
                          int timeout_ms, char ***out, size_t *n, struct diag *d)
{
    char **reqs = NULL;
    size_t count = s->per_round;
    if (s->command) {
        int rc = requests_from_command(s, t, round, timeout_ms, &reqs, &count, d);
        if (rc < 0) {
            return rc;
        }
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
    for (size_t i = 0; reqs && i < count; i++) {
        if (!reqs[i]) {
            strv_free_n(reqs, count);
            reqs = NULL;
        }
    }
    if (!reqs) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    *out = reqs;
    *n = count;
    return 0;
}

/* One round's progress. */
struct stdio_io {
    char **reqs;
    size_t n;
    size_t sent;        /* requests fully written */
    size_t off;         /* bytes of reqs[sent] (plus its newline) written */
    size_t replies;     /* reply lines read */
    size_t outstanding; /* bytes written whose replies have not come */
    int64_t round_deadline;
    int64_t last_progress; /* when the last reply came (clock_ms()) */
};

/* Milliseconds to wait before the next check, or -ETIMEDOUT with `d` filled. */
static int stdio_wait_ms(const struct drv_stdio *s, const struct stdio_io *io, uint32_t round,
                         struct diag *d)
{
    int64_t now = clock_ms();
    int64_t left = io->last_progress + s->reply_timeout_ms - now;
    if (io->round_deadline - now < left) {
        left = io->round_deadline - now;
    }
    if (left <= 0) {
        /* Which wait ran out decides the key to raise; a reply that never comes is most often
         * one sitting in the target's stdout buffer (full buffering on a pipe). */
        bool round_out = io->round_deadline <= now;
        char waited[64];
        if (round_out) {
            fmt_c(waited, sizeof(waited), "round timed out");
        } else {
            fmt_c(waited, sizeof(waited), "no reply within %.1f s", s->reply_timeout_ms / 1000.0);
        }
        return diag_set(d, -ETIMEDOUT,
                        "round %u: %s after %zu of %zu replies (waiting for the reply to '%.60s'); "
                        "the target must answer every request with one line on stdout and flush "
                        "it: stdout to a pipe is fully buffered unless the program calls "
                        "setvbuf(stdout, NULL, _IOLBF, 0) at start or fflush(stdout) after each "
                        "reply; if it is just slow, raise %s",
                        round, waited, io->replies, io->n, io->reqs[io->replies],
                        round_out ? "round_timeout_s (--round-timeout)" : "driver.reply_timeout_s");
    }
    return left > DRV_STDIO_CHECK_MS ? DRV_STDIO_CHECK_MS : (int)left;
}

/* Writes as much of the next request (and its newline) as the pipe takes. Returns 0 or -EPIPE
 * with `d` filled. */
static int stdio_write_some(const struct drv_target *t, struct stdio_io *io, uint32_t round,
                            struct diag *d)
{
    const char *line = io->reqs[io->sent];
    size_t len = strlen(line);
    while (io->off <= len) {
        ssize_t w;
        if (io->off < len) {
            w = write(t->stdin_fd, line + io->off, len - io->off);
        } else {
            w = write(t->stdin_fd, "\n", 1);
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            return 0;
        }
        if (w < 0) {
            return diag_set(d, -EPIPE,
                            "round %u: the target stopped reading its stdin after %zu of %zu "
                            "requests (%s)",
                            round, io->sent, io->n, strerror(errno));
        }
        io->off += (size_t)w;
        io->outstanding += (size_t)w;
    }
    io->sent++;
    io->off = 0;
    return 0;
}

/* Counts the complete reply lines in the read buffer. */
static void stdio_count_replies(struct drv_stdio *s, struct stdio_io *io)
{
    char *p = s->rbuf;
    char *nl = memchr(p, '\n', s->rlen);
    while (nl) {
        p = nl + 1;
        if (io->replies < io->n) {
            size_t req_len = strlen(io->reqs[io->replies]) + 1;
            io->outstanding -= io->outstanding < req_len ? io->outstanding : req_len;
            io->replies++;
        }
        io->last_progress = clock_ms();
        nl = memchr(p, '\n', (size_t)(s->rbuf + s->rlen - p));
    }
    s->rlen = (size_t)(s->rbuf + s->rlen - p);
    memmove(s->rbuf, p, s->rlen);
}

/* Reads what the target printed. Returns 0 or -EPIPE with `d` filled. */
static int stdio_read_some(struct drv_stdio *s, const struct drv_target *t, struct stdio_io *io,
                           uint32_t round, struct diag *d)
{
    if (s->rlen == sizeof(s->rbuf)) {
        s->rlen = 0; /* a reply line longer than the buffer: only its end matters */
    }
    ssize_t r = read(t->stdout_fd, s->rbuf + s->rlen, sizeof(s->rbuf) - s->rlen);
    if (r < 0 && errno == EINTR) {
        return 0;
    }
    if (r <= 0) {
        return diag_set(d, -EPIPE,
                        "round %u: the target closed its stdout after %zu of %zu replies", round,
                        io->replies, io->n);
    }
    s->rlen += (size_t)r;
    stdio_count_replies(s, io);
    return 0;
}

/* One turn of the round: poll, then write and read what is ready. Returns 0 or a negative errno
 * with `d` filled. */
static int stdio_turn(struct drv_stdio *s, const struct drv_target *t, struct stdio_io *io,
                      uint32_t round, struct diag *d)
{
    bool can_write = io->sent < io->n && io->sent - io->replies < DRV_STDIO_WINDOW &&
                     io->outstanding < DRV_STDIO_MAX_OUTSTANDING;
    struct pollfd pf[2] = {{.fd = t->stdout_fd, .events = POLLIN},
                           {.fd = can_write ? t->stdin_fd : -1, .events = POLLOUT}};
    int wait_ms = stdio_wait_ms(s, io, round, d);
    if (wait_ms < 0) {
        return wait_ms;
    }
    int pr = poll(pf, 2, wait_ms);
    if (pr < 0) {
        int err = errno;
        return err == EINTR ? 0 : diag_set(d, -err, "poll: %s", strerror(err));
    }
    if (pr == 0 && target_ended(t)) {
        /* Nothing to read and the process is gone: a child of it may still hold the pipes open,
         * so EOF may never come. */
        return diag_set(d, -EPIPE, "round %u: the target ended after %zu of %zu replies", round,
                        io->replies, io->n);
    }
    if (pf[1].revents & (POLLERR | POLLHUP)) {
        return diag_set(d, -EPIPE,
                        "round %u: the target closed its stdin after %zu of %zu requests", round,
                        io->sent, io->n);
    }
    int rc = 0;
    if (pf[1].revents & POLLOUT) {
        rc = stdio_write_some(t, io, round, d);
    }
    if (rc == 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        rc = stdio_read_some(s, t, io, round, d);
    }
    return rc;
}

static int stdio_round(struct drv *drv, const struct drv_target *t, uint32_t round, int timeout_ms,
                       uint32_t *answered, struct diag *d)
{
    struct drv_stdio *s = (struct drv_stdio *)drv;
    struct stdio_io io = {.round_deadline = clock_ms() + timeout_ms};
    *answered = 0;
    if (t->stdin_fd < 0 || t->stdout_fd < 0) {
        return diag_set(d, -EINVAL, "stdio driver: the target's stdin/stdout are not piped");
    }
    int rc = round_requests(s, t, round, timeout_ms, &io.reqs, &io.n, d);
    if (rc < 0) {
        return rc;
    }
    int fl = fcntl(t->stdin_fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) {
        fcntl(t->stdin_fd, F_SETFL, fl | O_NONBLOCK);
    }
    io.last_progress = clock_ms();
    while (rc == 0 && io.replies < io.n) {
        rc = stdio_turn(s, t, &io, round, d);
    }
    *answered = (uint32_t)io.replies;
    strv_free_n(io.reqs, io.n);
    return rc;
}

static void stdio_free(struct drv *drv)
{
    struct drv_stdio *s = (struct drv_stdio *)drv;
    strv_free_n(s->templates, s->n_templates);
    free(s->lines);
    free(s->file_data);
    strv_free(s->command);
    free(s);
}

static const struct drv_ops stdio_ops = {.kind = "stdio", .round = stdio_round, .free = stdio_free};

/* What kind of file `mode` is, for a message. */
static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode)   ? "a FIFO"
           : S_ISDIR(mode)  ? "a folder"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file";
}

/* Reads the requests file into s->file_data and its lines. Returns 0 or a negative errno with
 * `d` filled. */
static int load_requests_file(struct drv_stdio *s, const char *path, struct diag *d)
{
    size_t len = 0;
    struct diag fd_diag = {{0}};
    /* A FIFO, a terminal or a socket would block the run before its first round (a FIFO with
     * no writer, forever): the file is read whole before the run, so only a regular file is. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        return diag_set(d, -EINVAL,
                        "requests file '%s' is not a regular file (it is %s); it is read whole "
                        "before the run, so give a regular file, or generate each round's "
                        "requests with 'requests_command' (--requests-command)",
                        path, file_kind(sb.st_mode));
    }
    int rc = file_read(path, DRV_STDIO_MAX_FILE, &s->file_data, &len, &fd_diag);
    if (rc == -EFBIG) {
        return diag_set(d, rc, "requests file '%s': bigger than %u MiB", path,
                        DRV_STDIO_MAX_FILE >> 20);
    }
    if (rc == -ENOMEM) {
        return diag_set(d, rc, "out of memory");
    }
    if (rc < 0) {
        return diag_set(d, rc, "requests file '%s': %s", path, strerror(-rc));
    }
    s->lines = split_lines(s->file_data, len, &s->n_lines);
    if (!s->lines) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    if (s->n_lines == 0) {
        return diag_set(d, -EINVAL, "requests file '%s' is empty (one request per line)", path);
    }
    return 0;
}

/* Copies the source of requests from `c` into `s`. Returns 0 or a negative errno with `d`
 * filled. */
static int take_source(struct drv_stdio *s, const struct drv_stdio_cfg *c, struct diag *d)
{
    if (c->requests && c->n_requests) {
        s->templates = calloc(c->n_requests, sizeof(*s->templates));
        s->n_templates = c->n_requests;
        for (size_t i = 0; s->templates && i < c->n_requests; i++) {
            s->templates[i] = strdup(c->requests[i]);
            if (!s->templates[i]) {
                return diag_set(d, -ENOMEM, "out of memory");
            }
        }
        return s->templates ? 0 : diag_set(d, -ENOMEM, "out of memory");
    }
    if (c->requests_file) {
        return load_requests_file(s, c->requests_file, d);
    }
    if (c->requests_command) {
        s->command = strv_dup(c->requests_command);
        return s->command ? 0 : diag_set(d, -ENOMEM, "out of memory");
    }
    return diag_set(d, -EINVAL,
                    "stdio driver: no requests (give 'requests', 'requests_file' or "
                    "'requests_command')");
}

struct drv *drv_stdio_new(const void *cfg, struct diag *d)
{
    const struct drv_stdio_cfg *c = cfg;
    struct drv_stdio *s = calloc(1, sizeof(*s));
    if (!s) {
        diag_set(d, -ENOMEM, "out of memory");
        return NULL;
    }
    s->base.ops = &stdio_ops;
    s->per_round = c->requests_per_round ? c->requests_per_round : 1;
    s->reply_timeout_ms =
        c->reply_timeout_ms > 0 ? c->reply_timeout_ms : DRV_STDIO_DEFAULT_REPLY_TIMEOUT_MS;
    if (take_source(s, c, d) < 0) {
        stdio_free(&s->base);
        return NULL;
    }
    return &s->base;
}
