/* SPDX-License-Identifier: MIT */
/* ag_mem.h - the agent's own memory: anonymous mmap regions, never the target's heap.
 *
 * Every byte the agent keeps comes from here, so the target's allocator never sees the agent
 * and the agent's memory is never counted as the target's. Hook-safe: no heap, no stdio.
 */
#ifndef AGENT_AG_MEM_H
#define AGENT_AG_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Maps `size` bytes of zeroed memory (rounded up to pages). Returns NULL when mmap fails.
 * Thread-safe. Hook-safe. */
void *ag_mem_map(size_t size);

/* Unmaps a region returned by ag_mem_map with the same `size`. NULL is a no-op. Thread-safe. */
void ag_mem_unmap(void *p, size_t size);

/* Bytes currently mapped by ag_mem_map. Thread-safe. Hook-safe. */
uint64_t ag_mem_mapped(void);

#endif
