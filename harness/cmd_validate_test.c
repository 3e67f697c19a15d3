/* SPDX-License-Identifier: MIT */
/* cmd_validate_test.c - unit tests of `leakcheck validate` over scenario files written to a
 * temporary folder: the line per valid file, errors, quiet mode and usage errors. */
#include "cmd_validate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../reports/rpt_testenv.h"
#include "cmd_capture.h"

static char g_dir[PATH_MAX];
static char g_good[PATH_MAX + 16];
static char g_http[PATH_MAX + 16];
static char g_bad[PATH_MAX + 16];

/* Writes `text` to `path`; aborts the test when it can't. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        abort();
    }
}

static int setup(void **state)
{
    (void)state;
    env_tmpdir(g_dir, "cmd-validate");
    snprintf(g_good, sizeof(g_good), "%s/good.json", g_dir);
    snprintf(g_http, sizeof(g_http), "%s/http.json", g_dir);
    snprintf(g_bad, sizeof(g_bad), "%s/bad.json", g_dir);
    write_text(g_good, "{\"name\": \"g\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": "
                       "{\"kind\": \"stdio\", \"requests\": [\"x {i}\"]}, \"rounds\": 6}\n");
    write_text(g_http, "{\"name\": \"h\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": "
                       "{\"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/\"}, "
                       "\"warmup\": 0}\n");
    write_text(g_bad, "{\"name\": \"b\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": "
                      "{\"kind\": \"stdio\", \"reqests\": [\"x\"]}}\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    env_rmrf(g_dir);
    return 0;
}

static void test_cmd_validate_prints_one_line_per_valid_file(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    int code =
        capture_cmd(cmd_validate, &cli, (const char *[]){"validate", g_good, g_http, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_OK);
    char want[3 * PATH_MAX];
    snprintf(want, sizeof(want),
             "%s: ok (g, stdio driver, 3+6 rounds)\n%s: ok (h, http driver, 0+20 rounds)\n", g_good,
             g_http);
    assert_string_equal(c.out_text, want);
    assert_string_equal(c.err_text, "");
    capture_free(&c);
}

/* A bad file fails the command after every file was checked; quiet keeps only errors. */
static void test_cmd_validate_bad_file_exits_2(void **state)
{
    (void)state;
    struct cli cli = {.verbose = -1};
    struct capture c;
    int code =
        capture_cmd(cmd_validate, &cli, (const char *[]){"validate", g_bad, g_good, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_string_equal(c.out_text, "");
    char want[2 * PATH_MAX];
    snprintf(want, sizeof(want),
             "error: %s: driver: unknown key 'reqests' (did you mean 'requests'?)\n", g_bad);
    assert_string_equal(c.err_text, want);
    capture_free(&c);
}

static void test_cmd_validate_usage(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(capture_cmd(cmd_validate, &cli, (const char *[]){"validate", NULL}, &c),
                     CLI_EXIT_USAGE);
    assert_string_equal(c.err_text,
                        "error: no scenario files given (try 'leakcheck validate --help')\n");
    capture_free(&c);
    assert_int_equal(
        capture_cmd(cmd_validate, &cli, (const char *[]){"validate", g_good, "--strict", NULL}, &c),
        CLI_EXIT_USAGE);
    assert_string_equal(c.err_text,
                        "error: unknown option '--strict' (try 'leakcheck validate --help')\n");
    assert_string_equal(c.out_text, "");
    capture_free(&c);
    assert_int_equal(capture_cmd(cmd_validate, &cli, (const char *[]){"validate", "-h", NULL}, &c),
                     CLI_EXIT_OK);
    assert_non_null(strstr(c.out_text, "usage: leakcheck validate SCENARIO.json...\n"));
    capture_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_validate_prints_one_line_per_valid_file),
        cmocka_unit_test(test_cmd_validate_bad_file_exits_2),
        cmocka_unit_test(test_cmd_validate_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
