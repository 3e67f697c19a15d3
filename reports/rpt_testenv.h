/* SPDX-License-Identifier: MIT */
/* rpt_testenv.h - test-only helpers for the report tests: temporary folders, running a real
 * consumer (xmllint, go tool pprof, chromium, ajv) and capturing its output, finding files of
 * the source tree. Included by reports/ *_test.c and tests/it_reports.c.
 */
#ifndef REPORTS_RPT_TESTENV_H
#define REPORTS_RPT_TESTENV_H

// Test paths are PATH_MAX buffers; a truncated one simply fails the test.
#pragma GCC diagnostic ignored "-Wformat-truncation"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* nftw callback removing one entry. */
__attribute__((unused)) static int env_rm_one(const char *path, const struct stat *st, int flag,
                                              struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Removes a folder tree (best effort). */
__attribute__((unused)) static void env_rmrf(const char *dir)
{
    nftw(dir, env_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Creates a fresh temporary folder; stores its path in out (PATH_MAX). Aborts on failure. */
__attribute__((unused)) static void env_tmpdir(char *out, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, PATH_MAX, "%s/leakcheck-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(out)) {
        abort();
    }
}

/* Runs `cmd` with /bin/sh, output (stdout+stderr) captured into a malloc'ed string in *out
 * (may be NULL). Returns the exit status, or -1 when it could not run / was killed. */
__attribute__((unused)) static int env_run(const char *cmd, char **out)
{
    char full[8192];
    snprintf(full, sizeof(full), "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        abort();
    }
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) {
                abort();
            }
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out) {
        *out = buf;
    } else {
        free(buf);
    }
    if (st == -1 || !WIFEXITED(st)) {
        return -1;
    }
    return WEXITSTATUS(st);
}

/* True when `prog` is on PATH. */
__attribute__((unused)) static int env_have(const char *prog)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", prog);
    return env_run(cmd, NULL) == 0;
}

/* Finds `rel` (a path relative to the repository root, or starting with "../" for a sibling of
 * it) from the current folder or from the test binary's location (build/<cfg>/<kind>/<dir>/x).
 * Stores an absolute or cwd-relative path in out (PATH_MAX); returns 0, or -1 if not found. */
__attribute__((unused)) static int env_find(const char *rel, char *out)
{
    if (access(rel, R_OK) == 0) {
        snprintf(out, PATH_MAX, "%s", rel);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 6; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) {
                break;
            }
            *slash = '\0';
            snprintf(out, PATH_MAX, "%s/%s", exe, rel);
            if (access(out, R_OK) == 0) {
                return 0;
            }
        }
    }
    return -1;
}

/* Counts occurrences of `needle` in `hay`. */
__attribute__((unused)) static size_t env_count(const char *hay, const char *needle)
{
    size_t c = 0;
    size_t n = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + n, needle)) {
        c++;
    }
    return c;
}

/* Reads a whole file into a malloc'ed string (NULL when it can't). */
__attribute__((unused)) static char *env_slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 65536, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
    }
    if (len_out) {
        *len_out = len;
    }
    return buf;
}

/* Runs a command with the environment a headless Chromium needs, writing nothing outside a
 * fresh profile folder. `what` is "--screenshot=PNG --window-size=900,500" or "--dump-dom".
 * Returns the exit status; the output (DOM or log) in *out. */
__attribute__((unused)) static int env_chromium(const char *what, const char *file, char **out)
{
    char prof[PATH_MAX], cmd[PATH_MAX * 3];
    env_tmpdir(prof, "chromium");
    snprintf(cmd, sizeof(cmd),
             "HOME='%s' timeout 120 chromium --headless --no-sandbox --disable-gpu "
             "--disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync --disable-dev-shm-usage "
             "--user-data-dir='%s' %s 'file://%s' 2>/dev/null",
             prof, prof, what, file);
    int st = env_run(cmd, out);
    env_rmrf(prof);
    return st;
}

/* Writes every report of the fixture into a fresh temporary folder (stored in dir). */
#define ENV_WRITE_FIXTURE(dir)                                                                     \
    do {                                                                                           \
        struct diag dg_ = {{0}};                                                                   \
        struct rpt_run *run_ = fix_run();                                                          \
        env_tmpdir(dir, "rpt");                                                                    \
        if (rpt_write_all(run_, dir, &dg_) != 0) {                                                 \
            print_error("rpt_write_all: %s\n", dg_.msg);                                           \
            fail();                                                                                \
        }                                                                                          \
        rpt_run_free(run_);                                                                        \
    } while (0)

#endif
