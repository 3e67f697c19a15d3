/* SPDX-License-Identifier: MIT */
/* chan.c - the harness's end of the control channel (see chan.h). */
#include "chan.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/io.h"

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
        if (c->bin) {
            fwrite(buf, 1, (size_t)r, c->bin);
        }
        int rc = snap_stream_feed(c->st, buf, (size_t)r, d);
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
