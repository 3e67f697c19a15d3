/* SPDX-License-Identifier: MIT */
/* snap_test.c - unit tests of the snapshot stream parser: feeding byte by byte, truncation,
 * corrupt and oversize frames, a target that dies mid-snapshot. */
#include "snap.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static uint8_t g_buf[1 << 16];

/* Appends one full snapshot of `round` to b: one new stack (id = round + 1), one site per
 * stack so far, one object. */
static void put_snapshot(struct proto_wbuf *b, uint32_t round, uint32_t flags)
{
    proto_frame_begin(b, PROTO_SNAP_BEGIN);
    proto_put_u32(b, round);
    proto_put_u32(b, flags);
    for (int i = 0; i < PROTO_NCOUNTERS; i++) {
        proto_put_u64(b, i == PROTO_C_LIVE_BYTES ? 1000 + round * 100 : (uint64_t)i);
    }
    proto_frame_end(b);
    proto_frame_begin(b, PROTO_STACK);
    proto_put_u32(b, round + 1);
    proto_put_u16(b, 2);
    proto_put_u16(b, 0);
    proto_put_u64(b, 0x1000 + round);
    proto_put_u64(b, 0x2000 + round);
    proto_frame_end(b);
    for (uint32_t s = 0; s <= round; s++) {
        proto_frame_begin(b, PROTO_SITE);
        proto_put_u32(b, s + 1);
        proto_put_u32(b, 1);
        proto_put_u64(b, 10 * (round + 1));
        proto_put_u64(b, round + 1);
        proto_put_u64(b, 7);
        proto_put_u64(b, 70);
        proto_put_u32(b, round);
        proto_put_u32(b, 0);
        proto_put_u64(b, 1);
        proto_put_u64(b, 10);
        proto_frame_end(b);
    }
    proto_frame_begin(b, PROTO_OBJECT);
    proto_put_u64(b, 0x400000);
    proto_put_u16(b, 1);
    proto_put_u16(b, 0);
    proto_put_u32(b, 0);
    proto_put_u64(b, 0x401000);
    proto_put_u64(b, 0x402000);
    proto_put_u64(b, 0x1000);
    proto_put_str(b, "/bin/x", 6);
    proto_put_str(b, "\x01\x02", 2);
    proto_frame_end(b);
    proto_frame_begin(b, PROTO_SNAP_END);
    proto_put_u32(b, round);
    proto_put_u32(b, 1);
    proto_put_u32(b, round + 1);
    proto_put_u32(b, 1);
    proto_frame_end(b);
}

static void put_hello(struct proto_wbuf *b)
{
    proto_frame_begin(b, PROTO_HELLO);
    proto_put_u32(b, 42);
    proto_put_u32(b, PROTO_HELLO_UNWIND);
    proto_put_u64(b, PROTO_CANARY_SIZE);
    proto_put_str(b, "0.1.0", 5);
    proto_put_str(b, "/bin/x", 6);
    proto_frame_end(b);
}

/* A stream: HELLO and snapshots 0..n-1. */
static size_t make_stream(size_t n)
{
    struct proto_wbuf b = {.data = g_buf, .cap = sizeof(g_buf)};
    put_hello(&b);
    for (uint32_t r = 0; r < n; r++) {
        put_snapshot(&b, r, PROTO_SNAP_CANARY_LIVE);
    }
    assert_false(b.overflow);
    return b.len;
}

static void check_full(const struct snap_stream *st, size_t n)
{
    assert_true(st->have_hello);
    assert_int_equal(st->pid, 42);
    assert_string_equal(st->agent_version, "0.1.0");
    assert_int_equal(st->n_snaps, n);
    assert_int_equal(st->n_stacks, n);
    for (size_t r = 0; r < n; r++) {
        const struct snap_snapshot *sn = snap_stream_find(st, (uint32_t)r);
        assert_non_null(sn);
        assert_int_equal(sn->counters[PROTO_C_LIVE_BYTES], 1000 + r * 100);
        assert_int_equal(sn->n_sites, r + 1);
        assert_int_equal(sn->n_objects, 1);
        assert_string_equal(sn->objects[0].path, "/bin/x");
        assert_int_equal(sn->objects[0].segs[0].start, 0x401000);
        assert_int_equal(sn->sites[0].births[0].epoch, r);
    }
    const struct snap_stack *stk = snap_stream_stack(st, 2);
    assert_non_null(stk);
    assert_int_equal(stk->depth, 2);
    assert_int_equal(stk->pcs[1], 0x2001);
    assert_null(snap_stream_stack(st, 999));
}

static void test_snap_feed_whole(void **state)
{
    (void)state;
    size_t len = make_stream(3);
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, len, &d), 0);
    check_full(&st, 3);
    assert_false(snap_stream_partial(&st));
    snap_stream_cleanup(&st);
}

static void test_snap_feed_byte_at_a_time(void **state)
{
    (void)state;
    size_t len = make_stream(4);
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(snap_stream_feed(&st, g_buf + i, 1, &d), 0);
    }
    check_full(&st, 4);
    snap_stream_cleanup(&st);
}

static void test_snap_truncated_everywhere_keeps_complete(void **state)
{
    (void)state;
    size_t one = make_stream(1);
    size_t len = make_stream(2);
    /* Every cut point inside the second snapshot keeps exactly the first. */
    for (size_t cut = one; cut < len; cut++) {
        struct snap_stream st;
        struct diag d = {{0}};
        snap_stream_init(&st);
        assert_int_equal(snap_stream_feed(&st, g_buf, cut, &d), 0);
        assert_int_equal(st.n_snaps, 1);
        assert_int_equal(st.snaps[0].round, 0);
        assert_int_equal(snap_stream_partial(&st), cut > one);
        snap_stream_cleanup(&st);
    }
}

static void test_snap_corrupt_magic(void **state)
{
    (void)state;
    size_t len = make_stream(2);
    size_t one = make_stream(1);
    (void)len;
    make_stream(2);
    g_buf[one] ^= 0xff; /* first byte of the second snapshot's header */
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "wrong magic"));
    assert_int_equal(st.n_snaps, 1);
    /* Sticky: further input is refused. */
    assert_int_equal(snap_stream_feed(&st, g_buf, 1, &d), -EBADMSG);
    snap_stream_cleanup(&st);
}

static void test_snap_oversize_frame(void **state)
{
    (void)state;
    uint8_t h[PROTO_HEADER_SIZE];
    struct proto_wbuf b = {.data = h, .cap = sizeof(h)};
    proto_put_u32(&b, PROTO_MAGIC);
    proto_put_u16(&b, PROTO_VERSION);
    proto_put_u16(&b, PROTO_SITE);
    proto_put_u32(&b, PROTO_MAX_PAYLOAD + 1);
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, h, sizeof(h), &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "larger than the limit"));
    snap_stream_cleanup(&st);
}

static void test_snap_depth_over_limit(void **state)
{
    (void)state;
    struct proto_wbuf b = {.data = g_buf, .cap = sizeof(g_buf)};
    proto_frame_begin(&b, PROTO_SNAP_BEGIN);
    proto_put_u32(&b, 0);
    proto_put_u32(&b, 0);
    for (int i = 0; i < PROTO_NCOUNTERS; i++) {
        proto_put_u64(&b, 0);
    }
    proto_frame_end(&b);
    proto_frame_begin(&b, PROTO_STACK);
    proto_put_u32(&b, 1);
    proto_put_u16(&b, PROTO_MAX_DEPTH + 1);
    proto_put_u16(&b, 0);
    for (unsigned i = 0; i <= PROTO_MAX_DEPTH; i++) {
        proto_put_u64(&b, i);
    }
    proto_frame_end(&b);
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "over the limit of 64"));
    snap_stream_cleanup(&st);
}

static void test_snap_short_payload_and_order(void **state)
{
    (void)state;
    struct proto_wbuf b = {.data = g_buf, .cap = sizeof(g_buf)};
    proto_frame_begin(&b, PROTO_HELLO);
    proto_put_u32(&b, 1);
    proto_frame_end(&b);
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "HELLO frame at byte 0: payload too short"));
    snap_stream_cleanup(&st);

    /* A SITE outside a snapshot. */
    b.len = 0;
    proto_frame_begin(&b, PROTO_SITE);
    proto_put_u32(&b, 1);
    proto_frame_end(&b);
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "outside a snapshot"));
    snap_stream_cleanup(&st);

    /* An unknown frame type. */
    b.len = 0;
    proto_frame_begin(&b, (enum proto_type)99);
    proto_frame_end(&b);
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, b.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "unexpected frame type 99"));
    snap_stream_cleanup(&st);
}

static void test_snap_end_count_mismatch(void **state)
{
    (void)state;
    size_t len = make_stream(1);
    /* The last frame is SNAP_END: announce one more site than arrived. */
    g_buf[len - 8] = 9;
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, g_buf, len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "announces 9 sites"));
    assert_int_equal(st.n_snaps, 0);
    snap_stream_cleanup(&st);
}

/* The stream offset an error message names ("... at byte N..."), or UINT64_MAX when none. */
static uint64_t named_offset(const char *msg)
{
    const char *at = strstr(msg, " at byte ");
    if (!at) {
        return UINT64_MAX;
    }
    char *end;
    unsigned long long v = strtoull(at + strlen(" at byte "), &end, 10);
    return end == at + strlen(" at byte ") ? UINT64_MAX : (uint64_t)v;
}

static void assert_same_snapshot(const struct snap_snapshot *a, const struct snap_snapshot *b)
{
    assert_int_equal(a->round, b->round);
    assert_int_equal(a->flags, b->flags);
    assert_memory_equal(a->counters, b->counters, sizeof(a->counters));
    assert_int_equal(a->n_sites, b->n_sites);
    for (size_t i = 0; i < a->n_sites; i++) {
        assert_int_equal(a->sites[i].stack_id, b->sites[i].stack_id);
        assert_int_equal(a->sites[i].live_bytes, b->sites[i].live_bytes);
        assert_int_equal(a->sites[i].n_births, b->sites[i].n_births);
    }
    assert_int_equal(a->n_objects, b->n_objects);
    for (size_t i = 0; i < a->n_objects; i++) {
        assert_string_equal(a->objects[i].path, b->objects[i].path);
    }
}

/* Feeds p[0..len) in chunks of 1..64 bytes (whole when `chunked` is false), stopping at the
 * first error; returns the first error or 0. */
static int feed_all(struct snap_stream *st, const uint8_t *p, size_t len, bool chunked,
                    struct diag *d)
{
    size_t pos = 0;
    while (pos < len) {
        size_t n = chunked ? 1 + (size_t)rand() % 64 : len - pos;
        if (n > len - pos) {
            n = len - pos;
        }
        int rc = snap_stream_feed(st, p + pos, n, d);
        if (rc < 0) {
            return rc;
        }
        pos += n;
    }
    return 0;
}

/* Where the frames of the stream in g_buf[0..len) start, and where each SNAP_END ends. */
struct layout {
    size_t starts[64];
    size_t n_frames;
    size_t snap_ends[8];
    size_t n_ends;
};

/* Fills `lay` from the unchanged stream in g_buf. */
static void map_frames(size_t len, struct layout *lay)
{
    memset(lay, 0, sizeof(*lay));
    for (size_t off = 0; off < len; lay->n_frames++) {
        struct proto_header h;
        assert_int_equal(proto_header_parse(g_buf + off, &h), 0);
        assert_true(lay->n_frames < sizeof(lay->starts) / sizeof(lay->starts[0]));
        lay->starts[lay->n_frames] = off;
        off += PROTO_HEADER_SIZE + h.length;
        if (h.type == PROTO_SNAP_END) {
            assert_true(lay->n_ends < sizeof(lay->snap_ends) / sizeof(lay->snap_ends[0]));
            lay->snap_ends[lay->n_ends++] = off;
        }
    }
}

/* The same bytes fed in one piece give what the chunked feed gave: result `rc`, message `dc`,
 * and the snapshots of `chunked`. */
static void check_whole_feed_agrees(const uint8_t *p, size_t len, int rc, const struct diag *dc,
                                    const struct snap_stream *chunked)
{
    struct snap_stream whole;
    struct diag dw = {{0}};
    snap_stream_init(&whole);
    assert_int_equal(feed_all(&whole, p, len, false, &dw), rc);
    if (rc < 0) {
        assert_string_equal(dw.msg, dc->msg);
    }
    assert_int_equal(whole.n_snaps, chunked->n_snaps);
    for (size_t k = 0; k < chunked->n_snaps; k++) {
        assert_same_snapshot(&whole.snaps[k], &chunked->snaps[k]);
    }
    assert_int_equal(snap_stream_partial(&whole), snap_stream_partial(chunked));
    snap_stream_cleanup(&whole);
}

/* Valid streams with a few bytes changed: the parser either fails with -EBADMSG, naming a frame
 * at or after the frame of the first changed byte, or goes on; either way it keeps every
 * snapshot that ended before the first change exactly as the unchanged stream gives it, never
 * more snapshots than the original has, and gives the same result however the bytes are split. */
static void test_snap_mutated_streams_keep_the_unchanged_prefix(void **state)
{
    (void)state;
    enum { N = 3 };
    size_t len = make_stream(N);
    struct layout lay;
    map_frames(len, &lay);
    assert_int_equal(lay.n_ends, N);
    const size_t *snap_ends = lay.snap_ends;
    struct snap_stream orig;
    struct diag d = {{0}};
    snap_stream_init(&orig);
    assert_int_equal(snap_stream_feed(&orig, g_buf, len, &d), 0);
    assert_int_equal(orig.n_snaps, N);

    uint8_t copy[sizeof(g_buf)];
    size_t n_failed = 0;
    size_t n_complete = 0;
    srand(1234);
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(copy, g_buf, len);
        size_t first = len;
        for (int k = 0; k < 3; k++) {
            size_t at = (size_t)rand() % len;
            copy[at] = (uint8_t)rand();
            if (copy[at] != g_buf[at] && at < first) {
                first = at;
            }
        }
        size_t frame_of_first = 0;
        for (size_t f = 0; f < lay.n_frames && lay.starts[f] <= first; f++) {
            frame_of_first = lay.starts[f];
        }

        struct snap_stream st;
        struct diag dc = {{0}};
        snap_stream_init(&st);
        int rc = feed_all(&st, copy, len, true, &dc);
        if (rc < 0) {
            n_failed++;
            assert_int_equal(rc, -EBADMSG);
            assert_non_null(strstr(dc.msg, "snapshot stream: "));
            uint64_t at = named_offset(dc.msg);
            if (at == UINT64_MAX || at < frame_of_first || at >= len) {
                print_error("iteration %d, first change at byte %zu (frame at %zu): %s\n", iter,
                            first, frame_of_first, dc.msg);
            }
            assert_true(at != UINT64_MAX);
            assert_true(at >= frame_of_first);
            assert_true(at < len);
            /* sticky: more input is refused and changes nothing */
            size_t kept = st.n_snaps;
            struct diag d2 = {{0}};
            assert_int_equal(snap_stream_feed(&st, g_buf, len, &d2), rc);
            assert_int_equal(st.n_snaps, kept);
        }
        assert_true(st.n_snaps <= N);
        for (size_t k = 0; k < N && snap_ends[k] <= first; k++) {
            assert_true(st.n_snaps > k);
            assert_same_snapshot(&st.snaps[k], &orig.snaps[k]);
        }
        if (rc == 0 && !snap_stream_partial(&st) && st.n_snaps == N && first < len) {
            n_complete++;
        }

        check_whole_feed_agrees(copy, len, rc, &dc, &st);
        snap_stream_cleanup(&st);
    }
    /* the mutations reached both outcomes: rejected streams, and changed values accepted */
    assert_true(n_failed > 0);
    assert_true(n_complete > 0);
    snap_stream_cleanup(&orig);
}

/* Garbage that is no stream at all is rejected at its first header, keeping nothing. */
static void test_snap_garbage_is_rejected_at_byte_0(void **state)
{
    (void)state;
    static uint8_t junk[PROTO_HEADER_SIZE + 500];
    srand(4321);
    for (int iter = 0; iter < 200; iter++) {
        size_t n = PROTO_HEADER_SIZE + (size_t)rand() % 500;
        for (size_t i = 0; i < n; i++) {
            junk[i] = (uint8_t)rand();
        }
        struct snap_stream st;
        struct diag dg = {{0}};
        snap_stream_init(&st);
        assert_int_equal(feed_all(&st, junk, n, true, &dg), -EBADMSG);
        assert_non_null(strstr(dg.msg, "bad frame header at byte 0: "));
        assert_int_equal(st.n_snaps, 0);
        assert_false(st.have_hello);
        snap_stream_cleanup(&st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snap_feed_whole),
        cmocka_unit_test(test_snap_feed_byte_at_a_time),
        cmocka_unit_test(test_snap_truncated_everywhere_keeps_complete),
        cmocka_unit_test(test_snap_corrupt_magic),
        cmocka_unit_test(test_snap_oversize_frame),
        cmocka_unit_test(test_snap_depth_over_limit),
        cmocka_unit_test(test_snap_short_payload_and_order),
        cmocka_unit_test(test_snap_end_count_mismatch),
        cmocka_unit_test(test_snap_mutated_streams_keep_the_unchanged_prefix),
        cmocka_unit_test(test_snap_garbage_is_rejected_at_byte_0),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
