/* SPDX-License-Identifier: MIT */
/* ag_fd.c - keeping the channel's descriptor out of the program's way (see ag_fd.h).
 *
 * Daemons close every descriptor they did not open (a close() loop, close_range, closefrom) and
 * put their own files over low numbers with dup2. The channel's descriptor is the agent's, not
 * the program's: these hooks leave it open and tell the program what the kernel would tell it of
 * a descriptor it never had. Everything else is forwarded unchanged, with errno as the real
 * function left it. When the channel is taken anyway (a raw system call), the channel thread
 * notices (ag_chan_intact) and joins again.
 */
#include "ag_fd.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ag_chan.h"
#include "ag_core.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The real functions, resolved once at start-up (before that, system calls stand in). */
static int (*real_close)(int);
static int (*real_close_range)(unsigned, unsigned, int);
static void (*real_closefrom)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);

void ag_fd_resolve(void)
{
    AG_ASSERT_GUARDED();
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real_close_range = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
    real_closefrom = (void (*)(int))dlsym(RTLD_NEXT, "closefrom");
    real_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
    real_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
}

int ag_chan_close_raw(int fd)
{
    return real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
}

/* The channel's descriptor, or -1. */
static inline int chan(void)
{
    return atomic_load_explicit(&ag_state.chan_fd, memory_order_relaxed);
}

static int do_close_range(unsigned first, unsigned last, int flags)
{
    if (real_close_range) {
        return real_close_range(first, last, flags);
    }
    return (int)syscall(SYS_close_range, first, last, flags);
}

AG_EXPORT int close(int fd)
{
    if (AG_UNLIKELY(fd >= 0 && fd == chan())) {
        errno = EBADF; /* the program never had this descriptor */
        return -1;
    }
    return ag_chan_close_raw(fd);
}

AG_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int c = chan();
    if (AG_LIKELY(c < 0 || (unsigned)c < first || (unsigned)c > last) ||
        (flags & CLOSE_RANGE_CLOEXEC)) {
        return do_close_range(first, last, flags);
    }
    /* Close around the channel: [first, c) and (c, last]. */
    int rc = 0;
    if ((unsigned)c > first) {
        rc = do_close_range(first, (unsigned)c - 1, flags);
    }
    if (rc == 0 && (unsigned)c < last) {
        rc = do_close_range((unsigned)c + 1, last, flags);
    }
    return rc;
}

AG_EXPORT void closefrom(int lowfd)
{
    int c = chan();
    if (AG_LIKELY(c < 0 || c < lowfd)) {
        if (real_closefrom) {
            real_closefrom(lowfd);
        } else {
            do_close_range(lowfd < 0 ? 0 : (unsigned)lowfd, UINT_MAX, 0);
        }
        return;
    }
    int saved = errno;
    close_range(lowfd < 0 ? 0 : (unsigned)lowfd, UINT_MAX, 0);
    errno = saved;
}

/* The program is about to put another file at the channel's number: the channel moves first
 * (close-on-exec, like the original), and the channel thread follows ag_state.chan_fd. */
static void move_channel_from(int newfd)
{
    int c = chan();
    if (c < 0 || newfd != c) {
        return;
    }
    int moved = fcntl(c, F_DUPFD_CLOEXEC, c + 1);
    if (moved >= 0) {
        atomic_store(&ag_state.chan_fd, moved);
    } else {
        atomic_store(&ag_state.chan_fd, -1); /* nowhere to go: the channel is given up */
    }
}

AG_EXPORT int dup2(int oldfd, int newfd)
{
    if (AG_UNLIKELY(newfd >= 0 && newfd == chan() && oldfd != newfd)) {
        int saved = errno;
        move_channel_from(newfd);
        errno = saved;
    }
    return real_dup2 ? real_dup2(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);
}

AG_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (AG_UNLIKELY(newfd >= 0 && newfd == chan() && oldfd != newfd)) {
        int saved = errno;
        move_channel_from(newfd);
        errno = saved;
    }
    return real_dup3 ? real_dup3(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);
}
