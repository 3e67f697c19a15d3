/* SPDX-License-Identifier: MIT */
/* cmd_exec_test.c - unit tests of `leakcheck exec`: usage errors, a missing agent, and (when
 * the build folder's agent is there) the program's exit status passed through. */
#include "cmd_exec.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../util/file.h"
#include "cmd_capture.h"

/* Runs `leakcheck exec ARGS` with `agent`; checks the exit code and the start of stderr. */
static void expect_exec(const char *agent, const char *const *args, int code, const char *err)
{
    struct cli cli = {.agent = agent};
    struct capture c;
    int got = capture_cmd(cmd_exec, &cli, args, &c);
    if (got != code || strncmp(c.err_text, err, strlen(err)) != 0) {
        print_error("exit %d (wanted %d), stderr:\n%s\nwanted: %s\n", got, code, c.err_text, err);
    }
    assert_int_equal(got, code);
    assert_memory_equal(c.err_text, err, strlen(err));
    capture_free(&c);
}

static void test_cmd_exec_usage_errors(void **state)
{
    (void)state;
    expect_exec(NULL, (const char *[]){"exec", NULL}, CLI_EXIT_USAGE,
                "error: no program given (try 'leakcheck exec --help')\n");
    expect_exec(NULL, (const char *[]){"exec", "--", NULL}, CLI_EXIT_USAGE,
                "error: no program given (try 'leakcheck exec --help')\n");
    expect_exec(NULL, (const char *[]){"exec", "--bogus", "/bin/true", NULL}, CLI_EXIT_USAGE,
                "error: unknown option '--bogus' (try 'leakcheck exec --help')\n");
    /* --record without its file is not an option exec knows. */
    expect_exec(NULL, (const char *[]){"exec", "--record", NULL}, CLI_EXIT_USAGE,
                "error: unknown option '--record' (try 'leakcheck exec --help')\n");
}

static void test_cmd_exec_help_and_missing_agent(void **state)
{
    (void)state;
    struct cli cli = {0};
    struct capture c;
    assert_int_equal(capture_cmd(cmd_exec, &cli, (const char *[]){"exec", "--help", NULL}, &c),
                     CLI_EXIT_OK);
    assert_non_null(strstr(c.out_text, "usage: leakcheck exec [--record FILE] [--] PROGRAM"));
    capture_free(&c);
    /* --agent after exec wins over the global one. */
    expect_exec("/bin/sh",
                (const char *[]){"exec", "--agent", "/nonexistent/agent.so", "/bin/true", NULL},
                CLI_EXIT_RUN, "error: agent library not found (tried '/nonexistent/agent.so')");
}

/* The program's exit status is leakcheck's; a signal gives 128 + N and a message. */
static void test_cmd_exec_passes_the_status_through(void **state)
{
    (void)state;
    const char *b = getenv("B");
    char agent[PATH_MAX];
    snprintf(agent, sizeof(agent), "%s/libleakcheck-agent.so", b ? b : "build/debug");
    if (!file_is_regular(agent)) {
        print_message("skipped: no agent at %s\n", agent);
        skip();
    }
    expect_exec(agent, (const char *[]){"exec", "--", "/bin/sh", "-c", "exit 5", NULL}, 5, "");
    expect_exec(agent, (const char *[]){"exec", "/bin/sh", "-c", "kill -KILL $$", NULL}, 128 + 9,
                "error: '/bin/sh' was killed by signal 9 (Killed)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_exec_usage_errors),
        cmocka_unit_test(test_cmd_exec_help_and_missing_agent),
        cmocka_unit_test(test_cmd_exec_passes_the_status_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
