/* SPDX-License-Identifier: MIT */
/* ag_boot.c - resolution of the real allocator and the bootstrap arena. */
#include "ag_boot.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define ARENA_SIZE (256u * 1024u)

struct ag_real ag_real;

static _Alignas(4096) unsigned char arena[ARENA_SIZE];
static _Atomic size_t arena_used;
static _Atomic int boot_state; /* 0 unresolved, 1 resolving, 2 done */

/* glibc's own entry points, the fallback when dlsym(RTLD_NEXT) has nothing. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* posix_memalign over __libc_memalign, for when dlsym finds none: EINVAL for a bad alignment,
 * ENOMEM when the allocation fails, 0 otherwise. */
static int fallback_posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) {
        return EINVAL;
    }
    void *p = __libc_memalign(align, size);
    if (!p) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

/* aligned_alloc over __libc_memalign. Returns NULL on failure. */
static void *fallback_aligned_alloc(size_t align, size_t size)
{
    return __libc_memalign(align, size);
}

/* malloc_usable_size when none is found: 0 ("unknown") for every block. Can't fail. */
static size_t fallback_usable_size(void *p)
{
    (void)p;
    return 0;
}

/* The next definition of `name` after this library, or `fallback`. dlsym may allocate (served
 * from the arena while boot_state is 1). */
static void *next(const char *name, void *fallback)
{
    void *f = dlsym(RTLD_NEXT, name);
    return f ? f : fallback;
}

bool ag_boot_resolve(void)
{
    int state = atomic_load_explicit(&boot_state, memory_order_acquire);
    if (state == 2) {
        return true;
    }
    int expected = 0;
    if (state != 0 || !atomic_compare_exchange_strong_explicit(
                          &boot_state, &expected, 1, memory_order_acq_rel, memory_order_acquire)) {
        return atomic_load_explicit(&boot_state, memory_order_acquire) == 2;
    }
    struct ag_real r;
    r.malloc = (void *(*)(size_t))next("malloc", (void *)__libc_malloc);
    r.free = (void (*)(void *))next("free", (void *)__libc_free);
    r.calloc = (void *(*)(size_t, size_t))next("calloc", (void *)__libc_calloc);
    r.realloc = (void *(*)(void *, size_t))next("realloc", (void *)__libc_realloc);
    r.posix_memalign =
        (int (*)(void **, size_t, size_t))next("posix_memalign", (void *)fallback_posix_memalign);
    r.aligned_alloc =
        (void *(*)(size_t, size_t))next("aligned_alloc", (void *)fallback_aligned_alloc);
    r.memalign = (void *(*)(size_t, size_t))next("memalign", (void *)__libc_memalign);
    r.valloc = (void *(*)(size_t))next("valloc", (void *)__libc_valloc);
    r.pvalloc = (void *(*)(size_t))next("pvalloc", (void *)__libc_pvalloc);
    r.malloc_usable_size =
        (size_t(*)(void *))next("malloc_usable_size", (void *)fallback_usable_size);
    ag_real = r;
    atomic_store_explicit(&boot_state, 2, memory_order_release);
    return true;
}

void *ag_boot_alloc(size_t size, size_t align)
{
    if (align < 16) {
        align = 16;
    }
    if (align > 4096 || size > ARENA_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    /* Each block is preceded by 16 bytes holding its size, for realloc. */
    size_t need = ((size + 15) & ~(size_t)15) + align + 16;
    size_t off = atomic_fetch_add_explicit(&arena_used, need, memory_order_relaxed);
    if (off + need > ARENA_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t base = (uintptr_t)arena + off + 16;
    uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
    memcpy((void *)(p - sizeof(size_t)), &size, sizeof(size));
    return (void *)p; /* static storage: already zero */
}

void *ag_boot_realloc(void *old, size_t size)
{
    void *p = ag_boot_alloc(size, 16);
    if (p && old) {
        size_t old_size = ag_boot_size(old);
        memcpy(p, old, old_size < size ? old_size : size);
    }
    return p;
}

bool ag_boot_owns(const void *p)
{
    return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + ARENA_SIZE;
}

size_t ag_boot_size(const void *p)
{
    size_t size;
    memcpy(&size, (const unsigned char *)p - sizeof(size), sizeof(size));
    return size;
}
