/* SPDX-License-Identifier: MIT */
/* ag_unwind.h - the agent's stack walker: exact DWARF frame rules from .eh_frame, cached per
 * return address.
 *
 * ag_unwind_backtrace() gives the same return addresses as libunwind's unw_backtrace() called
 * at the same place, or says it cannot (it then returns -1 and the caller uses unw_backtrace()).
 * The first time a return address is seen, its frame rule is read from the object's .eh_frame
 * (found through .eh_frame_hdr's search table) and kept in a lock-free table: the canonical
 * frame address (CFA) is rsp or rbp plus a constant, the return address and rbp are saved at a
 * constant offset from it or rbp is unchanged. Anything else - DWARF expressions, signal
 * frames, realigned stacks, code without an FDE, an address outside every loaded object - is
 * remembered as "fall back". Every stack read is checked against the calling thread's stack
 * mapping. dlclose() (interposed here) and any change in the loader's unload count start a new
 * rule generation, so a rule never outlives the code it describes. Hook-safe: no heap, no locks but
 * the loader's (dl_iterate_phdr, on a first sight only), memory from ag_mem.
 */
#ifndef AGENT_AG_UNWIND_H
#define AGENT_AG_UNWIND_H

#include <stdint.h>

/* Writes up to `max` return addresses of the calling thread's stack into `pcs`, the first being
 * the one into the caller of this function, as unw_backtrace() would. Returns how many, or -1
 * when a frame needs the full unwinder (the caller then calls unw_backtrace()). Thread-safe.
 * Hook-safe (call it with the recursion guard set: a first sight may let the loader allocate). */
int ag_unwind_backtrace(uintptr_t *pcs, int max) __attribute__((visibility("hidden")));

/* Captures of the calling thread so far that took the cached walk, and that fell back. */
struct ag_unwind_counts {
    uint64_t fast;
    uint64_t fallback;
};

/* The calling thread's counts. Can't fail. Hook-safe. */
struct ag_unwind_counts ag_unwind_thread_counts(void) __attribute__((visibility("hidden")));

/* The rule generation: it moves on every dlclose() and on every unload noticed otherwise; a
 * rule of an older generation is never used. For tests and diagnostics. Thread-safe. */
uint64_t ag_unwind_generation(void) __attribute__((visibility("hidden")));

/* Slots of the shared rule table (0 before the first walk). For tests. Thread-safe. */
uint64_t ag_unwind_table_slots(void) __attribute__((visibility("hidden")));

#endif
