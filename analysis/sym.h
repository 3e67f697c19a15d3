/* SPDX-License-Identifier: MIT */
/* sym.h - symbolization of captured return addresses with elfutils libdw.
 *
 * Done once, after the target exits, from the objects the agent listed (path, load bias,
 * executable segments): PIE executables and dlopen'ed libraries included. Gives function,
 * file:line and inlined frames from DWARF, demangled C++ names, and falls back to the ELF symbol
 * table (.symtab, then .dynsym) without debug info. Not thread-safe: one sym per thread.
 */
#ifndef HARNESS_SYM_H
#define HARNESS_SYM_H

#include <stddef.h>
#include <stdint.h>

#include "../model/rpt.h"

struct sym;

struct sym_segment {
    uint64_t start; /* absolute, as loaded */
    uint64_t end;
    uint64_t file_offset;
};

/* Creates an empty symbolizer. Returns NULL when out of memory. Caller frees with sym_free(). */
struct sym *sym_new(void);
void sym_free(struct sym *s);

/* Adds a loaded object: its path, load bias and executable segments (copied). An object seen
 * again with the same path and bias is ignored. Returns 0 or -ENOMEM. */
int sym_add_object(struct sym *s, const char *path, uint64_t bias, const struct sym_segment *segs,
                   size_t n_segs, const uint8_t *build_id, size_t build_id_len);

/* Symbolizes `pc`, a return address as captured (the function subtracts 1 itself). Writes one or
 * more frames to `out` (innermost inlined frame first, the physical function last), at most
 * `max` frames, all strings owned by the caller (free each with free()). Unknown addresses give
 * one frame with only `address` and, if known, `object`. Returns the number of frames written
 * (>= 1 when max >= 1), or -ENOMEM. */
int sym_resolve(struct sym *s, uint64_t pc, struct rpt_frame *out, size_t max);

/* Demangles a C++ name; returns a malloc'ed string, or NULL when `name` is not mangled. */
char *sym_demangle(const char *name);

#endif
