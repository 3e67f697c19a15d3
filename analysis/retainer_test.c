/* SPDX-License-Identifier: MIT */
/* retainer_test.c - unit tests of the retainer scan's reading (rec.c: REC_RETAIN), naming and
 * grouping (retainer.c), through proctree_analyse() on recordings built in memory with the
 * protocol's encoder.
 *
 * The recorded program is this test itself: its stacks point into the functions below, and an
 * OBJECT frame lists this program, so sites have culprits; the scan's roots point at this
 * program's own global and thread-local variables, so they are named from its symbol table and
 * DWARF. Site LEAK keeps one 256-byte block per round (allocated by cache_put_node); site HOLD
 * holds one block from start-up (cache_new_buckets): the bucket array the nodes hang from.
 */
#include "retainer.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proctree.h"

#define LEAK_ID 9
#define HOLD_ID 2
#define ROUNDS  10

/* The variables the scan's roots point at, with their definitions' lines. */
static const int g_test_buckets_line = __LINE__ + 1;
void *g_test_buckets[8];
static __thread void *t_test_cache[4];
static const int t_test_cache_line = __LINE__ - 1;

/* The functions the stacks point into. Never called. */
__attribute__((noinline, used)) static void *cache_put_node(size_t n)
{
    return malloc(n);
}

__attribute__((noinline, used)) static void *cache_new_buckets(size_t n)
{
    return calloc(1, n);
}

__attribute__((noinline, used)) static void *serve_forever(size_t n)
{
    return cache_put_node(n);
}

/* A return address whose call instruction is the first byte of `fn` (sym subtracts 1). */
static uint64_t ret_into(void *(*fn)(size_t))
{
    return (uint64_t)(uintptr_t)fn + 1;
}

/* This program: its path, load bias and this thread's TLS block. */
struct self {
    char exe[PATH_MAX];
    uint64_t bias;
    uintptr_t tls;
    struct dl_phdr_info info;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self *me = data;
    me->bias = info->dlpi_addr;
    me->tls = (uintptr_t)info->dlpi_tls_data;
    me->info = *info;
    return 1; /* the main program comes first */
}

static void self_init(struct self *me)
{
    memset(me, 0, sizeof(*me));
    ssize_t len = readlink("/proc/self/exe", me->exe, sizeof(me->exe) - 1);
    assert_true(len > 0);
    t_test_cache[0] = me; /* makes this thread's TLS block exist */
    dl_iterate_phdr(find_self, me);
    assert_true(me->tls != 0);
}

/* ---------------------------------------------------------------- one process's channel */

static void put_stack(struct proto_wbuf *b, uint32_t id, uint64_t pc0, uint64_t pc1)
{
    proto_frame_begin(b, PROTO_STACK);
    proto_put_u32(b, id);
    proto_put_u16(b, 2);
    proto_put_u16(b, 0);
    proto_put_u64(b, pc0);
    proto_put_u64(b, pc1);
    proto_frame_end(b);
}

/* A SITE of `blocks` blocks of `size` bytes, one born per round 1..blocks (or all at start-up). */
static void put_site(struct proto_wbuf *b, uint32_t id, uint64_t blocks, uint64_t size, bool grow)
{
    uint32_t n = grow ? (uint32_t)blocks : 1;
    proto_frame_begin(b, PROTO_SITE);
    proto_put_u32(b, id);
    proto_put_u32(b, n);
    proto_put_u64(b, blocks * size);
    proto_put_u64(b, blocks);
    proto_put_u64(b, blocks);
    proto_put_u64(b, blocks * size);
    for (uint32_t i = 0; i < n; i++) {
        proto_put_u32(b, grow ? i + 1 : 0);
        proto_put_u32(b, 0);
        proto_put_u64(b, grow ? 1 : blocks);
        proto_put_u64(b, grow ? size : blocks * size);
    }
    proto_frame_end(b);
}

static void put_object(struct proto_wbuf *b, const struct self *me)
{
    const struct dl_phdr_info *info = &me->info;
    uint16_t n_segs = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        n_segs += info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X);
    }
    proto_frame_begin(b, PROTO_OBJECT);
    proto_put_u64(b, me->bias);
    proto_put_u16(b, n_segs);
    proto_put_u16(b, 0);
    proto_put_u32(b, 0);
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            proto_put_u64(b, me->bias + ph->p_vaddr);
            proto_put_u64(b, me->bias + ph->p_vaddr + ph->p_memsz);
            proto_put_u64(b, ph->p_offset);
        }
    }
    proto_put_str(b, me->exe, strlen(me->exe));
    proto_put_str(b, "", 0);
    proto_frame_end(b);
}

/* One process's channel: HELLO, then snapshots of rounds 1..ROUNDS; its LEAK stack is numbered
 * `leak_id` (processes number their stacks apart). */
static size_t channel(uint8_t *data, size_t cap, const struct self *me, uint32_t pid,
                      uint32_t leak_id)
{
    struct proto_wbuf b = {.data = data, .cap = cap};
    proto_frame_begin(&b, PROTO_HELLO);
    proto_put_u32(&b, pid);
    proto_put_u32(&b, 0);
    proto_put_u64(&b, PROTO_CANARY_SIZE);
    proto_put_str(&b, "test", 4);
    proto_put_str(&b, me->exe, strlen(me->exe));
    proto_frame_end(&b);
    for (uint32_t r = 1; r <= ROUNDS; r++) {
        proto_frame_begin(&b, PROTO_SNAP_BEGIN);
        proto_put_u32(&b, r);
        proto_put_u32(&b, PROTO_SNAP_CANARY_LIVE);
        for (int c = 0; c < PROTO_NCOUNTERS; c++) {
            proto_put_u64(&b, c == PROTO_C_LIVE_BYTES ? 4096 + 256 * r : 0);
        }
        proto_frame_end(&b);
        if (r == 1) {
            put_stack(&b, leak_id, ret_into(cache_put_node), ret_into(serve_forever));
            put_stack(&b, HOLD_ID, ret_into(cache_new_buckets), ret_into(serve_forever));
        }
        put_site(&b, leak_id, r, 256, true);
        put_site(&b, HOLD_ID, 1, 4096, false);
        put_object(&b, me);
        proto_frame_begin(&b, PROTO_SNAP_END);
        proto_put_u32(&b, r);
        proto_put_u32(&b, r == 1 ? 2 : 0);
        proto_put_u32(&b, 2);
        proto_put_u32(&b, 1);
        proto_frame_end(&b);
    }
    assert_false(b.overflow);
    return b.len;
}

/* ---------------------------------------------------------------- the recording */

/* One sampled path as the test writes it. */
struct t_path {
    uint32_t stack_id;
    uint32_t kind;
    uint32_t obj;
    uint64_t addr, pc;
    uint32_t tid;
    uint32_t n_hops;
    uint32_t hops[4][2];
};

struct t_scan {
    uint32_t flags;
    const char *note;
    size_t n_paths;
    const struct t_path *paths;
};

static void put_proc(struct proto_wbuf *b, uint32_t idx, uint32_t pid, uint32_t origin)
{
    proto_frame_begin(b, PROTO_REC_PROC);
    proto_put_u32(b, idx);
    proto_put_u32(b, pid);
    proto_put_u32(b, 1);
    proto_put_u32(b, origin);
    proto_put_u32(b, PROTO_NO_PROC);
    proto_put_u32(b, 0);
    proto_put_str(b, "/bin/server", 11);
    proto_put_str(b, "server", 7);
    proto_frame_end(b);
}

static void put_data(struct proto_wbuf *b, uint32_t idx, const uint8_t *p, size_t n)
{
    proto_frame_begin(b, PROTO_REC_DATA);
    proto_put_u32(b, idx);
    proto_put_bytes(b, p, n);
    proto_frame_end(b);
}

static void put_retain(struct proto_wbuf *b, uint32_t idx, const struct self *me,
                       const struct t_scan *sc)
{
    proto_frame_begin(b, PROTO_REC_RETAIN);
    proto_put_u32(b, idx);
    proto_put_u32(b, ROUNDS);
    proto_put_u32(b, sc->flags);
    proto_put_u32(b, 1);
    proto_put_u32(b, (uint32_t)sc->n_paths);
    proto_put_u32(b, 0);
    proto_put_u64(b, 1500);    /* stopped 1.5 ms */
    proto_put_u64(b, 4000);    /* scan 4 ms */
    proto_put_u64(b, 1 << 20); /* read */
    proto_put_u64(b, 11);
    proto_put_u64(b, 4096 + 640);
    proto_put_u64(b, 65536);
    proto_put_str(b, sc->note, strlen(sc->note));
    proto_put_u64(b, me->bias);
    proto_put_str(b, me->exe, strlen(me->exe));
    for (size_t i = 0; i < sc->n_paths; i++) {
        const struct t_path *pa = &sc->paths[i];
        proto_put_u32(b, pa->stack_id);
        proto_put_u32(b, 3);
        proto_put_u64(b, 64);
        proto_put_u32(b, pa->kind);
        proto_put_u32(b, pa->obj);
        proto_put_u64(b, pa->addr);
        proto_put_u64(b, pa->pc);
        proto_put_u32(b, pa->tid);
        proto_put_u32(b, pa->n_hops);
        for (uint32_t h = 0; h < pa->n_hops; h++) {
            proto_put_u32(b, pa->hops[h][0]);
            proto_put_u32(b, pa->hops[h][1]);
        }
    }
    proto_frame_end(b);
}

static uint8_t rec_buf[1 << 20];
static uint8_t chan_buf[1 << 18];

/* A recording of `n_procs` processes of one program (process i numbers its LEAK stack
 * LEAK_ID + 10 * i), each with the scan `scans[i]` (NULL: none). */
static size_t recording(const struct self *me, size_t n_procs, const struct t_scan *const *scans)
{
    struct proto_wbuf b = {.data = rec_buf, .cap = sizeof(rec_buf)};
    for (uint32_t i = 0; i < n_procs; i++) {
        put_proc(&b, i, 100 + i, i ? PROTO_ORIGIN_FORK : PROTO_ORIGIN_START);
        size_t n = channel(chan_buf, sizeof(chan_buf), me, 100 + i, LEAK_ID + 10 * i);
        put_data(&b, i, chan_buf, n);
    }
    for (uint32_t i = 0; i < n_procs; i++) {
        if (scans[i]) {
            put_retain(&b, i, me, scans[i]);
        }
    }
    assert_false(b.overflow);
    return b.len;
}

/* Reads and analyses a recording into `out` (zeroed here). */
static void analyse(const uint8_t *p, size_t n, struct rpt_scenario *out)
{
    struct rec rec;
    rec_init(&rec);
    struct diag d = {{0}};
    assert_int_equal(rec_feed(&rec, p, n, &d), 0);
    static const struct analysis_role role = {.name = "server", .match = "*"};
    struct analysis_opts o = {
        .name = "cache", .warmup = 2, .rounds = ROUNDS - 2, .roles = &role, .n_roles = 1};
    memset(out, 0, sizeof(*out));
    assert_int_equal(proctree_analyse(&o, &rec, NULL, NULL, out), 0);
    rec_cleanup(&rec);
}

static const struct rpt_site *find_site(const struct rpt_scenario *s, const char *function)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].function && strcmp(s->sites[i].function, function) == 0) {
            return &s->sites[i];
        }
    }
    return NULL;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = s ? strlen(s) : 0;
    size_t b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* ---------------------------------------------------------------- tests */

/* Nodes hanging from a global bucket array: three survivors held by g_test_buckets (at
 * offsets 8, 8 and 16 into it) through a bucket-array block (pointer at +16, +16, +24), and one
 * lost. The groups: the global one first (3 survivors), its most common offsets, names and
 * definition line; then the lost one. */
static void test_retainer_global_through_a_block(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    uint64_t g = (uint64_t)(uintptr_t)&g_test_buckets[0] - me.bias;
    const struct t_path paths[] = {
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g + 8, 0, 0, 1, {{HOLD_ID, 16}}},
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g + 16, 0, 0, 1, {{HOLD_ID, 24}}},
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g + 8, 0, 0, 1, {{HOLD_ID, 16}}},
        {LEAK_ID, PROTO_ROOT_UNREACHABLE, PROTO_NO_OBJ, 0, 0, 0, 0, {{0}}},
    };
    const struct t_scan sc = {.note = "", .n_paths = 4, .paths = paths};
    const struct t_scan *scans[] = {&sc};
    size_t n = recording(&me, 1, scans);
    struct rpt_scenario s;
    analyse(rec_buf, n, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    const struct rpt_site *leak = find_site(&s, "cache_put_node");
    assert_non_null(leak);
    assert_int_equal(leak->retain_sampled, 4);
    assert_int_equal(leak->n_retainers, 2);
    const struct rpt_retainer *r = &leak->retainers[0];
    assert_int_equal(r->kind, RPT_ROOT_GLOBAL);
    assert_string_equal(r->symbol, "g_test_buckets");
    assert_string_equal(r->object, me.exe);
    assert_true(ends_with(r->file, "retainer_test.c"));
    assert_int_equal(r->line, g_test_buckets_line);
    assert_string_equal(r->section, ".bss");
    assert_int_equal(r->offset, 8);
    assert_true(r->offset_varies); /* 8, 16, 8 */
    assert_int_equal(r->blocks, 3);
    assert_int_equal(r->bytes, 3 * 64);
    assert_int_equal(r->n_via, 1);
    assert_string_equal(r->via[0].function, "cache_new_buckets");
    assert_true(ends_with(r->via[0].file, "retainer_test.c"));
    assert_int_equal(r->via[0].offset, 16);
    assert_true(r->via[0].offset_varies); /* 16, 24, 16 */
    assert_int_equal(r->via[0].site, HOLD_ID);
    const struct rpt_retainer *lost = &leak->retainers[1];
    assert_int_equal(lost->kind, RPT_ROOT_UNREACHABLE);
    assert_null(lost->symbol);
    assert_int_equal(lost->blocks, 1);
    assert_int_equal(lost->n_via, 0);
    /* the figures */
    assert_true(s.retain.ran);
    assert_true(s.retain.complete);
    assert_null(s.retain.note);
    assert_int_equal(s.retain.round, ROUNDS);
    assert_int_equal(s.retain.processes, 1);
    assert_true(s.retain.stopped_seconds == 0.0015);
    assert_int_equal(s.retain.bytes_read, 1 << 20);
    assert_int_equal(s.retain.memory_bytes, 65536);
    /* the holder had no paths sampled */
    const struct rpt_site *hold = find_site(&s, "cache_new_buckets");
    assert_non_null(hold);
    assert_int_equal(hold->n_retainers, 0);
    rpt_scenario_cleanup(&s);
}

/* A thread-local cache, a register and a stack frame: each root named its own way. */
static void test_retainer_tls_register_stack(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    uint64_t tls = (uint64_t)((uintptr_t)&t_test_cache[2] - me.tls);
    const struct t_path paths[] = {
        {LEAK_ID, PROTO_ROOT_TLS, 0, tls, 0, 77, 0, {{0}}},
        {LEAK_ID, PROTO_ROOT_TLS, 0, tls, 0, 77, 0, {{0}}},
        {LEAK_ID, PROTO_ROOT_REGISTER, PROTO_NO_OBJ, PROTO_REG_RBX, 0, 78, 0, {{0}}},
        {LEAK_ID,
         PROTO_ROOT_STACK,
         PROTO_NO_OBJ,
         40,
         ret_into(serve_forever),
         79,
         1,
         {{HOLD_ID, 8}}},
    };
    const struct t_scan sc = {.note = "", .n_paths = 4, .paths = paths};
    const struct t_scan *scans[] = {&sc};
    size_t n = recording(&me, 1, scans);
    struct rpt_scenario s;
    analyse(rec_buf, n, &s);
    const struct rpt_site *leak = find_site(&s, "cache_put_node");
    assert_non_null(leak);
    assert_int_equal(leak->n_retainers, 3);
    const struct rpt_retainer *t = &leak->retainers[0];
    assert_int_equal(t->kind, RPT_ROOT_TLS);
    assert_string_equal(t->symbol, "t_test_cache");
    assert_int_equal(t->offset, 16);
    assert_int_equal(t->tid, 77);
    assert_int_equal(t->line, t_test_cache_line);
    assert_int_equal(t->blocks, 2);
    /* one survivor each: by kind, global < stack < tls < register */
    const struct rpt_retainer *st = &leak->retainers[1];
    assert_int_equal(st->kind, RPT_ROOT_STACK);
    assert_string_equal(st->symbol, "serve_forever");
    assert_true(ends_with(st->file, "retainer_test.c"));
    assert_int_equal(st->offset, 40);
    assert_int_equal(st->tid, 79);
    assert_int_equal(st->n_via, 1);
    assert_string_equal(st->via[0].function, "cache_new_buckets");
    const struct rpt_retainer *reg = &leak->retainers[2];
    assert_int_equal(reg->kind, RPT_ROOT_REGISTER);
    assert_string_equal(reg->symbol, "rbx");
    assert_int_equal(reg->tid, 78);
    rpt_scenario_cleanup(&s);
}

/* Two processes of one role, each numbering the leaking stack its own way: their paths land on
 * the one merged site and group together. One scan was cut short: the figures say so. */
static void test_retainer_merged_processes(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    uint64_t g = (uint64_t)(uintptr_t)&g_test_buckets[0] - me.bias;
    const struct t_path p0[] = {
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g, 0, 0, 1, {{HOLD_ID, 16}}},
    };
    const struct t_path p1[] = {
        {LEAK_ID + 10, PROTO_ROOT_GLOBAL, 0, g, 0, 0, 1, {{HOLD_ID, 16}}},
        {LEAK_ID + 10, PROTO_ROOT_GLOBAL, 0, g + 4096, 0, 0, 0, {{0}}},
    };
    const struct t_scan s0 = {.note = "", .n_paths = 1, .paths = p0};
    const struct t_scan s1 = {
        .flags = PROTO_RETAIN_CUT, .note = "time bound reached", .n_paths = 2, .paths = p1};
    const struct t_scan *scans[] = {&s0, &s1};
    size_t n = recording(&me, 2, scans);
    struct rpt_scenario s;
    analyse(rec_buf, n, &s);
    const struct rpt_site *leak = find_site(&s, "cache_put_node");
    assert_non_null(leak);
    assert_int_equal(leak->n_pids, 2);
    assert_int_equal(leak->retain_sampled, 3);
    assert_true(leak->n_retainers >= 1);
    assert_string_equal(leak->retainers[0].symbol, "g_test_buckets");
    assert_int_equal(leak->retainers[0].blocks, 2);
    assert_int_equal(leak->retainers[0].n_via, 1);
    assert_false(leak->retainers[0].offset_varies); /* both at g + 0 */
    assert_false(leak->retainers[0].via[0].offset_varies);
    assert_true(s.retain.ran);
    assert_false(s.retain.complete);
    assert_string_equal(s.retain.note, "process 101: time bound reached");
    assert_int_equal(s.retain.processes, 2);
    assert_true(s.retain.seconds == 0.008);
    assert_int_equal(s.retain.live_blocks, 22);
    rpt_scenario_cleanup(&s);
}

/* A run of blocks with one culprit on the way (a list's nodes) is one step, its last block:
 * paths through runs of different lengths group together. */
static void test_retainer_runs_fold(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    uint64_t g = (uint64_t)(uintptr_t)&g_test_buckets[0] - me.bias;
    const struct t_path paths[] = {
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g, 0, 0, 3, {{HOLD_ID, 16}, {HOLD_ID, 0}, {HOLD_ID, 24}}},
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g, 0, 0, 1, {{HOLD_ID, 24}}},
        {LEAK_ID, PROTO_ROOT_GLOBAL, 0, g, 0, 0, 2, {{HOLD_ID, 8}, {HOLD_ID, 24}}},
    };
    const struct t_scan sc = {.note = "", .n_paths = 3, .paths = paths};
    const struct t_scan *scans[] = {&sc};
    size_t n = recording(&me, 1, scans);
    struct rpt_scenario s;
    analyse(rec_buf, n, &s);
    const struct rpt_site *leak = find_site(&s, "cache_put_node");
    assert_non_null(leak);
    assert_int_equal(leak->n_retainers, 1);
    const struct rpt_retainer *r = &leak->retainers[0];
    assert_int_equal(r->blocks, 3);
    assert_int_equal(r->n_via, 1);
    assert_string_equal(r->via[0].function, "cache_new_buckets");
    assert_int_equal(r->via[0].offset, 24); /* the pointer out of the run */
    assert_false(r->via[0].offset_varies);
    rpt_scenario_cleanup(&s);
}

/* No scan in the recording: nothing ran, no site has retainers. */
static void test_retainer_absent(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    const struct t_scan *scans[] = {NULL};
    size_t n = recording(&me, 1, scans);
    struct rpt_scenario s;
    analyse(rec_buf, n, &s);
    assert_false(s.retain.ran);
    for (size_t i = 0; i < s.n_sites; i++) {
        assert_int_equal(s.sites[i].n_retainers, 0);
        assert_null(s.sites[i].retainers);
    }
    rpt_scenario_cleanup(&s);
}

/* Feeds a one-process recording followed by `tail` and returns rec_feed's result. */
static int feed_with(const struct self *me, const uint8_t *tail, size_t tail_len, struct diag *d)
{
    const struct t_scan *scans[] = {NULL};
    size_t n = recording(me, 1, scans);
    memcpy(rec_buf + n, tail, tail_len);
    struct rec rec;
    rec_init(&rec);
    int rc = rec_feed(&rec, rec_buf, n + tail_len, d);
    if (rc == 0) {
        assert_non_null(rec.procs[0]->st.snaps);
    }
    rec_cleanup(&rec);
    return rc;
}

/* Malformed scans are errors that say what was expected; a frame of a newer harness is
 * skipped. */
static void test_retainer_malformed(void **state)
{
    (void)state;
    struct self me;
    self_init(&me);
    uint8_t tail[4096];
    struct diag d = {{0}};
    const struct t_path bad_obj[] = {{LEAK_ID, PROTO_ROOT_GLOBAL, 3, 0, 0, 0, 0, {{0}}}};
    const struct t_path bad_kind[] = {{LEAK_ID, 9, PROTO_NO_OBJ, 0, 0, 0, 0, {{0}}}};
    const struct t_path bad_reg[] = {
        {LEAK_ID, PROTO_ROOT_REGISTER, PROTO_NO_OBJ, 99, 0, 0, 0, {{0}}}};
    const struct {
        const struct t_path *p;
        const char *msg;
    } cases[] = {
        {bad_obj, "names an object the frame does not list"},
        {bad_kind, "unknown root kind"},
        {bad_reg, "unknown register"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proto_wbuf b = {.data = tail, .cap = sizeof(tail)};
        const struct t_scan sc = {.note = "", .n_paths = 1, .paths = cases[i].p};
        put_retain(&b, 0, &me, &sc);
        memset(&d, 0, sizeof(d));
        assert_int_equal(feed_with(&me, tail, b.len, &d), -EBADMSG);
        assert_non_null(strstr(d.msg, "retainer scan of process 0"));
        assert_non_null(strstr(d.msg, cases[i].msg));
    }
    /* a path count the payload can't hold, and a scan cut in its figures */
    struct proto_wbuf b = {.data = tail, .cap = sizeof(tail)};
    const struct t_path one[] = {
        {LEAK_ID, PROTO_ROOT_UNREACHABLE, PROTO_NO_OBJ, 0, 0, 0, 0, {{0}}}};
    const struct t_scan sc = {.note = "", .n_paths = 1, .paths = one};
    put_retain(&b, 0, &me, &sc);
    tail[PROTO_HEADER_SIZE + 16] = 0xff; /* n_paths */
    memset(&d, 0, sizeof(d));
    assert_int_equal(feed_with(&me, tail, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "more paths than the frame holds"));
    b = (struct proto_wbuf){.data = tail, .cap = sizeof(tail)};
    proto_frame_begin(&b, PROTO_REC_RETAIN);
    proto_put_u32(&b, 0);
    proto_put_u32(&b, ROUNDS);
    proto_frame_end(&b);
    memset(&d, 0, sizeof(d));
    assert_int_equal(feed_with(&me, tail, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "payload too short"));
    /* a process that never joined */
    b = (struct proto_wbuf){.data = tail, .cap = sizeof(tail)};
    put_retain(&b, 5, &me, &sc);
    memset(&d, 0, sizeof(d));
    assert_int_equal(feed_with(&me, tail, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "never joined"));
    /* a newer frame type: skipped */
    b = (struct proto_wbuf){.data = tail, .cap = sizeof(tail)};
    proto_frame_begin(&b, (enum proto_type)(PROTO_REC_RETAIN + 7));
    proto_put_u32(&b, 1);
    proto_frame_end(&b);
    memset(&d, 0, sizeof(d));
    assert_int_equal(feed_with(&me, tail, b.len, &d), 0);
}

/* The register names. */
static void test_retainer_reg_names(void **state)
{
    (void)state;
    assert_string_equal(retainer_reg_name(PROTO_REG_RAX), "rax");
    assert_string_equal(retainer_reg_name(PROTO_REG_R15), "r15");
    assert_string_equal(retainer_reg_name(PROTO_REG_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retainer_global_through_a_block),
        cmocka_unit_test(test_retainer_tls_register_stack),
        cmocka_unit_test(test_retainer_merged_processes),
        cmocka_unit_test(test_retainer_runs_fold),
        cmocka_unit_test(test_retainer_absent),
        cmocka_unit_test(test_retainer_malformed),
        cmocka_unit_test(test_retainer_reg_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
