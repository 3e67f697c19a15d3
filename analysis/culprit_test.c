/* SPDX-License-Identifier: MIT */
/* culprit_test.c - unit tests for culprit.c: which frame is blamed for an allocation. */
#include "culprit.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* A frame at a call address (return address - 1), in the program. */
static struct rpt_frame at(const char *function, uint64_t addr)
{
    struct rpt_frame f = fr(function, "/srv/app");
    f.address = addr;
    return f;
}

/* zmalloc -> zstrdup -> remember: zmalloc and zstrdup also allocate for a site that holds memory
 * without growing (the configuration), so they relay; remember's call is specific to the growing
 * blocks and is the culprit. The stable twin through the same wrappers decides it: without it,
 * zmalloc (not on any list) is blamed. */
static void test_culprit_relays_found_from_the_recording(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    assert_non_null(r);
    /* return addresses: the call address + 1 */
    uint64_t grow_pcs[] = {0x1001, 0x2001, 0x3001, 0x4001};
    uint64_t stable_pcs[] = {0x1001, 0x2001, 0x5001, 0x4001};
    struct rpt_frame grow[] = {at("zmalloc", 0x1000), at("zstrdup", 0x2000), at("remember", 0x3000),
                               at("main", 0x4000)};
    struct culprit_stack st[] = {
        {.pcs = grow_pcs, .depth = 4, .growing = true, .held = true},
        {.pcs = stable_pcs, .depth = 4, .growing = false, .held = true},
    };
    struct culprit_relays *rel = culprit_relays_new(st, 2);
    assert_non_null(rel);
    char why[256];
    assert_int_equal(culprit_pick_site(r, rel, grow, 4, why, sizeof(why)), 2);
    assert_int_equal(grow[0].skip, RPT_SKIP_RELAY);
    assert_int_equal(grow[1].skip, RPT_SKIP_RELAY);
    assert_int_equal(grow[2].skip, RPT_SKIP_NONE);
    assert_non_null(
        strstr(why, "zmalloc relays (it also allocates for 1 site that does not grow)"));
    assert_non_null(strstr(why, "zstrdup relays"));
    culprit_relays_free(rel);

    /* the stable site freed everything (held nothing): no evidence, zmalloc is named */
    st[1].held = false;
    rel = culprit_relays_new(st, 2);
    assert_non_null(rel);
    assert_int_equal(culprit_pick_site(r, rel, grow, 4, why, sizeof(why)), 0);
    assert_string_equal(why, "");
    culprit_relays_free(rel);
    /* without the recording, the listed rules only */
    assert_int_equal(culprit_pick_site(r, NULL, grow, 4, why, sizeof(why)), 0);
    culprit_rules_free(r);
}

/* A frame the stable site shares only further out (main) does not make the culprit a relay;
 * main is never one. */
static void test_culprit_relay_needs_the_shared_call(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    uint64_t grow_pcs[] = {0x1001, 0x3001, 0x4001};
    uint64_t stable_pcs[] = {0x1101, 0x3101, 0x4001};
    struct rpt_frame grow[] = {at("zmalloc", 0x1000), at("cache_insert", 0x3000),
                               at("main", 0x4000)};
    struct culprit_stack st[] = {
        {.pcs = grow_pcs, .depth = 3, .growing = true, .held = true},
        {.pcs = stable_pcs, .depth = 3, .growing = false, .held = true},
    };
    struct culprit_relays *rel = culprit_relays_new(st, 2);
    char why[256];
    assert_int_equal(culprit_pick_site(r, rel, grow, 3, why, sizeof(why)), 0);
    assert_int_equal(grow[0].skip, RPT_SKIP_NONE);
    culprit_relays_free(rel);
    culprit_rules_free(r);
}

/* A library on the default list called from a stripped program: the library's own outermost
 * named frame is blamed, not the unnamed caller; with a named caller, the caller. */
static void test_culprit_library_frame_when_the_caller_has_no_name(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("malloc", "/lib/x86_64-linux-gnu/libc.so.6"),
        fr(NULL, "/lib/x86_64-linux-gnu/libsqlite3.so.0"),
        fr("sqlite3_prepare_v2", "/lib/x86_64-linux-gnu/libsqlite3.so.0"),
        fr(NULL, "/usr/bin/app"),
        fr(NULL, "/usr/bin/app"),
    };
    char why[256];
    assert_int_equal(culprit_pick_site(r, NULL, s, 5, why, sizeof(why)), 2);
    assert_int_equal(s[1].skip, RPT_SKIP_LIBRARY);
    assert_int_equal(s[2].skip, RPT_SKIP_NONE);
    assert_non_null(strstr(why, "sqlite3_prepare_v2 named instead of app+0x0"));
    s[3].function = (char *)(uintptr_t) "run_query";
    assert_int_equal(culprit_pick_site(r, NULL, s, 5, why, sizeof(why)), 3);
    /* from main: the library's frame */
    s[3].function = (char *)(uintptr_t) "main";
    assert_int_equal(culprit_pick_site(r, NULL, s, 5, why, sizeof(why)), 2);
    /* libc is not such a library: main calling strdup is main */
    struct rpt_frame t[] = {fr("strdup", "/lib/x86_64-linux-gnu/libc.so.6"),
                            fr("main", "/usr/bin/app")};
    assert_int_equal(culprit_pick_site(r, NULL, t, 2, why, sizeof(why)), 1);
    /* the scenario's globs are marked as such */
    assert_int_equal(culprit_rules_add(r, "run_*"), 0);
    struct rpt_frame u[] = {fr("malloc", "/lib/x86_64-linux-gnu/libc.so.6"),
                            fr("run_query", "/usr/bin/app"), fr("main", "/usr/bin/app")};
    assert_int_equal(culprit_pick_site(r, NULL, u, 3, why, sizeof(why)), 2);
    assert_int_equal(u[1].skip, RPT_SKIP_USER);
    assert_int_equal(u[0].skip, RPT_SKIP_LISTED);
    culprit_rules_free(r);
}

/* Every call on the way is shared with stable sites (an interpreter's main loop): the relay most
 * specific to the growing sites is named, not main nor the outermost frame. */
static void test_culprit_most_specific_when_nothing_is_specific(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    uint64_t grow_pcs[] = {0x1001, 0x2001, 0x3001, 0x4001};
    uint64_t stable1[] = {0x1001, 0x2001, 0x3001, 0x4001 + 0x100};
    uint64_t stable2[] = {0x1001, 0x2001, 0x3101, 0x4001};
    uint64_t stable3[] = {0x1001, 0x2101, 0x3101, 0x4001};
    struct rpt_frame grow[] = {at("zmalloc", 0x1000), at("node_new", 0x2000),
                               at("table_insert", 0x3000), at("main", 0x4000)};
    struct culprit_stack st[] = {
        {.pcs = grow_pcs, .depth = 4, .growing = true, .held = true},
        {.pcs = stable1, .depth = 4, .held = true},
        {.pcs = stable2, .depth = 4, .held = true},
        {.pcs = stable3, .depth = 4, .held = true},
    };
    struct culprit_relays *rel = culprit_relays_new(st, 4);
    char why[512];
    /* zmalloc: 1 of 4 grow; node_new: 1 of 3; table_insert: 1 of 2 */
    assert_int_equal(culprit_pick_site(r, rel, grow, 4, why, sizeof(why)), 2);
    assert_int_equal(grow[2].skip, RPT_SKIP_NONE);
    assert_int_equal(grow[3].skip, RPT_SKIP_NONE);
    assert_non_null(
        strstr(why, "table_insert is the most specific (1 of 2 sites through it grow)"));
    culprit_relays_free(rel);
    culprit_rules_free(r);
}

/* A template function's demangled name starts with its return type: still std::. */
static void test_culprit_std_with_return_type(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    struct rpt_frame s[] = {
        fr("operator new(unsigned long)", "/lib/x86_64-linux-gnu/libstdc++.so.6"),
        fr("void std::vector<std::string>::_M_realloc_insert<std::string const&>(int)", "/srv/app"),
        fr("Audit<std::string>::record(std::string const&)", "/srv/app"),
    };
    assert_int_equal(culprit_pick(r, s, 3), 2);
    culprit_rules_free(r);
}

/* A stable site through the same call that came the same way as a growing site (an element
 * copied while a container moved, the container's old storage) is part of the same work, not
 * evidence of a relay: record stays the culprit. */
static void test_culprit_stable_on_the_growing_path_is_no_evidence(void **state)
{
    (void)state;
    struct culprit_rules *r = culprit_rules_new();
    uint64_t grow_pcs[] = {0x1001, 0x3001, 0x4001, 0x5001};
    uint64_t same_way[] = {0x1101, 0x3001, 0x4001, 0x5001};
    struct rpt_frame grow[] = {at("operator new(unsigned long)", 0x1000), at("record", 0x3000),
                               at("login", 0x4000), at("main", 0x5000)};
    struct culprit_stack st[] = {
        {.pcs = grow_pcs, .depth = 4, .growing = true, .held = true},
        {.pcs = same_way, .depth = 4, .held = true},
    };
    struct culprit_relays *rel = culprit_relays_new(st, 2);
    char why[256];
    assert_int_equal(culprit_pick_site(r, rel, grow, 4, why, sizeof(why)), 1);
    assert_string_equal(why, "");
    culprit_relays_free(rel);
    /* the same stable site reached from elsewhere is evidence */
    same_way[2] = 0x4101;
    rel = culprit_relays_new(st, 2);
    assert_int_equal(culprit_pick_site(r, rel, grow, 4, why, sizeof(why)), 2);
    culprit_relays_free(rel);
    culprit_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_culprit_skips_malloc_and_strdup),
        cmocka_unit_test(test_culprit_relays_found_from_the_recording),
        cmocka_unit_test(test_culprit_relay_needs_the_shared_call),
        cmocka_unit_test(test_culprit_std_with_return_type),
        cmocka_unit_test(test_culprit_stable_on_the_growing_path_is_no_evidence),
        cmocka_unit_test(test_culprit_most_specific_when_nothing_is_specific),
        cmocka_unit_test(test_culprit_library_frame_when_the_caller_has_no_name),
        cmocka_unit_test(test_culprit_skips_cxx_new_and_std_containers),
        cmocka_unit_test(test_culprit_skips_whole_library_objects),
        cmocka_unit_test(test_culprit_unknown_frame_is_culprit),
        cmocka_unit_test(test_culprit_all_wrappers_gives_last),
        cmocka_unit_test(test_culprit_user_wrappers_added),
        cmocka_unit_test(test_culprit_matches_mangled_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
