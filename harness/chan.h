/* SPDX-License-Identifier: MIT */
/* chan.h - the harness's end of the agent's control channel.
 *
 * Reads the channel under poll() with a deadline for every wait; each byte read is fed to the
 * snapshot parser (analysis/snap.h) and appended to the recording (snapshots.bin), so a live run
 * and `leakcheck analyze` of its recording see the same bytes. Requests are encoded by
 * common/proto.h. Not thread-safe per channel.
 */
#ifndef HARNESS_CHAN_H
#define HARNESS_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../analysis/snap.h"
#include "../util/diag.h"
#include "target.h"

struct chan {
    int fd;                 /* the socket (borrowed from the target) */
    struct snap_stream *st; /* the parser fed with every byte (borrowed) */
    FILE *bin;              /* the recording, or NULL (borrowed) */
    struct target *t;       /* whose exit ends a wait (borrowed), or NULL: only EOF does */
    bool eof;               /* the channel ended */
    /* the recording's account (chan_close_recording() says what a failed write lost) */
    uint64_t bin_bytes;    /* bytes written to it and flushed */
    uint64_t bin_received; /* bytes read from the agent */
    size_t bin_snaps;      /* complete snapshots among the bytes written */
    int bin_errno;         /* the first write error, or 0: nothing is written after it */
};

/* Reads until the HELLO arrived (want_hello) or `want_snaps` snapshots are complete, the
 * deadline passes, or the channel ends. Returns 0, -ETIMEDOUT, -EPIPE (end of the channel or the
 * target gone) or -EBADMSG (malformed, `d` filled). */
int chan_wait(struct chan *c, bool want_hello, size_t want_snaps, int timeout_ms, struct diag *d);

/* Sends REQ_SNAPSHOT{round} and waits for its SNAP_END. Returns as chan_wait(); -EPIPE when the
 * request could not be sent. */
int chan_snapshot(struct chan *c, uint32_t round, int timeout_ms, struct diag *d);

/* Ends the recording `c->bin` named `name` in messages: appends the REC_END mark (after cutting
 * off the bytes of a frame the agent left incomplete) and closes it; c->bin is NULL after. When
 * a write failed (now or during the run), fails with a message saying why, how many bytes and
 * complete snapshots the file holds, and how many bytes it lost. Returns 0, or -errno with `d`
 * filled. A NULL c->bin is a no-op. */
int chan_close_recording(struct chan *c, const char *name, struct diag *d);

#endif
