/* SPDX-License-Identifier: MIT */
/* ag_fd_test.c - the descriptor hooks keep the channel open: close() of its number says EBADF,
 * close_range() and closefrom() close everything around it, dup2()/dup3() onto it move the
 * channel first; every other descriptor is treated as the kernel would. The hooks in ag_fd.o are
 * this program's close, close_range, closefrom, dup2 and dup3 (as they are the target's). */
#include "ag_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "ag_chan.h"
#include "ag_core.h"

/* dup3(2) past the hooks. */
static int syscall_dup3_for_test(int oldfd, int newfd)
{
    return (int)syscall(SYS_dup3, oldfd, newfd, O_CLOEXEC);
}

/* True when fd is open. */
static bool is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* Five descriptors in a row (dups of /dev/null) starting at the lowest free one, the middle
 * one replaced by a socket made the channel. Returns the first. */
static int row_with_channel(int *sv_other)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(base >= 0);
    int want = 0;
    for (int i = 1; i < 5; i++) {
        want = fcntl(base, F_DUPFD_CLOEXEC, base + i);
        assert_int_equal(want, base + i);
    }
    /* Put the socket at base + 2 and make it the channel. */
    assert_int_equal(syscall_dup3_for_test(sv[0], base + 2), base + 2);
    ag_chan_close_raw(sv[0]);
    ag_chan_adopt(&ag_state, base + 2);
    *sv_other = sv[1];
    return base;
}

static void test_fd_close_spares_the_channel(void **state)
{
    (void)state;
    ag_guard = 1;
    ag_fd_resolve();
    ag_guard = 0;
    int other;
    int base = row_with_channel(&other);
    int c = base + 2;
    errno = 0;
    assert_int_equal(close(c), -1);
    assert_int_equal(errno, EBADF);
    assert_true(is_open(c));
    assert_true(ag_chan_intact(&ag_state));
    assert_int_equal(close(base), 0); /* anything else closes */
    assert_false(is_open(base));

    /* close_range over the channel closes both sides of it and leaves it. */
    assert_int_equal(close_range((unsigned)base + 1, (unsigned)base + 4, 0), 0);
    assert_false(is_open(base + 1));
    assert_false(is_open(base + 3));
    assert_false(is_open(base + 4));
    assert_true(is_open(c));
    assert_true(ag_chan_intact(&ag_state));
    ag_state.chan_fd = -1;
    assert_int_equal(close(c), 0); /* no longer the channel: an ordinary descriptor */
    close(other);
}

static void test_fd_closefrom_spares_the_channel(void **state)
{
    (void)state;
    int other;
    int base = row_with_channel(&other);
    int c = base + 2;
    closefrom(base);
    for (int i = 0; i < 5; i++) {
        assert_true(i == 2 ? is_open(base + i) : !is_open(base + i));
    }
    assert_true(ag_chan_intact(&ag_state));
    ag_state.chan_fd = -1;
    close(c);
}

static void test_fd_dup2_onto_the_channel_moves_it(void **state)
{
    (void)state;
    int other;
    int base = row_with_channel(&other);
    int c = base + 2;
    /* The program puts its /dev/null over the channel's number: it gets that number, and the
     * channel lives on elsewhere, still the same socket, still close-on-exec. */
    assert_int_equal(dup2(base, c), c);
    int moved = ag_state.chan_fd;
    assert_true(moved >= 0 && moved != c);
    assert_true(ag_chan_intact(&ag_state));
    assert_true(fcntl(moved, F_GETFD) & FD_CLOEXEC);
    struct stat sb;
    assert_int_equal(fstat(c, &sb), 0);
    assert_false(S_ISSOCK(sb.st_mode));
    /* dup3 does the same. */
    assert_int_equal(dup3(base, moved, O_CLOEXEC), moved);
    assert_true(ag_state.chan_fd != moved);
    assert_true(ag_chan_intact(&ag_state));
    int last = ag_state.chan_fd;
    ag_state.chan_fd = -1;
    for (int i = 0; i < 5; i++) {
        close(base + i);
    }
    close(moved);
    close(last);
    close(other);
}

/* A descriptor closed behind the agent's back and reused for another file is no longer the
 * channel. */
static void test_fd_taken_channel_is_noticed(void **state)
{
    (void)state;
    int other;
    int base = row_with_channel(&other);
    int c = base + 2;
    assert_true(ag_chan_intact(&ag_state));
    ag_chan_close_raw(c);
    assert_false(ag_chan_intact(&ag_state));
    assert_int_equal(syscall_dup3_for_test(base, c), c); /* reused for /dev/null */
    assert_false(ag_chan_intact(&ag_state));
    ag_state.chan_fd = -1;
    for (int i = 0; i < 5; i++) {
        close(base + i);
    }
    close(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_close_spares_the_channel),
        cmocka_unit_test(test_fd_closefrom_spares_the_channel),
        cmocka_unit_test(test_fd_dup2_onto_the_channel_moves_it),
        cmocka_unit_test(test_fd_taken_channel_is_noticed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
