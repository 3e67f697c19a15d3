/* SPDX-License-Identifier: MIT */
/* ag_snap.h - building one snapshot of the live table and encoding it as protocol frames.
 *
 * A snapshot (see common/proto.h) is SNAP_BEGIN with the counters, the STACK frames not sent
 * before, one SITE per stack that has live blocks or allocated anything, one OBJECT per loaded
 * object, and SNAP_END. The frames are built in a caller-owned buffer and handed to the caller's
 * flush function whenever the next frame might not fit, and once at the end; where the bytes go
 * (the channel socket, a pipe, a test's buffer) is the caller's business. No heap: the counter
 * sums live in a scratch mapping made for the occasion and unmapped after.
 * Hook-safe; called with the recursion guard set.
 */
#ifndef AGENT_AG_SNAP_H
#define AGENT_AG_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/proto.h"
#include "ag_core.h"

/* The smallest output buffer that holds any one frame (an OBJECT with a path and a build id of
 * 65535 bytes each, the longest a "str" can be). */
#define AG_SNAP_BUF_MIN (256u << 10)

/* Sends data[0..len) on (len > 0). Must not touch the snapshot's buffer. */
typedef void (*ag_snap_flush_fn)(void *ctx, const uint8_t *data, size_t len);

struct ag_snap_out {
    struct proto_wbuf buf;  /* caller-owned memory, cap >= AG_SNAP_BUF_MIN, len 0 */
    ag_snap_flush_fn flush; /* where full buffers go */
    void *ctx;              /* passed to flush */
    uint32_t stacks_sent;   /* ids 1..stacks_sent went out before; updated as stacks are sent */
};

/* Hands what out's buffer holds to its flush function and empties the buffer. Hook-safe. */
void ag_snap_out_flush(struct ag_snap_out *out);
/* Flushes first unless `need` more bytes fit in out's buffer. Hook-safe. */
void ag_snap_out_reserve(struct ag_snap_out *out, size_t need);

/* Writes one complete snapshot of `st` to `out`, closing round `round`: blocks allocated from
 * the start of the call on are born in round + 1 (st->epoch). Stacks with ids above
 * out->stacks_sent are sent and out->stacks_sent moves up; set it to 0 for every stack. The live
 * table is copied shard by shard; when the scratch memory for the copy cannot be mapped, the
 * snapshot has no sites and its live blocks are counted as dropped. The buffer is empty on
 * return. Can't fail (write errors are the flush function's to note). Thread-safe against the
 * hooks; one snapshot at a time per `out`. Called with the guard set. */
void ag_snap_write(struct ag_state *st, struct ag_snap_out *out, uint32_t round);

#endif
