/* SPDX-License-Identifier: MIT */
/* json_test.c - unit tests of the strict JSON input kit: every reader's accepted and refused
 * values, the message shapes (file, JSON path, expected, found), key suggestions, the writers. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "strv.h"

/* A parsed document and the context reading it, named "t.json". */
struct doc {
    struct json_ctx c;
    struct diag d;
    cJSON *root;
};

static void doc_open(struct doc *x, const char *text)
{
    memset(&x->d, 0, sizeof(x->d));
    json_init(&x->c, "t.json", &x->d);
    assert_int_equal(json_parse(&x->c, text, strlen(text), true, &x->root), 0);
}

static void doc_close(struct doc *x)
{
    cJSON_Delete(x->root);
}

/* Fails the test unless the last failure of `x` is -EINVAL with `want` in its message. */
static void expect_msg(struct doc *x, int rc, const char *want)
{
    if (rc != -EINVAL || !strstr(x->d.msg, want)) {
        print_error("rc %d, message '%s', wanted '%s'\n", rc, x->d.msg, want);
    }
    assert_int_equal(rc, -EINVAL);
    assert_non_null(strstr(x->d.msg, want));
}

static void test_json_parse_reports_line_and_column(void **state)
{
    (void)state;
    struct json_ctx c;
    struct diag d = {{0}};
    cJSON *root = NULL;
    const char *text = "{\n  \"a\": 1,,\n}";
    json_init(&c, "t.json", &d);
    assert_int_equal(json_parse(&c, text, strlen(text), false, &root), -EINVAL);
    assert_null(root);
    assert_non_null(strstr(d.msg, "t.json:2:"));
    assert_non_null(strstr(d.msg, "not valid JSON"));
    assert_int_equal(c.err_line, 2);
    /* `whole` refuses what follows the value; without it the rest is ignored. */
    assert_int_equal(json_parse(&c, "{} x", 4, true, &root), -EINVAL);
    assert_int_equal(json_parse(&c, "{} x", 4, false, &root), 0);
    cJSON_Delete(root);
}

static void test_json_path_push_pop(void **state)
{
    (void)state;
    struct json_ctx c;
    struct diag d = {{0}};
    json_init(&c, "r.json", &d);
    size_t top = json_push_index(&c, "scenarios", 0);
    assert_string_equal(c.path, "scenarios[0]");
    size_t in = json_push_index(&c, "rounds", 2);
    assert_string_equal(c.path, "scenarios[0].rounds[2]");
    assert_int_equal(json_fail(&c, "live_bytes", "bad %d", 7), -EINVAL);
    assert_string_equal(d.msg, "r.json: scenarios[0].rounds[2].live_bytes: bad 7");
    json_pop(&c, in);
    json_push(&c, "agent");
    assert_string_equal(c.path, "scenarios[0].agent");
    json_pop(&c, top);
    assert_string_equal(c.path, "");
    assert_int_equal(json_fail(&c, NULL, "at the top"), -EINVAL);
    assert_string_equal(d.msg, "r.json: at the top");
    char where[128];
    json_where(&c, "name", where, sizeof(where));
    assert_string_equal(where, "r.json: name");
}

static void test_json_check_keys_suggests(void **state)
{
    (void)state;
    static const char *const known[] = {"kind", "requests", "requests_per_round", NULL};
    struct doc x;
    doc_open(&x, "{\"kind\": 1, \"reqests\": 2}");
    json_push(&x.c, "driver");
    expect_msg(&x, json_check_keys(&x.c, x.root, known),
               "t.json: driver: unknown key 'reqests' (did you mean 'requests'?)");
    doc_close(&x);
    doc_open(&x, "{\"zzzzzzzzzz\": 1}");
    expect_msg(&x, json_check_keys(&x.c, x.root, known),
               "t.json: unknown key 'zzzzzzzzzz' (known keys: kind, requests, requests_per_round)");
    doc_close(&x);
    doc_open(&x, "{\"kind\": 1}");
    assert_int_equal(json_check_keys(&x.c, x.root, known), 0);
    doc_close(&x);
}

static void test_json_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(json_edit_distance("requests", "requests"), 0);
    assert_int_equal(json_edit_distance("reqests", "requests"), 1);
    assert_int_equal(json_edit_distance("", "abc"), 3);
    assert_int_equal(json_edit_distance("kitten", "sitting"), 3);
}

static void test_json_get_str(void **state)
{
    (void)state;
    struct doc x;
    char *s = NULL;
    doc_open(&x, "{\"a\": \"x\", \"n\": 3, \"e\": \"\", \"z\": null}");
    assert_int_equal(json_get_str(&x.c, x.root, "a", true, NULL, &s), 0);
    assert_string_equal(s, "x");
    assert_int_equal(json_get_str(&x.c, x.root, "absent", false, NULL, &s), 0);
    assert_string_equal(s, "x"); /* absent: unchanged */
    expect_msg(&x, json_get_str(&x.c, x.root, "n", false, NULL, &s),
               "t.json: n: expected a string, found number 3");
    expect_msg(&x, json_get_str(&x.c, x.root, "e", true, NULL, &s),
               "e: expected a non-empty string, found string ''");
    expect_msg(&x, json_get_str(&x.c, x.root, "absent", true, "what to run", &s),
               "t.json: missing key 'absent' (what to run)");
    free(s);
    s = NULL;
    assert_int_equal(json_get_str_or_null(&x.c, x.root, "z", 10, &s), 0);
    assert_null(s);
    expect_msg(&x, json_get_str_or_null(&x.c, x.root, "n", 10, &s),
               "n: expected a string or null, found number 3");
    doc_close(&x);
    doc_open(&x, "{\"long\": \"abcdef\"}");
    expect_msg(&x, json_get_str_or_null(&x.c, x.root, "long", 5, &s), "5-byte limit");
    doc_close(&x);
}

static void test_json_numbers(void **state)
{
    (void)state;
    struct doc x;
    doc_open(&x, "{\"i\": 7, \"f\": 1.5, \"neg\": -1, \"s\": \"ten\", \"z\": null, \"t\": 0.25}");
    int64_t i = 99;
    assert_int_equal(json_get_int(&x.c, x.root, "i", 2, 10, &i), 0);
    assert_int_equal(i, 7);
    assert_int_equal(json_get_int(&x.c, x.root, "absent", 2, 10, &i), 0);
    assert_int_equal(i, 7);
    expect_msg(&x, json_get_int(&x.c, x.root, "f", 2, 10, &i),
               "f: expected an integer from 2 to 10");
    expect_msg(&x, json_get_int(&x.c, x.root, "s", 2, 100000, &i),
               "s: expected an integer from 2 to 100000, found string 'ten'");
    expect_msg(&x, json_get_int(&x.c, x.root, "neg", 0, JSON_INT_MAX, &i),
               "expected an integer from 0 to 9007199254740992, found number -1");
    double v = 0;
    assert_int_equal(json_get_double(&x.c, x.root, "f", 0, &v), 0);
    assert_true(v == 1.5);
    expect_msg(&x, json_get_double(&x.c, x.root, "neg", 0, &v), "neg: expected a number >= 0");
    assert_int_equal(json_get_num_or_null(&x.c, x.root, "z", &v), 0);
    assert_true(isnan(v));
    expect_msg(&x, json_get_num_or_null(&x.c, x.root, "s", &v), "s: expected a number");
    int ms = 0;
    assert_int_equal(json_get_seconds(&x.c, x.root, "t", &ms), 0);
    assert_int_equal(ms, 250);
    expect_msg(&x, json_get_seconds(&x.c, x.root, "neg", &ms), "a number of seconds above 0");
    doc_close(&x);
}

static void test_json_bool_hex_enum(void **state)
{
    (void)state;
    static const char *const names[] = {"no-leak", "leak"};
    struct doc x;
    doc_open(&x, "{\"b\": true, \"n\": 1, \"h\": \"0x4011a6\", \"bad\": \"12\", \"v\": \"leak\","
                 " \"w\": \"leaky\"}");
    bool b = false;
    assert_int_equal(json_get_bool(&x.c, x.root, "b", &b), 0);
    assert_true(b);
    expect_msg(&x, json_get_bool(&x.c, x.root, "n", &b),
               "n: expected true or false, found number 1");
    uint64_t h = 0;
    assert_int_equal(json_get_hex(&x.c, x.root, "h", &h), 0);
    assert_int_equal(h, 0x4011a6);
    expect_msg(&x, json_get_hex(&x.c, x.root, "bad", &h), "bad: expected a hexadecimal string");
    int e = -1;
    assert_int_equal(json_get_enum(&x.c, x.root, "v", names, 2, true, &e), 0);
    assert_int_equal(e, 1);
    expect_msg(&x, json_get_enum(&x.c, x.root, "w", names, 2, true, &e),
               "w: expected one of 'no-leak', 'leak', found string 'leaky'");
    expect_msg(&x, json_get_enum(&x.c, x.root, "absent", names, 2, true, &e),
               "missing key 'absent' (one of 'no-leak', 'leak')");
    doc_close(&x);
}

static void test_json_arrays_and_maps(void **state)
{
    (void)state;
    struct doc x;
    doc_open(&x, "{\"argv\": [\"a\", \"b\"], \"mixed\": [\"a\", 2], \"none\": [],"
                 " \"env\": {\"K\": \"v\"}, \"badenv\": {\"A=B\": \"x\"}, \"num\": {\"K\": 1}}");
    json_push(&x.c, "target");
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(json_get_strs(&x.c, x.root, "argv", true, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[1], "b");
    assert_null(v[2]);
    strv_free(v);
    v = NULL;
    expect_msg(&x, json_get_strs(&x.c, x.root, "mixed", true, &v, &n),
               "t.json: target.mixed[1]: expected a string, found number 2");
    expect_msg(&x, json_get_strs(&x.c, x.root, "none", true, &v, &n),
               "none: expected a non-empty array of strings, found an array");
    assert_int_equal(json_get_map(&x.c, x.root, "env", "=", &v, &n), 0);
    assert_string_equal(v[0], "K=v");
    strv_free(v);
    v = NULL;
    expect_msg(&x, json_get_map(&x.c, x.root, "badenv", "=", &v, &n),
               "target.badenv: bad name 'A=B'");
    expect_msg(&x, json_get_map(&x.c, x.root, "num", "=", &v, &n),
               "target.num.K: expected a string, found number 1");
    assert_string_equal(x.c.path, "target"); /* the path is restored after a failure */
    const cJSON *arr = NULL;
    expect_msg(&x, json_get_array(&x.c, x.root, "argv", 1, &arr, &n), "more than the limit of 1");
    assert_int_equal(json_get_array(&x.c, x.root, "argv", 2, &arr, &n), 0);
    assert_int_equal(n, 2);
    doc_close(&x);
}

static void test_json_writers_round_trip(void **state)
{
    (void)state;
    char a[] = "x", b[] = "y", h1[] = "X-A: b", h2[] = "no separator";
    char *strs[] = {a, b, NULL};
    char *hdrs[] = {h1, h2};
    cJSON *o = cJSON_CreateObject();
    assert_true(json_put_strs(o, "argv", strs, 0));
    assert_true(json_put_map(o, "headers", hdrs, 2, ": "));
    assert_false(json_put_strs(NULL, "argv", strs, 0));
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"argv\":[\"x\",\"y\"],\"headers\":{\"X-A\":\"b\"}}");
    free(text);
    struct json_ctx c;
    struct diag d = {{0}};
    json_init(&c, "w.json", &d);
    char **back = NULL;
    size_t n = 0;
    assert_int_equal(json_get_map(&c, o, "headers", ": ", &back, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(back[0], "X-A: b");
    strv_free(back);
    cJSON_Delete(o);
}

/* Parses `text` (len bytes) expecting -EINVAL with exactly `want` as the message. */
static void expect_parse_msg(const char *text, size_t len, const char *want)
{
    struct json_ctx c;
    struct diag d = {{0}};
    cJSON *root = NULL;
    json_init(&c, "t.json", &d);
    int rc = json_parse(&c, text, len, false, &root);
    if (rc != -EINVAL || strcmp(d.msg, want) != 0) {
        print_error("rc %d, message '%s', wanted '%s'\n", rc, d.msg, want);
    }
    assert_int_equal(rc, -EINVAL);
    assert_null(root);
    assert_string_equal(d.msg, want);
}

/* What cJSON lets through is refused before it, with the JSON path, line and column. */
static void test_json_parse_prescan(void **state)
{
    (void)state;
    const char nul[] = "{\"target\": {\"argv\": [\"prog\\u0000evil\"]}}";
    expect_parse_msg(nul, sizeof(nul) - 1,
                     "t.json: target.argv[0]: a string holds a NUL character (\\u0000); strings "
                     "may not contain NUL (line 1, column 27)");
    const char name_nul[] = "{\"name\": \"x\\u0000y\"}";
    expect_parse_msg(name_nul, sizeof(name_nul) - 1,
                     "t.json: name: a string holds a NUL character (\\u0000); strings may not "
                     "contain NUL (line 1, column 12)");
    const char bad[] = "{\"a\": {\"name\": \"ok\xff\"}}";
    expect_parse_msg(bad, sizeof(bad) - 1,
                     "t.json: a.name: not valid UTF-8 (byte 0xff); text must be UTF-8 (line 1, "
                     "column 19)");
    const char overlong[] = "{\"k\": \"\xc0\xaf\"}";
    expect_parse_msg(overlong, sizeof(overlong) - 1,
                     "t.json: k: not valid UTF-8 (byte 0xc0); text must be UTF-8 (line 1, column "
                     "8)");
    const char surrogate[] = "[\"\xed\xa0\x80\"]";
    expect_parse_msg(surrogate, sizeof(surrogate) - 1,
                     "t.json: [0]: not valid UTF-8 (byte 0xed); text must be UTF-8 (line 1, "
                     "column 3)");
    const char dup[] = "{\"name\": \"a\",\n \"t\": {\"x\": 1, \"y\": 2, \"x\": 3}}";
    expect_parse_msg(dup, sizeof(dup) - 1,
                     "t.json: t: duplicate key 'x' (first at line 2); each key may appear once "
                     "(line 2, column 25)");
    const char dup_top[] = "{\"name\": \"a\", \"name\": \"b\"}";
    expect_parse_msg(dup_top, sizeof(dup_top) - 1,
                     "t.json: duplicate key 'name' (first at line 1); each key may appear once "
                     "(line 1, column 16)");
    /* An escaped backslash before "u0000" is no NUL; the same key in two objects is fine. */
    struct doc x;
    doc_open(&x, "{\"a\": \"\\\\u0000\", \"b\": {\"a\": 1}, \"c\": [{\"a\": 1}, {\"a\": 2}], "
                 "\"\xc3\xa9t\xc3\xa9\": \"\xf0\x9f\x90\x9b\"}");
    assert_string_equal(cJSON_GetObjectItem(x.root, "a")->valuestring, "\\u0000");
    doc_close(&x);
}

/* Nesting past JSON_MAX_DEPTH says so; JSON_MAX_DEPTH levels are fine. */
static void test_json_parse_depth(void **state)
{
    (void)state;
    char deep[1024];
    size_t n = 0;
    for (int i = 0; i < JSON_MAX_DEPTH; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < JSON_MAX_DEPTH; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    struct doc x;
    doc_open(&x, deep);
    doc_close(&x);
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    deep[n + 1] = ']';
    deep[n + 2] = '\0';
    struct json_ctx c;
    struct diag d = {{0}};
    cJSON *root = NULL;
    json_init(&c, "t.json", &d);
    assert_int_equal(json_parse(&c, deep, n + 2, true, &root), -EINVAL);
    assert_non_null(strstr(d.msg, "t.json: [0][0][0]...[0][0]: nested deeper"));
    assert_non_null(strstr(d.msg, "nested deeper than 64 levels (objects and arrays inside each "
                                  "other); no leakcheck file needs that many (line 1, column 65)"));
    /* A million levels: the same message, quickly, without cJSON. */
    size_t big = 1000000;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, '[', big);
    huge[big] = '\0';
    assert_int_equal(json_parse(&c, huge, big, true, &root), -EINVAL);
    assert_non_null(strstr(d.msg, "nested deeper than 64 levels"));
    free(huge);
}

/* The longest valid UTF-8 prefix. */
static void test_json_utf8_valid_prefix(void **state)
{
    (void)state;
    assert_int_equal(json_utf8_valid_prefix("abc", 3), 3);
    assert_int_equal(json_utf8_valid_prefix("a\xc3\xa9z", 4), 4);
    assert_int_equal(json_utf8_valid_prefix("a\xc3", 2), 1); /* cut in the middle */
    assert_int_equal(json_utf8_valid_prefix("ab\xff", 3), 2);
    assert_int_equal(json_utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
}

/* Strings and string arrays have caps, said with the sizes. */
static void test_json_string_caps(void **state)
{
    (void)state;
    size_t big = JSON_MAX_STRING + 1;
    char *text = malloc(big + 64);
    assert_non_null(text);
    int n = sprintf(text, "{\"s\": \"");
    memset(text + n, 'a', big);
    strcpy(text + n + big, "\", \"v\": [\"\"]}");
    struct doc x;
    doc_open(&x, text);
    char *out = NULL;
    expect_msg(&x, json_get_str(&x.c, x.root, "s", false, NULL, &out),
               "t.json: s: expected a string of at most 65536 bytes, found one of 65537 bytes");
    assert_null(out);
    doc_close(&x);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_parse_reports_line_and_column),
        cmocka_unit_test(test_json_path_push_pop),
        cmocka_unit_test(test_json_check_keys_suggests),
        cmocka_unit_test(test_json_edit_distance),
        cmocka_unit_test(test_json_get_str),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_json_bool_hex_enum),
        cmocka_unit_test(test_json_arrays_and_maps),
        cmocka_unit_test(test_json_writers_round_trip),
        cmocka_unit_test(test_json_parse_prescan),
        cmocka_unit_test(test_json_parse_depth),
        cmocka_unit_test(test_json_utf8_valid_prefix),
        cmocka_unit_test(test_json_string_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
