/* SPDX-License-Identifier: MIT */
/* ag_init_test.c - start-up: the number parser, the LD_PRELOAD rewrite, and ag_init_start()
 * itself run in a child process (with a channel: HELLO sent, variables removed, channel
 * close-on-exec, the agent's code found, a canary; without one: pass-through, environment left
 * alone), then the fork handlers in a grandchild (channel closed, tracking stopped). */
#include "ag_init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/proto.h"
#include "ag_core.h"

static void test_init_parse_small(void **state)
{
    (void)state;
    assert_int_equal(ag_init_parse_small("0"), 0);
    assert_int_equal(ag_init_parse_small("42"), 42);
    assert_int_equal(ag_init_parse_small("1000000000"), 1000000000);
    assert_int_equal(ag_init_parse_small("10000000000"), -1);
    assert_int_equal(ag_init_parse_small(NULL), -1);
    assert_int_equal(ag_init_parse_small(""), -1);
    assert_int_equal(ag_init_parse_small("-1"), -1);
    assert_int_equal(ag_init_parse_small("4x"), -1);
    assert_int_equal(ag_init_parse_small(" 4"), -1);
}

/* Expects `value` rewritten to `want`. */
static void check_preload(const char *value, const char *want)
{
    char out[256];
    memset(out, 'z', sizeof(out));
    int len = ag_init_preload_without_self(value, out, sizeof(out));
    assert_int_equal(len, (int)strlen(want));
    assert_string_equal(out, want);
}

static void test_init_preload_without_self(void **state)
{
    (void)state;
    check_preload("/opt/lc/libleakcheck-agent.so", "");
    check_preload("libleakcheck-agent.so", "");
    check_preload("/x/liba.so:/b/libleakcheck-agent.so /y/libb.so", "/x/liba.so:/y/libb.so");
    check_preload(" ::/x/liba.so:: ", "/x/liba.so");
    check_preload("::  :", "");
    /* Only this exact file name is the agent. */
    check_preload("/a/libleakcheck-agent.so.1", "/a/libleakcheck-agent.so.1");
    check_preload("/a/my-libleakcheck-agent.so", "/a/my-libleakcheck-agent.so");
    check_preload("/libleakcheck-agent.so/x.so", "/libleakcheck-agent.so/x.so");

    char small[12];
    assert_int_equal(ag_init_preload_without_self("/x/liba.so:/y/libb.so", small, sizeof(small)),
                     -ENAMETOOLONG);
    assert_int_equal(ag_init_preload_without_self("/x/liba.so", small, sizeof(small)), 10);
}

/* Exit codes of the start-up child, one per check. */
enum {
    BAD_MODE = 10,
    BAD_FD,
    BAD_ENV,
    BAD_PRELOAD,
    BAD_CLOEXEC,
    BAD_DEPTH,
    BAD_SELF,
    BAD_CANARY,
    BAD_GUARD,
    BAD_PARENT_AFTER_FORK,
    BAD_GRANDCHILD, /* + the grandchild's code */
};

/* In the forked child: after a fork, the grandchild must have stopped tracking and closed the
 * channel; the child must be as it was. Returns 0 or an exit code. */
static int check_fork(int fd)
{
    pid_t pid = fork();
    if (pid < 0) {
        return BAD_GRANDCHILD;
    }
    if (pid == 0) {
        if (atomic_load(&ag_state.mode) != AG_MODE_PASS) {
            _exit(1);
        }
        if (ag_state.chan_fd != -1) {
            _exit(2);
        }
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) {
            _exit(3);
        }
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return BAD_GRANDCHILD + (WIFEXITED(status) ? WEXITSTATUS(status) : 9);
    }
    if (atomic_load(&ag_state.mode) != AG_MODE_TRACK || ag_state.chan_fd != fd) {
        return BAD_PARENT_AFTER_FORK;
    }
    return 0;
}

/* In the forked child: runs ag_init_start() with a channel on `fd` and checks what it did.
 * Returns 0 or an exit code. */
static int start_with_channel(int fd)
{
    char num[16];
    snprintf(num, sizeof(num), "%d", fd);
    setenv(PROTO_ENV_FD, num, 1);
    setenv(PROTO_ENV_DEPTH, "5", 1);
    setenv("LD_PRELOAD", "/x/libfoo.so:/b/libleakcheck-agent.so", 1);
    ag_init_start();
    if (atomic_load(&ag_state.mode) != AG_MODE_TRACK) {
        return BAD_MODE;
    }
    if (ag_state.chan_fd != fd) {
        return BAD_FD;
    }
    if (getenv(PROTO_ENV_FD) || getenv(PROTO_ENV_DEPTH) || getenv(PROTO_ENV_INPROC)) {
        return BAD_ENV;
    }
    const char *pre = getenv("LD_PRELOAD");
    if (!pre || strcmp(pre, "/x/libfoo.so") != 0) {
        return BAD_PRELOAD;
    }
    if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC)) {
        return BAD_CLOEXEC;
    }
    if (ag_state.depth != 5) {
        return BAD_DEPTH;
    }
    uintptr_t me = (uintptr_t)&ag_init_start;
    if (!(ag_state.self_lo <= me && me < ag_state.self_hi)) {
        return BAD_SELF;
    }
    if (ag_state.canary == 0) {
        return BAD_CANARY;
    }
    if (ag_guard != 0) {
        return BAD_GUARD;
    }
    return check_fork(fd);
}

/* Reads one frame from `fd` (20 s at most). Returns its header; the payload goes to buf. */
static struct proto_header read_frame(int fd, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    struct proto_header h = {0};
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 20000), 1);
        ssize_t n = read(fd, buf + len, cap - len);
        assert_true(n > 0);
        len += (size_t)n;
        if (len >= PROTO_HEADER_SIZE) {
            assert_int_equal(proto_header_parse(buf, &h), 0);
            if (len >= PROTO_HEADER_SIZE + h.length) {
                return h;
            }
        }
    }
}

static void test_init_start_with_channel(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[1]);
        _exit(start_with_channel(sv[0]));
    }
    close(sv[0]);
    uint8_t buf[8192];
    struct proto_header h = read_frame(sv[1], buf, sizeof(buf));
    assert_int_equal(h.type, PROTO_HELLO);
    struct proto_rbuf r = {.data = buf + PROTO_HEADER_SIZE, .len = h.length};
    uint32_t hello_pid;
    assert_int_equal(proto_get_u32(&r, &hello_pid), 0);
    assert_int_equal(hello_pid, (uint32_t)pid);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(sv[1]);
}

/* In the forked child: no channel and no in-process request: the agent passes through and
 * leaves the environment as it was. Returns 0 or an exit code. */
static int start_without_channel(void)
{
    unsetenv(PROTO_ENV_FD);
    unsetenv(PROTO_ENV_INPROC);
    setenv(PROTO_ENV_DEPTH, "5", 1);
    setenv("LD_PRELOAD", "/b/libleakcheck-agent.so", 1);
    ag_init_start();
    if (atomic_load(&ag_state.mode) != AG_MODE_PASS) {
        return BAD_MODE;
    }
    if (ag_state.chan_fd != -1 || ag_state.canary != 0) {
        return BAD_FD;
    }
    const char *depth = getenv(PROTO_ENV_DEPTH);
    const char *pre = getenv("LD_PRELOAD");
    if (!depth || !pre || strcmp(pre, "/b/libleakcheck-agent.so") != 0) {
        return BAD_ENV;
    }
    if (ag_state.depth == 5) {
        return BAD_DEPTH;
    }
    return ag_guard == 0 ? 0 : BAD_GUARD;
}

static void test_init_without_channel_passes_through(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(start_without_channel());
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_parse_small),
        cmocka_unit_test(test_init_preload_without_self),
        cmocka_unit_test(test_init_start_with_channel),
        cmocka_unit_test(test_init_without_channel_passes_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
