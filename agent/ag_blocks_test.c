/* SPDX-License-Identifier: MIT */
/* ag_blocks_test.c - the block list the retainer scan asks for, decoded with common/proto.h's
 * readers: every live block once with its size, stack and round, batches spread over several
 * flushes of a small buffer, the channel thread's tid, the objects with their writable ranges,
 * the agent's own object flagged (here the test program, which links the agent's code), static
 * TLS at the right offset from the thread pointer, the program's mappings as blocks, and an empty
 * table. */
#include "ag_blocks.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

/* What the flush function received. */
struct sink {
    uint8_t *data;
    size_t len, cap;
    unsigned flushes;
};

static void sink_flush(void *ctx, const uint8_t *data, size_t len)
{
    struct sink *k = ctx;
    if (k->len + len > k->cap) {
        k->cap = (k->len + len) * 2;
        k->data = realloc(k->data, k->cap);
        assert_non_null(k->data);
    }
    memcpy(k->data + k->len, data, len);
    k->len += len;
    k->flushes++;
}

/* The decoded answer. */
struct answer {
    uint32_t tid;
    uint64_t begin_count, end_count;
    uint32_t end_flags;
    unsigned objects, agent_objects;
    bool agent_holds_state, tls_ok;
    size_t n;
    struct ag_block b[20000];
};

static struct answer ans;

static void decode(const struct sink *k, struct answer *a)
{
    memset(a, 0, sizeof(*a));
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    int expect = PROTO_BLOCKS_BEGIN;
    for (size_t at = 0; at < k->len;) {
        struct proto_header h;
        assert_int_equal(proto_header_parse(k->data + at, &h), 0);
        struct proto_rbuf r = {.data = k->data + at + PROTO_HEADER_SIZE, .len = h.length};
        at += PROTO_HEADER_SIZE + h.length;
        if (expect == PROTO_BLOCKS_BEGIN) {
            assert_int_equal(h.type, PROTO_BLOCKS_BEGIN);
            uint32_t flags;
            assert_int_equal(proto_get_u32(&r, &a->tid), 0);
            assert_int_equal(proto_get_u32(&r, &flags), 0);
            assert_int_equal(proto_get_u64(&r, &a->begin_count), 0);
            expect = 0;
        } else if (h.type == PROTO_BLOCKS_OBJECT) {
            uint64_t base, off, memsz;
            uint32_t flags, n;
            assert_int_equal(proto_get_u64(&r, &base), 0);
            assert_int_equal(proto_get_u32(&r, &flags), 0);
            assert_int_equal(proto_get_u32(&r, &n), 0);
            assert_int_equal(proto_get_u64(&r, &off), 0);
            assert_int_equal(proto_get_u64(&r, &memsz), 0);
            bool holds = false;
            for (uint32_t i = 0; i < n; i++) {
                uint64_t lo, hi;
                assert_int_equal(proto_get_u64(&r, &lo), 0);
                assert_int_equal(proto_get_u64(&r, &hi), 0);
                assert_true(lo < hi);
                holds |= (uintptr_t)&ag_state >= lo && (uintptr_t)&ag_state < hi;
            }
            const uint8_t *p;
            size_t len;
            assert_int_equal(proto_get_str(&r, &p, &len), 0);
            assert_int_equal(r.pos, r.len);
            a->objects++;
            if (flags & PROTO_BOBJ_AGENT) {
                a->agent_objects++;
                a->agent_holds_state = holds;
                /* the agent's own TLS (ag_guard) in its static TLS block */
                uintptr_t lo = tp + (uintptr_t)(int64_t)off;
                a->tls_ok = (flags & PROTO_BOBJ_TLS_STATIC) && (uintptr_t)&ag_guard >= lo &&
                            (uintptr_t)&ag_guard < lo + memsz;
            }
        } else if (h.type == PROTO_BLOCKS) {
            uint32_t n, zero;
            assert_int_equal(proto_get_u32(&r, &n), 0);
            assert_int_equal(proto_get_u32(&r, &zero), 0);
            for (uint32_t i = 0; i < n; i++) {
                assert_true(a->n < sizeof(a->b) / sizeof(a->b[0]));
                struct ag_block *b = &a->b[a->n++];
                uint64_t ptr;
                assert_int_equal(proto_get_u64(&r, &ptr), 0);
                b->ptr = (uintptr_t)ptr;
                assert_int_equal(proto_get_u64(&r, &b->size), 0);
                assert_int_equal(proto_get_u32(&r, &b->stack_id), 0);
                assert_int_equal(proto_get_u32(&r, &b->epoch), 0);
            }
            assert_int_equal(r.pos, r.len);
        } else {
            assert_int_equal(h.type, PROTO_BLOCKS_END);
            uint32_t zero;
            assert_int_equal(proto_get_u64(&r, &a->end_count), 0);
            assert_int_equal(proto_get_u32(&r, &a->end_flags), 0);
            assert_int_equal(proto_get_u32(&r, &zero), 0);
            assert_int_equal(at, k->len); /* nothing after the end */
        }
    }
}

/* Writes the answer for `st` through a buffer of AG_SNAP_BUF_MIN bytes and decodes it. */
static void write_and_decode(struct ag_state *st, struct sink *k)
{
    struct ag_snap_out out = {.flush = sink_flush, .ctx = k};
    out.buf.data = malloc(AG_SNAP_BUF_MIN);
    assert_non_null(out.buf.data);
    out.buf.cap = AG_SNAP_BUF_MIN;
    ag_guard = 1;
    ag_blocks_write(st, &out);
    ag_guard = 0;
    assert_int_equal(out.buf.len, 0);
    free(out.buf.data);
    decode(k, &ans);
}

static int by_ptr(const void *a, const void *b)
{
    const struct ag_block *x = a;
    const struct ag_block *y = b;
    return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

/* 15000 blocks (more than one buffer's worth of frames) come back each once, exactly. */
static void test_ag_blocks_every_block(void **state)
{
    (void)state;
    struct ag_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    const unsigned n = 15000;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(
            ag_table_insert(&st->table, 0x10000 + 64u * i, i % 50 + 1, i % 7 + 1, i % 5), 0);
    }
    struct sink k = {0};
    write_and_decode(st, &k);
    assert_true(k.flushes > 1);
    assert_int_equal(ans.tid, (uint32_t)syscall(SYS_gettid));
    assert_int_equal(ans.begin_count, n);
    assert_int_equal(ans.end_count, n);
    assert_int_equal(ans.end_flags, 0);
    assert_int_equal(ans.n, n);
    qsort(ans.b, ans.n, sizeof(ans.b[0]), by_ptr);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(ans.b[i].ptr, 0x10000 + 64u * i);
        assert_int_equal(ans.b[i].size, i % 50 + 1);
        assert_int_equal(ans.b[i].stack_id, i % 7 + 1);
        assert_int_equal(ans.b[i].epoch, i % 5);
    }
    /* the objects: this program (holding the agent's code and state) flagged, once; libc too */
    assert_true(ans.objects >= 2);
    assert_int_equal(ans.agent_objects, 1);
    assert_true(ans.agent_holds_state);
    assert_true(ans.tls_ok);
    free(k.data);
    free(st);
}

/* The program's own mappings come as blocks of their stacks, beside malloc's. */
static void test_ag_blocks_regions(void **state)
{
    (void)state;
    struct ag_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    assert_int_equal(ag_table_insert(&st->table, 0x1000, 32, 1, 0), 0);
    assert_int_equal(ag_region_add(&st->regions, 0x7f0000000000, 1 << 20, 9, 3), 0);
    struct sink k = {0};
    write_and_decode(st, &k);
    assert_int_equal(ans.n, 2);
    qsort(ans.b, ans.n, sizeof(ans.b[0]), by_ptr);
    assert_int_equal(ans.b[0].ptr, 0x1000);
    assert_int_equal(ans.b[1].ptr, 0x7f0000000000);
    assert_int_equal(ans.b[1].size, 1 << 20);
    assert_int_equal(ans.b[1].stack_id, 9);
    assert_int_equal(ans.b[1].epoch, 3);
    assert_int_equal(ans.end_count, 2);
    free(k.data);
    free(st);
}

/* An empty table: BEGIN, the objects, END with a count of 0. */
static void test_ag_blocks_empty(void **state)
{
    (void)state;
    struct ag_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    struct sink k = {0};
    write_and_decode(st, &k);
    assert_int_equal(ans.n, 0);
    assert_int_equal(ans.end_count, 0);
    assert_int_equal(ans.end_flags, 0);
    assert_true(ans.objects >= 1);
    free(k.data);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ag_blocks_every_block),
        cmocka_unit_test(test_ag_blocks_empty),
        cmocka_unit_test(test_ag_blocks_regions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
