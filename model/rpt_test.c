/* SPDX-License-Identifier: MIT */
/* rpt_test.c - unit tests of the result model: enum names and their parsers, the first
 * measured round, and freeing a run whose every field is set.
 *
 * Freeing is checked by the valgrind (`make valgrind`) and LeakSanitizer (`make asan`) runs of
 * this program: a string or array the cleanup forgot is a leak there.
 */
#include "rpt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const enum rpt_verdict all_verdicts[] = {RPT_VERDICT_NO_LEAK, RPT_VERDICT_LEAK,
                                                RPT_VERDICT_INCONCLUSIVE, RPT_VERDICT_ERROR};
static const char *const verdict_names[] = {"no-leak", "leak", "inconclusive", "error"};

static const enum rpt_expect all_expects[] = {RPT_EXPECT_NO_LEAK, RPT_EXPECT_LEAK, RPT_EXPECT_ANY};
static const char *const expect_names[] = {"no-leak", "leak", "any"};

static const enum rpt_kind all_kinds[] = {RPT_KIND_FLAT, RPT_KIND_LEAK,     RPT_KIND_PLATEAU,
                                          RPT_KIND_STEP, RPT_KIND_SAWTOOTH, RPT_KIND_CHURN};
static const char *const kind_names[] = {"flat", "leak", "plateau", "step", "sawtooth", "churn"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A copy the model owns (aborts the test when out of memory). */
static char *own(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* Each verdict has its report name, and parsing the name gives the verdict back. */
static void test_rpt_verdict_names_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(all_verdicts); i++) {
        const char *name = rpt_verdict_name(all_verdicts[i]);
        assert_string_equal(name, verdict_names[i]);
        assert_int_equal(rpt_verdict_parse(name), (int)all_verdicts[i]);
    }
}

static void test_rpt_expect_names_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(all_expects); i++) {
        const char *name = rpt_expect_name(all_expects[i]);
        assert_string_equal(name, expect_names[i]);
        assert_int_equal(rpt_expect_parse(name), (int)all_expects[i]);
    }
}

/* Kinds have no parser; their names are as the reports write them, and all distinct. */
static void test_rpt_kind_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(all_kinds); i++) {
        assert_string_equal(rpt_kind_name(all_kinds[i]), kind_names[i]);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(rpt_kind_name(all_kinds[i]), rpt_kind_name(all_kinds[j]));
        }
    }
}

/* Names of one enum are not accepted for the other; case, spaces, empty and NULL give -1. */
static void test_rpt_parse_unknown_names(void **state)
{
    (void)state;
    static const char *const bad[] = {"",       "LEAK",  "leak ", " leak", "no_leak",
                                      "noleak", "leaks", "flat",  "l"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        assert_int_equal(rpt_verdict_parse(bad[i]), -1);
        assert_int_equal(rpt_expect_parse(bad[i]), -1);
    }
    assert_int_equal(rpt_verdict_parse(NULL), -1);
    assert_int_equal(rpt_expect_parse(NULL), -1);
    assert_int_equal(rpt_verdict_parse("any"), -1);
    assert_int_equal(rpt_expect_parse("inconclusive"), -1);
    assert_int_equal(rpt_expect_parse("error"), -1);
}

/* A value outside the enum still gets a name (can't fail): the safest one of each. */
static void test_rpt_names_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(rpt_verdict_name((enum rpt_verdict)77), "error");
    assert_string_equal(rpt_expect_name((enum rpt_expect)77), "any");
    assert_string_equal(rpt_kind_name((enum rpt_kind)77), "flat");
}

/* The first round not flagged warm-up; n_rounds when every round is, 0 when none is. */
static void test_rpt_first_measured(void **state)
{
    (void)state;
    struct rpt_round rounds[5] = {{.round = 1, .warmup = true},
                                  {.round = 2, .warmup = true},
                                  {.round = 3},
                                  {.round = 4},
                                  {.round = 5}};
    struct rpt_scenario s = {.rounds = rounds, .n_rounds = 5};
    assert_int_equal(rpt_first_measured(&s), 2);
    for (size_t i = 0; i < 5; i++) {
        rounds[i].warmup = true;
    }
    assert_int_equal(rpt_first_measured(&s), 5);
    s.n_rounds = 3;
    assert_int_equal(rpt_first_measured(&s), 3);
    for (size_t i = 0; i < 5; i++) {
        rounds[i].warmup = false;
    }
    assert_int_equal(rpt_first_measured(&s), 0);
    struct rpt_scenario empty = {0};
    assert_int_equal(rpt_first_measured(&empty), 0);
}

/* One frame with every string set. */
static void fill_frame(struct rpt_frame *f, int i)
{
    f->address = 0x401000u + (uint64_t)i;
    f->function = own("foo::bar()");
    f->system_name = own("_ZN3foo3barEv");
    f->file = own("src/foo.cc");
    f->object = own("/usr/lib/libfoo.so.1");
    f->line = 10u + (uint32_t)i;
    f->inlined = i == 0;
}

/* One site with every owned field set: culprit strings, series and a stack of n frames. */
static void fill_site(struct rpt_site *site, size_t n_rounds, size_t n_frames)
{
    site->function = own("keep_upload");
    site->file = own("server.c");
    site->object = own("/srv/upload_server");
    site->live_bytes = calloc(n_rounds, sizeof(*site->live_bytes));
    site->live_blocks = calloc(n_rounds, sizeof(*site->live_blocks));
    site->frames = calloc(n_frames, sizeof(*site->frames));
    assert_non_null(site->live_bytes);
    assert_non_null(site->live_blocks);
    assert_non_null(site->frames);
    site->n_frames = n_frames;
    for (size_t f = 0; f < n_frames; f++) {
        fill_frame(&site->frames[f], (int)f);
    }
}

/* A scenario with every owned field set. */
static void fill_scenario(struct rpt_scenario *s)
{
    s->name = own("uploads-leaky");
    s->file = own("scenarios/uploads/leaky.json");
    s->reason = own("12 of 12 measured rounds left blocks behind at one site");
    s->error = own("target crashed\nsignal 11");
    s->n_rounds = 4;
    s->rounds = calloc(s->n_rounds, sizeof(*s->rounds));
    assert_non_null(s->rounds);
    s->n_sites = 3;
    s->sites = calloc(s->n_sites, sizeof(*s->sites));
    assert_non_null(s->sites);
    for (size_t i = 0; i < s->n_sites; i++) {
        fill_site(&s->sites[i], s->n_rounds, i + 1);
    }
    s->argv = calloc(3, sizeof(*s->argv));
    assert_non_null(s->argv);
    s->argv[0] = own("upload_server");
    s->argv[1] = own("--port=8080");
}

/* rpt_run_free() frees the run, its strings and every scenario with all they own; NULL is a
 * no-op (the valgrind and ASan runs fail on anything left). */
static void test_rpt_signal_names(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(rpt_signal_name(15, buf, sizeof(buf)), "SIGTERM");
    assert_string_equal(rpt_signal_name(2, buf, sizeof(buf)), "SIGINT");
    assert_string_equal(rpt_signal_name(1, buf, sizeof(buf)), "SIGHUP");
    assert_string_equal(rpt_signal_name(0, buf, sizeof(buf)), "signal 0");
    assert_string_equal(rpt_signal_name(200, buf, sizeof(buf)), "signal 200");
}

static void test_rpt_run_free_everything(void **state)
{
    (void)state;
    rpt_run_free(NULL);
    struct rpt_run *run = calloc(1, sizeof(*run));
    assert_non_null(run);
    run->commit = own("0c1bcd5");
    run->commit_message = own("cli: the byte formatter lives in util/fmt only");
    run->started_at = own("2026-12-02T03:15:51Z");
    run->agent_version = own("0.1.0");
    run->host = own("ci-runner");
    run->n_scenarios = 2;
    run->scenarios = calloc(run->n_scenarios, sizeof(*run->scenarios));
    assert_non_null(run->scenarios);
    fill_scenario(&run->scenarios[0]);
    fill_scenario(&run->scenarios[1]);
    assert_int_equal(run->scenarios[1].sites[2].n_frames, 3);
    assert_string_equal(run->scenarios[1].argv[1], "--port=8080");
    rpt_run_free(run);
}

/* A scenario in caller storage: cleanup frees what it owns, NULL strings and a NULL argv
 * included. NULL and an all-zero scenario are no-ops. */
static void test_rpt_scenario_cleanup(void **state)
{
    (void)state;
    rpt_scenario_cleanup(NULL);
    struct rpt_scenario empty = {0};
    rpt_scenario_cleanup(&empty);
    assert_null(empty.sites);
    struct rpt_scenario s = {0};
    fill_scenario(&s);
    /* unknown strings are NULL; a scenario may have no argv */
    free(s.sites[0].frames[0].function);
    s.sites[0].frames[0].function = NULL;
    free(s.sites[1].file);
    s.sites[1].file = NULL;
    free(s.argv[0]);
    free(s.argv[1]);
    free(s.argv);
    s.argv = NULL;
    assert_int_equal(s.n_sites, 3);
    assert_non_null(s.sites[2].frames[2].object);
    rpt_scenario_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_verdict_names_round_trip),
        cmocka_unit_test(test_rpt_signal_names),
        cmocka_unit_test(test_rpt_expect_names_round_trip),
        cmocka_unit_test(test_rpt_kind_names),
        cmocka_unit_test(test_rpt_parse_unknown_names),
        cmocka_unit_test(test_rpt_names_out_of_range),
        cmocka_unit_test(test_rpt_first_measured),
        cmocka_unit_test(test_rpt_run_free_everything),
        cmocka_unit_test(test_rpt_scenario_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
