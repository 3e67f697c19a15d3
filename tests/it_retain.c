/* SPDX-License-Identifier: MIT */
/* it_retain.c - the retainer scan end to end: `leakcheck run` on the retainer test targets
 * (tests/targets/retain_cases.c, retain_map.cc), then the REC_RETAIN frames of snapshots.bin
 * decoded here with common/proto.h's readers, and each case's root checked against the target's
 * own symbol table (nm): a global list, a global hash table (bucket array, then nodes), a registry
 * struct in a global pointing to an array of pointers, a thread-local cache, a std::map in
 * main's stack frame, a pointer three blocks from a global, a lost leak and an XOR'ed pointer
 * (both reported as unreachable), the non-leak twins (nothing sampled), `--retainers none` (no
 * frame) and `every` (a frame after each measured round).
 *
 * Run from the repository root (tests/run-all.sh does); $B names the build folder.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../common/proto.h"
#include "it_util.h"

#define MAX_PATHS 4096
#define MAX_HOPS  64

struct path {
    uint32_t stack_id, epoch;
    uint64_t size;
    uint32_t kind, obj;
    uint64_t addr, pc;
    uint32_t tid, n_hops;
    uint32_t hop_site[MAX_HOPS], hop_off[MAX_HOPS];
};

/* The REC_RETAIN frames of one recording: how many, and the last one's content. */
#define MAX_FRAMES 8

struct scan {
    uint32_t pid; /* the first process's (REC_PROC) */
    unsigned frames;
    uint32_t frame_flags[MAX_FRAMES]; /* each frame's flags and note, in order */
    char frame_note[MAX_FRAMES][256];
    uint32_t frame_paths[MAX_FRAMES];
    uint32_t flags, round;
    uint64_t live_blocks;
    char note[256];
    uint64_t main_base; /* the base of object 0 (the program) */
    char main_path[512];
    size_t n;
    struct path p[MAX_PATHS];
};

static struct scan scan;

/* Decodes the REC_RETAIN frames of `file` into `scan` (the last frame's paths). */
static void decode(const char *file, struct scan *s)
{
    memset(s, 0, sizeof(*s));
    size_t len = 0;
    char *data = it_read_file(file, &len);
    assert_non_null(data);
    const uint8_t *d = (const uint8_t *)data;
    for (size_t at = 0; at + PROTO_HEADER_SIZE <= len;) {
        struct proto_header h;
        assert_int_equal(proto_header_parse(d + at, &h), 0);
        struct proto_rbuf r = {.data = d + at + PROTO_HEADER_SIZE, .len = h.length};
        at += PROTO_HEADER_SIZE + h.length;
        if (h.type == PROTO_REC_PROC && s->pid == 0) {
            uint32_t idx;
            assert_int_equal(proto_get_u32(&r, &idx), 0);
            assert_int_equal(proto_get_u32(&r, &s->pid), 0);
            continue;
        }
        if (h.type != PROTO_REC_RETAIN) {
            continue;
        }
        s->frames++;
        uint32_t proc, n_objs, n_paths, zero;
        uint64_t us_stop, us_scan, bytes_read, live_bytes, peak;
        assert_int_equal(proto_get_u32(&r, &proc), 0);
        assert_int_equal(proto_get_u32(&r, &s->round), 0);
        assert_int_equal(proto_get_u32(&r, &s->flags), 0);
        assert_int_equal(proto_get_u32(&r, &n_objs), 0);
        assert_int_equal(proto_get_u32(&r, &n_paths), 0);
        assert_int_equal(proto_get_u32(&r, &zero), 0);
        assert_int_equal(proto_get_u64(&r, &us_stop), 0);
        assert_int_equal(proto_get_u64(&r, &us_scan), 0);
        assert_int_equal(proto_get_u64(&r, &bytes_read), 0);
        assert_int_equal(proto_get_u64(&r, &s->live_blocks), 0);
        assert_int_equal(proto_get_u64(&r, &live_bytes), 0);
        assert_int_equal(proto_get_u64(&r, &peak), 0);
        assert_true(s->flags != 0 || bytes_read > 0); /* a cut scan may read nothing */
        assert_true(peak > 0);
        const uint8_t *str;
        size_t n;
        assert_int_equal(proto_get_str(&r, &str, &n), 0);
        snprintf(s->note, sizeof(s->note), "%.*s", (int)n, (const char *)str);
        if (s->frames <= MAX_FRAMES) {
            s->frame_flags[s->frames - 1] = s->flags;
            s->frame_paths[s->frames - 1] = n_paths;
            snprintf(s->frame_note[s->frames - 1], 256, "%s", s->note);
        }
        for (uint32_t i = 0; i < n_objs; i++) {
            uint64_t base;
            assert_int_equal(proto_get_u64(&r, &base), 0);
            assert_int_equal(proto_get_str(&r, &str, &n), 0);
            if (i == 0) {
                s->main_base = base;
                snprintf(s->main_path, sizeof(s->main_path), "%.*s", (int)n, (const char *)str);
            }
        }
        s->n = 0;
        for (uint32_t i = 0; i < n_paths; i++) {
            assert_true(s->n < MAX_PATHS);
            struct path *p = &s->p[s->n++];
            assert_int_equal(proto_get_u32(&r, &p->stack_id), 0);
            assert_int_equal(proto_get_u32(&r, &p->epoch), 0);
            assert_int_equal(proto_get_u64(&r, &p->size), 0);
            assert_int_equal(proto_get_u32(&r, &p->kind), 0);
            assert_int_equal(proto_get_u32(&r, &p->obj), 0);
            assert_int_equal(proto_get_u64(&r, &p->addr), 0);
            assert_int_equal(proto_get_u64(&r, &p->pc), 0);
            assert_int_equal(proto_get_u32(&r, &p->tid), 0);
            assert_int_equal(proto_get_u32(&r, &p->n_hops), 0);
            assert_true(p->n_hops <= MAX_HOPS);
            for (uint32_t k = 0; k < p->n_hops; k++) {
                assert_int_equal(proto_get_u32(&r, &p->hop_site[k]), 0);
                assert_int_equal(proto_get_u32(&r, &p->hop_off[k]), 0);
            }
        }
        assert_int_equal(r.pos, r.len);
    }
    free(data);
}

/* A writable copy of `v` in store[*used] (argv's strings must be char *). */
static char *arg_copy(char store[][512], int *used, const char *v)
{
    snprintf(store[*used], 512, "%s", v);
    return store[(*used)++];
}

/* Runs leakcheck on `target` with `arg` (4 measured rounds after 1 warm-up, 10 keys a round)
 * and extra options, then decodes its recording into `scan`. */
static void run_leakcheck(char **argv, const char *bin, int want_exit)
{
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 120, &r), 0);
    if (r.exit_code != want_exit) {
        fprintf(stderr, "%s\n", r.out);
    }
    assert_int_equal(r.exit_code, want_exit);
    free(r.out);
    decode(bin, &scan);
}

static void run_case_exit(const char *name, const char *target, const char *arg, const char *opt,
                          int want_exit)
{
    char leakcheck[512], prog[512], dir[256], bin[300];
    it_build_path(leakcheck, sizeof(leakcheck), "leakcheck");
    snprintf(prog, sizeof(prog), "%s/targets/%s", it_build_dir(), target);
    snprintf(dir, sizeof(dir), "build/it-retain");
    snprintf(bin, sizeof(bin), "%s/%s/snapshots.bin", dir, name);
    char *argv[24];
    static char store[24][512];
    int used = 0;
    int a = 0;
    argv[a++] = leakcheck;
    argv[a++] = arg_copy(store, &used, "run");
    argv[a++] = arg_copy(store, &used, "--rounds");
    argv[a++] = arg_copy(store, &used, "4");
    argv[a++] = arg_copy(store, &used, "--warmup");
    argv[a++] = arg_copy(store, &used, "1");
    argv[a++] = arg_copy(store, &used, "--requests-per-round");
    argv[a++] = arg_copy(store, &used, "10");
    argv[a++] = arg_copy(store, &used, "--request");
    argv[a++] = arg_copy(store, &used, "put k{round}-{i}");
    argv[a++] = arg_copy(store, &used, "--expect");
    argv[a++] = arg_copy(store, &used, "any");
    argv[a++] = arg_copy(store, &used, "--name");
    argv[a++] = arg_copy(store, &used, name);
    argv[a++] = arg_copy(store, &used, "--report-dir");
    argv[a++] = dir;
    if (opt) {
        argv[a++] = arg_copy(store, &used, "--retainers");
        argv[a++] = arg_copy(store, &used, opt);
    }
    argv[a++] = arg_copy(store, &used, "--");
    argv[a++] = prog;
    argv[a++] = arg_copy(store, &used, arg);
    argv[a] = NULL;
    run_leakcheck(argv, bin, want_exit);
}

static void run_case(const char *name, const char *target, const char *arg, const char *opt)
{
    run_case_exit(name, target, arg, opt, 0);
}

/* Checks report.json: the first suspect whose function is `fn` has, as its first retained_by
 * group, a root of `kind` named `symbol` (NULL: none), and its blocks on the way are the
 * functions via[0..] (NULL-terminated), no more. */
static void expect_report(const char *fn, const char *kind, const char *symbol,
                          const char *const *via)
{
    char *text = it_read_file("build/it-retain/report.json", NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "scenarios"), 0);
    const cJSON *figures = cJSON_GetObjectItemCaseSensitive(sc, "retainer_scan");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(figures, "complete")));
    const cJSON *suspects = cJSON_GetObjectItemCaseSensitive(sc, "suspects");
    const cJSON *found = NULL;
    const cJSON *sp;
    cJSON_ArrayForEach(sp, suspects)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(sp, "function");
        if (!found && cJSON_IsString(f) && strcmp(f->valuestring, fn) == 0) {
            found = sp;
        }
    }
    if (!found) {
        fail_msg("no suspect %s", fn);
    }
    const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(found, "retained_by"), 0);
    assert_non_null(g);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(g, "root");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "kind");
    assert_true(cJSON_IsString(k));
    assert_string_equal(k->valuestring, kind);
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(r, "symbol");
    if (symbol) {
        assert_true(cJSON_IsString(sym));
        assert_string_equal(sym->valuestring, symbol);
    } else {
        assert_true(!sym || cJSON_IsNull(sym));
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, "via");
    int n = 0;
    for (; via && via[n]; n++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(v, n), "function");
        assert_true(cJSON_IsString(f));
        assert_string_equal(f->valuestring, via[n]);
    }
    assert_int_equal(cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0, n);
    cJSON_Delete(root);
}

/* The address (and size) of symbol `sym` in `prog`, from nm. */
static uint64_t symbol(const char *prog, const char *sym, uint64_t *size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "nm -C -S --defined-only '%s'", prog);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[1024];
    uint64_t addr = UINT64_MAX;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v = 0, sz = 0;
        char type[8], name[512];
        if (sscanf(line, "%llx %llx %7s %511s", &v, &sz, type, name) == 4 &&
            strcmp(name, sym) == 0) {
            addr = v;
            *size = sz;
        }
    }
    pclose(f);
    if (addr == UINT64_MAX) {
        fail_msg("no symbol %s in %s", sym, prog);
    }
    return addr;
}

/* Every path: kind `kind`; object 0 (the program); the root word inside symbol `sym` of the
 * target; at least `min_hops` hops. Returns the number of paths. */
static size_t expect_root(uint32_t kind, const char *sym, uint32_t min_hops)
{
    assert_int_equal(scan.frames, 1);
    assert_int_equal(scan.flags, 0);
    assert_int_equal(scan.round, 5);
    assert_true(scan.n >= 10);
    uint64_t size = 0;
    uint64_t at = symbol(scan.main_path, sym, &size);
    for (size_t i = 0; i < scan.n; i++) {
        const struct path *p = &scan.p[i];
        assert_int_equal(p->kind, kind);
        assert_int_equal(p->obj, 0);
        assert_true(p->addr >= at && p->addr < at + (size ? size : 8));
        assert_true(p->n_hops >= min_hops);
        assert_true(p->epoch >= 2); /* born in a measured round */
    }
    return scan.n;
}

static void test_retain_global_list(void **state)
{
    (void)state;
    run_case("list", "retain_cases", "list", NULL);
    expect_root(PROTO_ROOT_GLOBAL, "g_list", 0);
    static const char *const via[] = {"push_node", NULL};
    expect_report("make_record", "global", "g_list", via);
    /* the records: through the list's nodes (one run of one site), their pointer at +8 */
    for (size_t i = 0; i < scan.n; i++) {
        if (scan.p[i].size == 48) {
            assert_int_equal(scan.p[i].n_hops, 1);
            assert_int_equal(scan.p[i].hop_off[0], 8);
            assert_int_not_equal(scan.p[i].hop_site[0], scan.p[i].stack_id);
        }
    }
}

static void test_retain_global_hash(void **state)
{
    (void)state;
    run_case("hash", "retain_cases", "hash", NULL);
    expect_root(PROTO_ROOT_GLOBAL, "g_buckets", 1);
    static const char *const via[] = {"keep_in_hash", "push_node", NULL};
    expect_report("make_record", "global", "g_buckets", via);
    /* bucket array first (its own site, 64 pointers), then the nodes, then the record */
    uint32_t bucket_site = scan.p[0].hop_site[0];
    for (size_t i = 0; i < scan.n; i++) {
        const struct path *p = &scan.p[i];
        assert_int_equal(p->hop_site[0], bucket_site);
        assert_true(p->hop_off[0] < 64 * 8);
        if (p->size == 48) {
            assert_int_equal(p->n_hops, 2);
            assert_int_equal(p->hop_off[1], 8);
        }
    }
}

static void test_retain_registry(void **state)
{
    (void)state;
    run_case("registry", "retain_cases", "registry", NULL);
    expect_root(PROTO_ROOT_GLOBAL, "g_registry", 0);
    static const char *const via[] = {"keep_in_registry", NULL};
    expect_report("make_record", "global", "g_registry", via);
    uint64_t size = 0;
    uint64_t at = symbol(scan.main_path, "g_registry", &size);
    for (size_t i = 0; i < scan.n; i++) {
        const struct path *p = &scan.p[i];
        assert_int_equal(p->addr, at + 8); /* .items */
        if (p->size == 48) {
            assert_int_equal(p->n_hops, 1); /* the array of pointers */
        }
    }
}

static void test_retain_tls(void **state)
{
    (void)state;
    run_case("tls", "retain_cases", "tls", NULL);
    expect_root(PROTO_ROOT_TLS, "t_cache", 0);
    static const char *const via[] = {"push_node", NULL};
    expect_report("make_record", "tls", "t_cache", via);
    for (size_t i = 0; i < scan.n; i++) {
        assert_true(scan.p[i].tid > 0);
    }
}

/* A worker thread's own t_cache: the root is that thread's TLS, not the main thread's. */
static void test_retain_tls_worker_thread(void **state)
{
    (void)state;
    run_case("tls-thread", "retain_cases", "tls-thread", NULL);
    expect_root(PROTO_ROOT_TLS, "t_cache", 0);
    uint32_t tid = scan.p[0].tid;
    for (size_t i = 0; i < scan.n; i++) {
        assert_int_equal(scan.p[i].tid, tid);
    }
    assert_int_not_equal(tid, scan.pid); /* the worker's, not the main thread's */
    static const char *const via[] = {"push_node", NULL};
    expect_report("make_record", "tls", "t_cache", via);
}

static void test_retain_three_hops(void **state)
{
    (void)state;
    run_case("hops", "retain_cases", "hops", NULL);
    expect_root(PROTO_ROOT_GLOBAL, "g_holder", 3);
    static const char *const via[] = {"keep_three_hops", "keep_three_hops", "keep_three_hops",
                                      "push_node", NULL};
    expect_report("make_record", "global", "g_holder", via);
    for (size_t i = 0; i < scan.n; i++) {
        const struct path *p = &scan.p[i];
        /* outer (.middle at 0), middle (.inner at 24), inner (.records at 8), distinct sites */
        assert_int_equal(p->hop_off[0], 0);
        assert_int_equal(p->hop_off[1], 24);
        assert_int_equal(p->hop_off[2], 8);
        assert_int_not_equal(p->hop_site[0], p->hop_site[1]);
        assert_int_not_equal(p->hop_site[1], p->hop_site[2]);
    }
}

/* Lost and XOR'ed: every sampled survivor is unreachable. */
static void expect_lost(void)
{
    assert_int_equal(scan.frames, 1);
    assert_true(scan.n >= 10);
    for (size_t i = 0; i < scan.n; i++) {
        assert_int_equal(scan.p[i].kind, PROTO_ROOT_UNREACHABLE);
        assert_int_equal(scan.p[i].obj, PROTO_NO_OBJ);
        assert_int_equal(scan.p[i].n_hops, 0);
    }
}

static void test_retain_lost(void **state)
{
    (void)state;
    run_case("lost", "retain_cases", "lost", NULL);
    expect_lost();
    expect_report("make_record", "unreachable", NULL, NULL);
}

static void test_retain_xor_is_lost(void **state)
{
    (void)state;
    run_case("xor", "retain_cases", "xor", NULL);
    expect_lost();
    expect_report("make_record", "unreachable", NULL, NULL);
}

/* The non-leak twin: the scan ran, nothing born in a measured round survives. */
static void test_retain_fixed(void **state)
{
    (void)state;
    run_case("fixed", "retain_cases", "fixed", NULL);
    assert_int_equal(scan.frames, 1);
    assert_int_equal(scan.flags, 0);
    assert_int_equal(scan.n, 0);
    assert_true(scan.live_blocks > 0);
}

static void test_retain_std_map_on_main_stack(void **state)
{
    (void)state;
    run_case("map", "retain_map", "--leak", NULL);
    assert_int_equal(scan.frames, 1);
    assert_true(scan.n >= 10);
    uint64_t size = 0;
    uint64_t main_at = symbol(scan.main_path, "main", &size);
    for (size_t i = 0; i < scan.n; i++) {
        const struct path *p = &scan.p[i];
        assert_int_equal(p->kind, PROTO_ROOT_STACK);
        assert_true(p->tid > 0);
        /* the frame holding the map is main's */
        assert_true(p->pc >= scan.main_base + main_at && p->pc < scan.main_base + main_at + size);
    }
    static const char *const via[] = {"main", NULL};
    expect_report("main", "thread-stack", "main", via);
    run_case("map-fixed", "retain_map", "--fixed", NULL);
    assert_int_equal(scan.n, 0);
}

static void test_retain_when(void **state)
{
    (void)state;
    run_case("none", "retain_cases", "list", "none");
    assert_int_equal(scan.frames, 0);
    run_case("every", "retain_cases", "list", "every");
    assert_int_equal(scan.frames, 4); /* after rounds 2, 3, 4 and 5 */
    assert_int_equal(scan.round, 5);
}

/* A process killed while stopped by the scan (by its own watcher child): its frame says so, and
 * the next process of the tree is scanned as usual; the run fails (the target died) with every
 * round it finished. */
static void test_retain_target_killed_mid_scan(void **state)
{
    (void)state;
    run_case_exit("dies", "retain_dies", "40", NULL, 3);
    assert_int_equal(scan.frames, 2);
    assert_true(scan.frame_flags[0] & (PROTO_RETAIN_CUT | PROTO_RETAIN_FAILED));
    assert_non_null(strstr(scan.frame_note[0], "ended"));
    assert_int_equal(scan.frame_flags[1], 0);
    assert_string_equal(scan.frame_note[1], "");
}

/* A stop budget too short for the heap: every scan is cut and says so, and the target goes on
 * serving the next rounds. */
static void test_retain_budget_cuts(void **state)
{
    (void)state;
    char prog[512], file[300], text[2048];
    snprintf(prog, sizeof(prog), "%s/targets/retain_big", it_build_dir());
    snprintf(file, sizeof(file), "build/it-retain/budget.json");
    snprintf(text, sizeof(text),
             "{\"name\": \"budget\", \"target\": {\"argv\": [\"%s\", \"20\"]},\n"
             " \"driver\": {\"kind\": \"stdio\", \"requests\": [\"put k{round}-{i}\"],\n"
             "            \"requests_per_round\": 10},\n"
             " \"rounds\": 4, \"warmup\": 1, \"expect\": \"any\",\n"
             " \"retainers\": \"every\", \"retainers_stop_s\": 0.001}\n",
             prog);
    mkdir("build", 0755);
    mkdir("build/it-retain", 0755);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    char leakcheck[512];
    it_build_path(leakcheck, sizeof(leakcheck), "leakcheck");
    char *argv[] = {
        leakcheck, (char[]){"run"}, (char[]){"--report-dir"}, (char[]){"build/it-retain"}, file,
        NULL};
    run_leakcheck(argv, "build/it-retain/budget/snapshots.bin", 0);
    assert_int_equal(scan.frames, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(scan.frame_flags[i], PROTO_RETAIN_CUT);
        assert_non_null(strstr(scan.frame_note[i], "stop budget of 1 ms"));
    }
}

/* True once `file` holds a REC_RETAIN frame. */
static bool has_retain_frame(const char *file)
{
    size_t len = 0;
    char *data = it_read_file(file, &len);
    bool found = false;
    const uint8_t *d = (const uint8_t *)data;
    for (size_t at = 0; data && !found && at + PROTO_HEADER_SIZE <= len;) {
        struct proto_header h;
        if (proto_header_parse(d + at, &h) != 0) {
            break;
        }
        found = h.type == PROTO_REC_RETAIN && at + PROTO_HEADER_SIZE + h.length <= len;
        at += PROTO_HEADER_SIZE + h.length;
    }
    free(data);
    return found;
}

/* SIGTERM to leakcheck while it scans after every round (a 60 MB heap: most of the run is
 * scanning): it stops at once with the interrupted exit status, every thread of the target let go
 * and the tree stopped (nothing left running), and each recorded scan complete or cut with a
 * note. */
static void test_retain_sigterm_during_scans(void **state)
{
    (void)state;
    const char *bin = "build/it-retain/sigterm/snapshots.bin";
    unlink(bin);
    mkdir("build", 0755);
    mkdir("build/it-retain", 0755);
    it_mark();
    char leakcheck[512], prog[512];
    it_build_path(leakcheck, sizeof(leakcheck), "leakcheck");
    snprintf(prog, sizeof(prog), "%s/targets/retain_big", it_build_dir());
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("build/it-retain/sigterm.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(leakcheck, leakcheck, "run", "--rounds", "20", "--warmup", "1",
              "--requests-per-round", "10", "--request", "put k{round}-{i}", "--retainers", "every",
              "--expect", "any", "--name", "sigterm", "--report-dir", "build/it-retain", "--", prog,
              "60", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1200 && !has_retain_frame(bin); i++) {
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    assert_true(has_retain_frame(bin));
    /* the next round's work and snapshot are short: this lands in (or near) the next scan */
    struct timespec later = {0, 300 * 1000 * 1000};
    nanosleep(&later, NULL);
    kill(pid, SIGTERM);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 128 + SIGTERM);
    it_assert_no_leftovers("leakcheck stopped by SIGTERM during its scans");
    decode(bin, &scan);
    assert_true(scan.frames >= 1);
    for (unsigned i = 0; i < scan.frames && i < MAX_FRAMES; i++) {
        assert_true(scan.frame_flags[i] == 0 ||
                    (scan.frame_flags[i] == PROTO_RETAIN_CUT &&
                     strstr(scan.frame_note[i], "interrupted by SIGTERM") != NULL));
    }
}

/* A scenario's bad "retainers" value is an input error naming the key and the choices. */
static void test_retain_bad_key(void **state)
{
    (void)state;
    const char *file = "build/it-retain/bad.json";
    mkdir("build", 0755);
    mkdir("build/it-retain", 0755);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"name\": \"bad\", \"target\": {\"argv\": [\"true\"]},\n"
          " \"driver\": {\"kind\": \"stdio\", \"requests\": [\"x\"]}, \"retainers\": \"always\"}\n",
          f);
    fclose(f);
    char leakcheck[512];
    it_build_path(leakcheck, sizeof(leakcheck), "leakcheck");
    char *argv[] = {leakcheck, (char[]){"validate"}, (char *)(uintptr_t)file, NULL};
    struct it_result r;
    assert_int_equal(it_run(argv, NULL, NULL, 30, &r), 0);
    assert_int_equal(r.exit_code, 2);
    assert_non_null(strstr(r.out, "retainers"));
    assert_non_null(strstr(r.out, "\"every\""));
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retain_global_list),
        cmocka_unit_test(test_retain_global_hash),
        cmocka_unit_test(test_retain_registry),
        cmocka_unit_test(test_retain_tls),
        cmocka_unit_test(test_retain_tls_worker_thread),
        cmocka_unit_test(test_retain_three_hops),
        cmocka_unit_test(test_retain_lost),
        cmocka_unit_test(test_retain_xor_is_lost),
        cmocka_unit_test(test_retain_fixed),
        cmocka_unit_test(test_retain_std_map_on_main_stack),
        cmocka_unit_test(test_retain_when),
        cmocka_unit_test(test_retain_target_killed_mid_scan),
        cmocka_unit_test(test_retain_budget_cuts),
        cmocka_unit_test(test_retain_bad_key),
        cmocka_unit_test(test_retain_sigterm_during_scans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
