/* SPDX-License-Identifier: MIT */
/* culprit.h - naming the frame to blame for an allocation site.
 *
 * A site's stack starts inside the allocator (malloc, operator new, strdup, sqlite3_malloc,
 * cJSON_malloc...). The culprit is the first frame, going outward, that is not an allocator
 * wrapper: the code that asked for the memory. A frame is a wrapper when its function name
 * matches one of the function globs, or when the object (shared library) it lives in matches one
 * of the object globs; frames without a function name inside such an object are wrappers too.
 * Globs are fnmatch(3) patterns; object globs are matched against the full path and against the
 * basename. The defaults are listed in docs/ANALYSIS.md; scenario `wrappers` add more.
 *
 * Pure computation; a rule set is read-only after set-up and may then be shared by threads.
 */
#ifndef HARNESS_CULPRIT_H
#define HARNESS_CULPRIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"

struct culprit_rules;

/* Creates a rule set with the default function and object globs loaded. Returns NULL when out of
 * memory. Caller frees with culprit_rules_free(). */
struct culprit_rules *culprit_rules_new(void);

/* Adds one glob (copied). A plain glob matches function names (demangled, as in rpt_frame's
 * `function`, or the mangled `system_name`); a glob written "object:GLOB" matches the object
 * path or basename instead ("object:libfoo.so*"). Returns 0, -EINVAL for NULL, an empty glob or
 * an empty "object:" glob, or -ENOMEM. */
int culprit_rules_add(struct culprit_rules *r, const char *glob);

/* Adds one object glob (copied), same as culprit_rules_add(r, "object:GLOB"). Returns 0, -EINVAL
 * or -ENOMEM. */
int culprit_rules_add_object(struct culprit_rules *r, const char *glob);

/* Frees the rule set. culprit_rules_free(NULL) is a no-op. */
void culprit_rules_free(struct culprit_rules *r);

/* True when `f` is an allocator wrapper under `r`. Can't fail. */
bool culprit_is_wrapper(const struct culprit_rules *r, const struct rpt_frame *f);

/* Why frame `f` is a wrapper under `r` by its names and object alone: RPT_SKIP_USER (the
 * scenario's globs), RPT_SKIP_LISTED (a default function glob), RPT_SKIP_LIBRARY (a default
 * object glob), or RPT_SKIP_NONE. Can't fail. */
enum rpt_skip culprit_listed(const struct culprit_rules *r, const struct rpt_frame *f);

/* Index of the culprit in frames[0..n-1] (allocator side first): the first frame that is not a
 * wrapper. When every frame is a wrapper (a stack cut short inside a library), the last frame,
 * the one nearest to the caller's code. Returns 0 when n == 0 (no frame to index: check n).
 * Can't fail. */
size_t culprit_pick(const struct culprit_rules *r, const struct rpt_frame *frames, size_t n);

/* ---- culprits from the recording: relays ----
 *
 * A function that only relays allocations for its callers (xmalloc, xstrdup, a pool's refill, a
 * node constructor) is not what a person would blame. The recording shows it: the call
 * instruction it allocates from is on the stacks of sites that do not grow as well as on the
 * growing one. The culprit of a growing site is the first frame, going outward from the
 * allocator, whose call instruction is specific to the growing blocks: not listed, and not on
 * the stack of a site that held memory without growing. docs/ANALYSIS.md has the rule with
 * examples. */

/* One allocation site as the relay statistics see it. */
struct culprit_stack {
    const uint64_t *pcs; /* return addresses as captured, allocator side first */
    size_t depth;
    bool growing; /* classified as leaking */
    bool held;    /* held memory steadily (flat or bounded) after some round */
};

struct culprit_relays;

/* Counts, for every call instruction of stacks[0..n-1], the sites that held memory without
 * growing that pass through it. Returns NULL when out of
 * memory. Caller frees with culprit_relays_free(); `stacks` may go after the call. */
struct culprit_relays *culprit_relays_new(const struct culprit_stack *stacks, size_t n);
void culprit_relays_free(struct culprit_relays *rel);

/* Picks the culprit of a growing site in frames[0..n-1] and marks every frame passed over with
 * why (frames[i].skip). Past the listed frames, frames whose call instruction relays (see
 * above) are passed over too; frames of a library on the default list are passed over but,
 * when the frame reached has no name (a stripped program) or is `main`, the library's own
 * outermost named frame is the culprit, so a named frame is always preferred to an unnamed one.
 * `rel` NULL: the listed rules only. Writes a one-line account of the relays and library
 * frames passed over into why[0..why_len-1] ("" when none). Returns the index (0 when n == 0).
 * Can't fail. */
size_t culprit_pick_site(const struct culprit_rules *r, const struct culprit_relays *rel,
                         struct rpt_frame *frames, size_t n, char *why, size_t why_len);

#endif
