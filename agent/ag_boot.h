/* SPDX-License-Identifier: MIT */
/* ag_boot.h - finding the real allocator, and serving allocations until it is found.
 *
 * The hooks can run before the agent's constructor, and dlsym() itself allocates. Until the
 * real functions are resolved, allocations come from a static arena whose blocks free() ignores
 * and realloc() copies out of. If dlsym finds nothing, glibc's __libc_* entry points are used.
 * Hook-safe.
 */
#ifndef AGENT_AG_BOOT_H
#define AGENT_AG_BOOT_H

#include <stdbool.h>
#include <stddef.h>

struct ag_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
};

extern struct ag_real ag_real __attribute__((visibility("hidden")));

/* Resolves the real functions once. Returns true when ag_real is usable; false while a
 * resolution is under way (on this or another thread): the caller then uses the arena.
 * Thread-safe. Hook-safe. */
bool ag_boot_resolve(void);

/* Allocates from the static arena (zeroed, aligned to `align`, a power of two <= 4096).
 * Returns NULL when the arena is exhausted (errno is then ENOMEM). Thread-safe. Hook-safe. */
void *ag_boot_alloc(size_t size, size_t align);

/* realloc before the real functions are resolved: a new arena block holding the start of the
 * arena block `old` (NULL: a plain allocation). Returns NULL when the arena is exhausted (errno
 * is then ENOMEM; `old` stays valid). Thread-safe. Hook-safe. */
void *ag_boot_realloc(void *old, size_t size);

/* True when `p` lies in the static arena. Can't fail. Hook-safe. */
bool ag_boot_owns(const void *p);

/* Usable size of an arena block. Hook-safe. */
size_t ag_boot_size(const void *p);

#endif
