/* SPDX-License-Identifier: MIT */
/* rpt_retain_test.c - the retainer scan's result in words: each kind of root, a path through
 * blocks, the lost case, the line under a suspect (its share, other paths, a scan cut short),
 * and nothing at all without a scan. */
#include "rpt_retain.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpt_fixture.h"

/* The fixture's top group: a global, one block on the way. */
static void test_rpt_retain_path_global(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char out[1024];
    const struct rpt_site *a = &run->scenarios[0].sites[0];
    rpt_retain_path(&a->retainers[0], false, out, sizeof(out));
    assert_string_equal(out, "held by g_uploads +8 (scenarios/uploads/server.c:40) \u2192 block "
                             "from upload_table_new (scenarios/uploads/server.c:30) +16 \u2192 "
                             "these blocks");
    rpt_retain_path(&a->retainers[1], false, out, sizeof(out));
    assert_string_equal(out, "lost: no pointer to these blocks remains");
    /* offsets the group's paths differ in are left out */
    a->retainers[0].offset_varies = true;
    a->retainers[0].via[0].offset_varies = true;
    rpt_retain_path(&a->retainers[0], false, out, sizeof(out));
    assert_string_equal(out, "held by g_uploads (scenarios/uploads/server.c:40) \u2192 block from "
                             "upload_table_new (scenarios/uploads/server.c:30) \u2192 these "
                             "blocks");
    rpt_run_free(run);
}

/* Each kind of root names itself its own way. */
static void test_rpt_retain_root_kinds(void **state)
{
    (void)state;
    char out[512];
    char obj[] = "/opt/app/bin/server", bss[] = ".bss", tcache[] = "t_cache", wc[] = "w.c";
    char libfoo[] = "/usr/lib/libfoo.so.1", mcc[] = "m.cc", rbx[] = "rbx", g[] = "g";
    char cxx[] = "std::map<int, int>::insert(int const&)";
    struct rpt_retainer r = {
        .kind = RPT_ROOT_GLOBAL, .object = obj, .section = bss, .offset = 0x4010};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "server+0x4010 (.bss)");
    r = (struct rpt_retainer){
        .kind = RPT_ROOT_TLS, .symbol = tcache, .file = wc, .line = 12, .tid = 4242};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "thread-local t_cache (w.c:12), thread 4242");
    r = (struct rpt_retainer){.kind = RPT_ROOT_TLS, .object = libfoo, .tid = 7};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "thread-local storage of libfoo.so.1, thread 7");
    r = (struct rpt_retainer){
        .kind = RPT_ROOT_STACK, .symbol = cxx, .file = mcc, .line = 5, .offset = 40, .tid = 9};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "a local of std::map<\u2026>::insert(\u2026) (m.cc:5), thread 9");
    rpt_retain_root(&r, true, out, sizeof(out));
    assert_string_equal(out,
                        "a local of std::map<int, int>::insert(int const&) (m.cc:5), thread 9");
    r = (struct rpt_retainer){.kind = RPT_ROOT_REGISTER, .symbol = rbx, .tid = 3};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "register rbx, thread 3");
    r = (struct rpt_retainer){.kind = RPT_ROOT_UNREACHABLE};
    rpt_retain_root(&r, false, out, sizeof(out));
    assert_string_equal(out, "");
    /* a block whose site has no name */
    struct rpt_hop hop = {.site = 12, .offset = 24};
    r = (struct rpt_retainer){.kind = RPT_ROOT_GLOBAL, .symbol = g, .n_via = 1, .via = &hop};
    rpt_retain_path(&r, false, out, sizeof(out));
    assert_string_equal(out, "held by g \u2192 block of site #12 +24 \u2192 these blocks");
}

/* The line under the suspect: the top group, its share, the other paths. */
static void test_rpt_retain_line(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char out[2048];
    struct rpt_scenario *sc = &run->scenarios[0];
    assert_true(rpt_retain_line(sc, &sc->sites[0], false, out, sizeof(out)));
    assert_non_null(strstr(out, "held by g_uploads +8"));
    assert_non_null(strstr(out, "(60 of 64 sampled survivors; 1 other path)"));
    /* the lost group on top */
    struct rpt_retainer t = sc->sites[0].retainers[0];
    sc->sites[0].retainers[0] = sc->sites[0].retainers[1];
    sc->sites[0].retainers[1] = t;
    assert_true(rpt_retain_line(sc, &sc->sites[0], false, out, sizeof(out)));
    assert_string_equal(out, "lost: no pointer to these blocks remains (4 of 64 sampled survivors; "
                             "1 other path)");
    /* cut short */
    sc->retain.complete = false;
    sc->retain.note = fix_strdup("process 12: time bound reached (1 s)");
    assert_true(rpt_retain_line(sc, &sc->sites[0], false, out, sizeof(out)));
    assert_non_null(strstr(out, "; scan cut short: process 12: time bound reached (1 s))"));
    /* cut short before any survivor of this site was sampled */
    assert_true(rpt_retain_line(sc, &sc->sites[1], false, out, sizeof(out)));
    assert_string_equal(
        out, "held by: no survivor sampled (scan cut short: process 12: time bound reached (1 s))");
    /* a complete scan that sampled none of a site says nothing */
    sc->retain.complete = true;
    assert_false(rpt_retain_line(sc, &sc->sites[1], false, out, sizeof(out)));
    assert_string_equal(out, "");
    /* no scan: nothing */
    const struct rpt_scenario *none = &run->scenarios[2];
    assert_false(rpt_retain_line(none, &none->sites[0], false, out, sizeof(out)));
    rpt_run_free(run);
}

/* A small buffer cuts the text and stays terminated. */
static void test_rpt_retain_small_buffer(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char out[24];
    memset(out, 'x', sizeof(out));
    rpt_retain_path(&run->scenarios[0].sites[0].retainers[0], false, out, sizeof(out));
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_true(strncmp(out, "held by g_uploads", 17) == 0);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_retain_path_global),
        cmocka_unit_test(test_rpt_retain_root_kinds),
        cmocka_unit_test(test_rpt_retain_line),
        cmocka_unit_test(test_rpt_retain_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
