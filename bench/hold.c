/* SPDX-License-Identifier: MIT */
/* hold.c - runs a program under the agent with a live control channel, as the harness would,
 * for benchmarks: `hold [--snapshot-after-ms N] AGENT.so PROGRAM ARGS...`.
 *
 * With --snapshot-after-ms it asks for one snapshot after N ms and prints
 * "live_blocks=... agent_bytes=..." from it (the agent's memory per live block). Exits with the
 * program's exit code.
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
#include <unistd.h>

#include "../common/proto.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Reads frames until SNAP_END; prints the counters of SNAP_BEGIN. */
static void read_snapshot(int fd)
{
    static uint8_t buf[1 << 22];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        size_t pos = 0;
        while (len - pos >= PROTO_HEADER_SIZE) {
            struct proto_header h;
            if (proto_header_parse(buf + pos, &h) < 0) {
                return;
            }
            if (len - pos < PROTO_HEADER_SIZE + h.length) {
                break;
            }
            const uint8_t *pl = buf + pos + PROTO_HEADER_SIZE;
            if (h.type == PROTO_SNAP_BEGIN && h.length >= 8 + 8 * PROTO_NCOUNTERS) {
                printf("live_blocks=%llu live_bytes=%llu agent_bytes=%llu\n",
                       (unsigned long long)le64(pl + 8 + 8 * PROTO_C_LIVE_BLOCKS),
                       (unsigned long long)le64(pl + 8 + 8 * PROTO_C_LIVE_BYTES),
                       (unsigned long long)le64(pl + 8 + 8 * PROTO_C_AGENT_BYTES));
                fflush(stdout);
            }
            if (h.type == PROTO_SNAP_END) {
                return;
            }
            pos += PROTO_HEADER_SIZE + h.length;
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
    }
}

int main(int argc, char **argv)
{
    int arg = 1;
    long snap_ms = -1;
    if (argc > 2 && strcmp(argv[1], "--snapshot-after-ms") == 0) {
        snap_ms = strtol(argv[2], NULL, 10);
        arg = 3;
    }
    if (argc - arg < 2) {
        fprintf(stderr, "usage: hold [--snapshot-after-ms N] AGENT.so PROGRAM ARGS...\n");
        return 2;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("hold: socketpair");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = dup(sv[1]); /* without CLOEXEC */
        char num[16];
        snprintf(num, sizeof(num), "%d", fd);
        setenv(PROTO_ENV_FD, num, 1);
        setenv("LD_PRELOAD", argv[arg], 1);
        execvp(argv[arg + 1], argv + arg + 1);
        perror("hold: exec");
        _exit(127);
    }
    close(sv[1]);
    if (snap_ms >= 0) {
        poll(NULL, 0, (int)snap_ms);
        uint8_t req[PROTO_HEADER_SIZE + 8];
        struct proto_wbuf b = {.data = req, .cap = sizeof(req)};
        proto_frame_begin(&b, PROTO_REQ_SNAPSHOT);
        proto_put_u32(&b, 1);
        proto_put_u32(&b, 0);
        proto_frame_end(&b);
        if (write(sv[0], req, b.len) == (ssize_t)b.len) {
            read_snapshot(sv[0]);
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
