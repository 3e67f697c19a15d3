/* SPDX-License-Identifier: MIT */
/* ag_tally.c - per-thread counters summed on read (see ag_tally.h).
 *
 * A thread finds its record through a small initial-exec TLS cache keyed by the tally and its
 * generation (a tally's storage may be reused by another tally in the tests, never in the
 * agent, which has two); a miss scans the tally's list for a record the thread owns, then for
 * a released one, then maps a new one and pushes it on the list with a compare-and-swap. The
 * thread's cached records are released by a pthread key's destructor when it exits; records
 * it holds beyond the cache stay owned by its (dead) thread id, which a later thread with the
 * same id adopts.
 */
#include "ag_tally.h"

#include <pthread.h>

#include "ag_mem.h"

#define CACHE_WAYS AG_TALLY_CACHE_WAYS
#define cache      ag_tally_cache

__thread struct ag_tally_cache ag_tally_cache[AG_TALLY_CACHE_WAYS]
    __attribute__((tls_model("initial-exec")));
static __thread unsigned cache_next __attribute__((tls_model("initial-exec")));
static __thread int exit_hooked __attribute__((tls_model("initial-exec")));

static _Atomic uint64_t next_gen;
static _Atomic int key_state; /* 0 none, 1 being created, 2 ready, 3 failed */
static pthread_key_t exit_key;

/* The key's destructor: the exiting thread gives its cached records back. */
static void release_mine(void *unused)
{
    (void)unused;
    for (unsigned i = 0; i < CACHE_WAYS; i++) {
        if (cache[i].r) {
            atomic_store_explicit(&cache[i].r->owner, 0, memory_order_release);
        }
        cache[i] = (struct ag_tally_cache){0};
    }
    exit_hooked = 0;
}

/* Arranges for release_mine to run when the calling thread exits. Best effort: without the
 * key, records of exited threads are adopted by later threads with the same id only. */
static void hook_exit(void)
{
    int state = atomic_load_explicit(&key_state, memory_order_acquire);
    if (state == 0) {
        int expected = 0;
        if (atomic_compare_exchange_strong_explicit(&key_state, &expected, 1, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            state = pthread_key_create(&exit_key, release_mine) == 0 ? 2 : 3;
            atomic_store_explicit(&key_state, state, memory_order_release);
        } else {
            state = expected;
        }
    }
    while (state == 1) {
        state = atomic_load_explicit(&key_state, memory_order_acquire);
    }
    if (state == 2 && pthread_setspecific(exit_key, (void *)1) == 0) {
        exit_hooked = 1;
    }
}

/* This tally's generation, assigned on first use. */
static uint64_t tally_gen(struct ag_tally *t)
{
    uint64_t gen = atomic_load_explicit(&t->gen, memory_order_acquire);
    if (gen == 0) {
        uint64_t fresh = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed) + 1;
        if (atomic_compare_exchange_strong_explicit(&t->gen, &gen, fresh, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            gen = fresh;
        }
    }
    return gen;
}

/* Finds or makes the caller's record in `t`. Returns NULL when out of memory. */
static struct ag_tally_rec *claim(struct ag_tally *t, uintptr_t self)
{
    struct ag_tally_rec *head = atomic_load_explicit(&t->head, memory_order_acquire);
    for (struct ag_tally_rec *r = head; r; r = r->next) {
        if (atomic_load_explicit(&r->owner, memory_order_acquire) == self) {
            return r;
        }
    }
    for (struct ag_tally_rec *r = head; r; r = r->next) {
        uintptr_t expected = 0;
        if (atomic_load_explicit(&r->owner, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&r->owner, &expected, self,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            return r;
        }
    }
    struct ag_tally_rec *r = ag_mem_map(sizeof(*r));
    if (!r) {
        return NULL;
    }
    atomic_store_explicit(&r->owner, self, memory_order_relaxed);
    struct ag_tally_rec *old = atomic_load_explicit(&t->head, memory_order_relaxed);
    do {
        r->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&t->head, &old, r, memory_order_release,
                                                    memory_order_relaxed));
    return r;
}

struct ag_tally_rec *ag_tally_mine_slow(struct ag_tally *t)
{
    uint64_t gen = tally_gen(t);
    struct ag_tally_rec *r = claim(t, (uintptr_t)pthread_self());
    if (!r) {
        return NULL;
    }
    if (!exit_hooked) {
        hook_exit();
    }
    unsigned way = cache_next++ % CACHE_WAYS;
    cache[way] = (struct ag_tally_cache){.t = t, .gen = gen, .r = r};
    return r;
}

/* Where the pointer to chunk k of `r` lives, or NULL (no directory yet). */
static struct ag_tally_pair *_Atomic *chunk_slot(struct ag_tally_rec *r, uint32_t k)
{
    if (k < AG_TALLY_LOW_CHUNKS) {
        return &r->low[k];
    }
    struct ag_tally_pair *_Atomic *high = atomic_load_explicit(&r->high, memory_order_acquire);
    return high ? &high[k] : NULL;
}

/* Chunk k of `r`, or NULL when not mapped. Any thread. */
static struct ag_tally_pair *chunk_at(struct ag_tally_rec *r, uint32_t k)
{
    struct ag_tally_pair *_Atomic *slot = chunk_slot(r, k);
    return slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
}

struct ag_tally_pair *ag_tally_chunk_slow(struct ag_tally_rec *r, uint32_t id)
{
    if (id == 0 || id > AG_TALLY_MAX_ID) {
        return NULL;
    }
    uint32_t k = (id - 1) >> AG_TALLY_CHUNK_BITS;
    struct ag_tally_pair *_Atomic *slot = chunk_slot(r, k);
    if (!slot) {
        struct ag_tally_pair *_Atomic *high =
            ag_mem_map(sizeof(*high) * (size_t)AG_TALLY_MAX_CHUNKS);
        if (!high) {
            return NULL;
        }
        atomic_store_explicit(&r->high, high, memory_order_release);
        slot = &high[k];
    }
    struct ag_tally_pair *chunk = atomic_load_explicit(slot, memory_order_relaxed);
    if (chunk) {
        return chunk;
    }
    chunk = ag_mem_map(sizeof(*chunk) << AG_TALLY_CHUNK_BITS);
    if (chunk) {
        atomic_store_explicit(slot, chunk, memory_order_release);
    }
    return chunk;
}

void ag_tally_sum(struct ag_tally *t, uint32_t id, int64_t *n, int64_t *bytes)
{
    *n = 0;
    *bytes = 0;
    if (id == 0 || id > AG_TALLY_MAX_ID) {
        return;
    }
    uint32_t k = (id - 1) >> AG_TALLY_CHUNK_BITS;
    for (struct ag_tally_rec *r = atomic_load_explicit(&t->head, memory_order_acquire); r;
         r = r->next) {
        struct ag_tally_pair *chunk = chunk_at(r, k);
        if (chunk) {
            struct ag_tally_pair *p = &chunk[(id - 1) & ((1u << AG_TALLY_CHUNK_BITS) - 1)];
            *n += atomic_load_explicit(&p->n, memory_order_relaxed);
            *bytes += atomic_load_explicit(&p->bytes, memory_order_relaxed);
        }
    }
}

void ag_tally_sum_all(struct ag_tally *t, uint32_t count, int64_t *n, int64_t *bytes)
{
    if (count > AG_TALLY_MAX_ID) {
        count = AG_TALLY_MAX_ID;
    }
    uint32_t chunks = (count + (1u << AG_TALLY_CHUNK_BITS) - 1) >> AG_TALLY_CHUNK_BITS;
    for (struct ag_tally_rec *r = atomic_load_explicit(&t->head, memory_order_acquire); r;
         r = r->next) {
        for (uint32_t k = 0; k < chunks; k++) {
            struct ag_tally_pair *chunk = chunk_at(r, k);
            if (!chunk) {
                continue;
            }
            uint32_t first = k << AG_TALLY_CHUNK_BITS;
            uint32_t end = count - first < (1u << AG_TALLY_CHUNK_BITS)
                               ? count - first
                               : (1u << AG_TALLY_CHUNK_BITS);
            for (uint32_t i = 0; i < end; i++) {
                n[first + i] += atomic_load_explicit(&chunk[i].n, memory_order_relaxed);
                bytes[first + i] += atomic_load_explicit(&chunk[i].bytes, memory_order_relaxed);
            }
        }
    }
}

int64_t ag_tally_scalar(struct ag_tally *t, unsigned i)
{
    int64_t v = 0;
    for (struct ag_tally_rec *r = atomic_load_explicit(&t->head, memory_order_acquire); r;
         r = r->next) {
        v += atomic_load_explicit(&r->scalars[i], memory_order_relaxed);
    }
    return v;
}

void ag_tally_fork_child(struct ag_tally *t)
{
    uintptr_t self = (uintptr_t)pthread_self();
    for (struct ag_tally_rec *r = atomic_load_explicit(&t->head, memory_order_acquire); r;
         r = r->next) {
        if (atomic_load_explicit(&r->owner, memory_order_relaxed) != self) {
            atomic_store_explicit(&r->owner, 0, memory_order_release);
        }
    }
}

size_t ag_tally_records(struct ag_tally *t)
{
    size_t n = 0;
    for (struct ag_tally_rec *r = atomic_load_explicit(&t->head, memory_order_acquire); r;
         r = r->next) {
        n++;
    }
    return n;
}
