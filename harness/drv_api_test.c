/* SPDX-License-Identifier: MIT */
/* drv_api_test.c - unit tests of what drivers share: placeholder expansion and checking (with
 * {n} only where allowed, messages naming the JSON path), and path resolution. */
#include "drv_api.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void test_drv_api_expand(void **state)
{
    (void)state;
    char *s = drv_expand("k{round}-{i} :{port} {{x}} {n}", 80, 4294967295u, 7);
    assert_string_equal(s, "k4294967295-7 :80 {x} {n}");
    free(s);
}

static void test_drv_api_check_placeholders(void **state)
{
    (void)state;
    struct diag d = {{0}};
    bool port = false;
    assert_int_equal(drv_check_placeholders("a {round} {i} {{b}}", "w", false, &port, &d), 0);
    assert_false(port);
    assert_int_equal(drv_check_placeholders("{port}", "w", false, &port, &d), 0);
    assert_true(port);
    assert_int_equal(drv_check_placeholders("gen {n}", "w", true, NULL, &d), 0);
    assert_int_equal(drv_check_placeholders("gen {n}", "w", false, NULL, &d), -EINVAL);
    assert_string_equal(d.msg, "w: unknown placeholder '{n}' in 'gen {n}' (known: {port}, {round}, "
                               "{i}; write '{{' for a literal brace)");
    assert_int_equal(drv_check_placeholders("x {round", "w", false, NULL, &d), -EINVAL);
    assert_non_null(strstr(d.msg, "w: unclosed '{' in 'x {round'"));
}

static void test_drv_api_check_strs_names_the_path(void **state)
{
    (void)state;
    struct diag d = {{0}};
    struct json_ctx c;
    json_init(&c, "t.json", &d);
    json_push(&c, "driver");
    char a[] = "ok {i}", b[] = "bad {x}";
    char *v[] = {a, b, NULL};
    bool port = false;
    assert_int_equal(drv_check_strs(&c, v, 0, "requests", false, &port), -EINVAL);
    assert_non_null(strstr(d.msg, "t.json: driver.requests[1]: unknown placeholder '{x}'"));
    assert_int_equal(drv_check_strs(&c, v, 1, "requests", false, &port), 0); /* counted: 1 */
    assert_int_equal(drv_check_strs(&c, NULL, 0, "requests", false, &port), 0);
    assert_int_equal(drv_check_str(&c, "http://h:{port}/", "url", &port), 0);
    assert_true(port);
    assert_int_equal(drv_check_str(&c, "http://h/{y}", "url", &port), -EINVAL);
    assert_non_null(strstr(d.msg, "t.json: driver.url: unknown placeholder '{y}'"));
}

static void test_drv_api_resolve_paths(void **state)
{
    (void)state;
    char *p = strdup("reqs.txt");
    assert_int_equal(drv_resolve_path("/scn", &p), 0);
    assert_string_equal(p, "/scn/reqs.txt");
    assert_int_equal(drv_resolve_path("/other", &p), 0); /* absolute: unchanged */
    assert_string_equal(p, "/scn/reqs.txt");
    free(p);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    char *argv[] = {strdup("bin/srv"), strdup("arg"), NULL};
    assert_int_equal(drv_resolve_argv0(argv), 0);
    assert_int_equal(strncmp(argv[0], cwd, strlen(cwd)), 0);
    assert_string_equal(argv[0] + strlen(cwd), "/bin/srv");
    assert_string_equal(argv[1], "arg");
    free(argv[0]);
    free(argv[1]);
    char *bare[] = {strdup("curl"), NULL}; /* found in PATH later: unchanged */
    assert_int_equal(drv_resolve_argv0(bare), 0);
    assert_string_equal(bare[0], "curl");
    free(bare[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drv_api_expand),
        cmocka_unit_test(test_drv_api_check_placeholders),
        cmocka_unit_test(test_drv_api_check_strs_names_the_path),
        cmocka_unit_test(test_drv_api_resolve_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
