/* SPDX-License-Identifier: MIT */
/* hostile_malloc.c - a line server ("ok" per stdin line) that brings its own allocator: the
 * executable defines the whole malloc family, so the dynamic linker binds every call (libc's
 * own included) to it and the preloaded agent sees no allocation at all, not even its canary.
 *
 * The allocator is a bump allocator over one static arena; free does nothing. Each block has a
 * 16-byte header holding its size (for realloc and malloc_usable_size).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_SIZE (64u << 20)

static _Alignas(64) unsigned char arena[ARENA_SIZE];
static size_t arena_used;

void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void *memalign(size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);
size_t malloc_usable_size(void *p);

/* Carves n bytes aligned to `align` (a power of two, at least 16). Returns NULL when full. */
static void *carve(size_t align, size_t n)
{
    uintptr_t base = (uintptr_t)arena;
    uintptr_t at = (base + arena_used + 16 + align - 1) & ~(uintptr_t)(align - 1);
    if (n > ARENA_SIZE || at + n > base + ARENA_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    ((size_t *)at)[-1] = n;
    arena_used = at + n - base;
    return (void *)at;
}

void *malloc(size_t n)
{
    return carve(16, n);
}

void free(void *p)
{
    (void)p;
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return carve(16, n * size); /* the arena starts zeroed and is never reused */
}

void *realloc(void *p, size_t n)
{
    void *q = carve(16, n);
    if (p && q) {
        size_t old = ((size_t *)p)[-1];
        memcpy(q, p, old < n ? old : n);
    }
    return q;
}

void *memalign(size_t align, size_t n)
{
    return carve(align < 16 ? 16 : align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = memalign(align, n);
    if (!p) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return memalign(4096, n);
}

void *pvalloc(size_t n)
{
    return memalign(4096, (n + 4095) & ~(size_t)4095);
}

size_t malloc_usable_size(void *p)
{
    return p ? ((size_t *)p)[-1] : 0;
}

int main(void)
{
    char line[4096];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char *kept = strdup(line);
        free(kept);
        puts("ok");
    }
    return 0;
}
