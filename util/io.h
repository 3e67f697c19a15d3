/* SPDX-License-Identifier: MIT */
/* io.h - whole writes on descriptors: loops over short writes and EINTR.
 *
 * The one write loop of the harness side (the agent has its own, hook-safe one). Sockets are
 * written with MSG_NOSIGNAL, so a peer that went away gives -EPIPE instead of killing the
 * harness with SIGPIPE. No globals; thread-safe.
 */
#ifndef UTIL_IO_H
#define UTIL_IO_H

#include <stddef.h>

/* Writes all `n` bytes to `fd` with write(2). Returns 0, or -errno (-EIO when write returned 0);
 * on failure an unknown part may have been written. */
int io_write_all(int fd, const void *p, size_t n);

/* Sends all `n` bytes on socket `fd` with send(2) and MSG_NOSIGNAL. Returns 0 or -errno
 * (-EPIPE when the peer is gone). */
int io_send_all(int fd, const void *p, size_t n);

#endif
