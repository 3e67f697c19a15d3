/* SPDX-License-Identifier: MIT */
/* io.c - whole writes over short writes and EINTR (see io.h). */
#include "io.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

/* The loop behind both calls: `sock` selects send(2) with MSG_NOSIGNAL over write(2). */
static int write_loop(int fd, const void *p, size_t n, bool sock)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = sock ? send(fd, c, n, MSG_NOSIGNAL) : write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -errno;
        }
        if (w == 0) {
            return -EIO;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int io_write_all(int fd, const void *p, size_t n)
{
    return write_loop(fd, p, n, false);
}

int io_send_all(int fd, const void *p, size_t n)
{
    return write_loop(fd, p, n, true);
}
