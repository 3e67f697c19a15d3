/* SPDX-License-Identifier: MIT */
/* culprit_test.c - unit tests for culprit.c: which frame is blamed for an allocation. */
#include "culprit.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* Builds a frame with the given function and object (both borrowed, cast for the struct). */
static struct rpt_frame fr(const char *function, const char *object)
{
    struct rpt_frame f = {0};
    f.function = (char *)(uintptr_t)function;
    f.object = (char *)(uintptr_t)object;
    return f;
}

static void test_culprit_skips_malloc_and_strdup(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    assert_non_null(r);
    struct rpt_frame s[] = {
        fr("malloc", "/opt/x/libleakcheck-agent.so"),
        fr("strdup", "/lib/x86_64-linux-gnu/libc.so.6"),
        fr("handle_put", "/srv/app"),
        fr("main", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 4), 2);
    culprit_rules_free(r);
}

static void test_culprit_skips_cxx_new_and_std_containers(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("operator new(unsigned long)", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"),
        fr("std::__new_allocator<int>::allocate(unsigned long, void const*)", "/srv/app"),
        fr("std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>", "/srv/app"),
        fr("std::vector<int, std::allocator<int> >::push_back(int const&)", "/srv/app"),
        fr("Registry::record(int)", "/srv/app"),
        fr("main", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 6), 4);
    culprit_rules_free(r);
}

static void test_culprit_skips_whole_library_objects(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("malloc", NULL),
        fr("sqlite3MemMalloc", "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6"),
        fr(NULL, "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6"),
        fr("sqlite3_prepare_v2", "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6"),
        fr("insert_row", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 5), 4);
    struct rpt_frame j[] = {
        fr(NULL, "/usr/lib/x86_64-linux-gnu/libcjson.so.1.7.15"),
        fr("cJSON_Parse", "/usr/lib/x86_64-linux-gnu/libcjson.so.1"),
        fr("load_config", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, j, 3), 2);
    culprit_rules_free(r);
}

static void test_culprit_unknown_frame_is_culprit(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("malloc", NULL),
        fr(NULL, "/srv/app"),
        fr("main", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 3), 1);
    culprit_rules_free(r);
}

static void test_culprit_all_wrappers_gives_last(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("malloc", NULL),
        fr("g_malloc0", NULL),
        fr("xstrdup", NULL),
    };
    assert_int_equal(culprit_pick(r, s, 3), 2);
    assert_int_equal(culprit_pick(r, s, 0), 0);
    culprit_rules_free(r);
}

static void test_culprit_user_wrappers_added(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("malloc", NULL),
        fr("arena_grab", "/srv/app"),
        fr("session_open", "/srv/libsession.so.2"),
        fr("accept_client", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 4), 1);
    assert_int_equal(culprit_rules_add(r, "arena_*"), 0);
    assert_int_equal(culprit_pick(r, s, 4), 2);
    assert_int_equal(culprit_rules_add(r, "object:libsession.so*"), 0);
    assert_int_equal(culprit_pick(r, s, 4), 3);
    assert_int_equal(culprit_rules_add(r, ""), -EINVAL);
    assert_int_equal(culprit_rules_add(r, "object:"), -EINVAL);
    assert_int_equal(culprit_rules_add(r, NULL), -EINVAL);
    assert_int_equal(culprit_rules_add_object(NULL, "x"), -EINVAL);
    culprit_rules_free(r);
    culprit_rules_free(NULL);
}

static void test_culprit_matches_mangled_name(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {fr(NULL, NULL), fr("main", NULL)};
    s[0].system_name = (char *)(uintptr_t) "_Znwm";
    assert_true(culprit_is_wrapper(r, &s[0]));
    assert_false(culprit_is_wrapper(r, &s[1]));
    assert_int_equal(culprit_pick(r, s, 2), 1);
    culprit_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_culprit_skips_malloc_and_strdup),
        cmocka_unit_test(test_culprit_skips_cxx_new_and_std_containers),
        cmocka_unit_test(test_culprit_skips_whole_library_objects),
        cmocka_unit_test(test_culprit_unknown_frame_is_culprit),
        cmocka_unit_test(test_culprit_all_wrappers_gives_last),
        cmocka_unit_test(test_culprit_user_wrappers_added),
        cmocka_unit_test(test_culprit_matches_mangled_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
