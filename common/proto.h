/* SPDX-License-Identifier: MIT */
/* proto.h - the control-channel protocol between the agent and the harness.
 *
 * The channel is one inherited socket (a socketpair end). Every message is a frame:
 *
 *   u32 magic (PROTO_MAGIC) | u16 version (PROTO_VERSION) | u16 type | u32 payload length | payload
 *
 * All integers are little-endian and fixed width. The harness sends PROTO_REQ_SNAPSHOT; the agent
 * answers with one snapshot: SNAP_BEGIN, then STACK frames (only stacks not sent before), SITE
 * frames (one per stack that has live blocks or allocated anything), OBJECT frames (loaded
 * objects now), and SNAP_END. A snapshot counts only once its SNAP_END has arrived, so a target
 * that dies mid-snapshot leaves every earlier snapshot complete and readable.
 *
 * Payloads (field order as listed; "str" = u16 length + bytes, no terminator):
 *   HELLO        u32 pid, u32 flags, u64 canary_size, str agent_version, str exe_path
 *   REQ_SNAPSHOT u32 round (the round just finished; blocks born after this get epoch round+1),
 *                u32 flags (unused, 0)
 *   SNAP_BEGIN   u32 round, u32 flags (PROTO_SNAP_*), then PROTO_NCOUNTERS u64 counters
 *                (enum proto_counter order)
 *   STACK        u32 id, u16 depth, u16 flags (PROTO_STACK_*), u64 pc[depth]
 *                pc[0] is the return address into the allocator's caller, leaf first; a stack
 *                flagged MMAP or BRK made memory outside malloc, whose regions its SITE counts
 *                as blocks (one block per region, its length in bytes)
 *   SITE         u32 stack_id, u32 n_births, u64 live_bytes, u64 live_blocks, u64 alloc_blocks,
 *                u64 alloc_bytes, then n_births x { u32 epoch, u32 0, u64 blocks, u64 bytes }
 *                (live blocks of this stack by round of birth, epochs ascending)
 *   OBJECT       u64 base (load bias), u16 n_segs, u16 0, u32 0,
 *                n_segs x { u64 start, u64 end, u64 file_offset } (executable PT_LOADs, absolute),
 *                str path, str build_id (raw bytes)
 *   SNAP_END     u32 round, u32 n_stacks, u32 n_sites, u32 n_objects
 *
 *   REC_END      u64 bytes the agent sent, u32 complete snapshots among them, u32 0: the
 *                harness's mark at the end of a recording (snapshots.bin) it wrote whole; bytes
 *                of a frame left incomplete by the agent are dropped before it. A recording
 *                without it was cut short (a full disk, a killed harness).
 *
 * Epoch 0 is everything before the first round (start-up). Encoding needs no heap: the writer
 * works in a caller-owned buffer. Hook-safe (common/ obeys the agent rules).
 */
#ifndef COMMON_PROTO_H
#define COMMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC       0x314b434cu /* "LCK1" on the wire */
#define PROTO_VERSION     1u
#define PROTO_HEADER_SIZE 12u
#define PROTO_MAX_PAYLOAD (4u << 20) /* a reader rejects a bigger frame as corrupt */
#define PROTO_MAX_DEPTH   64u        /* frames per stack, at most */
#define PROTO_MAX_SEGS    16u        /* executable segments per object, at most */

/* Environment variables the harness sets for the agent (the agent removes them at start-up). */
#define PROTO_ENV_FD          "LEAKCHECK_FD"    /* decimal number of the inherited socket */
#define PROTO_ENV_DEPTH       "LEAKCHECK_DEPTH" /* optional: frames to capture (1..PROTO_MAX_DEPTH) */
#define PROTO_ENV_FOLLOW_FORK "LEAKCHECK_FOLLOW_FORK" /* reserved; children never answer */
#define PROTO_ENV_INPROC                                                                           \
    "LEAKCHECK_INPROC" /* "1": track without a channel, for the in-process                         \
                           API (leakcheck_agent_snapshot) */

/* The agent's canary: at start-up it allocates one block of this size through the target's
 * own `malloc` symbol; the snapshot flag PROTO_SNAP_CANARY_LIVE proves that hooks see it. */
#define PROTO_CANARY_SIZE 4091u

enum proto_type {
    PROTO_HELLO = 1,
    PROTO_REQ_SNAPSHOT = 2,
    PROTO_SNAP_BEGIN = 3,
    PROTO_STACK = 4,
    PROTO_SITE = 5,
    PROTO_OBJECT = 6,
    PROTO_SNAP_END = 7,
    PROTO_REC_END = 8, /* written by the harness, never the agent: see below */
};

/* HELLO flags */
#define PROTO_HELLO_UNWIND 0x1u /* libunwind is usable: stacks are real */

/* SNAP_BEGIN flags */
#define PROTO_SNAP_CANARY_LIVE 0x1u /* the canary block is in the live table */
#define PROTO_SNAP_PASSTHROUGH 0x2u /* the agent stopped tracking (see the error counters) */
#define PROTO_SNAP_TRUNCATED   0x4u /* some stacks hit the depth limit */

/* STACK flags */
#define PROTO_STACK_TRUNCATED 0x1u
#define PROTO_STACK_MMAP      0x2u /* the stack mapped anonymous memory (mmap, mremap) */
#define PROTO_STACK_BRK       0x4u /* the stack moved the program break (sbrk, brk) */

/* SNAP_BEGIN counters, in wire order. */
enum proto_counter {
    PROTO_C_LIVE_BYTES,    /* bytes in tracked live blocks (requested sizes) */
    PROTO_C_LIVE_BLOCKS,   /* tracked live blocks */
    PROTO_C_RSS_BYTES,     /* resident set size of the process */
    PROTO_C_HEAP_ARENA,    /* mallinfo2 arena: bytes from sbrk */
    PROTO_C_HEAP_MMAP,     /* mallinfo2 hblkhd: bytes in mmapped chunks */
    PROTO_C_HEAP_INUSE,    /* mallinfo2 uordblks: bytes in use (whole process) */
    PROTO_C_HEAP_FREE,     /* mallinfo2 fordblks: free bytes held by the allocator */
    PROTO_C_AGENT_BYTES,   /* memory the agent has mapped for itself */
    PROTO_C_ALLOCS,        /* tracked allocation calls since start */
    PROTO_C_FREES,         /* tracked frees since start */
    PROTO_C_UNKNOWN_FREES, /* frees of pointers the agent never saw */
    PROTO_C_UNTRACKED,     /* allocations that went through untracked (re-entrant, bootstrap) */
    PROTO_C_DROPPED,       /* allocations not recorded: table full or agent error */
    PROTO_C_UNWIND_ERRORS, /* stack captures that failed or came back empty */
    PROTO_C_TRUNCATED,     /* stack captures that hit the depth limit */
    PROTO_C_TIME_NS,       /* CLOCK_MONOTONIC at the snapshot, nanoseconds */
    PROTO_NCOUNTERS
};

/* A caller-owned output buffer. proto_put_* never write past cap; on overflow they set
 * `overflow` and the frame must be discarded (the agent sizes its buffer so that never happens). */
struct proto_wbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t frame_start; /* offset of the frame being built */
    bool overflow;
};

/* Starts a frame of `type` at the end of `b`. Can't fail (overflow is flagged). Hook-safe. */
void proto_frame_begin(struct proto_wbuf *b, enum proto_type type);
/* Patches the payload length of the frame begun last. Can't fail. Hook-safe. */
void proto_frame_end(struct proto_wbuf *b);
void proto_put_u16(struct proto_wbuf *b, uint16_t v);
void proto_put_u32(struct proto_wbuf *b, uint32_t v);
void proto_put_u64(struct proto_wbuf *b, uint64_t v);
void proto_put_bytes(struct proto_wbuf *b, const void *p, size_t n);
/* Puts a u16 length then the bytes (truncated to 65535). */
void proto_put_str(struct proto_wbuf *b, const void *p, size_t n);

/* A bounds-checked reader over one payload. proto_get_* return 0, or -EBADMSG when the payload
 * is too short (the out-parameter is then left unchanged). */
struct proto_rbuf {
    const uint8_t *data;
    size_t len;
    size_t pos;
};

int proto_get_u16(struct proto_rbuf *r, uint16_t *v);
int proto_get_u32(struct proto_rbuf *r, uint32_t *v);
int proto_get_u64(struct proto_rbuf *r, uint64_t *v);
/* Points *p at n bytes inside the payload (borrowed, not copied). */
int proto_get_bytes(struct proto_rbuf *r, size_t n, const uint8_t **p);
/* Reads a "str": *p borrowed, *n its length. */
int proto_get_str(struct proto_rbuf *r, const uint8_t **p, size_t *n);

struct proto_header {
    uint16_t version;
    uint16_t type;
    uint32_t length;
};

/* Parses a frame header from the first PROTO_HEADER_SIZE bytes of `p`. Returns 0, or -EBADMSG
 * for a wrong magic, an unknown version, or a length over PROTO_MAX_PAYLOAD. */
int proto_header_parse(const uint8_t *p, struct proto_header *h);

/* Size of an encoded REQ_SNAPSHOT frame. */
#define PROTO_REQ_SNAPSHOT_SIZE (PROTO_HEADER_SIZE + 8u)

/* Encodes REQ_SNAPSHOT{round} into out[0..PROTO_REQ_SNAPSHOT_SIZE-1]: the one place the
 * harness's requests are built. Can't fail. Hook-safe. */
void proto_encode_req_snapshot(uint8_t out[PROTO_REQ_SNAPSHOT_SIZE], uint32_t round);

/* Decodes the payload of a REQ_SNAPSHOT frame. Returns 0 with *round set, or -EBADMSG when the
 * payload is too short. Hook-safe. */
int proto_decode_req_snapshot(const uint8_t *payload, size_t len, uint32_t *round);

#endif
