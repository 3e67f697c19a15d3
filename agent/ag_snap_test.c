/* SPDX-License-Identifier: MIT */
/* ag_snap_test.c - snapshots encoded from a live table and stack store filled by the test, then
 * decoded with common/proto.h's readers: exact sites, bytes, blocks and births by round, the
 * canary left out, counters and flags, stacks sent once, births folded at the buffer's cap,
 * frames spread over many flushes, snapshots taken while threads allocate and free (each one
 * whole, the last one equal to a recount of the blocks), and the guard assertion in checked
 * builds. */
#include "ag_snap.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ag_mem.h"
#include "ag_test_decode.h"

/* What the flush function received: the concatenated bytes, the number of calls, and whether
 * any call began inside a frame. */
struct sink {
    uint8_t *data;
    size_t len;
    size_t cap;
    unsigned flushes;
    bool split_frame;
};

/* ag_snap_flush_fn appending to a struct sink. */
static void sink_flush(void *ctx, const uint8_t *data, size_t len)
{
    struct sink *k = ctx;
    assert_true(len > 0);
    struct proto_header h;
    if (len < PROTO_HEADER_SIZE || proto_header_parse(data, &h) != 0) {
        k->split_frame = true;
    }
    if (k->len + len > k->cap) {
        k->cap = (k->len + len) * 2;
        k->data = realloc(k->data, k->cap);
        assert_non_null(k->data);
    }
    memcpy(k->data + k->len, data, len);
    k->len += len;
    k->flushes++;
}

/* A test fixture: one agent state, an output of AG_SNAP_BUF_MIN bytes, and a sink. */
struct fixture {
    struct ag_state *st;
    struct ag_snap_out out;
    struct sink sink;
};

/* Setup: a fresh fixture (tracking, depth 32, empty tables). */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->st = calloc(1, sizeof(*f->st));
    assert_non_null(f->st);
    f->st->chan_fd = -1;
    f->st->depth = 32;
    atomic_store(&f->st->mode, AG_MODE_TRACK);
    f->out.buf.data = malloc(AG_SNAP_BUF_MIN);
    assert_non_null(f->out.buf.data);
    f->out.buf.cap = AG_SNAP_BUF_MIN;
    f->out.flush = sink_flush;
    f->out.ctx = &f->sink;
    *state = f;
    return 0;
}

/* Teardown: frees the fixture. */
static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->out.buf.data);
    free(f->sink.data);
    free(f->st); /* the tables' mappings are left, as the agent leaves them */
    free(f);
    return 0;
}

/* Writes one snapshot of round `round` with the guard set, then decodes it. The caller frees the
 * result. */
static struct ag_test_snap *write_and_decode(struct fixture *f, uint32_t round)
{
    f->sink.len = 0;
    f->sink.flushes = 0;
    ag_guard = 1;
    ag_snap_write(f->st, &f->out, round);
    ag_guard = 0;
    assert_int_equal(f->out.buf.len, 0);
    assert_false(f->sink.split_frame);
    struct ag_test_snap *s = ag_test_snap_new();
    size_t pos = 0;
    ag_test_decode(f->sink.data, f->sink.len, &pos, s);
    assert_int_equal(pos, f->sink.len); /* one snapshot, nothing after it */
    return s;
}

/* A live block of `size` bytes at stack `id`, born in `epoch`, counted as allocated. */
static void block(struct ag_state *st, uintptr_t ptr, uint64_t size, uint32_t id, uint32_t epoch)
{
    ag_stack_count_alloc(&st->stacks, id, size);
    assert_int_equal(ag_table_insert(&st->table, ptr, size, id, epoch), 0);
}

static const uintptr_t pcs_a[] = {0x401000, 0x402000, 0x403000};
static const uintptr_t pcs_b[] = {0x501000, 0x502000};
static const uintptr_t pcs_c[] = {0x601000};
static const uintptr_t pcs_d[] = {0x701000, 0x702000, 0x703000, 0x704000};

/* Stack A (id 1): 6 live blocks born in rounds 0, 2 and 5, plus the canary. Stack B (id 2): one
 * block of round 1. Stack C (id 3): interned, never allocated: no site. Stack D (id 4): two
 * blocks, both freed: a site with allocations and nothing live. */
static void fill_table(struct ag_state *st)
{
    assert_int_equal(ag_stack_intern(&st->stacks, pcs_a, 3, 0), 1);
    assert_int_equal(ag_stack_intern(&st->stacks, pcs_b, 2, 0), 2);
    assert_int_equal(ag_stack_intern(&st->stacks, pcs_c, 1, PROTO_STACK_TRUNCATED), 3);
    assert_int_equal(ag_stack_intern(&st->stacks, pcs_d, 4, 0), 4);
    block(st, 0x10010, 10, 1, 0);
    block(st, 0x10020, 20, 1, 0);
    block(st, 0x10030, 30, 1, 2);
    block(st, 0x10040, 1, 1, 5);
    block(st, 0x10050, 2, 1, 5);
    block(st, 0x10060, 3, 1, 5);
    block(st, 0x20000, 1000, 2, 1);
    block(st, 0x30010, 7, 4, 3);
    block(st, 0x30020, 7, 4, 4);
    assert_true(ag_table_remove(&st->table, 0x30010, NULL));
    assert_true(ag_table_remove(&st->table, 0x30020, NULL));
    assert_false(ag_table_remove(&st->table, 0xbad0, NULL)); /* an unknown free */
    /* The canary: in the table under stack A, never reported. */
    st->canary = 0x90000;
    assert_int_equal(ag_table_insert(&st->table, st->canary, PROTO_CANARY_SIZE, 1, 0), 0);
    atomic_store(&st->untracked, 3);
    atomic_store(&st->unwind_errors, 4);
}

static void test_snap_sites_bytes_blocks_births(void **state)
{
    struct fixture *f = *state;
    fill_table(f->st);
    struct ag_test_snap *s = write_and_decode(f, 5);

    assert_int_equal(s->round, 5);
    assert_int_equal(s->flags, PROTO_SNAP_CANARY_LIVE);
    assert_int_equal(atomic_load(&f->st->epoch), 6); /* later blocks belong to round 6 */
    assert_int_equal(s->counters[PROTO_C_LIVE_BYTES], 10 + 20 + 30 + 1 + 2 + 3 + 1000);
    assert_int_equal(s->counters[PROTO_C_LIVE_BLOCKS], 7);
    assert_int_equal(s->counters[PROTO_C_ALLOCS], 10); /* 9 blocks and the canary */
    assert_int_equal(s->counters[PROTO_C_FREES], 2);
    assert_int_equal(s->counters[PROTO_C_UNKNOWN_FREES], 1);
    assert_int_equal(s->counters[PROTO_C_UNTRACKED], 3);
    assert_int_equal(s->counters[PROTO_C_UNWIND_ERRORS], 4);
    assert_int_equal(s->counters[PROTO_C_DROPPED], 0);
    assert_int_equal(s->counters[PROTO_C_TRUNCATED], 0);
    assert_true(s->counters[PROTO_C_AGENT_BYTES] > 0);
    assert_true(s->counters[PROTO_C_TIME_NS] > 0);

    /* Every stack, once, in id order, exactly as interned. */
    assert_int_equal(s->n_stacks, 4);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(s->stacks[i].id, i + 1);
    }
    assert_int_equal(s->stacks[0].depth, 3);
    assert_int_equal(s->stacks[0].pcs[2], 0x403000);
    assert_int_equal(s->stacks[2].flags, PROTO_STACK_TRUNCATED);
    assert_int_equal(s->stacks[3].depth, 4);
    assert_int_equal(s->stacks[3].pcs[3], 0x704000);

    assert_int_equal(s->n_sites, 3);
    const struct ag_test_site *a = ag_test_site(s, 1);
    assert_non_null(a);
    assert_int_equal(a->live_blocks, 6);
    assert_int_equal(a->live_bytes, 66);
    assert_int_equal(a->alloc_blocks, 6);
    assert_int_equal(a->alloc_bytes, 66);
    assert_int_equal(a->n_births, 3);
    assert_int_equal(a->births[0].epoch, 0);
    assert_int_equal(a->births[0].blocks, 2);
    assert_int_equal(a->births[0].bytes, 30);
    assert_int_equal(a->births[1].epoch, 2);
    assert_int_equal(a->births[1].blocks, 1);
    assert_int_equal(a->births[1].bytes, 30);
    assert_int_equal(a->births[2].epoch, 5);
    assert_int_equal(a->births[2].blocks, 3);
    assert_int_equal(a->births[2].bytes, 6);

    const struct ag_test_site *b = ag_test_site(s, 2);
    assert_non_null(b);
    assert_int_equal(b->live_blocks, 1);
    assert_int_equal(b->live_bytes, 1000);
    assert_int_equal(b->n_births, 1);
    assert_int_equal(b->births[0].epoch, 1);

    assert_null(ag_test_site(s, 3));
    const struct ag_test_site *d = ag_test_site(s, 4);
    assert_non_null(d);
    assert_int_equal(d->live_blocks, 0);
    assert_int_equal(d->live_bytes, 0);
    assert_int_equal(d->n_births, 0);
    assert_int_equal(d->alloc_blocks, 2);
    assert_int_equal(d->alloc_bytes, 14);
    free(s);
}

/* Regions the program mapped are sent as blocks of their stack, flagged MMAP or BRK: a region
 * cut in its middle is two blocks; the live counters include them. */
static void test_snap_regions_are_blocks(void **state)
{
    struct fixture *f = *state;
    static const uintptr_t map_pcs[] = {0x801000, 0x802000};
    static const uintptr_t brk_pcs[] = {0x901000};
    assert_int_equal(ag_stack_intern(&f->st->stacks, map_pcs, 2, PROTO_STACK_MMAP), 1);
    assert_int_equal(ag_stack_intern(&f->st->stacks, brk_pcs, 1, PROTO_STACK_BRK), 2);
    ag_stack_count_alloc(&f->st->stacks, 1, 16384);
    ag_stack_count_alloc(&f->st->stacks, 2, 100);
    assert_int_equal(ag_region_add(&f->st->regions, 0x7f0000000000, 16384, 1, 0), 0);
    assert_int_equal(ag_region_add(&f->st->regions, 0x555500000000, 100, 2, 2), 0);
    assert_true(ag_region_remove(&f->st->regions, 0x7f0000001000, 4096, NULL));
    struct ag_test_snap *s = write_and_decode(f, 3);
    assert_int_equal(s->counters[PROTO_C_LIVE_BYTES], 12288 + 100);
    assert_int_equal(s->counters[PROTO_C_LIVE_BLOCKS], 3);
    assert_int_equal(s->stacks[0].flags, PROTO_STACK_MMAP);
    assert_int_equal(s->stacks[1].flags, PROTO_STACK_BRK);
    const struct ag_test_site *m = ag_test_site(s, 1);
    assert_non_null(m);
    assert_int_equal(m->live_blocks, 2);
    assert_int_equal(m->live_bytes, 12288);
    assert_int_equal(m->alloc_bytes, 16384);
    assert_int_equal(m->births[0].epoch, 0);
    const struct ag_test_site *b = ag_test_site(s, 2);
    assert_non_null(b);
    assert_int_equal(b->live_bytes, 100);
    assert_int_equal(b->births[0].epoch, 2);
    free(s);
    ag_region_reset(&f->st->regions);
}

/* The loaded objects include this test program, under the path of /proc/self/exe. */
static void test_snap_objects_include_the_program(void **state)
{
    struct fixture *f = *state;
    struct ag_test_snap *s = write_and_decode(f, 0);
    char exe[512] = {0};
    assert_true(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0);
    bool found = false;
    for (size_t i = 0; i < s->n_objects && i < AG_TEST_MAX_OBJS; i++) {
        found = found || strcmp(s->object_paths[i], exe) == 0;
    }
    assert_true(found);
    assert_int_equal(s->n_sites, 0);
    assert_int_equal(s->counters[PROTO_C_LIVE_BLOCKS], 0);
    free(s);
}

/* A stack goes out in the first snapshot after it was interned, and never again on the same
 * output; with stacks_sent reset to 0 (the in-process API) every stack goes out. */
static void test_snap_stacks_sent_once(void **state)
{
    struct fixture *f = *state;
    fill_table(f->st);
    free(write_and_decode(f, 1));
    assert_int_equal(f->out.stacks_sent, 4);

    struct ag_test_snap *s = write_and_decode(f, 2);
    assert_int_equal(s->n_stacks, 0);
    assert_int_equal(s->n_sites, 3); /* sites are sent every time */
    free(s);

    const uintptr_t pcs_e[] = {0x801000, 0x802000};
    assert_int_equal(ag_stack_intern(&f->st->stacks, pcs_e, 2, 0), 5);
    block(f->st, 0x40000, 55, 5, 3);
    s = write_and_decode(f, 3);
    assert_int_equal(s->n_stacks, 1);
    assert_int_equal(s->stacks[0].id, 5);
    assert_int_equal(s->stacks[0].pcs[1], 0x802000);
    assert_int_equal(s->n_sites, 4);
    assert_int_equal(ag_test_site(s, 5)->births[0].epoch, 3);
    free(s);

    f->out.stacks_sent = 0;
    s = write_and_decode(f, 4);
    assert_int_equal(s->n_stacks, 5);
    free(s);
}

/* More rounds of birth at one site than one frame of the buffer holds: the list is cut at the
 * cap and the rest is folded into its last entry, so no block is lost. */
static void test_snap_births_folded_at_buffer_cap(void **state)
{
    struct fixture *f = *state;
    const uint32_t cap = (AG_SNAP_BUF_MIN - PROTO_HEADER_SIZE - 40) / 24;
    const uint32_t rounds = cap + 80;
    assert_int_equal(ag_stack_intern(&f->st->stacks, pcs_a, 3, 0), 1);
    for (uint32_t e = 0; e < rounds; e++) {
        block(f->st, 0x1000000 + (uintptr_t)e * 16, 2, 1, e);
    }
    struct ag_test_snap *s = write_and_decode(f, rounds);
    const struct ag_test_site *a = ag_test_site(s, 1);
    assert_non_null(a);
    assert_int_equal(a->live_blocks, rounds);
    assert_int_equal(a->n_births, cap);
    assert_int_equal(a->births[7].epoch, 7);
    assert_int_equal(a->births[7].blocks, 1);
    assert_int_equal(a->last.epoch, cap - 1);
    assert_int_equal(a->last.blocks, 81);
    assert_int_equal(a->last.bytes, 162);
    assert_int_equal(a->birth_blocks, rounds);
    assert_int_equal(a->birth_bytes, 2 * (uint64_t)rounds);
    assert_true(f->sink.flushes >= 2); /* the site alone nearly fills the buffer */
    free(s);
}

/* Frames of a snapshot larger than the buffer go out over many flushes, each one ending on a
 * frame boundary, and decode as one snapshot. */
static void test_snap_large_snapshot_spans_flushes(void **state)
{
    struct fixture *f = *state;
    enum { N = 2000 };
    for (uint32_t i = 0; i < N; i++) {
        uintptr_t pcs[PROTO_MAX_DEPTH];
        for (unsigned k = 0; k < PROTO_MAX_DEPTH; k++) {
            pcs[k] = 0x400000 + (uintptr_t)i * 0x1000 + k;
        }
        assert_int_equal(ag_stack_intern(&f->st->stacks, pcs, PROTO_MAX_DEPTH, 0), i + 1);
        block(f->st, 0x2000000 + (uintptr_t)i * 32, i + 1, i + 1, i % 3);
    }
    struct ag_test_snap *s = write_and_decode(f, 9);
    assert_int_equal(s->n_stacks, N);
    assert_int_equal(s->stacks[N - 1].pcs[PROTO_MAX_DEPTH - 1],
                     0x400000 + (uintptr_t)(N - 1) * 0x1000 + PROTO_MAX_DEPTH - 1);
    assert_int_equal(s->counters[PROTO_C_LIVE_BLOCKS], N);
    assert_int_equal(s->counters[PROTO_C_LIVE_BYTES], (uint64_t)N * (N + 1) / 2);
    /* N stacks of 64 frames are over 1 MB: at least 4 buffers of 256 KiB. */
    assert_true(f->sink.flushes >= 4);
    free(s);
}

/* The flags follow the mode and the truncation counter. */
static void test_snap_flags_passthrough_and_truncated(void **state)
{
    struct fixture *f = *state;
    atomic_store(&f->st->mode, AG_MODE_PASS);
    atomic_store(&f->st->truncated, 2);
    struct ag_test_snap *s = write_and_decode(f, 0);
    assert_int_equal(s->flags, PROTO_SNAP_PASSTHROUGH | PROTO_SNAP_TRUNCATED);
    assert_int_equal(s->counters[PROTO_C_TRUNCATED], 2);
    free(s);
}

/* ---------------------------------------------------------------- snapshots during churn */

enum { SNAP_THREADS = 4, SNAP_SLOTS = 2048, SNAP_STACKS = 8 };

struct snap_churner {
    struct ag_state *st;
    unsigned id;
    _Atomic int *stop;
    _Atomic uintptr_t *slots;
    uint64_t allocs[SNAP_STACKS + 1]; /* this thread's allocations per stack */
};

static uint64_t snap_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Allocates and frees as the hooks do: count at the stack, insert born in the current round;
 * blocks are freed by whichever thread takes their slot. */
static void *snap_churn(void *arg)
{
    struct snap_churner *c = arg;
    uint64_t seed = 0x2545f4914f6cdd1dull * (c->id + 1);
    for (uint64_t step = 0; !atomic_load(c->stop); step++) {
        uint64_t r = snap_rng(&seed);
        unsigned k = (unsigned)(r % SNAP_SLOTS);
        uintptr_t old = atomic_exchange(&c->slots[k], 0);
        if (old) {
            (void)ag_table_remove(&c->st->table, old, NULL);
            continue;
        }
        uintptr_t p = 0x600000000ull + ((step % (1u << 24)) * SNAP_THREADS + c->id) * 16;
        uint32_t id = 1 + (uint32_t)((r >> 20) % SNAP_STACKS);
        uint64_t size = 1 + (r >> 40) % 500;
        ag_stack_count_alloc(&c->st->stacks, id, size);
        c->allocs[id]++;
        (void)ag_table_insert(&c->st->table, p, size, id,
                              atomic_load_explicit(&c->st->epoch, memory_order_relaxed));
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong(&c->slots[k], &expected, p)) {
            (void)ag_table_remove(&c->st->table, p, NULL);
        }
    }
    return NULL;
}

struct stack_recount {
    uint64_t blocks[SNAP_STACKS + 1];
    uint64_t bytes[SNAP_STACKS + 1];
};

static void stack_recount_visit(void *ctx, const struct ag_block *b)
{
    struct stack_recount *r = ctx;
    if (b->stack_id <= SNAP_STACKS) {
        r->blocks[b->stack_id]++;
        r->bytes[b->stack_id] += b->size;
    }
}

/* Snapshots taken while four threads allocate and free (each freeing blocks others made) are
 * whole: sites add up to the live counters, births to their site, no round is later than the
 * next one (blocks made during a snapshot are born in the next round). Once the threads stop, a
 * snapshot equals a recount of the table by walking, and every site's allocations equal what the
 * threads counted. */
static void test_snap_while_threads_churn(void **state)
{
    struct fixture *f = *state;
    static const uintptr_t base_pcs[] = {0x401000, 0x402000};
    for (uint32_t i = 1; i <= SNAP_STACKS; i++) {
        uintptr_t pcs[2] = {base_pcs[0] + i, base_pcs[1]};
        assert_int_equal(ag_stack_intern(&f->st->stacks, pcs, 2, 0), i);
    }
    static _Atomic uintptr_t slots[SNAP_SLOTS];
    _Atomic int stop = 0;
    struct snap_churner c[SNAP_THREADS];
    pthread_t tid[SNAP_THREADS];
    for (unsigned i = 0; i < SNAP_THREADS; i++) {
        c[i] = (struct snap_churner){.st = f->st, .id = i, .stop = &stop, .slots = slots};
        assert_int_equal(pthread_create(&tid[i], NULL, snap_churn, &c[i]), 0);
    }
    /* Checked after the threads are joined: a failed assertion here would leave them running. */
    bool whole = true;
    for (uint32_t round = 1; round <= 8; round++) {
        usleep(5000);
        struct ag_test_snap *s = write_and_decode(f, round);
        uint64_t blocks = 0;
        uint64_t bytes = 0;
        for (size_t i = 0; i < s->n_sites; i++) {
            const struct ag_test_site *site = &s->sites[i];
            whole = whole && site->stack_id >= 1 && site->stack_id <= SNAP_STACKS;
            whole = whole && site->birth_blocks == site->live_blocks;
            whole = whole && site->birth_bytes == site->live_bytes;
            /* Blocks made while the snapshot ran are born in the next round. */
            whole = whole && (site->n_births == 0 || site->last.epoch <= round + 1);
            blocks += site->live_blocks;
            bytes += site->live_bytes;
        }
        whole = whole && blocks == s->counters[PROTO_C_LIVE_BLOCKS];
        whole = whole && bytes == s->counters[PROTO_C_LIVE_BYTES];
        free(s);
    }
    atomic_store(&stop, 1);
    for (unsigned i = 0; i < SNAP_THREADS; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    }
    assert_true(whole);
    struct stack_recount r = {0};
    ag_table_walk(&f->st->table, stack_recount_visit, &r);
    struct ag_test_snap *s = write_and_decode(f, 9);
    uint64_t total = 0;
    for (uint32_t id = 1; id <= SNAP_STACKS; id++) {
        const struct ag_test_site *site = ag_test_site(s, id);
        assert_non_null(site);
        assert_int_equal(site->live_blocks, r.blocks[id]);
        assert_int_equal(site->live_bytes, r.bytes[id]);
        uint64_t allocs = 0;
        for (unsigned i = 0; i < SNAP_THREADS; i++) {
            allocs += c[i].allocs[id];
        }
        assert_int_equal(site->alloc_blocks, allocs);
        total += r.blocks[id];
    }
    assert_int_equal(s->counters[PROTO_C_LIVE_BLOCKS], total);
    free(s);
}

/* In checked builds (sanitizers, AG_DEBUG) writing a snapshot without the guard set traps. */
static void test_snap_guard_is_asserted(void **state)
{
    struct fixture *f = *state;
    if (!AG_CHECKED) {
        skip();
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches SIGILL to report a test; the trap must end this child instead. */
        signal(SIGILL, SIG_DFL);
        signal(SIGTRAP, SIG_DFL);
        ag_guard = 0;
        ag_snap_write(f->st, &f->out, 1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGTRAP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snap_regions_are_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_sites_bytes_blocks_births, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_objects_include_the_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_stacks_sent_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_births_folded_at_buffer_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_large_snapshot_spans_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_flags_passthrough_and_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_while_threads_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snap_guard_is_asserted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
