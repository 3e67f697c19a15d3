/* SPDX-License-Identifier: MIT */
/* ag_chan.c - the channel thread: requests in, snapshots (and block lists) out.
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
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/proto.h"
#include "ag_blocks.h"
#include "ag_mem.h"
#include "ag_snap.h"

#define OUT_CAP     (1u << 20)
#define REQUEST_MAX 64u /* largest request payload read */
#define FD_HIGH                                                                                    \
    1000              /* the channel moves to the lowest free descriptor from here (or below       \
                         the descriptor limit), away from the ones the program uses */
#define RECONNECTS 8u /* times a serve loop joins again after its channel was taken */

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

int ag_chan_hello(struct ag_state *st, uint32_t flags)
{
    uint8_t buf[8400];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe));
    if (n < 0) {
        n = 0;
    }
    char cmd[4096];
    ssize_t cn = 0;
    int cfd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (cfd >= 0) {
        cn = read(cfd, cmd, sizeof(cmd));
        ag_chan_close_raw(cfd);
    }
    if (cn < 0) {
        cn = 0;
    }
    static const char version[] = LEAKCHECK_VERSION;
    if (st->sock_len > 0) {
        proto_frame_begin(&b, PROTO_AUTH);
        proto_put_bytes(&b, st->key, sizeof(st->key));
        proto_frame_end(&b);
    }
    proto_frame_begin(&b, PROTO_HELLO);
    proto_put_u32(&b, (uint32_t)getpid());
    proto_put_u32(&b, PROTO_HELLO_UNWIND | flags);
    proto_put_u64(&b, PROTO_CANARY_SIZE);
    proto_put_str(&b, version, sizeof(version) - 1);
    proto_put_str(&b, exe, (size_t)n);
    /* A forked child names the process that forked it, which may already be gone. */
    int ppid = (flags & PROTO_HELLO_FORKED) && st->forking_pid > 0 ? st->forking_pid : getppid();
    proto_put_u32(&b, (uint32_t)ppid);
    proto_put_str(&b, cmd, (size_t)cn);
    proto_frame_end(&b);
    if (b.overflow) {
        return -ENOBUFS;
    }
    return send_all(st->chan_fd, b.data, b.len);
}

void ag_chan_adopt(struct ag_state *st, int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) == 0) {
        st->chan_dev = (uint64_t)sb.st_dev;
        st->chan_ino = (uint64_t)sb.st_ino;
    }
    st->chan_fd = fd;
}

bool ag_chan_intact(const struct ag_state *st)
{
    int fd = st->chan_fd;
    struct stat sb;
    return fd >= 0 && fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
           (uint64_t)sb.st_ino == st->chan_ino && (uint64_t)sb.st_dev == st->chan_dev;
}

/* Moves fd to a high descriptor (close-on-exec), away from the low numbers programs close and
 * reuse. Returns the descriptor to use (fd itself when it can't move). */
static int move_high(int fd)
{
    struct rlimit rl;
    long high = FD_HIGH;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur - 16 < high) {
        high = (long)rl.rlim_cur - 16;
    }
    if (high <= fd) {
        return fd;
    }
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, (int)high);
    if (moved < 0) {
        return fd;
    }
    ag_chan_close_raw(fd);
    return moved;
}

int ag_chan_connect(struct ag_state *st, uint32_t flags)
{
    if (st->sock_len == 0 || st->sock_len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        return -ENOTCONN;
    }
    /* Non-blocking while connecting: when the harness's queue of joins is full (a fork storm
     * while it drives a round), the process runs untracked rather than wait in its fork. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path + 1, st->sock_name, st->sock_len); /* sun_path[0] = 0: abstract */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + st->sock_len);
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&sa, len);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        rc = -errno;
        ag_chan_close_raw(fd);
        return rc;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    ag_chan_adopt(st, move_high(fd));
    rc = ag_chan_hello(st, flags);
    if (rc < 0) {
        st->chan_fd = -1;
        ag_chan_close_raw(st->chan_fd);
        st->chan_fd = -1;
    }
    return rc;
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

/* Answers requests on the channel until it ends, breaks, or stops being this agent's socket.
 * Returns true when the channel was taken over by the program (the caller may join again). */
static bool serve_until_lost(struct ag_state *st, struct ag_snap_out *out, struct chan *c)
{
    for (;;) {
        struct proto_header h;
        uint8_t payload[REQUEST_MAX];
        if (!ag_chan_intact(st)) {
            return true;
        }
        c->fd = st->chan_fd;
        if (read_request(c->fd, &h, payload) < 0) {
            return !ag_chan_intact(st);
        }
        if (h.type == PROTO_REQ_BLOCKS) {
            if (!ag_chan_intact(st)) {
                return true;
            }
            ag_blocks_write(st, out);
            if (c->failed) {
                return !ag_chan_intact(st);
            }
            continue;
        }
        if (h.type != PROTO_REQ_SNAPSHOT) {
            continue;
        }
        uint32_t round;
        if (proto_decode_req_snapshot(payload, h.length, &round) < 0) {
            return false;
        }
        /* Never write into a descriptor that is no longer the channel. */
        if (!ag_chan_intact(st)) {
            return true;
        }
        ag_snap_write(st, out, round);
        if (c->failed) {
            return !ag_chan_intact(st);
        }
    }
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
    for (unsigned tries = 0; serve_until_lost(st, &out, &c) && tries < RECONNECTS; tries++) {
        /* The program closed or reused the channel's descriptor behind the agent's back: join
         * again on a new connection, which starts a new stream (every stack sent again). */
        st->chan_fd = -1;
        if (st->sock_len == 0 || ag_chan_connect(st, PROTO_HELLO_RECONNECT) < 0) {
            break;
        }
        c = (struct chan){.fd = st->chan_fd};
        out.stacks_sent = 0;
    }
    /* The harness is gone: nobody will ask again, so stop paying for tracking. */
    atomic_store(&st->mode, AG_MODE_PASS);
}

/* Thread body: the serve loop, under a name of its own (so the harness can leave its CPU time
 * out of the program's). */
static void *serve_thread(void *arg)
{
    prctl(PR_SET_NAME, PROTO_THREAD_NAME, 0, 0, 0);
    ag_chan_serve(arg);
    return NULL;
}

int ag_chan_start(struct ag_state *st)
{
    return ag_thread_start(serve_thread, st, 0);
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
