/* SPDX-License-Identifier: MIT */
/* retainer.h - who holds the survivors: the retainer scan's paths named, grouped and attached.
 *
 * The harness's retainer scan (docs/RETAINERS.md) records, per process, the shortest path from a
 * root to each of up to 64 sampled survivors of a site (REC_RETAIN, read by rec.h). Here each
 * path's root is named: a global by its variable (symbol table, DWARF definition file:line) and
 * the offset into it, or object+offset and section when unnamed; thread-local storage by its
 * variable or module; a stack root by the function of the frame holding it; a register by its
 * name; no root at all is `unreachable` (lost). Each block on the way is named by its site's
 * culprit, and a run of consecutive blocks with the same culprit (a list's nodes, the objects a
 * library chains for one call) is one step, its last block. A site's paths are grouped by (root
 * kind, root name, the way: each step's culprit, or its site when it has no name): offsets
 * vary with the slot a block sits in, so a group keeps the most common offset of each step
 * rather than splitting on it. Groups are ranked by survivors, then bytes, and attached to the
 * sites (rpt_site.retainers); the scan's figures fill rpt_scenario.retain.
 *
 * A stack root's pc is symbolized as a return address (pc - 1), as every other frame: for an
 * outer frame it is one; for a thread's own frame the thread is stopped in a system call, and
 * the pc after the `syscall` instruction minus one still lies inside the same function.
 *
 * Pure computation over the recording (plus the symbol files it reads); thread-safe.
 */
#ifndef ANALYSIS_RETAINER_H
#define ANALYSIS_RETAINER_H

#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"
#include "analysis.h"
#include "rec.h"

/* The site id (rpt_site.id) in `out` of stack `stack_id` of process `p`, or 0 when the process
 * was not measured or the stack has no site. */
typedef uint32_t (*retainer_site_fn)(void *ctx, const struct rec_proc *p, uint32_t stack_id);

/* Fills out->retain from every process's latest scan in `rec`, and attaches the named, grouped
 * paths to out's sites (site ids through `site_of`). A path whose survivor has no site in `out`
 * is left out. `o` gives the allocator-wrapper globs for naming blocks whose site is not
 * reported. Returns 0 or -ENOMEM (then sites may hold part of the result; rpt_scenario_cleanup()
 * frees it). */
int retainer_attach(const struct analysis_opts *o, const struct rec *rec, retainer_site_fn site_of,
                    void *ctx, struct rpt_scenario *out);

/* The name of register `reg` (enum proto_reg): "rax", "rbx"...; "?" when unknown. Can't fail. */
const char *retainer_reg_name(uint32_t reg);

#endif
