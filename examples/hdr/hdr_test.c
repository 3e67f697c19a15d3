/* SPDX-License-Identifier: MIT */
/* hdr_test.c - the example library's unit tests, with one in-process leak assertion each.
 *
 * Run under the agent: `leakcheck exec -- ./hdr_test` (or LEAKCHECK_REEXEC=1 ./hdr_test).
 * test_parse_fixed passes; test_parse_leaky fails with
 *   leaked 744 B/round over 10 rounds at hdr_parse_leaky (examples/hdr/hdr.c:82)
 * Without the agent both skip, saying how to run them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <leakcheck.h>

#include "hdr.h"

/* One round of work: parse a request's headers, as a server would for each request. */
static void parse_request(void *arg)
{
    int (*parse)(const char *, struct hdr *) = *(int (**)(const char *, struct hdr *))arg;
    static const char *const lines[] = {"Host: example.org", "Accept: */*", "Content-Length: 42"};
    struct hdr h;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        assert_int_equal(parse(lines[i], &h), 0);
    }
}

/* Forgets every remembered name after each test. In a teardown, not at the end of the test:
 * a failing or skipped assertion jumps out of the test body. */
static int reset(void **state)
{
    (void)state;
    hdr_reset();
    return 0;
}

static void test_parse_fixed(void **state)
{
    (void)state;
    int (*parse)(const char *, struct hdr *) = hdr_parse;
    assert_no_leak_growth(parse_request, &parse, 10);
}

static void test_parse_leaky(void **state)
{
    (void)state;
    int (*parse)(const char *, struct hdr *) = hdr_parse_leaky;
    assert_no_leak_growth(parse_request, &parse, 10);
}

static void test_parse_splits(void **state)
{
    (void)state;
    struct hdr h;
    assert_int_equal(hdr_parse("Host:  example.org", &h), 0);
    assert_string_equal(h.name, "Host");
    assert_string_equal(h.value, "example.org");
    assert_int_equal(hdr_parse("no colon", &h), -22);
    hdr_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_splits),
        cmocka_unit_test_teardown(test_parse_fixed, reset),
        cmocka_unit_test_teardown(test_parse_leaky, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
