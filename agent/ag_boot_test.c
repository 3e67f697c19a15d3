/* SPDX-License-Identifier: MIT */
/* ag_boot_test.c - the bootstrap arena and the lookup of the real allocator.
 *
 * The arena is static and never reused, so the tests run in a fixed order from a fresh arena:
 * each takes a little of it, and the last one exhausts it.
 */
#include "ag_boot.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Blocks are zeroed, aligned as asked (16 at least), owned by the arena, and know their size. */
static void test_ag_boot_alloc_aligned_zeroed(void **state)
{
    (void)state;
    static const size_t aligns[] = {1, 8, 16, 64, 512, 4096};
    for (size_t i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
        size_t want = aligns[i] < 16 ? 16 : aligns[i];
        unsigned char *p = ag_boot_alloc(100 + i, aligns[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % want, 0);
        assert_true(ag_boot_owns(p));
        assert_true(ag_boot_owns(p + 99 + i));
        assert_int_equal(ag_boot_size(p), 100 + i);
        for (size_t k = 0; k < 100 + i; k++) {
            assert_int_equal(p[k], 0);
        }
        memset(p, 0xab, 100 + i); /* the next block must not overlap this one */
    }
    unsigned char *q = ag_boot_alloc(32, 16);
    assert_non_null(q);
    for (size_t k = 0; k < 32; k++) {
        assert_int_equal(q[k], 0);
    }
}

/* Memory outside the arena is not the arena's; an alignment over a page is refused. */
static void test_ag_boot_owns_only_the_arena(void **state)
{
    (void)state;
    int on_stack = 0;
    void *heap = malloc(16);
    assert_false(ag_boot_owns(&on_stack));
    assert_false(ag_boot_owns(heap));
    assert_false(ag_boot_owns(NULL));
    free(heap);
    errno = 0;
    assert_null(ag_boot_alloc(16, 8192));
    assert_int_equal(errno, ENOMEM);
}

/* realloc copies the start of the old block into a new one and leaves the old one as it was. */
static void test_ag_boot_realloc_copies(void **state)
{
    (void)state;
    char *old = ag_boot_alloc(8, 16);
    assert_non_null(old);
    memcpy(old, "abcdefg", 8);
    char *grown = ag_boot_realloc(old, 64);
    assert_non_null(grown);
    assert_ptr_not_equal(grown, old);
    assert_string_equal(grown, "abcdefg");
    assert_int_equal(ag_boot_size(grown), 64);
    assert_string_equal(old, "abcdefg");
    char *shrunk = ag_boot_realloc(grown, 3);
    assert_non_null(shrunk);
    assert_memory_equal(shrunk, "abc", 3);
    char *fresh = ag_boot_realloc(NULL, 24);
    assert_non_null(fresh);
    assert_int_equal(ag_boot_size(fresh), 24);
}

/* The real functions are found, and they work. */
static void test_ag_boot_resolve_finds_the_allocator(void **state)
{
    (void)state;
    assert_true(ag_boot_resolve());
    assert_true(ag_boot_resolve()); /* once resolved, stays resolved */
    assert_non_null(ag_real.malloc);
    assert_non_null(ag_real.free);
    assert_non_null(ag_real.realloc);
    assert_non_null(ag_real.posix_memalign);
    assert_non_null(ag_real.malloc_usable_size);
    void *p = ag_real.malloc(40);
    assert_non_null(p);
    assert_false(ag_boot_owns(p));
    assert_true(ag_real.malloc_usable_size(p) >= 40);
    ag_real.free(p);
}

/* A block larger than the arena, and the arena once used up, give NULL with ENOMEM; earlier
 * blocks stay intact. */
static void test_ag_boot_exhaustion_is_enomem(void **state)
{
    (void)state;
    char *keep = ag_boot_alloc(16, 16);
    assert_non_null(keep);
    memcpy(keep, "still here", 11);
    errno = 0;
    assert_null(ag_boot_alloc((size_t)1 << 30, 16));
    assert_int_equal(errno, ENOMEM);
    size_t got = 0;
    for (;;) {
        errno = 0;
        void *p = ag_boot_alloc(4096, 16);
        if (!p) {
            assert_int_equal(errno, ENOMEM);
            break;
        }
        got++;
        assert_true(got < 1024); /* the arena is finite */
    }
    assert_true(got > 0);
    assert_null(ag_boot_realloc(keep, 64));
    assert_string_equal(keep, "still here");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ag_boot_alloc_aligned_zeroed),
        cmocka_unit_test(test_ag_boot_owns_only_the_arena),
        cmocka_unit_test(test_ag_boot_realloc_copies),
        cmocka_unit_test(test_ag_boot_resolve_finds_the_allocator),
        cmocka_unit_test(test_ag_boot_exhaustion_is_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
