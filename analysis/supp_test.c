/* SPDX-License-Identifier: MIT */
/* supp_test.c - unit tests for supp.c: valgrind-like suppression rules. */
#include "supp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CS(s) ((char *)(uintptr_t)(s))

/* Builds a frame with the given function and object (borrowed). */
static struct rpt_frame fr(const char *function, const char *object)
{
    struct rpt_frame f = {0};
    f.function = CS(function);
    f.object = CS(object);
    return f;
}

/* A stack from the culprit outward: load_tables <- init_once <- handle <- main. */
static const struct rpt_frame *stack4(void)
{
    static struct rpt_frame s[4];
    s[0] = fr("load_tables", "/srv/app");
    s[1] = fr("init_once", "/srv/app");
    s[2] = fr("handle", "/usr/lib/libsrv.so.1");
    s[3] = fr("main", "/srv/app");
    return s;
}

static void test_supp_function_matches_any_frame(void **state)
{
    (void)state;
    struct supp_rule r = {.function = CS("init_*")};
    assert_true(supp_match(&r, 1, stack4(), 4));
    r.function = CS("lazy_init");
    assert_false(supp_match(&r, 1, stack4(), 4));
}

static void test_supp_object_matches_path_or_basename(void **state)
{
    (void)state;
    struct supp_rule r = {.object = CS("libsrv.so*")};
    assert_true(supp_match(&r, 1, stack4(), 4));
    r.object = CS("/usr/lib/*");
    assert_true(supp_match(&r, 1, stack4(), 4));
    r.object = CS("libother.so*");
    assert_false(supp_match(&r, 1, stack4(), 4));
}

static void test_supp_all_parts_must_match(void **state)
{
    (void)state;
    struct supp_rule r = {.function = CS("init_once"), .object = CS("libnone.so")};
    assert_false(supp_match(&r, 1, stack4(), 4));
    r.object = CS("libsrv.so.1");
    assert_true(supp_match(&r, 1, stack4(), 4));
}

static void test_supp_stack_anchored_at_culprit(void **state)
{
    (void)state;
    char *g1[] = {CS("load_tables"), CS("init_once")};
    struct supp_rule r = {.stack = g1, .n_stack = 2};
    assert_true(supp_match(&r, 1, stack4(), 4));
    char *g2[] = {CS("init_once"), CS("handle")};
    r.stack = g2;
    assert_false(supp_match(&r, 1, stack4(), 4)); /* not at the culprit */
    char *g3[] = {CS("load_tables"), CS("handle")};
    r.stack = g3;
    assert_false(supp_match(&r, 1, stack4(), 4)); /* not consecutive */
}

static void test_supp_stack_ellipsis(void **state)
{
    (void)state;
    char *g1[] = {CS("..."), CS("handle"), CS("main")};
    struct supp_rule r = {.stack = g1, .n_stack = 3};
    assert_true(supp_match(&r, 1, stack4(), 4));
    char *g2[] = {CS("load_tables"), CS("..."), CS("main")};
    r.stack = g2;
    r.n_stack = sizeof(g2) / sizeof(g2[0]);
    assert_true(supp_match(&r, 1, stack4(), 4));
    char *g3[] = {CS("load_tables"), CS("..."), CS("init_once")};
    r.stack = g3;
    r.n_stack = sizeof(g3) / sizeof(g3[0]);
    assert_true(supp_match(&r, 1, stack4(), 4)); /* "..." may be empty */
    char *g4[] = {CS("load_tables"), CS("..."), CS("nowhere")};
    r.stack = g4;
    r.n_stack = sizeof(g4) / sizeof(g4[0]);
    assert_false(supp_match(&r, 1, stack4(), 4));
    char *g5[] = {CS("load_tables"), CS("init_once"), CS("handle"), CS("main"), CS("extra")};
    r.stack = g5;
    r.n_stack = sizeof(g5) / sizeof(g5[0]);
    assert_false(supp_match(&r, 1, stack4(), 4));
    char *g6[] = {CS("*"), CS("object:libsrv.so.*")};
    r.stack = g6;
    r.n_stack = sizeof(g6) / sizeof(g6[0]);
    assert_false(supp_match(&r, 1, stack4(), 4));
    char *g7[] = {CS("*"), CS("*"), CS("object:libsrv.so.*")};
    r.stack = g7;
    r.n_stack = sizeof(g7) / sizeof(g7[0]);
    assert_true(supp_match(&r, 1, stack4(), 4));
}

static void test_supp_empty_rule_and_list_never_match(void **state)
{
    (void)state;
    struct supp_rule rules[2] = {{0}, {.function = CS("nothing")}};
    assert_false(supp_match(rules, 2, stack4(), 4));
    assert_false(supp_match(rules, 0, stack4(), 4));
    assert_false(supp_match(NULL, 0, stack4(), 4));
    rules[1].function = CS("main");
    assert_true(supp_match(rules, 2, stack4(), 4));
    assert_false(supp_match(rules, 2, stack4(), 0));
}

static void test_supp_mangled_name_matches(void **state)
{
    (void)state;
    struct rpt_frame f = fr("Cache::put(int)", NULL);
    f.system_name = CS("_ZN5Cache3putEi");
    struct supp_rule r = {.function = CS("_ZN5Cache*")};
    assert_true(supp_match(&r, 1, &f, 1));
    r.function = CS("Cache::put*");
    assert_true(supp_match(&r, 1, &f, 1));
}

static void test_supp_rule_cleanup_frees(void **state)
{
    (void)state;
    struct supp_rule r = {0};
    r.function = strdup("f");
    r.object = strdup("o");
    r.stack = calloc(2, sizeof(*r.stack));
    assert_non_null(r.stack);
    r.stack[0] = strdup("a");
    r.stack[1] = strdup("...");
    r.n_stack = 2;
    supp_rule_cleanup(&r);
    assert_null(r.function);
    assert_null(r.object);
    assert_null(r.stack);
    assert_int_equal(r.n_stack, 0);
    /* cleared, so a second cleanup frees nothing twice */
    supp_rule_cleanup(&r);
    assert_null(r.object);
    supp_rule_cleanup(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supp_function_matches_any_frame),
        cmocka_unit_test(test_supp_object_matches_path_or_basename),
        cmocka_unit_test(test_supp_all_parts_must_match),
        cmocka_unit_test(test_supp_stack_anchored_at_culprit),
        cmocka_unit_test(test_supp_stack_ellipsis),
        cmocka_unit_test(test_supp_empty_rule_and_list_never_match),
        cmocka_unit_test(test_supp_mangled_name_matches),
        cmocka_unit_test(test_supp_rule_cleanup_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
