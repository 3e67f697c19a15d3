/* SPDX-License-Identifier: MIT */
/* ag_rec.h - what a hook records: the testable core under the interposed functions.
 *
 * The hooks in ag_hook.c decide whether to record (tracking, guard clear) and call the real
 * allocator; these functions do the recording: capture and intern the caller's stack, count
 * the allocation at its site, and put the block in (or take it out of) the live table. Each one
 * sets the recursion guard for its own duration and clears it again, and leaves errno as it
 * found it, so the target sees exactly what the real allocator did. They work on the one
 * ag_state. Thread-safe. Hook-safe.
 */
#ifndef AGENT_AG_REC_H
#define AGENT_AG_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ag_core.h"

/* Records the new live block `p` of `size` bytes, born in the current round, at the caller's
 * stack. A block whose stack could not be stored is counted under stack 0; one the table has no
 * room for is counted as dropped. Can't fail. Call with the guard clear. */
void ag_rec_alloc(void *p, size_t size);

/* Takes `p` out of the live table (counted as an unknown free when it was not there). Can't
 * fail. Call with the guard clear, before the real free(). */
void ag_rec_free(void *p);

/* Takes `p` out of the live table before a real realloc(), so its address can't be reused by
 * another thread while still recorded. Returns true and fills *was (unless NULL) when `p` was
 * live. Call with the guard clear. */
bool ag_rec_take(void *p, struct ag_block *was);

/* Puts back a block that ag_rec_take() took out, after the real realloc() failed. Can't fail
 * (a block the table has no room for is counted as dropped). Call with the guard clear. */
void ag_rec_restore(const struct ag_block *was);

/* Records the region [start, start + len) the program just mapped (kind PROTO_STACK_MMAP) or
 * took from the break (PROTO_STACK_BRK), born in the current round, at the caller's stack, in
 * place of whatever was recorded there. Can't fail (a region with no room is counted as
 * dropped in ag_state.regions). Call with the guard clear. */
void ag_rec_region(uintptr_t start, size_t len, uint16_t kind);

/* Takes [start, start + len) out of the recorded regions before the real munmap (or mremap,
 * or a shrinking brk). Returns true and fills *cut (may be NULL) when any of it was recorded.
 * Call with the guard clear. */
bool ag_rec_unregion(uintptr_t start, size_t len, struct ag_region_cut *cut);

/* Puts [start, start + len) back, with the stack and round of *cut, after the system call that
 * was to remove it failed. Can't fail. Call with the guard clear. */
void ag_rec_region_restore(uintptr_t start, size_t len, const struct ag_region_cut *cut);

/* Counts an allocation that passed through untracked (the guard was set) while tracking.
 * Can't fail. */
void ag_rec_untracked(void);

#endif
