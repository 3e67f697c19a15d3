/* SPDX-License-Identifier: MIT */
/* it_agent.c - the agent under real programs: exact bytes and blocks at the right site through
 * every allocation function, from 8 threads, across fork, from a dlopen'ed library, from C++
 * new; edge cases (unknown frees, realloc(p, 0), failing allocations, errno), signal handlers
 * that allocate, the canary, and a program without the agent. Then the agent under stress:
 * 16 threads while snapshots run back to back, fork storms, pthread_cancel, longjmp, dlclose
 * with live blocks, allocations before the agent's constructor, code without unwind info.
 *
 * Each test starts a target with the agent and the channel (harness/target.h), sends it request
 * lines, asks for snapshots and parses them with the harness's own stream reader
 * (harness/snap.h). Sites are found by their exact figures and checked to be in the function
 * that allocated, by symbolizing their first frame (harness/sym.h).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "../analysis/snap.h"
#include "../analysis/sym.h"
#include "../harness/target.h"
#include "it_util.h"

struct session {
    struct target *t;
    struct snap_stream s;
    uint32_t round;
};

static char agent_path[4096];

static void session_start(struct session *x, const char *prog, char *const *env_add)
{
    char path[4096];
    it_build_path(path, sizeof(path), prog);
    it_build_path(agent_path, sizeof(agent_path), "libleakcheck-agent.so");
    char *argv[] = {path, NULL};
    struct target_opts o = {
        .argv = argv,
        .env_add = env_add,
        .agent_path = agent_path,
        .pipe_stdin = true,
        .pipe_stdout = true,
        .channel = true,
    };
    struct diag d = {{0}};
    memset(x, 0, sizeof(*x));
    snap_stream_init(&x->s);
    int rc = target_start(&o, &x->t, &d);
    if (rc != 0) {
        fail_msg("target_start %s: %s", prog, d.msg);
    }
}

/* Reads the channel until `want` complete snapshots are in. */
static void read_snapshots(struct session *x, size_t want)
{
    uint8_t buf[65536];
    struct diag d = {{0}};
    while (x->s.n_snaps < want) {
        struct pollfd p = {.fd = target_chan_fd(x->t), .events = POLLIN};
        int ready = poll(&p, 1, 20000);
        assert_true(ready > 0);
        ssize_t n = read(target_chan_fd(x->t), buf, sizeof(buf));
        assert_true(n > 0);
        if (snap_stream_feed(&x->s, buf, (size_t)n, &d) != 0) {
            fail_msg("snapshot stream: %s", d.msg);
        }
    }
}

static const struct snap_snapshot *snapshot(struct session *x)
{
    uint8_t req[PROTO_REQ_SNAPSHOT_SIZE];
    proto_encode_req_snapshot(req, x->round);
    assert_int_equal(write(target_chan_fd(x->t), req, sizeof(req)), (ssize_t)sizeof(req));
    read_snapshots(x, x->s.n_snaps + 1);
    x->round++;
    return &x->s.snaps[x->s.n_snaps - 1];
}

static void send_line(struct session *x, const char *line)
{
    char out[256];
    snprintf(out, sizeof(out), "%s\n", line);
    assert_int_equal(write(target_stdin_fd(x->t), out, strlen(out)), (ssize_t)strlen(out));
}

/* Reads one reply line into `reply`. Returns false when none arrived within timeout_ms. */
static bool read_reply(struct session *x, char *reply, size_t cap, int timeout_ms)
{
    size_t len = 0;
    while (len < cap - 1) {
        struct pollfd p = {.fd = target_stdout_fd(x->t), .events = POLLIN};
        if (poll(&p, 1, len == 0 ? timeout_ms : 20000) <= 0) {
            assert_int_equal(len, 0); /* never stall inside a line */
            return false;
        }
        ssize_t n = read(target_stdout_fd(x->t), reply + len, 1);
        assert_true(n == 1);
        if (reply[len] == '\n') {
            break;
        }
        len++;
    }
    reply[len] = '\0';
    return true;
}

/* Sends one request line and checks the reply is "ok". */
static void request(struct session *x, const char *line)
{
    char reply[256];
    send_line(x, line);
    assert_true(read_reply(x, reply, sizeof(reply), 60000));
    if (strcmp(reply, "ok") != 0) {
        fail_msg("request '%s' answered '%s'", line, reply);
    }
}

static void session_end(struct session *x)
{
    target_stop(x->t, 5000);
    int code = target_exit_code(x->t);
    target_free(x->t);
    snap_stream_cleanup(&x->s);
    assert_int_equal(code, 0);
}

/* The site with exactly these live figures, or NULL. */
static const struct snap_site *find_site(const struct snap_snapshot *sn, uint64_t blocks,
                                         uint64_t bytes)
{
    const struct snap_site *found = NULL;
    for (size_t i = 0; i < sn->n_sites; i++) {
        if (sn->sites[i].live_blocks == blocks && sn->sites[i].live_bytes == bytes) {
            found = &sn->sites[i];
        }
    }
    return found;
}

/* Name of the function holding the first frame of `site` that is not in libc or libstdc++. */
static void site_function(struct session *x, const struct snap_snapshot *sn,
                          const struct snap_site *site, char *out, size_t len)
{
    struct sym *sy = sym_new();
    assert_non_null(sy);
    for (size_t s = 0; s < x->s.n_snaps; s++) {
        for (size_t i = 0; i < x->s.snaps[s].n_objects; i++) {
            const struct snap_object *o = &x->s.snaps[s].objects[i];
            sym_add_object(sy, o->path, o->base, o->segs, o->n_segs, o->build_id, o->build_id_len);
        }
    }
    (void)sn;
    const struct snap_stack *st = snap_stream_stack(&x->s, site->stack_id);
    assert_non_null(st);
    snprintf(out, len, "?");
    for (size_t f = 0; f < st->depth; f++) {
        struct rpt_frame fr[8];
        int n = sym_resolve(sy, st->pcs[f], fr, 8);
        assert_true(n >= 1);
        bool lib = fr[n - 1].object &&
                   (strstr(fr[n - 1].object, "libc.so") || strstr(fr[n - 1].object, "libstdc++"));
        if (!lib && fr[n - 1].function) {
            snprintf(out, len, "%s", fr[n - 1].function);
            f = st->depth;
        }
        for (int k = 0; k < n; k++) {
            free(fr[k].function);
            free(fr[k].system_name);
            free(fr[k].file);
            free(fr[k].object);
        }
    }
    sym_free(sy);
}

static void expect_site(struct session *x, const struct snap_snapshot *sn, uint64_t blocks,
                        uint64_t bytes, const char *function)
{
    const struct snap_site *site = find_site(sn, blocks, bytes);
    if (!site) {
        fail_msg("no site with %llu blocks / %llu bytes (expected in %s)",
                 (unsigned long long)blocks, (unsigned long long)bytes, function);
    }
    char name[256];
    site_function(x, sn, site, name, sizeof(name));
    if (strcmp(name, function) != 0) {
        fail_msg("site of %llu x %llu B is in '%s', expected '%s'", (unsigned long long)blocks,
                 (unsigned long long)(bytes / blocks), name, function);
    }
}

static void test_agent_hello_and_canary(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    const struct snap_snapshot *sn = snapshot(&x);
    assert_true(x.s.have_hello);
    assert_int_equal(x.s.canary_size, PROTO_CANARY_SIZE);
    assert_true(sn->flags & PROTO_SNAP_CANARY_LIVE);
    assert_false(sn->flags & PROTO_SNAP_PASSTHROUGH);
    assert_true(sn->n_objects >= 2); /* the program and libc at least */
    /* The canary is the agent's, never reported as the program's. */
    assert_null(find_site(sn, 1, PROTO_CANARY_SIZE));
    session_end(&x);
}

static void test_agent_every_allocation_function(void **state)
{
    (void)state;
    static const char *reqs[] = {"malloc",       "calloc",         "realloc",
                                 "reallocarray", "posix_memalign", "aligned_alloc",
                                 "memalign",     "valloc",         "pvalloc"};
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    snapshot(&x);
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        request(&x, reqs[i]);
    }
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 7, 7 * 1001, "do_malloc");
    expect_site(&x, sn, 6, 6 * 5 * 211, "do_calloc");
    expect_site(&x, sn, 5, 5 * 3003, "do_realloc");
    expect_site(&x, sn, 4, 4 * 9 * 111, "do_reallocarray");
    expect_site(&x, sn, 3, 3 * 1234, "do_posix_memalign");
    expect_site(&x, sn, 2, 2 * 2560, "do_aligned_alloc");
    expect_site(&x, sn, 3, 3 * 555, "do_memalign");
    expect_site(&x, sn, 2, 2 * 700, "do_valloc");
    expect_site(&x, sn, 2, 2 * 900, "do_pvalloc");
    /* The 10-byte blocks realloc replaced are gone. */
    assert_null(find_site(sn, 5, 50));
    /* Every block of round 1 was born in round 1. */
    const struct snap_site *m = find_site(sn, 7, 7 * 1001);
    assert_int_equal(m->n_births, 1);
    assert_int_equal(m->births[0].epoch, 1);
    assert_int_equal(m->alloc_blocks, 7);

    request(&x, "malloc");
    sn = snapshot(&x);
    m = find_site(sn, 14, 14 * 1001);
    assert_non_null(m);
    assert_int_equal(m->n_births, 2);
    assert_int_equal(m->births[1].epoch, 2);
    assert_int_equal(m->births[1].blocks, 7);

    request(&x, "release");
    sn = snapshot(&x);
    assert_null(find_site(sn, 14, 14 * 1001));
    session_end(&x);
}

static void test_agent_eight_threads(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    snapshot(&x);
    request(&x, "threads");
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 800, 800 * 77, "thread_body");
    session_end(&x);
}

/* A forked child runs and exits normally, untracked and without the parent's channel: the
 * target checks both in the child and answers "ok" only when the child exited with status 0
 * (agent_family.c, do_fork). The parent's blocks from after the fork are tracked, born in this
 * round, and tracking goes on in the parent. */
static void test_agent_fork_child_is_silent(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    snapshot(&x);
    request(&x, "fork");
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 3, 3 * 515, "do_fork");
    const struct snap_site *site = find_site(sn, 3, 3 * 515);
    assert_int_equal(site->alloc_blocks, 3);
    assert_int_equal(site->n_births, 1);
    assert_int_equal(site->births[0].epoch, 1);
    assert_false(sn->flags & PROTO_SNAP_PASSTHROUGH);
    request(&x, "malloc");
    sn = snapshot(&x);
    expect_site(&x, sn, 7, 7 * 1001, "do_malloc");
    session_end(&x);
}

/* "AGENT_DL_LIB=/absolute/path/libagent_dl.so" into env: the library the targets dlopen. */
static void dl_lib_env(char *env, size_t len)
{
    char lib[4096];
    it_build_path(lib, sizeof(lib), "targets/libagent_dl.so");
    char *real = realpath(lib, NULL);
    assert_non_null(real);
    snprintf(env, len, "AGENT_DL_LIB=%s", real);
    free(real);
}

static void test_agent_dlopen_library(void **state)
{
    (void)state;
    char env[4200];
    dl_lib_env(env, sizeof(env));
    char *env_add[] = {env, NULL};
    struct session x;
    session_start(&x, "targets/agent_family", env_add);
    snapshot(&x);
    request(&x, "dlopen");
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 9, 9 * 321, "dl_lib_alloc");
    session_end(&x);
}

static void test_agent_cxx_new(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_cxx", NULL);
    snapshot(&x);
    request(&x, "new");
    request(&x, "new");
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 12, 12 * 48, "make_widgets");
    session_end(&x);
}

static void test_agent_edges_and_errno(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    request(&x, "release"); /* stdio's own buffers come with the first request */
    const struct snap_snapshot *sn = snapshot(&x);
    uint64_t unknown_before = sn->counters[PROTO_C_UNKNOWN_FREES];
    uint64_t live_before = sn->counters[PROTO_C_LIVE_BLOCKS];
    request(&x, "edges");
    sn = snapshot(&x);
    assert_true(sn->counters[PROTO_C_UNKNOWN_FREES] >= unknown_before + 1);
    assert_int_equal(sn->counters[PROTO_C_LIVE_BLOCKS], live_before);
    session_end(&x);
}

static void test_agent_signal_handlers_allocate(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_family", NULL);
    request(&x, "release");
    const struct snap_snapshot *sn = snapshot(&x);
    uint64_t live_before = sn->counters[PROTO_C_LIVE_BLOCKS];
    request(&x, "signals");
    sn = snapshot(&x);
    assert_int_equal(sn->counters[PROTO_C_LIVE_BLOCKS], live_before);
    session_end(&x);
}

/* Without a channel the agent stays out of the way: the program runs and answers normally. */
static void test_agent_without_channel_passes_through(void **state)
{
    (void)state;
    char prog[4096];
    char pre[4200];
    it_build_path(prog, sizeof(prog), "targets/agent_family");
    it_build_path(agent_path, sizeof(agent_path), "libleakcheck-agent.so");
    snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", agent_path);
    char *argv[] = {prog, NULL};
    char *env[] = {pre, NULL};
    struct it_result r = {0};
    assert_int_equal(it_run(argv, env, "malloc\nedges\nthreads\nfork\nrelease\n", 30, &r), 0);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(r.out, "ok\nok\nok\nok\nok\n");
    free(r.out);
}

/* Sum of live blocks/bytes over the sites whose first own frame is in `function`. */
static void live_in(struct session *x, const struct snap_snapshot *sn, const char *function,
                    uint64_t *blocks, uint64_t *bytes)
{
    *blocks = 0;
    *bytes = 0;
    for (size_t i = 0; i < sn->n_sites; i++) {
        if (sn->sites[i].live_blocks == 0) {
            continue;
        }
        char name[256];
        site_function(x, sn, &sn->sites[i], name, sizeof(name));
        if (strcmp(name, function) == 0) {
            *blocks += sn->sites[i].live_blocks;
            *bytes += sn->sites[i].live_bytes;
        }
    }
}

/* 16 threads, 3.2 million mixed allocator calls, snapshots taken back to back the whole time:
 * no deadlock, no crash, and at the end the agent's count is exactly what the program holds. */
static void test_agent_stress_16_threads_while_snapshotting(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_stress", NULL);
    snapshot(&x);
    send_line(&x, "stress");
    char reply[256];
    unsigned snaps = 0;
    while (!read_reply(&x, reply, sizeof(reply), 0)) {
        snapshot(&x);
        snaps++;
    }
    unsigned long blocks = 0;
    unsigned long bytes = 0;
    assert_int_equal(sscanf(reply, "ok %lu %lu", &blocks, &bytes), 2);
    assert_int_equal(blocks, 1600);
    const struct snap_snapshot *sn = snapshot(&x);
    uint64_t live_blocks;
    uint64_t live_bytes;
    live_in(&x, sn, "stress_worker", &live_blocks, &live_bytes);
    assert_int_equal(live_blocks, blocks);
    assert_int_equal(live_bytes, bytes);
    assert_int_equal(sn->counters[PROTO_C_DROPPED], 0);
    print_message("stress: 16 threads x 200000 calls, %u snapshots taken meanwhile\n", snaps);
    request(&x, "free");
    sn = snapshot(&x);
    live_in(&x, sn, "stress_worker", &live_blocks, &live_bytes);
    assert_int_equal(live_blocks, 0);
    session_end(&x);
}

static void test_agent_fork_storm_while_snapshotting(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_stress", NULL);
    snapshot(&x);
    send_line(&x, "forkstorm");
    char reply[256];
    while (!read_reply(&x, reply, sizeof(reply), 0)) {
        snapshot(&x);
    }
    assert_string_equal(reply, "ok 200");
    const struct snap_snapshot *sn = snapshot(&x);
    assert_true(sn->flags & PROTO_SNAP_CANARY_LIVE);
    session_end(&x);
}

static void test_agent_cancel_and_longjmp(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_stress", NULL);
    request(&x, "free");
    snapshot(&x);
    request(&x, "cancel");
    request(&x, "longjmp");
    const struct snap_snapshot *sn = snapshot(&x);
    /* Each thread is cancelled in usleep(), holding the 48-byte block it just allocated: the
     * program lost exactly those 8 blocks, and the agent says so. */
    uint64_t blocks;
    uint64_t bytes;
    live_in(&x, sn, "cancellable", &blocks, &bytes);
    assert_int_equal(blocks, 8);
    assert_int_equal(bytes, 8 * 48);
    /* The longjmp rounds free everything they allocate: a second one changes nothing. */
    request(&x, "longjmp");
    const struct snap_snapshot *again = snapshot(&x);
    assert_int_equal(again->counters[PROTO_C_LIVE_BLOCKS], sn->counters[PROTO_C_LIVE_BLOCKS]);
    session_end(&x);
}

/* Blocks of a library that is dlclose'd stay live and keep their symbols, taken from the
 * objects seen while it was loaded. */
static void test_agent_dlclose_with_live_blocks(void **state)
{
    (void)state;
    char env[4200];
    dl_lib_env(env, sizeof(env));
    char *env_add[] = {env, NULL};
    struct session x;
    session_start(&x, "targets/agent_stress", env_add);
    snapshot(&x);
    request(&x, "dlopen");
    snapshot(&x);
    request(&x, "dlclose");
    const struct snap_snapshot *sn = snapshot(&x);
    expect_site(&x, sn, 9, 9 * 321, "dl_lib_alloc");
    session_end(&x);
}

/* A library preloaded before or after the agent allocates in its constructor; the program
 * frees those blocks later (unknown to the agent when they predate it). Both orders work. */
static void test_agent_allocations_before_constructor(void **state)
{
    (void)state;
    char early[4096];
    char prog[4096];
    char pre[8400];
    it_build_path(early, sizeof(early), "targets/libagent_early.so");
    it_build_path(prog, sizeof(prog), "targets/agent_nounwind");
    it_build_path(agent_path, sizeof(agent_path), "libleakcheck-agent.so");
    for (int order = 0; order < 2; order++) {
        snprintf(pre, sizeof(pre), "LD_PRELOAD=%s:%s", order ? agent_path : early,
                 order ? early : agent_path);
        char *argv[] = {prog, NULL};
        char *env[] = {pre, NULL};
        struct it_result r = {0};
        assert_int_equal(it_run(argv, env, "go\nearly\ngo\n", 30, &r), 0);
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(r.out, "ok\nok\nok\n");
        free(r.out);
    }
}

/* No frame pointers, no unwind tables: stacks may come out short, the program runs on, the
 * blocks are still counted exactly, and the report flags the short stacks. */
static void test_agent_without_unwind_info(void **state)
{
    (void)state;
    struct session x;
    session_start(&x, "targets/agent_nounwind", NULL);
    request(&x, "go");
    const struct snap_snapshot *sn = snapshot(&x);
    request(&x, "go");
    request(&x, "go");
    sn = snapshot(&x);
    uint64_t blocks = 0;
    for (size_t i = 0; i < sn->n_sites; i++) {
        if (sn->sites[i].live_bytes % 777 == 0 && sn->sites[i].live_blocks > 0) {
            blocks += sn->sites[i].live_blocks;
        }
    }
    assert_int_equal(blocks, 15);
    session_end(&x);

    /* Through the harness, the short stacks are flagged in the report. */
    char lc[4096];
    char prog[4096];
    it_build_path(lc, sizeof(lc), "leakcheck");
    it_build_path(prog, sizeof(prog), "targets/agent_nounwind");
    const char *argv[] = {lc,
                          "run",
                          "-q",
                          "--rounds",
                          "6",
                          "--warmup",
                          "1",
                          "--requests-per-round",
                          "5",
                          "--request",
                          "go",
                          "--expect",
                          "any",
                          "--report-dir",
                          "build/it-agent-nounwind",
                          "--",
                          prog,
                          NULL};
    struct it_result r = {0};
    assert_int_equal(it_run((char *const *)(uintptr_t)argv, NULL, NULL, 60, &r), 0);
    assert_int_equal(r.exit_code, 0);
    free(r.out);
    char *json = it_read_file("build/it-agent-nounwind/report.json", NULL);
    assert_non_null(json);
    cJSON *root = cJSON_Parse(json);
    free(json);
    assert_non_null(root);
    const cJSON *scn = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "scenarios"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(scn, "stacks_truncated")));
    bool flagged = false;
    const cJSON *site;
    cJSON_ArrayForEach(site, cJSON_GetObjectItem(scn, "sites"))
    {
        const cJSON *fn = cJSON_GetObjectItem(site, "function");
        if (cJSON_IsString(fn) && strcmp(fn->valuestring, "deep3") == 0) {
            flagged = cJSON_IsTrue(cJSON_GetObjectItem(site, "truncated"));
        }
    }
    assert_true(flagged);
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_hello_and_canary),
        cmocka_unit_test(test_agent_every_allocation_function),
        cmocka_unit_test(test_agent_eight_threads),
        cmocka_unit_test(test_agent_fork_child_is_silent),
        cmocka_unit_test(test_agent_dlopen_library),
        cmocka_unit_test(test_agent_cxx_new),
        cmocka_unit_test(test_agent_edges_and_errno),
        cmocka_unit_test(test_agent_signal_handlers_allocate),
        cmocka_unit_test(test_agent_without_channel_passes_through),
        cmocka_unit_test(test_agent_stress_16_threads_while_snapshotting),
        cmocka_unit_test(test_agent_fork_storm_while_snapshotting),
        cmocka_unit_test(test_agent_cancel_and_longjmp),
        cmocka_unit_test(test_agent_dlclose_with_live_blocks),
        cmocka_unit_test(test_agent_allocations_before_constructor),
        cmocka_unit_test(test_agent_without_unwind_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
