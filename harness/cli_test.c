/* SPDX-License-Identifier: MIT */
/* cli_test.c - unit tests of shard selection, human units, agent lookup and drv_expand. */
#include "cli.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../util/fmt.h"
#include "drv.h"

static void test_cli_shard_parse(void **state)
{
    (void)state;
    unsigned i;
    unsigned n;
    struct diag d = {{0}};
    assert_int_equal(cli_parse_shard("2/4", &i, &n, &d), 0);
    assert_int_equal(i, 2);
    assert_int_equal(n, 4);
    assert_int_equal(cli_parse_shard("0/4", &i, &n, &d), -EINVAL);
    assert_int_equal(cli_parse_shard("5/4", &i, &n, &d), -EINVAL);
    assert_int_equal(cli_parse_shard("1/", &i, &n, &d), -EINVAL);
    assert_int_equal(cli_parse_shard("x", &i, &n, &d), -EINVAL);
    assert_int_equal(cli_parse_shard("1/2x", &i, &n, &d), -EINVAL);
    assert_non_null(strstr(d.msg, "--shard"));
}

static void test_cli_shard_select_partitions(void **state)
{
    (void)state;
    const char *names[] = {"e.json", "a.json", "d.json", "c.json", "b.json", "f.json", "g.json"};
    const size_t n = sizeof(names) / sizeof(names[0]);
    int seen[7] = {0};
    for (unsigned s = 1; s <= 3; s++) {
        char *v[7];
        for (size_t k = 0; k < n; k++) {
            v[k] = (char *)(uintptr_t)names[k];
        }
        size_t m = cli_shard_select(v, n, s, 3);
        /* Sorted, every third starting at s-1: a d g / b e / c f. */
        assert_int_equal(m, s == 1 ? 3 : 2);
        for (size_t k = 0; k < m; k++) {
            assert_int_equal(v[k][0], 'a' + (int)(s - 1 + 3 * k));
            seen[v[k][0] - 'a']++;
        }
    }
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(seen[k], 1);
    }
}

static void test_cli_human_bytes(void **state)
{
    (void)state;
    char b[32];
    fmt_bytes(b, sizeof(b), 512);
    assert_string_equal(b, "512 B");
    fmt_bytes(b, sizeof(b), 1536);
    assert_string_equal(b, "1.5 KiB");
    fmt_bytes_signed(b, sizeof(b), 33.0 * 1024);
    assert_string_equal(b, "+33.0 KiB");
    fmt_bytes_signed(b, sizeof(b), -2.5 * 1024 * 1024);
    assert_string_equal(b, "-2.5 MiB");
}

static void test_cli_find_agent_reports_paths(void **state)
{
    (void)state;
    char out[256];
    struct diag d = {{0}};
    unsetenv("LEAKCHECK_AGENT");
    assert_int_equal(cli_find_agent(NULL, "/nonexistent/bin/leakcheck", out, sizeof(out), &d),
                     -ENOENT);
    assert_non_null(strstr(d.msg, "/nonexistent/bin/libleakcheck-agent.so"));
    assert_non_null(strstr(d.msg, "/nonexistent/bin/../lib/leakcheck/libleakcheck-agent.so"));
    assert_int_equal(cli_find_agent("/nonexistent/a.so", NULL, out, sizeof(out), &d), -ENOENT);
    assert_non_null(strstr(d.msg, "'/nonexistent/a.so'"));
    assert_int_equal(cli_find_agent("/bin/sh", NULL, out, sizeof(out), &d), 0);
}

static void test_drv_expand_placeholders(void **state)
{
    (void)state;
    char *s = drv_expand("put k{round}-{i} on {port}", 8080, 7, 42);
    assert_string_equal(s, "put k7-42 on 8080");
    free(s);
    s = drv_expand("{{literal}} {i}{i}", 0, 0, 4294967295u);
    assert_string_equal(s, "{literal} 42949672954294967295");
    free(s);
    s = drv_expand("{other} {", 1, 2, 3);
    assert_string_equal(s, "{other} {");
    free(s);
    s = drv_expand("", 1, 2, 3);
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_shard_parse),
        cmocka_unit_test(test_cli_shard_select_partitions),
        cmocka_unit_test(test_cli_human_bytes),
        cmocka_unit_test(test_cli_find_agent_reports_paths),
        cmocka_unit_test(test_drv_expand_placeholders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
