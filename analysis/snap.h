/* SPDX-License-Identifier: MIT */
/* snap.h - reading the agent's snapshot stream (see common/proto.h for the frames).
 *
 * A pure parser over bytes: feed it whatever arrived on the channel (one byte or a megabyte at
 * a time) and it keeps the HELLO, the cumulative stack table and every complete snapshot. A
 * snapshot counts only once its SNAP_END has arrived; a stream that ends mid-snapshot keeps all
 * earlier snapshots. Malformed input (wrong magic, oversize frame, short payload, caps exceeded,
 * frames out of order) stops the parser with a message naming what was wrong. Used for the live
 * channel and for `leakcheck analyze` on a recording alike. Not thread-safe per object.
 */
#ifndef HARNESS_SNAP_H
#define HARNESS_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/proto.h"
#include "../util/diag.h"
#include "sym.h"

#define SNAP_MAX_STACKS    (4u << 20) /* distinct stacks in one stream */
#define SNAP_MAX_SITES     (4u << 20) /* sites in one snapshot */
#define SNAP_MAX_OBJECTS   65536u     /* objects in one snapshot */
#define SNAP_MAX_SNAPSHOTS 1000000u
#define SNAP_MAX_BIRTHS    1000000u /* births in one SITE */

struct snap_stack {
    uint32_t id;
    uint16_t depth;
    bool truncated;
    uint16_t source; /* PROTO_STACK_MMAP, PROTO_STACK_BRK, or 0 (malloc and its family) */
    uint64_t *pcs;   /* depth entries, leaf first */
};

struct snap_birth {
    uint32_t epoch;
    uint64_t blocks, bytes;
};

struct snap_site {
    uint32_t stack_id;
    uint64_t live_bytes, live_blocks, alloc_blocks, alloc_bytes;
    size_t n_births;
    struct snap_birth *births;
};

struct snap_object {
    uint64_t base;
    size_t n_segs;
    struct sym_segment segs[PROTO_MAX_SEGS];
    char *path;
    uint8_t *build_id;
    size_t build_id_len;
};

struct snap_snapshot {
    uint32_t round;
    uint32_t flags; /* PROTO_SNAP_* */
    uint64_t counters[PROTO_NCOUNTERS];
    size_t n_sites;
    struct snap_site *sites;
    size_t n_objects;
    struct snap_object *objects;
};

struct snap_stream {
    bool have_hello;
    uint32_t pid, hello_flags;
    uint64_t canary_size;
    char *agent_version;
    char *exe_path;
    uint32_t ppid; /* 0 when the HELLO did not say */
    char *cmdline; /* NUL-separated, cmdline_len bytes, or NULL when the HELLO did not say */
    size_t cmdline_len;
    size_t n_stacks;
    struct snap_stack *stacks;
    size_t n_snaps;
    struct snap_snapshot *snaps; /* complete snapshots, in arrival order */
    /* private parsing state */
    uint8_t *buf;
    size_t buf_len, buf_cap;
    struct snap_snapshot cur;
    bool in_snap;
    int error; /* first error (negative errno), sticky */
    size_t cap_stacks, cap_snaps, cap_sites, cap_objects;
    uint32_t *index; /* open-addressing hash: stack id -> index + 1 */
    size_t index_cap;
    uint64_t offset; /* bytes consumed, for messages */
};

/* Prepares an empty stream in caller storage. Can't fail. */
void snap_stream_init(struct snap_stream *s);
/* Frees everything the stream owns. */
void snap_stream_cleanup(struct snap_stream *s);

/* Feeds n bytes. Returns 0, -EBADMSG (malformed, `d` says what and at which byte offset) or
 * -ENOMEM; after an error the stream stays failed and keeps its complete snapshots. */
int snap_stream_feed(struct snap_stream *s, const uint8_t *p, size_t n, struct diag *d);

/* True when the bytes fed so far end inside a frame or inside a snapshot (the target died
 * mid-snapshot). Can't fail. */
bool snap_stream_partial(const struct snap_stream *s);

/* The stack with this id, or NULL. Borrowed. */
const struct snap_stack *snap_stream_stack(const struct snap_stream *s, uint32_t id);

/* The snapshot answering round `round` (the last one if repeated), or NULL. Borrowed. */
const struct snap_snapshot *snap_stream_find(const struct snap_stream *s, uint32_t round);

#endif
