/* SPDX-License-Identifier: MIT */
/* snaptime.c - how long the agent takes to answer a snapshot, for benchmarks:
 *
 *   snaptime [--count N] [--min-blocks N] [--timeout S] AGENT.so PROGRAM ARGS...
 *
 * Runs PROGRAM under the agent with a live control channel (one inherited socket, as the test
 * programs and `make bench` use), asks for snapshots until one reports at least --min-blocks
 * live blocks (default 1), then takes --count (default 10) more, 50 ms apart, each timed from the
 * request written to the last byte of its SNAP_END read (what report.json calls
 * snapshot_seconds). Then kills the program and its process group: the program is expected to
 * hold its blocks, or churn, until killed.
 *
 * Prints one line:
 *   snapshots=N median_ms=M min_ms=M max_ms=M live_blocks=N agent_bytes=N bytes_per_block=B
 *   busy_cores=C
 * where busy_cores is the CPU time of the program's own threads (/proc/PID/task/TID/schedstat,
 * the agent's threads left out) over the snapshots' wall time ("-" when they took under 10 ms
 * in all, too short to judge): about 0 when the program's
 * threads stood still while the agent worked, up to the cores the snapshot leaves them when
 * they kept running.
 * Exits 0 after printing, 1 when the program ended, the channel broke or --timeout (default
 * 120 s) passed first, 2 on a usage error.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../harness/procfs.h"

#define MAX_COUNT 1000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

struct answer {
    uint64_t live_blocks;
    uint64_t agent_bytes;
};

/* Reads frames until SNAP_END. Returns 0 with *a filled, or -1 when the channel broke or the
 * deadline passed. */
static int read_snapshot(int fd, double deadline, struct answer *a)
{
    static uint8_t buf[1 << 26];
    size_t len = 0;
    for (;;) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0 || poll(&pf, 1, left) <= 0) {
            return -1;
        }
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0) {
            return -1;
        }
        len += (size_t)n;
        size_t pos = 0;
        while (len - pos >= PROTO_HEADER_SIZE) {
            struct proto_header h;
            if (proto_header_parse(buf + pos, &h) < 0) {
                return -1;
            }
            if (PROTO_HEADER_SIZE + (size_t)h.length > sizeof(buf)) {
                return -1;
            }
            if (len - pos < PROTO_HEADER_SIZE + h.length) {
                break;
            }
            const uint8_t *pl = buf + pos + PROTO_HEADER_SIZE;
            if (h.type == PROTO_SNAP_BEGIN && h.length >= 8 + 8 * PROTO_NCOUNTERS) {
                a->live_blocks = le64(pl + 8 + 8 * PROTO_C_LIVE_BLOCKS);
                a->agent_bytes = le64(pl + 8 + 8 * PROTO_C_AGENT_BYTES);
            }
            pos += PROTO_HEADER_SIZE + h.length;
            if (h.type == PROTO_SNAP_END) {
                return 0; /* nothing follows an answer until the next request */
            }
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
    }
}

/* Asks for the snapshot closing `round` and waits for it. Returns its seconds, or -1. */
static double snapshot(int fd, uint32_t round, double deadline, struct answer *a)
{
    uint8_t req[PROTO_HEADER_SIZE + 8];
    struct proto_wbuf b = {.data = req, .cap = sizeof(req)};
    proto_frame_begin(&b, PROTO_REQ_SNAPSHOT);
    proto_put_u32(&b, round);
    proto_put_u32(&b, 0);
    proto_frame_end(&b);
    double t0 = now_s();
    if (write(fd, req, b.len) != (ssize_t)b.len) {
        return -1;
    }
    if (read_snapshot(fd, deadline, a) < 0) {
        return -1;
    }
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stop(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    long count = 10;
    unsigned long long min_blocks = 1;
    double timeout = 120;
    int arg = 1;
    while (arg + 1 < argc && strncmp(argv[arg], "--", 2) == 0) {
        char *end;
        if (strcmp(argv[arg], "--count") == 0) {
            count = strtol(argv[arg + 1], &end, 10);
        } else if (strcmp(argv[arg], "--min-blocks") == 0) {
            min_blocks = strtoull(argv[arg + 1], &end, 10);
        } else if (strcmp(argv[arg], "--timeout") == 0) {
            timeout = strtod(argv[arg + 1], &end);
        } else {
            break;
        }
        if (*end || count < 1 || count > MAX_COUNT || timeout <= 0) {
            fprintf(stderr, "snaptime: %s: bad value '%s'\n", argv[arg], argv[arg + 1]);
            return 2;
        }
        arg += 2;
    }
    if (argc - arg < 2) {
        fprintf(stderr, "usage: snaptime [--count N] [--min-blocks N] [--timeout S] AGENT.so "
                        "PROGRAM ARGS...\n");
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("snaptime: socketpair");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0) {
        perror("snaptime: fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int fd = dup(sv[1]); /* without CLOEXEC */
        char num[16];
        snprintf(num, sizeof(num), "%d", fd);
        setenv(PROTO_ENV_FD, num, 1);
        setenv("LD_PRELOAD", argv[arg], 1);
        execvp(argv[arg + 1], argv + arg + 1);
        fprintf(stderr, "snaptime: can't run %s: %s\n", argv[arg + 1], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(sv[1]);
    int fd = sv[0];
    double deadline = now_s() + timeout;
    uint32_t round = 1;
    struct answer a = {0};
    /* Wait until the program holds what it should. */
    for (;;) {
        if (snapshot(fd, round++, deadline, &a) < 0) {
            fprintf(stderr, "snaptime: no snapshot (the program ended, or %.0f s passed)\n",
                    timeout);
            stop(pid);
            return 1;
        }
        if (a.live_blocks >= min_blocks) {
            break;
        }
        poll(NULL, 0, 50);
    }
    double t[MAX_COUNT];
    double total = 0;
    uint64_t cpu_ns = 0;
    for (long i = 0; i < count; i++) {
        poll(NULL, 0, 50);
        /* The program's own threads: the agent's channel thread makes the snapshot. */
        uint64_t c0 = 0, c1 = 0;
        bool c0_ok = procfs_cpu_ns(pid, PROTO_THREAD_NAME, &c0);
        t[i] = snapshot(fd, round++, deadline, &a);
        bool c1_ok = procfs_cpu_ns(pid, PROTO_THREAD_NAME, &c1);
        if (t[i] < 0) {
            fprintf(stderr, "snaptime: snapshot %ld of %ld did not come\n", i + 1, count);
            stop(pid);
            return 1;
        }
        total += t[i];
        cpu_ns += c0_ok && c1_ok && c1 >= c0 ? c1 - c0 : 0;
    }
    stop(pid);
    qsort(t, (size_t)count, sizeof(t[0]), cmp_double);
    double median = count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2;
    char busy[32] = "-";
    if (total >= 0.01) {
        snprintf(busy, sizeof(busy), "%.2f", (double)cpu_ns / 1e9 / total);
    }
    printf("snapshots=%ld median_ms=%.2f min_ms=%.2f max_ms=%.2f live_blocks=%llu "
           "agent_bytes=%llu bytes_per_block=%.1f busy_cores=%s\n",
           count, median * 1000, t[0] * 1000, t[count - 1] * 1000,
           (unsigned long long)a.live_blocks, (unsigned long long)a.agent_bytes,
           a.live_blocks ? (double)a.agent_bytes / (double)a.live_blocks : 0.0, busy);
    return 0;
}
