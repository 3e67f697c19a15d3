/* SPDX-License-Identifier: MIT */
/* io_test.c - unit tests of the whole-write loops: a large buffer through a pipe and a socket
 * read by another thread, a peer that went away (-EPIPE, no SIGPIPE), bad descriptors. */
#include "io.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define BIG (4u << 20) /* far over a pipe's or a socket's buffer */

/* What the reader thread got. */
struct reader {
    int fd;
    unsigned char *data;
    size_t len;
    int err; /* errno of a failed read, else 0 */
};

/* Byte i of the test pattern. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 12));
}

/* Reads r->fd to its end into r->data (BIG bytes at most) in small reads. */
static void *read_all(void *arg)
{
    struct reader *r = arg;
    unsigned char extra; /* a byte past BIG lands here and is counted */
    for (;;) {
        size_t left = r->len < BIG ? BIG - r->len : 0;
        unsigned char *dst = left ? r->data + r->len : &extra;
        size_t want = left < 4000 ? left : 4000;
        ssize_t n = read(r->fd, dst, want ? want : 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            r->err = errno;
            return NULL;
        }
        if (n == 0) {
            return NULL;
        }
        r->len += (size_t)n;
    }
}

/* Writes BIG pattern bytes with `send_fn` into wfd while a thread reads rfd, and checks that
 * every byte arrived in order. */
static void check_transfer(int wfd, int rfd, int (*send_fn)(int, const void *, size_t))
{
    unsigned char *src = malloc(BIG);
    assert_non_null(src);
    for (size_t i = 0; i < BIG; i++) {
        src[i] = pattern(i);
    }
    struct reader r = {.fd = rfd, .data = malloc(BIG)};
    assert_non_null(r.data);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_all, &r), 0);
    int rc = send_fn(wfd, src, BIG);
    close(wfd);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.len, BIG);
    assert_memory_equal(r.data, src, BIG);
    close(rfd);
    free(r.data);
    free(src);
}

static void test_io_write_all_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    check_transfer(p[1], p[0], io_write_all);
}

static void test_io_send_all_socket(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    check_transfer(sv[0], sv[1], io_send_all);
}

/* A peer that closed its end gives -EPIPE, and no SIGPIPE is raised (it is blocked here, so a
 * raised one would stay pending instead of ending the test). */
static void test_io_send_all_closed_peer(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &block, &old), 0);
    int rc = io_send_all(sv[0], "hello", 5);
    assert_int_equal(sigpending(&pending), 0);
    int raised = sigismember(&pending, SIGPIPE);
    if (raised) {
        int sig;
        sigwait(&block, &sig);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(sv[0]);
    assert_int_equal(rc, -EPIPE);
    assert_int_equal(raised, 0);
}

/* Nothing to write succeeds without a call; a bad descriptor is -EBADF, a socket call on a pipe
 * -ENOTSOCK. */
static void test_io_errors(void **state)
{
    (void)state;
    assert_int_equal(io_write_all(-1, "", 0), 0);
    assert_int_equal(io_write_all(-1, "x", 1), -EBADF);
    assert_int_equal(io_send_all(-1, "x", 1), -EBADF);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(io_send_all(p[1], "x", 1), -ENOTSOCK);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_write_all_pipe),
        cmocka_unit_test(test_io_send_all_socket),
        cmocka_unit_test(test_io_send_all_closed_peer),
        cmocka_unit_test(test_io_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
