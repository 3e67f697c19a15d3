/* SPDX-License-Identifier: MIT */
/* ag_hook.c - the interposed allocator functions: guard, bootstrap, forward, record.
 *
 * A thin shim over the table, the stack store and the channel. Every hook calls the real
 * function first and records after it succeeded (a free is recorded before the real free,
 * since another thread may get the address back at once). The target always gets exactly what
 * the real allocator returned, with errno as the real allocator left it: the agent adds no
 * header to blocks and never changes the heap layout the target sees.
 *
 * Start-up: the constructor reads LEAKCHECK_FD or LEAKCHECK_INPROC (secure_getenv), removes the
 * agent's variables and its own LD_PRELOAD entry from the environment so exec'd children start
 * clean, marks the channel close-on-exec, sends HELLO, allocates the canary through the target's
 * own `malloc` symbol, and starts the channel thread. Without a channel, or in a set-uid program,
 * the agent stays in pass-through mode.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "../common/proto.h"
#include "ag_boot.h"
#include "ag_chan.h"
#include "ag_core.h"

#define SKIP_MAX 4u /* the agent's own frames at the top of a capture */

static inline bool tracking(void)
{
    return atomic_load_explicit(&ag_state.mode, memory_order_relaxed) == AG_MODE_TRACK;
}

/* Captures the caller's stack (the agent's own frames dropped) and interns it. Returns the
 * stack id, or 0. Called with the guard set. */
static uint32_t capture(void)
{
    void *raw[AG_STACK_MAX_DEPTH + SKIP_MAX];
    unsigned want = ag_state.depth + SKIP_MAX;
    int n = unw_backtrace(raw, (int)want);
    if (n <= 0) {
        atomic_fetch_add_explicit(&ag_state.unwind_errors, 1, memory_order_relaxed);
        return ag_stack_intern(&ag_state.stacks, NULL, 0, 0);
    }
    unsigned first = 0;
    while (first < (unsigned)n && (uintptr_t)raw[first] >= ag_state.self_lo &&
           (uintptr_t)raw[first] < ag_state.self_hi) {
        first++;
    }
    unsigned depth = (unsigned)n - first;
    uint16_t flags = 0;
    if ((unsigned)n == want) {
        flags = PROTO_STACK_TRUNCATED;
        atomic_fetch_add_explicit(&ag_state.truncated, 1, memory_order_relaxed);
    }
    if (depth > ag_state.depth) {
        depth = ag_state.depth;
    }
    return ag_stack_intern(&ag_state.stacks, (const uintptr_t *)(raw + first), depth, flags);
}

/* Records a new live block. */
static __attribute__((noinline)) void record_alloc(void *p, size_t size)
{
    int saved = errno;
    ag_guard = 1;
    uint32_t id = capture();
    ag_stack_count_alloc(&ag_state.stacks, id, size);
    /* A block whose stack could not be stored is still counted, under stack 0. */
    (void)ag_table_insert(&ag_state.table, (uintptr_t)p, size, id,
                          atomic_load_explicit(&ag_state.epoch, memory_order_relaxed));
    ag_guard = 0;
    errno = saved;
}

static __attribute__((noinline)) void record_free(void *p)
{
    int saved = errno;
    ag_guard = 1;
    ag_table_remove(&ag_state.table, (uintptr_t)p, NULL);
    ag_guard = 0;
    errno = saved;
}

static __attribute__((noinline)) void count_untracked(void)
{
    if (tracking()) {
        atomic_fetch_add_explicit(&ag_state.untracked, 1, memory_order_relaxed);
    }
}

/* After a successful allocation: record it, or count it as untracked when re-entered. */
static inline void after_alloc(void *p, size_t size)
{
    if (__builtin_expect(p != NULL && tracking(), 1)) {
        if (__builtin_expect(!ag_guard, 1)) {
            record_alloc(p, size);
        } else {
            count_untracked();
        }
    }
}

static inline bool ready(void)
{
    return __builtin_expect(ag_real.free != NULL, 1) || ag_boot_resolve();
}

AG_EXPORT void *malloc(size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, 16);
    }
    void *p = ag_real.malloc(size);
    after_alloc(p, size);
    return p;
}

AG_EXPORT void free(void *p)
{
    if (!p || ag_boot_owns(p)) {
        return;
    }
    if (!ready()) {
        return; /* cannot happen for a block the real allocator made: it is resolved by then */
    }
    if (__builtin_expect(tracking() && !ag_guard, 1)) {
        record_free(p);
    }
    ag_real.free(p);
}

AG_EXPORT void *calloc(size_t n, size_t size)
{
    if (!ready()) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return ag_boot_alloc(total, 16);
    }
    void *p = ag_real.calloc(n, size);
    after_alloc(p, n * size);
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

AG_EXPORT void *realloc(void *old, size_t size)
{
    if (!ready()) {
        void *p = ag_boot_alloc(size, 16);
        if (p && old) {
            size_t old_size = ag_boot_size(old);
            memcpy(p, old, old_size < size ? old_size : size);
        }
        return p;
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
    int saved = errno;
    ag_guard = 1;
    struct ag_block was;
    bool known = ag_table_remove(&ag_state.table, (uintptr_t)old, &was);
    ag_guard = 0;
    errno = saved;
    void *p = ag_real.realloc(old, size);
    if (p) {
        record_alloc(p, size);
    } else if (size != 0 && known) {
        saved = errno;
        ag_guard = 1;
        (void)ag_table_insert(&ag_state.table, was.ptr, was.size, was.stack_id, was.epoch);
        ag_guard = 0;
        errno = saved;
    }
    return p;
}

AG_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

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

AG_EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, align);
    }
    void *p = ag_real.aligned_alloc(align, size);
    after_alloc(p, size);
    return p;
}

AG_EXPORT void *memalign(size_t align, size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, align);
    }
    void *p = ag_real.memalign(align, size);
    after_alloc(p, size);
    return p;
}

AG_EXPORT void *valloc(size_t size)
{
    if (!ready()) {
        return ag_boot_alloc(size, 4096);
    }
    void *p = ag_real.valloc(size);
    after_alloc(p, size);
    return p;
}

AG_EXPORT void *pvalloc(size_t size)
{
    if (!ready()) {
        return ag_boot_alloc((size + 4095) & ~(size_t)4095, 4096);
    }
    void *p = ag_real.pvalloc(size);
    after_alloc(p, size);
    return p;
}

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

/* ---------------------------------------------------------------- fork */

static void fork_prepare(void)
{
    ag_stack_lock(&ag_state.stacks);
    ag_table_lock_all(&ag_state.table);
}

static void fork_parent(void)
{
    ag_table_unlock_all(&ag_state.table);
    ag_stack_unlock(&ag_state.stacks);
}

static void fork_child(void)
{
    ag_table_unlock_all(&ag_state.table);
    ag_stack_unlock(&ag_state.stacks);
    /* The channel belongs to the process the harness started; the child has no channel thread
     * and must never write to it, nor keep the harness from seeing its end. */
    if (ag_state.chan_fd >= 0) {
        close(ag_state.chan_fd);
        ag_state.chan_fd = -1;
    }
    atomic_store(&ag_state.mode, AG_MODE_PASS);
}

/* ---------------------------------------------------------------- start-up */

/* Parses a small decimal number; returns -1 for anything else. */
static long parse_small(const char *s)
{
    if (!s || !*s) {
        return -1;
    }
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int find_self(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    uintptr_t probe = (uintptr_t)ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe >= lo && probe < hi) {
            ag_state.self_lo = lo;
            ag_state.self_hi = hi;
            return 1;
        }
    }
    return 0;
}

/* Removes this library from LD_PRELOAD (by file name), so exec'd programs start without it. */
static void strip_preload(void)
{
    const char *pre = secure_getenv("LD_PRELOAD");
    if (!pre) {
        return;
    }
    char out[4096];
    size_t len = 0;
    const char *p = pre;
    while (*p) {
        while (*p == ' ' || *p == ':') {
            p++;
        }
        const char *start = p;
        while (*p && *p != ' ' && *p != ':') {
            p++;
        }
        size_t n = (size_t)(p - start);
        if (n == 0) {
            continue;
        }
        const char *base = memrchr(start, '/', n);
        base = base ? base + 1 : start;
        size_t base_len = (size_t)(p - base);
        static const char me[] = "libleakcheck-agent.so";
        if (base_len == sizeof(me) - 1 && memcmp(base, me, base_len) == 0) {
            continue;
        }
        if (len + n + 2 > sizeof(out)) {
            return; /* too long to rewrite safely: leave it */
        }
        if (len > 0) {
            out[len++] = ':';
        }
        memcpy(out + len, start, n);
        len += n;
    }
    out[len] = '\0';
    if (len == 0) {
        unsetenv("LD_PRELOAD");
    } else {
        setenv("LD_PRELOAD", out, 1);
    }
}

__attribute__((constructor(101))) static void ag_init(void)
{
    ag_boot_resolve();
    ag_guard = 1;
    if (getauxval(AT_SECURE)) {
        /* Set-uid or set-gid: never trust the environment, never attach. */
        atomic_store(&ag_state.mode, AG_MODE_PASS);
        ag_guard = 0;
        return;
    }
    long fd = parse_small(secure_getenv(PROTO_ENV_FD));
    long depth = parse_small(secure_getenv(PROTO_ENV_DEPTH));
    bool inproc = parse_small(secure_getenv(PROTO_ENV_INPROC)) == 1;
    struct stat sb;
    bool channel = fd >= 0 && fstat((int)fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
    if (!channel && !inproc) {
        atomic_store(&ag_state.mode, AG_MODE_PASS);
        ag_guard = 0;
        return;
    }
    if (depth >= 1 && depth <= (long)AG_STACK_MAX_DEPTH) {
        ag_state.depth = (unsigned)depth;
    }
    if (channel) {
        ag_state.chan_fd = (int)fd;
        fcntl(ag_state.chan_fd, F_SETFD, FD_CLOEXEC);
    }
    unsetenv(PROTO_ENV_FD);
    unsetenv(PROTO_ENV_DEPTH);
    unsetenv(PROTO_ENV_INPROC);
    strip_preload();

    dl_iterate_phdr(find_self, (void *)(uintptr_t)&capture);
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    pthread_atfork(fork_prepare, fork_parent, fork_child);

    if (channel && ag_chan_hello(&ag_state) < 0) {
        atomic_store(&ag_state.mode, AG_MODE_PASS);
        ag_guard = 0;
        return;
    }
    atomic_store(&ag_state.epoch, 0);
    atomic_store(&ag_state.mode, AG_MODE_TRACK);

    /* The canary goes through whatever `malloc` the target itself calls: if that is not this
     * agent's (a static binary, a private allocator), the harness sees no canary and says so. */
    void *(*target_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "malloc");
    if (target_malloc) {
        ag_guard = 0;
        void *canary = target_malloc(PROTO_CANARY_SIZE);
        ag_guard = 1;
        if (canary) {
            memset(canary, 0xca, PROTO_CANARY_SIZE);
            ag_state.canary = (uintptr_t)canary;
        }
    }
    if (channel && ag_chan_start(&ag_state) < 0) {
        atomic_store(&ag_state.mode, AG_MODE_PASS);
    }
    ag_guard = 0;
}

/* ---------------------------------------------------------------- in-process API */

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
