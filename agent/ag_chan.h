/* SPDX-License-Identifier: MIT */
/* ag_chan.h - the agent's side of the control channel.
 *
 * The channel thread blocks every signal and keeps the recursion guard set for its whole life,
 * so nothing it does is counted. It answers each PROTO_REQ_SNAPSHOT with one complete snapshot
 * (ag_snap.h), written with send(MSG_NOSIGNAL) so a vanished harness can never raise SIGPIPE in
 * the target. When the harness closes the channel, the agent stops tracking.
 */
#ifndef AGENT_AG_CHAN_H
#define AGENT_AG_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "ag_core.h"

/* Sends AUTH (when joining a harness's socket) and HELLO with PROTO_HELLO_* `flags` on
 * st->chan_fd. Returns 0 or a negative errno. Guard set. */
int ag_chan_hello(struct ag_state *st, uint32_t flags);

/* Joins the harness: connects to the abstract socket st->sock_name, moves the connection to a
 * high close-on-exec descriptor, notes its identity, sets st->chan_fd and says AUTH and HELLO.
 * Returns 0, or a negative errno (st->chan_fd is then -1 and nothing is left open). Uses system
 * calls only (no heap, no locks): safe in a fork handler. Guard set. */
int ag_chan_connect(struct ag_state *st, uint32_t flags);

/* Makes fd the channel (st->chan_fd) and notes its identity. Can't fail. */
void ag_chan_adopt(struct ag_state *st, int fd);

/* True while st->chan_fd is still the socket the agent opened (not closed behind its back and
 * reused by the program). Can't fail. Hook-safe. */
bool ag_chan_intact(const struct ag_state *st);

/* close(2) without the agent's protection of its own descriptor (ag_fd.c). Hook-safe. */
int ag_chan_close_raw(int fd);

/* Starts the channel thread (ag_chan_serve, detached, every signal blocked). Returns 0 or a
 * negative errno. Called once, guard set. */
int ag_chan_start(struct ag_state *st);

/* The channel thread's loop, on the calling thread: reads requests from st->chan_fd and answers
 * each snapshot request there (stacks sent once over the channel's life; other request types
 * are skipped). Returns when the channel ends, a request is malformed or larger than any request
 * the protocol has, or a write fails; the agent is then switched to pass-through. Can't fail.
 * Sets the guard for the calling thread and leaves it set. */
void ag_chan_serve(struct ag_state *st);

/* Writes one complete snapshot (every stack, not only new ones) to `fd` (socket, pipe or
 * file), on the calling thread. Returns 0, -ENOMEM (no buffer) or -EIO (a write failed). Called
 * with the guard set. */
int ag_chan_snapshot_to(struct ag_state *st, int fd, uint32_t round);

#endif
