/* SPDX-License-Identifier: MIT */
/* rpt_name_test.c - names for people: C++ names shortened, object+0xoffset for frames without a
 * name (never "?"), sites of one culprit line told apart by their first distinguishing caller. */
#include "rpt_name.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define ELL    "\xe2\x80\xa6"
#define LARROW "\xe2\x86\x90"

static void test_rpt_name_short(void **state)
{
    (void)state;
    char out[256];
    assert_string_equal(rpt_name_short("std::vector<std::__cxx11::basic_string<char, "
                                       "std::char_traits<char>, std::allocator<char> >, "
                                       "std::allocator<std::__cxx11::basic_string<char> > >::"
                                       "_M_realloc_insert<std::string const&>(__gnu_cxx::"
                                       "__normal_iterator<std::string*>, std::string const&)",
                                       out, sizeof(out)),
                        "std::vector<" ELL ">::_M_realloc_insert<" ELL ">(" ELL ")");
    assert_string_equal(rpt_name_short("Audit::record(std::string const&) const", out, sizeof(out)),
                        "Audit::record(" ELL ") const");
    assert_string_equal(rpt_name_short("main", out, sizeof(out)), "main");
    assert_string_equal(rpt_name_short("run()", out, sizeof(out)), "run()");
    assert_string_equal(rpt_name_short("operator<<(std::ostream&, int)", out, sizeof(out)),
                        "operator<<(" ELL ")");
    assert_string_equal(
        rpt_name_short("(anonymous namespace)::Pool::get(unsigned long)", out, sizeof(out)),
        "(anonymous namespace)::Pool::get(" ELL ")");
    assert_string_equal(rpt_name_short("Cache<int>::operator()(int)", out, sizeof(out)),
                        "Cache<" ELL ">::operator()(" ELL ")");
    /* cut, never overflowing */
    char tiny[8];
    rpt_name_short("a_very_long_function_name", tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), 7);
}

/* A frame: function, file, line, object (borrowed, cast for the struct), offset. */
static struct rpt_frame fr(const char *fn, const char *file, uint32_t line, uint64_t off)
{
    struct rpt_frame f = {0};
    f.function = (char *)(uintptr_t)fn;
    f.file = (char *)(uintptr_t)file;
    f.line = line;
    f.object = (char *)(uintptr_t) "/usr/sbin/server";
    f.object_offset = off;
    f.address = 0x555500000000 + off;
    return f;
}

static void test_rpt_name_frame_never_question_marks(void **state)
{
    (void)state;
    char out[256];
    struct rpt_frame f = fr(NULL, NULL, 0, 0x1c40);
    rpt_name_frame(&f, false, out, sizeof(out));
    assert_string_equal(out, "server+0x1c40");
    f.object = NULL;
    rpt_name_frame(&f, false, out, sizeof(out));
    assert_string_equal(out, "0x555500001c40");
    f = fr("Pool<int>::get(int)", "pool.cc", 12, 0);
    rpt_name_frame(&f, false, out, sizeof(out));
    assert_string_equal(out, "Pool<" ELL ">::get(" ELL ") (pool.cc:12)");
    rpt_name_frame(&f, true, out, sizeof(out));
    assert_string_equal(out, "Pool<int>::get(int) (pool.cc:12)");
    struct rpt_site s = {.id = 4};
    rpt_name_culprit(&s, false, out, sizeof(out));
    assert_string_equal(out, "site #4 (no stack)");
}

static void test_rpt_name_site_distinguishing_caller(void **state)
{
    (void)state;
    /* record (s.cpp:16) reached from login and from logout; a third site elsewhere */
    struct rpt_frame a[] = {fr("operator new(unsigned long)", NULL, 0, 0x10),
                            fr("record", "s.cpp", 16, 0x20), fr("login", "s.cpp", 42, 0x30),
                            fr("main", "s.cpp", 60, 0x40)};
    struct rpt_frame b[] = {fr("operator new(unsigned long)", NULL, 0, 0x10),
                            fr("record", "s.cpp", 16, 0x20), fr("logout", "s.cpp", 50, 0x50),
                            fr("main", "s.cpp", 61, 0x60)};
    struct rpt_frame c[] = {fr("malloc", NULL, 0, 0x10), fr("other", "s.cpp", 30, 0x70)};
    struct rpt_site sites[3] = {
        {.id = 1, .frames = a, .n_frames = 4, .culprit_frame = 1},
        {.id = 2, .frames = b, .n_frames = 4, .culprit_frame = 1},
        {.id = 3, .frames = c, .n_frames = 2, .culprit_frame = 1},
    };
    struct rpt_scenario s = {.sites = sites, .n_sites = 3};
    char out[256];
    rpt_name_site(&s, &sites[0], false, out, sizeof(out));
    assert_string_equal(out, "record (s.cpp:16) " LARROW " login (s.cpp:42)");
    rpt_name_site(&s, &sites[1], false, out, sizeof(out));
    assert_string_equal(out, "record (s.cpp:16) " LARROW " logout (s.cpp:50)");
    rpt_name_site(&s, &sites[2], false, out, sizeof(out));
    assert_string_equal(out, "other (s.cpp:30)");
    /* stacks compared frame by frame, addresses aside (another run, another load address) */
    assert_false(rpt_name_same_stack(&sites[0], &sites[1]));
    struct rpt_frame a2[4];
    memcpy(a2, a, sizeof(a));
    for (size_t i = 0; i < 4; i++) {
        a2[i].address += 0x1000;
    }
    struct rpt_site other_run = {.frames = a2, .n_frames = 4, .culprit_frame = 1};
    assert_true(rpt_name_same_stack(&sites[0], &other_run));
    /* the same callers for two levels: the first that differs is shown after "…" */
    b[2] = a[2];
    rpt_name_site(&s, &sites[1], false, out, sizeof(out));
    assert_string_equal(out, "record (s.cpp:16) " LARROW " " ELL " " LARROW " main (s.cpp:61)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_name_short),
        cmocka_unit_test(test_rpt_name_frame_never_question_marks),
        cmocka_unit_test(test_rpt_name_site_distinguishing_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
