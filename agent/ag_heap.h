/* SPDX-License-Identifier: MIT */
/* ag_heap.h - the allocator's own figures for a snapshot (mallinfo2), read on a helper thread
 * so that a snapshot never waits long for them.
 *
 * glibc's mallinfo2() takes every arena's lock in turn; with many threads allocating, a caller
 * waiting for those locks can starve for seconds (measured: 2 to 6.5 s with 64 threads
 * churning on two cores, without the agent). The snapshot asks a helper thread for the figures
 * and waits at most AG_HEAP_WAIT_MS; if they are not ready by then it uses the last figures the
 * helper produced, and the helper's answer serves the next snapshot. The first read of a
 * process waits for its answer. The helper blocks every signal, runs under the channel
 * thread's name (so its CPU time is the agent's, not the program's) and is started on first
 * use in each process (a forked child starts its own). The figures are the process's, so the
 * state is too: one per process, not per agent state. Not hook-safe (it may start a thread):
 * called from snapshots only, with the guard set.
 */
#ifndef AGENT_AG_HEAP_H
#define AGENT_AG_HEAP_H

#include <stdint.h>

#define AG_HEAP_WAIT_MS 50u

/* The figures a snapshot sends. */
struct ag_heap_figures {
    uint64_t arena;    /* mallinfo2 arena */
    uint64_t hblkhd;   /* mallinfo2 hblkhd */
    uint64_t uordblks; /* mallinfo2 uordblks */
    uint64_t fordblks; /* mallinfo2 fordblks */
};

/* Reads the figures (mallinfo2 unless a test replaces it). */
typedef void (*ag_heap_read_fn)(struct ag_heap_figures *out);

/* The figures of this process through its helper: fresh when the helper answers within
 * `wait_ms` (or on the first read of this process), else the last ones it produced. Without a
 * helper (it could not be started) the figures are read on the calling thread. Can't fail.
 * One caller at a time (snapshots are serialised by the snapshot lock). */
void ag_heap_read(unsigned wait_ms, struct ag_heap_figures *out);

/* Replaces the reader (tests; NULL: mallinfo2). */
void ag_heap_set_reader(ag_heap_read_fn fn);

/* The process the helper runs in, 0 before the first read (tests). */
int ag_heap_helper_pid(void);

/* Takes / releases the figures' lock (fork handlers). */
void ag_heap_lock(void);
void ag_heap_unlock(void);

#endif
