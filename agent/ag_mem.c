/* SPDX-License-Identifier: MIT */
/* ag_mem.c - anonymous mappings for the agent's tables, with a running total of their size. */
#include "ag_mem.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic uint64_t mapped_bytes;

static size_t page_round(size_t size)
{
    size_t page = 4096;
    return (size + page - 1) & ~(page - 1);
}

void *ag_mem_map(size_t size)
{
    if (size == 0) {
        return NULL;
    }
    size = page_round(size);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    atomic_fetch_add_explicit(&mapped_bytes, size, memory_order_relaxed);
    return p;
}

void ag_mem_unmap(void *p, size_t size)
{
    if (!p) {
        return;
    }
    size = page_round(size);
    munmap(p, size);
    atomic_fetch_sub_explicit(&mapped_bytes, size, memory_order_relaxed);
}

uint64_t ag_mem_mapped(void)
{
    return atomic_load_explicit(&mapped_bytes, memory_order_relaxed);
}
