/* SPDX-License-Identifier: MIT */
/* rpt_esc.h - escaping report text for XML/HTML and Markdown into a struct buf. No globals. */
#ifndef REPORTS_RPT_ESC_H
#define REPORTS_RPT_ESC_H

#include "../util/buf.h"

/* Appends `s` escaped for XML/HTML text and attribute values (&<>"' and control characters;
 * invalid UTF-8 bytes become '?'). NULL appends `null_as` (which may be NULL too). */
void rpt_esc_xml(struct buf *b, const char *s, const char *null_as);

/* Like rpt_esc_xml() but keeps newlines and tabs (for element text). */
void rpt_esc_xml_text(struct buf *b, const char *s, const char *null_as);

/* Appends `s` for a Markdown table cell: one line, `|` and Markdown specials backslash-escaped,
 * HTML specials as entities. NULL appends `null_as`. */
void rpt_esc_md(struct buf *b, const char *s, const char *null_as);

#endif
