/* SPDX-License-Identifier: MIT */
/* file_test.c - unit tests of atomic writes (the old file survives every failure and no
 * temporary is left), capped reads, mkdir -p, file_is_regular() and safe names.
 *
 * Every test works in its own temporary folder. A failing write is made with RLIMIT_FSIZE,
 * which works for root too (permission bits would not).
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fmt.h"

/* nftw callback removing one entry. */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Creates a fresh temporary folder; its path goes to `out` (PATH_MAX). */
static void make_tmpdir(char *out, const char *tag)
{
    const char *base = getenv("TMPDIR");
    fmt_c(out, PATH_MAX, "%s/leakcheck-file-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    assert_non_null(mkdtemp(out));
}

/* Removes a temporary folder and everything in it. */
static void remove_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* `dir`/`name` into out (PATH_MAX). */
static void join(char *out, const char *dir, const char *name)
{
    assert_true(fmt_c(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

/* Number of entries in `dir` besides "." and "..". */
static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

/* Asserts that `path` holds exactly the NUL-terminated `want`. */
static void assert_content(const char *path, const char *want)
{
    char *data = NULL;
    size_t len = 0;
    struct diag d = {{0}};
    assert_int_equal(file_read(path, 1 << 20, &data, &len, &d), 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(data, want);
    free(data);
}

/* A second write replaces the first; the folder holds the one file, mode 0644. */
static void test_file_write_replaces(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "replace");
    join(path, dir, "f.txt");
    assert_int_equal(file_write(path, "one", 3, &d), 0);
    assert_content(path, "one");
    assert_int_equal(file_write(path, "two!", 4, &d), 0);
    assert_content(path, "two!");
    assert_int_equal(count_entries(dir), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    remove_tree(dir);
}

/* No folder: -ENOENT naming the path, nothing created. */
static void test_file_write_missing_folder(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "missing");
    join(path, dir, "missing/f.txt");
    assert_int_equal(file_write(path, "x", 1, &d), -ENOENT);
    assert_non_null(strstr(d.msg, "missing/f.txt: cannot create a temporary file"));
    assert_int_equal(count_entries(dir), 0);
    remove_tree(dir);
}

/* A write cut short by the file size limit fails with -EFBIG; the old file is intact and the
 * temporary is gone. */
static void test_file_write_failure_keeps_old(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "fail");
    join(path, dir, "f.txt");
    assert_int_equal(file_write(path, "old", 3, &d), 0);
    size_t len = 1 << 20;
    char *big = calloc(1, len);
    assert_non_null(big);
    struct rlimit old_lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    struct rlimit lim = {.rlim_cur = 64 * 1024, .rlim_max = old_lim.rlim_max};
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = file_write(path, big, len, &d);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    free(big);
    assert_int_equal(rc, -EFBIG);
    assert_non_null(strstr(d.msg, "f.txt: write failed: "));
    assert_non_null(strstr(d.msg, "the previous file, if any, is unchanged"));
    assert_content(path, "old");
    assert_int_equal(count_entries(dir), 1);
    remove_tree(dir);
}

/* A folder in the way of the rename: the error names it, the folder stays, no temporary. */
static void test_file_write_rename_failure(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX], inner[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "rename");
    join(path, dir, "report.json");
    assert_int_equal(mkdir(path, 0755), 0);
    join(inner, path, "keep");
    assert_int_equal(file_write(inner, "k", 1, &d), 0);
    assert_int_equal(file_write(path, "new", 3, &d), -EISDIR);
    assert_non_null(strstr(d.msg, "report.json: cannot rename the temporary file"));
    assert_int_equal(count_entries(dir), 1);
    assert_content(inner, "k");
    remove_tree(dir);
}

/* file_write_buf(): a failed render writes nothing; an empty buffer gives an empty file. */
static void test_file_write_buf(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "buf");
    join(path, dir, "out.txt");
    struct buf b;
    buf_init(&b);
    b.max = 2;
    buf_puts(&b, "too long");
    assert_int_equal(file_write_buf(&b, path, &d), -EFBIG);
    assert_non_null(strstr(d.msg, "out.txt: cannot render"));
    assert_false(file_is_regular(path));
    buf_cleanup(&b);
    assert_int_equal(file_write_buf(&b, path, &d), 0);
    assert_content(path, "");
    buf_puts(&b, "text");
    assert_int_equal(file_write_buf(&b, path, &d), 0);
    assert_content(path, "text");
    buf_cleanup(&b);
    remove_tree(dir);
}

/* Exactly the cap reads; one byte more is -EFBIG naming the path, *out untouched. Files larger
 * than one read chunk come back whole. */
static void test_file_read_cap(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "read");
    join(path, dir, "in.bin");
    size_t len = 200000;
    char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++) {
        data[i] = (char)(i * 31 + 7);
    }
    assert_int_equal(file_write(path, data, len, &d), 0);
    char *out = (char *)&d;
    size_t out_len = 12345;
    assert_int_equal(file_read(path, len - 1, &out, &out_len, &d), -EFBIG);
    assert_true(out == (char *)&d);
    assert_int_equal(out_len, 12345);
    assert_non_null(strstr(d.msg, path));
    assert_non_null(strstr(d.msg, "larger than the 199999-byte limit"));
    assert_int_equal(file_read(path, len, &out, &out_len, &d), 0);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, data, len);
    assert_int_equal(out[len], '\0');
    free(out);
    free(data);
    remove_tree(dir);
}

/* A missing file is -ENOENT with the path; an empty file is "" (not NULL). */
static void test_file_read_missing_and_empty(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "read0");
    join(path, dir, "none");
    char *out = NULL;
    size_t out_len = 99;
    assert_int_equal(file_read(path, 10, &out, &out_len, &d), -ENOENT);
    assert_null(out);
    assert_int_equal(out_len, 99);
    assert_non_null(strstr(d.msg, "none: cannot open: "));
    assert_int_equal(file_write(path, "", 0, &d), 0);
    assert_int_equal(file_read(path, 0, &out, &out_len, &d), 0);
    assert_non_null(out);
    assert_int_equal(out_len, 0);
    assert_string_equal(out, "");
    free(out);
    remove_tree(dir);
}

/* Nested folders are created, again without error; a file in the way is -ENOTDIR. */
static void test_file_remove_tree(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX], outside[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "rmtree");
    join(path, dir, "t/a/b");
    assert_int_equal(file_mkdirs(path), 0);
    join(path, dir, "t/a/b/f");
    assert_int_equal(file_write(path, "x", 1, &d), 0);
    join(outside, dir, "keep");
    assert_int_equal(file_write(outside, "k", 1, &d), 0);
    join(path, dir, "t/link");
    assert_int_equal(symlink(outside, path), 0); /* removed, not followed */
    join(path, dir, "t");
    assert_int_equal(file_remove_tree(path), 0);
    struct stat st;
    assert_int_equal(lstat(path, &st), -1);
    assert_content(outside, "k");
    assert_int_equal(file_remove_tree(path), 0); /* already gone */
    remove_tree(dir);
}

static void test_file_mkdirs(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX], file[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "mkdirs");
    join(path, dir, "a/b/c");
    assert_int_equal(file_mkdirs(path), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(file_mkdirs(path), 0);
    join(path, dir, "a/b/d/");
    assert_int_equal(file_mkdirs(path), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    join(file, dir, "plain");
    assert_int_equal(file_write(file, "x", 1, &d), 0);
    assert_int_equal(file_mkdirs(file), -ENOTDIR);
    join(path, dir, "plain/sub/deeper");
    assert_int_equal(file_mkdirs(path), -ENOTDIR);
    assert_content(file, "x");
    remove_tree(dir);
}

/* Regular files (also through a link) are; folders, links to them and nothing are not. */
static void test_file_is_regular(void **state)
{
    (void)state;
    char dir[PATH_MAX], file[PATH_MAX], link_f[PATH_MAX], link_d[PATH_MAX], none[PATH_MAX];
    struct diag d = {{0}};
    make_tmpdir(dir, "regular");
    join(file, dir, "f");
    join(link_f, dir, "lf");
    join(link_d, dir, "ld");
    join(none, dir, "none");
    assert_int_equal(file_write(file, "x", 1, &d), 0);
    assert_int_equal(symlink(file, link_f), 0);
    assert_int_equal(symlink(dir, link_d), 0);
    assert_true(file_is_regular(file));
    assert_true(file_is_regular(link_f));
    assert_false(file_is_regular(dir));
    assert_false(file_is_regular(link_d));
    assert_false(file_is_regular(none));
    assert_false(file_is_regular(""));
    remove_tree(dir);
}

/* Names can never leave the report folder or hide. */
static void test_file_safe_name(void **state)
{
    (void)state;
    char out[80];
    file_safe_name("../../etc/passwd", out, sizeof(out));
    assert_null(strstr(out, ".."));
    assert_null(strchr(out, '/'));
    assert_true(out[0] != '.');
    file_safe_name(".hidden", out, sizeof(out));
    assert_string_equal(out, "_hidden");
    file_safe_name("", out, sizeof(out));
    assert_string_equal(out, "scenario");
    file_safe_name(NULL, out, sizeof(out));
    assert_string_equal(out, "scenario");
    file_safe_name("a b|c.d", out, sizeof(out));
    assert_string_equal(out, "a_b_c.d");
    file_safe_name("x...y", out, sizeof(out));
    assert_string_equal(out, "x._.y");
    file_safe_name("caf\xc3\xa9-Ok_9", out, sizeof(out));
    assert_string_equal(out, "caf__-Ok_9");
}

/* At most 64 bytes, and never more than the buffer holds. */
static void test_file_safe_name_lengths(void **state)
{
    (void)state;
    char name[200];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    char out[80];
    file_safe_name(name, out, sizeof(out));
    assert_int_equal(strlen(out), 64);
    char small[8];
    memset(small, '#', sizeof(small));
    file_safe_name(name, small, 5);
    assert_string_equal(small, "nnnn");
    assert_int_equal(small[5], '#');
    file_safe_name("", small, 4);
    assert_string_equal(small, "sce");
    small[0] = '#';
    file_safe_name("x", small, 0);
    assert_int_equal(small[0], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_write_replaces),
        cmocka_unit_test(test_file_write_missing_folder),
        cmocka_unit_test(test_file_write_failure_keeps_old),
        cmocka_unit_test(test_file_write_rename_failure),
        cmocka_unit_test(test_file_write_buf),
        cmocka_unit_test(test_file_read_cap),
        cmocka_unit_test(test_file_read_missing_and_empty),
        cmocka_unit_test(test_file_mkdirs),
        cmocka_unit_test(test_file_remove_tree),
        cmocka_unit_test(test_file_is_regular),
        cmocka_unit_test(test_file_safe_name),
        cmocka_unit_test(test_file_safe_name_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
