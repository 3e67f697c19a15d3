/* SPDX-License-Identifier: MIT */
/* rpt_folded_test.c - folded stacks of the growth between the first and last measured round. */
#include "rpt_folded.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../util/buf.h"
#include "rpt_fixture.h"

/* Folded stacks: root first, growth only, separators in names made harmless, sorted. */
static void test_rpt_folded_growth(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    free(run->scenarios[0].sites[0].frames[3].function);
    run->scenarios[0].sites[0].frames[3].function = fix_strdup("handle;request\nx");
    struct buf b;
    buf_init(&b);
    rpt_folded_render(&run->scenarios[0], &b);
    assert_int_equal(b.err, 0);
    assert_string_equal(b.data,
                        "main;handle:request x;keep_upload;copy_chunk;malloc 360448\n"
                        "main;std::map<int, std::string>::operator[];operator new(unsigned long) "
                        "12288\n");
    buf_cleanup(&b);
    rpt_folded_render(&run->scenarios[1], &b);
    assert_int_equal(b.len, 0);
    buf_cleanup(&b);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_folded_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
