/* SPDX-License-Identifier: MIT */
/* chan.h - the harness's end of the agents' channels: one listening socket, one connection per
 * process of the target's tree.
 *
 * The socket lives in the abstract namespace under a random name (no file anyone could open),
 * and a process joins only by sending the run's random key first (AUTH), from the harness's own
 * user, as a descendant of the harness (its parent chain reaches the harness, which is a child
 * subreaper so daemons that double-fork stay its descendants). The name and key reach the tree
 * through the environment (chan_env). A process that can't join is recorded as untracked.
 *
 * Everything read is recorded in the harness's frames (common/proto.h REC_*) and the same bytes
 * are fed to the recording parser (analysis/rec.h), so a live run and `leakcheck analyze` of
 * snapshots.bin see the same thing. Every wait is poll()-based with a deadline. Not thread-safe.
 */
#ifndef HARNESS_CHAN_H
#define HARNESS_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../analysis/rec.h"
#include "../util/diag.h"

struct chan_conn;

struct chan {
    int listen_fd;
    char name[64]; /* abstract socket name (no leading NUL) */
    char key_hex[64];
    uint8_t key[16];
    struct rec *rec; /* the parser fed with every recorded byte (borrowed) */
    FILE *bin;       /* the recording, or NULL (borrowed) */
    int bin_errno;   /* the first write error, or 0: nothing is written after it */
    /* the recording's account (chan_close_recording() says what a failed write lost) */
    uint64_t bin_bytes;    /* bytes written to it */
    uint64_t bin_received; /* bytes of the harness's frames made (written or not) */
    size_t bin_snaps;      /* complete snapshots the file holds (set at a failure and at the end) */
    pid_t main_pid;        /* the program the harness started (0 until known) */
    uint32_t round;        /* the last round finished (recorded with joins, ends and untracked) */
    size_t n_conns;
    struct chan_conn *conns;
    size_t cap_conns;
};

/* Opens the listening socket with a fresh name and key, and makes the harness a child
 * subreaper. Returns 0 or a negative errno with `d` filled. */
int chan_open(struct chan *c, struct rec *rec, FILE *bin, struct diag *d);

/* Closes every connection (recording how each process ended) and the socket. Can't fail. */
void chan_close(struct chan *c);

/* The two environment entries ("LEAKCHECK_SOCK=...", "LEAKCHECK_KEY=...") that make a process
 * join this channel, into out[0] and out[1] (each cap bytes). Can't fail. */
void chan_env(const struct chan *c, char out[2][160]);

/* Serves the channel until a process with pid `pid` has said HELLO (any program image), the
 * deadline passes, or `alive` (when not NULL) says the tree is gone. Returns 0, -ETIMEDOUT,
 * -EPIPE or a negative errno with `d` filled. */
int chan_wait_hello(struct chan *c, pid_t pid, int timeout_ms, bool (*alive)(void *), void *arg,
                    struct diag *d);

/* Asks every joined process for the snapshot closing round `round` and serves the channel until
 * each has answered or ended (processes that join meanwhile are asked too). Returns 0; -EPIPE
 * when no process answered; -EBADMSG when none answered and one sent malformed data (`d` says
 * what); -ETIMEDOUT (`d` names the processes that did not answer in time). */
int chan_snapshot(struct chan *c, uint32_t round, int timeout_ms, struct diag *d);

/* Serves the channel once without waiting, then for up to ms milliseconds (joins, data, ends).
 * Returns 0 or a negative errno. */
int chan_pump(struct chan *c, int ms, struct diag *d);

/* Records every process of the target's tree that is running without having joined: the
 * main program's descendants, and orphans the harness adopted. Returns how many. Can't fail. */
size_t chan_scan_untracked(struct chan *c);

/* The running processes of the target's tree (the harness's descendants: harness/tree.h),
 * joined or not: their pids into out[0..cap), returns how many there are. Can't fail. */
size_t chan_tree_pids(const struct chan *c, pid_t *out, size_t cap);

/* Processes whose channel is open now (a channel whose process has ended counts as closed).
 * Can't fail. */
size_t chan_live(struct chan *c);

/* A process whose channel is open. */
struct chan_peer {
    pid_t pid;
    uint32_t proc; /* its index in the recording */
};

/* The processes whose channel is open now, into out[0..cap), in the order they joined. Returns
 * how many there are. Can't fail. */
size_t chan_peers(const struct chan *c, struct chan_peer *out, size_t cap);

/* Called for each frame of an answer: type, payload. Returns 0, or a negative errno to stop. */
typedef int (*chan_frame_fn)(void *ctx, uint16_t type, const uint8_t *payload, size_t len);

/* Sends REQ_BLOCKS to process `proc` and hands each frame of the answer to `fn`, up to and
 * including BLOCKS_END; these frames are not recorded (the channel must be between snapshots).
 * Returns 0; -EPIPE when the channel is closed; -ETIMEDOUT; the callback's error; -EBADMSG for a
 * frame that is not part of the answer (`d` says what). After a callback's error the rest of the
 * answer is read and dropped; after any other error the connection is closed (the stream can't
 * be trusted to be at a frame's start). */
int chan_blocks(struct chan *c, uint32_t proc, chan_frame_fn fn, void *ctx, int timeout_ms,
                struct diag *d);

/* Writes one harness frame (REC_*) to the recording and feeds it to the parser. Can't fail (a
 * write error is kept for chan_close_recording). */
void chan_record(struct chan *c, const uint8_t *frame, size_t len);

/* Ends the recording `c->bin` named `name` in messages: appends the REC_CLOSE mark and closes
 * it; c->bin is NULL after. When a write failed (now or during the run), fails with a message
 * saying why, how many bytes and complete snapshots the file holds, and how many bytes it lost.
 * Returns 0, or -errno with `d` filled. A NULL c->bin is a no-op. */
int chan_close_recording(struct chan *c, const char *name, struct diag *d);

#endif
