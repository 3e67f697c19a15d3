/* SPDX-License-Identifier: MIT */
/* ag_fd.c - keeping the channel's descriptor out of the program's way (see ag_fd.h).
 *
 * Daemons close every descriptor they did not open (a close() loop, close_range, closefrom) and
 * put their own files over low numbers with dup2. The channel's descriptor is the agent's, not
 * the program's: these hooks leave it open and tell the program what the kernel would tell it of
 * a descriptor it never had. Everything else is forwarded unchanged, with errno as the real
 * function left it. When the channel is taken anyway (a raw system call), the channel thread
 * notices (ag_chan_intact) and joins again.
 *
 * libunwind keeps a pipe of its own to test whether memory is readable, and when a read on it
 * fails it closes the two descriptor numbers it remembers and opens a new pipe. In a daemon that
 * closed every descriptor and reused the numbers, that close would take the program's own
 * sockets. So the pipe libunwind opens (pipe/pipe2 called from libunwind's code) is moved to high
 * descriptors and kept from the program like the channel, and a close from libunwind of a number
 * that is no longer its pipe is not carried out.
 */
#include "ag_fd.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

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
static int (*real_pipe)(int[2]);
static int (*real_pipe2)(int[2], int);

/* libunwind's code, and the pipe it opened last (-1: none). */
static uintptr_t unw_lo, unw_hi;
static _Atomic int unw_fd[2] = {-1, -1};

#define UNW_FD_HIGH 1004 /* the pipe's first number is from here, below the channel's */

/* True when the return address `ra` is in libunwind's code. */
static inline bool from_unwinder(const void *ra)
{
    uintptr_t a = (uintptr_t)ra;
    return a >= unw_lo && a < unw_hi;
}

void ag_fd_resolve(void)
{
    AG_ASSERT_GUARDED();
    real_pipe = (int (*)(int[2]))dlsym(RTLD_NEXT, "pipe");
    real_pipe2 = (int (*)(int[2], int))dlsym(RTLD_NEXT, "pipe2");
    ag_core_code_range((const void *)(uintptr_t)&unw_backtrace, &unw_lo, &unw_hi);
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

/* True when fd is the agent's (the channel) or libunwind's (its pipe): never the program's. */
static inline bool kept(int fd)
{
    return fd >= 0 &&
           (fd == chan() || fd == atomic_load(&unw_fd[0]) || fd == atomic_load(&unw_fd[1]));
}

/* A pipe libunwind just opened: both ends moved to high descriptors and remembered. */
static void keep_unwinder_pipe(int fds[2])
{
    for (int i = 0; i < 2; i++) {
        int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, UNW_FD_HIGH);
        if (moved >= 0) {
            ag_chan_close_raw(fds[i]);
            fds[i] = moved;
        }
        atomic_store(&unw_fd[i], fds[i]);
    }
}

AG_EXPORT int pipe2(int fds[2], int flags)
{
    int rc = real_pipe2 ? real_pipe2(fds, flags) : (int)syscall(SYS_pipe2, fds, flags);
    if (AG_UNLIKELY(rc == 0 && from_unwinder(__builtin_return_address(0)))) {
        int saved = errno;
        keep_unwinder_pipe(fds);
        errno = saved;
    }
    return rc;
}

AG_EXPORT int pipe(int fds[2])
{
    int rc = real_pipe ? real_pipe(fds) : (int)syscall(SYS_pipe2, fds, 0);
    if (AG_UNLIKELY(rc == 0 && from_unwinder(__builtin_return_address(0)))) {
        int saved = errno;
        keep_unwinder_pipe(fds);
        errno = saved;
    }
    return rc;
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
    if (AG_UNLIKELY(from_unwinder(__builtin_return_address(0)))) {
        for (int i = 0; i < 2; i++) {
            int mine = fd;
            if (fd >= 0 && atomic_compare_exchange_strong(&unw_fd[i], &mine, -1)) {
                return ag_chan_close_raw(fd);
            }
        }
        return 0; /* a number libunwind no longer owns: it may be the program's now */
    }
    if (AG_UNLIKELY(kept(fd))) {
        errno = EBADF; /* the program never had this descriptor */
        return -1;
    }
    return ag_chan_close_raw(fd);
}

/* Sorts the kept descriptors into k[] (ascending). Returns how many there are. */
static int kept_sorted(int k[3])
{
    int n = 0;
    int all[3] = {chan(), atomic_load(&unw_fd[0]), atomic_load(&unw_fd[1])};
    for (int i = 0; i < 3; i++) {
        if (all[i] < 0) {
            continue;
        }
        int j = n++;
        while (j > 0 && k[j - 1] > all[i]) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = all[i];
    }
    return n;
}

AG_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int k[3];
    int n = kept_sorted(k);
    if (AG_LIKELY(n == 0) || (flags & CLOSE_RANGE_CLOEXEC)) {
        return do_close_range(first, last, flags);
    }
    /* Close the gaps between the kept descriptors. */
    int rc = 0;
    unsigned from = first;
    for (int i = 0; i < n && rc == 0; i++) {
        unsigned fd = (unsigned)k[i];
        if (fd < from || fd > last) {
            continue;
        }
        if (fd > from) {
            rc = do_close_range(from, fd - 1, flags);
        }
        from = fd + 1;
        if (fd == UINT_MAX) {
            return rc;
        }
    }
    if (rc == 0 && from <= last) {
        rc = do_close_range(from, last, flags);
    }
    return rc;
}

AG_EXPORT void closefrom(int lowfd)
{
    int k[3];
    int n = kept_sorted(k);
    if (AG_LIKELY(n == 0 || k[n - 1] < lowfd)) {
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
