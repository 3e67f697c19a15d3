/* SPDX-License-Identifier: MIT */
/* ag_hook.c - the interposed allocator functions: guard, bootstrap, forward, record.
 *
 * A thin shim: each hook resolves the real allocator (or serves from the bootstrap arena, see
 * ag_boot.h), calls the real function, and hands what it returned to the recording core in
 * ag_rec.h when the agent is tracking and the recursion guard is clear. An allocation is
 * recorded after the real call succeeded, a free before the real free (another thread may get
 * the address back at once). The target always gets exactly what the real allocator returned,
 * with errno as the real allocator left it: the agent adds no header to blocks and never changes
 * the heap layout the target sees. Start-up and fork handling live in ag_init.c; this file only
 * holds the constructor that calls it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "ag_boot.h"
#include "ag_chan.h"
#include "ag_core.h"
#include "ag_init.h"
#include "ag_rec.h"

/* True while the agent records (not before start-up, not in pass-through). Hook-safe. */
static inline bool tracking(void)
{
    return atomic_load_explicit(&ag_state.mode, memory_order_relaxed) == AG_MODE_TRACK;
}

/* True once the real functions are resolved; false while the caller must use the arena. */
static inline bool ready(void)
{
    return AG_LIKELY(ag_real.free != NULL) || ag_boot_resolve();
}

/* After a successful allocation: record it, or count it as untracked when re-entered. */
static inline void after_alloc(void *p, size_t size)
{
    if (AG_LIKELY(p != NULL && tracking())) {
        if (AG_LIKELY(!ag_guard)) {
            ag_rec_alloc(p, size);
        } else {
            ag_rec_untracked();
        }
    }
}

/* Forwarded and recorded on success; served from the arena before resolution. */
AG_EXPORT void *malloc(size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, 16);
    }
    void *p = ag_real.malloc(size);
    after_alloc(p, size);
    return p;
}

/* Recorded before the real free; arena blocks and NULL are ignored. */
AG_EXPORT void free(void *p)
{
    if (!p || ag_boot_owns(p)) {
        return;
    }
    if (!ready()) {
        return; /* cannot happen for a block the real allocator made: it is resolved by then */
    }
    if (AG_LIKELY(tracking() && !ag_guard)) {
        ag_rec_free(p);
    }
    ag_real.free(p);
}

/* Forwarded and recorded as n * size bytes; from the (zeroed) arena before resolution. */
AG_EXPORT void *calloc(size_t n, size_t size)
{
    if (!ready()) {
        size_t total;
        if (ag_core_count_size_overflow(n, size, &total)) {
            return NULL;
        }
        return ag_boot_alloc(total, 16);
    }
    void *p = ag_real.calloc(n, size);
    after_alloc(p, n * size); /* no overflow: the real calloc succeeded */
    return p;
}

/* realloc of a bootstrap block: move it to the real heap (tracked like a malloc). */
static void *realloc_from_arena(void *old, size_t size)
{
    void *p = malloc(size);
    if (p) {
        size_t old_size = ag_boot_size(old);
        memcpy(p, old, old_size < size ? old_size : size);
    }
    return p;
}

/* The old block leaves the table before the real realloc and comes back if it fails; the new
 * one is recorded. Arena blocks move to the real heap. */
AG_EXPORT void *realloc(void *old, size_t size)
{
    if (!ready()) {
        return ag_boot_realloc(old, size);
    }
    if (old && ag_boot_owns(old)) {
        return realloc_from_arena(old, size);
    }
    if (!old) {
        return malloc(size);
    }
    if (!tracking() || ag_guard) {
        return ag_real.realloc(old, size);
    }
    /* Take the old block out first: once the real realloc returns, its address may already
     * belong to another thread's new block. Put it back if the realloc fails. */
    struct ag_block was;
    bool known = ag_rec_take(old, &was);
    void *p = ag_real.realloc(old, size);
    if (p) {
        ag_rec_alloc(p, size);
    } else if (size != 0 && known) {
        ag_rec_restore(&was);
    }
    return p;
}

/* realloc of n * size bytes; NULL with ENOMEM on overflow. */
AG_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (ag_core_count_size_overflow(n, size, &total)) {
        return NULL;
    }
    return realloc(old, total);
}

/* Forwarded and recorded when it returns 0; from the arena before resolution. */
AG_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (!ready()) {
        void *p = ag_boot_alloc(size, align);
        if (!p) {
            return ENOMEM;
        }
        *out = p;
        return 0;
    }
    int rc = ag_real.posix_memalign(out, align, size);
    if (rc == 0) {
        after_alloc(*out, size);
    }
    return rc;
}

/* Forwarded and recorded on success; from the arena before resolution. */
AG_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, align);
    }
    void *p = ag_real.aligned_alloc(align, size);
    after_alloc(p, size);
    return p;
}

/* Forwarded and recorded on success; from the arena before resolution. */
AG_EXPORT void *memalign(size_t align, size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, align);
    }
    void *p = ag_real.memalign(align, size);
    after_alloc(p, size);
    return p;
}

/* Forwarded and recorded on success; from the arena (page-aligned) before resolution. */
AG_EXPORT void *valloc(size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, 4096);
    }
    void *p = ag_real.valloc(size);
    after_alloc(p, size);
    return p;
}

/* Forwarded and recorded (requested size) on success; from the arena before resolution. */
AG_EXPORT void *pvalloc(size_t size)
{
    if (!ready()) {
        if (AG_UNLIKELY(size > SIZE_MAX - 4095)) {
            errno = ENOMEM; /* rounding up to a page would wrap to a small block */
            return NULL;
        }
        return ag_boot_alloc((size + 4095) & ~(size_t)4095, 4096);
    }
    void *p = ag_real.pvalloc(size);
    after_alloc(p, size);
    return p;
}

/* Forwarded; never recorded. Arena blocks report their requested size. */
AG_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) {
        return 0;
    }
    if (ag_boot_owns(p)) {
        return ag_boot_size(p);
    }
    if (!ready()) {
        return 0;
    }
    return ag_real.malloc_usable_size(p);
}

/* The agent's constructor (priority 101: before the target's own constructors). The work is in
 * ag_init.c, which unit tests link without running it. */
__attribute__((constructor(101))) static void ag_hook_init(void)
{
    ag_init_start();
}

/* The in-process entry point (see include/leakcheck.h): writes one complete snapshot of the
 * calling process to `fd` (a pipe, file or socket the caller reads), closing round `round`
 * (blocks allocated afterwards are born in round + 1). Returns 0; -ENOSYS when the agent is not
 * tracking (no harness, no LEAKCHECK_INPROC=1, set-uid, a forked child); -ENOMEM or -EIO. */
AG_EXPORT int leakcheck_agent_snapshot(int fd, unsigned round)
{
    if (!tracking()) {
        return -ENOSYS;
    }
    int saved = errno;
    int was = ag_guard;
    ag_guard = 1;
    int rc = ag_chan_snapshot_to(&ag_state, fd, round);
    ag_guard = was;
    errno = saved;
    return rc;
}
