/* SPDX-License-Identifier: MIT */
/* rpt_pprof_test.c - pprof profiles read by the real `go tool pprof` (offline, private
 * HOME/GOCACHE), plus wire-format checks. */
#include "rpt_pprof.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rpt_fixture.h"
#include "rpt_testenv.h"
#include "rpt_write.h"

/* Runs go tool pprof with `args` on `file`; returns its output (caller frees). */
static char *go_pprof(const char *args, const char *file, const char *home, int *st)
{
    char cmd[PATH_MAX * 3];
    char *out = NULL;
    snprintf(cmd, sizeof(cmd),
             "HOME='%s' GOCACHE='%s/cache' GOPATH='%s/gopath' GOPROXY=off GOFLAGS=-mod=mod "
             "GOTOOLCHAIN=local PPROF_TMPDIR='%s' PPROF_BINARY_PATH='%s' timeout 120 "
             "go tool pprof %s '%s'",
             home, home, home, home, home, args, file);
    *st = env_run(cmd, &out);
    return out;
}

/* First data row of -top output (the line after the "flat  flat%" header). */
__attribute__((noinline)) static const char *first_row(const char *out)
{
    const char *h = strstr(out, "flat  flat%");
    if (!h) {
        return NULL;
    }
    const char *nl = strchr(h, '\n');
    return nl ? nl + 1 : NULL;
}

/* The culprit is first by flat inuse_space in both profiles. */
static void test_rpt_pprof_go_tool_top(void **state)
{
    (void)state;
    if (!env_have("go")) {
        print_message("SKIPPED: go not found (Debian package golang-go)\n");
        skip();
    }
    char dir[PATH_MAX], home[PATH_MAX], file[PATH_MAX * 2];
    ENV_WRITE_FIXTURE(dir);
    env_tmpdir(home, "gohome");
    const char *files[] = {"heap.pb.gz", "growth.pb.gz"};
    for (int i = 0; i < 2; i++) {
        int st;
        snprintf(file, sizeof(file), "%s/uploads-leaky/%s", dir, files[i]);
        // -noinlines: flat goes to the function the code belongs to (keep_upload), not to the
        // helper inlined into it.
        char *out = go_pprof("-top -inuse_space -noinlines", file, home, &st);
        const char *row = first_row(out);
        if (st != 0 || !row || !strstr(row, "keep_upload")) {
            print_error("%s: %s\n", files[i], out);
        }
        assert_int_equal(st, 0);
        assert_non_null(row);
        assert_non_null(strstr(row, "keep_upload"));
        // The malloc wrapper is dropped, the comments say what was measured.
        assert_null(strstr(out, " malloc\n"));
        assert_non_null(strstr(out, i == 0 ? "final heap after round 15"
                                           : "round 4 (first measured) to round 15"));
        free(out);
        // With inlined frames shown, the inlined helper is the leaf of the same location.
        out = go_pprof("-top -inuse_space", file, home, &st);
        assert_int_equal(st, 0);
        assert_non_null(strstr(first_row(out), "copy_chunk (inline)"));
        free(out);
    }
    // Growth holds only the sites that grew: the suppressed one-time site is not in it.
    int st;
    snprintf(file, sizeof(file), "%s/uploads-leaky/growth.pb.gz", dir);
    char *out = go_pprof("-traces", file, home, &st);
    assert_int_equal(st, 0);
    assert_null(strstr(out, "lazy_init_tables"));
    free(out);
    snprintf(file, sizeof(file), "%s/uploads-leaky/heap.pb.gz", dir);
    out = go_pprof("-traces", file, home, &st);
    assert_non_null(strstr(out, "lazy_init_tables"));
    free(out);
    env_rmrf(home);
    env_rmrf(dir);
}

/* Wire details: gzip magic, string_table[0] == "", deterministic output. */
static void test_rpt_pprof_wire(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct buf a, b, raw;
    buf_init(&a);
    buf_init(&b);
    buf_init(&raw);
    rpt_pprof_render(run, &run->scenarios[0], RPT_PPROF_HEAP, &a);
    rpt_pprof_render(run, &run->scenarios[0], RPT_PPROF_HEAP, &b);
    assert_int_equal(a.err, 0);
    assert_true(a.len > 20);
    assert_int_equal((unsigned char)a.data[0], 0x1f);
    assert_int_equal((unsigned char)a.data[1], 0x8b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    rpt_pprof_encode(run, &run->scenarios[0], RPT_PPROF_HEAP, &raw);
    // The first string_table entry (field 6, wire type 2) is empty: key 0x32, length 0.
    const unsigned char *p = (const unsigned char *)memchr(raw.data, 0x32, raw.len);
    size_t found = 0;
    for (size_t i = 0; i + 1 < raw.len; i++) {
        if ((unsigned char)raw.data[i] == 0x32 && raw.data[i + 1] == 0) {
            found = i;
            break;
        }
    }
    (void)p;
    assert_true(found > 0);
    buf_cleanup(&a);
    buf_cleanup(&b);
    buf_cleanup(&raw);
    rpt_run_free(run);
}

/* A frame nothing names is object+0xoffset in the profile too, never a bare address. */
static void test_rpt_pprof_unnamed_frame_is_object_offset(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    struct rpt_site *site = &run->scenarios[0].sites[0];
    struct rpt_frame *f = &site->frames[site->n_frames - 1];
    free(f->function);
    free(f->system_name);
    f->function = NULL;
    f->system_name = NULL;
    f->object_offset = 0x1a2b;
    struct buf raw;
    buf_init(&raw);
    rpt_pprof_encode(run, &run->scenarios[0], RPT_PPROF_HEAP, &raw);
    assert_int_equal(raw.err, 0);
    static const char want[] = "server+0x1a2b";
    assert_non_null(memmem(raw.data, raw.len, want, sizeof(want) - 1));
    buf_cleanup(&raw);
    rpt_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpt_pprof_go_tool_top),
        cmocka_unit_test(test_rpt_pprof_wire),
        cmocka_unit_test(test_rpt_pprof_unnamed_frame_is_object_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
