/* SPDX-License-Identifier: MIT */
/* rpt_summary_test.c - the facts every report states: counts, time, rounds, the shared limit,
 * the commit; per scenario the result, the culprit, growth and limit, warm-up and measured. */
#include "rpt_summary.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"

/* The fixture: 4 scenarios, 2 failed of which 1 failed to run, 4 x 2.5 s, 15 rounds. */
static void test_rpt_summary_run_fixture(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_summary sum;
    rpt_summary_of_run(run, &sum);
    assert_int_equal(sum.scenarios, 4);
    assert_string_equal(sum.scenarios_text, "4 scenarios");
    assert_int_equal(sum.failed, 2);
    assert_int_equal(sum.errors, 1);
    assert_true(sum.seconds == 10.0);
    assert_int_equal(sum.rounds, FIX_ROUNDS);
    assert_string_equal(sum.threshold, "1024.0");
    assert_ptr_equal(sum.commit, run->commit);
    assert_ptr_equal(sum.commit_message, run->commit_message);
    assert_ptr_equal(sum.started_at, run->started_at);
    assert_ptr_equal(sum.host, run->host);
    assert_ptr_equal(sum.agent_version, run->agent_version);
    rpt_run_free(run);
}

/* Times that are not finite or not positive are left out; the most rounds planned counts;
 * different limits are "per scenario"; one scenario is singular. */
static void test_rpt_summary_run_mixed(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    run->scenarios[0].seconds = NAN;
    run->scenarios[1].seconds = -3;
    run->scenarios[2].rounds_planned = 40;
    run->scenarios[3].threshold_bytes_per_round = 2048;
    struct rpt_summary sum;
    rpt_summary_of_run(run, &sum);
    assert_true(sum.seconds == 5.0);
    assert_int_equal(sum.rounds, 40);
    assert_string_equal(sum.threshold, "per scenario");
    run->n_scenarios = 1;
    rpt_summary_of_run(run, &sum);
    assert_string_equal(sum.scenarios_text, "1 scenario");
    assert_string_equal(sum.threshold, "1024.0");
    assert_int_equal(sum.failed, 1);
    assert_int_equal(sum.errors, 0);
    run->n_scenarios = 4;
    rpt_run_free(run);
}

/* A run with no scenarios and no commit: zero counts, no shared limit, and no message shown
 * without the commit it belongs to. */
static void test_rpt_summary_run_empty(void **state)
{
    (void)state;
    struct rpt_run *run = fix_calloc(1, sizeof(*run));
    run->commit_message = fix_strdup("orphan message");
    struct rpt_summary sum;
    rpt_summary_of_run(run, &sum);
    assert_int_equal(sum.scenarios, 0);
    assert_string_equal(sum.scenarios_text, "0 scenarios");
    assert_int_equal(sum.failed, 0);
    assert_true(sum.seconds == 0);
    assert_int_equal(sum.rounds, 0);
    assert_string_equal(sum.threshold, "per scenario");
    assert_null(sum.commit);
    assert_null(sum.commit_message);
    rpt_run_free(run);
}

/* Each fixture scenario's result, culprit, growth, limit and rounds. */
static void test_rpt_summary_scenarios(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_summary_row row;
    rpt_summary_of_scenario(&run->scenarios[0], &row);
    assert_int_equal(row.result, RPT_SUMMARY_FAIL);
    assert_non_null(row.culprit);
    assert_string_equal(row.culprit->function, "keep_upload");
    assert_string_equal(row.growth, "+32.0 KiB");
    assert_string_equal(row.limit, "1.0 KiB");
    assert_int_equal(row.warmup, FIX_WARMUP);
    assert_int_equal(row.measured, FIX_ROUNDS - FIX_WARMUP);

    rpt_summary_of_scenario(&run->scenarios[1], &row);
    assert_int_equal(row.result, RPT_SUMMARY_PASS);
    assert_null(row.culprit);
    assert_string_equal(row.growth, "0 B");

    rpt_summary_of_scenario(&run->scenarios[2], &row);
    assert_int_equal(row.result, RPT_SUMMARY_EXPECTED_LEAK);
    assert_string_equal(row.culprit->function, "keep_upload");

    rpt_summary_of_scenario(&run->scenarios[3], &row);
    assert_int_equal(row.result, RPT_SUMMARY_FAIL);
    assert_null(row.culprit);
    assert_int_equal(row.warmup, 3);
    assert_int_equal(row.measured, 0);
    rpt_run_free(run);
}

/* Growth carries '+' only when something grew; shrinking keeps its '-'; unknown is "n/a". */
static void test_rpt_summary_growth_sign(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_scenario *s = &run->scenarios[1];
    struct rpt_summary_row row;
    s->growth_bytes_per_round = -128;
    rpt_summary_of_scenario(s, &row);
    assert_string_equal(row.growth, "-128 B");
    s->growth_bytes_per_round = 1536;
    rpt_summary_of_scenario(s, &row);
    assert_string_equal(row.growth, "+1.5 KiB");
    s->growth_bytes_per_round = NAN;
    rpt_summary_of_scenario(s, &row);
    assert_string_equal(row.growth, "n/a");
    rpt_run_free(run);
}

/* The culprit is the first suspect that is not suppressed. */
static void test_rpt_summary_culprit(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_scenario *s = &run->scenarios[0];
    assert_ptr_equal(rpt_summary_culprit(s), &s->sites[0]);
    s->sites[0].suppressed = true;
    assert_null(rpt_summary_culprit(s));
    s->sites[2].suspect = true;
    assert_null(rpt_summary_culprit(s)); // sites[2] is suppressed too
    s->sites[1].suspect = true;
    assert_ptr_equal(rpt_summary_culprit(s), &s->sites[1]);
    rpt_run_free(run);
}

/* The words for each result. */
static void test_rpt_summary_result_names(void **state)
{
    (void)state;
    assert_string_equal(rpt_summary_result_name(RPT_SUMMARY_PASS), "pass");
    assert_string_equal(rpt_summary_result_name(RPT_SUMMARY_EXPECTED_LEAK), "pass (expected leak)");
    assert_string_equal(rpt_summary_result_name(RPT_SUMMARY_FAIL), "FAIL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_summary_run_fixture),
        cmocka_unit_test(test_rpt_summary_run_mixed),
        cmocka_unit_test(test_rpt_summary_run_empty),
        cmocka_unit_test(test_rpt_summary_scenarios),
        cmocka_unit_test(test_rpt_summary_growth_sign),
        cmocka_unit_test(test_rpt_summary_culprit),
        cmocka_unit_test(test_rpt_summary_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
