/* SPDX-License-Identifier: MIT */
/* cmd_analyze_test.c - unit tests of `leakcheck analyze` on recordings it must refuse: usage
 * errors, unreadable, empty and malformed recordings, a bad --scenario. (Analysing a real
 * recording is tested end to end in tests/it_cli.c.) */
#include "cmd_analyze.h"

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

static int setup(void **state)
{
    (void)state;
    env_tmpdir(g_dir, "cmd-analyze");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    env_rmrf(g_dir);
    return 0;
}

/* Writes `len` bytes to DIR/NAME and stores the path in `path` (PATH_MAX + 64). */
static void write_file(const char *name, const void *data, size_t len, char *path)
{
    snprintf(path, PATH_MAX + 64, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Runs `leakcheck analyze ARGS`; checks the exit code and the whole of stderr. */
static void expect_analyze(const char *const *args, int code, const char *err)
{
    struct cli cli = {0};
    struct capture c;
    int got = capture_cmd(cmd_analyze, &cli, args, &c);
    if (got != code || strcmp(c.err_text, err) != 0) {
        print_error("exit %d (wanted %d), stderr:\n%s\nwanted:\n%s\n", got, code, c.err_text, err);
    }
    assert_int_equal(got, code);
    assert_string_equal(c.err_text, err);
    assert_string_equal(c.out_text, "");
    capture_free(&c);
}

static void test_cmd_analyze_wants_one_recording(void **state)
{
    (void)state;
    expect_analyze((const char *[]){"analyze", NULL}, CLI_EXIT_USAGE,
                   "error: expected one recording (snapshots.bin), found 0 (try 'leakcheck "
                   "analyze --help')\n");
    expect_analyze((const char *[]){"analyze", "a.bin", "--warmup", "1", "b.bin", NULL},
                   CLI_EXIT_USAGE,
                   "error: expected one recording (snapshots.bin), found 2 (try 'leakcheck "
                   "analyze --help')\n");
    expect_analyze((const char *[]){"analyze", "--warmup", "x", "a.bin", NULL}, CLI_EXIT_USAGE,
                   "error: --warmup: expected an integer from 0 to 100000, found 'x' (try "
                   "'leakcheck analyze --help')\n");
}

static void test_cmd_analyze_refuses_bad_recordings(void **state)
{
    (void)state;
    char path[PATH_MAX + 64];
    char err[2 * PATH_MAX];
    expect_analyze((const char *[]){"analyze", "/nonexistent/snapshots.bin", NULL}, CLI_EXIT_USAGE,
                   "error: /nonexistent/snapshots.bin: can't read: No such file or directory\n");
    write_file("empty.bin", "", 0, path);
    snprintf(err, sizeof(err), "error: %s: no complete snapshot in the recording\n", path);
    expect_analyze((const char *[]){"analyze", path, NULL}, CLI_EXIT_USAGE, err);
    /* Garbage: the stream parser's reason, after the file's name. */
    static const char junk[64] = "this is not a leakcheck recording at all, not even close....";
    write_file("junk.bin", junk, sizeof(junk), path);
    struct cli cli = {0};
    struct capture c;
    int code = capture_cmd(cmd_analyze, &cli, (const char *[]){"analyze", path, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    snprintf(err, sizeof(err), "error: %s: ", path);
    assert_memory_equal(c.err_text, err, strlen(err));
    capture_free(&c);
}

static void test_cmd_analyze_bad_scenario_file(void **state)
{
    (void)state;
    char path[PATH_MAX + 64];
    write_file("rec.bin", "", 0, path);
    struct cli cli = {0};
    struct capture c;
    int code = capture_cmd(
        cmd_analyze, &cli,
        (const char *[]){"analyze", "--scenario", "/nonexistent/s.json", path, NULL}, &c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_non_null(strstr(c.err_text, "error: /nonexistent/s.json"));
    assert_null(strstr(c.err_text, "no complete snapshot")); /* stops before reading */
    capture_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_analyze_wants_one_recording),
        cmocka_unit_test(test_cmd_analyze_refuses_bad_recordings),
        cmocka_unit_test(test_cmd_analyze_bad_scenario_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
