/* SPDX-License-Identifier: MIT */
/* sym.c - symbolization of captured return addresses with elfutils libdw.
 *
 * Every object the agent listed is reported to one Dwfl at its load bias with
 * dwfl_report_elf() (ET_DYN at the bias, ET_EXEC at 0), which covers PIE executables, shared
 * libraries, dlopen'ed ones and non-PIE executables alike; separate debug info is found through
 * dwfl_standard_find_debuginfo() (build-id and .debug paths). Objects that cannot be opened
 * (vdso, deleted files) keep their segments, so an address inside them still names its object.
 *
 * For a pc (return address - 1): the function comes from the DWARF subprogram (linkage name,
 * demangled, or name), else from the ELF symbol table (.symtab, then .dynsym); file:line from
 * the line table; inlined frames from the DWARF scopes containing the pc, innermost first, each
 * outer frame placed at the call site (DW_AT_call_file/line) of the frame inside it. Results are
 * cached per pc. Not thread-safe.
 */
#include "sym.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The C++ runtime's demangler (libstdc++, linked with -lstdc++). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define SYM_MAX_INLINE 32

/* A variable of the DWARF with a fixed address (or TLS offset), for naming data. Strings point
 * into the debug data (alive as long as the Dwfl). */
struct sym_var {
    uint64_t addr; /* absolute (bias added), or the offset in the TLS block */
    uint64_t size; /* its type's size, 0 when unknown */
    bool tls;
    const char *name, *file;
    int line;
};

struct sym_object {
    char *path;
    uint64_t bias;
    struct sym_segment *segs;
    size_t n_segs;
    bool reported; /* known to the Dwfl */
    Dwfl_Module *mod;
    bool vars_read; /* vars below were collected */
    struct sym_var *vars;
    size_t n_vars, cap_vars;
};

struct sym_cached {
    uint64_t pc;
    size_t n;
    struct rpt_frame *frames; /* owned */
    struct sym_cached *next;
};

#define SYM_BUCKETS 4096

struct sym {
    Dwfl *dwfl;
    Dwfl_Callbacks callbacks;
    char *debuginfo_path;
    struct sym_object *objs;
    size_t n_objs, cap_objs;
    struct sym_cached *cache[SYM_BUCKETS];
};

struct sym *sym_new(void)
{
    struct sym *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->callbacks.find_elf = dwfl_build_id_find_elf;
    s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    s->callbacks.section_address = dwfl_offline_section_address;
    s->callbacks.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl) {
        free(s);
        return NULL;
    }
    return s;
}

/* Frees the strings of one frame. */
static void frame_cleanup(struct rpt_frame *f)
{
    free(f->function);
    free(f->system_name);
    free(f->file);
    free(f->object);
    memset(f, 0, sizeof(*f));
}

void sym_free(struct sym *s)
{
    if (!s) {
        return;
    }
    for (size_t b = 0; b < SYM_BUCKETS; b++) {
        struct sym_cached *c = s->cache[b];
        while (c) {
            struct sym_cached *next = c->next;
            for (size_t i = 0; i < c->n; i++) {
                frame_cleanup(&c->frames[i]);
            }
            free(c->frames);
            free(c);
            c = next;
        }
    }
    for (size_t i = 0; i < s->n_objs; i++) {
        free(s->objs[i].path);
        free(s->objs[i].segs);
        free(s->objs[i].vars);
    }
    free(s->objs);
    dwfl_end(s->dwfl);
    free(s);
}

int sym_add_object(struct sym *s, const char *path, uint64_t bias, const struct sym_segment *segs,
                   size_t n_segs, const uint8_t *build_id, size_t build_id_len)
{
    (void)build_id;
    (void)build_id_len;
    if (!s || !path) {
        return -EINVAL;
    }
    for (size_t i = 0; i < s->n_objs; i++) {
        if (s->objs[i].bias == bias && strcmp(s->objs[i].path, path) == 0) {
            return 0;
        }
    }
    if (s->n_objs == s->cap_objs) {
        size_t ncap = s->cap_objs ? s->cap_objs * 2 : 16;
        struct sym_object *no = realloc(s->objs, ncap * sizeof(*no));
        if (!no) {
            return -ENOMEM;
        }
        s->objs = no;
        s->cap_objs = ncap;
    }
    struct sym_object o = {0};
    o.path = strdup(path);
    if (!o.path) {
        return -ENOMEM;
    }
    o.bias = bias;
    if (n_segs > 0 && segs) {
        o.segs = malloc(n_segs * sizeof(*o.segs));
        if (!o.segs) {
            free(o.path);
            return -ENOMEM;
        }
        memcpy(o.segs, segs, n_segs * sizeof(*o.segs));
        o.n_segs = n_segs;
    }
    /* Pseudo-objects ("linux-vdso.so.1", "[vdso]") and unreadable files fail here; they keep
     * their segments for naming the object. */
    if (path[0] == '/') {
        dwfl_report_begin_add(s->dwfl);
        Dwfl_Module *m = dwfl_report_elf(s->dwfl, path, path, -1, bias, false);
        dwfl_report_end(s->dwfl, NULL, NULL);
        o.reported = m != NULL;
        o.mod = m;
    }
    s->objs[s->n_objs++] = o;
    return 0;
}

char *sym_demangle(const char *name)
{
    if (!name || strncmp(name, "_Z", 2) != 0) {
        return NULL;
    }
    int status = 0;
    char *d = __cxa_demangle(name, NULL, NULL, &status);
    if (status != 0) {
        free(d);
        return NULL;
    }
    return d;
}

/* Sets f->function (demangled) and f->system_name (mangled, only when different) from `name`.
 * Returns 0 or -ENOMEM. */
static int set_name(struct rpt_frame *f, const char *name)
{
    if (!name) {
        return 0;
    }
    char *d = sym_demangle(name);
    if (d) {
        f->function = d;
        f->system_name = strdup(name);
        return f->system_name ? 0 : -ENOMEM;
    }
    f->function = strdup(name);
    return f->function ? 0 : -ENOMEM;
}

/* Copies `str` into *dst (NULL stays NULL). Returns 0 or -ENOMEM. */
static int dup_into(char **dst, const char *str)
{
    if (!str) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(str);
    return *dst ? 0 : -ENOMEM;
}

/* The object a pc falls into, by segments, or NULL. */
static const struct sym_object *object_of(const struct sym *s, uint64_t pc)
{
    for (size_t i = 0; i < s->n_objs; i++) {
        for (size_t k = 0; k < s->objs[i].n_segs; k++) {
            if (pc >= s->objs[i].segs[k].start && pc < s->objs[i].segs[k].end) {
                return &s->objs[i];
            }
        }
    }
    return NULL;
}

/* Name of a subprogram or inlined-subroutine DIE: its linkage name if any (following
 * DW_AT_abstract_origin and DW_AT_specification), else its name. NULL when it has none. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) {
        name = dwarf_formstring(&attr);
    }
    if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr)) {
        name = dwarf_formstring(&attr);
    }
    return name;
}

/* Call site of an inlined-subroutine DIE: its file (from the CU's file table) and line. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *die, const char **file, int *line)
{
    Dwarf_Attribute attr;
    Dwarf_Word v;
    *file = NULL;
    *line = 0;
    if (dwarf_attr(die, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &v) == 0) {
        *line = (int)v;
    }
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_attr(die, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &v) == 0 &&
        dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && v < nfiles) {
        *file = dwarf_filesrc(files, v, NULL, NULL);
    }
}

/* One frame before its strings are copied. */
struct raw_frame {
    const char *name;
    const char *file;
    int line;
    bool inlined;
};

/* The frames of one pc before their strings are copied, and where the pc lies. */
struct raw_pc {
    struct raw_frame f[SYM_MAX_INLINE];
    size_t n;
    const char *object;
    uint64_t object_offset;
};

/* Sets the object path and the offset of pc in it, for a pc inside the Dwfl module `mod`: the
 * object as the agent listed it when known, else the module's own file and bias. */
static void module_place(const struct sym *s, Dwfl_Module *mod, uint64_t pc, struct raw_pc *r)
{
    const char *mainfile = NULL;
    Dwarf_Addr start = 0;
    const char *modname = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, &mainfile, NULL);
    r->object = mainfile ? mainfile : modname;
    const struct sym_object *o = object_of(s, pc);
    Dwarf_Addr bias = 0;
    if (o) {
        r->object = o->path;
        bias = o->bias;
    } else {
        /* the Dwfl's own bias of the module */
        Elf *elf = dwfl_module_getelf(mod, &bias);
        (void)elf;
    }
    r->object_offset = pc - bias;
}

/* The DWARF scopes containing `addr` in `cudie` (NULL: none), innermost first, into *scopes
 * (caller frees). Returns their number (<= 0 when none). */
static int function_scopes(Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die **scopes)
{
    int nscopes = cudie ? dwarf_getscopes(cudie, addr, scopes) : 0;
    /* Past an inlined instance, dwarf_getscopes() follows the abstract definition; the
     * concrete callers are the DIE-tree parents of the innermost function scope. */
    int inner = 0;
    while (inner < nscopes && dwarf_tag(&(*scopes)[inner]) != DW_TAG_inlined_subroutine &&
           dwarf_tag(&(*scopes)[inner]) != DW_TAG_subprogram) {
        inner++;
    }
    if (inner < nscopes) {
        Dwarf_Die *chain = NULL;
        int nchain = dwarf_getscopes_die(&(*scopes)[inner], &chain);
        if (nchain > 0) {
            free(*scopes);
            *scopes = chain;
            nscopes = nchain;
        } else {
            free(chain);
        }
    }
    return nscopes;
}

/* Appends to r the inlined frames at pc, innermost first, then the DWARF subprogram. *file and
 * *line come in as pc's line and go out as the call site of the outermost inlined frame (where
 * a frame found later would be). Returns true when the subprogram was reached. */
static bool inline_chain(Dwfl_Module *mod, uint64_t pc, const char **file, int *line,
                         struct raw_pc *r)
{
    Dwarf_Die *scopes = NULL;
    Dwarf_Addr dwbias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(mod, pc, &dwbias);
    int nscopes = function_scopes(cudie, pc - dwbias, &scopes);
    bool have_sub = false;
    for (int i = 0; i < nscopes && r->n < SYM_MAX_INLINE; i++) {
        int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) {
            continue;
        }
        /* names and files point into the debug data, not into `scopes` */
        r->f[r->n] = (struct raw_frame){.name = die_name(&scopes[i]),
                                        .file = *file,
                                        .line = *line,
                                        .inlined = tag == DW_TAG_inlined_subroutine};
        r->n++;
        if (tag == DW_TAG_subprogram) {
            have_sub = true;
            break;
        }
        /* the next outer frame is at this inline's call site */
        call_site(cudie, &scopes[i], file, line);
    }
    free(scopes);
    return have_sub;
}

/* Without a named DWARF subprogram, names the physical function from the symbol table: a frame
 * of its own after inlined ones, or the name of the last (or only) frame. */
static void symtab_name(Dwfl_Module *mod, uint64_t pc, bool have_sub, const char *file, int line,
                        struct raw_pc *r)
{
    if (have_sub && r->n > 0 && r->f[r->n - 1].name) {
        return;
    }
    GElf_Off off;
    GElf_Sym elfsym;
    const char *symname = dwfl_module_addrinfo(mod, pc, &off, &elfsym, NULL, NULL, NULL);
    if (r->n > 0 && !have_sub && r->n < SYM_MAX_INLINE) {
        r->f[r->n] = (struct raw_frame){.name = symname, .file = file, .line = line};
        r->n++;
    } else if (r->n > 0) {
        r->f[r->n - 1].name = symname;
    } else {
        r->f[0] = (struct raw_frame){.name = symname, .file = file, .line = line};
        r->n = 1;
    }
}

/* The raw frames of a pc inside the Dwfl module `mod`. */
static void resolve_in_module(const struct sym *s, Dwfl_Module *mod, uint64_t pc, struct raw_pc *r)
{
    module_place(s, mod, pc, r);
    /* line of the innermost frame */
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *dl = dwfl_module_getsrc(mod, pc);
    if (dl) {
        file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
    }
    bool have_sub = inline_chain(mod, pc, &file, &line, r);
    symtab_name(mod, pc, have_sub, file, line, r);
}

/* Copies the raw frames of pc with their strings into frames[0..max-1]. Returns the number of
 * frames, or -ENOMEM (then nothing is left allocated). */
static int raw_to_frames(const struct raw_pc *r, uint64_t pc, struct rpt_frame *frames, size_t max)
{
    size_t n = r->n < max ? r->n : max;
    memset(frames, 0, n * sizeof(*frames));
    for (size_t i = 0; i < n; i++) {
        struct rpt_frame *f = &frames[i];
        f->address = pc;
        f->line = r->f[i].line > 0 ? (uint32_t)r->f[i].line : 0;
        f->inlined = r->f[i].inlined;
        f->object_offset = r->object_offset;
        if (set_name(f, r->f[i].name) < 0 || dup_into(&f->file, r->f[i].file) < 0 ||
            dup_into(&f->object, r->object) < 0) {
            for (size_t k = 0; k <= i; k++) {
                frame_cleanup(&frames[k]);
            }
            return -ENOMEM;
        }
    }
    return (int)n;
}

/* Symbolizes pc (already minus one) into frames[0..max-1], strings owned by the array. Returns
 * the number of frames, or -ENOMEM. */
static int resolve_uncached(struct sym *s, uint64_t pc, struct rpt_frame *frames, size_t max)
{
    struct raw_pc r = {.n = 0};
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    if (mod) {
        resolve_in_module(s, mod, pc, &r);
    } else {
        const struct sym_object *o = object_of(s, pc);
        if (o) {
            r.object = o->path;
            r.object_offset = pc - o->bias;
        }
    }
    if (r.n == 0) {
        r.f[0] = (struct raw_frame){0};
        r.n = 1;
    }
    return raw_to_frames(&r, pc, frames, max);
}

/* Copies n frames with their strings. Returns 0 or -ENOMEM (nothing left allocated). */
static int copy_frames(struct rpt_frame *dst, const struct rpt_frame *src, size_t n)
{
    memset(dst, 0, n * sizeof(*dst));
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].function = NULL;
        dst[i].system_name = NULL;
        dst[i].file = NULL;
        dst[i].object = NULL;
        if (dup_into(&dst[i].function, src[i].function) < 0 ||
            dup_into(&dst[i].system_name, src[i].system_name) < 0 ||
            dup_into(&dst[i].file, src[i].file) < 0 ||
            dup_into(&dst[i].object, src[i].object) < 0) {
            for (size_t k = 0; k <= i; k++) {
                frame_cleanup(&dst[k]);
            }
            return -ENOMEM;
        }
    }
    return 0;
}

int sym_resolve(struct sym *s, uint64_t pc, struct rpt_frame *out, size_t max)
{
    if (!s || !out || max == 0) {
        return 0;
    }
    uint64_t call = pc > 0 ? pc - 1 : 0;
    size_t b = (size_t)((call * 0x9e3779b97f4a7c15u) >> 52) % SYM_BUCKETS;
    for (struct sym_cached *c = s->cache[b]; c; c = c->next) {
        if (c->pc == call) {
            size_t n = c->n < max ? c->n : max;
            int rc = copy_frames(out, c->frames, n);
            return rc < 0 ? rc : (int)n;
        }
    }
    struct sym_cached *c = calloc(1, sizeof(*c));
    struct rpt_frame *all = calloc(SYM_MAX_INLINE, sizeof(*all));
    if (!c || !all) {
        free(c);
        free(all);
        return -ENOMEM;
    }
    int n = resolve_uncached(s, call, all, SYM_MAX_INLINE);
    if (n < 0) {
        free(c);
        free(all);
        return n;
    }
    c->pc = call;
    c->n = (size_t)n;
    c->frames = all;
    c->next = s->cache[b];
    s->cache[b] = c;
    size_t w = c->n < max ? c->n : max;
    int rc = copy_frames(out, c->frames, w);
    return rc < 0 ? rc : (int)w;
}

/* ---------------------------------------------------------------- data */

void sym_data_cleanup(struct sym_data *d)
{
    free(d->name);
    free(d->file);
    free(d->section);
    memset(d, 0, sizeof(*d));
}

#define SYM_MAX_DIE_DEPTH 64
#define SYM_MAX_VARS      (1u << 20)

/* The variable `die`'s fixed location, when it has one: an address (DW_OP_addr) or an offset
 * in the TLS block (a constant, then DW_OP_GNU_push_tls_address or DW_OP_form_tls_address). */
static bool var_location(Dwarf_Die *die, uint64_t *addr, bool *tls)
{
    Dwarf_Attribute attr;
    Dwarf_Op *ops = NULL;
    size_t n = 0;
    if (!dwarf_attr(die, DW_AT_location, &attr) || dwarf_getlocation(&attr, &ops, &n) != 0) {
        return false;
    }
    if (n == 1 && ops[0].atom == DW_OP_addr) {
        *addr = ops[0].number;
        *tls = false;
        return true;
    }
    bool push = n == 2 && (ops[1].atom == DW_OP_GNU_push_tls_address ||
                           ops[1].atom == DW_OP_form_tls_address);
    bool konst = n == 2 && (ops[0].atom == DW_OP_const8u || ops[0].atom == DW_OP_const4u ||
                            ops[0].atom == DW_OP_constu || ops[0].atom == DW_OP_const8s ||
                            ops[0].atom == DW_OP_const4s || ops[0].atom == DW_OP_consts);
    if (push && konst) {
        *addr = ops[0].number;
        *tls = true;
        return true;
    }
    return false;
}

/* Adds the variables with a fixed location under `die` (its children, recursively: functions'
 * static locals, namespaces) to o->vars. Returns 0 or -ENOMEM. */
static int collect_vars(struct sym_object *o, Dwarf_Die *die, Dwarf_Addr dwbias, int depth)
{
    Dwarf_Die child;
    if (depth > SYM_MAX_DIE_DEPTH || dwarf_child(die, &child) != 0) {
        return 0;
    }
    do {
        int tag = dwarf_tag(&child);
        uint64_t addr;
        bool tls;
        if (tag == DW_TAG_variable && var_location(&child, &addr, &tls) &&
            o->n_vars < SYM_MAX_VARS) {
            if (o->n_vars == o->cap_vars) {
                size_t nc = o->cap_vars ? o->cap_vars * 2 : 64;
                struct sym_var *nv = realloc(o->vars, nc * sizeof(*nv));
                if (!nv) {
                    return -ENOMEM;
                }
                o->vars = nv;
                o->cap_vars = nc;
            }
            struct sym_var *v = &o->vars[o->n_vars++];
            Dwarf_Attribute attr;
            Dwarf_Die type;
            Dwarf_Word size = 0;
            memset(v, 0, sizeof(*v));
            v->addr = tls ? addr : addr + dwbias;
            v->tls = tls;
            v->name =
                dwarf_attr_integrate(&child, DW_AT_name, &attr) ? dwarf_formstring(&attr) : NULL;
            v->file = dwarf_decl_file(&child);
            if (dwarf_decl_line(&child, &v->line) != 0) {
                v->line = 0;
            }
            if (dwarf_attr_integrate(&child, DW_AT_type, &attr) &&
                dwarf_formref_die(&attr, &type) && dwarf_aggregate_size(&type, &size) == 0) {
                v->size = size;
            }
        } else if (tag == DW_TAG_subprogram || tag == DW_TAG_namespace ||
                   tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
            int rc = collect_vars(o, &child, dwbias, depth + 1);
            if (rc < 0) {
                return rc;
            }
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return 0;
}

/* Collects o's DWARF variables once. Returns 0 or -ENOMEM. */
static int read_vars(struct sym_object *o)
{
    if (o->vars_read || !o->mod) {
        return 0;
    }
    o->vars_read = true;
    Dwarf_Die *cu = NULL;
    Dwarf_Addr dwbias = 0;
    while ((cu = dwfl_module_nextcu(o->mod, cu, &dwbias)) != NULL) {
        int rc = collect_vars(o, cu, dwbias, 0);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* The DWARF variable of `o` covering `addr` (exactly at its start when its size is unknown),
 * preferring one that starts there; NULL when none. */
static const struct sym_var *var_covering(const struct sym_object *o, uint64_t addr, bool tls)
{
    const struct sym_var *best = NULL;
    for (size_t i = 0; i < o->n_vars; i++) {
        const struct sym_var *v = &o->vars[i];
        if (v->tls != tls || addr < v->addr) {
            continue;
        }
        bool covers = addr == v->addr || addr - v->addr < v->size;
        if (covers && (!best || v->addr > best->addr || (v->addr == best->addr && !best->file))) {
            best = v;
        }
    }
    return best;
}

/* The symbol covering `addr` (absolute; or the TLS offset when tls): its name, start and size.
 * Returns the name or NULL. */
static const char *symbol_covering(Dwfl_Module *mod, uint64_t addr, bool tls, uint64_t *start)
{
    GElf_Sym es;
    if (!tls) {
        GElf_Off off = 0;
        const char *name = dwfl_module_addrinfo(mod, addr, &off, &es, NULL, NULL, NULL);
        int type = GELF_ST_TYPE(es.st_info);
        if (!name || type == STT_FUNC || type == STT_GNU_IFUNC ||
            !(off < es.st_size || (es.st_size == 0 && off == 0))) {
            return NULL;
        }
        *start = addr - off;
        return name;
    }
    int n = dwfl_module_getsymtab(mod);
    for (int i = 1; i < n; i++) {
        GElf_Addr a;
        const char *name = dwfl_module_getsym_info(mod, i, &es, &a, NULL, NULL, NULL);
        if (name && GELF_ST_TYPE(es.st_info) == STT_TLS && es.st_shndx != SHN_UNDEF &&
            addr >= es.st_value && (addr - es.st_value < es.st_size || addr == es.st_value)) {
            *start = es.st_value;
            return name;
        }
    }
    return NULL;
}

/* The name of the section of `mod` holding absolute `addr`, or NULL. */
static const char *section_name(Dwfl_Module *mod, uint64_t addr)
{
    Dwarf_Addr a = addr;
    Dwarf_Addr bias = 0;
    Elf_Scn *scn = dwfl_module_address_section(mod, &a, &bias);
    Elf *elf = scn ? dwfl_module_getelf(mod, &bias) : NULL;
    GElf_Shdr sh;
    size_t shstrndx;
    if (!elf || !gelf_getshdr(scn, &sh) || elf_getshdrstrndx(elf, &shstrndx) != 0) {
        return NULL;
    }
    return elf_strptr(elf, shstrndx, sh.sh_name);
}

int sym_resolve_data(struct sym *s, const char *path, uint64_t bias, uint64_t vaddr, bool tls,
                     struct sym_data *out)
{
    if (!s || !path || !out) {
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    int rc = sym_add_object(s, path, bias, NULL, 0, NULL, 0);
    if (rc < 0) {
        return rc;
    }
    struct sym_object *o = NULL;
    for (size_t i = 0; i < s->n_objs && !o; i++) {
        if (s->objs[i].bias == bias && strcmp(s->objs[i].path, path) == 0) {
            o = &s->objs[i];
        }
    }
    uint64_t addr = tls ? vaddr : vaddr + bias;
    out->offset = vaddr;
    if (!o || !o->mod) {
        return 0;
    }
    rc = read_vars(o);
    if (rc < 0) {
        return rc;
    }
    uint64_t start = 0;
    const char *name = symbol_covering(o->mod, addr, tls, &start);
    const struct sym_var *v = NULL;
    if (name) {
        v = var_covering(o, start, tls);
        v = v && v->addr == start ? v : NULL;
    } else {
        v = var_covering(o, addr, tls);
        start = v ? v->addr : 0;
    }
    char *demangled = name ? sym_demangle(name) : NULL;
    const char *shown = demangled ? demangled : name;
    /* GCC names a function's static local "cache.0" in the symbol table; DWARF says "cache" */
    if ((!shown || strchr(shown, '.')) && v && v->name) {
        shown = v->name;
    }
    const char *sec = tls ? NULL : section_name(o->mod, addr);
    rc = dup_into(&out->name, shown);
    if (rc == 0) {
        rc = dup_into(&out->file, v ? v->file : NULL);
    }
    if (rc == 0) {
        rc = dup_into(&out->section, sec);
    }
    free(demangled);
    if (rc < 0) {
        sym_data_cleanup(out);
        return rc;
    }
    out->line = v && v->line > 0 ? (uint32_t)v->line : 0;
    out->offset = out->name ? addr - start : vaddr;
    return 0;
}
