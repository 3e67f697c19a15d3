/* SPDX-License-Identifier: MIT */
/* rpt_text.h - shortening the names that reports show (scenario names, functions, paths).
 *
 * Names come from users and from the target and can be any length; a chart title or a
 * Markdown cell shows at most so many bytes of one, cut on a UTF-8 character boundary so the
 * cut text stays valid, with "..." after the cut. Pure; no globals; thread-safe.
 */
#ifndef REPORTS_RPT_TEXT_H
#define REPORTS_RPT_TEXT_H

#include <stddef.h>

/* Returns `s` when it is at most `max` bytes long (or NULL, or when `out` has no room for
 * `max` bytes and "..."); otherwise writes into `out` (`len` bytes) the first `max` bytes of
 * `s`, shortened to the last whole UTF-8 character, followed by "...", and returns `out`.
 * The result is borrowed from `s` or `out`. Can't fail. */
const char *rpt_text_cut(const char *s, size_t max, char *out, size_t len);

#endif
