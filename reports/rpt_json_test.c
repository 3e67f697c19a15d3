/* SPDX-License-Identifier: MIT */
/* rpt_json_test.c - tests of the JSON report: round trip, reader errors and caps, and the
 * report validated against reports/report.schema.json by a real JSON Schema validator (ajv). */
#include "rpt_json.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_testenv.h"
#include "rpt_write.h"
#include "../util/json.h"

/* Writes the fixture and reads it back: every field survives. */
static void test_rpt_json_round_trip(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag dg = {{0}};
    env_tmpdir(dir, "json");
    snprintf(path, sizeof(path), "%s/report.json", dir);
    struct rpt_run *run = fix_run();
    run->interrupted_signal = 15; /* a run SIGTERM cut short in its first scenario */
    run->scenarios[0].interrupted_signal = 15;
    assert_int_equal(rpt_json_write(run, path, &dg), 0);
    char *text = env_slurp(path, NULL);
    assert_non_null(
        strstr(text, "\"interrupted\":\t{\n\t\t\"signal\":\t\"SIGTERM\",\n\t\t\"number\":\t15"));
    free(text);
    struct rpt_run *back = NULL;
    assert_int_equal(rpt_json_read(path, &back, &dg), 0);
    assert_non_null(back);
    assert_int_equal(back->interrupted_signal, 15);
    assert_int_equal(back->scenarios[0].interrupted_signal, 15);
    assert_int_equal(back->scenarios[1].interrupted_signal, 0);
    assert_string_equal(back->commit, run->commit);
    assert_string_equal(back->commit_message, run->commit_message);
    assert_int_equal(back->n_scenarios, run->n_scenarios);
    for (size_t i = 0; i < run->n_scenarios; i++) {
        const struct rpt_scenario *a = &run->scenarios[i], *b = &back->scenarios[i];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->verdict, b->verdict);
        assert_int_equal(a->expect, b->expect);
        assert_int_equal(a->ok, b->ok);
        assert_int_equal(a->n_rounds, b->n_rounds);
        assert_int_equal(a->n_sites, b->n_sites);
        assert_int_equal(a->exit_code, b->exit_code);
        assert_int_equal(a->term_signal, b->term_signal);
        assert_true(fabs(a->growth_bytes_per_round - b->growth_bytes_per_round) < 1e-9);
        for (size_t r = 0; r < a->n_rounds; r++) {
            assert_int_equal(a->rounds[r].live_bytes, b->rounds[r].live_bytes);
            assert_int_equal(a->rounds[r].warmup, b->rounds[r].warmup);
            assert_int_equal(a->rounds[r].rss_bytes, b->rounds[r].rss_bytes);
        }
        for (size_t k = 0; k < a->n_sites; k++) {
            const struct rpt_site *x = &a->sites[k], *y = &b->sites[k];
            assert_string_equal(x->function, y->function);
            assert_string_equal(x->file, y->file);
            assert_int_equal(x->kind, y->kind);
            assert_int_equal(x->suspect, y->suspect);
            assert_int_equal(x->suppressed, y->suppressed);
            assert_int_equal(x->growth_bytes_signed, y->growth_bytes_signed);
            assert_int_equal(x->n_frames, y->n_frames);
            for (size_t r = 0; r < a->n_rounds; r++) {
                assert_int_equal(x->live_bytes[r], y->live_bytes[r]);
            }
            for (size_t f = 0; f < x->n_frames; f++) {
                assert_int_equal(x->frames[f].address, y->frames[f].address);
                assert_int_equal(x->frames[f].inlined, y->frames[f].inlined);
                assert_int_equal(x->frames[f].line, y->frames[f].line);
            }
        }
    }
    assert_string_equal(back->scenarios[0].sites[1].frames[0].system_name, "_Znwm");
    assert_null(back->scenarios[0].sites[0].frames[0].file);
    // Writing the read-back model gives the same bytes: nothing lost, output deterministic.
    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(rpt_json_render(run, &t1), 0);
    assert_int_equal(rpt_json_render(back, &t2), 0);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    rpt_run_free(back);
    rpt_run_free(run);
    env_rmrf(dir);
}

/* The report carries the contract's keys, suspects only for suspect sites. */
static void test_rpt_json_contract_keys(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *text = NULL;
    assert_int_equal(rpt_json_render(run, &text), 0);
    assert_non_null(strstr(text, "\"format\":\t\"leakcheck-report/1\""));
    assert_non_null(strstr(text, "\"suspects\""));
    assert_non_null(strstr(text, "\"address\":\t\"0x55d0c3a0b1c1\""));
    // Suspects: keep_upload in scenarios 0 and 2; none in 1 and 3.
    assert_int_equal(env_count(text, "\"bytes_per_round\":\t32768"), 4);
    free(text);
    rpt_run_free(run);
}

/* Gives scenario 0 of `run` a snapshot time for every round but the second (not measured). */
static void add_snapshot_times(struct rpt_run *run)
{
    struct rpt_scenario *s = &run->scenarios[0];
    assert_true(s->n_rounds >= 3);
    s->snapshot_seconds = malloc(s->n_rounds * sizeof(*s->snapshot_seconds));
    assert_non_null(s->snapshot_seconds);
    for (size_t i = 0; i < s->n_rounds; i++) {
        s->snapshot_seconds[i] = 0.001 * (double)(i + 1);
    }
    s->snapshot_seconds[1] = -1;
}

/* rounds[].snapshot_seconds: written for each measured round, absent for a round without one
 * and for a scenario without any; read back as written (absent everywhere reads as NULL). */
static void test_rpt_json_snapshot_seconds(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    add_snapshot_times(run);
    char *text = NULL;
    assert_int_equal(rpt_json_render(run, &text), 0);
    size_t n = run->scenarios[0].n_rounds;
    assert_int_equal(env_count(text, "\"snapshot_seconds\""), n - 1);
    assert_non_null(strstr(text, "\"snapshot_seconds\":\t0.003"));
    struct rpt_run *back = NULL;
    struct diag dg = {{0}};
    assert_int_equal(rpt_json_parse(text, "r.json", &back, &dg), 0);
    const struct rpt_scenario *b = &back->scenarios[0];
    assert_non_null(b->snapshot_seconds);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(b->snapshot_seconds[i] - run->scenarios[0].snapshot_seconds[i]) < 1e-12);
    }
    assert_null(back->scenarios[1].snapshot_seconds);
    char *again = NULL;
    assert_int_equal(rpt_json_render(back, &again), 0);
    assert_string_equal(text, again);
    free(again);
    free(text);
    rpt_run_free(back);
    rpt_run_free(run);
}

/* Parses text expecting failure; checks the message mentions `want`. */
static void expect_parse_error(const char *text, const char *want)
{
    struct diag dg = {{0}};
    struct rpt_run *run = (struct rpt_run *)(uintptr_t)1;
    int rc = rpt_json_parse(text, "r.json", &run, &dg);
    if (rc == 0 || !strstr(dg.msg, want)) {
        print_error("text %s: rc %d, message '%s', wanted '%s'\n", text, rc, dg.msg, want);
    }
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(dg.msg, want));
    assert_ptr_equal(run, (struct rpt_run *)(uintptr_t)1);
}

/* A retainer scan's groups go to suspects[].retained_by and its figures to retainer_scan, and
 * read back; a scenario without a scan has neither key. */
static void test_rpt_json_retainers(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    run->scenarios[0].sites[0].retainers[0].via[0].offset_varies = true;
    char *text = NULL;
    assert_int_equal(rpt_json_render(run, &text), 0);
    assert_int_equal(env_count(text, "\"retained_by\""), 1); /* scenario 0 only, not 2 */
    assert_int_equal(env_count(text, "\"offset_varies\":\ttrue"), 1);
    assert_int_equal(env_count(text, "\"retainer_scan\""), 1);
    assert_non_null(strstr(text, "\"kind\":\t\"global\""));
    assert_non_null(strstr(text, "\"symbol\":\t\"g_uploads\""));
    assert_non_null(strstr(text, "\"kind\":\t\"unreachable\""));
    assert_non_null(strstr(text, "\"function\":\t\"upload_table_new\""));
    struct rpt_run *back = NULL;
    struct diag dg = {{0}};
    assert_int_equal(rpt_json_parse(text, "r.json", &back, &dg), 0);
    const struct rpt_scenario *s = &back->scenarios[0];
    assert_true(s->retain.ran);
    assert_true(s->retain.complete);
    assert_int_equal(s->retain.memory_bytes, 3u << 20);
    assert_true(s->retain.stopped_seconds == 0.012);
    const struct rpt_site *a = &s->sites[0];
    assert_int_equal(a->retain_sampled, 64);
    assert_int_equal(a->n_retainers, 2);
    assert_int_equal(a->retainers[0].kind, RPT_ROOT_GLOBAL);
    assert_string_equal(a->retainers[0].symbol, "g_uploads");
    assert_string_equal(a->retainers[0].section, ".bss");
    assert_int_equal(a->retainers[0].offset, 8);
    assert_int_equal(a->retainers[0].line, 40);
    assert_int_equal(a->retainers[0].n_via, 1);
    assert_int_equal(a->retainers[0].via[0].offset, 16);
    assert_int_equal(a->retainers[0].via[0].site, 4);
    assert_true(a->retainers[0].via[0].offset_varies);
    assert_false(a->retainers[0].offset_varies);
    assert_int_equal(a->retainers[0].blocks, 60);
    assert_int_equal(a->retainers[1].kind, RPT_ROOT_UNREACHABLE);
    assert_null(a->retainers[1].symbol);
    assert_false(back->scenarios[2].retain.ran);
    assert_int_equal(back->scenarios[2].sites[0].n_retainers, 0);
    rpt_run_free(back);
    free(text);
    rpt_run_free(run);
    // A root of an unknown kind is refused with its path.
    expect_parse_error(
        "{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\",\"ok\":true,"
        "\"verdict\":\"leak\",\"suspects\":[{\"id\":1,\"retained_by\":[{\"root\":"
        "{\"kind\":\"heap\"}}]}]}]}",
        "scenarios[0].suspects[0].retained_by[0].root.kind");
}

/* Malformed reports are rejected with file and JSON path. */
static void test_rpt_json_read_errors(void **state)
{
    (void)state;
    expect_parse_error("{", "r.json:1: not valid JSON");
    expect_parse_error("[]", "expected an object");
    expect_parse_error("{\"scenarios\":[]}", "r.json: format: missing");
    expect_parse_error("{\"format\":\"leakcheck-report/2\",\"scenarios\":[]}",
                       "unsupported format 'leakcheck-report/2'");
    expect_parse_error("{\"format\":\"leakcheck-report/1\"}",
                       "r.json: scenarios: expected an array");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leaky\",\"ok\":true}]}",
                       "r.json: scenarios[0].verdict: expected one of 'no-leak', 'leak'");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leak\",\"ok\":true,\"rounds\":[{\"round\":1,"
                       "\"live_bytes\":-5}]}]}",
                       "scenarios[0].rounds[0].live_bytes: expected an integer");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leak\",\"ok\":true,\"rounds\":[{\"round\":1}],"
                       "\"sites\":[{\"live_bytes\":[1,2]}]}]}",
                       "scenarios[0].sites[0].live_bytes: expected 1 values");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leak\",\"ok\":true,\"sites\":[{\"stack\":[{\"address\":"
                       "\"12\"}]}]}]}",
                       "scenarios[0].sites[0].stack[0].address: expected a hexadecimal");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leak\"}]}",
                       "scenarios[0].ok: expected true or false");
    expect_parse_error("{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":\"a\","
                       "\"verdict\":\"leak\",\"ok\":true,\"rounds\":[{\"round\":1,"
                       "\"snapshot_seconds\":-0.5}]}]}",
                       "scenarios[0].rounds[0].snapshot_seconds: expected a number >= 0");
}

/* A report with only the contract's minimum keys (suspects, no sites) is read. */
static void test_rpt_json_read_minimal(void **state)
{
    (void)state;
    const char *text =
        "{\"format\":\"leakcheck-report/1\",\"commit\":\"abc\",\"started_at\":\"x\","
        "\"scenarios\":[{\"name\":\"up\",\"verdict\":\"leak\",\"expect\":\"leak\",\"ok\":true,"
        "\"reason\":\"r\",\"growth_bytes_per_round\":33554.0,\"threshold_bytes_per_round\":1024,"
        "\"rounds\":[{\"round\":1,\"warmup\":true,\"live_bytes\":123,\"live_blocks\":4,"
        "\"rss_bytes\":5}],\"suspects\":[{\"function\":\"keep_upload\",\"file\":\"s.c\","
        "\"line\":88,\"bytes_per_round\":33554.0,\"blocks_per_round\":2.0,\"stack\":[{"
        "\"function\":\"f\",\"file\":\"g\",\"line\":1,\"object\":\"o\"}]}]}],\"extra\":1}";
    struct rpt_run *run = NULL;
    struct diag dg = {{0}};
    assert_int_equal(rpt_json_parse(text, "m.json", &run, &dg), 0);
    assert_int_equal(run->n_scenarios, 1);
    assert_int_equal(run->scenarios[0].n_sites, 1);
    assert_true(run->scenarios[0].sites[0].suspect);
    assert_int_equal(run->scenarios[0].sites[0].kind, RPT_KIND_LEAK);
    assert_string_equal(run->scenarios[0].sites[0].frames[0].function, "f");
    rpt_run_free(run);
}

/* Counts over a cap are refused, not allocated. */
static void test_rpt_json_read_caps(void **state)
{
    (void)state;
    size_t n = RPT_JSON_MAX_FRAMES + 1;
    char *text = malloc(n * 3 + 512);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, 512,
                                  "{\"format\":\"leakcheck-report/1\",\"scenarios\":[{\"name\":"
                                  "\"a\",\"verdict\":\"leak\",\"ok\":true,\"sites\":[{\"stack\":[");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(text + len, 4, "%s{}", i ? "," : "");
    }
    snprintf(text + len, 8, "]}]}]}");
    struct diag dg = {{0}};
    struct rpt_run *run = NULL;
    assert_int_equal(rpt_json_parse(text, "c.json", &run, &dg), -EINVAL);
    assert_non_null(strstr(dg.msg, "more than the limit of 1024"));
    free(text);
}

/* CI=true (GitHub Actions and most CI systems set it): a validator that cannot run fails there
 * instead of skipping. */
static int in_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

/* Runs ajv-cli on DIR/report.json through ci/npx-run.sh (`runner`), which alone decides that
 * the validator could not run (exit 75: registry unreachable, 77: no npx): then the test skips,
 * or fails under CI=true. Returns ajv's exit status; its output in *out (owned). */
static int ajv(const char *runner, const char *dir, const char *schema, char **out)
{
    char cmd[PATH_MAX * 4];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && bash '%s' ajv-cli@5.0.0 validate --spec=draft2020 --strict=false -s "
             "'%s' -d report.json",
             dir, runner, schema);
    int st = env_run(cmd, out);
    if (st == 75 || st == 77) {
        const char *why = strstr(*out, "npx-run: unavailable: ");
        if (in_ci()) {
            fail_msg("%s; CI=true, where every validator must run", why ? why : *out);
        }
        print_message("SKIPPED: %s\n", why ? why : *out);
        free(*out);
        env_rmrf(dir);
        skip();
    }
    return st;
}

/* The written report validates against the JSON Schema with ajv; a broken one does not. */
static void test_rpt_json_schema_ajv(void **state)
{
    (void)state;
    char rel[PATH_MAX], schema[PATH_MAX], runner_rel[PATH_MAX], runner[PATH_MAX];
    assert_int_equal(env_find("reports/report.schema.json", rel), 0);
    assert_non_null(realpath(rel, schema));
    assert_int_equal(env_find("ci/npx-run.sh", runner_rel), 0);
    assert_non_null(realpath(runner_rel, runner));
    char dir[PATH_MAX], cmd[PATH_MAX * 2];
    struct diag dg = {{0}};
    env_tmpdir(dir, "ajv");
    struct rpt_run *run = fix_run();
    run->interrupted_signal = 2; /* the optional "interrupted" objects validate too */
    run->scenarios[0].interrupted_signal = 2;
    add_snapshot_times(run); /* and rounds' snapshot times */
    assert_int_equal(rpt_write_all(run, dir, &dg), 0);
    rpt_run_free(run);
    char *out = NULL;
    int st = ajv(runner, dir, schema, &out);
    if (st != 0) {
        print_error("ajv failed (%d): %s\n", st, out);
    }
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "valid"));
    free(out);

    // A broken report must fail the same check, so the check itself can fail.
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && sed -i 's/\"verdict\":\\t\"leak\"/\"verdict\":\\t\"leaky\"/' report.json",
             dir);
    assert_int_equal(env_run(cmd, NULL), 0);
    st = ajv(runner, dir, schema, &out);
    assert_int_not_equal(st, 0);
    assert_non_null(strstr(out, "invalid"));
    free(out);
    env_rmrf(dir);
}

/* A run of 1000 sites over 15 rounds, each with a deep C++ stack: report.json stays under 1 MB
 * (the suspects and the first RPT_JSON_DETAILED_SITES sites in full, the rest summarized), is
 * read back with every site, and says how many were summarized. */
static void test_rpt_json_size_many_sites(void **state)
{
    (void)state;
    enum { N_SITES = 1000, N_ROUNDS = 15, N_FRAMES = 24 };
    struct rpt_run *run = calloc(1, sizeof(*run));
    assert_non_null(run);
    run->commit = strdup("0123456789abcdef0123456789abcdef01234567");
    run->n_scenarios = 1;
    run->scenarios = calloc(1, sizeof(*run->scenarios));
    struct rpt_scenario *sc = &run->scenarios[0];
    sc->name = strdup("many-sites");
    sc->verdict = RPT_VERDICT_LEAK;
    sc->n_rounds = N_ROUNDS;
    sc->rounds = calloc(N_ROUNDS, sizeof(*sc->rounds));
    for (size_t r = 0; r < N_ROUNDS; r++) {
        sc->rounds[r] = (struct rpt_round){.round = (uint32_t)r + 1,
                                           .warmup = r < 3,
                                           .live_bytes = 1000000 + r * 4096,
                                           .rss_bytes = 1 << 24};
    }
    sc->n_sites = N_SITES;
    sc->sites = calloc(N_SITES, sizeof(*sc->sites));
    char text[256];
    for (size_t k = 0; k < N_SITES; k++) {
        struct rpt_site *site = &sc->sites[k];
        site->id = (uint32_t)k + 1;
        site->suspect = k < 3;
        site->kind = k < 3 ? RPT_KIND_LEAK : RPT_KIND_CHURN;
        snprintf(text, sizeof(text), "project::storage::Table<std::string>::insert_row_%zu", k);
        site->function = strdup(text);
        snprintf(text, sizeof(text), "/home/builder/project/src/storage/table_%zu.cc", k);
        site->file = strdup(text);
        site->line = 100 + (uint32_t)k;
        site->bytes_per_round = (double)(N_SITES - k);
        site->live_bytes = calloc(N_ROUNDS, sizeof(uint64_t));
        site->live_blocks = calloc(N_ROUNDS, sizeof(uint64_t));
        for (size_t r = 0; r < N_ROUNDS; r++) {
            site->live_bytes[r] = 123456789 + r;
            site->live_blocks[r] = 1234 + r;
        }
        site->n_frames = N_FRAMES;
        site->frames = calloc(N_FRAMES, sizeof(*site->frames));
        for (size_t f = 0; f < N_FRAMES; f++) {
            snprintf(text, sizeof(text), "project::module%zu::Worker::handle_request_step_%zu", f,
                     k);
            site->frames[f].function = strdup(text);
            site->frames[f].file = strdup("/home/builder/project/src/module/worker.cc");
            site->frames[f].object = strdup("/home/builder/project/build/bin/server");
            site->frames[f].line = 42 + (uint32_t)f;
            site->frames[f].address = 0x5555555550000ull + f * 64 + k;
        }
    }
    char *out = NULL;
    assert_int_equal(rpt_json_render(run, &out), 0);
    size_t len = strlen(out);
    if (len >= 1000000) {
        print_error("report.json of 1000 sites over 15 rounds is %zu bytes\n", len);
    }
    assert_true(len < 1000000);
    assert_non_null(strstr(out, "\"sites_summarized\":\t950"));
    struct rpt_run *back = NULL;
    struct diag dg = {{0}};
    assert_int_equal(rpt_json_parse(out, "r.json", &back, &dg), 0);
    assert_int_equal(back->scenarios[0].n_sites, N_SITES);
    assert_int_equal(back->scenarios[0].sites[0].n_frames, N_FRAMES);
    assert_int_equal(back->scenarios[0].sites[999].n_frames, 0);
    assert_null(back->scenarios[0].sites[999].live_bytes);
    assert_string_equal(back->scenarios[0].sites[999].function, sc->sites[999].function);
    rpt_run_free(back);
    free(out);
    rpt_run_free(run);
}

/* Strings that are not valid UTF-8 (a path or a name from the system) come out valid, each bad
 * byte as U+FFFD. */
static void test_rpt_json_output_is_utf8(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    free(run->scenarios[0].name);
    run->scenarios[0].name = strdup("bad\xff\xfename");
    free(run->commit_message);
    run->commit_message = strdup("fix \xc3");
    char *out = NULL;
    assert_int_equal(rpt_json_render(run, &out), 0);
    assert_int_equal(json_utf8_valid_prefix(out, strlen(out)), strlen(out));
    assert_non_null(strstr(out, "bad\xef\xbf\xbd\xef\xbf\xbdname"));
    assert_non_null(strstr(out, "fix \xef\xbf\xbd"));
    free(out);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_json_round_trip),
        cmocka_unit_test(test_rpt_json_snapshot_seconds),
        cmocka_unit_test(test_rpt_json_contract_keys),
        cmocka_unit_test(test_rpt_json_retainers),
        cmocka_unit_test(test_rpt_json_size_many_sites),
        cmocka_unit_test(test_rpt_json_output_is_utf8),
        cmocka_unit_test(test_rpt_json_read_errors),
        cmocka_unit_test(test_rpt_json_read_minimal),
        cmocka_unit_test(test_rpt_json_read_caps),
        cmocka_unit_test(test_rpt_json_schema_ajv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
