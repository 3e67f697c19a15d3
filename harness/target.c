/* SPDX-License-Identifier: MIT */
/* target.c - spawning the program under test with the agent, probing readiness, stopping it.
 *
 * util/spawn starts the program: the channel end is the one descriptor it keeps open in the child;
 * every other descriptor the harness holds is O_CLOEXEC. Waits are poll()-based with deadlines
 * from util/clock.
 */
#include "target.h"

#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/io.h"
#include "../util/spawn.h"
#include "../util/strv.h"
#include "tree.h"

/* A running (or ended) target. */
struct target {
    pid_t pid;
    int stdin_fd;  /* write end, or -1 */
    int stdout_fd; /* read end, or -1 */
    int chan_fd;   /* harness end of the control channel, or -1 */
    bool exited;
    int status; /* waitpid status, valid when exited */
    char *log_path;
    int log_fd;
    bool drain_started;
    unsigned long drain_thread;
    atomic_bool drain_stop; /* set by target_free: the drain thread ends without waiting for EOF */
    bool (*going)(void *);  /* the readiness waits' test of the work going on, or NULL */
    void *going_arg;
};

extern char **environ;

#define TARGET_POLL_MS       20
#define TARGET_SETTLE_MS     1000 /* how long an ending target gets to be reaped for a message */
#define TARGET_DRAIN_TAIL    (16u << 20) /* bytes still copied to the log after the target ended */
#define TARGET_TREE_GRACE_MS 3000        /* most the rest of the tree gets after SIGTERM */

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* True when `prog` can be executed (searching PATH when it has no slash); when `found` is not
 * NULL, the path that was found is copied there. */
static bool find_program(const char *prog, char *found, size_t found_len)
{
    if (strchr(prog, '/')) {
        struct stat st;
        if (found) {
            snprintf(found, found_len, "%s", prog);
        }
        return stat(prog, &st) == 0 && S_ISREG(st.st_mode) && access(prog, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) {
        path = "/usr/bin:/bin";
    }
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", prog);
        struct stat st;
        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
            if (found) {
                snprintf(found, found_len, "%s", buf);
            }
            return true;
        }
        path += n;
        if (*path == ':') {
            path++;
        }
    }
    return false;
}

/* Builds the child's environment: ours, minus what we set, plus env_add, LD_PRELOAD and
 * LEAKCHECK_FD. Returns a malloc'ed vector of malloc'ed strings, or NULL. */
static char **build_env(const struct target_opts *o, int chan_fd)
{
    size_t n = 0;
    for (char **e = environ; *e; e++) {
        n++;
    }
    for (char *const *e = o->env_add; e && *e; e++) {
        n++;
    }
    char **env = calloc(n + 3, sizeof(*env));
    if (!env) {
        return NULL;
    }
    size_t k = 0;
    const char *old_preload = NULL;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
            old_preload = *e + 11;
            continue;
        }
        if (strncmp(*e, PROTO_ENV_FD "=", strlen(PROTO_ENV_FD) + 1) == 0) {
            continue;
        }
        bool overridden = false;
        const char *eq = strchr(*e, '=');
        size_t klen = eq ? (size_t)(eq - *e) + 1 : strlen(*e);
        for (char *const *a = o->env_add; a && *a; a++) {
            if (strncmp(*a, *e, klen) == 0) {
                overridden = true;
            }
        }
        if (!overridden) {
            env[k++] = strdup(*e);
        }
    }
    for (char *const *a = o->env_add; a && *a; a++) {
        if (strncmp(*a, "LD_PRELOAD=", 11) == 0) {
            old_preload = *a + 11;
            continue;
        }
        env[k++] = strdup(*a);
    }
    if (o->agent_path) {
        size_t len = strlen(o->agent_path) + (old_preload ? strlen(old_preload) : 0) + 16;
        env[k] = malloc(len);
        if (env[k]) {
            snprintf(env[k], len, "LD_PRELOAD=%s%s%s", o->agent_path,
                     old_preload && *old_preload ? ":" : "", old_preload ? old_preload : "");
        }
        k++;
    } else if (old_preload) {
        size_t len = strlen(old_preload) + 16;
        env[k] = malloc(len);
        if (env[k]) {
            snprintf(env[k], len, "LD_PRELOAD=%s", old_preload);
        }
        k++;
    }
    if (chan_fd >= 0) {
        env[k] = malloc(32);
        if (env[k]) {
            snprintf(env[k], 32, "%s=%d", PROTO_ENV_FD, chan_fd);
        }
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        if (!env[i]) {
            strv_free_n(env, k);
            return NULL;
        }
    }
    return env;
}

/* Opens the log the target's stderr (and stdout when not piped) goes to. Returns 0 or -errno with
 * `d` filled. */
static int open_log(struct target *t, const char *path, struct diag *d)
{
    t->log_path = strdup(path);
    if (!t->log_path) {
        return diag_set(d, -ENOMEM, "can't create the target log '%s': %s", path, strerror(ENOMEM));
    }
    t->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (t->log_fd < 0) {
        int err = errno;
        return diag_set(d, -err, "can't create the target log '%s': %s", path, strerror(err));
    }
    return 0;
}

/* The spawn options for `o`: where each standard stream goes, the channel end kept open. */
static void spawn_opts_for(const struct target_opts *o, const struct target *t, int chan_fd,
                           char **env, struct spawn_opts *so)
{
    *so = (struct spawn_opts){.argv = o->argv,
                              .env = env,
                              .cwd = o->cwd,
                              .keep_fd = chan_fd > 2 ? chan_fd : 0,
                              .what = "the target",
                              .verb = "start",
                              .cwd_hint = " (does target.cwd exist?)",
                              .new_session = o->new_session};
    if (o->inherit_stdio) {
        so->io[0] = so->io[1] = so->io[2] = SPAWN_INHERIT;
        return;
    }
    so->io[0] = o->pipe_stdin ? SPAWN_PIPE : SPAWN_NULL;
    so->io[1] = o->pipe_stdout ? SPAWN_PIPE : t->log_fd >= 0 ? SPAWN_FD : SPAWN_INHERIT;
    so->io[2] = t->log_fd >= 0 ? SPAWN_FD : SPAWN_INHERIT;
    so->fd[1] = so->fd[2] = t->log_fd;
}

/* Creates the channel (when asked), the environment, and spawns the program into `t`. Returns 0
 * or a negative errno with `d` filled. */
static int spawn_target(const struct target_opts *o, struct target *t, struct diag *d)
{
    int chan[2] = {-1, -1};
    char **env = NULL;
    int rc = 0;
    if (o->channel && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0) {
        int err = errno;
        rc = diag_set(d, -err, "can't create pipes for the target: %s", strerror(err));
    }
    if (rc == 0) {
        env = build_env(o, chan[1]);
        rc =
            env ? 0 : diag_set(d, -ENOMEM, "can't prepare the target's environment: out of memory");
    }
    struct spawn_child child;
    if (rc == 0) {
        struct spawn_opts so;
        spawn_opts_for(o, t, chan[1], env, &so);
        rc = spawn_start(&so, &child, d);
    }
    if (rc == 0) {
        t->pid = child.pid;
        t->stdin_fd = child.fd[0];
        t->stdout_fd = child.fd[1];
        t->chan_fd = chan[0];
        chan[0] = -1;
    }
    strv_free(env);
    close_fd(&chan[0]);
    close_fd(&chan[1]);
    return rc;
}

int target_start(const struct target_opts *o, struct target **out, struct diag *d)
{
    int rc = 0;
    struct target *t = calloc(1, sizeof(*t));
    if (!t) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    t->stdin_fd = t->stdout_fd = t->chan_fd = t->log_fd = -1;
    if (!find_program(o->argv[0], NULL, 0)) {
        rc = diag_set(d, -ENOENT,
                      "target '%s' not found or not executable (check the path in target.argv, or "
                      "build it first)",
                      o->argv[0]);
    }
    if (rc == 0 && o->log_path) {
        rc = open_log(t, o->log_path, d);
    }
    if (rc == 0) {
        rc = spawn_target(o, t, d);
    }
    if (rc < 0) {
        close_fd(&t->log_fd);
        free(t->log_path);
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

pid_t target_pid(const struct target *t)
{
    return t->pid;
}

int target_stdin_fd(const struct target *t)
{
    return t->stdin_fd;
}

int target_stdout_fd(const struct target *t)
{
    return t->stdout_fd;
}

int target_chan_fd(const struct target *t)
{
    return t->chan_fd;
}

bool target_exited(const struct target *t)
{
    return t->exited;
}

const char *target_log_path(const struct target *t)
{
    return t->log_path;
}

bool target_is_static(const char *prog)
{
    char path[4096];
    if (!find_program(prog, path, sizeof(path))) {
        return false;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool is_static = false;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum < 4096) {
        /* An executable with no program interpreter never runs ld.so, so LD_PRELOAD is never
         * read. (A static-pie has no PT_INTERP either; a shared library run directly does.) */
        is_static = true;
        for (uint16_t i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            off_t off = (off_t)eh.e_phoff + (off_t)i * (off_t)sizeof(ph);
            if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph)) {
                is_static = false;
                break;
            }
            if (ph.p_type == PT_INTERP) {
                is_static = false;
                break;
            }
        }
    }
    close(fd);
    return is_static;
}

void target_note_exit(struct target *t, pid_t pid, int status)
{
    if (t && !t->exited && t->pid > 0 && pid == t->pid) {
        t->exited = true;
        t->status = status;
    }
}

bool target_alive(struct target *t)
{
    if (t->exited || t->pid <= 0) {
        return false;
    }
    int status;
    pid_t r = waitpid(t->pid, &status, WNOHANG);
    if (r == t->pid) {
        t->exited = true;
        t->status = status;
        return false;
    }
    return r == 0;
}

void target_describe_exit(const struct target *t, char *buf, size_t len)
{
    if (!t->exited) {
        snprintf(buf, len, "is still running");
    } else if (WIFEXITED(t->status)) {
        snprintf(buf, len, "exited with code %d", WEXITSTATUS(t->status));
    } else if (WIFSIGNALED(t->status)) {
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(t->status),
                 strsignal(WTERMSIG(t->status)));
    } else {
        snprintf(buf, len, "ended with status 0x%x", (unsigned)t->status);
    }
}

int target_exit_code(const struct target *t)
{
    return t->exited && WIFEXITED(t->status) ? WEXITSTATUS(t->status) : -1;
}

int target_term_signal(const struct target *t)
{
    return t->exited && WIFSIGNALED(t->status) ? WTERMSIG(t->status) : 0;
}

/* Waits up to ms for the process to exit. */
static bool wait_exit(struct target *t, int ms)
{
    int64_t deadline = clock_ms() + ms;
    for (;;) {
        if (!target_alive(t)) {
            return true;
        }
        if (clock_ms() >= deadline) {
            return false;
        }
        poll(NULL, 0, 10);
    }
}

void target_set_going(struct target *t, bool (*going)(void *), void *arg)
{
    t->going = going;
    t->going_arg = arg;
}

/* The readiness waits' test: the caller's, else the program's own life. */
static bool going_on(struct target *t)
{
    return t->going ? t->going(t->going_arg) : target_alive(t);
}

static int not_alive(struct target *t, const char *what, struct diag *d)
{
    char how[128];
    target_describe_exit(t, how, sizeof(how));
    return diag_set(d, -EPIPE, "target %s before it was ready (%s)", how, what);
}

int target_wait_stdout(struct target *t, const char *regex, int timeout_ms, struct diag *d)
{
    regex_t re;
    if (regcomp(&re, regex, REG_EXTENDED | REG_NOSUB) != 0) {
        return diag_set(d, -EINVAL, "bad readiness regular expression '%s'", regex);
    }
    if (t->stdout_fd < 0) {
        regfree(&re);
        return diag_set(d, -EINVAL, "target stdout is not piped");
    }
    int64_t deadline = clock_ms() + timeout_ms;
    char line[4096];
    size_t n = 0;
    int rc;
    for (;;) {
        int64_t left = deadline - clock_ms();
        if (left <= 0) {
            rc = diag_set(d, -ETIMEDOUT,
                          "target printed no line matching '%s' within %d ms (raise "
                          "target.ready.timeout_s, or check the pattern)",
                          regex, timeout_ms);
            break;
        }
        struct pollfd pfd = {.fd = t->stdout_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, left > TARGET_POLL_MS * 10 ? TARGET_POLL_MS * 10 : (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = diag_set(d, -errno, "poll: %s", strerror(errno));
            break;
        }
        if (pr <= 0) {
            continue;
        }
        char c;
        ssize_t r = read(t->stdout_fd, &c, 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            /* A target closes its stdout as it exits: give it a moment, so the message can say
             * how it ended rather than "is still running". */
            wait_exit(t, TARGET_SETTLE_MS);
            rc = not_alive(t, "stdout closed", d);
            break;
        }
        if (c != '\n' && n < sizeof(line) - 1) {
            line[n++] = c;
            continue;
        }
        if (c != '\n') {
            continue;
        }
        line[n] = '\0';
        n = 0;
        if (t->log_fd >= 0) {
            dprintf(t->log_fd, "%s\n", line);
        }
        if (regexec(&re, line, 0, NULL, 0) == 0) {
            rc = 0;
            break;
        }
    }
    regfree(&re);
    return rc;
}

/* One non-blocking connect to host:port within timeout_ms. Returns a connected fd or -errno. */
static int connect_once(const char *host, uint16_t port, int timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof(ps), "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai) {
        return -EHOSTUNREACH;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return -errno;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, timeout_ms) == 1) {
            int err = 0;
            socklen_t el = sizeof(err);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
            rc = err ? -1 : 0;
            errno = err;
        } else {
            errno = ETIMEDOUT;
            rc = -1;
        }
    }
    if (rc < 0) {
        int err = errno;
        close(fd);
        return -(err ? err : ECONNREFUSED);
    }
    return fd;
}

int target_wait_tcp(struct target *t, uint16_t port, int timeout_ms, struct diag *d)
{
    int64_t deadline = clock_ms() + timeout_ms;
    while (clock_ms() < deadline) {
        if (!going_on(t)) {
            return not_alive(t, "waiting for a TCP connection", d);
        }
        int fd = connect_once("127.0.0.1", port, 200);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        poll(NULL, 0, TARGET_POLL_MS);
    }
    return diag_set(d, -ETIMEDOUT,
                    "target did not accept connections on 127.0.0.1:%u within %d ms (raise "
                    "target.ready.timeout_s, or check the port it listens on)",
                    port, timeout_ms);
}

/* GET once; returns the HTTP status, or -errno. */
static int http_get_status(const char *host, uint16_t port, const char *path, int timeout_ms)
{
    int fd = connect_once(host, port, timeout_ms);
    if (fd < 0) {
        return fd;
    }
    char req[2048];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s:%u\r\nConnection: close\r\n\r\n",
                 path, host, port);
    if (n < 0 || (size_t)n >= sizeof(req) || io_send_all(fd, req, (size_t)n) != 0) {
        close(fd);
        return -EIO;
    }
    char resp[64];
    size_t got = 0;
    int64_t deadline = clock_ms() + timeout_ms;
    while (got < sizeof(resp) - 1 && clock_ms() < deadline) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)(deadline - clock_ms())) <= 0) {
            break;
        }
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    resp[got] = '\0';
    int status = 0;
    if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1) {
        return -EPROTO;
    }
    return status;
}

int target_wait_http(struct target *t, const char *url, int timeout_ms, struct diag *d)
{
    char host[256];
    unsigned port = 80;
    const char *p = url + 7;
    if (strncmp(url, "http://", 7) != 0) {
        return diag_set(d, -EINVAL, "readiness URL '%s' is not http://", url);
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof(host)) {
        return diag_set(d, -EINVAL, "readiness URL '%s' has no host", url);
    }
    memcpy(host, p, hl);
    host[hl] = '\0';
    p += hl;
    if (*p == ':') {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end == p + 1 || v == 0 || v > 65535 || (*end && *end != '/')) {
            return diag_set(d, -EINVAL, "readiness URL '%s' has a bad port", url);
        }
        port = (unsigned)v;
        p = end;
    }
    const char *path = *p ? p : "/";
    int64_t deadline = clock_ms() + timeout_ms;
    int last = 0;
    while (clock_ms() < deadline) {
        if (!going_on(t)) {
            return not_alive(t, "waiting for an HTTP answer", d);
        }
        last = http_get_status(host, (uint16_t)port, path, 1000);
        if (last >= 200 && last < 300) {
            return 0;
        }
        poll(NULL, 0, TARGET_POLL_MS * 5);
    }
    if (last > 0) {
        return diag_set(d, -ETIMEDOUT, "GET %s still answered %d after %d ms (expected 2xx)", url,
                        last, timeout_ms);
    }
    return diag_set(d, -ETIMEDOUT,
                    "GET %s got no answer within %d ms (%s; raise target.ready.timeout_s)", url,
                    timeout_ms, strerror(-last));
}

/* Copies what the target writes to stdout into the log until EOF, or until target_free() asks
 * it to stop: a grandchild that inherited stdout can keep the pipe open long after the target
 * has exited, so the thread polls and checks `drain_stop` rather than blocking in read(). Once
 * asked to stop it takes what is already in the pipe (at most TARGET_DRAIN_TAIL bytes) and ends. */
static void *drain_main(void *arg)
{
    struct target *t = arg;
    char buf[4096];
    size_t tail = 0;
    for (;;) {
        bool stopping = atomic_load(&t->drain_stop);
        struct pollfd pfd = {.fd = t->stdout_fd, .events = POLLIN};
        int pr = poll(&pfd, 1, stopping ? 0 : TARGET_POLL_MS * 5);
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr <= 0) {
            if (stopping || pr < 0) {
                break;
            }
            continue;
        }
        ssize_t r = read(t->stdout_fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        if (stopping && (tail += (size_t)r) > TARGET_DRAIN_TAIL) {
            break;
        }
        if (t->log_fd >= 0) {
            io_write_all(t->log_fd, buf, (size_t)r); /* a full disk loses log lines, not the run */
        }
    }
    return NULL;
}

int target_drain_stdout(struct target *t)
{
    if (t->stdout_fd < 0 || t->drain_started) {
        return 0;
    }
    pthread_t th;
    int err = pthread_create(&th, NULL, drain_main, t);
    if (err != 0) {
        return -err;
    }
    t->drain_thread = (unsigned long)th;
    t->drain_started = true;
    return 0;
}

int target_stop(struct target *t, int grace_ms)
{
    /* Closing a piped stdin is the polite stop; without one, SIGTERM is the first word. */
    bool piped = t->stdin_fd >= 0;
    close_fd(&t->stdin_fd);
    if (t->pid <= 0) {
        return 0;
    }
    if (!wait_exit(t, piped ? grace_ms : 0)) {
        kill(t->pid, SIGTERM);
        if (!wait_exit(t, grace_ms)) {
            kill(t->pid, SIGKILL);
            int status;
            if (waitpid(t->pid, &status, 0) == t->pid) {
                t->exited = true;
                t->status = status;
            } else {
                return -errno;
            }
        }
    }
    tree_stop(grace_ms < TARGET_TREE_GRACE_MS ? grace_ms : TARGET_TREE_GRACE_MS);
    return 0;
}

void target_free(struct target *t)
{
    if (!t) {
        return;
    }
    if (t->pid > 0 && target_alive(t)) {
        kill(t->pid, SIGKILL);
        int status;
        if (waitpid(t->pid, &status, 0) == t->pid) {
            t->exited = true;
            t->status = status;
        }
        tree_stop(0);
    }
    close_fd(&t->stdin_fd);
    if (t->drain_started) {
        /* The process is gone; a grandchild may still hold its stdout open, so EOF may never
         * come: tell the thread to take what is buffered and end. */
        atomic_store(&t->drain_stop, true);
        pthread_join((pthread_t)t->drain_thread, NULL);
    }
    close_fd(&t->stdout_fd);
    close_fd(&t->chan_fd);
    close_fd(&t->log_fd);
    free(t->log_path);
    free(t);
}

int target_free_port(uint16_t *port, struct diag *d)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return diag_set(d, -errno, "can't pick a free port: socket: %s", strerror(errno));
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int err = errno;
        close(fd);
        return diag_set(d, -err, "can't pick a free port on 127.0.0.1: %s", strerror(err));
    }
    close(fd);
    *port = ntohs(sa.sin_port);
    return 0;
}

size_t target_log_tail(const char *path, size_t lines, char *buf, size_t len)
{
    if (!path || len == 0) {
        return 0;
    }
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    char tail[8192];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
    ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    tail[n] = '\0';
    while (n > 0 && tail[n - 1] == '\n') {
        tail[--n] = '\0';
    }
    /* Find the start of the last `lines` lines. */
    ssize_t start = n;
    size_t seen = 0;
    while (start > 0) {
        if (tail[start - 1] == '\n' && ++seen == lines) {
            break;
        }
        start--;
    }
    size_t w = 0;
    char *line = tail + start;
    while (line && *line && w + 1 < len) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        int k = snprintf(buf + w, len - w, "  | %.*s\n", (int)ll, line);
        if (k < 0 || (size_t)k >= len - w) {
            break;
        }
        w += (size_t)k;
        line = nl ? nl + 1 : NULL;
    }
    return w;
}
