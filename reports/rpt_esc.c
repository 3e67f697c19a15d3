/* SPDX-License-Identifier: MIT */
/* rpt_esc.c - escaping text for the formats the writers produce: XML and HTML, Markdown.
 *
 * Names in reports come from the target (function names, file paths) and from users (scenario
 * names): anything may be in them. XML cannot carry most control characters even as references,
 * and invalid UTF-8 would make the whole document unreadable, so both become '?'.
 */
#include "rpt_esc.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not valid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) {
        return 0;
    }
    return n;
}

/* Escapes for XML; `text` keeps newlines and tabs as they are (element text). */
static void xml_escape(struct buf *b, const char *s, const char *null_as, bool text);

void rpt_esc_xml(struct buf *b, const char *s, const char *null_as)
{
    xml_escape(b, s, null_as, false);
}

void rpt_esc_xml_text(struct buf *b, const char *s, const char *null_as)
{
    xml_escape(b, s, null_as, true);
}

static void xml_escape(struct buf *b, const char *s, const char *null_as, bool text)
{
    if (!s) {
        s = null_as;
    }
    if (!s) {
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&':
            buf_puts(b, "&amp;");
            p++;
            continue;
        case '<':
            buf_puts(b, "&lt;");
            p++;
            continue;
        case '>':
            buf_puts(b, "&gt;");
            p++;
            continue;
        case '"':
            buf_puts(b, "&quot;");
            p++;
            continue;
        case '\'':
            buf_puts(b, "&#39;");
            p++;
            continue;
        case '\n':
            buf_puts(b, text ? "\n" : "&#10;");
            p++;
            continue;
        case '\t':
            buf_puts(b, text ? "\t" : "&#9;");
            p++;
            continue;
        default:
            break;
        }
        if (*p < 0x20 || *p == 0x7f) {
            // XML 1.0 has no way to write most control characters, even as references.
            buf_puts(b, "?");
            p++;
            continue;
        }
        size_t n = utf8_len(p);
        if (n == 0) {
            buf_puts(b, "?");
            p++;
            continue;
        }
        buf_add(b, p, n);
        p += n;
    }
}

void rpt_esc_md(struct buf *b, const char *s, const char *null_as)
{
    if (!s) {
        s = null_as;
    }
    if (!s) {
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '<':
            buf_puts(b, "&lt;");
            continue;
        case '>':
            buf_puts(b, "&gt;");
            continue;
        case '&':
            buf_puts(b, "&amp;");
            continue;
        case '\n':
        case '\r':
        case '\t':
            buf_puts(b, " ");
            continue;
        default:
            break;
        }
        if (strchr("\\`*_{}[]()#+-.!|~", *p)) {
            buf_add(b, "\\", 1);
            buf_add(b, p, 1);
        } else if (*p < 0x20 || *p == 0x7f) {
            buf_puts(b, "?");
        } else if (*p < 0x80) {
            buf_add(b, p, 1);
        } else {
            // Whole UTF-8 sequences pass; a byte that starts none becomes U+FFFD.
            size_t n = utf8_len(p);
            if (n == 0) {
                buf_puts(b, "\xef\xbf\xbd");
            } else {
                buf_add(b, p, n);
                p += n - 1;
            }
        }
    }
}
