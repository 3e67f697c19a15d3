/* SPDX-License-Identifier: MIT */
/* ag_unwind.c - the cached-rule stack walker (x86-64) and its dlclose() hook.
 *
 * Rules. A frame's rule is found once per return address: dl_iterate_phdr() finds the object
 * whose PT_LOAD holds the address and its PT_GNU_EH_FRAME; .eh_frame_hdr's sorted table gives
 * the FDE; the CIE's initial instructions and the FDE's instructions run up to the call (the
 * return address minus one, as every recorded address is a return address). All of it happens
 * inside the dl_iterate_phdr() callback, with the loader's lock held, so the object cannot be
 * unmapped under the parser, and every read is bounded by the PT_LOAD that holds the table.
 *
 * Cache. One open-addressed table of (key, value) pairs of 64-bit atomics (growing, see
 * struct table); per thread, a page of recent rules and the last walk's frames (walk()). A
 * value carries the rule, a ready bit and the generation's tag. dlclose() moves the generation
 * and counts itself in `closing` while the loader works (every walk then falls back), and moves
 * it again afterwards: from then on every older entry is stale and its slot reusable. A walk
 * reads the generation before and after; if it moved, the walk's result is dropped and the
 * caller falls back. A writer claims an empty slot's key with a CAS, or a stale slot's value
 * (CAS to 0, "being written"), then publishes key and value; a reader takes a value only with
 * its own generation's tag and its key read again unchanged after it, so it never pairs an
 * address with another's rule. Unloads the hook does not see (glibc's own dlclose of iconv or
 * NSS modules) are caught at the next rule lookup by dl_iterate_phdr's unload count.
 *
 * Stack bounds. Each thread reads the mapping that holds its stack from /proc/self/maps once
 * (raw system calls, a buffer on the stack); a read outside [the walker's frame, the mapping's
 * end) ends the walk as a fallback, never as a fault.
 */
#include "ag_unwind.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "ag_core.h"
#include "ag_mem.h"

#define TABLE_MIN_SLOTS 4096u      /* 64 KiB */
#define TABLE_MAX_SLOTS (1u << 20) /* 16 MiB */
#define MAX_PROBES      32u
#define STATE_DEPTH     8u /* DW_CFA_remember_state nesting */

/* A rule, packed into a value word:
 *   bits  0-19 CFA offset (signed)      bits 20-35 rbp's offset from the CFA (signed)
 *   bits 36-43 return address's offset from the CFA (signed)
 *   bit 44 CFA is rbp-based             bit 45 rbp is saved (else unchanged)
 *   bits 46-47 kind                     bits 48-62 generation tag    bit 63 ready */
enum rule_kind {
    RULE_STEP = 0,     /* an ordinary frame: step to its caller */
    RULE_LAST = 1,     /* the return address is undefined: the outermost frame */
    RULE_FALLBACK = 2, /* not expressible: the capture goes to libunwind */
};

#define RULE_CFA_RBP   (1ull << 44)
#define RULE_RBP_SAVED (1ull << 45)
#define RULE_KIND(v)   ((unsigned)(((v) >> 46) & 3u))
#define RULE_TAG_SHIFT 48
#define RULE_TAG_MASK  (0x7fffull << RULE_TAG_SHIFT)
#define RULE_READY     (1ull << 63)
#define CFA_OFF_LIMIT  (1 << 19)

struct slot {
    _Atomic uint64_t key; /* return address; 0 = never used */
    _Atomic uint64_t val; /* packed rule | tag | RULE_READY; 0 while being written */
};

static _Atomic uint64_t generation; /* moves by 2 before and after every dlclose() */
static _Atomic int closing;         /* dlclose() calls under way */
/* The table grows by doubling at half load; the new one starts with the old one's current
 * entries and replaces it. Old tables are kept (a reader may still be in one); together they are
 * smaller than the current one. */
struct table {
    uint64_t mask;
    _Atomic uint64_t used; /* slots with a key */
    struct slot slots[];
};

static struct table *_Atomic current;           /* mapped on first use */
static _Atomic unsigned long long unloads_seen; /* dl_iterate_phdr's dlpi_subs */

struct stack_range {
    uintptr_t lo, hi;
    bool grows; /* the main thread's [stack]: it grows down */
};

/* The thread's own small copy of the rules it used last, direct-mapped: one page, in the
 * cache and the TLB, where the shared table's slots are spread over many pages. */
#define NEAR_SLOTS 256u
/* Depths at which the last walks' addresses and rules are remembered (see walk()), and how
 * many per depth. */
#define GUESS_DEPTH 72u
#define GUESS_WAYS  4u

struct frame_rule {
    int32_t cfa_off; /* for a frame that is not a step: its enum rule_kind */
    int16_t rbp_off;
    int8_t ra_off;
    uint8_t flags; /* NEAR_*; 0: not a step */
};

union rule_word {
    struct frame_rule r;
    uint64_t w;
};

struct near_slot {
    uintptr_t ra; /* 0 = empty */
    union rule_word rule;
};

#define NEAR_STEP      1u
#define NEAR_CFA_RBP   2u
#define NEAR_RBP_SAVED 4u

struct thread_info {
    struct stack_range main, other; /* the thread's stack; the last other one (signal stack) */
    unsigned looks;                 /* /proc/self/maps reads so far */
    uint64_t fast, fallback;
    uint64_t near_gen; /* the generation the near slots belong to */
    struct near_slot near[NEAR_SLOTS];
    /* the addresses and rules the last walks met at each depth, and where the next one goes */
    struct near_slot last[GUESS_DEPTH][GUESS_WAYS];
    uint8_t victim[GUESS_DEPTH];
};
static __thread struct thread_info me __attribute__((tls_model("initial-exec")));

#define MAX_LOOKS                                                                                  \
    16u /* maps reads per thread (a thread that moves its stack around falls back)                 \
         */
/* Linux keeps this much unmapped below a growing stack (stack_guard_gap, 256 pages): a stack
 * pointer that far below the lowest page seen is still in the same, grown, mapping. */
#define GUARD_GAP (256u * 4096u)

/* ------------------------------------------------------------------ rule packing */

static uint64_t rule_pack(enum rule_kind kind, bool cfa_rbp, int64_t cfa_off, bool rbp_saved,
                          int64_t rbp_off, int64_t ra_off)
{
    if (kind != RULE_STEP) {
        return (uint64_t)kind << 46;
    }
    if (cfa_off < -CFA_OFF_LIMIT || cfa_off >= CFA_OFF_LIMIT || rbp_off < INT16_MIN ||
        rbp_off > INT16_MAX || ra_off < INT8_MIN || ra_off > INT8_MAX) {
        return (uint64_t)RULE_FALLBACK << 46;
    }
    uint64_t v = (uint64_t)cfa_off & 0xfffffu;
    v |= (uint64_t)(uint16_t)(int16_t)(rbp_saved ? rbp_off : 0) << 20;
    v |= (uint64_t)(uint8_t)(int8_t)ra_off << 36;
    v |= cfa_rbp ? RULE_CFA_RBP : 0;
    v |= rbp_saved ? RULE_RBP_SAVED : 0;
    return v;
}

/* The tag of generation `gen` in a value word (generations move by 2 per dlclose() edge). */
static uint64_t rule_tag(uint64_t gen)
{
    return ((gen >> 1) << RULE_TAG_SHIFT) & RULE_TAG_MASK;
}

static int64_t rule_cfa_off(uint64_t v)
{
    int64_t off = (int64_t)(v & 0xfffffu);
    return off >= CFA_OFF_LIMIT ? off - 2 * CFA_OFF_LIMIT : off;
}

static int64_t rule_rbp_off(uint64_t v)
{
    return (int16_t)(uint16_t)(v >> 20);
}

static int64_t rule_ra_off(uint64_t v)
{
    return (int8_t)(uint8_t)(v >> 36);
}

/* ------------------------------------------------------------------ bounded reading */

struct reader {
    const uint8_t *p;
    uintptr_t lo, hi; /* readable: [lo, hi) */
    bool bad;
};

static bool rd_can(struct reader *r, size_t n)
{
    uintptr_t a = (uintptr_t)r->p;
    if (r->bad || a < r->lo || a > r->hi || r->hi - a < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint64_t rd_fixed(struct reader *r, size_t n)
{
    if (!rd_can(r, n)) {
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t rd_uleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (!rd_can(r, 1)) {
            return 0;
        }
        uint8_t b = *r->p++;
        if (shift < 64) {
            v |= (uint64_t)(b & 0x7f) << shift;
        }
        shift += 7;
        if (!(b & 0x80)) {
            return v;
        }
    }
}

static int64_t rd_sleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        if (!rd_can(r, 1)) {
            return 0;
        }
        b = *r->p++;
        if (shift < 64) {
            v |= (uint64_t)(b & 0x7f) << shift;
        }
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) {
        v |= ~0ull << shift;
    }
    return (int64_t)v;
}

#define PE_OMIT 0xff

/* Reads a pointer in DWARF EH encoding `enc`; `datarel` is the base of DW_EH_PE_datarel.
 * Indirect pointers are not followed (only the personality uses them, and it is skipped). */
static uintptr_t rd_encoded(struct reader *r, uint8_t enc, uintptr_t datarel)
{
    if (enc == PE_OMIT) {
        return 0;
    }
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00:
        v = rd_fixed(r, 8);
        break;
    case 0x01:
        v = rd_uleb(r);
        break;
    case 0x02:
        v = rd_fixed(r, 2);
        break;
    case 0x03:
        v = rd_fixed(r, 4);
        break;
    case 0x04:
        v = rd_fixed(r, 8);
        break;
    case 0x09:
        v = (uint64_t)rd_sleb(r);
        break;
    case 0x0a:
        v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2);
        break;
    case 0x0b:
        v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4);
        break;
    case 0x0c:
        v = rd_fixed(r, 8);
        break;
    default:
        r->bad = true;
        return 0;
    }
    switch (enc & 0x70) {
    case 0x00:
        break;
    case 0x10:
        v += at;
        break;
    case 0x30:
        v += datarel;
        break;
    default:
        r->bad = true;
        return 0;
    }
    return (uintptr_t)v;
}

/* ------------------------------------------------------------------ CIE, FDE, CFA program */

enum reg_kind { REG_SAME, REG_UNDEF, REG_OFFSET, REG_OTHER };

struct reg_rule {
    uint8_t kind; /* enum reg_kind */
    int64_t off;
};

#define R_RBP   0
#define R_RSP   1
#define R_RA    2
#define N_RULES 3

struct cfa_state {
    unsigned cfa_reg;
    int64_t cfa_off;
    bool cfa_expr;
    struct reg_rule r[N_RULES];
};

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_enc;
    bool has_aug_len;
    bool signal;
    const uint8_t *insns, *end;
};

/* Our index of DWARF register `reg` (6 rbp, 7 rsp, 16 return address), or -1 for the others,
 * whose rules do not matter to the walk. */
static int rule_index(uint64_t reg)
{
    switch (reg) {
    case 6:
        return R_RBP;
    case 7:
        return R_RSP;
    case 16:
        return R_RA;
    default:
        return -1;
    }
}

static void set_reg(struct cfa_state *s, uint64_t reg, enum reg_kind kind, int64_t off)
{
    int i = rule_index(reg);
    if (i >= 0) {
        s->r[i].kind = (uint8_t)kind;
        s->r[i].off = off;
    }
}

/* Runs CFA instructions [r->p, end) from location `loc` while it stays at or below `target`
 * (`target` 0 for a CIE: all of them). `init` is the state after the CIE (DW_CFA_restore).
 * Returns false on an instruction it does not know or malformed input. */
static bool run_program(struct reader *r, const uint8_t *end, const struct cie *c, uintptr_t loc,
                        uintptr_t target, bool whole, struct cfa_state *s,
                        const struct cfa_state *init)
{
    struct cfa_state saved[STATE_DEPTH];
    unsigned depth = 0;
    while (r->p < end && !r->bad) {
        uint8_t op = *r->p++;
        uint64_t reg;
        uintptr_t next = loc;
        bool advance = false;
        switch (op >> 6) {
        case 1:
            next = loc + (op & 0x3f) * c->code_align;
            advance = true;
            break;
        case 2:
            set_reg(s, op & 0x3f, REG_OFFSET, (int64_t)rd_uleb(r) * c->data_align);
            continue;
        case 3:
            reg = op & 0x3f;
            if (rule_index(reg) >= 0) {
                s->r[rule_index(reg)] = init->r[rule_index(reg)];
            }
            continue;
        default:
            break;
        }
        if (!advance) {
            switch (op) {
            case 0x00: /* nop */
                break;
            case 0x01:
                next = rd_encoded(r, c->fde_enc, 0);
                advance = true;
                break;
            case 0x02:
                next = loc + rd_fixed(r, 1) * c->code_align;
                advance = true;
                break;
            case 0x03:
                next = loc + rd_fixed(r, 2) * c->code_align;
                advance = true;
                break;
            case 0x04:
                next = loc + rd_fixed(r, 4) * c->code_align;
                advance = true;
                break;
            case 0x05:
                reg = rd_uleb(r);
                set_reg(s, reg, REG_OFFSET, (int64_t)rd_uleb(r) * c->data_align);
                break;
            case 0x06:
                reg = rd_uleb(r);
                if (rule_index(reg) >= 0) {
                    s->r[rule_index(reg)] = init->r[rule_index(reg)];
                }
                break;
            case 0x07:
                set_reg(s, rd_uleb(r), REG_UNDEF, 0);
                break;
            case 0x08:
                set_reg(s, rd_uleb(r), REG_SAME, 0);
                break;
            case 0x09:
                reg = rd_uleb(r);
                (void)rd_uleb(r);
                set_reg(s, reg, REG_OTHER, 0);
                break;
            case 0x0a:
                if (depth == STATE_DEPTH) {
                    return false;
                }
                saved[depth++] = *s;
                break;
            case 0x0b:
                if (depth == 0) {
                    return false;
                }
                *s = saved[--depth];
                break;
            case 0x0c:
                s->cfa_reg = (unsigned)rd_uleb(r);
                s->cfa_off = (int64_t)rd_uleb(r);
                s->cfa_expr = false;
                break;
            case 0x0d:
                s->cfa_reg = (unsigned)rd_uleb(r);
                s->cfa_expr = false;
                break;
            case 0x0e:
                s->cfa_off = (int64_t)rd_uleb(r);
                break;
            case 0x0f: {
                uint64_t len = rd_uleb(r);
                if (!rd_can(r, len)) {
                    return false;
                }
                r->p += len;
                s->cfa_expr = true;
                break;
            }
            case 0x10:
            case 0x16: {
                reg = rd_uleb(r);
                uint64_t len = rd_uleb(r);
                if (!rd_can(r, len)) {
                    return false;
                }
                r->p += len;
                set_reg(s, reg, REG_OTHER, 0);
                break;
            }
            case 0x11:
                reg = rd_uleb(r);
                set_reg(s, reg, REG_OFFSET, rd_sleb(r) * c->data_align);
                break;
            case 0x12:
                s->cfa_reg = (unsigned)rd_uleb(r);
                s->cfa_off = rd_sleb(r) * c->data_align;
                s->cfa_expr = false;
                break;
            case 0x13:
                s->cfa_off = rd_sleb(r) * c->data_align;
                break;
            case 0x14:
                reg = rd_uleb(r);
                (void)rd_uleb(r);
                set_reg(s, reg, REG_OTHER, 0);
                break;
            case 0x15:
                reg = rd_uleb(r);
                (void)rd_sleb(r);
                set_reg(s, reg, REG_OTHER, 0);
                break;
            case 0x2e:
                (void)rd_uleb(r);
                break; /* DW_CFA_GNU_args_size */
            case 0x2f: /* DW_CFA_GNU_negative_offset_extended */
                reg = rd_uleb(r);
                set_reg(s, reg, REG_OFFSET, -(int64_t)rd_uleb(r) * c->data_align);
                break;
            default:
                return false;
            }
        }
        if (advance) {
            if (!whole && next > target) {
                return !r->bad;
            }
            loc = next;
        }
    }
    return !r->bad;
}

/* Parses the CIE at `p` (bounded by r's range) into *c. Returns false when malformed or not
 * something this walker reads (another return-address column, an old "eh" augmentation). */
static bool parse_cie(struct reader *r, struct cie *c)
{
    uint64_t len = rd_fixed(r, 4);
    if (len == 0xffffffffu || len == 0 || r->bad) {
        return false;
    }
    const uint8_t *end = r->p + len;
    if (!rd_can(r, len) || rd_fixed(r, 4) != 0) {
        return false;
    }
    uint8_t version = (uint8_t)rd_fixed(r, 1);
    if (version != 1 && version != 3) {
        return false;
    }
    const char *aug = (const char *)r->p;
    size_t aug_len = 0;
    while (rd_can(r, 1) && *r->p) {
        r->p++;
        aug_len++;
    }
    if (!rd_can(r, 1)) {
        return false;
    }
    r->p++;
    c->code_align = rd_uleb(r);
    c->data_align = rd_sleb(r);
    uint64_t ra_reg = version == 1 ? rd_fixed(r, 1) : rd_uleb(r);
    if (ra_reg != 16) {
        return false;
    }
    c->fde_enc = 0;
    c->has_aug_len = false;
    c->signal = false;
    if (aug_len > 0) {
        if (aug[0] != 'z') {
            return false;
        }
        c->has_aug_len = true;
        uint64_t data_len = rd_uleb(r);
        const uint8_t *data_end = r->p + data_len;
        if (!rd_can(r, data_len)) {
            return false;
        }
        for (size_t i = 1; i < aug_len; i++) {
            switch (aug[i]) {
            case 'R':
                c->fde_enc = (uint8_t)rd_fixed(r, 1);
                break;
            case 'L':
                (void)rd_fixed(r, 1);
                break;
            case 'P': {
                uint8_t enc = (uint8_t)rd_fixed(r, 1);
                (void)rd_encoded(r, enc & 0x7f, 0);
                break;
            }
            case 'S':
                c->signal = true;
                break;
            default:
                i = aug_len;
                break; /* the rest is skipped by length */
            }
        }
        r->p = data_end;
    }
    if (r->bad || r->p > end) {
        return false;
    }
    c->insns = r->p;
    c->end = end;
    return true;
}

/* The rule for the code at `pc` (a return address minus one) from the object's .eh_frame_hdr
 * at `hdr`, every read inside [lo, hi). */
static uint64_t rule_from_hdr(uintptr_t hdr, uintptr_t lo, uintptr_t hi, uintptr_t pc)
{
    const uint64_t fallback = rule_pack(RULE_FALLBACK, false, 0, false, 0, 0);
    struct reader r = {(const uint8_t *)hdr, lo, hi, false};
    uint8_t version = (uint8_t)rd_fixed(&r, 1);
    uint8_t ptr_enc = (uint8_t)rd_fixed(&r, 1);
    uint8_t count_enc = (uint8_t)rd_fixed(&r, 1);
    uint8_t table_enc = (uint8_t)rd_fixed(&r, 1);
    if (r.bad || version != 1 || table_enc != 0x3b || count_enc == PE_OMIT) {
        return fallback;
    }
    (void)rd_encoded(&r, ptr_enc, hdr);
    uint64_t count = rd_encoded(&r, count_enc, hdr);
    if (r.bad || count == 0 || count > (hi - lo) / 8 || !rd_can(&r, count * 8)) {
        return fallback;
    }
    const uint8_t *table = r.p;
    /* the last entry whose start is <= pc */
    uint64_t a = 0, b = count;
    while (b - a > 1) {
        uint64_t m = a + (b - a) / 2;
        int32_t start;
        memcpy(&start, table + m * 8, 4);
        if ((uintptr_t)(hdr + (intptr_t)start) <= pc) {
            a = m;
        } else {
            b = m;
        }
    }
    int32_t start, fde_rel;
    memcpy(&start, table + a * 8, 4);
    memcpy(&fde_rel, table + a * 8 + 4, 4);
    if ((uintptr_t)(hdr + (intptr_t)start) > pc) {
        return fallback;
    }
    uintptr_t fde = hdr + (intptr_t)fde_rel;

    /* the FDE: length, CIE pointer, range */
    r.p = (const uint8_t *)fde;
    uint64_t len = rd_fixed(&r, 4);
    if (r.bad || len == 0 || len == 0xffffffffu || !rd_can(&r, len)) {
        return fallback;
    }
    const uint8_t *fde_end = r.p + len;
    const uint8_t *cie_field = r.p;
    uint32_t cie_rel = (uint32_t)rd_fixed(&r, 4);
    if (cie_rel == 0 || r.bad) {
        return fallback;
    }
    struct cie c;
    struct reader cr = {cie_field - cie_rel, lo, hi, false};
    if (!parse_cie(&cr, &c) || c.signal) {
        return fallback;
    }
    uintptr_t pc_begin = rd_encoded(&r, c.fde_enc, 0);
    uintptr_t pc_range = rd_encoded(&r, c.fde_enc & 0x0f, 0);
    if (r.bad || pc < pc_begin || pc - pc_begin >= pc_range) {
        return fallback;
    }
    if (c.has_aug_len) {
        uint64_t skip = rd_uleb(&r);
        if (!rd_can(&r, skip)) {
            return fallback;
        }
        r.p += skip;
    }

    struct cfa_state init = {0};
    cr.p = c.insns;
    if (!run_program(&cr, c.end, &c, pc_begin, 0, true, &init, &init)) {
        return fallback;
    }
    struct cfa_state s = init;
    if (!run_program(&r, fde_end, &c, pc_begin, pc, false, &s, &init)) {
        return fallback;
    }

    if (s.r[R_RA].kind == REG_UNDEF) {
        return rule_pack(RULE_LAST, false, 0, false, 0, 0);
    }
    if (s.cfa_expr || (s.cfa_reg != 7 && s.cfa_reg != 6) || s.r[R_RA].kind != REG_OFFSET ||
        s.r[R_RSP].kind != REG_SAME ||
        (s.r[R_RBP].kind != REG_SAME && s.r[R_RBP].kind != REG_OFFSET)) {
        return fallback;
    }
    return rule_pack(RULE_STEP, s.cfa_reg == 6, s.cfa_off, s.r[R_RBP].kind == REG_OFFSET,
                     s.r[R_RBP].off, s.r[R_RA].off);
}

struct find {
    uintptr_t pc;
    uint64_t rule;
    bool found;
    bool have_subs;
    unsigned long long subs;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    struct find *f = data;
    if (!f->have_subs &&
        size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        f->have_subs = true;
        f->subs = info->dlpi_subs;
    }
    const ElfW(Phdr) *eh = NULL;
    bool holds = false;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            if (f->pc >= lo && f->pc - lo < ph->p_memsz) {
                holds = true;
            }
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            eh = ph;
        }
    }
    if (!holds) {
        return 0;
    }
    f->found = true;
    if (!eh) {
        return 1;
    }
    uintptr_t hdr = info->dlpi_addr + eh->p_vaddr;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && hdr >= lo && hdr - lo < ph->p_filesz) {
            f->rule = rule_from_hdr(hdr, lo, lo + ph->p_filesz, f->pc);
            break;
        }
    }
    return 1;
}

/* Finds the rule of return address `ra` from the loaded objects. Notices unloads the dlclose()
 * hook did not see and starts a new generation for them. */
static uint64_t rule_lookup(uintptr_t ra)
{
    struct find f = {ra - 1, rule_pack(RULE_FALLBACK, false, 0, false, 0, 0), false, false, 0};
    dl_iterate_phdr(find_object, &f);
    if (f.have_subs) {
        unsigned long long seen = atomic_load_explicit(&unloads_seen, memory_order_relaxed);
        if (seen != f.subs &&
            atomic_compare_exchange_strong_explicit(&unloads_seen, &seen, f.subs,
                                                    memory_order_relaxed, memory_order_relaxed)) {
            atomic_fetch_add_explicit(&generation, 2, memory_order_seq_cst);
        }
    }
    return f.rule;
}

/* ------------------------------------------------------------------ the table */

static uint64_t slot_of(const struct table *t, uintptr_t ra)
{
    return (((uint64_t)ra * 0x9e3779b97f4a7c15ull) >> 32) & t->mask;
}

static size_t table_size(uint64_t slots)
{
    return sizeof(struct table) + slots * sizeof(struct slot);
}

/* The table, mapped on first use; NULL when it cannot be. */
static struct table *table_get(void)
{
    struct table *t = atomic_load_explicit(&current, memory_order_acquire);
    if (AG_LIKELY(t != NULL)) {
        return t;
    }
    struct table *nt = ag_mem_map(table_size(TABLE_MIN_SLOTS));
    if (!nt) {
        return NULL;
    }
    nt->mask = TABLE_MIN_SLOTS - 1;
    if (atomic_compare_exchange_strong_explicit(&current, &t, nt, memory_order_acq_rel,
                                                memory_order_acquire)) {
        return nt;
    }
    ag_mem_unmap(nt, table_size(TABLE_MIN_SLOTS)); /* another thread's came first; ours unseen */
    return t;
}

/* Replaces `t` by a table twice its size holding t's entries of tag `tag`. Quietly does nothing
 * at the size limit, out of memory, or when another thread replaced t first. */
static void table_grow(struct table *t, uint64_t tag)
{
    uint64_t slots = (t->mask + 1) * 2;
    if (slots > TABLE_MAX_SLOTS || atomic_load_explicit(&current, memory_order_acquire) != t) {
        return;
    }
    struct table *nt = ag_mem_map(table_size(slots));
    if (!nt) {
        return;
    }
    nt->mask = slots - 1;
    uint64_t used = 0;
    for (uint64_t i = 0; i <= t->mask; i++) {
        uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
        uint64_t v = atomic_load_explicit(&t->slots[i].val, memory_order_acquire);
        if (k == 0 || !(v & RULE_READY) || (v & RULE_TAG_MASK) != tag ||
            atomic_load_explicit(&t->slots[i].key, memory_order_acquire) != k) {
            continue;
        }
        uint64_t j = slot_of(nt, k);
        while (atomic_load_explicit(&nt->slots[j].key, memory_order_relaxed) != 0) {
            j = (j + 1) & nt->mask;
        }
        atomic_store_explicit(&nt->slots[j].key, k, memory_order_relaxed);
        atomic_store_explicit(&nt->slots[j].val, v, memory_order_relaxed);
        used++;
    }
    atomic_store_explicit(&nt->used, used, memory_order_relaxed);
    struct table *expected = t;
    if (!atomic_compare_exchange_strong_explicit(&current, &expected, nt, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        ag_mem_unmap(nt, table_size(slots));
    }
}

/* Puts (ra, v) into slot `s`, which was empty (`stale` 0) or held the ready value `stale` of an
 * older generation. Loses quietly to another writer. */
static void slot_put(struct table *t, struct slot *s, uintptr_t ra, uint64_t v, uint64_t stale)
{
    if (stale == 0) {
        uint64_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&s->key, &expected, ra, memory_order_acq_rel,
                                                    memory_order_relaxed)) {
            atomic_store_explicit(&s->val, v, memory_order_release);
            uint64_t used = atomic_fetch_add_explicit(&t->used, 1, memory_order_relaxed) + 1;
            if (used * 2 > t->mask + 1) {
                table_grow(t, v & RULE_TAG_MASK);
            }
        }
        return;
    }
    /* Claim the value first (readers then see "being written"), then the key, then the value:
     * a reader checks the key again after the value, so it never pairs a key with another
     * address's rule. */
    if (atomic_compare_exchange_strong_explicit(&s->val, &stale, 0, memory_order_acq_rel,
                                                memory_order_relaxed)) {
        atomic_store_explicit(&s->key, ra, memory_order_release);
        atomic_store_explicit(&s->val, v, memory_order_release);
    }
}

/* The rule of return address `ra` in generation `gen` (its tag `tag`), from the table or
 * looked up and added. */
static uint64_t rule_get(struct table *t, uintptr_t ra, uint64_t gen, uint64_t tag)
{
    uint64_t i = slot_of(t, ra);
    struct slot *free_slot = NULL;
    uint64_t free_val = 0;
    for (unsigned n = 0; n < MAX_PROBES; n++, i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == 0) {
            if (!free_slot) {
                free_slot = s;
                free_val = 0;
            }
            break;
        }
        uint64_t v = atomic_load_explicit(&s->val, memory_order_acquire);
        if (!(v & RULE_READY)) {
            continue; /* being written */
        }
        if ((v & RULE_TAG_MASK) != tag) {
            if (!free_slot) {
                free_slot = s; /* an older generation's: reusable */
                free_val = v;
            }
            continue;
        }
        if (k == ra && atomic_load_explicit(&s->key, memory_order_acquire) == ra) {
            return v;
        }
    }
    uint64_t v = rule_lookup(ra) | tag | RULE_READY;
    /* A lookup that saw an unload started a new generation: its rule belongs to no table. */
    if (free_slot && atomic_load_explicit(&generation, memory_order_seq_cst) == gen) {
        slot_put(t, free_slot, ra, v, free_val);
    } else if (!free_slot) {
        table_grow(t, tag); /* a crowded neighbourhood */
    }
    return v;
}

/* ------------------------------------------------------------------ stack bounds */

static bool parse_hex(const char **p, const char *end, uintptr_t *out)
{
    uintptr_t v = 0;
    const char *s = *p;
    if (s >= end) {
        return false;
    }
    while (s < end) {
        char ch = *s;
        unsigned d;
        if (ch >= '0' && ch <= '9') {
            d = (unsigned)(ch - '0');
        } else if (ch >= 'a' && ch <= 'f') {
            d = (unsigned)(ch - 'a' + 10);
        } else {
            break;
        }
        v = v * 16 + d;
        s++;
    }
    if (s == *p) {
        return false;
    }
    *p = s;
    *out = v;
    return true;
}

/* The mapping of /proc/self/maps that holds `sp`, into *out. Returns false when it cannot be
 * read or no line holds sp. Raw system calls: the agent's close() hook and the C library's
 * buffered files stay out of it. */
static bool find_stack_mapping(uintptr_t sp, struct stack_range *out)
{
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    char buf[4096];
    size_t have = 0;
    bool found = false;
    for (;;) {
        long n = syscall(SYS_read, (int)fd, buf + have, sizeof(buf) - have);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < have && !found; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            const char *p = buf + start;
            const char *e = buf + i;
            uintptr_t lo, hi;
            start = i + 1;
            if (!parse_hex(&p, e, &lo) || p >= e || *p != '-') {
                continue;
            }
            p++;
            if (parse_hex(&p, e, &hi) && sp >= lo && sp < hi) {
                static const char tag[] = "[stack]";
                size_t tl = sizeof(tag) - 1;
                out->lo = lo;
                out->hi = hi;
                out->grows = (size_t)(e - p) >= tl && memcmp(e - tl, tag, tl) == 0;
                found = true;
            }
        }
        if (found) {
            break;
        }
        if (start == 0 && have == sizeof(buf)) {
            have = 0; /* a line longer than the buffer: drop it */
        } else {
            memmove(buf, buf + start, have - start);
            have -= start;
        }
    }
    syscall(SYS_close, (int)fd);
    return found;
}

/* Whether `sp` is in range `r` (a growing stack's range is widened to it). */
static bool in_range(struct stack_range *r, uintptr_t sp)
{
    if (sp >= r->lo && sp < r->hi) {
        return true;
    }
    if (r->grows && sp < r->lo && r->lo - sp <= GUARD_GAP) {
        r->lo = sp & ~(uintptr_t)4095;
        return true;
    }
    return false;
}

/* The end of the calling thread's stack mapping that holds `sp`, or 0 when unknown. */
static uintptr_t stack_end(uintptr_t sp)
{
    if (AG_LIKELY(in_range(&me.main, sp))) {
        return me.main.hi;
    }
    if (in_range(&me.other, sp)) {
        return me.other.hi;
    }
    if (me.looks >= MAX_LOOKS) {
        return 0;
    }
    me.looks++;
    int saved = errno;
    struct stack_range r;
    bool ok = find_stack_mapping(sp, &r);
    errno = saved;
    if (!ok) {
        return 0;
    }
    if (me.main.hi == 0 || me.main.hi == r.hi) {
        me.main = r;
    } else {
        me.other = r;
    }
    return r.hi;
}

/* ------------------------------------------------------------------ the walk */

/* The word at `a`, checked by the caller to lie in the thread's stack. */
__attribute__((no_sanitize_address)) static inline uintptr_t read_stack(uintptr_t a)
{
    uintptr_t v;
    memcpy(&v, (const void *)a, sizeof(v));
    return v;
}

/* Fills a near slot with rule word `v` of return address `ra`. A signal handler's walk on this
 * thread sees either no entry or a whole one (the address is written last). */
static void near_fill(struct near_slot *ns, uintptr_t ra, uint64_t v)
{
    ns->ra = 0;
    atomic_signal_fence(memory_order_seq_cst);
    union rule_word w = {.w = 0};
    if (RULE_KIND(v) == RULE_STEP) {
        w.r.cfa_off = (int32_t)rule_cfa_off(v);
        w.r.rbp_off = (int16_t)rule_rbp_off(v);
        w.r.ra_off = (int8_t)rule_ra_off(v);
        w.r.flags = (uint8_t)(NEAR_STEP | ((v & RULE_CFA_RBP) ? NEAR_CFA_RBP : 0) |
                              ((v & RULE_RBP_SAVED) ? NEAR_RBP_SAVED : 0));
    } else {
        w.r.cfa_off = (int32_t)RULE_KIND(v);
    }
    ns->rule = w;
    atomic_signal_fence(memory_order_seq_cst);
    ns->ra = ra;
}

/* Copies an address and its rule word into a slot, as near_fill() does. */
static void near_copy(struct near_slot *dst, uintptr_t ra, union rule_word rule)
{
    dst->ra = 0;
    atomic_signal_fence(memory_order_seq_cst);
    dst->rule = rule;
    atomic_signal_fence(memory_order_seq_cst);
    dst->ra = ra;
}

/* The walk itself; -1 to fall back. */
__attribute__((noinline)) static int walk(uintptr_t *pcs, int max, uintptr_t pc, uintptr_t sp,
                                          uintptr_t bp, uintptr_t lo)
{
    uintptr_t hi = stack_end(lo);
    if (!hi || hi - lo < 8) {
        return -1;
    }
    uintptr_t span = hi - 8 - lo; /* a word at `at` is readable when at - lo <= span */
    uint64_t gen = atomic_load_explicit(&generation, memory_order_seq_cst);
    if (atomic_load_explicit(&closing, memory_order_seq_cst) != 0) {
        return -1;
    }
    struct table *t = table_get();
    if (!t) {
        return -1;
    }
    uint64_t tag = rule_tag(gen);
    struct thread_info *self = &me;
    if (AG_UNLIKELY(self->near_gen != gen)) {
        memset(self->near, 0, sizeof(self->near));
        memset(self->last, 0, sizeof(self->last));
        memset(self->victim, 0, sizeof(self->victim));
        self->near_gen = gen;
    }
    int n = 0;
    for (;;) {
        if (n == max) {
            break;
        }
        pcs[n++] = pc;
        /* Stacks repeat: the last walks' frames at this depth (four kept), when one had the
         * same address, give the rule with a compare, and the step below does not wait on a
         * lookup that depends on the address just read. Their entries belong to this
         * generation, like the near slots', so the rule is the one the tables hold. */
        union rule_word rule;
        unsigned d = (unsigned)n - 1;
        rule.w = 0;
        if (AG_LIKELY(d < GUESS_DEPTH)) {
            /* four compares; which one matches varies from walk to walk */
            const struct near_slot *m = self->last[d];
            rule.w = m[0].ra == pc ? m[0].rule.w : rule.w;
            rule.w = m[1].ra == pc ? m[1].rule.w : rule.w;
            rule.w = m[2].ra == pc ? m[2].rule.w : rule.w;
            rule.w = m[3].ra == pc ? m[3].rule.w : rule.w;
        }
        if (AG_UNLIKELY(rule.w == 0)) { /* every rule word of a filled slot is non-zero */
            struct near_slot *ns = &self->near[(pc ^ (pc >> 8)) & (NEAR_SLOTS - 1)];
            if (AG_UNLIKELY(ns->ra != pc)) {
                near_fill(ns, pc, rule_get(t, pc, gen, tag));
            }
            rule = ns->rule;
            if (d < GUESS_DEPTH) {
                unsigned way = self->victim[d]++ % GUESS_WAYS;
                near_copy(&self->last[d][way], pc, rule);
            }
        }
        unsigned flags = rule.r.flags;
        if (AG_UNLIKELY(!(flags & NEAR_STEP))) {
            if (rule.r.cfa_off == RULE_LAST) {
                break;
            }
            return -1;
        }
        uintptr_t cfa = ((flags & NEAR_CFA_RBP) ? bp : sp) + (uintptr_t)(intptr_t)rule.r.cfa_off;
        uintptr_t ra_at = cfa + (uintptr_t)(intptr_t)rule.r.ra_off;
        /* one unsigned compare each: lo <= at && at + 8 <= hi */
        if (AG_UNLIKELY(ra_at - lo > span)) {
            return -1;
        }
        if (flags & NEAR_RBP_SAVED) {
            uintptr_t bp_at = cfa + (uintptr_t)(intptr_t)rule.r.rbp_off;
            if (AG_UNLIKELY(bp_at - lo > span)) {
                return -1;
            }
            bp = read_stack(bp_at);
        }
        pc = read_stack(ra_at);
        sp = cfa;
        if (AG_UNLIKELY(pc < 0x4000)) {
            return -1; /* libunwind's end of the road; let it say what it records */
        }
    }
    if (atomic_load_explicit(&generation, memory_order_seq_cst) != gen) {
        return -1;
    }
    return n;
}

int ag_unwind_backtrace(uintptr_t *pcs, int max)
{
    if (max <= 0) {
        return 0;
    }
    /* This function keeps a frame pointer (the agent is built with -fno-omit-frame-pointer):
     * its caller's rsp is rbp + 16, the return address at rbp + 8, the caller's rbp at rbp. */
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    uintptr_t caller_bp = *(const uintptr_t *)fp;
    int n = walk(pcs, max, ra, fp + 16, caller_bp, fp);
    if (n < 0) {
        me.fallback++;
    } else {
        me.fast++;
    }
    return n;
}

struct ag_unwind_counts ag_unwind_thread_counts(void)
{
    struct ag_unwind_counts c = {me.fast, me.fallback};
    return c;
}

uint64_t ag_unwind_table_slots(void)
{
    struct table *t = atomic_load_explicit(&current, memory_order_acquire);
    return t ? t->mask + 1 : 0;
}

uint64_t ag_unwind_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_relaxed);
}

/* ------------------------------------------------------------------ dlclose */

typedef int (*dlclose_fn)(void *);

/* Interposed: while the loader unloads, walks fall back (`closing`), and the generation moves
 * before and after, so a walk that overlaps it is dropped and the next one starts a fresh table.
 * A dlclose() from a library's destructor nests correctly. */
AG_EXPORT int dlclose(void *handle)
{
    static dlclose_fn _Atomic real;
    dlclose_fn f = atomic_load_explicit(&real, memory_order_acquire);
    if (!f) {
        int g = ag_guard;
        ag_guard = 1; /* whatever dlsym allocates is the agent's */
        f = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
        ag_guard = g;
        if (!f) {
            return -1;
        }
        atomic_store_explicit(&real, f, memory_order_release);
    }
    atomic_fetch_add_explicit(&closing, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&generation, 2, memory_order_seq_cst);
    int rc = f(handle);
    /* libunwind's DWARF cache (the fallback's, and C++ exceptions' when libunwind's
     * _Unwind_RaiseException is the one bound) holds rules by address too */
    unw_flush_cache(unw_local_addr_space, 0, 0);
    atomic_fetch_add_explicit(&generation, 2, memory_order_seq_cst);
    atomic_fetch_sub_explicit(&closing, 1, memory_order_seq_cst);
    return rc;
}
