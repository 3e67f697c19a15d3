/* SPDX-License-Identifier: MIT */
/* it_outputs.c - integration test: memory outside malloc, the RSS warning, bad inputs, and
 * nothing lost when the disk or the input is bad.
 *
 * Runs the real `leakcheck` ($B/leakcheck) on tests/cases and tests/targets and checks:
 *   - sites of their own source: an mmap leak is an "mmap" site, an sbrk leak a "brk" one, and
 *     glibc's own mapping of a 1 MiB malloc block is counted once, as malloc;
 *   - RSS growing with a flat heap gives a warning with its figure in the terminal, report.json,
 *     summary.md and the annotations, and is not a leak;
 *   - every round's snapshot time is in the verbose table and report.json, and `analyze` of the
 *     recording gives the same figures;
 *   - bad scenario files (a NUL in argv, a duplicate key, invalid UTF-8) exit 2 naming the file
 *     and the key, and a FIFO as requests file is refused at once;
 *   - every file a run and `history add` write is valid UTF-8, and every JSON file parses with a
 *     strict parser (util/json here; Python's json, strict, when python3 is installed), even
 *     when the scenario's name and the commit message are not UTF-8;
 *   - on a full disk (a 8 KiB tmpfs in a private mount namespace; skipped with the reason where
 *     mounts are not permitted): the run says what the recording lost and what it holds, the
 *     verdict table still reaches the terminal, and `analyze` of the cut recording says it was
 *     cut.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>

#include "../util/json.h"
#include "it_util.h"

#define OUT_ROOT "build/it-outputs"

static char leakcheck[PATH_MAX];

/* Runs leakcheck with `args` (NULL-terminated, after the program name); fills *r. */
static void run_lc(const char *const *args, struct it_result *r)
{
    char *argv[32];
    size_t n = 0;
    argv[n++] = leakcheck;
    for (size_t i = 0; args[i] && n + 1 < 32; i++) {
        argv[n++] = (char *)(uintptr_t)args[i];
    }
    argv[n] = NULL;
    assert_int_equal(it_run(argv, NULL, NULL, 120, r), 0);
}

/* Fails the test showing the output unless `r` holds `needle`. */
static void expect_out(const struct it_result *r, const char *needle)
{
    if (!r->out || !strstr(r->out, needle)) {
        print_error("output:\n%s\nwanted: %s\n", r->out ? r->out : "(none)", needle);
    }
    assert_non_null(r->out);
    assert_non_null(strstr(r->out, needle));
}

/* Runs scenario file `file` into OUT_ROOT/`dir` and returns its report (caller frees). */
static cJSON *run_case(const char *file, const char *dir, struct it_result *r)
{
    char out[PATH_MAX];
    snprintf(out, sizeof(out), OUT_ROOT "/%s", dir);
    const char *args[] = {"run", "--report-dir", out, file, NULL};
    run_lc(args, r);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/report.json", out);
    char *text = it_read_file(path, NULL);
    if (!text) {
        print_error("no %s; output:\n%s\n", path, r->out);
    }
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    return root;
}

/* The first scenario of a report. */
static const cJSON *scenario0(const cJSON *report)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(report, "scenarios"), 0);
}

/* A string member, or "". */
static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---------------------------------------------------------------- memory outside malloc */

/* The top site of an mmap leak is an "mmap" site at keep_mapping; of an sbrk leak a "brk" site
 * at take_break. */
static void test_sources(void **state)
{
    (void)state;
    struct it_result r;
    cJSON *rep = run_case("tests/cases/sysmem-mmap-leak.json", "mmap-leak", &r);
    const cJSON *site = cJSON_GetArrayItem(cJSON_GetObjectItem(scenario0(rep), "sites"), 0);
    assert_string_equal(str(site, "source"), "mmap");
    assert_string_equal(str(site, "function"), "keep_mapping");
    assert_true(fabs(cJSON_GetObjectItem(site, "bytes_per_round")->valuedouble - 81920) < 1);
    free(r.out);
    cJSON_Delete(rep);
    rep = run_case("tests/cases/sysmem-sbrk-leak.json", "sbrk-leak", &r);
    site = cJSON_GetArrayItem(cJSON_GetObjectItem(scenario0(rep), "sites"), 0);
    assert_string_equal(str(site, "source"), "brk");
    assert_string_equal(str(site, "function"), "take_break");
    free(r.out);
    cJSON_Delete(rep);
}

/* glibc maps a 1 MiB malloc block through its own entry point: the block is counted once (as
 * malloc, 1 MiB a round), and no mmap site grows. */
static void test_glibc_mappings_not_counted_twice(void **state)
{
    (void)state;
    struct it_result r;
    cJSON *rep = run_case("tests/cases/sysmem-big-malloc.json", "big-malloc", &r);
    const cJSON *sc = scenario0(rep);
    double growth = cJSON_GetObjectItem(sc, "growth_bytes_per_round")->valuedouble;
    if (growth < 1048576 || growth > 1048576 + 4096) {
        print_error("whole-heap growth %.0f B/round, expected 1 MiB\n", growth);
    }
    assert_true(growth >= 1048576 && growth <= 1048576 + 4096);
    const cJSON *site;
    cJSON_ArrayForEach(site, cJSON_GetObjectItem(sc, "sites"))
    {
        if (strcmp(str(site, "source"), "malloc") != 0) {
            assert_true(cJSON_GetObjectItem(site, "bytes_per_round")->valuedouble <= 0);
        }
    }
    site = cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "sites"), 0);
    assert_string_equal(str(site, "source"), "malloc");
    assert_string_equal(str(site, "function"), "keep_big_block");
    free(r.out);
    cJSON_Delete(rep);
}

/* RSS that grows with a flat heap: no leak, and a warning with the figure everywhere. */
static void test_rss_warning(void **state)
{
    (void)state;
    struct it_result r;
    cJSON *rep = run_case("tests/cases/fragment-rss.json", "fragment", &r);
    assert_int_equal(r.exit_code, 0);
    expect_out(&r, "    warning: RSS grows +");
    expect_out(&r, "is not in tracked blocks (allocator fragmentation, an untracked allocator, "
                   "or direct system calls)");
    const cJSON *sc = scenario0(rep);
    assert_string_equal(str(sc, "verdict"), "no-leak");
    assert_non_null(strstr(str(sc, "rss_warning"), "while the tracked memory grows +0 B/round"));
    assert_true(cJSON_GetObjectItem(sc, "untracked_bytes_per_round")->valuedouble >= 4096);
    free(r.out);
    char *md = it_read_file(OUT_ROOT "/fragment/summary.md", NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "Warning: RSS grows \\+"));
    free(md);
    const char *args[] = {"report", "annotations", OUT_ROOT "/fragment/report.json", NULL};
    run_lc(args, &r);
    expect_out(&r, "::warning title=leakcheck%3A fragment-rss%3A memory outside tracked blocks "
                   "grows::RSS grows +");
    free(r.out);
    cJSON_Delete(rep);
}

/* ---------------------------------------------------------------- snapshot times */

/* rounds[].snapshot_seconds of report `path`, one per round, into t[0..cap); returns the count
 * of rounds (a round without the key gives -1). */
static size_t snap_times(const char *path, double *t, size_t cap)
{
    char *text = it_read_file(path, NULL);
    assert_non_null(text);
    cJSON *rep = cJSON_Parse(text);
    free(text);
    assert_non_null(rep);
    size_t n = 0;
    const cJSON *ro;
    cJSON_ArrayForEach(ro, cJSON_GetObjectItem(scenario0(rep), "rounds"))
    {
        const cJSON *v = cJSON_GetObjectItem(ro, "snapshot_seconds");
        if (n < cap) {
            t[n] = cJSON_IsNumber(v) ? v->valuedouble : -1;
        }
        n++;
    }
    cJSON_Delete(rep);
    return n;
}

/* A run of a process tree (a shell and the program it starts) times every round's snapshot:
 * the verbose table shows it, report.json has a positive snapshot_seconds for each round, and
 * `analyze` of the recording gives the same figures. */
static void test_snapshot_seconds(void **state)
{
    (void)state;
    struct it_result r;
    const char *args[] = {
        "run", "-v", "--report-dir", OUT_ROOT "/snaptime", "tests/cases/exec-spawn-leak.json",
        NULL};
    run_lc(args, &r);
    assert_int_equal(r.exit_code, 0);
    expect_out(&r, "work (ms)  snap (ms)");
    free(r.out);
    double run_t[64], back_t[64];
    size_t n = snap_times(OUT_ROOT "/snaptime/report.json", run_t, 64);
    assert_int_equal(n, 10); /* 2 warm-up + 8 measured */
    for (size_t i = 0; i < n; i++) {
        if (!(run_t[i] > 0 && run_t[i] < 30)) {
            print_error("round %zu: snapshot_seconds %g\n", i + 1, run_t[i]);
        }
        assert_true(run_t[i] > 0 && run_t[i] < 30);
    }
    const char *again[] = {"analyze", "--report-dir", OUT_ROOT "/snaptime-analyze",
                           OUT_ROOT "/snaptime/exec-spawn-leak/snapshots.bin", NULL};
    run_lc(again, &r);
    assert_int_equal(r.exit_code, 0);
    free(r.out);
    assert_int_equal(snap_times(OUT_ROOT "/snaptime-analyze/report.json", back_t, 64), n);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(back_t[i] - run_t[i]) < 1e-9);
    }
}

/* ---------------------------------------------------------------- bad inputs */

/* Writes `text` (len bytes) to OUT_ROOT/`name`, returning the path in `path`. */
static void write_input(const char *name, const char *text, size_t len, char *path, size_t cap)
{
    snprintf(path, cap, OUT_ROOT "/%s", name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Bad scenario files exit 2 with the file and the key in the message. */
static void test_bad_inputs(void **state)
{
    (void)state;
    static const struct {
        const char *file, *text, *message;
    } cases[] = {
        {"nul-argv.json",
         "{\"name\": \"a\", \"target\": {\"argv\": [\"prog\\u0000evil\"]}, \"driver\": "
         "{\"kind\": \"stdio\", \"requests\": [\"x\"]}}",
         "nul-argv.json: target.argv[0]: a string holds a NUL character (\\u0000); strings may "
         "not contain NUL (line 1, column 40)"},
        {"dup-key.json",
         "{\"name\": \"a\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": {\"kind\": "
         "\"stdio\", \"requests\": [\"x\"]}, \"rounds\": 4, \"rounds\": 40}",
         "dup-key.json: duplicate key 'rounds' (first at line 1); each key may appear once"},
        {"utf8-name.json",
         "{\"name\": \"caf\xe9\", \"target\": {\"argv\": [\"/bin/cat\"]}, \"driver\": {\"kind\": "
         "\"stdio\", \"requests\": [\"x\"]}}",
         "utf8-name.json: name: not valid UTF-8 (byte 0xe9); text must be UTF-8 (line 1, column "
         "14)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[PATH_MAX];
        write_input(cases[i].file, cases[i].text, strlen(cases[i].text), path, sizeof(path));
        struct it_result r;
        const char *args[] = {"run", "--report-dir", OUT_ROOT "/bad", path, NULL};
        run_lc(args, &r);
        assert_int_equal(r.exit_code, 2);
        expect_out(&r, cases[i].message);
        free(r.out);
    }
}

/* A FIFO with no writer as requests file: refused at once (exit 2), no hang. */
static void test_fifo_requests_refused(void **state)
{
    (void)state;
    const char *fifo = OUT_ROOT "/requests.fifo";
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    struct it_result r;
    char kv[PATH_MAX];
    it_build_path(kv, sizeof(kv), "targets/stdio_kv");
    const char *args[] = {
        "run",          "--rounds",       "4",  "--warmup", "1", "--requests-file", fifo,
        "--report-dir", OUT_ROOT "/fifo", "--", kv,         NULL};
    run_lc(args, &r);
    assert_false(r.timed_out);
    assert_int_equal(r.exit_code, 2);
    expect_out(&r, "requests file 'build/it-outputs/requests.fifo' is not a regular file (it is a "
                   "FIFO)");
    free(r.out);
    unlink(fifo);
}

/* ---------------------------------------------------------------- outputs */

/* Fails unless every byte of `path` is valid UTF-8. */
static void expect_utf8_file(const char *path)
{
    size_t len = 0;
    char *text = it_read_file(path, &len);
    assert_non_null(text);
    size_t ok = json_utf8_valid_prefix(text, len);
    if (ok != len) {
        print_error("%s: not valid UTF-8 at byte %zu\n", path, ok);
    }
    assert_int_equal(ok, len);
    free(text);
}

/* Fails unless `path` (a JSON file, or JSON Lines when `lines`) parses with util/json's strict
 * reader (no invalid UTF-8, NUL, duplicate key or deep nesting; cJSON's syntax). */
static void expect_strict_json(const char *path, bool lines)
{
    size_t len = 0;
    char *text = it_read_file(path, &len);
    assert_non_null(text);
    char *p = text;
    while (p < text + len) {
        char *end = lines ? strchr(p, '\n') : NULL;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (end) {
            *end = '\0';
        }
        struct json_ctx c;
        struct diag d = {{0}};
        cJSON *root = NULL;
        json_init(&c, path, &d);
        if (json_parse(&c, p, n, true, &root) != 0) {
            print_error("%s\n", d.msg);
        }
        assert_non_null(root);
        cJSON_Delete(root);
        p += n + 1;
    }
    free(text);
}

/* Checks every file under `dir`: UTF-8 (text files), strict JSON (.json, .jsonl); JSON paths
 * are also appended to `list` for Python. */
static void check_tree(const char *dir, char *list, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            check_tree(path, list, cap);
            continue;
        }
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || strcmp(dot, ".gz") == 0 || strcmp(dot, ".bin") == 0) {
            continue;
        }
        expect_utf8_file(path);
        if (strcmp(dot, ".json") == 0 || strcmp(dot, ".jsonl") == 0) {
            expect_strict_json(path, strcmp(dot, ".jsonl") == 0);
            size_t used = strlen(list);
            snprintf(list + used, cap - used, " '%s'", path);
        }
    }
    closedir(d);
}

/* A run whose name is not UTF-8, then `history add` with a message that is not either: every
 * file written is UTF-8 and every JSON file strict JSON. */
static void test_outputs_strict(void **state)
{
    (void)state;
    const char *dir = OUT_ROOT "/strict";
    unlink(OUT_ROOT "/strict/h.jsonl");
    char kv[PATH_MAX];
    it_build_path(kv, sizeof(kv), "targets/stdio_kv");
    struct it_result r;
    const char *run_args[] = {"run",
                              "--rounds",
                              "4",
                              "--warmup",
                              "1",
                              "--request",
                              "put k{round}-{i} v",
                              "--name",
                              "kv-\xff\xfe-name",
                              "--report-dir",
                              dir,
                              "--",
                              kv,
                              NULL};
    run_lc(run_args, &r);
    assert_int_equal(r.exit_code, 0);
    free(r.out);
    const char *hist_args[] = {"history",   "add",
                               "--file",    OUT_ROOT "/strict/h.jsonl",
                               "--report",  OUT_ROOT "/strict/report.json",
                               "--commit",  "0123456789abcdef",
                               "--message", "fix caf\xe9 \xc3",
                               NULL};
    run_lc(hist_args, &r);
    assert_int_equal(r.exit_code, 0);
    expect_out(&r, "commit 0123456789ab: added 1 record; now 1 commit, 1 record\n");
    free(r.out);
    char list[16384] = "";
    check_tree(dir, list, sizeof(list));
    char *report = it_read_file(OUT_ROOT "/strict/report.json", NULL);
    assert_non_null(strstr(report, "kv-\xef\xbf\xbd\xef\xbf\xbd-name"));
    free(report);
    if (system("python3 -c '' >/dev/null 2>&1") != 0) {
        print_message("python3 not found: the strict check used util/json only\n");
        return;
    }
    /* Python's json, strict: UTF-8 decoding that fails on a bad byte, no NaN or Infinity, no
     * duplicate key, one value per file (per line in JSON Lines). */
    char cmd[20000];
    snprintf(cmd, sizeof(cmd),
             "python3 -c '\n"
             "import json, sys\n"
             "def pairs(p):\n"
             "    keys = [k for k, _ in p]\n"
             "    if len(keys) != len(set(keys)): raise ValueError(\"duplicate key\")\n"
             "    return dict(p)\n"
             "def const(x): raise ValueError(\"not JSON: \" + x)\n"
             "for f in sys.argv[1:]:\n"
             "    text = open(f, \"rb\").read().decode(\"utf-8\", \"strict\")\n"
             "    docs = text.splitlines() if f.endswith(\".jsonl\") else [text]\n"
             "    for doc in docs:\n"
             "        json.loads(doc, object_pairs_hook=pairs, parse_constant=const)\n"
             "' %s",
             list);
    assert_int_equal(system(cmd), 0);
}

/* ---------------------------------------------------------------- a full disk */

/* Runs `script` with sh in a private mount namespace (root, or an unprivileged user namespace).
 * Returns 0 and fills *r, or 1 when namespaces or mounts are not permitted here (*why says). */
static int in_private_mounts(const char *script, struct it_result *r, char *why, size_t cap)
{
    static const char *const ways[][6] = {
        {"unshare", "--mount", "sh", "-c", NULL, NULL},
        {"unshare", "--user", "--map-root-user", "--mount", "sh", "-c"},
    };
    for (size_t w = 0; w < 2; w++) {
        struct it_result probe;
        char *argv[10];
        size_t n = 0;
        for (size_t i = 0; i < 6 && ways[w][i]; i++) {
            argv[n++] = (char *)(uintptr_t)ways[w][i];
        }
        static char probe_script[] =
            "mkdir -p " OUT_ROOT "/mnt && mount -t tmpfs -o size=8k tmpfs " OUT_ROOT "/mnt";
        argv[n] = probe_script;
        argv[n + 1] = NULL;
        if (it_run(argv, NULL, NULL, 30, &probe) != 0 || probe.exit_code != 0) {
            snprintf(why, cap, "%s", probe.out ? probe.out : "unshare not found");
            free(probe.out);
            continue;
        }
        free(probe.out);
        argv[n] = (char *)(uintptr_t)script;
        return it_run(argv, NULL, NULL, 120, r) == 0 ? 0 : 1;
    }
    return 1;
}

/* On an 8 KiB disk the recording is cut: the run says what it lost and holds, still prints its
 * table, exits 3; `analyze` of the cut file says it was cut, not that the target died. */
static void test_disk_full(void **state)
{
    (void)state;
    char script[16384];
    snprintf(script, sizeof(script),
             "mkdir -p %s/mnt && mount -t tmpfs -o size=8k tmpfs %s/mnt && "
             "%s run --report-dir %s/mnt/out tests/cases/sysmem-mmap-leak.json; echo \"exit=$?\"; "
             "cp %s/mnt/out/sysmem-mmap-leak/snapshots.bin %s/mnt/out/sysmem-mmap-leak/"
             "scenario.json %s/",
             OUT_ROOT, OUT_ROOT, leakcheck, OUT_ROOT, OUT_ROOT, OUT_ROOT, OUT_ROOT);
    struct it_result r;
    char why[4096] = "";
    if (in_private_mounts(script, &r, why, sizeof(why)) != 0) {
        print_message("SKIPPED: mounting a small tmpfs is not permitted here: %s\n", why);
        skip();
    }
    expect_out(&r, "exit=3");
    expect_out(&r, "sysmem-mmap-leak         error        NO");
    expect_out(&r, "/mnt/out/sysmem-mmap-leak/snapshots.bin: writing the recording failed (No "
                   "space left on device): the file holds 4096 of the ");
    expect_out(&r, "then a cut and no end mark;");
    expect_out(&r, "the verdicts above are the run's, but its report files are missing or "
                   "incomplete");
    free(r.out);
    const char *args[] = {"analyze", "--report-dir", OUT_ROOT "/cut", OUT_ROOT "/snapshots.bin",
                          NULL};
    run_lc(args, &r);
    expect_out(&r, "snapshots.bin was cut: it ends inside a snapshot and has no end mark (the "
                   "disk filled up, or leakcheck was stopped while writing it); analysing the ");
    free(r.out);
}

int main(void)
{
    it_build_path(leakcheck, sizeof(leakcheck), "leakcheck");
    if (system("mkdir -p " OUT_ROOT) != 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_glibc_mappings_not_counted_twice),
        cmocka_unit_test(test_rss_warning),
        cmocka_unit_test(test_snapshot_seconds),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_fifo_requests_refused),
        cmocka_unit_test(test_outputs_strict),
        cmocka_unit_test(test_disk_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
