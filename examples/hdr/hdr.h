/* SPDX-License-Identifier: MIT */
/* hdr.h - a tiny header-line parser, the example library for include/leakcheck.h.
 *
 * Parses "Name: value" lines. It remembers the header names it has seen (for "did you mean"
 * messages): hdr_parse_leaky() keeps a new record for every line it parses, so a long-running
 * program keeps a little more memory per call, still reachable, freed at exit by hdr_reset():
 * the kind of leak valgrind and LeakSanitizer do not report. hdr_parse() keeps each name once.
 */
#ifndef EXAMPLES_HDR_H
#define EXAMPLES_HDR_H

#include <stddef.h>

struct hdr {
    char name[64];
    char value[192];
};

/* Parses `line` into *out. Returns 0, or -EINVAL when the line has no ':' or a part is too
 * long. Remembers the name once. Not thread-safe. */
int hdr_parse(const char *line, struct hdr *out);

/* Same as hdr_parse(), but keeps one new record per call: the leak the example finds. */
int hdr_parse_leaky(const char *line, struct hdr *out);

/* Names remembered so far. Can't fail. */
size_t hdr_known(void);

/* Frees every remembered name. Can't fail. */
void hdr_reset(void);

#endif
