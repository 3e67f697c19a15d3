/* SPDX-License-Identifier: MIT */
/* ag_tally.h - counters kept per thread, summed when read: the agent's counts without a locked
 * instruction on the allocation path.
 *
 * A tally is a set of records, one per thread that counted into it. Each record holds a few
 * scalar counters and an array of (count, bytes) pairs indexed by a dense id (a stack id, a
 * cell id), mapped in chunks on first use. Only the record's thread writes it, with plain loads
 * and stores (relaxed atomics, so readers are race-free); any thread reads every record and sums
 * them. Pairs are signed: one thread may count a block in and another count it out, and only
 * the sum means anything. A sum read while threads count is a sum of per-record values each
 * read at some moment of the read, so it is exact when the counters are still and off at most
 * by what was counted during the read.
 *
 * Records are never freed. A thread's records go back to their tallies when it exits (a
 * pthread key's destructor) or, in a forked child, when fork_child releases every thread but
 * the caller; a new thread takes a released record and adds to what it holds, so sums stay
 * right and memory follows the number of threads alive at once, not the number ever started.
 * Hook-safe throughout: no heap (ag_mem regions), no stdio.
 */
#ifndef AGENT_AG_TALLY_H
#define AGENT_AG_TALLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_TALLY_CHUNK_BITS 10u    /* 1024 ids, 16 KiB per chunk */
#define AG_TALLY_LOW_CHUNKS 256u   /* chunks reached from the record itself: ids 1 .. 256 K */
#define AG_TALLY_MAX_CHUNKS 16384u /* ids 1 .. 16 M, beyond 256 K through a directory */
#define AG_TALLY_MAX_ID     (AG_TALLY_MAX_CHUNKS << AG_TALLY_CHUNK_BITS)
#define AG_TALLY_SCALARS    8u

/* One id's counters in one record. */
struct ag_tally_pair {
    _Atomic int64_t n;
    _Atomic int64_t bytes;
};

/* One thread's counters in one tally. */
struct ag_tally_rec {
    struct ag_tally_rec *next; /* written before the record is published, then fixed */
    _Atomic uintptr_t owner;   /* the owning thread (pthread_self), 0 while released */
    _Atomic int64_t scalars[AG_TALLY_SCALARS];
    struct ag_tally_pair *_Atomic low[AG_TALLY_LOW_CHUNKS];
    /* AG_TALLY_MAX_CHUNKS chunk pointers (the first AG_TALLY_LOW_CHUNKS unused), mapped when
     * the first id past the low chunks is counted: a record costs one page until then. */
    struct ag_tally_pair *_Atomic *_Atomic high;
};

/* A tally: zero-initialised storage is an empty tally. */
struct ag_tally {
    struct ag_tally_rec *_Atomic head;
    _Atomic uint64_t gen; /* this tally's identity in the threads' caches; 0 until first use */
};

#define AG_TALLY_CACHE_WAYS 4u

/* A thread's cached record of one tally, with the tally's generation. */
struct ag_tally_cache {
    struct ag_tally *t;
    uint64_t gen;
    struct ag_tally_rec *r;
};
extern __thread struct ag_tally_cache ag_tally_cache[AG_TALLY_CACHE_WAYS]
    __attribute__((tls_model("initial-exec"))) __attribute__((visibility("hidden")));

/* The calling thread's record in `t` when it is not cached (out of line). */
struct ag_tally_rec *ag_tally_mine_slow(struct ag_tally *t);

/* The calling thread's record in `t`, claimed or mapped on first use. Returns NULL when no
 * record could be mapped. Thread-safe. Hook-safe. */
static inline struct ag_tally_rec *ag_tally_mine(struct ag_tally *t)
{
    uint64_t gen = atomic_load_explicit(&t->gen, memory_order_relaxed);
    for (unsigned i = 0; i < AG_TALLY_CACHE_WAYS; i++) {
        if (ag_tally_cache[i].t == t && ag_tally_cache[i].gen == gen && ag_tally_cache[i].r) {
            return ag_tally_cache[i].r;
        }
    }
    return ag_tally_mine_slow(t);
}

/* Maps the chunk of `id` in `r`. Returns it, or NULL when out of memory or id is 0 or beyond
 * AG_TALLY_MAX_ID. Called by the record's thread only. Hook-safe. */
struct ag_tally_pair *ag_tally_chunk_slow(struct ag_tally_rec *r, uint32_t id);

/* Adds (n, bytes) to id's pair in the caller's own record `r`. Returns false (nothing counted)
 * when the pair's chunk could not be mapped or id is out of range. Hook-safe. */
static inline bool ag_tally_add(struct ag_tally_rec *r, uint32_t id, int64_t n, int64_t bytes)
{
    uint32_t k = (id - 1) >> AG_TALLY_CHUNK_BITS;
    struct ag_tally_pair *chunk = id != 0 && k < AG_TALLY_LOW_CHUNKS
                                      ? atomic_load_explicit(&r->low[k], memory_order_relaxed)
                                      : NULL;
    if (__builtin_expect(chunk == NULL, 0)) {
        chunk = ag_tally_chunk_slow(r, id);
        if (!chunk) {
            return false;
        }
    }
    struct ag_tally_pair *p = &chunk[(id - 1) & ((1u << AG_TALLY_CHUNK_BITS) - 1)];
    atomic_store_explicit(&p->n, atomic_load_explicit(&p->n, memory_order_relaxed) + n,
                          memory_order_relaxed);
    atomic_store_explicit(&p->bytes, atomic_load_explicit(&p->bytes, memory_order_relaxed) + bytes,
                          memory_order_relaxed);
    return true;
}

/* Adds v to scalar counter `i` of the caller's own record `r`. Hook-safe. */
static inline void ag_tally_scalar_add(struct ag_tally_rec *r, unsigned i, int64_t v)
{
    atomic_store_explicit(&r->scalars[i],
                          atomic_load_explicit(&r->scalars[i], memory_order_relaxed) + v,
                          memory_order_relaxed);
}

/* The sum of id's pairs over every record. Thread-safe. */
void ag_tally_sum(struct ag_tally *t, uint32_t id, int64_t *n, int64_t *bytes);

/* Adds the sums of ids 1..count into n[0..count) and bytes[0..count) (index id - 1), which the
 * caller zeroes. O(records x count). Thread-safe. */
void ag_tally_sum_all(struct ag_tally *t, uint32_t count, int64_t *n, int64_t *bytes);

/* The sum of scalar counter `i` over every record. Thread-safe. */
int64_t ag_tally_scalar(struct ag_tally *t, unsigned i);

/* In a forked child: releases every record but the caller's (their threads do not exist
 * here); their counts stay. Call with no other thread running. */
void ag_tally_fork_child(struct ag_tally *t);

/* Records in `t`, released ones included (tests). Thread-safe. */
size_t ag_tally_records(struct ag_tally *t);

#endif
