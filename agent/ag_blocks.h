/* SPDX-License-Identifier: MIT */
/* ag_blocks.h - the live block list, for the harness's retainer scan (harness/retain.h).
 *
 * Answers REQ_BLOCKS (common/proto.h): BLOCKS_BEGIN (the channel thread's tid), one
 * BLOCKS_OBJECT per loaded object (its writable ranges, its static TLS block's offset from the
 * thread pointer, the agent's own object flagged), BLOCKS frames with every live block (and
 * every anonymous mapping or break growth of the program's, ag_region.h, as a block), and
 * BLOCKS_END. The table is copied shard by shard into a scratch mapping (no frame is sent while
 * a shard is locked), then encoded into the caller's buffer and flushed as it fills; the scratch
 * is unmapped before returning. No heap. Called by the channel thread with the guard set.
 */
#ifndef AGENT_AG_BLOCKS_H
#define AGENT_AG_BLOCKS_H

#include "ag_core.h"
#include "ag_snap.h"

/* Writes the whole answer to REQ_BLOCKS to `out` (buffer at least AG_SNAP_BUF_MIN bytes, empty;
 * empty again on return). When the copy of the table can't be mapped, BLOCKS_END says
 * PROTO_BLOCKS_PARTIAL and no block is sent. Can't fail (write errors are the flush function's
 * to note). Thread-safe against the hooks. */
void ag_blocks_write(struct ag_state *st, struct ag_snap_out *out);

#endif
