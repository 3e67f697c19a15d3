/* SPDX-License-Identifier: MIT */
/* scn_test.c - unit tests of scenario loading: every error path, suggestions, placeholders. */
#include "scn.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drv_cmd.h"
#include "drv_http.h"
#include "drv_stdio.h"

/* Parses `json` as "t.json"; returns the result and leaves the message in d. */
static int parse(const char *json, struct scn **s, struct diag *d)
{
    memset(d, 0, sizeof(*d));
    *s = NULL;
    return scn_parse(json, strlen(json), "dir/t.json", s, d);
}

/* Expects `json` to fail with a message containing `needle`. */
static void expect_error(const char *json, const char *needle)
{
    struct scn *s;
    struct diag d;
    int rc = parse(json, &s, &d);
    if (rc != -EINVAL || !strstr(d.msg, needle)) {
        print_error("json: %s\nmessage: %s\nwanted: %s\n", json, d.msg, needle);
    }
    assert_int_equal(rc, -EINVAL);
    assert_null(s);
    assert_non_null(strstr(d.msg, needle));
}

#define TGT "\"target\": {\"argv\": [\"/bin/cat\"]}"
#define DRV "\"driver\": {\"kind\": \"stdio\", \"requests\": [\"put {round}-{i}\"]}"

static void test_scn_parse_minimal_defaults(void **state)
{
    (void)state;
    struct scn *s;
    struct diag d;
    assert_int_equal(parse("{\"name\": \"a\", " TGT ", " DRV "}", &s, &d), 0);
    assert_string_equal(s->name, "a");
    assert_string_equal(s->argv[0], "/bin/cat");
    assert_null(s->argv[1]);
    assert_string_equal(s->driver->name, "stdio");
    assert_int_equal(((struct drv_stdio_cfg *)s->driver_cfg)->n_requests, 1);
    assert_int_equal(s->rounds, SCN_DEFAULT_ROUNDS);
    assert_int_equal(s->warmup, SCN_DEFAULT_WARMUP);
    assert_int_equal(s->expect, RPT_EXPECT_NO_LEAK);
    assert_false(s->uses_port);
    scn_free(s);
}

static void test_scn_parse_full_http(void **state)
{
    (void)state;
    struct scn *s;
    struct diag d;
    const char *json =
        "{\"name\": \"up\", \"target\": {\"argv\": [\"/bin/srv\", \"--port\", \"{port}\"],"
        " \"env\": {\"K\": \"v\"}, \"cwd\": \"/tmp\","
        " \"ready\": {\"http\": \"http://127.0.0.1:{port}/healthz\", \"timeout_s\": 2.5}},"
        " \"driver\": {\"kind\": \"http\", \"url\": \"http://127.0.0.1:{port}/upload\","
        " \"headers\": {\"X-A\": \"b\"}, \"multipart\": {\"field\": \"file\", \"bytes\": 1024},"
        " \"requests_per_round\": 5, \"concurrency\": 2, \"expect_status\": 201},"
        " \"rounds\": 12, \"warmup\": 1, \"threshold\": {\"bytes_per_round\": 64,"
        " \"blocks_per_round\": 1}, \"expect\": \"leak\", \"expect_culprit\": \"keep\","
        " \"suppress\": [{\"function\": \"init_*\"}, {\"stack\": [\"a\", \"...\"]}],"
        " \"wrappers\": [\"my_alloc\"]}";
    assert_int_equal(parse(json, &s, &d), 0);
    assert_true(s->uses_port);
    assert_int_equal(s->ready, SCN_READY_HTTP);
    assert_int_equal(s->ready_timeout_ms, 2500);
    assert_string_equal(s->env[0], "K=v");
    assert_string_equal(((struct drv_http_cfg *)s->driver_cfg)->method, "POST");
    assert_string_equal(((struct drv_http_cfg *)s->driver_cfg)->headers[0], "X-A: b");
    assert_int_equal(((struct drv_http_cfg *)s->driver_cfg)->multipart_bytes, 1024);
    assert_int_equal(((struct drv_http_cfg *)s->driver_cfg)->concurrency, 2);
    assert_int_equal(((struct drv_http_cfg *)s->driver_cfg)->expect_status, 201);
    assert_int_equal(s->rounds, 12);
    assert_int_equal(s->n_supp, 2);
    assert_int_equal(s->supp[1].n_stack, 2);
    assert_int_equal(s->n_wrappers, 1);
    assert_int_equal(s->expect, RPT_EXPECT_LEAK);
    assert_true(s->threshold_blocks_per_round == 1.0);
    scn_free(s);
}

static void test_scn_parse_typo_suggests_key(void **state)
{
    (void)state;
    expect_error("{\"name\": \"a\", " TGT
                 ", \"driver\": {\"kind\": \"stdio\", \"reqests\": [\"x\"]}}",
                 "dir/t.json: driver: unknown key 'reqests' (did you mean 'requests'?)");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"round\": 3}",
                 "unknown key 'round' (did you mean 'rounds'?)");
}

static void test_scn_parse_unknown_key_lists_known(void **state)
{
    (void)state;
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"zzzzzzzzzz\": 3}",
                 "unknown key 'zzzzzzzzzz' (known keys: name, target");
}

static void test_scn_parse_wrong_types(void **state)
{
    (void)state;
    expect_error("{\"name\": 3, " TGT ", " DRV "}", "name: expected a string, found number 3");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"rounds\": \"ten\"}",
                 "rounds: expected an integer from 2 to 100000, found string 'ten'");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"rounds\": 1.5}", "rounds: expected an");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": \"x\"}, " DRV "}",
                 "target.argv: expected a non-empty array of strings, found string 'x'");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"a\", 2]}, " DRV "}",
                 "target.argv[1]: expected a string, found number 2");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"expect\": \"maybe\"}",
                 "expect: expected one of \"leak\", \"no-leak\", \"any\", found string 'maybe'");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"ftp\"}}",
                 "driver.kind: expected one of");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"threshold\": {\"bytes_per_round\": -1}}",
                 "threshold.bytes_per_round: expected a number >= 0");
    expect_error("[1]", "expected a JSON object at the top, found an array");
}

static void test_scn_parse_missing_values(void **state)
{
    (void)state;
    expect_error("{" TGT ", " DRV "}", "missing key 'name'");
    expect_error("{\"name\": \"a\", " DRV "}", "missing key 'target'");
    expect_error("{\"name\": \"a\", " TGT "}", "missing key 'driver'");
    expect_error("{\"name\": \"a\", \"target\": {}, " DRV "}", "target: missing key 'argv'");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {}}", "driver: missing key 'kind'");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\"}}",
                 "exactly one of 'requests', 'requests_file', 'requests_command', found 0");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"command\"}}",
                 "driver: missing key 'argv'");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"http\"}}",
                 "driver: missing key 'url'");
}

static void test_scn_parse_bad_json_position(void **state)
{
    (void)state;
    expect_error("{\n  \"name\": \"a\",,\n}", "dir/t.json:2:");
}

static void test_scn_parse_placeholders(void **state)
{
    (void)state;
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", \"requests\": "
                 "[\"put {key}\"]}}",
                 "unknown placeholder '{key}' in 'put {key}'");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\", \"{prt}\"]}, " DRV "}",
                 "target.argv[1]: unknown placeholder '{prt}'");
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", \"requests\": "
                 "[\"put {round\"]}}",
                 "unclosed '{'");
    struct scn *s;
    struct diag d;
    assert_int_equal(parse("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", "
                           "\"requests\": [\"{{literal}} {i}\"], \"requests_per_round\": 3}}",
                           &s, &d),
                     0);
    scn_free(s);
    /* {n} is for requests_command only. */
    assert_int_equal(parse("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", "
                           "\"requests_command\": [\"gen\", \"{n}\", \"{round}\"]}}",
                           &s, &d),
                     0);
    scn_free(s);
    expect_error("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", \"requests\": "
                 "[\"{n}\"]}}",
                 "unknown placeholder '{n}'");
    bool port = false;
    assert_int_equal(drv_check_placeholders("a {port} b", "w", false, &port, &d), 0);
    assert_true(port);
}

/* target.files, target.vars and the placeholders they bring: {port:NAME}, {run_dir},
 * {file:NAME}; every mistake named with its key. */
static void test_scn_parse_files_and_vars(void **state)
{
    (void)state;
    struct scn *s;
    struct diag d;
    assert_int_equal(
        parse("{\"name\": \"a\", \"target\": {\"argv\": [\"{file:run.sh}\", \"-c\", "
              "\"{file:conf/srv.conf}\", \"--admin\", \"{port:admin}\"], \"cwd\": \"{run_dir}\", "
              "\"env\": {\"W\": \"{workers}\"}, \"vars\": {\"workers\": \"4\"}, "
              "\"files\": {\"conf/srv.conf\": {\"text\": \"listen {port}\\nhttp { }\\n\"}, "
              "\"run.sh\": {\"text\": \"#!/bin/sh\\nexec ${X}\\n\", \"executable\": true}}}, " DRV
              "}",
              &s, &d),
        0);
    assert_string_equal(s->argv[0], "{file:run.sh}"); /* not resolved against the cwd */
    assert_int_equal(s->n_files, 2);
    assert_string_equal(s->files[0].name, "conf/srv.conf");
    assert_string_equal(s->files[0].text, "listen {port}\nhttp { }\n");
    assert_false(s->files[0].executable);
    assert_true(s->files[1].executable);
    assert_string_equal(s->vars[0], "workers=4");
    assert_true(s->uses_port); /* {port} in a file picks a port too */
    assert_int_equal(s->n_port_names, 1);
    assert_string_equal(s->port_names[0], "admin");
    /* Saved with each file's text, and loaded again as it was. */
    char path[] = "/tmp/scn_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(scn_save(s, path), 0);
    struct scn *t;
    assert_int_equal(scn_load(path, &t, &d), 0);
    unlink(path);
    assert_int_equal(t->n_files, 2);
    assert_string_equal(t->files[1].text, s->files[1].text);
    assert_true(t->files[1].executable);
    assert_string_equal(t->vars[0], "workers=4");
    assert_int_equal(t->n_port_names, 1);
    scn_free(t);
    scn_free(s);
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"a.conf\": "
                 "{\"text\": \"x\\ny {wokers}\"}}, \"vars\": {\"workers\": \"1\"}}, " DRV "}",
                 "dir/t.json: target.files.a.conf: line 2: unknown placeholder '{wokers}'");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"../a\": "
                 "{\"text\": \"x\"}}}, " DRV "}",
                 "'../a' would leave the run's folder");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"/etc/a\": "
                 "{\"text\": \"x\"}}}, " DRV "}",
                 "'/etc/a' is an absolute path");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"a\": "
                 "{\"template\": \"a.in\"}}}, " DRV "}",
                 "target.files.a.template: can't read 'dir/a.in': No such file or directory");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"a\": "
                 "{\"txt\": \"x\"}}}, " DRV "}",
                 "target.files.a: unknown key 'txt' (did you mean 'text'?)");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"files\": {\"a\": "
                 "{}}}, " DRV "}",
                 "give exactly one of \"template\"");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\", \"{file:b}\"], "
                 "\"files\": {\"a\": {\"text\": \"\"}}}, " DRV "}",
                 "target.argv[1]: '{file:b}' names no file of target.files");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"vars\": {\"run_dir\": "
                 "\"x\"}}, " DRV "}",
                 "target.vars: bad variable name 'run_dir'");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"vars\": {\"a-b\": "
                 "\"x\"}}, " DRV "}",
                 "target.vars: bad variable name 'a-b'");
    expect_error(
        "{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/x\"], \"cwd\": \"{rundir}\"}, " DRV "}",
        "target.cwd: unknown placeholder '{rundir}'");
}

static void test_scn_parse_relative_requests_file(void **state)
{
    (void)state;
    struct scn *s;
    struct diag d;
    assert_int_equal(parse("{\"name\": \"a\", " TGT ", \"driver\": {\"kind\": \"stdio\", "
                           "\"requests_file\": \"reqs.txt\"}}",
                           &s, &d),
                     0);
    assert_string_equal(((struct drv_stdio_cfg *)s->driver_cfg)->requests_file, "dir/reqs.txt");
    scn_free(s);
}

static void test_scn_parse_ready_variants(void **state)
{
    (void)state;
    struct scn *s;
    struct diag d;
    assert_int_equal(parse("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": "
                           "{\"tcp\": \"{port}\"}}, " DRV "}",
                           &s, &d),
                     0);
    assert_int_equal(s->ready, SCN_READY_TCP);
    assert_true(s->ready_port_is_placeholder);
    assert_true(s->uses_port);
    scn_free(s);
    assert_int_equal(parse("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": "
                           "{\"stdout\": \"^listening\"}}, " DRV "}",
                           &s, &d),
                     0);
    assert_int_equal(s->ready, SCN_READY_STDOUT);
    scn_free(s);
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": "
                 "{\"stdout\": \"(\"}}, " DRV "}",
                 "target.ready.stdout: bad regular expression '('");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": "
                 "{\"tcp\": 70000}}, " DRV "}",
                 "target.ready.tcp: expected a port from 1 to 65535");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": {}}, " DRV "}",
                 "expected exactly one of 'stdout', 'tcp', 'http', found 0");
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"/x\"], \"ready\": "
                 "{\"tcp\": 1, \"timeout_s\": 0}}, " DRV "}",
                 "target.ready.timeout_s: expected a number of seconds above 0");
}

static void test_scn_parse_bad_name_and_supp(void **state)
{
    (void)state;
    expect_error("{\"name\": \"../x\", " TGT ", " DRV "}", "can't be a folder name");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"suppress\": [{}]}",
                 "suppress[0]: empty suppression");
    expect_error("{\"name\": \"a\", " TGT ", " DRV ", \"suppress\": [{\"fuction\": \"x\"}]}",
                 "suppress[0]: unknown key 'fuction' (did you mean 'function'?)");
}

static void test_scn_load_missing_file(void **state)
{
    (void)state;
    struct scn *s = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_load("/nonexistent/x.json", &s, &d), -ENOENT);
    assert_non_null(strstr(d.msg, "/nonexistent/x.json: can't read"));
    assert_null(s);
}

static void test_scn_save_roundtrip(void **state)
{
    (void)state;
    struct scn *s;
    struct scn *t;
    struct diag d;
    assert_int_equal(parse("{\"name\": \"rt\", " TGT ", " DRV ", \"rounds\": 7, \"warmup\": 1,"
                           " \"expect\": \"leak\", \"suppress\": [{\"function\": \"f\"}]}",
                           &s, &d),
                     0);
    char path[] = "/tmp/scn_test_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(scn_save(s, path), 0);
    assert_int_equal(scn_load(path, &t, &d), 0);
    unlink(path);
    assert_string_equal(t->name, "rt");
    assert_int_equal(t->rounds, 7);
    assert_int_equal(t->warmup, 1);
    assert_int_equal(t->expect, RPT_EXPECT_LEAK);
    assert_int_equal(t->n_supp, 1);
    assert_string_equal(((struct drv_stdio_cfg *)t->driver_cfg)->requests[0], "put {round}-{i}");
    scn_free(s);
    scn_free(t);
}

/* NULs, invalid UTF-8 and duplicate keys anywhere in a scenario, and strings past their caps,
 * are errors naming the file and the key. */
static void test_scn_parse_input_rules(void **state)
{
    (void)state;
    expect_error("{\"name\": \"a\", \"target\": {\"argv\": [\"prog\\u0000evil\"]}, " DRV "}",
                 "dir/t.json: target.argv[0]: a string holds a NUL character (\\u0000)");
    expect_error("{\"name\": \"x\\u0000y\", " TGT ", " DRV "}",
                 "dir/t.json: name: a string holds a NUL character (\\u0000)");
    expect_error("{\"name\": \"a\xff\", " TGT ", " DRV "}",
                 "dir/t.json: name: not valid UTF-8 (byte 0xff); text must be UTF-8");
    expect_error("{\"name\": \"a\", \"name\": \"b\", " TGT ", " DRV "}",
                 "dir/t.json: duplicate key 'name' (first at line 1); each key may appear once");
    expect_error("{\"name\": \"a\", " TGT
                 ", \"driver\": {\"kind\": \"stdio\", \"kind\": \"http\"}}",
                 "dir/t.json: driver: duplicate key 'kind'");
    char name[SCN_MAX_NAME + 2];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char json[1024];
    snprintf(json, sizeof(json), "{\"name\": \"%s\", " TGT ", " DRV "}", name);
    expect_error(json, "dir/t.json: name: expected a string of at most 128 bytes, found one of "
                       "129 bytes");
    char *arg = malloc(SCN_MAX_ARG + 2);
    char *big = malloc(SCN_MAX_ARG + 256);
    assert_non_null(arg);
    assert_non_null(big);
    memset(arg, 'a', SCN_MAX_ARG + 1);
    arg[SCN_MAX_ARG + 1] = '\0';
    snprintf(big, SCN_MAX_ARG + 256,
             "{\"name\": \"a\", \"target\": {\"argv\": [\"x\", \"%s\"]}, " DRV "}", arg);
    expect_error(big, "dir/t.json: target.argv[1]: expected a string of at most 4096 bytes, found "
                      "one of 4097 bytes");
    free(arg);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scn_parse_minimal_defaults),
        cmocka_unit_test(test_scn_parse_full_http),
        cmocka_unit_test(test_scn_parse_typo_suggests_key),
        cmocka_unit_test(test_scn_parse_unknown_key_lists_known),
        cmocka_unit_test(test_scn_parse_wrong_types),
        cmocka_unit_test(test_scn_parse_missing_values),
        cmocka_unit_test(test_scn_parse_bad_json_position),
        cmocka_unit_test(test_scn_parse_placeholders),
        cmocka_unit_test(test_scn_parse_files_and_vars),
        cmocka_unit_test(test_scn_parse_relative_requests_file),
        cmocka_unit_test(test_scn_parse_ready_variants),
        cmocka_unit_test(test_scn_parse_bad_name_and_supp),
        cmocka_unit_test(test_scn_load_missing_file),
        cmocka_unit_test(test_scn_save_roundtrip),
        cmocka_unit_test(test_scn_parse_input_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
