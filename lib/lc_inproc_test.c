/* SPDX-License-Identifier: MIT */
/* lc_inproc_test.c - tests of the in-process assertion library, and leakcheck's own code under it.
 *
 * Run under the agent (`leakcheck exec -- build/debug/unit/lib/lc_inproc_test`; tests/it_inproc.c
 * does so) every measuring test runs; without it they skip, and only the skip itself is checked.
 * The second half uses assert_no_leak_growth on the analysis's own hot paths: reading a snapshot
 * stream and analysing it, 100 times each (harness/selfcheck_test.c does the same for the
 * harness and the reports).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../include/leakcheck.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/diag.h"
#include "../analysis/growth.h"
#include "../analysis/snap.h"

/* Blocks kept by keep_block(), freed by drop_blocks(). */
struct kept {
    struct kept *next;
    char pad[184];
};
static struct kept *kept_list;
static unsigned keep_line; /* the line of keep_block()'s malloc call */

/* Keeps one 192-byte block per call: a leak the library must name. */
__attribute__((noinline)) static void keep_block(void *arg)
{
    (void)arg;
    keep_line = __LINE__ + 1;
    struct kept *k = malloc(sizeof(*k));
    assert_non_null(k);
    k->next = kept_list;
    kept_list = k;
}

/* Allocates and frees: nothing is kept. */
__attribute__((noinline)) static void churn(void *arg)
{
    (void)arg;
    char *volatile p = malloc(300);
    assert_non_null(p);
    p[0] = 1;
    free(p);
}

static void drop_blocks(void)
{
    while (kept_list) {
        struct kept *k = kept_list;
        kept_list = k->next;
        free(k);
    }
}

/* Skips the calling test when the agent is absent (the library's skip is tested apart). */
#define NEED_AGENT()                                                                               \
    do {                                                                                           \
        if (!lc_available()) {                                                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

static void test_lc_check_skips_without_agent(void **state)
{
    (void)state;
    if (lc_available()) {
        skip();
    }
    struct lc_result r;
    assert_int_equal(lc_check(keep_block, NULL, NULL, &r), LC_SKIP);
    assert_int_equal(r.verdict, LC_SKIP);
    assert_null(kept_list); /* nothing ran */
    assert_non_null(strstr(r.message, "leakcheck exec"));
    assert_non_null(strstr(r.message, "LEAKCHECK_REEXEC=1"));
    struct lc_scope *s = NULL;
    assert_int_equal(lc_begin(NULL, &s), -ENOSYS);
    assert_null(s);
}

static void test_lc_check_names_the_leak(void **state)
{
    (void)state;
    NEED_AGENT();
    struct lc_result r;
    enum lc_verdict v = lc_check(keep_block, NULL, NULL, &r);
    drop_blocks();
    assert_int_equal(v, LC_LEAK);
    assert_int_equal(r.rounds, LC_DEFAULT_ROUNDS);
    assert_int_equal(r.warmup, LC_DEFAULT_WARMUP);
    assert_true(r.n_sites >= 1);
    assert_true(r.sites[0].suspect);
    assert_string_equal(r.sites[0].function, "keep_block");
    assert_int_equal(r.sites[0].line, keep_line);
    assert_non_null(strstr(r.sites[0].file, "lc_inproc_test.c"));
    assert_true(r.sites[0].bytes_per_round > 150 && r.sites[0].bytes_per_round < 250);
    assert_non_null(strstr(r.message, "leaked 192 B/round over 10 rounds at keep_block ("));
}

static void test_lc_check_passes_churn(void **state)
{
    (void)state;
    NEED_AGENT();
    struct lc_result r;
    struct lc_options o = {.rounds = 8, .calls_per_round = 5};
    assert_int_equal(lc_check(churn, NULL, &o, &r), LC_PASS);
    assert_int_equal(r.rounds, 8);
    assert_non_null(strstr(r.message, "no leak over 8 rounds"));
}

static void test_lc_check_honours_suppressions(void **state)
{
    (void)state;
    NEED_AGENT();
    static const char *const supp[] = {"keep_*", NULL};
    struct lc_options o = {.suppress = supp};
    struct lc_result r;
    enum lc_verdict v = lc_check(keep_block, NULL, &o, &r);
    drop_blocks();
    assert_int_equal(v, LC_PASS);
    assert_non_null(strstr(r.reason, "suppressed"));
    assert_true(r.n_sites >= 1 && r.sites[0].suppressed);
}

static void test_lc_check_honours_the_threshold(void **state)
{
    (void)state;
    NEED_AGENT();
    struct lc_options o = {.threshold_bytes_per_round = 4096};
    struct lc_result r;
    enum lc_verdict v = lc_check(keep_block, NULL, &o, &r);
    drop_blocks();
    assert_int_equal(v, LC_PASS);
    assert_non_null(strstr(r.reason, "under the threshold"));
}

static void test_lc_scopes_do_not_see_each_other(void **state)
{
    (void)state;
    NEED_AGENT();
    /* The first scope leaves its blocks alive; the second must not count them. */
    struct lc_result r;
    assert_int_equal(lc_check(keep_block, NULL, NULL, &r), LC_LEAK);
    assert_int_equal(lc_check(churn, NULL, NULL, &r), LC_PASS);
    drop_blocks();
}

static void test_lc_scope_rounds_by_hand(void **state)
{
    (void)state;
    NEED_AGENT();
    struct lc_scope *s = NULL;
    struct lc_options o = {.name = "by-hand", .no_warmup = true};
    assert_int_equal(lc_begin(&o, &s), 0);
    struct lc_scope *other = NULL;
    assert_int_equal(lc_begin(NULL, &other), -EBUSY);
    for (int i = 0; i < 6; i++) {
        keep_block(NULL);
        keep_block(NULL);
        assert_int_equal(lc_round(s), 0);
    }
    struct lc_result r;
    assert_int_equal(lc_end(s, &r), 0);
    drop_blocks();
    assert_int_equal(r.verdict, LC_LEAK);
    assert_int_equal(r.warmup, 0);
    assert_int_equal(r.rounds, 6);
    assert_string_equal(r.sites[0].function, "keep_block");
    assert_non_null(strstr(r.message, "by-hand: leaked 384 B/round over 6 rounds"));
}

static void test_lc_too_few_rounds_is_inconclusive(void **state)
{
    (void)state;
    NEED_AGENT();
    struct lc_options o = {.rounds = 2};
    struct lc_result r;
    assert_int_equal(lc_check(churn, NULL, &o, &r), LC_INCONCLUSIVE);
    assert_non_null(strstr(r.message, "inconclusive"));
}

static void test_lc_rejects_bad_options(void **state)
{
    (void)state;
    NEED_AGENT();
    static const char *const empty[] = {"", NULL};
    struct lc_options o = {.suppress = empty};
    struct lc_scope *s = NULL;
    assert_int_equal(lc_begin(&o, &s), -EINVAL);
    struct lc_options neg = {.threshold_bytes_per_round = -1};
    assert_int_equal(lc_begin(&neg, &s), -EINVAL);
    assert_null(s);
    assert_int_equal(lc_round(NULL), -EINVAL);
    assert_int_equal(lc_end(NULL, NULL), -EINVAL);
}

/* ---------------------------------------------------------------- leakcheck's own code */

/* A recorded stream of three snapshots, built once. */
struct stream_fixture {
    uint8_t buf[4096];
    size_t len;
};

static void put_stream(struct stream_fixture *f)
{
    struct proto_wbuf b = {.data = f->buf, .cap = sizeof(f->buf)};
    for (uint32_t round = 1; round <= 3; round++) {
        proto_frame_begin(&b, PROTO_SNAP_BEGIN);
        proto_put_u32(&b, round);
        proto_put_u32(&b, PROTO_SNAP_CANARY_LIVE);
        for (int c = 0; c < PROTO_NCOUNTERS; c++) {
            proto_put_u64(&b, 1000u * round);
        }
        proto_frame_end(&b);
        if (round == 1) {
            proto_frame_begin(&b, PROTO_STACK);
            proto_put_u32(&b, 7);
            proto_put_u16(&b, 2);
            proto_put_u16(&b, 0);
            proto_put_u64(&b, 0x401000);
            proto_put_u64(&b, 0x402000);
            proto_frame_end(&b);
        }
        proto_frame_begin(&b, PROTO_SITE);
        proto_put_u32(&b, 7);
        proto_put_u32(&b, 1);
        proto_put_u64(&b, 64u * round);
        proto_put_u64(&b, round);
        proto_put_u64(&b, round);
        proto_put_u64(&b, 64u * round);
        proto_put_u32(&b, round);
        proto_put_u32(&b, 0);
        proto_put_u64(&b, 1);
        proto_put_u64(&b, 64);
        proto_frame_end(&b);
        proto_frame_begin(&b, PROTO_SNAP_END);
        proto_put_u32(&b, round);
        proto_put_u32(&b, round == 1);
        proto_put_u32(&b, 1);
        proto_put_u32(&b, 0);
        proto_frame_end(&b);
    }
    assert_false(b.overflow);
    f->len = b.len;
}

static void read_stream(void *arg)
{
    const struct stream_fixture *f = arg;
    struct snap_stream st;
    snap_stream_init(&st);
    struct diag d = {{0}};
    assert_int_equal(snap_stream_feed(&st, f->buf, f->len, &d), 0);
    assert_int_equal(st.n_snaps, 3);
    snap_stream_cleanup(&st);
}

static void test_snap_stream_read_keeps_nothing(void **state)
{
    (void)state;
    static struct stream_fixture f;
    put_stream(&f);
    struct lc_options o = {.rounds = 20, .calls_per_round = 5};
    assert_no_leak_growth_opts(read_stream, &f, &o);
}

static void analyse_series(void *arg)
{
    (void)arg;
    uint64_t bytes[12];
    uint64_t blocks[12];
    for (size_t i = 0; i < 12; i++) {
        bytes[i] = 4096 + 100 * i;
        blocks[i] = 10 + i;
    }
    struct growth_site_in site = {.live_bytes = bytes, .live_blocks = blocks};
    struct growth_in in = {.n_rounds = 12,
                           .warmup = 2,
                           .live_bytes = bytes,
                           .live_blocks = blocks,
                           .n_sites = 1,
                           .sites = &site,
                           .threshold_bytes_per_round = GROWTH_DEFAULT_BYTES_PER_ROUND};
    struct growth_out out;
    struct growth_site_out so;
    assert_int_equal(growth_analyze(&in, &out, &so), 0);
}

static void test_growth_analyze_keeps_nothing(void **state)
{
    (void)state;
    struct lc_options o = {.rounds = 20, .calls_per_round = 5};
    assert_no_leak_growth_opts(analyse_series, NULL, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lc_check_skips_without_agent),
        cmocka_unit_test(test_lc_check_names_the_leak),
        cmocka_unit_test(test_lc_check_passes_churn),
        cmocka_unit_test(test_lc_check_honours_suppressions),
        cmocka_unit_test(test_lc_check_honours_the_threshold),
        cmocka_unit_test(test_lc_scopes_do_not_see_each_other),
        cmocka_unit_test(test_lc_scope_rounds_by_hand),
        cmocka_unit_test(test_lc_too_few_rounds_is_inconclusive),
        cmocka_unit_test(test_lc_rejects_bad_options),
        cmocka_unit_test(test_snap_stream_read_keeps_nothing),
        cmocka_unit_test(test_growth_analyze_keeps_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
