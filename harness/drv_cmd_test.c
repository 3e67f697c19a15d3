/* SPDX-License-Identifier: MIT */
/* drv_cmd_test.c - unit tests of the command driver: its part of a scenario file, and rounds
 * run with /bin/sh: the environment it sets, a failing command, a command past its deadline. */
#include "drv_cmd.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../util/strv.h"

/* Parses the "driver" object `json` into `cfg` (initialised here). Returns parse's result; the
 * message is in `d`. */
static int parse(const char *json, struct drv_cmd_cfg *cfg, bool *uses_port, struct diag *d)
{
    struct json_ctx c;
    cJSON *dv = NULL;
    memset(d, 0, sizeof(*d));
    json_init(&c, "t.json", d);
    assert_int_equal(json_parse(&c, json, strlen(json), true, &dv), 0);
    json_push(&c, "driver");
    struct drv_parse p = {.json = &c, .dir = "/scn", .uses_port = uses_port};
    drv_cmd_init(cfg);
    int rc = drv_cmd_parse(&p, dv, cfg);
    cJSON_Delete(dv);
    return rc;
}

/* A driver running `script` under /bin/sh, with `env` added (NULL-terminated, may be NULL). */
static struct drv *sh_driver(const char *script, char **env, int timeout_ms)
{
    char sh[] = "/bin/sh", c[] = "-c";
    char *argv[] = {sh, c, (char *)(uintptr_t)script, NULL};
    struct drv_cmd_cfg cfg = {.argv = argv, .env = env, .timeout_ms = timeout_ms};
    struct diag d = {{0}};
    struct drv *drv = drv_cmd_new(&cfg, &d);
    if (!drv) {
        fail_msg("drv_cmd_new: %s", d.msg);
    }
    return drv;
}

static void test_drv_cmd_parse_and_save(void **state)
{
    (void)state;
    struct drv_cmd_cfg cfg;
    struct diag d;
    bool port = false;
    assert_int_equal(parse("{\"kind\": \"command\", \"argv\": [\"bin/load\", \"{port}\"],"
                           " \"env\": {\"K\": \"v{round}\"}, \"timeout_s\": 2.5}",
                           &cfg, &port, &d),
                     0);
    assert_true(port);
    assert_true(cfg.argv[0][0] == '/'); /* a relative program is made absolute */
    assert_non_null(strstr(cfg.argv[0], "/bin/load"));
    assert_string_equal(cfg.env[0], "K=v{round}");
    assert_int_equal(cfg.timeout_ms, 2500);
    cJSON *dv = cJSON_CreateObject();
    assert_true(drv_cmd_save(&cfg, dv));
    char *text = cJSON_PrintUnformatted(dv);
    assert_non_null(strstr(text, "\"env\":{\"K\":\"v{round}\"},\"timeout_s\":2.5"));
    free(text);
    cJSON_Delete(dv);
    drv_cmd_cleanup(&cfg);
    assert_null(cfg.argv);
}

static void test_drv_cmd_parse_errors(void **state)
{
    (void)state;
    struct drv_cmd_cfg cfg;
    struct diag d;
    assert_int_equal(parse("{\"kind\": \"command\"}", &cfg, NULL, &d), -EINVAL);
    assert_non_null(strstr(d.msg, "t.json: driver: missing key 'argv'"));
    drv_cmd_cleanup(&cfg);
    assert_int_equal(
        parse("{\"kind\": \"command\", \"argv\": [\"x\"], \"timeout\": 1}", &cfg, NULL, &d),
        -EINVAL);
    assert_non_null(strstr(d.msg, "unknown key 'timeout' (did you mean 'timeout_s'?)"));
    drv_cmd_cleanup(&cfg);
    assert_int_equal(parse("{\"kind\": \"command\", \"argv\": [\"x\", \"{rnd}\"]}", &cfg, NULL, &d),
                     -EINVAL);
    assert_non_null(strstr(d.msg, "driver.argv[1]: unknown placeholder '{rnd}'"));
    drv_cmd_cleanup(&cfg);
}

static void test_drv_cmd_round_environment(void **state)
{
    (void)state;
    char k[] = "X=v-{round}-{port}";
    char *env[] = {k, NULL};
    struct drv *drv = sh_driver("test \"$LEAKCHECK_ROUND\" = 3 && test \"$LEAKCHECK_PORT\" = 4242 "
                                "&& test \"$X\" = v-3-4242",
                                env, 5000);
    struct drv_target t = {.stdin_fd = -1, .stdout_fd = -1, .port = 4242, .pid = 0};
    struct diag d = {{0}};
    uint32_t answered = 99;
    assert_int_equal(drv->ops->round(drv, &t, 3, 5000, &answered, &d), 0);
    assert_int_equal(answered, 0); /* the command driver never hears the target's answers */
    assert_int_equal(drv->ops->round(drv, &t, 4, 5000, &answered, &d), -EIO);
    assert_non_null(strstr(d.msg, "round 4: driver command '/bin/sh' exited with code 1"));
    drv->ops->free(drv);
}

static void test_drv_cmd_round_failure_and_deadline(void **state)
{
    (void)state;
    struct drv_target t = {.stdin_fd = -1, .stdout_fd = -1, .port = 0, .pid = 0};
    struct diag d = {{0}};
    uint32_t answered = 0;
    struct drv *drv = sh_driver("echo first >&2; echo 'last words' >&2; exit 4", NULL, 5000);
    assert_int_equal(drv->ops->round(drv, &t, 2, 5000, &answered, &d), -EIO);
    assert_string_equal(d.msg, "round 2: driver command '/bin/sh' exited with code 4: last words");
    drv->ops->free(drv);
    /* The driver's own timeout is shorter than the round's: it applies. */
    drv = sh_driver("sleep 10", NULL, 100);
    assert_int_equal(drv->ops->round(drv, &t, 1, 5000, &answered, &d), -ETIMEDOUT);
    assert_non_null(strstr(d.msg, "round 1: '/bin/sh' did not finish within 100 ms"));
    drv->ops->free(drv);
}

static void test_drv_cmd_new_without_argv(void **state)
{
    (void)state;
    struct drv_cmd_cfg cfg;
    struct diag d = {{0}};
    drv_cmd_init(&cfg);
    assert_null(drv_cmd_new(&cfg, &d));
    assert_non_null(strstr(d.msg, "command driver: no argv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drv_cmd_parse_and_save),
        cmocka_unit_test(test_drv_cmd_parse_errors),
        cmocka_unit_test(test_drv_cmd_round_environment),
        cmocka_unit_test(test_drv_cmd_round_failure_and_deadline),
        cmocka_unit_test(test_drv_cmd_new_without_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
