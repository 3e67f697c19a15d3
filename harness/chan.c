/* SPDX-License-Identifier: MIT */
/* chan.c - the harness's end of the control channel (see chan.h). */
#include "chan.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/io.h"

/* Appends what was read to the recording, flushed at once so a failure is noticed at the byte
 * it happened; after the first failure nothing more is written (the count says what was lost).
 */
static void record(struct chan *c, const uint8_t *buf, size_t n)
{
    c->bin_received += n;
    if (!c->bin || c->bin_errno) {
        return;
    }
    errno = 0;
    if (fwrite(buf, 1, n, c->bin) != n || fflush(c->bin) != 0) {
        c->bin_errno = errno ? errno : EIO;
        return;
    }
    c->bin_bytes += n;
    c->bin_snaps = c->st->n_snaps;
}

int chan_wait(struct chan *c, bool want_hello, size_t want_snaps, int timeout_ms, struct diag *d)
{
    double deadline = clock_s() + timeout_ms / 1000.0;
    uint8_t buf[65536];
    for (;;) {
        if (want_hello ? c->st->have_hello : c->st->n_snaps >= want_snaps) {
            return 0;
        }
        if (c->eof) {
            return -EPIPE;
        }
        double left = deadline - clock_s();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int ms = left > 0.2 ? 200 : (int)(left * 1000) + 1;
        int pr = poll(&pfd, 1, ms);
        if (pr < 0 && errno != EINTR) {
            return diag_set(d, -errno, "poll on the agent channel: %s", strerror(errno));
        }
        if (pr <= 0) {
            /* A forked child may hold the channel open: notice the target's own exit. */
            if (c->t && !target_alive(c->t)) {
                pfd.revents = 0;
                if (poll(&pfd, 1, 0) <= 0) {
                    c->eof = true;
                }
            }
            continue;
        }
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            c->eof = true;
            continue;
        }
        int rc = snap_stream_feed(c->st, buf, (size_t)r, d);
        record(c, buf, (size_t)r);
        if (rc < 0) {
            return rc;
        }
    }
}

int chan_snapshot(struct chan *c, uint32_t round, int timeout_ms, struct diag *d)
{
    uint8_t frame[PROTO_REQ_SNAPSHOT_SIZE];
    proto_encode_req_snapshot(frame, round);
    if (io_send_all(c->fd, frame, sizeof(frame)) != 0) {
        return -EPIPE;
    }
    return chan_wait(c, false, c->st->n_snaps + 1, timeout_ms, d);
}

/* Appends the REC_END mark, dropping the bytes of an incomplete frame first. Returns 0 or sets
 * c->bin_errno. */
static void write_end_mark(struct chan *c)
{
    uint64_t keep = c->st->offset; /* bytes of complete frames */
    if (keep < c->bin_bytes) {
        int fd = fileno(c->bin);
        if (fflush(c->bin) != 0 || ftruncate(fd, (off_t)keep) != 0 || fseek(c->bin, 0, SEEK_END)) {
            c->bin_errno = errno ? errno : EIO;
            return;
        }
    }
    uint8_t frame[PROTO_HEADER_SIZE + 16];
    struct proto_wbuf b = {.data = frame, .cap = sizeof(frame)};
    proto_frame_begin(&b, PROTO_REC_END);
    proto_put_u64(&b, c->bin_received);
    proto_put_u32(&b, (uint32_t)c->st->n_snaps);
    proto_put_u32(&b, 0);
    proto_frame_end(&b);
    errno = 0;
    if (fwrite(frame, 1, b.len, c->bin) != b.len || fflush(c->bin) != 0 ||
        fsync(fileno(c->bin)) != 0) {
        c->bin_errno = errno ? errno : EIO;
    }
}

/* The last round among the first `n` complete snapshots (0 when none). */
static uint32_t last_round(const struct snap_stream *st, size_t n)
{
    uint32_t r = 0;
    for (size_t i = 0; i < n && i < st->n_snaps; i++) {
        if (st->snaps[i].round > r) {
            r = st->snaps[i].round;
        }
    }
    return r;
}

int chan_close_recording(struct chan *c, const char *name, struct diag *d)
{
    if (!c->bin) {
        return 0;
    }
    if (!c->bin_errno) {
        write_end_mark(c);
    }
    struct stat sb;
    uint64_t on_disk = fstat(fileno(c->bin), &sb) == 0 ? (uint64_t)sb.st_size : c->bin_bytes;
    if (fclose(c->bin) != 0 && !c->bin_errno) {
        c->bin_errno = errno ? errno : EIO;
    }
    c->bin = NULL;
    if (!c->bin_errno) {
        return 0;
    }
    size_t missing = c->st->n_snaps - c->bin_snaps;
    return diag_set(d, -c->bin_errno,
                    "%s: writing the recording failed (%s): the file holds %llu of the %llu "
                    "bytes the agent sent: %zu complete snapshot%s (through round %u), then a cut "
                    "and no end mark; %zu snapshot%s are not in it. The figures of this run "
                    "come from all of them, but 'leakcheck analyze' of the file sees "
                    "only what it holds; free some space and run again",
                    name, strerror(c->bin_errno), (unsigned long long)on_disk,
                    (unsigned long long)c->bin_received, c->bin_snaps, c->bin_snaps == 1 ? "" : "s",
                    last_round(c->st, c->bin_snaps), missing, missing == 1 ? "" : "s");
}
