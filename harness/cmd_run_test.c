/* SPDX-License-Identifier: MIT */
/* cmd_run_test.c - unit tests of `leakcheck run` that start no target: the checks on which
 * form the arguments name, shard and scenario-file errors, and the quick-form scenario. */
#include "cmd_run.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_capture.h"
#include "drv_stdio.h"

/* Runs `leakcheck run ARGS` and checks the exit code and that stderr starts with `err`. */
static void expect_run(const char *const *args, int code, const char *err)
{
    struct cli cli = {0};
    struct capture c;
    int got = capture_cmd(cmd_run, &cli, args, &c);
    if (got != code || strncmp(c.err_text, err, strlen(err)) != 0) {
        print_error("exit %d (wanted %d), stderr:\n%s\nwanted: %s\n", got, code, c.err_text, err);
    }
    assert_int_equal(got, code);
    assert_memory_equal(c.err_text, err, strlen(err));
    capture_free(&c);
}

static void test_cmd_run_needs_exactly_one_form(void **state)
{
    (void)state;
    expect_run((const char *[]){"run", NULL}, CLI_EXIT_USAGE,
               "error: no scenario files and no program after '--' (try 'leakcheck run "
               "--help')\n");
    expect_run((const char *[]){"run", "--request", "a", "--", NULL}, CLI_EXIT_USAGE,
               "error: no program after '--' (try 'leakcheck run --help')\n");
    expect_run((const char *[]){"run", "x.json", "--", "/bin/cat", NULL}, CLI_EXIT_USAGE,
               "error: give scenario files or a program after '--', not both");
    expect_run((const char *[]){"run", "--name", "n", "x.json", NULL}, CLI_EXIT_USAGE,
               "error: --request, --requests-*, --ready-line and --name are for a program after "
               "'--', not for scenario files (try 'leakcheck run --help')\n");
    expect_run((const char *[]){"run", "--", "/bin/cat", NULL}, CLI_EXIT_USAGE,
               "error: give exactly one of --request, --requests-file, --requests-command for "
               "the program after '--' (try 'leakcheck run --help')\n");
}

/* Options after "--" belong to the program, not to run. */
static void test_cmd_run_options_stop_at_dashdash(void **state)
{
    (void)state;
    expect_run((const char *[]){"run", "--rounds", "1", "--request", "a", "--", "/bin/cat",
                                "--bogus", NULL},
               CLI_EXIT_USAGE, "error: --rounds: expected an integer from 2");
    expect_run((const char *[]){"run", "--request", "a", "--requests-file", "f", "--", "/bin/cat",
                                "--rounds", "1", NULL},
               CLI_EXIT_USAGE, "error: give exactly one of --request");
}

static void test_cmd_run_shard_and_file_errors(void **state)
{
    (void)state;
    expect_run((const char *[]){"run", "--shard", "3/2", "x.json", NULL}, CLI_EXIT_USAGE,
               "error: --shard: expected I/N with 1 <= I <= N, found '3/2' (try 'leakcheck run "
               "--help')\n");
    /* Every file is tried (each error printed) before the command fails. */
    struct cli cli = {0};
    struct capture c;
    int code = capture_cmd(
        cmd_run, &cli, (const char *[]){"run", "/nonexistent/a.json", "/nonexistent/b.json", NULL},
        &c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_non_null(strstr(c.err_text, "error: /nonexistent/a.json"));
    assert_non_null(strstr(c.err_text, "error: /nonexistent/b.json"));
    capture_free(&c);
    /* A shard without files says so and loads none of the others (no agent here: the run
     * stops before it writes anything). */
    cli.agent = "/nonexistent/agent.so";
    code = capture_cmd(cmd_run, &cli,
                       (const char *[]){"run", "--shard", "2/2", "/nonexistent/a.json", NULL}, &c);
    assert_int_equal(code, CLI_EXIT_RUN);
    assert_string_equal(c.err_text, "shard 2/2 has no scenarios\n"
                                    "error: agent library not found (tried "
                                    "'/nonexistent/agent.so'); build it with 'make' or point "
                                    "--agent or LEAKCHECK_AGENT at libleakcheck-agent.so\n");
    capture_free(&c);
}

static void test_cmd_run_help(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(capture_cmd(cmd_run, &cli, (const char *[]){"run", "--help", NULL}, &c),
                     CLI_EXIT_OK);
    assert_non_null(strstr(c.out_text, "usage: leakcheck run [options] SCENARIO.json...\n"));
    assert_non_null(strstr(c.out_text, "--requests-per-round K"));
    assert_string_equal(c.err_text, "");
    capture_free(&c);
}

/* Builds the quick scenario for program `prog` (NULL-terminated) under capture. */
static int quick(const struct cmd_args *a, const char *const *prog, struct scn **out,
                 struct capture *c)
{
    char *argv[8] = {NULL};
    int n = 0;
    for (; prog[n]; n++) {
        argv[n] = (char *)(uintptr_t)prog[n];
    }
    capture_begin(c);
    int code = cmd_run_quick_scenario(a, argv, n, out);
    capture_end(c);
    return code;
}

static void test_cmd_run_quick_scenario_from_requests(void **state)
{
    (void)state;
    const char *reqs[] = {"put {i}", "get k{round}"};
    struct cmd_args a;
    cmd_args_init(&a);
    a.requests = reqs;
    a.n_requests = 2;
    a.rpr = 5;
    a.rounds = 4;
    a.ready_line = "^ready$";
    struct scn *s = NULL;
    struct capture c;
    int code =
        quick(&a, (const char *[]){"/nonexistent/dir/kvstore", "--port", "{port}", NULL}, &s, &c);
    assert_int_equal(code, CLI_CONTINUE);
    assert_string_equal(c.err_text, "");
    capture_free(&c);
    assert_non_null(s);
    assert_string_equal(s->name, "kvstore");
    assert_string_equal(s->argv[0], "/nonexistent/dir/kvstore");
    assert_string_equal(s->argv[2], "{port}");
    assert_null(s->argv[3]);
    assert_true(s->uses_port);
    assert_string_equal(s->driver->name, "stdio");
    assert_int_equal(((struct drv_stdio_cfg *)s->driver_cfg)->n_requests, 2);
    assert_string_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests[1], "get k{round}");
    assert_int_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests_per_round, 5);
    assert_int_equal(s->rounds, 4);
    assert_int_equal(s->ready, SCN_READY_STDOUT);
    assert_string_equal(s->ready_value, "^ready$");
    assert_int_equal(s->expect, RPT_EXPECT_NO_LEAK);
    scn_free(s);
}

static void test_cmd_run_quick_scenario_from_a_command(void **state)
{
    (void)state;
    struct cmd_args a;
    cmd_args_init(&a);
    a.requests_command = "  gen\t{n}  {round} ";
    a.name = "named";
    a.expect = RPT_EXPECT_LEAK;
    struct scn *s = NULL;
    struct capture c;
    assert_int_equal(quick(&a, (const char *[]){"prog", NULL}, &s, &c), CLI_CONTINUE);
    capture_free(&c);
    assert_string_equal(s->name, "named");
    assert_string_equal(s->argv[0], "prog");
    assert_string_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests_command[0], "gen");
    assert_string_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests_command[1], "{n}");
    assert_string_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests_command[2], "{round}");
    assert_null(((struct drv_stdio_cfg *)s->driver_cfg)->requests_command[3]);
    assert_int_equal(s->expect, RPT_EXPECT_LEAK);
    scn_free(s);
}

static void test_cmd_run_quick_scenario_errors(void **state)
{
    (void)state;
    struct cmd_args a;
    cmd_args_init(&a);
    a.requests_command = " \t ";
    struct scn *s = NULL;
    struct capture c;
    assert_int_equal(quick(&a, (const char *[]){"prog", NULL}, &s, &c), CLI_EXIT_USAGE);
    assert_string_equal(c.err_text, "error: --requests-command: empty command (try 'leakcheck "
                                    "run --help')\n");
    assert_null(s);
    capture_free(&c);
    a.requests_command = NULL;
    a.requests_file = "reqs.txt";
    a.requests_command = "gen";
    assert_int_equal(quick(&a, (const char *[]){"prog", NULL}, &s, &c), CLI_EXIT_USAGE);
    assert_non_null(strstr(c.err_text, "give exactly one of"));
    assert_null(s);
    capture_free(&c);
    /* Checked as a scenario file is: a bad placeholder names the command line. */
    const char *reqs[] = {"put {nope}"};
    cmd_args_init(&a);
    a.requests = reqs;
    a.n_requests = 1;
    assert_int_equal(quick(&a, (const char *[]){"prog", NULL}, &s, &c), CLI_EXIT_USAGE);
    assert_non_null(strstr(c.err_text, "error: command line: driver.requests[0]"));
    assert_null(s);
    capture_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_run_needs_exactly_one_form),
        cmocka_unit_test(test_cmd_run_options_stop_at_dashdash),
        cmocka_unit_test(test_cmd_run_shard_and_file_errors),
        cmocka_unit_test(test_cmd_run_help),
        cmocka_unit_test(test_cmd_run_quick_scenario_from_requests),
        cmocka_unit_test(test_cmd_run_quick_scenario_from_a_command),
        cmocka_unit_test(test_cmd_run_quick_scenario_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
