/* SPDX-License-Identifier: MIT */
/* ag_chan.h - the agent's side of the control channel.
 *
 * The channel thread blocks every signal and keeps the recursion guard set for its whole life,
 * so nothing it does is counted. It answers each PROTO_REQ_SNAPSHOT with one complete snapshot
 * (see common/proto.h), written with send(MSG_NOSIGNAL) so a vanished harness can never raise
 * SIGPIPE in the target. When the harness closes the channel, the agent stops tracking.
 */
#ifndef AGENT_AG_CHAN_H
#define AGENT_AG_CHAN_H

#include "ag_core.h"

/* Sends HELLO. Returns 0 or a negative errno. Called once at start-up, guard set. */
int ag_chan_hello(struct ag_state *st);

/* Starts the channel thread. Returns 0 or a negative errno. Called once, guard set. */
int ag_chan_start(struct ag_state *st);

/* Writes one complete snapshot (every stack, not only new ones) to `fd` (socket, pipe or
 * file), on the calling thread. The caller sets the guard. Returns 0, -ENOMEM or -EIO. */
int ag_chan_snapshot_to(struct ag_state *st, int fd, uint32_t round);

#endif
