/* SPDX-License-Identifier: MIT */
/* sym.h - symbolization of captured return addresses with elfutils libdw.
 *
 * Done once, after the target exits, from the objects the agent listed (path, load bias,
 * executable segments): PIE executables and dlopen'ed libraries included. Gives function,
 * file:line and inlined frames from DWARF, demangled C++ names, and falls back to the ELF symbol
 * table (.symtab, then .dynsym) without debug info. Also names data addresses (global and
 * thread-local variables) for the retainer scan's roots. Not thread-safe: one sym per thread.
 */
#ifndef HARNESS_SYM_H
#define HARNESS_SYM_H

#include <stdbool.h>
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

/* What holds a data address: the variable, its definition and the section. */
struct sym_data {
    char *name; /* the variable (demangled), or NULL when no symbol or DWARF variable covers it */
    char *file; /* its definition's file (DWARF), or NULL */
    uint32_t line;   /* 0 = unknown */
    char *section;   /* the ELF section holding the address (".bss"), or NULL */
    uint64_t offset; /* from the variable's start; from the object's base when unnamed */
};

/* Names the data at `vaddr` of the object `path` loaded at `bias` (added as sym_add_object()
 * does when new): for tls false, vaddr is an ELF virtual address (absolute = bias + vaddr) and
 * the variable is the STT_OBJECT (or STT_COMMON) symbol of .symtab (else .dynsym, or a separate
 * debug file's) covering it, else the DWARF variable whose DW_OP_addr location and type's size
 * cover it; for tls true, vaddr is an offset in the object's TLS block and the variable the
 * STT_TLS symbol (or DWARF thread-local variable) covering it. The definition's file:line comes
 * from the DWARF variable (DW_AT_decl_file/line) at the variable's start. Fills `out` (strings
 * owned by the caller: sym_data_cleanup()). Returns 0 (an unknown address gives an unnamed
 * result), -EINVAL or -ENOMEM (nothing left allocated). */
int sym_resolve_data(struct sym *s, const char *path, uint64_t bias, uint64_t vaddr, bool tls,
                     struct sym_data *out);

/* Frees the strings of `d` and zeroes it. Can't fail. */
void sym_data_cleanup(struct sym_data *d);

/* Demangles a C++ name; returns a malloc'ed string, or NULL when `name` is not mangled. */
char *sym_demangle(const char *name);

#endif
