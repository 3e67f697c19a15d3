/* SPDX-License-Identifier: MIT */
/* ag_chan.c - the channel thread: requests in, snapshots out.
 *
 * Snapshots are built by ag_snap.c in one 1 MiB buffer mapped per channel; this file moves the
 * bytes: reads length-framed requests, and writes each full buffer with send(MSG_NOSIGNAL) (or
 * write(2) on a pipe or file), looping on EINTR and short writes. After a write error nothing
 * more is written to that descriptor.
 */
#include "ag_chan.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/proto.h"
#include "ag_mem.h"
#include "ag_snap.h"

#define OUT_CAP     (1u << 20)
#define REQUEST_MAX 64u /* largest request payload read */

/* One destination of snapshots. */
struct chan {
    int fd;
    bool failed; /* a write failed: stop writing */
};

/* Writes all of buf, looping on EINTR and short writes. send(MSG_NOSIGNAL) on a socket, so a
 * vanished reader never raises SIGPIPE; write(2) on anything else (a pipe or file given to
 * ag_chan_snapshot_to). Returns 0 or a negative errno. */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) {
            n = write(fd, buf, len);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ag_snap_flush_fn: sends a full buffer to the channel's descriptor, unless it already failed. */
static void chan_flush(void *ctx, const uint8_t *data, size_t len)
{
    struct chan *c = ctx;
    if (!c->failed && send_all(c->fd, data, len) < 0) {
        c->failed = true;
    }
}

/* Reads exactly len bytes. Returns 0, -EPIPE at end of stream, or a negative errno. */
static int read_all(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n == 0) {
            return -EPIPE;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int ag_chan_hello(struct ag_state *st)
{
    uint8_t buf[4200];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe));
    if (n < 0) {
        n = 0;
    }
    static const char version[] = LEAKCHECK_VERSION;
    proto_frame_begin(&b, PROTO_HELLO);
    proto_put_u32(&b, (uint32_t)getpid());
    proto_put_u32(&b, PROTO_HELLO_UNWIND);
    proto_put_u64(&b, PROTO_CANARY_SIZE);
    proto_put_str(&b, version, sizeof(version) - 1);
    proto_put_str(&b, exe, (size_t)n);
    proto_frame_end(&b);
    if (b.overflow) {
        return -ENOBUFS;
    }
    return send_all(st->chan_fd, b.data, b.len);
}

/* Reads one request frame into payload[0..REQUEST_MAX). Returns 0 with *h filled, or a negative
 * errno: the channel ended or broke (-EPIPE, ...) or the frame is corrupt or too big
 * (-EBADMSG). */
static int read_request(int fd, struct proto_header *h, uint8_t *payload)
{
    uint8_t hdr[PROTO_HEADER_SIZE];
    int rc = read_all(fd, hdr, sizeof(hdr));
    if (rc < 0) {
        return rc;
    }
    if (proto_header_parse(hdr, h) < 0 || h->length > REQUEST_MAX) {
        return -EBADMSG;
    }
    return read_all(fd, payload, h->length);
}

void ag_chan_serve(struct ag_state *st)
{
    ag_guard = 1;
    struct chan c = {.fd = st->chan_fd};
    struct ag_snap_out out = {.flush = chan_flush, .ctx = &c};
    out.buf.data = ag_mem_map(OUT_CAP);
    out.buf.cap = OUT_CAP;
    if (!out.buf.data) {
        atomic_store(&st->mode, AG_MODE_PASS);
        return;
    }
    for (;;) {
        struct proto_header h;
        uint8_t payload[REQUEST_MAX];
        if (read_request(st->chan_fd, &h, payload) < 0) {
            break;
        }
        if (h.type != PROTO_REQ_SNAPSHOT) {
            continue;
        }
        uint32_t round;
        if (proto_decode_req_snapshot(payload, h.length, &round) < 0) {
            break;
        }
        ag_snap_write(st, &out, round);
        if (c.failed) {
            break;
        }
    }
    /* The harness is gone: nobody will ask again, so stop paying for tracking. */
    atomic_store(&st->mode, AG_MODE_PASS);
}

/* Thread body: the serve loop. */
static void *serve_thread(void *arg)
{
    ag_chan_serve(arg);
    return NULL;
}

int ag_chan_start(struct ag_state *st)
{
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, serve_thread, st);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -rc;
}

int ag_chan_snapshot_to(struct ag_state *st, int fd, uint32_t round)
{
    struct chan c = {.fd = fd};
    struct ag_snap_out out = {.flush = chan_flush, .ctx = &c};
    out.buf.data = ag_mem_map(OUT_CAP);
    out.buf.cap = OUT_CAP;
    if (!out.buf.data) {
        return -ENOMEM;
    }
    ag_snap_write(st, &out, round);
    ag_mem_unmap(out.buf.data, OUT_CAP);
    return c.failed ? -EIO : 0;
}
