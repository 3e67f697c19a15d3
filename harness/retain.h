/* SPDX-License-Identifier: MIT */
/* retain.h - the retainer scan: who holds each leaking site's survivors.
 *
 * For each process of the tree whose channel is open, one after the other: the agent sends its
 * live block list (REQ_BLOCKS, common/proto.h); then every thread of the process is stopped
 * (PTRACE_SEIZE + PTRACE_INTERRUPT, until no new thread appears), its registers read and its
 * stack unwound remotely (libunwind-ptrace) for the frames' stack pointers and pcs; the roots
 * (the objects' writable data but the agent's, each thread's static TLS and thread control block,
 * each thread's stack from its stack pointer's red zone to the end of its mapping, the general
 * registers; the agent's channel thread left out) are searched for pointers into live blocks and
 * the blocks reached searched in turn (analysis/heapgraph.h), memory read with process_vm_readv
 * through one bounded buffer; then every thread is let go. A sample of the survivors born in
 * measured rounds (the top sites by their bytes, up to a number per site, spread over the rounds)
 * gets its shortest path from a root, or UNREACHABLE (lost), and one REC_RETAIN frame per process
 * goes into the recording.
 *
 * Safety: every thread is detached on every path (an error, the stop budget spent, a stop
 * signal to the harness; the kernel detaches them if the harness dies), and a signal that
 * arrived while stopped is delivered on detach. A process that ends mid-scan gets a frame saying
 * so, and the others are scanned as usual. The wait statuses this scan reaps of the harness's
 * own children are handed to the caller (on_exit), so the target's exit is never lost. The
 * harness's other waits (tree.c's waitpid(-1, WNOHANG), target.c's waitpid(pid)) never run
 * during a scan (it is synchronous), and no ptrace stop is left to report once the threads are
 * detached; they do not pass __WALL, so a traced thread's events could never reach them anyway.
 */
#ifndef HARNESS_RETAIN_H
#define HARNESS_RETAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/diag.h"
#include "chan.h"

#define RETAIN_STOP_MS   1000u /* default: longest time a process stays stopped */
#define RETAIN_PER_SITE  64u   /* survivors sampled per site */
#define RETAIN_MAX_SITES 128u  /* sites sampled per process */
#define RETAIN_MAX_HOPS  64u   /* hops kept per path (root side first) */

struct retain_opts {
    uint32_t round;   /* the last round finished */
    uint32_t warmup;  /* survivors born after this round are sampled */
    unsigned stop_ms; /* 0: RETAIN_STOP_MS */
    /* A wait status this scan reaped of one of the harness's children (the target's leader). */
    void (*on_exit)(void *arg, pid_t pid, int status);
    void *exit_arg;
};

/* What the scan of the whole tree did. */
struct retain_result {
    uint32_t processes;     /* processes scanned (a frame written for each) */
    bool complete;          /* every one to the end */
    double stopped_seconds; /* longest stop of one process */
    double seconds;         /* the whole scan */
    uint64_t bytes_read;
    uint64_t live_blocks, live_bytes;
    uint64_t peak_bytes; /* the scan's own memory, at most, over the processes */
    uint64_t paths;      /* sampled survivors written */
    char note[256];      /* the first process's reason for a cut or failed scan, or "" */
};

/* Scans every process of `c` with an open channel and records one REC_RETAIN each. Returns 0
 * (cut or failed processes say so in their frames and in `res`), or -ENOMEM. */
int retain_scan(struct chan *c, const struct retain_opts *o, struct retain_result *res,
                struct diag *d);

#endif
