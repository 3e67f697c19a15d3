/* SPDX-License-Identifier: MIT */
/* heapgraph_test.c - the conservative search over fake memory: chains, cycles, interior
 * pointers, unreachable blocks, the roots' order deciding the parent, the C library's
 * malloc-state words, blocks bigger than the read buffer, reads that fail, and a stop. */
#include "heapgraph.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BASE 0x100000u
#define SIZE 0x10000u

/* Fake memory: SIZE bytes at BASE; reads outside it get nothing; `fail_at` reads fail. */
struct mem {
    uint8_t bytes[SIZE];
    unsigned reads;
    unsigned fail_after; /* 0: never */
    unsigned stop_after; /* 0: never */
    unsigned stops;
};

static int mem_read(void *ctx, struct hg_iov *v, size_t n)
{
    struct mem *m = ctx;
    m->reads++;
    if (m->fail_after && m->reads > m->fail_after) {
        return -ESRCH;
    }
    for (size_t k = 0; k < n; k++) {
        if (v[k].addr < BASE || v[k].addr + v[k].len > BASE + SIZE) {
            continue;
        }
        memcpy(v[k].buf, m->bytes + (v[k].addr - BASE), v[k].len);
        v[k].got = v[k].len;
    }
    return 0;
}

static bool mem_stop(void *ctx)
{
    struct mem *m = ctx;
    return m->stop_after && ++m->stops > m->stop_after;
}

static void put(struct mem *m, uint64_t at, uint64_t value)
{
    memcpy(m->bytes + (at - BASE), &value, 8);
}

/* Blocks at BASE + 0x1000 * (i + 1), 64 bytes each. */
static uint64_t blk(unsigned i)
{
    return BASE + 0x1000u * (i + 1);
}

static void make_blocks(struct hg_block *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        b[n - 1 - i] = (struct hg_block){.addr = blk(i), .size = 64, .stack_id = i + 1};
    }
    hg_sort_blocks(b, n);
}

/* A root -> 0 -> 1 (interior pointer) -> 2 -> 0 (a cycle); 3 unreachable; 4 reached only by a
 * register. */
static void test_heapgraph_chain_cycle_interior(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[5];
    make_blocks(b, 5);
    assert_int_equal(b[0].addr, blk(0));
    put(&m, BASE + 8, blk(0));
    put(&m, blk(0) + 16, blk(1) + 40);
    put(&m, blk(1) + 8, blk(2));
    put(&m, blk(2), blk(0) + 8);
    struct hg_opts o = {.read = mem_read, .ctx = &m, .buf_bytes = 4096};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 5, &o), 0);
    struct hg_range r = {.start = BASE, .end = BASE + 0x100, .tag = 7};
    struct hg_value v = {.value = blk(4) + 3, .tag = 9};
    assert_int_equal(hg_search(&g, &o, &r, 1, &v, 1), 0);
    assert_false(g.cut);
    assert_int_equal(g.reached, 4);
    uint32_t hops[8];
    const struct hg_hit *hit = NULL;
    assert_int_equal(hg_path(&g, 2, hops, 8, &hit), 2);
    assert_int_equal(hops[0], 0);
    assert_int_equal(hops[1], 1);
    assert_int_equal(hit->tag, 7);
    assert_int_equal(hit->where, BASE + 8);
    assert_int_equal(g.offset[1], 16);
    assert_int_equal(g.offset[2], 8);
    assert_int_equal(hg_path(&g, 0, hops, 8, &hit), 0);
    assert_int_equal(hg_path(&g, 3, hops, 8, &hit), -1);
    assert_int_equal(hg_path(&g, 4, hops, 8, &hit), 0);
    assert_int_equal(hit->tag, 9);
    assert_int_equal(hit->where, 0);
    hg_free(&g);
    hg_free(&g);
}

/* The first range that points at a block wins, whatever its address; the shortest path wins
 * over a longer one found first in memory order. */
static void test_heapgraph_root_order_and_shortest(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[3];
    make_blocks(b, 3);
    put(&m, BASE + 0x800, blk(0)); /* second range */
    put(&m, BASE + 0x10, blk(0));  /* first range: lower address, searched second */
    put(&m, BASE + 0x18, blk(1));
    put(&m, blk(1), blk(2));
    put(&m, blk(0), blk(1)); /* 0 -> 1 too, but 1 is a root's */
    struct hg_opts o = {.read = mem_read, .ctx = &m};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 3, &o), 0);
    struct hg_range r[2] = {{.start = BASE + 0x800, .end = BASE + 0x808, .tag = 1},
                            {.start = BASE, .end = BASE + 0x100, .tag = 2}};
    assert_int_equal(hg_search(&g, &o, r, 2, NULL, 0), 0);
    const struct hg_hit *hit = NULL;
    uint32_t hops[4];
    assert_int_equal(hg_path(&g, 0, hops, 4, &hit), 0);
    assert_int_equal(hit->tag, 1);
    assert_int_equal(hg_path(&g, 2, hops, 4, &hit), 1);
    assert_int_equal(hops[0], 1);
    assert_int_equal(hit->tag, 2);
    hg_free(&g);
}

/* A 16-aligned word in the C library's data pointing at a block's last 8 bytes is the malloc
 * state's chunk header, not an edge; the same word elsewhere is one. */
static void test_heapgraph_libc_chunk_headers(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[2] = {{.addr = blk(0), .size = 24}, {.addr = blk(1), .size = 24}};
    put(&m, BASE, blk(0) + 16);
    put(&m, BASE + 0x100, blk(1) + 16);
    struct hg_opts o = {.read = mem_read, .ctx = &m};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 2, &o), 0);
    struct hg_range r[2] = {{.start = BASE, .end = BASE + 8, .tag = 1, .libc = true},
                            {.start = BASE + 0x100, .end = BASE + 0x108, .tag = 2}};
    assert_int_equal(hg_search(&g, &o, r, 2, NULL, 0), 0);
    assert_int_equal(g.parent[0], HG_NONE);
    assert_int_not_equal(g.parent[1], HG_NONE);
    hg_free(&g);
}

/* A block bigger than the read buffer is read in pieces; its pointer at the far end counts. */
static void test_heapgraph_big_block(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[2] = {{.addr = blk(0), .size = 0x3000}, {.addr = blk(4), .size = 8}};
    put(&m, BASE, blk(0));
    put(&m, blk(0) + 0x2ff8, blk(4));
    struct hg_opts o = {.read = mem_read, .ctx = &m, .buf_bytes = 256};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 2, &o), 0);
    struct hg_range r = {.start = BASE, .end = BASE + 8};
    assert_int_equal(hg_search(&g, &o, &r, 1, NULL, 0), 0);
    assert_int_equal(g.parent[1], 0);
    assert_int_equal(g.offset[1], 0x2ff8);
    assert_int_equal(g.bytes_read, 8 + 0x3000 + 8);
    assert_true(g.peak_bytes >= 256);
    hg_free(&g);
}

/* A failed read or a stop cuts the search: what was reached stays, the rest is unknown. */
static void test_heapgraph_cut(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[2];
    make_blocks(b, 2);
    put(&m, BASE, blk(0));
    put(&m, blk(0), blk(1));
    m.fail_after = 1;
    struct hg_opts o = {.read = mem_read, .ctx = &m};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 2, &o), 0);
    struct hg_range r = {.start = BASE, .end = BASE + 8};
    assert_int_equal(hg_search(&g, &o, &r, 1, NULL, 0), 0);
    assert_true(g.cut);
    assert_int_equal(g.read_error, -ESRCH);
    assert_int_not_equal(g.parent[0], HG_NONE);
    assert_int_equal(g.parent[1], HG_NONE);
    hg_free(&g);

    memset(&m, 0, sizeof(m));
    put(&m, BASE, blk(0));
    m.stop_after = 1;
    o.stop = mem_stop;
    assert_int_equal(hg_init(&g, b, 2, &o), 0);
    assert_int_equal(hg_search(&g, &o, &r, 1, NULL, 0), 0);
    assert_true(g.cut);
    assert_int_equal(g.read_error, 0);
    hg_free(&g);
}

/* A lower tier wins even with a longer path: global -> 0 -> 1 -> 2, and a stack word (tier 1)
 * pointing straight at 2 does not take it. */
static void test_heapgraph_tiers(void **state)
{
    (void)state;
    static struct mem m;
    memset(&m, 0, sizeof(m));
    struct hg_block b[4];
    make_blocks(b, 4);
    put(&m, BASE, blk(0));
    put(&m, blk(0), blk(1));
    put(&m, blk(1), blk(2));
    put(&m, BASE + 0x800, blk(2));
    put(&m, BASE + 0x808, blk(3));
    struct hg_opts o = {.read = mem_read, .ctx = &m};
    struct hg g;
    assert_int_equal(hg_init(&g, b, 4, &o), 0);
    struct hg_range r[2] = {{.start = BASE + 0x800, .end = BASE + 0x810, .tag = 5, .tier = 1},
                            {.start = BASE, .end = BASE + 8, .tag = 4, .tier = 0}};
    struct hg_value v = {.value = blk(1), .tag = 6, .tier = 2};
    assert_int_equal(hg_search(&g, &o, r, 2, &v, 1), 0);
    uint32_t hops[4];
    const struct hg_hit *hit = NULL;
    assert_int_equal(hg_path(&g, 2, hops, 4, &hit), 2);
    assert_int_equal(hit->tag, 4);
    assert_int_equal(hg_path(&g, 3, hops, 4, &hit), 0);
    assert_int_equal(hit->tag, 5);
    assert_int_equal(hg_path(&g, 1, hops, 4, &hit), 1);
    assert_int_equal(hit->tag, 4);
    assert_int_equal(g.reached, 4);
    hg_free(&g);
}

/* Overlapping blocks: the later ones inside a kept block go, the order stays. */
static void test_heapgraph_drop_overlaps(void **state)
{
    (void)state;
    struct hg_block b[5] = {{.addr = 100, .size = 50},
                            {.addr = 120, .size = 8},
                            {.addr = 150, .size = 0},
                            {.addr = 150, .size = 4},
                            {.addr = 200, .size = 8}};
    assert_int_equal(hg_drop_overlaps(b, 5), 3);
    assert_int_equal(b[0].addr, 100);
    assert_int_equal(b[1].addr, 150);
    assert_int_equal(b[1].size, 0);
    assert_int_equal(b[2].addr, 200);
    assert_int_equal(hg_drop_overlaps(b, 0), 0);
}

/* hg_find: starts, interiors, ends, gaps, malloc(0). */
static void test_heapgraph_find(void **state)
{
    (void)state;
    struct hg_block b[3] = {
        {.addr = 100, .size = 10}, {.addr = 110, .size = 0}, {.addr = 200, .size = 8}};
    assert_int_equal(hg_find(b, 3, 99), HG_NONE);
    assert_int_equal(hg_find(b, 3, 100), 0);
    assert_int_equal(hg_find(b, 3, 109), 0);
    assert_int_equal(hg_find(b, 3, 110), 1);
    assert_int_equal(hg_find(b, 3, 111), HG_NONE);
    assert_int_equal(hg_find(b, 3, 207), 2);
    assert_int_equal(hg_find(b, 3, 208), HG_NONE);
    assert_int_equal(hg_find(b, 0, 100), HG_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heapgraph_chain_cycle_interior),
        cmocka_unit_test(test_heapgraph_root_order_and_shortest),
        cmocka_unit_test(test_heapgraph_libc_chunk_headers),
        cmocka_unit_test(test_heapgraph_big_block),
        cmocka_unit_test(test_heapgraph_cut),
        cmocka_unit_test(test_heapgraph_find),
        cmocka_unit_test(test_heapgraph_tiers),
        cmocka_unit_test(test_heapgraph_drop_overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
