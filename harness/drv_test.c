/* SPDX-License-Identifier: MIT */
/* drv_test.c - unit tests of the driver table: every kind reads its "driver" object and writes
 * it back unchanged, creates its round runner, says what it needs of the target's streams; an
 * unknown kind is refused naming the key. */
#include "drv.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drv_stdio.h"
#include "scn.h"

/* A "driver" object of each kind with every key its save writes, in a scenario in /scn. */
static const char *const full[] = {
    "{\"kind\": \"stdio\", \"requests_file\": \"/data/reqs.txt\", \"requests_per_round\": 4,"
    " \"reply_timeout_s\": 2.5}",
    "{\"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\", \"get {port}\"],"
    " \"requests_per_round\": 10, \"reply_timeout_s\": 10}",
    "{\"kind\": \"stdio\", \"requests_command\": [\"/bin/gen\", \"{n}\", \"{round}\"],"
    " \"requests_per_round\": 3, \"reply_timeout_s\": 1}",
    "{\"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/up\", \"method\": \"PUT\","
    " \"headers\": {\"X-A\": \"b{i}\"}, \"multipart\": {\"field\": \"file\", \"bytes\": 1024,"
    " \"filename\": \"f{i}.bin\", \"content_type\": \"text/plain\"}, \"requests_per_round\": 5,"
    " \"concurrency\": 2, \"timeout_s\": 3, \"expect_status\": 201}",
    "{\"kind\": \"http\", \"url\": \"https://example.invalid/\", \"method\": \"POST\","
    " \"body_bytes\": 10, \"requests_per_round\": 1, \"concurrency\": 1, \"timeout_s\": 10}",
    "{\"kind\": \"command\", \"argv\": [\"/usr/bin/curl\", \"http://127.0.0.1:{port}/\"],"
    " \"env\": {\"K\": \"v\"}, \"timeout_s\": 60}",
};

/* Parses `json` as the "driver" object of a scenario: the row its kind names reads it into a
 * new scenario's field. Returns the scenario (scn_free) or fails the test. */
static struct scn *parse_driver(const char *json, const struct drv_kind **kind)
{
    struct diag d = {{0}};
    struct json_ctx c;
    cJSON *dv = NULL;
    struct scn *s = scn_new();
    assert_non_null(s);
    json_init(&c, "t.json", &d);
    assert_int_equal(json_parse(&c, json, strlen(json), true, &dv), 0);
    *kind = drv_kind_find(cJSON_GetObjectItemCaseSensitive(dv, "kind")->valuestring);
    assert_non_null(*kind);
    drv_cfg_free(s->driver, s->driver_cfg);
    s->driver = *kind;
    s->driver_cfg = drv_cfg_new(*kind);
    assert_non_null(s->driver_cfg);
    json_push(&c, "driver");
    struct drv_parse p = {.json = &c, .dir = "/scn", .uses_port = &s->uses_port};
    if ((*kind)->parse(&p, dv, s->driver_cfg) != 0) {
        fail_msg("%s: %s", json, d.msg);
    }
    cJSON_Delete(dv);
    return s;
}

static void test_drv_every_kind_saves_what_it_parsed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        const struct drv_kind *kind = NULL;
        struct scn *s = parse_driver(full[i], &kind);
        cJSON *want = cJSON_Parse(full[i]);
        cJSON *got = cJSON_CreateObject();
        assert_non_null(cJSON_AddStringToObject(got, "kind", kind->name));
        assert_true(kind->save(s->driver_cfg, got));
        if (!cJSON_Compare(want, got, true)) {
            char *text = cJSON_PrintUnformatted(got);
            print_error("read  %s\nwrote %s\n", full[i], text);
            free(text);
            fail();
        }
        cJSON_Delete(want);
        cJSON_Delete(got);
        scn_free(s);
    }
}

static void test_drv_every_kind_creates_its_runner(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        const struct drv_kind *kind = NULL;
        struct scn *s = parse_driver(full[i], &kind);
        struct diag d = {{0}};
        if (strcmp(kind->name, "stdio") == 0 &&
            ((struct drv_stdio_cfg *)s->driver_cfg)->requests_file) {
            scn_free(s); /* its file is read when the runner is made: see drv_stdio_test */
            continue;
        }
        struct drv *drv = drv_new(s->driver, s->driver_cfg, &d);
        if (!drv) {
            fail_msg("%s: %s", kind->name, d.msg);
        }
        assert_string_equal(drv->ops->kind, kind->name);
        drv_free(drv);
        scn_free(s);
    }
}

static void test_drv_table_rows(void **state)
{
    (void)state;
    assert_int_equal(drv_kind_count(), 3);
    for (size_t i = 0; i < drv_kind_count(); i++) {
        const struct drv_kind *k = drv_kind_at(i);
        assert_true(k->cfg_size > 0);
        assert_ptr_equal(drv_kind_find(k->name), k);
    }
    assert_null(drv_kind_at(drv_kind_count()));
    assert_null(drv_kind_find("ftp"));
    /* Only the stdio driver talks over the target's standard streams. */
    assert_ptr_equal(drv_kind_default(), drv_kind_find("stdio"));
    assert_int_equal(drv_kind_find("stdio")->needs, DRV_PIPES_STDIN | DRV_READS_STDOUT);
    assert_int_equal(drv_kind_find("http")->needs, 0);
    assert_int_equal(drv_kind_find("command")->needs, 0);
    char names[128];
    drv_kind_names(names, sizeof(names));
    assert_string_equal(names, "one of \"stdio\", \"http\", \"command\"");
    struct diag d = {{0}};
    assert_null(drv_new(drv_kind_default(), NULL, &d));
    assert_non_null(strstr(d.msg, "no driver settings"));
}

/* Parses a whole scenario whose driver is `driver`; returns the message of its failure. */
static void expect_scenario_error(const char *driver, const char *want)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/cat\"]}, "
             "\"driver\": %s}",
             driver);
    struct scn *s = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(text, strlen(text), "dir/t.json", &s, &d), -EINVAL);
    assert_null(s);
    if (!strstr(d.msg, want)) {
        fail_msg("message '%s', wanted '%s'", d.msg, want);
    }
}

static void test_drv_unknown_kind_names_the_key(void **state)
{
    (void)state;
    expect_scenario_error("{\"kind\": \"ftp\"}",
                          "dir/t.json: driver.kind: expected one of \"stdio\", \"http\", "
                          "\"command\", found string 'ftp'");
    expect_scenario_error("{\"kind\": 3}", "driver.kind: expected one of");
    expect_scenario_error("{}", "dir/t.json: driver: missing key 'kind' (one of \"stdio\"");
    expect_scenario_error("[]", "dir/t.json: driver: expected an object, found an array");
    /* The kind's own keys are checked by its row. */
    expect_scenario_error("{\"kind\": \"http\", \"url\": \"http://x/\", \"requests\": [\"a\"]}",
                          "dir/t.json: driver: unknown key 'requests'");
}

static void test_drv_port_placeholder_sets_readiness(void **state)
{
    (void)state;
    /* A server on {port} without a probe, driven other than over stdio: wait for the port. */
    const char *text = "{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/srv\", \"{port}\"]}, "
                       "\"driver\": {\"kind\": \"command\", \"argv\": [\"/bin/true\"]}}";
    struct scn *s = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(text, strlen(text), NULL, &s, &d), 0);
    assert_int_equal(s->ready, SCN_READY_TCP);
    assert_true(s->ready_port_is_placeholder);
    scn_free(s);
    text = "{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/srv\", \"{port}\"]}, "
           "\"driver\": {\"kind\": \"stdio\", \"requests\": [\"x\"]}}";
    assert_int_equal(scn_parse(text, strlen(text), NULL, &s, &d), 0);
    assert_int_equal(s->ready, SCN_READY_NONE);
    scn_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drv_every_kind_saves_what_it_parsed),
        cmocka_unit_test(test_drv_every_kind_creates_its_runner),
        cmocka_unit_test(test_drv_table_rows),
        cmocka_unit_test(test_drv_unknown_kind_names_the_key),
        cmocka_unit_test(test_drv_port_placeholder_sets_readiness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
