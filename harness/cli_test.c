/* SPDX-License-Identifier: MIT */
/* cli_test.c - unit tests of the command line: dispatch and the help listing over a test
 * table, the one usage-error wording, checked numbers, one-line names, shard selection, human
 * units, agent lookup, and drv_expand. */
#include "cli.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd_capture.h"
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

/* ---------------------------------------------------------------- dispatch over a test table */

static int g_calls;
static int g_argc;
static char g_word[32];
static char g_agent[32];
static struct cli g_cli;

/* A command that records how it was called and returns 7. */
static int fake_cmd(struct cli *cli, int argc, char **argv)
{
    g_calls++;
    g_argc = argc;
    g_cli = *cli;
    snprintf(g_word, sizeof(g_word), "%s", argv[0]);
    // argv is freed after the call: keep a copy of the agent path it holds.
    snprintf(g_agent, sizeof(g_agent), "%s", cli->agent ? cli->agent : "(none)");
    return 7;
}

static const struct cli_cmd test_cmds[] = {
    {"frobnicate", "frob the things", fake_cmd},
    {"frobnicait", NULL, fake_cmd}, /* an alias: runs, never listed or suggested */
    {NULL, NULL, NULL},
};

/* Runs cli_main() over the test table with a copy of `args` (argv[0] included) under capture. */
static int run_main(const char *const *args, struct capture *c)
{
    char *argv[16] = {NULL};
    int argc = 0;
    for (; args[argc]; argc++) {
        argv[argc] = strdup(args[argc]);
        assert_non_null(argv[argc]);
    }
    capture_begin(c);
    int code = cli_main(argc, argv, test_cmds);
    capture_end(c);
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
    }
    return code;
}

static void test_cli_main_runs_the_named_command_with_global_options(void **state)
{
    (void)state;
    struct capture c;
    g_calls = 0;
    int code = run_main(
        (const char *[]){"leakcheck", "-q", "--agent=/a.so", "frobnicate", "x", "--y", NULL}, &c);
    assert_int_equal(code, 7);
    assert_int_equal(g_calls, 1);
    assert_int_equal(g_argc, 3);
    assert_string_equal(g_word, "frobnicate");
    assert_int_equal(g_cli.verbose, -1);
    assert_string_equal(g_agent, "/a.so");
    capture_free(&c);
    code = run_main((const char *[]){"leakcheck", "-v", "frobnicait", NULL}, &c);
    assert_int_equal(code, 7);
    assert_int_equal(g_calls, 2);
    assert_int_equal(g_cli.verbose, 1);
    capture_free(&c);
}

static void test_cli_main_unknown_command_suggests_listed_names_only(void **state)
{
    (void)state;
    struct capture c;
    g_calls = 0;
    assert_int_equal(run_main((const char *[]){"leakcheck", "frobnicat", NULL}, &c), 2);
    assert_string_equal(c.err_text,
                        "error: unknown command 'frobnicat' (did you mean 'frobnicate'?)\n");
    capture_free(&c);
    /* Nearer to the alias than to the listed name: no suggestion. */
    assert_int_equal(run_main((const char *[]){"leakcheck", "frobnaicit", NULL}, &c), 2);
    assert_string_equal(c.err_text,
                        "error: unknown command 'frobnaicit' (try 'leakcheck --help')\n");
    capture_free(&c);
    assert_int_equal(run_main((const char *[]){"leakcheck", "--bogus", "frobnicate", NULL}, &c), 2);
    assert_string_equal(c.err_text, "error: unknown option '--bogus' (try 'leakcheck --help')\n");
    capture_free(&c);
    assert_int_equal(g_calls, 0);
}

static void test_cli_main_help_lists_the_table(void **state)
{
    (void)state;
    struct capture c;
    assert_int_equal(run_main((const char *[]){"leakcheck", "help", NULL}, &c), 0);
    assert_non_null(strstr(c.out_text, "commands:\n  frobnicate frob the things\n\noptions:\n"));
    assert_null(strstr(c.out_text, "frobnicait"));
    assert_string_equal(c.err_text, "");
    capture_free(&c);
    /* No command: the help goes to stderr, exit 2. */
    assert_int_equal(run_main((const char *[]){"leakcheck", "-q", NULL}, &c), 2);
    assert_string_equal(c.out_text, "");
    assert_non_null(strstr(c.err_text, "usage: leakcheck [--quiet | --verbose]"));
    capture_free(&c);
    assert_int_equal(run_main((const char *[]){"leakcheck", "--version", NULL}, &c), 0);
    assert_string_equal(c.out_text, "leakcheck " LEAKCHECK_VERSION "\n");
    capture_free(&c);
}

static void test_cli_help_pads_names_to_a_column(void **state)
{
    (void)state;
    static const struct cli_cmd cmds[] = {
        {"run", "run it", fake_cmd}, {"validate", "check it", fake_cmd}, {NULL, NULL, NULL}};
    struct buf b;
    buf_init(&b);
    cli_help(&b, cmds);
    assert_int_equal(b.err, 0);
    assert_non_null(strstr(b.data, "\n  run        run it\n  validate   check it\n"));
    assert_non_null(strstr(b.data, "exit status: 0 every scenario met its expectation"));
    buf_cleanup(&b);
}

/* ---------------------------------------------------------------- shared pieces */

static void test_cli_usage_error_has_one_wording(void **state)
{
    (void)state;
    struct capture c;
    capture_begin(&c);
    int code = cli_usage_error("compare", "unknown option '%s'", "--x");
    int code2 = cli_usage_error(NULL, "unknown command '%s'", "y");
    cli_error("%s: %d", "plain", 3);
    capture_end(&c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_int_equal(code2, CLI_EXIT_USAGE);
    assert_string_equal(c.err_text, "error: unknown option '--x' (try 'leakcheck compare --help')\n"
                                    "error: unknown command 'y' (try 'leakcheck --help')\n"
                                    "error: plain: 3\n");
    assert_string_equal(c.out_text, "");
    capture_free(&c);
}

static void test_cli_parse_numbers_reject_junk(void **state)
{
    (void)state;
    unsigned long u = 99;
    double d = 99;
    assert_int_equal(cli_parse_uint("42", 100, &u), 0);
    assert_int_equal(u, 42);
    const char *bad_u[] = {"", "-1", "+1", "12x", "101", "99999999999999999999999", " 5x", NULL};
    for (size_t i = 0; bad_u[i]; i++) {
        assert_int_equal(cli_parse_uint(bad_u[i], 100, &u), -EINVAL);
    }
    assert_int_equal(cli_parse_uint(NULL, 100, &u), -EINVAL);
    assert_int_equal(u, 42);
    assert_int_equal(cli_parse_double("12.5", &d), 0);
    assert_true(d == 12.5);
    const char *bad_d[] = {"", "-1", "nan", "inf", "1e999", "3 kB", NULL};
    for (size_t i = 0; bad_d[i]; i++) {
        assert_int_equal(cli_parse_double(bad_d[i], &d), -EINVAL);
    }
    assert_true(d == 12.5);
}

static void test_cli_one_line_replaces_controls(void **state)
{
    (void)state;
    char out[8];
    assert_ptr_equal(cli_one_line(out, sizeof(out), "a\nb\x7f\tc"), out);
    assert_string_equal(out, "a?b??c");
    cli_one_line(out, sizeof(out), "0123456789");
    assert_string_equal(out, "0123456");
    cli_one_line(out, sizeof(out), NULL);
    assert_string_equal(out, "");
}

static void test_cli_agent_prints_what_was_tried(void **state)
{
    (void)state;
    struct cli cli = {.agent = "/nonexistent/agent.so"};
    char out[256];
    struct capture c;
    capture_begin(&c);
    int code = cli_agent(&cli, out, sizeof(out));
    capture_end(&c);
    assert_int_equal(code, CLI_EXIT_RUN);
    assert_non_null(strstr(c.err_text, "error: agent library not found (tried "
                                       "'/nonexistent/agent.so')"));
    capture_free(&c);
    cli.agent = "/bin/sh";
    assert_int_equal(cli_agent(&cli, out, sizeof(out)), CLI_CONTINUE);
    assert_non_null(strstr(out, "sh"));
}

/* A subcommand is picked by name; none, help and an unknown one answer as every command does. */
static void test_cli_subcommand(void **state)
{
    (void)state;
    static const char *const subs[] = {"add", "render", NULL};
    char cmd[] = "history", add[] = "add", render[] = "render", help[] = "--help", bad[] = "ad";
    struct capture c;
    size_t which = 9;
    capture_begin(&c);
    int code = cli_subcommand(2, (char *[]){cmd, render, NULL}, "history", "HELP\n", subs, &which);
    capture_end(&c);
    assert_int_equal(code, CLI_CONTINUE);
    assert_int_equal(which, 1);
    capture_free(&c);
    capture_begin(&c);
    code = cli_subcommand(2, (char *[]){cmd, add, NULL}, "history", "HELP\n", subs, &which);
    capture_end(&c);
    assert_int_equal(which, 0);
    capture_free(&c);
    capture_begin(&c);
    code = cli_subcommand(1, (char *[]){cmd, NULL}, "history", "HELP\n", subs, &which);
    capture_end(&c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_string_equal(c.err_text, "HELP\n");
    capture_free(&c);
    capture_begin(&c);
    code = cli_subcommand(2, (char *[]){cmd, help, NULL}, "history", "HELP\n", subs, &which);
    capture_end(&c);
    assert_int_equal(code, CLI_EXIT_OK);
    assert_string_equal(c.out_text, "HELP\n");
    capture_free(&c);
    capture_begin(&c);
    code = cli_subcommand(2, (char *[]){cmd, bad, NULL}, "history", "HELP\n", subs, &which);
    capture_end(&c);
    assert_int_equal(code, CLI_EXIT_USAGE);
    assert_string_equal(c.err_text,
                        "error: unknown subcommand 'ad' (try 'leakcheck history --help')\n");
    capture_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_shard_parse),
        cmocka_unit_test(test_cli_shard_select_partitions),
        cmocka_unit_test(test_cli_subcommand),
        cmocka_unit_test(test_cli_find_agent_reports_paths),
        cmocka_unit_test(test_drv_expand_placeholders),
        cmocka_unit_test(test_cli_main_runs_the_named_command_with_global_options),
        cmocka_unit_test(test_cli_main_unknown_command_suggests_listed_names_only),
        cmocka_unit_test(test_cli_main_help_lists_the_table),
        cmocka_unit_test(test_cli_help_pads_names_to_a_column),
        cmocka_unit_test(test_cli_usage_error_has_one_wording),
        cmocka_unit_test(test_cli_parse_numbers_reject_junk),
        cmocka_unit_test(test_cli_one_line_replaces_controls),
        cmocka_unit_test(test_cli_agent_prints_what_was_tried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
