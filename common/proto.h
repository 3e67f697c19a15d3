/* SPDX-License-Identifier: MIT */
/* proto.h - the control-channel protocol between the agent and the harness.
 *
 * Each process of the target's tree has its own channel: a connection to the harness's listening
 * socket in the abstract namespace (PROTO_ENV_SOCK), opened at start-up, in every forked child
 * and after every exec; its first frame is AUTH with the run's key (PROTO_ENV_KEY), which the
 * harness checks, with the peer's credentials and descent, before it reads anything else. (Test
 * programs may instead hand the agent one inherited socket, PROTO_ENV_FD.) Every message is a
 * frame:
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
 *   AUTH         PROTO_KEY_SIZE bytes: the run's key (never recorded)
 *   HELLO        u32 pid, u32 flags, u64 canary_size, str agent_version, str exe_path,
 *                then (optional, absent in old recordings) u32 ppid, str cmdline (as
 *                /proc/self/cmdline, NUL-separated, at most 4096 bytes)
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
 * The harness records the channels of a whole tree in one file (snapshots.bin) as its own
 * frames around the agents' bytes:
 *   REC_PROC     u32 proc (index, from 0, in the order processes joined), u32 pid, u32 ppid,
 *                u32 origin (enum proto_origin), u32 prev (the proc this one exec'd from, or
 *                PROTO_NO_PROC), u32 round (the last round finished when it joined),
 *                str exe, str cmdline (NUL-separated, as /proc/PID/cmdline)
 *   REC_DATA     u32 proc, then bytes of that process's channel (any cut: frames may span)
 *   REC_TITLE    u32 proc, str cmdline (read again after a snapshot: programs retitle themselves)
 *   REC_END      u32 proc, u32 how (enum proto_end), u32 round, i32 status (wait status or -1)
 *   REC_UNTRACKED u32 pid, u32 ppid, u32 round, str exe, str cmdline, str why
 *                 (a process of the tree that never joined, seen after round `round`)
 * A recording that starts with HELLO is one process's channel as it came (older recordings, and
 * the in-process API's).
 *   REC_CPU      u32 proc, u32 round, u64 nanoseconds the program's threads have run on a CPU
 *                (/proc/PID/task/TID/schedstat, the agent's channel thread left out), read
 *                after the snapshot closing `round`
 *   REC_SNAP_TIME u32 round, u32 0, u64 nanoseconds the snapshot closing `round` took: from the
 *                 request to the last byte of the last answer, all processes of the tree;
 *                 written after that snapshot (recordings before it have none: no time shown;
 *                 readers since REC_RETAIN skip frame types newer than they know, so they read
 *                 a recording with it and show no time)
 *   REC_RETAIN   u32 proc, u32 round (the last round finished when the scan ran), u32 flags
 *                (PROTO_RETAIN_*), u32 n_objs, u32 n_paths, u32 0,
 *                u64 microseconds the process stayed stopped, u64 microseconds the whole scan took,
 *                u64 bytes of memory read, u64 live blocks, u64 live bytes, u64 peak bytes of
 * memory the scan itself used, str note (why the scan was cut short or failed; empty when
 *                complete),
 *                then n_objs x { u64 base (load bias), str path } (the objects paths name),
 *                then n_paths x path: the shortest path from a root to one sampled survivor:
 *                  u32 stack_id (the survivor's site), u32 epoch (its round of birth),
 *                  u64 size (its bytes), u32 root_kind (enum proto_root), u32 root_obj (index into
 *                  the objects, or PROTO_NO_OBJ), u64 root_addr, u64 root_pc, u32 root_tid,
 *                  u32 n_hops, n_hops x { u32 stack_id, u32 offset }
 *                root_addr is, by kind: GLOBAL the pointer word's address minus the object's base
 *                (the ELF virtual address, as symbols give it); TLS its offset in the object's TLS
 *                block (as STT_TLS symbols give it); STACK its offset above the stack pointer of
 * the frame holding it, whose pc is root_pc (0 when the frame is unknown); REGISTER the register's
 * number (enum proto_reg); UNREACHABLE 0. The hops are the blocks on the way, root side first, the
 * survivor left out: each block's site and the byte offset in it of the pointer to the next one
 * (the last hop points at the survivor). The pointer from the root itself may land inside the first
 * block (or the survivor): that interior offset is not recorded. REC_CLOSE    u64 bytes of the
 * recording before this frame, u32 complete snapshots in it (all processes), u32 0: the harness's
 * mark at the end of a recording it wrote whole. A recording without it was cut short (a full disk,
 * a killed harness).
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
#define PROTO_ENV_FD        "LEAKCHECK_FD"    /* decimal number of the inherited socket */
#define PROTO_ENV_DEPTH     "LEAKCHECK_DEPTH" /* optional: frames to capture (1..PROTO_MAX_DEPTH) */
#define PROTO_ENV_SOCK      "LEAKCHECK_SOCK"  /* the harness's socket: abstract name, no '@' */
#define PROTO_ENV_KEY       "LEAKCHECK_KEY"   /* the run's key: 2 * PROTO_KEY_SIZE hex digits */
#define PROTO_KEY_SIZE      16u
#define PROTO_SOCK_NAME_MAX 100u /* bytes of an abstract socket name */
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
    PROTO_AUTH = 8,
    /* written by the harness into the recording only */
    PROTO_REC_PROC = 16,
    PROTO_REC_DATA = 17,
    PROTO_REC_TITLE = 18,
    PROTO_REC_END = 19,
    PROTO_REC_UNTRACKED = 20,
    PROTO_REC_CLOSE = 21,
    PROTO_REC_CPU = 22,
    PROTO_REC_RETAIN = 23,
    PROTO_REC_SNAP_TIME = 24,
};

/* What holds a sampled survivor (REC_RETAIN root_kind). */
enum proto_root {
    PROTO_ROOT_UNREACHABLE = 0, /* no path from any root: lost */
    PROTO_ROOT_GLOBAL = 1,      /* the writable data of a loaded object (.data, .bss, relro) */
    PROTO_ROOT_STACK = 2,       /* a thread's stack */
    PROTO_ROOT_TLS = 3,         /* a thread's thread-local storage */
    PROTO_ROOT_REGISTER = 4,    /* a thread's register */
};

/* Registers as REC_RETAIN numbers them (x86-64, as the kernel's user_regs_struct lists them). */
enum proto_reg {
    PROTO_REG_RAX,
    PROTO_REG_RBX,
    PROTO_REG_RCX,
    PROTO_REG_RDX,
    PROTO_REG_RSI,
    PROTO_REG_RDI,
    PROTO_REG_RBP,
    PROTO_REG_RSP,
    PROTO_REG_R8,
    PROTO_REG_R9,
    PROTO_REG_R10,
    PROTO_REG_R11,
    PROTO_REG_R12,
    PROTO_REG_R13,
    PROTO_REG_R14,
    PROTO_REG_R15,
    PROTO_REG_COUNT
};

/* REC_RETAIN flags */
#define PROTO_RETAIN_CUT    0x1u /* cut short (time or memory bound, or the process ended) */
#define PROTO_RETAIN_FAILED 0x2u /* no scan (the process could not be stopped or read) */
#define PROTO_NO_OBJ        0xffffffffu

/* How a process came to join (REC_PROC origin). */
enum proto_origin {
    PROTO_ORIGIN_START,     /* the program the harness started */
    PROTO_ORIGIN_FORK,      /* a child forked by a tracked process (no exec) */
    PROTO_ORIGIN_EXEC,      /* a new program in a process that had joined before (same pid) */
    PROTO_ORIGIN_SPAWN,     /* a new program in a new process (fork and exec, posix_spawn) */
    PROTO_ORIGIN_RECONNECT, /* the same program again, after its channel was taken from it */
};

/* How a process's channel ended (REC_END how). */
enum proto_end {
    PROTO_END_EXIT,   /* the process ended (status says how) */
    PROTO_END_EXEC,   /* it exec'd another program (REC_PROC with origin EXEC follows) */
    PROTO_END_CLOSED, /* the channel closed while the process went on */
    PROTO_END_RUN,    /* still running when the run ended */
};

#define PROTO_NO_PROC 0xffffffffu

/* The name of the agent's channel thread (/proc/PID/task/TID/comm): its CPU time is the agent's,
 * not the program's. */
#define PROTO_THREAD_NAME "leakcheck-chan"

/* HELLO flags */
#define PROTO_HELLO_UNWIND    0x1u /* libunwind is usable: stacks are real */
#define PROTO_HELLO_FORKED    0x2u /* sent from a forked child (its heap is its parent's copy) */
#define PROTO_HELLO_RECONNECT 0x4u /* the same program again after its channel was taken */

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
