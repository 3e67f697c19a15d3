/* SPDX-License-Identifier: MIT */
/* rpt_retain.h - who holds a site's survivors, in words: the one wording of the retainer scan's
 * result that the terminal, HTML, Markdown and JUnit share (docs/RETAINERS.md).
 *
 * A group reads as a path from its root to the survivors: "held by g_cache +8 (server.c:40) →
 * block from cache_new (server.c:88) +16 → these blocks", where "+N" is the byte offset of the
 * pointer inside the variable or block before it (left out when the group's paths differ in it:
 * the slots of an array, the buckets of a table); a group without a root reads "lost: no pointer
 * to these blocks remains". Function names are shortened as rpt_name.h does unless the full names
 * are asked for. Pure; no globals; thread-safe.
 */
#ifndef REPORTS_RPT_RETAIN_H
#define REPORTS_RPT_RETAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/rpt.h"

/* The root of group `r`: "g_cache +8 (server.c:40)", "server+0x4010 (.bss)", "thread-local
 * t_cache (worker.c:12), thread 4242", "thread-local storage of libfoo.so", "a local of main
 * (server.c:120), thread 4242", "register rbx, thread 4242"; "" for a lost group. Can't fail. */
void rpt_retain_root(const struct rpt_retainer *r, bool full, char *out, size_t len);

/* Group `r` as one path: "held by ROOT → block from FUNCTION (FILE:LINE) +16 → these blocks", or
 * "lost: no pointer to these blocks remains". Can't fail (cut at `len`). */
void rpt_retain_path(const struct rpt_retainer *r, bool full, char *out, size_t len);

/* The line under a suspect: its top group's path, the share of the sampled survivors it holds,
 * how many other paths there are, and "scan cut short: WHY" when the scan did not finish
 * ("held by ... → these blocks (60 of 64 sampled survivors; 1 other path)"). Returns false, with
 * out "", when there is nothing to say: no scan ran, or it ran to the end and sampled none of the
 * site's survivors. Can't fail. */
bool rpt_retain_line(const struct rpt_scenario *sc, const struct rpt_site *site, bool full,
                     char *out, size_t len);

#endif
