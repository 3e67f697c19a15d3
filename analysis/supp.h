/* SPDX-License-Identifier: MIT */
/* supp.h - suppressions: allocation sites that must never make a leak verdict.
 *
 * Modelled on valgrind's suppressions. A rule has up to three parts, all fnmatch(3) globs; a rule
 * matches a site when every part it sets matches:
 *   function  matches the function (demangled, or the mangled name) of any frame;
 *   object    matches the object of any frame, by full path or by basename;
 *   stack     matches consecutive frames starting at the culprit frame, one glob per frame
 *             (against the function name, or the object when written "object:GLOB"); "..."
 *             matches any number of frames (zero or more), like valgrind's frame-level wildcard.
 * A rule with no part set never matches. Frames given are the site's stack from the culprit
 * frame outward (see culprit.h): the allocator wrappers below the culprit are not matched.
 *
 * Pure computation, no I/O; thread-safe.
 */
#ifndef HARNESS_SUPP_H
#define HARNESS_SUPP_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/rpt.h"

/* One rule, as read from a scenario's `suppress` list. Strings may be NULL (not set). */
struct supp_rule {
    char *function;
    char *object;
    char **stack; /* n_stack globs, culprit first; "..." is the wildcard frame */
    size_t n_stack;
};

/* True when any rule of rules[0..n_rules-1] matches the stack frames[0..n_frames-1], which
 * starts at the culprit frame: pass `frames + c`, `n - c` with c = culprit_pick(...). Can't
 * fail. */
bool supp_match(const struct supp_rule *rules, size_t n_rules, const struct rpt_frame *frames,
                size_t n_frames);

/* Frees the strings one rule owns (not the struct itself) and clears it. NULL is a no-op. */
void supp_rule_cleanup(struct supp_rule *rule);

#endif
