/* SPDX-License-Identifier: MIT */
/* rec.h - reading a recording: the channels of every process of a target's tree.
 *
 * The harness records each process's channel inside its own frames (common/proto.h: REC_PROC,
 * REC_DATA, REC_TITLE, REC_END, REC_UNTRACKED, REC_CPU, REC_RETAIN, REC_SNAP_TIME); rec_feed()
 * takes those bytes, as they come or read back from snapshots.bin, and keeps one parsed
 * snap_stream per process with who the process was (pid, parent, program, command line, how it
 * joined and ended), its latest retainer scan (the paths from a root to its sampled survivors,
 * named and grouped by analysis/retainer.h), the processes of the tree that never joined, and how
 * long each round's snapshot took. Frame types this version does not know are skipped, so a newer
 * harness's recording still reads. A recording that starts with HELLO is one process's channel as
 * it came (older recordings, the in-process API): it reads as a one-process recording.
 *
 * Like snap.h: fed any number of bytes at a time; malformed input stops it with the byte offset
 * and keeps everything complete before it. Pure computation, no I/O; not thread-safe per object.
 */
#ifndef ANALYSIS_REC_H
#define ANALYSIS_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"
#include "../util/diag.h"
#include "snap.h"

#define REC_MAX_PROCS     65536u
#define REC_MAX_UNTRACKED 65536u

/* REC_RETAIN: one sampled survivor's shortest path from a root (common/proto.h). */
struct rec_hop {
    uint32_t stack_id; /* the block's site */
    uint32_t offset;   /* byte offset in it of the pointer to the next block */
};

struct rec_path {
    uint32_t stack_id; /* the survivor's site */
    uint32_t epoch;    /* its round of birth */
    uint64_t size;
    uint32_t root_kind; /* enum proto_root */
    uint32_t root_obj;  /* index into rec_retain.objs, or PROTO_NO_OBJ */
    uint64_t root_addr; /* by kind, as common/proto.h says */
    uint64_t root_pc;
    uint32_t root_tid;
    uint32_t n_hops;
    const struct rec_hop *hops; /* n_hops, root side first (points into rec_retain.hops) */
};

struct rec_retain_obj {
    uint64_t base; /* load bias */
    char *path;
};

/* One process's retainer scan, as REC_RETAIN recorded it. */
struct rec_retain {
    uint32_t round; /* the last round finished when it ran */
    uint32_t flags; /* PROTO_RETAIN_* */
    uint64_t stopped_us, scan_us, bytes_read, live_blocks, live_bytes, memory_bytes;
    char *note; /* "" when complete */
    size_t n_objs;
    struct rec_retain_obj *objs;
    size_t n_paths;
    struct rec_path *paths;
    struct rec_hop *hops; /* every path's hops, one array */
};

/* One process image that joined (an exec makes a new one with the same pid). */
struct rec_proc {
    uint32_t idx; /* its index in the recording */
    uint32_t pid, ppid;
    uint32_t origin; /* enum proto_origin */
    uint32_t prev;   /* the image it exec'd from, or PROTO_NO_PROC */
    uint32_t joined; /* the last round finished when it joined */
    char *exe;       /* may be "" */
    char *cmdline;   /* NUL-separated, cmdline_len bytes (may be 0) */
    size_t cmdline_len;
    char *title; /* the command line read last (programs retitle themselves); NULL: as joined */
    size_t title_len;
    bool ended;
    uint32_t end_how;   /* enum proto_end, when ended */
    uint32_t end_round; /* the last round finished when it ended */
    int32_t status;     /* wait status, or -1 */
    char *error;        /* its channel was malformed: what was wrong (complete snapshots kept) */
    uint64_t *cpu;      /* ns run on a CPU after round r: cpu[r], or UINT64_MAX unread */
    size_t n_cpu;
    struct rec_retain *retain; /* its latest retainer scan, or NULL */
    struct snap_stream st;
};

/* A process of the tree that never joined. */
struct rec_untracked {
    uint32_t pid, ppid;
    uint32_t round; /* the last round finished when it was seen */
    char *exe, *cmdline, *why;
};

struct rec {
    bool tree;   /* false: one process's channel as it came (procs[0]) */
    bool closed; /* the harness's end mark came: the recording was written whole */
    size_t n_procs;
    struct rec_proc **procs; /* in the order they joined */
    size_t n_untracked;
    struct rec_untracked *untracked;
    double *snap_seconds; /* snap_seconds[r]: the snapshot closing round r took (REC_SNAP_TIME),
                             or < 0 when not recorded; n_snap_seconds entries */
    size_t n_snap_seconds;
    /* private parsing state */
    bool started;
    uint8_t *buf;
    size_t buf_len, buf_cap;
    size_t cap_procs, cap_untracked;
    int error;
    uint64_t offset;
};

/* Prepares an empty recording in caller storage. Can't fail. */
void rec_init(struct rec *r);
/* Frees everything the recording owns. */
void rec_cleanup(struct rec *r);

/* Feeds n bytes. Returns 0, -EBADMSG (malformed: `d` says what and at which byte) or -ENOMEM;
 * after an error the recording stays failed and keeps what was complete. */
int rec_feed(struct rec *r, const uint8_t *p, size_t n, struct diag *d);

/* True when the bytes fed so far end inside a frame, or some process's channel ends inside a
 * snapshot. Can't fail. */
bool rec_partial(const struct rec *r);

/* The nanoseconds process `p` had run on a CPU after round `round`, or UINT64_MAX when that was
 * not read then. Can't fail. */
uint64_t rec_cpu(const struct rec_proc *p, uint32_t round);

/* The seconds the snapshot closing round `round` took (request to the last byte of the last
 * answer, all processes), or a negative value when the recording does not say (older
 * recordings, one-process recordings, a snapshot that failed). Can't fail. */
double rec_snapshot_seconds(const struct rec *r, uint32_t round);

/* Frees a retainer scan and what it owns. NULL is a no-op. */
void rec_retain_free(struct rec_retain *t);

/* Complete snapshots in the recording, over every process. Can't fail. */
size_t rec_snapshots(const struct rec *r);

/* The first string of a NUL-separated command line (its argv[0], or the title a program gave
 * itself), into buf. Can't fail. */
void rec_argv0(const char *cmdline, size_t len, char *buf, size_t cap);

/* The totals of round `round` over every process that answered it (live heap, RSS, allocator
 * figures, agent memory, summed): what progress lines show. Returns the number of processes
 * summed. Can't fail. */
size_t rec_round(const struct rec *r, uint32_t round, bool warmup, double seconds,
                 struct rpt_round *out);

#endif
