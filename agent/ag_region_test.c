/* SPDX-License-Identifier: MIT */
/* ag_region_test.c - the regions: adding, cutting from the ends and the middle, replacing. */
#include "ag_region.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Collects the regions a walk visits. */
struct seen {
    struct ag_region g[16];
    size_t n;
};

static void visit(void *ctx, const struct ag_region *g)
{
    struct seen *s = ctx;
    if (s->n < 16) {
        s->g[s->n++] = *g;
    }
}

static struct seen walk(struct ag_regions *r)
{
    struct seen s = {0};
    ag_region_walk(r, visit, &s);
    return s;
}

/* Regions come back in address order with their stack and round; bytes add up. */
static void test_ag_region_add_keeps_order(void **state)
{
    (void)state;
    struct ag_regions r = {0};
    assert_int_equal(ag_region_add(&r, 0x30000, 0x1000, 3, 2), 0);
    assert_int_equal(ag_region_add(&r, 0x10000, 0x2000, 1, 0), 0);
    assert_int_equal(ag_region_add(&r, 0x20000, 0x1000, 2, 1), 0);
    assert_int_equal(ag_region_add(&r, 0x40000, 0, 4, 1), 0); /* empty: nothing */
    struct seen s = walk(&r);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.g[0].start, 0x10000);
    assert_int_equal(s.g[0].end, 0x12000);
    assert_int_equal(s.g[0].stack_id, 1);
    assert_int_equal(s.g[1].start, 0x20000);
    assert_int_equal(s.g[2].epoch, 2);
    assert_int_equal(r.bytes, 0x4000);
    ag_region_reset(&r);
}

/* Unmapping the middle of a region leaves its head and tail, both with the region's stack and
 * round; the cut says what was taken. */
static void test_ag_region_remove_middle_splits(void **state)
{
    (void)state;
    struct ag_regions r = {0};
    assert_int_equal(ag_region_add(&r, 0x10000, 0x4000, 7, 5), 0);
    struct ag_region_cut cut;
    assert_true(ag_region_remove(&r, 0x11000, 0x2000, &cut));
    assert_int_equal(cut.bytes, 0x2000);
    assert_int_equal(cut.stack_id, 7);
    assert_int_equal(cut.epoch, 5);
    struct seen s = walk(&r);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.g[0].start, 0x10000);
    assert_int_equal(s.g[0].end, 0x11000);
    assert_int_equal(s.g[1].start, 0x13000);
    assert_int_equal(s.g[1].end, 0x14000);
    assert_int_equal(s.g[1].stack_id, 7);
    assert_int_equal(s.g[1].epoch, 5);
    assert_int_equal(r.bytes, 0x2000);
    /* Then the two ends: nothing is left. */
    assert_true(ag_region_remove(&r, 0x10000, 0x1000, NULL));
    assert_true(ag_region_remove(&r, 0x13000, 0x1000, NULL));
    assert_int_equal(walk(&r).n, 0);
    assert_int_equal(r.bytes, 0);
    ag_region_reset(&r);
}

/* A range over several regions cuts the first one's tail, drops those inside and cuts the
 * last one's head; a range over nothing recorded removes nothing. */
static void test_ag_region_remove_across_regions(void **state)
{
    (void)state;
    struct ag_regions r = {0};
    assert_int_equal(ag_region_add(&r, 0x10000, 0x2000, 1, 1), 0);
    assert_int_equal(ag_region_add(&r, 0x12000, 0x1000, 2, 1), 0);
    assert_int_equal(ag_region_add(&r, 0x14000, 0x2000, 3, 1), 0);
    struct ag_region_cut cut;
    assert_true(ag_region_remove(&r, 0x11000, 0x4000, &cut));
    assert_int_equal(cut.bytes, 0x1000 + 0x1000 + 0x1000);
    assert_int_equal(cut.stack_id, 1);
    struct seen s = walk(&r);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.g[0].end, 0x11000);
    assert_int_equal(s.g[1].start, 0x15000);
    assert_int_equal(s.g[1].stack_id, 3);
    assert_false(ag_region_remove(&r, 0x20000, 0x1000, &cut));
    assert_int_equal(cut.bytes, 0);
    assert_int_equal(r.bytes, 0x2000);
    ag_region_reset(&r);
}

/* A region added over recorded ones (MAP_FIXED) replaces what it covers. */
static void test_ag_region_add_replaces_overlap(void **state)
{
    (void)state;
    struct ag_regions r = {0};
    assert_int_equal(ag_region_add(&r, 0x10000, 0x4000, 1, 1), 0);
    assert_int_equal(ag_region_add(&r, 0x11000, 0x1000, 2, 3), 0);
    struct seen s = walk(&r);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.g[1].start, 0x11000);
    assert_int_equal(s.g[1].stack_id, 2);
    assert_int_equal(s.g[1].epoch, 3);
    assert_int_equal(s.g[2].start, 0x12000);
    assert_int_equal(s.g[2].stack_id, 1);
    assert_int_equal(r.bytes, 0x4000);
    ag_region_reset(&r);
}

/* Thousands of regions: the array grows, every one is found again and removed. */
static void test_ag_region_many(void **state)
{
    (void)state;
    struct ag_regions r = {0};
    for (uintptr_t i = 0; i < 5000; i++) {
        assert_int_equal(ag_region_add(&r, 0x100000 + (4999 - i) * 0x2000, 0x1000, 1, 0), 0);
    }
    assert_int_equal(ag_region_count(&r), 5000);
    assert_int_equal(r.bytes, 5000u * 0x1000);
    assert_true(ag_region_remove(&r, 0x100000, 5000u * 0x2000, NULL));
    assert_int_equal(ag_region_count(&r), 0);
    assert_int_equal(r.bytes, 0);
    ag_region_reset(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ag_region_add_keeps_order),
        cmocka_unit_test(test_ag_region_remove_middle_splits),
        cmocka_unit_test(test_ag_region_remove_across_regions),
        cmocka_unit_test(test_ag_region_add_replaces_overlap),
        cmocka_unit_test(test_ag_region_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
