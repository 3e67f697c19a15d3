/* SPDX-License-Identifier: MIT */
/* drv_stdio_test.c - unit tests of the stdio driver: its part of a scenario file, and rounds
 * against small shell targets started with util/spawn: `tee FILE` answers every line and keeps
 * what it got, `cat >/dev/null` never answers, `exit 0` ends at once. */
#include "drv_stdio.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../util/file.h"
#include "../util/spawn.h"

/* A target started with piped stdin and stdout. */
struct tgt {
    struct spawn_child c;
    struct drv_target t;
};

static void tgt_start(struct tgt *x, const char *script)
{
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char *argv[] = {sh, dash_c, (char *)(uintptr_t)script, NULL};
    struct spawn_opts o = {.argv = argv, .io = {SPAWN_PIPE, SPAWN_PIPE, SPAWN_NULL}};
    struct diag d = {{0}};
    if (spawn_start(&o, &x->c, &d) != 0) {
        fail_msg("spawn_start: %s", d.msg);
    }
    x->t = (struct drv_target){
        .stdin_fd = x->c.fd[0], .stdout_fd = x->c.fd[1], .port = 4242, .pid = (int)x->c.pid};
}

/* Closes the target's stdin and waits for it to end: every target here ends at EOF, and tee
 * has written all it got to its file by then. */
static void tgt_stop(struct tgt *x)
{
    spawn_close(&x->c);
    waitpid(x->c.pid, NULL, 0);
}

/* Parses the "driver" object `json` into `cfg` (initialised here) for a scenario in /scn. */
static int parse(const char *json, struct drv_stdio_cfg *cfg, struct diag *d)
{
    struct json_ctx c;
    cJSON *dv = NULL;
    bool port = false;
    memset(d, 0, sizeof(*d));
    json_init(&c, "t.json", d);
    assert_int_equal(json_parse(&c, json, strlen(json), true, &dv), 0);
    json_push(&c, "driver");
    struct drv_parse p = {.json = &c, .dir = "/scn", .uses_port = &port};
    drv_stdio_init(cfg);
    int rc = drv_stdio_parse(&p, dv, cfg);
    cJSON_Delete(dv);
    return rc;
}

/* A temporary file name; the file exists and is empty. */
static void tmp_file(char *path)
{
    strcpy(path, "/tmp/drv_stdio_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

static void test_drv_stdio_parse(void **state)
{
    (void)state;
    struct drv_stdio_cfg cfg;
    struct diag d;
    assert_int_equal(parse("{\"kind\": \"stdio\", \"requests_file\": \"reqs.txt\","
                           " \"requests_per_round\": 3, \"reply_timeout_s\": 1}",
                           &cfg, &d),
                     0);
    assert_string_equal(cfg.requests_file, "/scn/reqs.txt");
    assert_int_equal(cfg.requests_per_round, 3);
    assert_int_equal(cfg.reply_timeout_ms, 1000);
    drv_stdio_cleanup(&cfg);
    assert_int_equal(
        parse("{\"kind\": \"stdio\", \"requests\": [\"a\"], \"requests_file\": \"f\"}", &cfg, &d),
        -EINVAL);
    assert_non_null(strstr(d.msg, "t.json: driver: a stdio driver needs exactly one of "
                                  "'requests', 'requests_file', 'requests_command', found 2"));
    drv_stdio_cleanup(&cfg);
    assert_int_equal(parse("{\"kind\": \"stdio\", \"requests_command\": [\"gen\", \"{n}\"],"
                           " \"requests_per_round\": 0}",
                           &cfg, &d),
                     -EINVAL);
    assert_non_null(strstr(d.msg, "driver.requests_per_round: expected an integer from 1"));
    drv_stdio_cleanup(&cfg);
}

/* Runs rounds[0..n-1] of a stdio driver made from `cfg` against a target that copies its stdin
 * to a file, each answered in full, and checks that the target received exactly `want`. */
static void expect_sent(const struct drv_stdio_cfg *cfg, const uint32_t *rounds, size_t n,
                        const char *want)
{
    char sent[64];
    char script[128];
    tmp_file(sent);
    snprintf(script, sizeof(script), "exec tee %s", sent);
    struct diag d = {{0}};
    struct drv *drv = drv_stdio_new(cfg, &d);
    if (!drv) {
        fail_msg("drv_stdio_new: %s", d.msg);
    }
    struct tgt x;
    tgt_start(&x, script);
    for (size_t i = 0; i < n; i++) {
        uint32_t answered = 0;
        assert_int_equal(drv->ops->round(drv, &x.t, rounds[i], 5000, &answered, &d), 0);
        assert_int_equal(answered, cfg->requests_per_round);
    }
    tgt_stop(&x);
    drv->ops->free(drv);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(file_read(sent, 4096, &got, &len, &d), 0);
    assert_string_equal(got, want);
    free(got);
    unlink(sent);
}

static void test_drv_stdio_round_with_templates(void **state)
{
    (void)state;
    char r0[] = "put k{round}-{i}", r1[] = "get {port}";
    char *reqs[] = {r0, r1};
    struct drv_stdio_cfg cfg = {.requests = reqs, .n_requests = 2, .requests_per_round = 3};
    static const uint32_t rounds[] = {7};
    expect_sent(&cfg, rounds, 1, "put k7-0\nget 4242\nput k7-2\n");
}

static void test_drv_stdio_requests_file_wraps(void **state)
{
    (void)state;
    char reqs[64];
    struct diag d = {{0}};
    tmp_file(reqs);
    assert_int_equal(file_write(reqs, "a\nb\r\nc", 6, &d), 0);
    struct drv_stdio_cfg cfg = {.requests_file = reqs, .requests_per_round = 2};
    static const uint32_t rounds[] = {1, 2};
    expect_sent(&cfg, rounds, 2, "a\nb\nc\na\n"); /* read on through the run, wrapping */
    /* An empty requests file is refused when the driver is made. */
    assert_int_equal(file_write(reqs, "", 0, &d), 0);
    assert_null(drv_stdio_new(&cfg, &d));
    assert_non_null(strstr(d.msg, "is empty (one request per line)"));
    unlink(reqs);
}

static void test_drv_stdio_requests_command(void **state)
{
    (void)state;
    char sh[] = "/bin/sh", c[] = "-c";
    char gen[] = "i=0; while [ $i -lt {n} ]; do echo r{round}-$i; i=$((i+1)); done";
    char *cmd[] = {sh, c, gen, NULL};
    struct drv_stdio_cfg cfg = {.requests_command = cmd, .requests_per_round = 3};
    static const uint32_t rounds[] = {5};
    expect_sent(&cfg, rounds, 1, "r5-0\nr5-1\nr5-2\n");
}
static void test_drv_stdio_target_gone_and_silent(void **state)
{
    (void)state;
    char r0[] = "put {i}";
    char *reqs[] = {r0};
    struct drv_stdio_cfg cfg = {
        .requests = reqs, .n_requests = 1, .requests_per_round = 5, .reply_timeout_ms = 200};
    struct diag d = {{0}};
    struct drv *drv = drv_stdio_new(&cfg, &d);
    assert_non_null(drv);
    struct tgt x;
    uint32_t answered = 99;
    /* A target that ends at once: the round fails with -EPIPE, nothing answered. */
    tgt_start(&x, "exit 0");
    assert_int_equal(drv->ops->round(drv, &x.t, 1, 5000, &answered, &d), -EPIPE);
    assert_int_equal(answered, 0);
    assert_non_null(strstr(d.msg, "round 1: the target "));
    tgt_stop(&x);
    /* A target that reads and never answers (the shell keeps stdout open): no reply in time. */
    tgt_start(&x, "cat >/dev/null; exit 0");
    assert_int_equal(drv->ops->round(drv, &x.t, 2, 5000, &answered, &d), -ETIMEDOUT);
    assert_int_equal(answered, 0);
    assert_non_null(strstr(d.msg, "round 2: no reply within "));
    assert_non_null(strstr(d.msg, " after 0 of 5 replies"));
    // the likely cause and the wait that ran out, by its key
    assert_non_null(strstr(d.msg, "setvbuf(stdout, NULL, _IOLBF, 0)"));
    assert_non_null(strstr(d.msg, "fflush(stdout)"));
    assert_non_null(strstr(d.msg, "raise driver.reply_timeout_s"));
    assert_null(strstr(d.msg, "round_timeout_s"));
    tgt_stop(&x);
    /* Without pipes the driver refuses to run. */
    struct drv_target none = {.stdin_fd = -1, .stdout_fd = -1};
    assert_int_equal(drv->ops->round(drv, &none, 3, 5000, &answered, &d), -EINVAL);
    drv->ops->free(drv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drv_stdio_parse),
        cmocka_unit_test(test_drv_stdio_round_with_templates),
        cmocka_unit_test(test_drv_stdio_requests_file_wraps),
        cmocka_unit_test(test_drv_stdio_requests_command),
        cmocka_unit_test(test_drv_stdio_target_gone_and_silent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
