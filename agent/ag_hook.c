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
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/proto.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4 /* Linux 5.7; older headers lack the name */
#endif

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

/* ---------------------------------------------------------------- memory outside malloc
 *
 * Anonymous mmap/mmap64/mremap/munmap and sbrk/brk called by the program are recorded as
 * regions (ag_region.h). glibc's malloc, pthread stacks and the dynamic loader map through
 * libc's internal entry points, which never reach these symbols, so their memory is not
 * counted twice; calls from the agent itself (its tables) are passed through by return
 * address. File-backed mappings are not heap and are not recorded, but one mapped over a
 * recorded region (MAP_FIXED) ends that region's bytes.
 */

/* The next definitions of the system-memory functions. */
struct sys_real {
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    void *(*mmap64)(void *, size_t, int, int, int, off64_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    void *(*sbrk)(intptr_t);
    int (*brk)(void *);
};

static struct sys_real sys_real;
static _Atomic int sys_state; /* 0 unresolved, 1 resolving, 2 done */

static __thread int sys_resolving __attribute__((tls_model("initial-exec")));

/* Resolves sys_real once. Returns true when it is usable; false only on the thread that is
 * resolving it (from inside dlsym): that caller then makes the system call itself. Another
 * thread waits for the resolution to end. */
static bool sys_ready(void)
{
    int state = atomic_load_explicit(&sys_state, memory_order_acquire);
    if (AG_LIKELY(state == 2)) {
        return true;
    }
    if (sys_resolving) {
        return false;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&sys_state, &expected, 1, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        while (atomic_load_explicit(&sys_state, memory_order_acquire) != 2) {
            ag_lock_relax();
        }
        return true;
    }
    int was = ag_guard;
    ag_guard = 1; /* whatever dlsym allocates is the agent's */
    sys_resolving = 1;
    sys_real.mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    sys_real.mmap64 = (void *(*)(void *, size_t, int, int, int, off64_t))dlsym(RTLD_NEXT, "mmap64");
    sys_real.munmap = (int (*)(void *, size_t))dlsym(RTLD_NEXT, "munmap");
    sys_real.mremap = (void *(*)(void *, size_t, size_t, int, ...))dlsym(RTLD_NEXT, "mremap");
    sys_real.sbrk = (void *(*)(intptr_t))dlsym(RTLD_NEXT, "sbrk");
    sys_real.brk = (int (*)(void *))dlsym(RTLD_NEXT, "brk");
    sys_resolving = 0;
    ag_guard = was;
    atomic_store_explicit(&sys_state, 2, memory_order_release);
    return true;
}

/* The page size, for rounding mapping lengths as the kernel does. */
static size_t page_size(void)
{
    static size_t page;
    if (AG_UNLIKELY(page == 0)) {
        long v = sysconf(_SC_PAGESIZE);
        page = v > 0 ? (size_t)v : 4096u;
    }
    return page;
}

/* `len` rounded up to whole pages (0 when that would wrap). */
static size_t page_len(size_t len)
{
    size_t page = page_size();
    return len > SIZE_MAX - (page - 1) ? 0 : (len + page - 1) & ~(page - 1);
}

/* True when a call whose caller returns to `ret` is the program's to record: tracking, guard
 * clear, and not the agent's own mapping. */
static inline bool sys_tracked(const void *ret)
{
    return tracking() && !ag_guard &&
           !((uintptr_t)ret >= ag_state.self_lo && (uintptr_t)ret < ag_state.self_hi);
}

/* After a successful mapping at `p`: what it covers is replaced; recorded if anonymous and
 * private. Shared anonymous memory is the processes' common memory (a server's shared buffers,
 * a scoreboard): counted in each process of a tree it would be counted many times over. */
static void after_map(void *p, size_t len, int flags, const void *ret)
{
    if (p == MAP_FAILED || !sys_tracked(ret)) {
        return;
    }
    if ((flags & MAP_ANONYMOUS) && !(flags & MAP_SHARED)) {
        ag_rec_region((uintptr_t)p, page_len(len), PROTO_STACK_MMAP);
    } else if (flags & MAP_FIXED) {
        (void)ag_rec_unregion((uintptr_t)p, page_len(len), NULL);
    }
}

/* Forwarded; an anonymous mapping is recorded at the caller's stack. */
AG_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    void *p = sys_ready() && sys_real.mmap
                  ? sys_real.mmap(addr, len, prot, flags, fd, off)
                  : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    after_map(p, len, flags, __builtin_return_address(0));
    return p;
}

/* mmap with a 64-bit offset (the same function on 64-bit systems). */
AG_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    void *p = sys_ready() && sys_real.mmap64
                  ? sys_real.mmap64(addr, len, prot, flags, fd, off)
                  : (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    after_map(p, len, flags, __builtin_return_address(0));
    return p;
}

/* The recorded range leaves before the real munmap (another thread may map the same addresses
 * at once) and comes back if the call fails. */
AG_EXPORT int munmap(void *addr, size_t len)
{
    struct ag_region_cut cut;
    bool known = false;
    size_t plen = page_len(len);
    if (sys_tracked(__builtin_return_address(0)) && ((uintptr_t)addr & (page_size() - 1)) == 0) {
        known = ag_rec_unregion((uintptr_t)addr, plen, &cut);
    }
    int rc = sys_ready() && sys_real.munmap ? sys_real.munmap(addr, len)
                                            : (int)syscall(SYS_munmap, addr, len);
    if (rc != 0 && known) {
        int saved = errno;
        ag_rec_region_restore((uintptr_t)addr, plen, &cut);
        errno = saved;
    }
    return rc;
}

/* A recorded region that moves or changes size is recorded again at the caller's stack and the
 * current round, as realloc records a block; an unrecorded one stays unrecorded. */
AG_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *want = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        want = va_arg(ap, void *);
        va_end(ap);
    }
    const void *ret = __builtin_return_address(0);
    struct ag_region_cut cut;
    bool known = false;
    size_t plen = page_len(old_len);
    bool moves_out = old_len > 0 && !(flags & MREMAP_DONTUNMAP);
    if (moves_out && sys_tracked(ret)) {
        known = ag_rec_unregion((uintptr_t)old, plen, &cut);
    }
    void *p = sys_ready() && sys_real.mremap
                  ? sys_real.mremap(old, old_len, new_len, flags, want)
                  : (void *)syscall(SYS_mremap, old, old_len, new_len, flags, want);
    if (known) {
        int saved = errno;
        if (p == MAP_FAILED) {
            ag_rec_region_restore((uintptr_t)old, plen, &cut);
        } else {
            ag_rec_region((uintptr_t)p, page_len(new_len), PROTO_STACK_MMAP);
        }
        errno = saved;
    }
    return p;
}

/* Forwarded; growth is recorded at the caller's stack, a shrink ends what it gives back. */
AG_EXPORT void *sbrk(intptr_t incr)
{
    if (!sys_ready() || !sys_real.sbrk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    const void *ret = __builtin_return_address(0);
    void *prev = sys_real.sbrk(incr);
    if (prev != (void *)-1 && incr != 0 && sys_tracked(ret)) {
        if (incr > 0) {
            ag_rec_region((uintptr_t)prev, (size_t)incr, PROTO_STACK_BRK);
        } else {
            size_t down = (size_t)0 - (size_t)incr;
            (void)ag_rec_unregion((uintptr_t)prev - down, down, NULL);
        }
    }
    return prev;
}

/* Forwarded; the distance the break moved is recorded as sbrk records it. */
AG_EXPORT int brk(void *addr)
{
    if (!sys_ready() || !sys_real.brk || !sys_real.sbrk) {
        errno = ENOMEM;
        return -1;
    }
    const void *ret = __builtin_return_address(0);
    uintptr_t before = (uintptr_t)sys_real.sbrk(0);
    int rc = sys_real.brk(addr);
    if (rc == 0 && before != (uintptr_t)-1 && sys_tracked(ret)) {
        uintptr_t now = (uintptr_t)addr;
        if (now > before) {
            ag_rec_region(before, now - before, PROTO_STACK_BRK);
        } else if (now < before) {
            (void)ag_rec_unregion(now, before - now, NULL);
        }
    }
    return rc;
}

/* The agent's constructor (priority 101: before the target's own constructors). The work is in
 * ag_init.c, which unit tests link without running it. */
__attribute__((constructor(101))) static void ag_hook_init(void)
{
    ag_init_start();
}

/* Resolves the system-memory functions after the agent's start-up (priority 102); the regions'
 * lock is taken around fork by the agent's fork handlers (ag_init.c), with its other locks. */
__attribute__((constructor(102))) static void ag_hook_init_regions(void)
{
    int was = ag_guard;
    ag_guard = 1;
    (void)sys_ready();
    ag_guard = was;
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
