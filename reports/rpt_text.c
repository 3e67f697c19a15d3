/* SPDX-License-Identifier: MIT */
/* rpt_text.c - shortening names for reports (see rpt_text.h). */
#include "rpt_text.h"

#include <string.h>

const char *rpt_text_cut(const char *s, size_t max, char *out, size_t len)
{
    if (!s || strlen(s) <= max || max + 4 > len) {
        return s;
    }
    size_t n = max;
    // Back up over continuation bytes so that no character is cut in half.
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
        n--;
    }
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}
