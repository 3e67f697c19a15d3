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

/* Index of the culprit in frames[0..n-1] (allocator side first): the first frame that is not a
 * wrapper. When every frame is a wrapper (a stack cut short inside a library), the last frame,
 * the one nearest to the caller's code. Returns 0 when n == 0 (no frame to index: check n).
 * Can't fail. */
size_t culprit_pick(const struct culprit_rules *r, const struct rpt_frame *frames, size_t n);

#endif
