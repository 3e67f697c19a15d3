/* SPDX-License-Identifier: MIT */
/* series_test.c - unit tests of series_build() and series_round() over snapshot streams built
 * in memory with the protocol's encoder: rounds lined up by number, the stop at the first
 * missing round, sites sorted by id, survivors by round of birth from the last snapshot, and
 * streams numbered from a round base.
 */
#include "series.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_BIRTHS 8

/* One site as a snapshot reports it. */
struct t_site {
    uint32_t id;
    uint64_t bytes, blocks, alloc_bytes;
    size_t n_births;
    struct snap_birth births[MAX_BIRTHS];
};

/* A stream under construction. */
struct t_stream {
    uint8_t data[1 << 16];
    struct proto_wbuf b;
};

static void stream_init(struct t_stream *t)
{
    t->b = (struct proto_wbuf){.data = t->data, .cap = sizeof(t->data)};
}

/* Appends one STACK frame for site `id`: two made-up return addresses. */
static void put_stack(struct proto_wbuf *b, uint32_t id)
{
    proto_frame_begin(b, PROTO_STACK);
    proto_put_u32(b, id);
    proto_put_u16(b, 2);
    proto_put_u16(b, 0);
    proto_put_u64(b, 0x10000u * id + 0x11);
    proto_put_u64(b, 0x10000u * id + 0x22);
    proto_frame_end(b);
}

/* Appends one SITE frame. */
static void put_site(struct proto_wbuf *b, const struct t_site *s)
{
    proto_frame_begin(b, PROTO_SITE);
    proto_put_u32(b, s->id);
    proto_put_u32(b, (uint32_t)s->n_births);
    proto_put_u64(b, s->bytes);
    proto_put_u64(b, s->blocks);
    proto_put_u64(b, s->blocks);
    proto_put_u64(b, s->alloc_bytes);
    for (size_t i = 0; i < s->n_births; i++) {
        proto_put_u32(b, s->births[i].epoch);
        proto_put_u32(b, 0);
        proto_put_u64(b, s->births[i].blocks);
        proto_put_u64(b, s->births[i].bytes);
    }
    proto_frame_end(b);
}

/* Appends a whole snapshot answering `round`: its counters say counter c = round * 1000 + c,
 * then a stack and a site frame for each of sites[0..n-1]. */
static void put_snapshot(struct t_stream *t, uint32_t round, const struct t_site *sites, size_t n)
{
    struct proto_wbuf *b = &t->b;
    proto_frame_begin(b, PROTO_SNAP_BEGIN);
    proto_put_u32(b, round);
    proto_put_u32(b, PROTO_SNAP_CANARY_LIVE);
    for (uint64_t c = 0; c < PROTO_NCOUNTERS; c++) {
        proto_put_u64(b, round * 1000u + c);
    }
    proto_frame_end(b);
    for (size_t i = 0; i < n; i++) {
        put_stack(b, sites[i].id);
        put_site(b, &sites[i]);
    }
    proto_frame_begin(b, PROTO_SNAP_END);
    proto_put_u32(b, round);
    proto_put_u32(b, (uint32_t)n);
    proto_put_u32(b, (uint32_t)n);
    proto_put_u32(b, 0);
    proto_frame_end(b);
}

/* Parses what was built into `st` (initialized here). */
static void stream_parse(struct t_stream *t, struct snap_stream *st)
{
    assert_false(t->b.overflow);
    snap_stream_init(st);
    struct diag d = {{0}};
    assert_int_equal(snap_stream_feed(st, t->data, t->b.len, &d), 0);
    assert_false(snap_stream_partial(st));
}

/* A site that keeps one 100-byte block per round 1..round (born in that round). */
static struct t_site growing(uint32_t id, uint32_t round)
{
    struct t_site s = {.id = id, .bytes = 100u * round, .blocks = round};
    s.alloc_bytes = 100u * round;
    for (uint32_t r = 1; r <= round && s.n_births < MAX_BIRTHS; r++) {
        s.births[s.n_births++] = (struct snap_birth){.epoch = r, .blocks = 1, .bytes = 100};
    }
    return s;
}

/* Rounds 1..4 line up in order; each site's series holds its figures of every round. */
static void test_series_build_lines_up_rounds(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    for (uint32_t r = 1; r <= 4; r++) {
        struct t_site s = growing(5, r);
        put_snapshot(&t, r, &s, 1);
    }
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 10, &ser), 0);
    assert_int_equal(ser.n_rounds, 4);
    assert_int_equal(ser.base, 0);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(ser.snaps[i]->round, i + 1);
    }
    assert_ptr_equal(ser.last, ser.snaps[3]);
    assert_int_equal(ser.n_sites, 1);
    const struct series_site *s = &ser.sites[0];
    assert_int_equal(s->id, 5);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s->live_bytes[i], 100 * (i + 1));
        assert_int_equal(s->live_blocks[i], i + 1);
        assert_int_equal(s->surv_blocks[i], 1);
        assert_int_equal(s->surv_bytes[i], 100);
    }
    assert_int_equal(s->peak, 400);
    assert_int_equal(s->alloc_bytes, 400);
    assert_int_equal(s->alloc_blocks, 4);
    series_cleanup(&ser);
    assert_null(ser.sites);
    assert_int_equal(ser.n_rounds, 0);
    snap_stream_cleanup(&st);
}

/* Rounds are found by number, not arrival order; a repeated round counts its last answer. */
static void test_series_build_by_round_number(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    const uint32_t order[] = {3, 1, 2, 2};
    for (size_t i = 0; i < 4; i++) {
        struct t_site s = {.id = 1, .bytes = 10u * order[i] + i, .blocks = 1};
        put_snapshot(&t, order[i], &s, 1);
    }
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 3, &ser), 0);
    assert_int_equal(ser.n_rounds, 3);
    assert_int_equal(ser.sites[0].live_bytes[0], 11);
    assert_int_equal(ser.sites[0].live_bytes[1], 23); /* the second answer to round 2 */
    assert_int_equal(ser.sites[0].live_bytes[2], 30);
    assert_ptr_equal(ser.last, &st.snaps[0]);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* A missing round ends the series: later rounds and the sites only they have are left out. */
static void test_series_build_stops_at_missing_round(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    const uint32_t rounds[] = {1, 2, 4, 5};
    for (size_t i = 0; i < 4; i++) {
        struct t_site s[2] = {growing(7, rounds[i]), growing(9, rounds[i])};
        put_snapshot(&t, rounds[i], s, rounds[i] >= 4 ? 2 : 1);
    }
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 5, &ser), 0);
    assert_int_equal(ser.n_rounds, 2);
    assert_int_equal(ser.last->round, 2);
    assert_int_equal(ser.n_sites, 1);
    assert_int_equal(ser.sites[0].id, 7);
    assert_int_equal(ser.sites[0].live_bytes[1], 200);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* max_rounds caps the series even when the stream has more rounds. */
static void test_series_build_max_rounds(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    for (uint32_t r = 1; r <= 5; r++) {
        struct t_site s = growing(2, r);
        put_snapshot(&t, r, &s, 1);
    }
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 3, &ser), 0);
    assert_int_equal(ser.n_rounds, 3);
    assert_int_equal(ser.last->round, 3);
    assert_int_equal(ser.sites[0].peak, 300);
    /* survivors come from round 3's snapshot: births of rounds 1..3 */
    assert_int_equal(ser.sites[0].surv_blocks[2], 1);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* No round 1: no rounds and no sites; `last` is the stream's last snapshot, or NULL. */
static void test_series_build_no_rounds(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    struct t_site s = growing(3, 2);
    put_snapshot(&t, 0, &s, 1);
    put_snapshot(&t, 2, &s, 1);
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 4, &ser), 0);
    assert_int_equal(ser.n_rounds, 0);
    assert_int_equal(ser.n_sites, 0);
    assert_ptr_equal(ser.last, &st.snaps[1]);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);

    snap_stream_init(&st);
    assert_int_equal(series_build(&st, 0, 4, &ser), 0);
    assert_int_equal(ser.n_rounds, 0);
    assert_null(ser.last);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* Sites come sorted by id whatever order the snapshots list them in; a site missing from a
 * round reads 0 there, and keeps its peak and the allocation totals it last reported. */
static void test_series_build_sites_sorted(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    struct t_site r1[] = {{.id = 9, .bytes = 90, .blocks = 1, .alloc_bytes = 900},
                          {.id = 2, .bytes = 20, .blocks = 1, .alloc_bytes = 200},
                          {.id = 5, .bytes = 500, .blocks = 5, .alloc_bytes = 500}};
    struct t_site r2[] = {{.id = 5, .bytes = 50, .blocks = 1, .alloc_bytes = 600},
                          {.id = 1, .bytes = 10, .blocks = 1, .alloc_bytes = 10},
                          {.id = 9, .bytes = 95, .blocks = 1, .alloc_bytes = 950}};
    put_snapshot(&t, 1, r1, 3);
    put_snapshot(&t, 2, r2, 3);
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 2, &ser), 0);
    assert_int_equal(ser.n_sites, 4);
    const uint32_t ids[] = {1, 2, 5, 9};
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(ser.sites[k].id, ids[k]);
    }
    assert_int_equal(ser.sites[0].live_bytes[0], 0);
    assert_int_equal(ser.sites[0].live_bytes[1], 10);
    assert_int_equal(ser.sites[1].live_bytes[1], 0);
    assert_int_equal(ser.sites[1].alloc_bytes, 200);
    assert_int_equal(ser.sites[2].peak, 500);
    assert_int_equal(ser.sites[2].alloc_bytes, 600);
    assert_int_equal(ser.sites[3].live_bytes[1], 95);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* Survivors are read from the last round's snapshot only: start-up births (epoch 0) and epochs
 * past the last round are left out; earlier snapshots' births don't count. */
static void test_series_build_survivors_from_last(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    struct t_site first = {.id = 4, .bytes = 1, .blocks = 1, .n_births = 1};
    first.births[0] = (struct snap_birth){.epoch = 1, .blocks = 50, .bytes = 5000};
    put_snapshot(&t, 1, &first, 1);
    struct t_site mid = first;
    mid.births[mid.n_births++] = (struct snap_birth){.epoch = 2, .blocks = 60, .bytes = 6000};
    put_snapshot(&t, 2, &mid, 1);
    struct t_site last = {.id = 4, .bytes = 1, .blocks = 1, .n_births = 4};
    last.births[0] = (struct snap_birth){.epoch = 0, .blocks = 70, .bytes = 7000};
    last.births[1] = (struct snap_birth){.epoch = 1, .blocks = 2, .bytes = 20};
    last.births[2] = (struct snap_birth){.epoch = 3, .blocks = 3, .bytes = 33};
    last.births[3] = (struct snap_birth){.epoch = 4, .blocks = 9, .bytes = 99};
    put_snapshot(&t, 3, &last, 1);
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 0, 3, &ser), 0);
    const struct series_site *s = &ser.sites[0];
    const uint64_t blocks[] = {2, 0, 3};
    const uint64_t bytes[] = {20, 0, 33};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s->surv_blocks[i], blocks[i]);
        assert_int_equal(s->surv_bytes[i], bytes[i]);
    }
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* A stream numbered on from a base: its round base+r is round r, and births at or before epoch
 * base count as start-up. The same rounds without a base are not found. */
static void test_series_build_round_base(void **state)
{
    (void)state;
    static struct t_stream t;
    stream_init(&t);
    for (uint32_t r = 10; r <= 13; r++) {
        struct t_site s = {.id = 6, .bytes = 10u * r, .blocks = r, .n_births = r > 10 ? 3 : 2};
        s.births[0] = (struct snap_birth){.epoch = 9, .blocks = 100, .bytes = 1000};
        s.births[1] = (struct snap_birth){.epoch = 10, .blocks = 200, .bytes = 2000};
        s.births[2] = (struct snap_birth){.epoch = r, .blocks = r, .bytes = 10u * r};
        put_snapshot(&t, r, &s, 1);
    }
    struct snap_stream st;
    stream_parse(&t, &st);
    struct series ser;
    assert_int_equal(series_build(&st, 10, 5, &ser), 0);
    assert_int_equal(ser.base, 10);
    assert_int_equal(ser.n_rounds, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ser.snaps[i]->round, 11 + i);
        assert_int_equal(ser.sites[0].live_bytes[i], 10 * (11 + i));
    }
    /* the last snapshot (round 13 = round 3) has births at 9, 10 (start-up) and 13 */
    assert_int_equal(ser.sites[0].surv_blocks[0], 0);
    assert_int_equal(ser.sites[0].surv_blocks[1], 0);
    assert_int_equal(ser.sites[0].surv_blocks[2], 13);
    assert_int_equal(ser.sites[0].surv_bytes[2], 130);
    series_cleanup(&ser);

    assert_int_equal(series_build(&st, 0, 5, &ser), 0);
    assert_int_equal(ser.n_rounds, 0);
    series_cleanup(&ser);
    snap_stream_cleanup(&st);
}

/* series_round() copies the round's totals from the snapshot's counters. */
static void test_series_round_totals(void **state)
{
    (void)state;
    struct snap_snapshot snap = {.round = 7};
    for (size_t c = 0; c < PROTO_NCOUNTERS; c++) {
        snap.counters[c] = 1000 + c;
    }
    struct rpt_round r;
    memset(&r, 0xa5, sizeof(r));
    series_round(&snap, 3, true, 1.25, &r);
    assert_int_equal(r.round, 3);
    assert_true(r.warmup);
    assert_int_equal(r.live_bytes, 1000 + PROTO_C_LIVE_BYTES);
    assert_int_equal(r.live_blocks, 1000 + PROTO_C_LIVE_BLOCKS);
    assert_int_equal(r.rss_bytes, 1000 + PROTO_C_RSS_BYTES);
    assert_int_equal(r.heap_inuse_bytes, 1000 + PROTO_C_HEAP_INUSE);
    assert_int_equal(r.heap_free_bytes, 1000 + PROTO_C_HEAP_FREE);
    assert_int_equal(r.agent_bytes, 1000 + PROTO_C_AGENT_BYTES);
    assert_true(r.seconds == 1.25);
    series_round(&snap, 4, false, 0, &r);
    assert_int_equal(r.round, 4);
    assert_false(r.warmup);
    assert_true(r.seconds == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_build_lines_up_rounds),
        cmocka_unit_test(test_series_build_by_round_number),
        cmocka_unit_test(test_series_build_stops_at_missing_round),
        cmocka_unit_test(test_series_build_max_rounds),
        cmocka_unit_test(test_series_build_no_rounds),
        cmocka_unit_test(test_series_build_sites_sorted),
        cmocka_unit_test(test_series_build_survivors_from_last),
        cmocka_unit_test(test_series_build_round_base),
        cmocka_unit_test(test_series_round_totals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
