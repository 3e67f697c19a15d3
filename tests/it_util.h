/* SPDX-License-Identifier: MIT */
/* it_util.h - small helpers shared by the integration tests (tests/it_*.c).
 *
 * Integration tests run from the repository root (tests/run-all.sh does that) and find the
 * build through $B (default build/debug). Header-only; each function is static.
 */
#ifndef TESTS_IT_UTIL_H
#define TESTS_IT_UTIL_H

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
    return 0;
}

#endif
