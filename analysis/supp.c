/* SPDX-License-Identifier: MIT */
/* supp.c - suppressions: allocation sites that must never make a leak verdict.
 *
 * A rule's parts are fnmatch(3) globs (see supp.h). The stack part is matched like valgrind's
 * frame lists: one glob per frame, anchored at the culprit, "..." standing for any number of
 * frames. Matching is a small backtracking walk; rules are short, so it stays cheap.
 */
#include "supp.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* True when `glob` matches `name`; NULL names match nothing. */
static bool glob_match(const char *glob, const char *name)
{
    return name && fnmatch(glob, name, 0) == 0;
}

/* True when `glob` matches the frame's object, by full path or basename. */
static bool object_match(const char *glob, const struct rpt_frame *f)
{
    if (!f->object) {
        return false;
    }
    const char *base = strrchr(f->object, '/');
    base = base ? base + 1 : f->object;
    return glob_match(glob, f->object) || glob_match(glob, base);
}

/* True when one stack glob matches one frame: "object:GLOB" against the object, anything else
 * against the demangled or the mangled function name. */
static bool frame_match(const char *glob, const struct rpt_frame *f)
{
    if (strncmp(glob, "object:", 7) == 0) {
        return object_match(glob + 7, f);
    }
    return glob_match(glob, f->function) || glob_match(glob, f->system_name);
}

/* True when globs[0..ng-1] match frames[0..nf-1] from its start ("..." = zero or more frames);
 * frames left over after the last glob are allowed, as in valgrind. */
static bool stack_match(char *const *globs, size_t ng, const struct rpt_frame *frames, size_t nf)
{
    if (ng == 0) {
        return true;
    }
    if (globs[0] && strcmp(globs[0], "...") == 0) {
        for (size_t skip = 0; skip <= nf; skip++) {
            if (stack_match(globs + 1, ng - 1, frames + skip, nf - skip)) {
                return true;
            }
        }
        return false;
    }
    if (nf == 0 || !globs[0] || !frame_match(globs[0], &frames[0])) {
        return false;
    }
    return stack_match(globs + 1, ng - 1, frames + 1, nf - 1);
}

/* True when one rule matches. A rule with no part set matches nothing. */
static bool rule_match(const struct supp_rule *r, const struct rpt_frame *frames, size_t nf)
{
    if (!r->function && !r->object && r->n_stack == 0) {
        return false;
    }
    if (r->function) {
        bool any = false;
        for (size_t i = 0; i < nf && !any; i++) {
            any = glob_match(r->function, frames[i].function) ||
                  glob_match(r->function, frames[i].system_name);
        }
        if (!any) {
            return false;
        }
    }
    if (r->object) {
        bool any = false;
        for (size_t i = 0; i < nf && !any; i++) {
            any = object_match(r->object, &frames[i]);
        }
        if (!any) {
            return false;
        }
    }
    if (r->n_stack > 0 && (!r->stack || !stack_match(r->stack, r->n_stack, frames, nf))) {
        return false;
    }
    return true;
}

bool supp_match(const struct supp_rule *rules, size_t n_rules, const struct rpt_frame *frames,
                size_t n_frames)
{
    if (!rules || (!frames && n_frames > 0)) {
        return false;
    }
    for (size_t i = 0; i < n_rules; i++) {
        if (rule_match(&rules[i], frames, n_frames)) {
            return true;
        }
    }
    return false;
}

void supp_rule_cleanup(struct supp_rule *rule)
{
    if (!rule) {
        return;
    }
    free(rule->function);
    free(rule->object);
    for (size_t i = 0; i < rule->n_stack; i++) {
        free(rule->stack[i]);
    }
    free(rule->stack);
    memset(rule, 0, sizeof(*rule));
}
