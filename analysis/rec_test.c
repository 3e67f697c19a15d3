/* SPDX-License-Identifier: MIT */
/* rec_test.c - reading the harness's frames of a recording: snapshot times (REC_SNAP_TIME), a
 * recording without them, a malformed one. Frames are built with the protocol's own writer. */
#include "rec.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../common/proto.h"

struct frames {
    uint8_t data[4096];
    struct proto_wbuf w;
};

static void frames_init(struct frames *f)
{
    memset(f, 0, sizeof(*f));
    f->w = (struct proto_wbuf){.data = f->data, .cap = sizeof(f->data)};
}

/* Appends a REC_PROC frame for process 0 (pid 42). */
static void put_proc(struct frames *f)
{
    proto_frame_begin(&f->w, PROTO_REC_PROC);
    proto_put_u32(&f->w, 0);
    proto_put_u32(&f->w, 42);
    proto_put_u32(&f->w, 1);
    proto_put_u32(&f->w, PROTO_ORIGIN_START);
    proto_put_u32(&f->w, PROTO_NO_PROC);
    proto_put_u32(&f->w, 0);
    proto_put_str(&f->w, "/bin/prog", 9);
    proto_put_str(&f->w, "prog", 5);
    proto_frame_end(&f->w);
}

/* Appends a REC_SNAP_TIME frame; `whole` false leaves out its last field. */
static void put_snap_time(struct frames *f, uint32_t round, uint64_t ns, bool whole)
{
    proto_frame_begin(&f->w, PROTO_REC_SNAP_TIME);
    proto_put_u32(&f->w, round);
    proto_put_u32(&f->w, 0);
    if (whole) {
        proto_put_u64(&f->w, ns);
    }
    proto_frame_end(&f->w);
}

/* Each round's snapshot time is read back, whatever the order and however the bytes are cut;
 * rounds without one say so. */
static void test_rec_snapshot_seconds(void **state)
{
    (void)state;
    struct frames f;
    frames_init(&f);
    put_proc(&f);
    put_snap_time(&f, 0, 1500000, true);
    put_snap_time(&f, 3, 250000000, true);
    put_snap_time(&f, 1, 2000, true);
    assert_false(f.w.overflow);
    for (size_t cut = 1; cut <= f.w.len; cut++) {
        struct rec r;
        struct diag d = {{0}};
        rec_init(&r);
        for (size_t at = 0; at < f.w.len; at += cut) {
            size_t n = f.w.len - at < cut ? f.w.len - at : cut;
            assert_int_equal(rec_feed(&r, f.data + at, n, &d), 0);
        }
        assert_true(r.tree);
        assert_false(rec_partial(&r));
        assert_true(fabs(rec_snapshot_seconds(&r, 0) - 0.0015) < 1e-12);
        assert_true(fabs(rec_snapshot_seconds(&r, 1) - 0.000002) < 1e-12);
        assert_true(rec_snapshot_seconds(&r, 2) < 0);
        assert_true(fabs(rec_snapshot_seconds(&r, 3) - 0.25) < 1e-12);
        assert_true(rec_snapshot_seconds(&r, 4) < 0);
        assert_true(rec_snapshot_seconds(&r, 1000000) < 0);
        rec_cleanup(&r);
    }
}

/* A recording made before snapshot times were recorded has none. */
static void test_rec_snapshot_seconds_absent(void **state)
{
    (void)state;
    struct frames f;
    frames_init(&f);
    put_proc(&f);
    struct rec r;
    struct diag d = {{0}};
    rec_init(&r);
    assert_int_equal(rec_feed(&r, f.data, f.w.len, &d), 0);
    assert_int_equal(r.n_procs, 1);
    for (uint32_t round = 0; round < 5; round++) {
        assert_true(rec_snapshot_seconds(&r, round) < 0);
    }
    rec_cleanup(&r);
}

/* A snapshot-time frame too short for its fields is an error naming the frame. */
static void test_rec_snapshot_seconds_short(void **state)
{
    (void)state;
    struct frames f;
    frames_init(&f);
    put_proc(&f);
    put_snap_time(&f, 1, 5, false);
    struct rec r;
    struct diag d = {{0}};
    rec_init(&r);
    assert_int_equal(rec_feed(&r, f.data, f.w.len, &d), -EBADMSG);
    assert_non_null(strstr(d.msg, "frame type 24"));
    assert_non_null(strstr(d.msg, "payload too short"));
    assert_int_equal(r.n_procs, 1); /* what came before is kept */
    assert_true(rec_snapshot_seconds(&r, 1) < 0);
    rec_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rec_snapshot_seconds),
        cmocka_unit_test(test_rec_snapshot_seconds_absent),
        cmocka_unit_test(test_rec_snapshot_seconds_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
