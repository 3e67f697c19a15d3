/* SPDX-License-Identifier: MIT */
/* it_util.h - small helpers shared by the integration tests (tests/it_*.c).
 *
 * Integration tests run from the repository root (tests/run-all.sh does that) and find the
 * build through $B (default build/debug). Header-only; each function is static. Include it after
 * cmocka.h: it_run() then fails the test when a process it started outlives the command.
 */
#ifndef TESTS_IT_UTIL_H
#define TESTS_IT_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IT_UNUSED __attribute__((unused))

/* The build folder: $B, or build/debug. Borrowed. */
static IT_UNUSED const char *it_build_dir(void)
{
    const char *b = getenv("B");
    return b && *b ? b : "build/debug";
}

/* "BUILD/rel" into buf; returns buf. */
static IT_UNUSED char *it_build_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", it_build_dir(), rel);
    return buf;
}

/* Reads a whole file; returns a malloc'ed NUL-terminated string (caller frees), or NULL. */
static IT_UNUSED char *it_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096;
    size_t len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
        if (len_out) {
            *len_out = len;
        }
    }
    return buf;
}

/* ---------------------------------------------------------------- leftovers
 *
 * Nothing a test starts may outlive it. it_mark() puts LEAKCHECK_IT_MARK=it-PID in this test's
 * environment, so every process it starts carries it, even one that detaches (double fork,
 * setsid) and is reparented away from us; it_leftovers() finds the living processes that carry
 * the mark or descend from this process, names them, and kills them (so one failure does not
 * spill into the next test). it_run() checks after every command it runs; suites that start
 * commands themselves call it_assert_no_leftovers() after them. */

#define IT_MARK_VAR "LEAKCHECK_IT_MARK"

/* The mark of this test process ("it-PID"). Borrowed. */
static IT_UNUSED const char *it_mark_value(void)
{
    static char mark[32];
    if (!mark[0]) {
        snprintf(mark, sizeof(mark), "it-%d", (int)getpid());
    }
    return mark;
}

/* Marks the environment every process this test starts inherits. Idempotent. */
static IT_UNUSED void it_mark(void)
{
    setenv(IT_MARK_VAR, it_mark_value(), 1);
}

/* Reads /proc/PID/<what> into buf (NUL-terminated; NULs inside kept). Returns bytes read or
 * -1. */
static IT_UNUSED ssize_t it_proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, len - 1 - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Reads the state letter and parent of `pid`. Returns false when it is gone. */
static IT_UNUSED bool it_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
    char buf[512];
    if (it_proc_read(pid, "stat", buf, sizeof(buf)) <= 0) {
        return false;
    }
    char *rp = strrchr(buf, ')');
    int pp = 0;
    if (!rp || sscanf(rp + 1, " %c %d", state, &pp) != 2) {
        return false;
    }
    *ppid = (pid_t)pp;
    return true;
}

/* True when `pid` descends from this process (its parent chain reaches us). */
static IT_UNUSED bool it_proc_descends(pid_t pid)
{
    pid_t self = getpid();
    for (int depth = 0; depth < 64 && pid > 1; depth++) {
        char st;
        pid_t pp;
        if (!it_proc_stat(pid, &st, &pp)) {
            return false;
        }
        if (pp == self) {
            return true;
        }
        pid = pp;
    }
    return false;
}

/* True when the environment `pid` started with holds this test's mark. */
static IT_UNUSED bool it_proc_marked(pid_t pid)
{
    static char env[1 << 16];
    ssize_t n = it_proc_read(pid, "environ", env, sizeof(env));
    char want[64];
    snprintf(want, sizeof(want), "%s=%s", IT_MARK_VAR, it_mark_value());
    for (ssize_t off = 0; off < n; off += (ssize_t)strlen(env + off) + 1) {
        if (strcmp(env + off, want) == 0) {
            return true;
        }
    }
    return false;
}

/* One scan: the living processes (zombies aside) this test started, described into `out`
 * (appended, "PID CMDLINE; "), killed when `kill_them`. Returns how many. */
static IT_UNUSED size_t it_leftovers_scan(char *out, size_t len, bool kill_them)
{
    size_t found = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end = NULL;
        long v = strtol(e->d_name, &end, 10);
        pid_t pid = (pid_t)v;
        char st;
        pid_t pp;
        if (v <= 0 || *end || pid == getpid() || !it_proc_stat(pid, &st, &pp) || st == 'Z' ||
            st == 'X' || !(it_proc_descends(pid) || it_proc_marked(pid))) {
            continue;
        }
        found++;
        char cmd[256];
        ssize_t n = it_proc_read(pid, "cmdline", cmd, sizeof(cmd));
        for (ssize_t i = 0; i + 1 < n; i++) {
            cmd[i] = cmd[i] ? cmd[i] : ' ';
        }
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%d %s; ", (int)pid, n > 0 ? cmd : "?");
        if (kill_them) {
            kill(pid, SIGKILL);
        }
    }
    if (d) {
        closedir(d);
    }
    return found;
}

/* The processes this test started that are still alive, after giving ending ones up to a
 * second to go: described into `out` and killed. Returns how many (0: none left). */
static IT_UNUSED size_t it_leftovers(char *out, size_t len)
{
    out[0] = '\0';
    for (int k = 0; k < 50; k++) {
        if (it_leftovers_scan(out, len, false) == 0) {
            return 0;
        }
        out[0] = '\0';
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return it_leftovers_scan(out, len, true);
}

#ifdef fail_msg
/* Fails the current cmocka test when a process this test started is still alive (after `what`
 * ended), naming them. */
static IT_UNUSED void it_assert_no_leftovers(const char *what)
{
    static char left[8192];
    if (it_leftovers(left, sizeof(left)) > 0) {
        fail_msg("still running after %s: %s", what, left);
    }
}
#endif

struct it_result {
    int exit_code; /* -1 when killed by a signal */
    int signal;    /* 0 unless killed */
    bool timed_out;
    char *out; /* stdout + stderr, malloc'ed, NUL-terminated */
};

/* Runs argv (no shell) with optional extra environment ("K=V" list, NULL-terminated) and
 * optional stdin text, collecting stdout and stderr together, killing it after timeout_s.
 * Returns 0 and fills *r (free r->out), or -errno when it could not start at all. */
static IT_UNUSED int it_run(char *const argv[], char *const env_add[], const char *input,
                            int timeout_s, struct it_result *r)
{
    int out[2];
    int in[2];
    memset(r, 0, sizeof(*r));
    it_mark();
    if (pipe(out) < 0 || pipe(in) < 0) {
        return -errno;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        for (char *const *e = env_add; e && *e; e++) {
            putenv(*e);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (input) {
        signal(SIGPIPE, SIG_IGN);
        size_t n = strlen(input);
        while (n > 0) {
            ssize_t w = write(in[1], input, n);
            if (w <= 0) {
                break;
            }
            input += w;
            n -= (size_t)w;
        }
    }
    close(in[1]);
    size_t cap = 65536;
    size_t len = 0;
    char *buf = malloc(cap);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(r, 0, sizeof(*r));
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (long)timeout_s * 1000 -
                       ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left_ms <= 0) {
            r->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        if (poll(&p, 1, (int)left_ms) <= 0) {
            continue;
        }
        if (len + 4096 > cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(out[0], buf + len, cap - len - 1);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    buf[len] = '\0';
    r->out = buf;
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
#ifdef fail_msg
    it_assert_no_leftovers(argv[0]);
#endif
    return 0;
}

#endif
