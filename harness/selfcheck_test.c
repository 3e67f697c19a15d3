/* SPDX-License-Identifier: MIT */
/* selfcheck_test.c - leakcheck's own hot paths under its in-process assertions.
 *
 * Parsing a scenario and rendering a JSON report, 100 times each, must keep nothing: the same
 * check users run on their code (include/leakcheck.h), run on ours. Under the agent
 * (tests/run-all.sh runs every test binary that links the in-process library under
 * `leakcheck exec`) the tests measure; without it they skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../include/leakcheck.h"

#include <stdlib.h>

#include "../reports/rpt_fixture.h"
#include "../reports/rpt_json.h"
#include "../util/diag.h"
#include "scn.h"

static const char scenario_json[] =
    "{ \"name\": \"uploads\", \"target\": { \"argv\": [\"/bin/cat\"] },"
    "  \"driver\": { \"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\"],"
    "                \"requests_per_round\": 5 },"
    "  \"rounds\": 12, \"warmup\": 2, \"threshold\": { \"bytes_per_round\": 512 },"
    "  \"expect\": \"no-leak\", \"suppress\": [ { \"function\": \"lazy_init\" } ] }";

static void parse_scenario(void *arg)
{
    (void)arg;
    struct scn *s = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(scenario_json, sizeof(scenario_json) - 1, NULL, &s, &d), 0);
    scn_free(s);
}

static void test_scn_parse_keeps_nothing(void **state)
{
    (void)state;
    struct lc_options o = {.rounds = 20, .calls_per_round = 5}; /* 100 measured parses */
    assert_no_leak_growth_opts(parse_scenario, NULL, &o);
}

static void render_report(void *arg)
{
    char *text = NULL;
    assert_int_equal(rpt_json_render(arg, &text), 0);
    assert_non_null(text);
    free(text);
}

/* The report fixture lives from setup to teardown: a skip or a failure jumps out of the test
 * body, so nothing the body allocates before the assertion would be freed. */
static int setup_run(void **state)
{
    *state = fix_run();
    return 0;
}

static int teardown_run(void **state)
{
    rpt_run_free(*state);
    return 0;
}

static void test_rpt_json_render_keeps_nothing(void **state)
{
    struct lc_options o = {.rounds = 20, .calls_per_round = 5};
    assert_no_leak_growth_opts(render_report, *state, &o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scn_parse_keeps_nothing),
        cmocka_unit_test_setup_teardown(test_rpt_json_render_keeps_nothing, setup_run,
                                        teardown_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
