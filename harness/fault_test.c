/* SPDX-License-Identifier: MIT */
/* fault_test.c - fault injection over the harness and report modules (issue #7).
 *
 * Linked with -Wl,--wrap for malloc, calloc, realloc, strdup, strndup, write, fsync, rename and
 * read (see LDFLAGS_fault_test in the Makefile), so every call our objects make goes through the
 * wrappers below; cJSON's allocations are routed through them with cJSON_InitHooks(). Each test
 * runs a real operation (load a scenario, parse a recorded snapshot stream, read a report, add
 * to and write the history, write every report) once per N with the Nth allocation failing, for
 * every N until an attempt sees no fault, and checks that it returns an error with a message,
 * that nothing leaks (ASan and valgrind passes of `make test`), and that files on disk are
 * either the old version or the complete new one. Write faults (short writes, EINTR, ENOSPC
 * from write, fsync and rename) are injected the same way. Each attempt that saw a fault ends
 * one of two ways, each checked: it failed (an error with a message, nothing returned, files as
 * they were) or it recovered (success, and the result equal to the one of a run without fault).
 * Figures are printed as "fault-figure: OPERATION: N faults injected, N failed cleanly, N
 * recovered whole" lines for docs/RELIABILITY.md.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "../reports/rpt_fixture.h"
#include "../reports/rpt_history.h"
#include "../reports/rpt_json.h"
#include "../reports/rpt_testenv.h"
#include "../util/buf.h"
#include "../util/file.h"
#include "../util/fmt.h"
#include "../reports/rpt_write.h"
#include "scn.h"
#include "session.h"
#include "../analysis/snap.h"

/* ---------------------------------------------------------------- the wrappers */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
ssize_t __real_write(int fd, const void *p, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
ssize_t __real_read(int fd, void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);
ssize_t __wrap_read(int fd, void *p, size_t n);

enum io_mode {
    IO_NONE,
    IO_SHORT,  /* write/read move at most 3 bytes per call */
    IO_EINTR,  /* every other write/read fails with EINTR first */
    IO_ENOSPC, /* the io_at-th write fails with ENOSPC */
    IO_FSYNC,  /* the io_at-th fsync fails with ENOSPC */
    IO_RENAME, /* the io_at-th rename fails with EIO */
};

static struct {
    unsigned long alloc_at_last; /* for messages */
    unsigned long alloc_at;      /* fail the alloc_at-th allocation (1-based); 0 = never */
    unsigned long allocs;
    unsigned long injected;
    enum io_mode io;
    unsigned long io_at;
    unsigned long io_calls;
    unsigned long io_flip;
} fi;

/* True when this allocation is the one to fail. */
static bool alloc_fails(void)
{
    if (fi.alloc_at == 0) {
        return false;
    }
    if (++fi.allocs == fi.alloc_at) {
        fi.injected++;
        errno = ENOMEM;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

/* cJSON's allocator hook (cJSON is a shared library, out of reach of --wrap). */
static void *cjson_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

ssize_t __wrap_write(int fd, const void *p, size_t n)
{
    switch (fi.io) {
    case IO_SHORT:
        return __real_write(fd, p, n < 3 ? n : 3);
    case IO_EINTR:
        if (fi.io_flip++ % 2 == 0) {
            fi.injected++;
            errno = EINTR;
            return -1;
        }
        break;
    case IO_ENOSPC:
        if (++fi.io_calls == fi.io_at) {
            fi.injected++;
            errno = ENOSPC;
            return -1;
        }
        break;
    default:
        break;
    }
    return __real_write(fd, p, n);
}

/* fsync is a no-op here unless a fault is due: thousands of attempts would otherwise wait for
 * the disk; durability is not what these tests check. */
int __wrap_fsync(int fd)
{
    struct stat st;
    // Only files: the folder's fsync after the rename is best effort in file_write().
    if (fi.io == IO_FSYNC && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        ++fi.io_calls == fi.io_at) {
        fi.injected++;
        errno = ENOSPC;
        return -1;
    }
    return 0;
}

int __wrap_rename(const char *from, const char *to)
{
    if (fi.io == IO_RENAME && ++fi.io_calls == fi.io_at) {
        fi.injected++;
        errno = EIO;
        return -1;
    }
    return __real_rename(from, to);
}

ssize_t __wrap_read(int fd, void *p, size_t n)
{
    switch (fi.io) {
    case IO_SHORT:
        return __real_read(fd, p, n < 3 ? n : 3);
    case IO_EINTR:
        if (fi.io_flip++ % 2 == 0) {
            fi.injected++;
            errno = EINTR;
            return -1;
        }
        break;
    default:
        break;
    }
    return __real_read(fd, p, n);
}

/* Arms allocation failure at call `n` (0 disarms) and resets the counters of one attempt. */
static void arm_alloc(unsigned long n)
{
    if (n) {
        fi.alloc_at_last = n;
    }
    fi.alloc_at = n;
    fi.allocs = 0;
}

/* Arms an I/O fault mode for the next attempt. */
static void arm_io(enum io_mode mode, unsigned long at)
{
    fi.io = mode;
    fi.io_at = at;
    fi.io_calls = 0;
    fi.io_flip = 0;
}

/* What the injected faults of one operation did; each is counted once its outcome has been
 * checked. */
struct outcome {
    unsigned long injected;  /* faults injected */
    unsigned long failed;    /* made it return an error with a message, leaving the old state */
    unsigned long recovered; /* were got past: success, with the same result as without fault */
};

/* Prints one figure line for docs/RELIABILITY.md. */
static void figure(const char *op, const struct outcome *o)
{
    printf("fault-figure: %s: %lu faults injected, %lu failed cleanly, %lu recovered whole\n", op,
           o->injected, o->failed, o->recovered);
}

/* Checks that some injected faults reached an error path: an operation whose faults all go
 * unnoticed is not being tested. */
static void check_outcome(const struct outcome *o)
{
    assert_true(o->failed > 0);
}

/* Most attempts per operation (fewer under valgrind, 30 times slower); operations with more
 * allocations are sampled evenly. */
#define MAX_ATTEMPTS (RUNNING_ON_VALGRIND ? 150ul : 1500ul)

/* Step between tested N for an operation of `total` allocations. */
static unsigned long stride(unsigned long total)
{
    unsigned long max = MAX_ATTEMPTS;
    return total <= max ? 1 : (total + max - 1) / max;
}

/* Step of the loops that try every N until one sees no fault (every 5th under valgrind). */
static unsigned long loop_step(void)
{
    return RUNNING_ON_VALGRIND ? 5 : 1;
}

/* ---------------------------------------------------------------- helpers */

/* Reads a whole file into a malloc'ed string (NULL when missing). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_add(&b, chunk, n);
    }
    fclose(f);
    buf_add(&b, "", 0);
    assert_int_equal(b.err, 0);
    if (len) {
        *len = b.len;
    }
    return b.data;
}

/* Number of entries in `dir` whose name holds ".tmp." (left-over temporary files). */
static int count_tmp(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp.")) {
            n++;
        }
        if (e->d_type == DT_DIR && e->d_name[0] != '.') {
            char sub[PATH_MAX];
            snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
            n += count_tmp(sub);
        }
    }
    closedir(d);
    return n;
}

/* The fixture run with a given commit (a different commit makes different report files). */
static struct rpt_run *run_with_commit(const char *commit)
{
    struct rpt_run *run = fix_run();
    free(run->commit);
    run->commit = fix_strdup(commit);
    return run;
}

/* ---------------------------------------------------------------- allocation failure */

/* The text scn_save() writes for `s` (a scenario compared whole), malloc'ed. */
static char *scn_text(const struct scn *s, const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/compare.json", dir);
    assert_int_equal(scn_save(s, path), 0);
    char *text = slurp(path, NULL);
    assert_non_null(text);
    unlink(path);
    return text;
}

/* scn_parse: every allocation of loading a scenario file fails once; a load that still succeeds
 * gives the same scenario as a load without fault. */
static void test_fault_scn_parse_alloc(void **state)
{
    (void)state;
    char dir[PATH_MAX];
    size_t len = 0;
    char *text = slurp("fuzz/corpus/scn/http.json", &len);
    assert_non_null(text);
    env_tmpdir(dir, "fault-parse");
    struct scn *ref = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(text, len, "http.json", &ref, &d), 0);
    char *want = scn_text(ref, dir);
    scn_free(ref);
    struct outcome o = {0};
    for (unsigned long n = 1;; n += loop_step()) {
        struct scn *s = NULL;
        d.msg[0] = '\0';
        fi.injected = 0;
        arm_alloc(n);
        int rc = scn_parse(text, len, "http.json", &s, &d);
        arm_alloc(0);
        if (fi.injected == 0) {
            assert_int_equal(rc, 0); /* no fault: it loads */
            scn_free(s);
            break;
        }
        assert_int_equal(fi.injected, 1);
        o.injected++;
        if (rc == 0) {
            /* The failed allocation was optional (a suggestion, a message): still whole. */
            assert_non_null(s);
            char *got = scn_text(s, dir);
            assert_string_equal(got, want);
            free(got);
            scn_free(s);
            o.recovered++;
        } else {
            assert_true(rc == -ENOMEM || rc == -EINVAL);
            assert_null(s);
            assert_true(d.msg[0] != '\0');
            o.failed++;
        }
    }
    free(want);
    free(text);
    env_rmrf(dir);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("load a scenario (scn_parse)", &o);
}

/* scn_save (scenario.json of a recording): every allocation fails once; the file is either not
 * written (an error) or complete: it loads back and saves to the same text. */
static void test_fault_scn_save_alloc(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX], want_path[PATH_MAX];
    size_t len = 0;
    char *text = slurp("fuzz/corpus/scn/http.json", &len);
    assert_non_null(text);
    struct scn *s = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(text, len, "http.json", &s, &d), 0);
    free(text);
    env_tmpdir(dir, "fault-save");
    snprintf(path, sizeof(path), "%s/scenario.json", dir);
    snprintf(want_path, sizeof(want_path), "%s/want.json", dir);
    assert_int_equal(scn_save(s, want_path), 0);
    char *want = slurp(want_path, NULL);
    struct outcome o = {0};
    for (unsigned long n = 1;; n += loop_step()) {
        unlink(path);
        fi.injected = 0;
        arm_alloc(n);
        int rc = scn_save(s, path);
        arm_alloc(0);
        char *got = slurp(path, NULL);
        assert_int_equal(count_tmp(dir), 0);
        if (fi.injected == 0) {
            assert_int_equal(rc, 0);
            assert_string_equal(got, want);
            free(got);
            break;
        }
        assert_int_equal(fi.injected, 1);
        o.injected++;
        if (rc == 0) {
            assert_non_null(got);
            assert_string_equal(got, want);
            o.recovered++;
        } else {
            assert_int_equal(rc, -ENOMEM);
            assert_null(got); /* nothing half-written */
            o.failed++;
        }
        free(got);
    }
    free(want);
    scn_free(s);
    env_rmrf(dir);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("save a scenario (scn_save, scenario.json of a recording)", &o);
}

/* snap_stream_feed: every allocation of parsing a recorded snapshot stream fails once. */
static void test_fault_snap_feed_alloc(void **state)
{
    (void)state;
    size_t len = 0;
    char *bin = slurp("fuzz/corpus/snap/run5-chunk256.bin", &len);
    assert_non_null(bin);
    assert_true(len > 100);
    const uint8_t *p = (const uint8_t *)bin + 1; /* first byte: the fuzzer's chunk size */
    len--;
    struct snap_stream ref;
    struct diag d = {{0}};
    snap_stream_init(&ref);
    assert_int_equal(snap_stream_feed(&ref, p, len, &d), 0);
    assert_true(ref.n_snaps >= 5);
    struct outcome o = {0};
    for (unsigned long n = 1;; n += loop_step()) {
        struct snap_stream st;
        snap_stream_init(&st);
        d.msg[0] = '\0';
        fi.injected = 0;
        arm_alloc(n);
        int rc = snap_stream_feed(&st, p, len, &d);
        arm_alloc(0);
        if (fi.injected == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(st.n_snaps, ref.n_snaps);
            snap_stream_cleanup(&st);
            break;
        }
        assert_int_equal(fi.injected, 1);
        o.injected++;
        assert_int_equal(rc, -ENOMEM);
        assert_non_null(strstr(d.msg, "out of memory"));
        // What it keeps is the complete snapshots before the failure, as read without fault.
        assert_true(st.n_snaps < ref.n_snaps);
        for (size_t i = 0; i < st.n_snaps; i++) {
            assert_int_equal(st.snaps[i].round, ref.snaps[i].round);
            assert_int_equal(st.snaps[i].n_sites, ref.snaps[i].n_sites);
            assert_memory_equal(st.snaps[i].counters, ref.snaps[i].counters,
                                sizeof(st.snaps[i].counters));
        }
        // Sticky: feeding more after a failure fails the same way, without crashing.
        assert_int_equal(snap_stream_feed(&st, p, 1, &d), -ENOMEM);
        snap_stream_cleanup(&st);
        o.failed++;
    }
    snap_stream_cleanup(&ref);
    free(bin);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("parse a snapshot stream (snap_stream_feed)", &o);
}

/* rpt_json_parse: every allocation of reading a report fails once. */
static void test_fault_report_read_alloc(void **state)
{
    (void)state;
    struct rpt_run *run = fix_run();
    char *text = NULL;
    assert_int_equal(rpt_json_render(run, &text), 0);
    rpt_run_free(run);
    struct outcome o = {0};
    unsigned long total = 0;
    {
        struct rpt_run *probe = NULL;
        struct diag dg = {{0}};
        arm_alloc(ULONG_MAX);
        assert_int_equal(rpt_json_parse(text, "r.json", &probe, &dg), 0);
        total = fi.allocs;
        arm_alloc(0);
        rpt_run_free(probe);
    }
    for (unsigned long n = 1; n <= total; n += stride(total)) {
        struct rpt_run *out = NULL;
        struct diag dg = {{0}};
        fi.injected = 0;
        arm_alloc(n);
        int rc = rpt_json_parse(text, "r.json", &out, &dg);
        arm_alloc(0);
        assert_int_equal(fi.injected, 1);
        o.injected++;
        if (rc == 0) {
            /* an optional allocation: the report read is still whole, it renders the same */
            char *again = NULL;
            assert_int_equal(rpt_json_render(out, &again), 0);
            assert_string_equal(again, text);
            free(again);
            rpt_run_free(out);
            o.recovered++;
        } else {
            assert_true(rc == -ENOMEM || rc == -EINVAL);
            assert_null(out);
            assert_true(dg.msg[0] != '\0');
            o.failed++;
        }
    }
    free(text);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("read a report (rpt_json_parse)", &o);
}

/* rpt_history_parse + rpt_history_add + rpt_history_write: allocation failures anywhere leave
 * the history file as it was, or as the complete new one. */
static void test_fault_history_add_alloc(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag dg = {{0}};
    env_tmpdir(dir, "fault-hist");
    snprintf(path, sizeof(path), "%s/history.jsonl", dir);
    // The old file: one commit; the new one: two.
    struct rpt_run *run1 = run_with_commit("1111111111111111111111111111111111111111");
    struct rpt_run *run2 = run_with_commit("2222222222222222222222222222222222222222");
    struct rpt_history h = {0};
    assert_int_equal(rpt_history_add(&h, run1, NULL, "first", "2024-01-01T00:00:00Z", 0, &dg), 0);
    assert_int_equal(rpt_history_write(&h, path, &dg), 0);
    rpt_history_cleanup(&h);
    size_t old_len = 0, new_len = 0;
    char *old = slurp(path, &old_len);
    char *path2 = NULL;
    {
        char p2[PATH_MAX];
        snprintf(p2, sizeof(p2), "%s/new.jsonl", dir);
        path2 = fix_strdup(p2);
        assert_int_equal(rpt_history_read(path, &h, &dg), 0);
        assert_int_equal(rpt_history_add(&h, run2, NULL, "second", "2024-01-02T00:00:00Z", 0, &dg),
                         0);
        assert_int_equal(rpt_history_write(&h, path2, &dg), 0);
        rpt_history_cleanup(&h);
    }
    char *want_new = slurp(path2, &new_len);
    unlink(path2);
    struct outcome o = {0};
    for (unsigned long n = 1;; n += loop_step()) {
        fi.injected = 0;
        dg.msg[0] = '\0';
        arm_alloc(n);
        int rc = rpt_history_read(path, &h, &dg);
        if (rc == 0) {
            rc = rpt_history_add(&h, run2, NULL, "second", "2024-01-02T00:00:00Z", 0, &dg);
        }
        if (rc == 0) {
            rc = rpt_history_write(&h, path, &dg);
        }
        arm_alloc(0);
        rpt_history_cleanup(&h);
        size_t got_len = 0;
        char *got = slurp(path, &got_len);
        assert_non_null(got);
        assert_int_equal(count_tmp(dir), 0);
        if (fi.injected == 0) {
            assert_int_equal(rc, 0);
            assert_string_equal(got, want_new);
            free(got);
            break;
        }
        assert_int_equal(fi.injected, 1);
        o.injected++;
        if (rc == 0) {
            assert_string_equal(got, want_new);
            o.recovered++;
        } else {
            assert_true(dg.msg[0] != '\0');
            assert_string_equal(got, old); /* the previous history is intact */
            o.failed++;
        }
        free(got);
        // Back to the old file for the next attempt.
        assert_int_equal(file_write(path, old, old_len, &dg), 0);
    }
    free(old);
    free(want_new);
    free(path2);
    rpt_run_free(run1);
    rpt_run_free(run2);
    env_rmrf(dir);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("add to the history (read, add, write)", &o);
}

/* Names of the files rpt_write_all() writes for the fixture, relative to the report dir. */
static size_t report_files(const char *dir, char names[][128], size_t max)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (e->d_type == DT_DIR) {
            char sub[PATH_MAX];
            snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
            DIR *s = opendir(sub);
            assert_non_null(s);
            struct dirent *f;
            while ((f = readdir(s)) != NULL && n < max) {
                if (f->d_name[0] != '.') {
                    snprintf(names[n++], 128, "%.60s/%.60s", e->d_name, f->d_name);
                }
            }
            closedir(s);
        } else {
            snprintf(names[n++], 128, "%.100s", e->d_name);
        }
    }
    closedir(d);
    return n;
}

/* Checks that each report file in `dir` equals its copy in `old_dir` or in `new_dir`, and that
 * no temporary file is left. */
static void check_old_or_new(const char *dir, const char *old_dir, const char *new_dir)
{
    static char names[256][128];
    size_t n = report_files(new_dir, names, 256);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX], po[PATH_MAX], pn[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        snprintf(po, sizeof(po), "%s/%s", old_dir, names[i]);
        snprintf(pn, sizeof(pn), "%s/%s", new_dir, names[i]);
        size_t l = 0, lo = 0, ln = 0;
        char *g = slurp(p, &l), *o = slurp(po, &lo), *w = slurp(pn, &ln);
        assert_non_null(g);
        bool same_old = o && l == lo && memcmp(g, o, l) == 0;
        bool same_new = w && l == ln && memcmp(g, w, l) == 0;
        if (!same_old && !same_new) {
            print_error("%s is neither the old nor the new version (alloc %lu)\n", names[i],
                        fi.alloc_at_last);
            fail();
        }
        free(g);
        free(o);
        free(w);
    }
    assert_int_equal(count_tmp(dir), 0);
}

/* Copies the reports of `from` over those of `to` (restores the old version). */
static void restore(const char *from, const char *to)
{
    static char names[256][128];
    struct diag dg = {{0}};
    size_t n = report_files(from, names, 256);
    for (size_t i = 0; i < n; i++) {
        char pf[PATH_MAX], pt[PATH_MAX];
        snprintf(pf, sizeof(pf), "%s/%s", from, names[i]);
        snprintf(pt, sizeof(pt), "%s/%s", to, names[i]);
        size_t l = 0;
        char *data = slurp(pf, &l);
        assert_non_null(data);
        assert_int_equal(file_write(pt, data, l, &dg), 0);
        free(data);
    }
}

/* Report folders for the write tests: the old set, the new set, and the one under test. */
struct dirs {
    char root[PATH_MAX], old_dir[PATH_MAX], new_dir[PATH_MAX], dir[PATH_MAX];
    struct rpt_run *run_old, *run_new;
};

static void dirs_setup(struct dirs *x)
{
    struct diag dg = {{0}};
    env_tmpdir(x->root, "fault-write");
    snprintf(x->old_dir, sizeof(x->old_dir), "%s/old", x->root);
    snprintf(x->new_dir, sizeof(x->new_dir), "%s/new", x->root);
    snprintf(x->dir, sizeof(x->dir), "%s/out", x->root);
    x->run_old = run_with_commit("1111111111111111111111111111111111111111");
    x->run_new = run_with_commit("2222222222222222222222222222222222222222");
    assert_int_equal(rpt_write_all(x->run_old, x->old_dir, &dg), 0);
    assert_int_equal(rpt_write_all(x->run_new, x->new_dir, &dg), 0);
    assert_int_equal(rpt_write_all(x->run_old, x->dir, &dg), 0);
}

static void dirs_cleanup(struct dirs *x)
{
    rpt_run_free(x->run_old);
    rpt_run_free(x->run_new);
    env_rmrf(x->root);
}

/* rpt_write_all: every allocation of writing all reports fails once (sampled evenly when
 * there are more than MAX_ATTEMPTS); each file is the old or the complete new version. */
static void test_fault_write_all_alloc(void **state)
{
    (void)state;
    struct dirs x;
    struct diag dg = {{0}};
    dirs_setup(&x);
    arm_alloc(ULONG_MAX);
    assert_int_equal(rpt_write_all(x.run_new, x.dir, &dg), 0);
    unsigned long total = fi.allocs;
    arm_alloc(0);
    restore(x.old_dir, x.dir);
    struct outcome o = {0};
    for (unsigned long n = 1; n <= total; n += stride(total)) {
        fi.injected = 0;
        dg.msg[0] = '\0';
        arm_alloc(n);
        int rc = rpt_write_all(x.run_new, x.dir, &dg);
        arm_alloc(0);
        assert_int_equal(fi.injected, 1);
        o.injected++;
        if (rc == 0) {
            check_old_or_new(x.dir, x.new_dir, x.new_dir); /* success: every file is new */
            o.recovered++;
        } else {
            assert_true(rc == -ENOMEM);
            assert_true(dg.msg[0] != '\0');
            check_old_or_new(x.dir, x.old_dir, x.new_dir);
            o.failed++;
        }
        restore(x.old_dir, x.dir);
    }
    dirs_cleanup(&x);
    assert_true(o.injected > 10);
    check_outcome(&o);
    figure("write all reports (rpt_write_all), allocation failure", &o);
}

/* ---------------------------------------------------------------- write faults */

/* Short writes and EINTR on every write: the reports come out complete and identical. */
static void test_fault_write_all_short_eintr(void **state)
{
    (void)state;
    struct dirs x;
    struct diag dg = {{0}};
    dirs_setup(&x);
    unsigned long injected = 0;
    enum io_mode modes[] = {IO_SHORT, IO_EINTR};
    for (int m = 0; m < 2; m++) {
        fi.injected = 0;
        arm_io(modes[m], 0);
        int rc = rpt_write_all(x.run_new, x.dir, &dg);
        arm_io(IO_NONE, 0);
        assert_int_equal(rc, 0);
        check_old_or_new(x.dir, x.new_dir, x.new_dir); /* all new */
        injected += modes[m] == IO_EINTR ? fi.injected : 0;
        restore(x.old_dir, x.dir);
    }
    assert_true(injected > 10);
    printf("fault-figure: %s: %lu faults injected, the reports complete and identical\n",
           "write all reports, EINTR on every other write (and 3-byte short writes)", injected);
    dirs_cleanup(&x);
}

/* ENOSPC from the k-th write, fsync or rename, for every k: a clear error, each file old or new,
 * no temporary file left behind. */
static void test_fault_write_all_enospc(void **state)
{
    (void)state;
    struct dirs x;
    struct diag dg = {{0}};
    dirs_setup(&x);
    enum io_mode modes[] = {IO_ENOSPC, IO_FSYNC, IO_RENAME};
    const char *why[] = {"No space left on device", "No space left on device",
                         "Input/output error"};
    const char *names[] = {"write all reports, ENOSPC from write",
                           "write all reports, ENOSPC from fsync",
                           "write all reports, EIO from rename"};
    for (int m = 0; m < 3; m++) {
        struct outcome o = {0};
        for (unsigned long k = 1;; k++) {
            fi.injected = 0;
            dg.msg[0] = '\0';
            arm_io(modes[m], k);
            int rc = rpt_write_all(x.run_new, x.dir, &dg);
            arm_io(IO_NONE, 0);
            if (fi.injected == 0) {
                assert_int_equal(rc, 0);
                break;
            }
            assert_int_equal(fi.injected, 1);
            o.injected++;
            assert_int_equal(rc, modes[m] == IO_RENAME ? -EIO : -ENOSPC);
            if (!strstr(dg.msg, why[m]) || !strstr(dg.msg, x.dir)) {
                print_error("unclear message: '%s'\n", dg.msg);
                fail();
            }
            check_old_or_new(x.dir, x.old_dir, x.new_dir);
            restore(x.old_dir, x.dir);
            o.failed++;
        }
        assert_true(o.injected >= 10);
        figure(names[m], &o);
    }
    dirs_cleanup(&x);
}

/* A full disk while writing the history: the previous file is intact, the error says so. */
static void test_fault_history_enospc(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag dg = {{0}};
    env_tmpdir(dir, "fault-hist-io");
    snprintf(path, sizeof(path), "%s/history.jsonl", dir);
    struct rpt_run *run1 = run_with_commit("1111111111111111111111111111111111111111");
    struct rpt_run *run2 = run_with_commit("2222222222222222222222222222222222222222");
    struct rpt_history h = {0};
    assert_int_equal(rpt_history_add(&h, run1, NULL, NULL, NULL, 0, &dg), 0);
    assert_int_equal(rpt_history_write(&h, path, &dg), 0);
    assert_int_equal(rpt_history_add(&h, run2, NULL, NULL, NULL, 0, &dg), 0);
    size_t old_len = 0;
    char *old = slurp(path, &old_len);
    enum io_mode modes[] = {IO_ENOSPC, IO_FSYNC, IO_RENAME, IO_SHORT, IO_EINTR};
    struct outcome o = {0};
    for (int m = 0; m < 5; m++) {
        for (unsigned long k = 1; k < 4; k++) {
            fi.injected = 0;
            dg.msg[0] = '\0';
            arm_io(modes[m], k);
            int rc = rpt_history_write(&h, path, &dg);
            arm_io(IO_NONE, 0);
            char *got = slurp(path, NULL);
            assert_int_equal(count_tmp(dir), 0);
            if (modes[m] == IO_SHORT || modes[m] == IO_EINTR) {
                assert_int_equal(rc, 0);
                assert_true(strlen(got) > old_len);
                o.injected += fi.injected;
                o.recovered += fi.injected;
                free(got);
                assert_int_equal(file_write(path, old, old_len, &dg), 0);
                break;
            }
            if (fi.injected == 0) {
                assert_int_equal(rc, 0);
                free(got);
                assert_int_equal(file_write(path, old, old_len, &dg), 0);
                break;
            }
            assert_int_equal(fi.injected, 1);
            o.injected++;
            assert_true(rc == -ENOSPC || rc == -EIO);
            assert_string_equal(got, old);
            assert_non_null(strstr(dg.msg, path));
            assert_non_null(strstr(dg.msg, "the previous file, if any, is unchanged"));
            free(got);
            o.failed++;
        }
    }
    rpt_history_cleanup(&h);
    free(old);
    rpt_run_free(run1);
    rpt_run_free(run2);
    env_rmrf(dir);
    check_outcome(&o);
    figure("write the history, ENOSPC/EIO from write, fsync, rename (and short writes, EINTR)", &o);
}

/* Reading a history file and a report with EINTR and 3-byte reads gives the same result. */
static void test_fault_read_short_eintr(void **state)
{
    (void)state;
    struct diag dg = {{0}};
    unsigned long injected = 0;
    enum io_mode modes[] = {IO_SHORT, IO_EINTR};
    for (int m = 0; m < 2; m++) {
        struct rpt_history h = {0};
        struct rpt_run *run = NULL;
        fi.injected = 0;
        arm_io(modes[m], 0);
        int rc1 = rpt_history_read("fuzz/corpus/history/two-commits.jsonl", &h, &dg);
        int rc2 = rpt_json_read("fuzz/corpus/report/leak.json", &run, &dg);
        arm_io(IO_NONE, 0);
        assert_int_equal(rc1, 0);
        assert_int_equal(rc2, 0);
        assert_int_equal(h.n, 2);
        assert_int_equal(run->n_scenarios, 1);
        injected += fi.injected;
        rpt_history_cleanup(&h);
        rpt_run_free(run);
    }
    assert_true(injected > 2);
    printf("fault-figure: %s: %lu faults injected, the same history and report read\n",
           "read the history and a report, EINTR on every other read (and 3-byte reads)", injected);
}

/* Path of a build output: under $B when it is there, else under build/debug (the sanitizer
 * build has no agent of its own: a sanitizer runtime cannot share a process with it). */
static void build_file(char *out, size_t len, const char *rel)
{
    const char *b = getenv("B");
    snprintf(out, len, "%s/%s", b && *b ? b : "build/debug", rel);
    if (access(out, F_OK) != 0) {
        snprintf(out, len, "build/debug/%s", rel);
    }
}

/* A whole run (target, agent channel, stdio driver) with every read of the harness returning
 * at most 3 bytes, then with every other read and write failing with EINTR: the same rounds
 * complete and the leak is found. */
static void test_fault_channel_short_eintr(void **state)
{
    (void)state;
    char agent[PATH_MAX], kv[PATH_MAX], dir[PATH_MAX], text[PATH_MAX + 512];
    build_file(agent, sizeof(agent), "libleakcheck-agent.so");
    build_file(kv, sizeof(kv), "targets/stdio_kv");
    if (access(agent, R_OK) != 0 || access(kv, X_OK) != 0) {
        skip(); /* run `make build` first */
    }
    snprintf(text, sizeof(text),
             "{\"name\": \"kv\", \"target\": {\"argv\": [\"%s\", \"--leak\"]}, "
             "\"driver\": {\"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\"], "
             "\"requests_per_round\": 20}, \"rounds\": 6, \"warmup\": 1, "
             "\"expect\": \"leak\"}",
             kv);
    struct scn *sc = NULL;
    struct diag d = {{0}};
    assert_int_equal(scn_parse(text, strlen(text), NULL, &sc, &d), 0);
    enum io_mode modes[] = {IO_SHORT, IO_EINTR};
    const char *names[] = {"a whole run, every read of the harness 3 bytes at most",
                           "a whole run, EINTR on every other read and write of the harness"};
    for (int m = 0; m < 2; m++) {
        env_tmpdir(dir, "fault-run");
        struct session_opts o = {.agent_path = agent, .out_dir = dir};
        struct rpt_scenario out;
        char *agent_version = NULL;
        memset(&out, 0, sizeof(out));
        fi.injected = 0;
        arm_io(modes[m], 0);
        int rc = session_run(sc, &o, &out, &agent_version, &d);
        arm_io(IO_NONE, 0);
        unsigned long injected = fi.injected;
        assert_int_equal(rc, 0);
        if (out.verdict != RPT_VERDICT_LEAK || out.n_rounds != 7) {
            print_error("verdict %s after %zu rounds: %s\n", rpt_verdict_name(out.verdict),
                        out.n_rounds,
                        out.error    ? out.error
                        : out.reason ? out.reason
                                     : "");
            fail();
        }
        rpt_scenario_cleanup(&out);
        free(agent_version);
        env_rmrf(dir);
        if (modes[m] == IO_EINTR) {
            assert_true(injected > 10);
            printf("fault-figure: %s: %lu faults injected, 7 rounds complete, leak found\n",
                   names[m], injected);
        } else {
            printf("fault-figure: %s: 7 rounds complete, leak found\n", names[m]);
        }
    }
    scn_free(sc);
}

static int setup_hooks(void **state)
{
    (void)state;
    cJSON_Hooks hooks = {.malloc_fn = cjson_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_scn_parse_alloc),
        cmocka_unit_test(test_fault_scn_save_alloc),
        cmocka_unit_test(test_fault_snap_feed_alloc),
        cmocka_unit_test(test_fault_report_read_alloc),
        cmocka_unit_test(test_fault_history_add_alloc),
        cmocka_unit_test(test_fault_write_all_alloc),
        cmocka_unit_test(test_fault_write_all_short_eintr),
        cmocka_unit_test(test_fault_write_all_enospc),
        cmocka_unit_test(test_fault_history_enospc),
        cmocka_unit_test(test_fault_read_short_eintr),
        cmocka_unit_test(test_fault_channel_short_eintr),
    };
    return cmocka_run_group_tests(tests, setup_hooks, NULL);
}
