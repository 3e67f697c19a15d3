/* SPDX-License-Identifier: MIT */
/* rpt_name.h - the names of frames and sites as people read them, in every view.
 *
 * A frame is "function (file:line)"; C++ names are shortened for display (template arguments
 * and parameter lists elided: "std::vector<…>::push_back(…)") unless the full names are asked
 * for; a frame without a name is "object+0xoffset" (the object's basename and the offset of the
 * call in it), or "0xaddress" outside every object: never "?" or "??". A site is its culprit
 * frame; when another site of the same scenario has the same culprit frame but not the same
 * stack, the first caller that tells them apart follows ("record (s.cpp:16) ← login
 * (s.cpp:42)"). The JSON report keeps the full names. Pure; no globals; thread-safe.
 */
#ifndef REPORTS_RPT_NAME_H
#define REPORTS_RPT_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/rpt.h"

/* Writes `name` into out[0..len-1] with template arguments ("<…>") and parameter lists ("(…)",
 * "()" when empty) elided; operators ("operator<<", "operator()") and "(anonymous namespace)"
 * are kept. Returns out. Can't fail (a name longer than `len` is cut). */
const char *rpt_name_short(const char *name, char *out, size_t len);

/* "function (file:line)", "function (file)", "function", "object+0xoffset" or "0xaddress" for
 * frame `f`; the function shortened unless `full`. Can't fail. */
void rpt_name_frame(const struct rpt_frame *f, bool full, char *out, size_t len);

/* The culprit of `site` as rpt_name_frame() names it (from its stack, or from its culprit fields
 * when it has none; "site #ID" when nothing is known). Can't fail. */
void rpt_name_culprit(const struct rpt_site *site, bool full, char *out, size_t len);

/* The culprit of `site` followed, when another site of `s` shares its culprit frame but not its
 * stack, by " ← " and the callers up to the first one that tells them apart ("…" between when
 * there are several). Can't fail. */
void rpt_name_site(const struct rpt_scenario *s, const struct rpt_site *site, bool full, char *out,
                   size_t len);

/* True when sites `a` and `b` (of two reports of the same program, say) have the same stack:
 * frame by frame the same function, file and line, or, for frames without a name, the same
 * object basename and offset. Can't fail. */
bool rpt_name_same_stack(const struct rpt_site *a, const struct rpt_site *b);

#endif
