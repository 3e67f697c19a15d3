/* SPDX-License-Identifier: MIT */
/* rpt_junit_test.c - JUnit XML content, escaping, and validation with xmllint against the
 * shared junit-10.xsd. */
#include "rpt_junit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_testenv.h"
#include "rpt_write.h"

/* Path of the XSD: ../shared/schemas beside the repository, else the machine-wide copy. */
static int find_xsd(char *out)
{
    if (env_find("../shared/schemas/junit.xsd", out) == 0) {
        return 0;
    }
    if (access("/work/shared/schemas/junit.xsd", R_OK) == 0) {
        snprintf(out, PATH_MAX, "/work/shared/schemas/junit.xsd");
        return 0;
    }
    return -1;
}

/* The failure text says who holds the suspect's survivors (the lost case and a scan cut short
 * too, escaped); the scenario without a scan says nothing of it. */
static void test_rpt_junit_retainers(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_junit_render(run, &b);
    assert_int_equal(b.err, 0);
    const char *fail = strstr(b.data, "<failure type=\"leak\"");
    assert_non_null(fail);
    const char *end = strstr(fail, "</failure>");
    const char *held = strstr(fail, "    held by g_uploads +8 (scenarios/uploads/server.c:40) "
                                    "\u2192 block from upload_table_new");
    assert_non_null(held);
    assert_true(held < end);
    assert_int_equal(env_count(b.data, "held by"), 1); /* not in uploads-expected */
    buf_cleanup(&b);
    struct rpt_scenario *sc = &run->scenarios[0];
    struct rpt_retainer t = sc->sites[0].retainers[0];
    sc->sites[0].retainers[0] = sc->sites[0].retainers[1];
    sc->sites[0].retainers[1] = t;
    sc->retain.complete = false;
    sc->retain.note = strdup("process 4: stopped for <1 s>");
    buf_init(&b);
    rpt_junit_render(run, &b);
    assert_non_null(strstr(b.data, "    lost: no pointer to these blocks remains (4 of 64 sampled "
                                   "survivors; 1 other path; scan cut short: process 4: stopped "
                                   "for &lt;1 s&gt;)\n"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* Counts, failure message and text, expected-leak note, error, properties. */
static void test_rpt_junit_content(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf b;
    buf_init(&b);
    rpt_junit_render(run, &b);
    assert_int_equal(b.err, 0);
    const char *x = b.data;
    assert_non_null(
        strstr(x, "<testsuite name=\"leakcheck\" tests=\"4\" failures=\"1\" errors=\"1\""));
    assert_non_null(
        strstr(x, "<testcase classname=\"leakcheck\" name=\"uploads-leaky\" time=\"2.500\">"));
    assert_non_null(strstr(x, "<failure type=\"leak\" message=\"heap +32.0 KiB/round over 12 "
                              "rounds (limit 1.0 KiB)\">"));
    assert_null(strstr(x, "warning: "));
    assert_non_null(strstr(x, "keep_upload (scenarios/uploads/server.c:88): +32768.0 bytes/round, "
                              "+2.00 blocks/round"));
    assert_non_null(strstr(x, "expected leak"));
    assert_non_null(strstr(x, "<error type=\"run-failed\" message=\"target killed by signal 11"));
    assert_non_null(strstr(x, "<property name=\"commit\" value=\"0123456789abcdef"));
    assert_non_null(strstr(x, "<property name=\"agent_version\" value=\"0.1.0\"/>"));
    // Hostile names are escaped, never raw.
    assert_null(strstr(x, "</script>"));
    assert_non_null(strstr(x, "std::map&lt;\xe2\x80\xa6&gt;::operator[]"));
    assert_non_null(
        strstr(x, "name=\"cache fixed | &quot;q&quot; &lt;/script&gt;&#10;&amp;amp; *x*\""));
    assert_null(strstr(x, " file=\""));
    assert_null(strstr(x, " line=\""));
    buf_cleanup(&b);
    rpt_run_free(run);
}

/* The file rpt_write_all writes validates against the XSD, and a broken one does not. */
static void test_rpt_junit_xsd(void **state)
{
    (void)state;
    char xsd[PATH_MAX], dir[PATH_MAX], cmd[PATH_MAX * 3];
    if (find_xsd(xsd) != 0 || !env_have("xmllint")) {
        print_message("SKIPPED: junit.xsd or xmllint not found\n");
        skip();
    }
    ENV_WRITE_FIXTURE(dir);
    char *out = NULL;
    snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s' '%s/junit.xml'", xsd, dir);
    int st = env_run(cmd, &out);
    if (st != 0) {
        print_error("%s\n", out);
    }
    assert_int_equal(st, 0);
    free(out);
    // Negative control: a testcase without its required name must be rejected.
    snprintf(cmd, sizeof(cmd),
             "sed 's/<testcase classname=\"leakcheck\" name=\"[^\"]*\"/<testcase/' '%s/junit.xml' "
             "> '%s/bad.xml' && xmllint --noout --schema '%s' '%s/bad.xml'",
             dir, dir, xsd, dir);
    assert_int_not_equal(env_run(cmd, NULL), 0);
    env_rmrf(dir);
}

/* A site leaking under the threshold is a warning line in its testcase's <system-out>. */
static void test_rpt_junit_warns_under_threshold(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_site *x = &run->scenarios[1].sites[0];
    x->kind = RPT_KIND_LEAK;
    x->suspect = false;
    x->bytes_per_round = 72;
    run->scenarios[1].threshold_bytes_per_round = 128;
    struct buf b;
    buf_init(&b);
    rpt_junit_render(run, &b);
    assert_int_equal(b.err, 0);
    const char *w = strstr(b.data, "warning: ");
    assert_non_null(w);
    assert_non_null(strstr(w, " leaks +72 B/round, under the threshold of 128 B\n"));
    assert_true(w > strstr(b.data, "name=\"cache fixed"));
    assert_true(strstr(w, "</system-out>") < strstr(w, "</testcase>"));
    assert_null(strstr(b.data, "<failure type=\"leak\" message=\"heap +0"));
    buf_cleanup(&b);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_junit_content),
        cmocka_unit_test(test_rpt_junit_retainers),
        cmocka_unit_test(test_rpt_junit_warns_under_threshold),
        cmocka_unit_test(test_rpt_junit_xsd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
