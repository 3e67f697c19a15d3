/* SPDX-License-Identifier: MIT */
/* analysis_test.c - unit tests of analysis_run() and analysis_judge() on recordings built in
 * memory with the protocol's encoder: a steadily leaking site and its flat twin, too few rounds,
 * a run error, the agent's pass-through flag and dropped counter, thresholds, suppressions,
 * round bases and the expected culprit.
 *
 * The recorded program has three sites: LEAK_ID keeps `leak` bytes per round in one block born
 * in that round (or holds one 256-byte block from start-up when `leak` is 0), START_ID holds
 * 4096 bytes from start-up, and CHURN_ID allocates and frees every round (never live after
 * one). By default the stacks are made-up addresses that do not symbolize; with `symbolized`
 * they point into this program's own functions below, which an OBJECT frame lists, so the
 * culprit has a name.
 */
#include "analysis.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../util/test_locale.h"

#define LEAK_ID  9
#define START_ID 2
#define CHURN_ID 5
#define MAX_RND  16

/* The recorded program and what its recording says. */
struct t_prog {
    uint32_t rounds;       /* snapshots of rounds 1..rounds */
    uint32_t base;         /* rounds and epochs are numbered from here */
    uint64_t leak;         /* bytes kept per round at LEAK_ID */
    uint32_t last_flags;   /* extra PROTO_SNAP_* flags of the last snapshot */
    uint64_t last_dropped; /* the last snapshot's dropped counter */
    bool symbolized;       /* stacks inside this program, listed by an OBJECT frame */
    uint64_t start_growth; /* bytes START_ID gains every other round */
};

/* The functions the symbolized stacks point into. Never called. */
__attribute__((noinline, used)) static void *leaky_cache_put(size_t n)
{
    return malloc(n);
}

__attribute__((noinline, used)) static void *startup_tables(size_t n)
{
    return calloc(1, n);
}

__attribute__((noinline, used)) static void *handle_request(size_t n)
{
    return leaky_cache_put(n);
}

/* A return address whose call instruction is the first byte of `fn` (sym subtracts 1). */
static uint64_t ret_into(void *(*fn)(size_t))
{
    return (uint64_t)(uintptr_t)fn + 1;
}

/* Appends a STACK frame of two return addresses. */
static void put_stack(struct proto_wbuf *b, uint32_t id, uint64_t pc0, uint64_t pc1)
{
    proto_frame_begin(b, PROTO_STACK);
    proto_put_u32(b, id);
    proto_put_u16(b, 2);
    proto_put_u16(b, 0);
    proto_put_u64(b, pc0);
    proto_put_u64(b, pc1);
    proto_frame_end(b);
}

/* Appends the stacks of the three sites. */
static void put_stacks(struct proto_wbuf *b, const struct t_prog *p)
{
    if (p->symbolized) {
        put_stack(b, LEAK_ID, ret_into(leaky_cache_put), ret_into(handle_request));
        put_stack(b, START_ID, ret_into(startup_tables), ret_into(handle_request));
        put_stack(b, CHURN_ID, ret_into(handle_request), ret_into(handle_request));
        return;
    }
    put_stack(b, LEAK_ID, 0x7f0000001234, 0x7f0000005678);
    put_stack(b, START_ID, 0x7f0000002234, 0x7f0000005678);
    put_stack(b, CHURN_ID, 0x7f0000003234, 0x7f0000005678);
}

/* Appends a SITE frame with births[0..n-1] as (epoch, blocks, bytes) triples. */
static void put_site(struct proto_wbuf *b, uint32_t id, uint64_t bytes, uint64_t blocks,
                     uint64_t alloc, const uint64_t (*births)[3], size_t n)
{
    proto_frame_begin(b, PROTO_SITE);
    proto_put_u32(b, id);
    proto_put_u32(b, (uint32_t)n);
    proto_put_u64(b, bytes);
    proto_put_u64(b, blocks);
    proto_put_u64(b, alloc);
    proto_put_u64(b, alloc * 64);
    for (size_t i = 0; i < n; i++) {
        proto_put_u32(b, (uint32_t)births[i][0]);
        proto_put_u32(b, 0);
        proto_put_u64(b, births[i][1]);
        proto_put_u64(b, births[i][2]);
    }
    proto_frame_end(b);
}

/* Appends an OBJECT frame for the main program, as the agent lists it. */
static int put_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct proto_wbuf *b = data;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    assert_true(len > 0);
    uint16_t n_segs = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        n_segs += info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X);
    }
    proto_frame_begin(b, PROTO_OBJECT);
    proto_put_u64(b, info->dlpi_addr);
    proto_put_u16(b, n_segs);
    proto_put_u16(b, 0);
    proto_put_u32(b, 0);
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            proto_put_u64(b, info->dlpi_addr + ph->p_vaddr);
            proto_put_u64(b, info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
            proto_put_u64(b, ph->p_offset);
        }
    }
    proto_put_str(b, exe, (size_t)len);
    proto_put_str(b, "", 0);
    proto_frame_end(b);
    return 1; /* the main program comes first; the rest is not needed */
}

/* Appends the three SITE frames of round r (1-based) and returns the live bytes. */
static uint64_t put_sites(struct proto_wbuf *b, const struct t_prog *p, uint32_t r)
{
    uint64_t births[MAX_RND][3];
    size_t n = 0;
    uint64_t leak_bytes = 256;
    uint64_t leak_blocks = 1;
    births[n][0] = p->base;
    births[n][1] = 1;
    births[n++][2] = 256;
    if (p->leak) {
        n = 0;
        for (uint32_t e = 1; e <= r && n < MAX_RND; e++) {
            births[n][0] = p->base + e;
            births[n][1] = 1;
            births[n++][2] = p->leak;
        }
        leak_bytes = p->leak * r;
        leak_blocks = r;
    }
    put_site(b, LEAK_ID, leak_bytes, leak_blocks, r, births, n);
    uint64_t start = 4096 + p->start_growth * (r / 2);
    const uint64_t start_births[1][3] = {{p->base, 4, start}};
    put_site(b, START_ID, start, 4, 4, start_births, 1);
    put_site(b, CHURN_ID, 0, 0, 10u * r, NULL, 0);
    return leak_bytes + start;
}

/* Appends the snapshot of round r (1-based; on the wire base + r). */
static void put_snapshot(struct proto_wbuf *b, const struct t_prog *p, uint32_t r)
{
    uint8_t sites[4096];
    struct proto_wbuf sb = {.data = sites, .cap = sizeof(sites)};
    uint64_t live = put_sites(&sb, p, r);
    assert_false(sb.overflow);
    bool last = r == p->rounds;
    proto_frame_begin(b, PROTO_SNAP_BEGIN);
    proto_put_u32(b, p->base + r);
    proto_put_u32(b, PROTO_SNAP_CANARY_LIVE | (last ? p->last_flags : 0));
    for (int c = 0; c < PROTO_NCOUNTERS; c++) {
        uint64_t v = c == PROTO_C_LIVE_BYTES ? live : c == PROTO_C_LIVE_BLOCKS ? r + 5 : 0;
        proto_put_u64(b, c == PROTO_C_DROPPED && last ? p->last_dropped : v);
    }
    proto_frame_end(b);
    put_stacks(b, p);
    proto_put_bytes(b, sites, sb.len);
    if (p->symbolized) {
        dl_iterate_phdr(put_self, b);
    }
    proto_frame_begin(b, PROTO_SNAP_END);
    proto_put_u32(b, p->base + r);
    proto_put_u32(b, 3);
    proto_put_u32(b, 3);
    proto_put_u32(b, p->symbolized ? 1 : 0);
    proto_frame_end(b);
}

/* Records `p` and parses the recording into `st`. */
static void record(const struct t_prog *p, struct snap_stream *st)
{
    static uint8_t data[1 << 17];
    struct proto_wbuf b = {.data = data, .cap = sizeof(data)};
    for (uint32_t r = 1; r <= p->rounds; r++) {
        put_snapshot(&b, p, r);
    }
    assert_false(b.overflow);
    snap_stream_init(st);
    struct diag d = {{0}};
    assert_int_equal(snap_stream_feed(st, data, b.len, &d), 0);
    assert_int_equal(st->n_snaps, p->rounds);
}

/* Default options: 2 warm-up and 8 measured rounds, expecting no leak. */
static struct analysis_opts opts(void)
{
    return (struct analysis_opts){.name = "cache", .warmup = 2, .rounds = 8};
}

/* Records `p` and analyses it with `o`; the result goes to `out` (zeroed here). */
static void analyse(const struct t_prog *p, const struct analysis_opts *o, const char *run_error,
                    struct rpt_scenario *out)
{
    struct snap_stream st;
    record(p, &st);
    memset(out, 0, sizeof(*out));
    assert_int_equal(analysis_run(o, &st, NULL, run_error, out), 0);
    snap_stream_cleanup(&st);
}

/* The site with this id in the result, or NULL. */
static const struct rpt_site *site_of(const struct rpt_scenario *s, uint32_t id)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].id == id) {
            return &s->sites[i];
        }
    }
    return NULL;
}

/* Two warm-up rounds, then 8 in which one site keeps 256 B each: a leak, named first. */
static void test_analysis_run_steady_leak(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256};
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_false(s.ok);
    assert_string_equal(
        s.reason, "8 of 8 measured rounds left blocks behind at 1 site; top site +256 B/round, "
                  "heap +256 B/round");
    assert_int_equal(s.n_rounds, 10);
    assert_true(s.rounds[1].warmup);
    assert_false(s.rounds[2].warmup);
    assert_int_equal(s.rounds[9].live_bytes, 4096 + 2560);
    assert_true(s.growth_bytes_per_round == 256);
    assert_int_equal(s.n_sites, 2); /* CHURN_ID never held memory after a round */
    const struct rpt_site *top = &s.sites[0];
    assert_int_equal(top->id, LEAK_ID);
    assert_true(top->suspect);
    assert_int_equal(top->kind, RPT_KIND_LEAK);
    assert_true(top->bytes_per_round == 256);
    assert_true(top->blocks_per_round == 1);
    assert_int_equal(top->rounds_with_survivors, 8);
    assert_int_equal(top->measured_rounds, 8);
    assert_int_equal(top->final_bytes, 2560);
    assert_int_equal(top->growth_bytes, 2560 - 768);
    assert_int_equal(top->live_bytes[0], 256);
    assert_null(top->function); /* made-up addresses */
    assert_int_equal(top->n_frames, 2);
    assert_int_equal(top->frames[0].address, 0x7f0000001233);
    assert_int_equal(s.sites[1].id, START_ID);
    assert_false(s.sites[1].suspect);
    assert_int_equal(s.sites[1].kind, RPT_KIND_FLAT);
    assert_null(site_of(&s, CHURN_ID));
    rpt_scenario_cleanup(&s);
}

/* The twin: the same program holding one block from start-up instead. */
static void test_analysis_run_flat_is_no_leak(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10};
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_NO_LEAK);
    assert_true(s.ok);
    assert_string_equal(s.reason, "live heap flat (+0 B/round)");
    assert_true(s.growth_bytes_per_round == 0);
    assert_int_equal(s.n_sites, 2);
    for (size_t i = 0; i < s.n_sites; i++) {
        assert_false(s.sites[i].suspect);
        assert_int_equal(s.sites[i].kind, RPT_KIND_FLAT);
    }
    assert_int_equal(s.sites[0].id, START_ID); /* the larger one first */
    rpt_scenario_cleanup(&s);
}

/* The scenario's settings and the run's counters land in the result. */
static void test_analysis_run_header(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10};
    struct analysis_opts o = opts();
    o.file = "scenarios/cache.json";
    o.expect = RPT_EXPECT_ANY;
    o.threshold_bytes_per_round = 512;
    o.threshold_blocks_per_round = 3;
    struct snap_stream st;
    record(&p, &st);
    double seconds[10];
    for (size_t i = 0; i < 10; i++) {
        seconds[i] = 0.5 * (double)i;
    }
    struct rpt_scenario s = {0};
    assert_int_equal(analysis_run(&o, &st, seconds, NULL, &s), 0);
    snap_stream_cleanup(&st);
    assert_string_equal(s.name, "cache");
    assert_string_equal(s.file, "scenarios/cache.json");
    assert_int_equal(s.expect, RPT_EXPECT_ANY);
    assert_true(s.ok);
    assert_true(s.threshold_bytes_per_round == 512);
    assert_true(s.threshold_blocks_per_round == 3);
    assert_int_equal(s.rounds_planned, 10);
    assert_int_equal(s.warmup, 2);
    assert_int_equal(s.exit_code, -1);
    assert_true(s.rounds[7].seconds == 3.5);
    assert_int_equal(s.rounds[7].round, 8);
    assert_int_equal(s.rounds[7].live_blocks, 8 + 5);
    rpt_scenario_cleanup(&s);
}

/* Too few rounds: inconclusive, saying why; four measured rounds are enough. */
static void test_analysis_run_too_few_rounds(void **state)
{
    (void)state;
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    struct t_prog p = {.rounds = 3, .leak = 256};
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_false(s.ok);
    assert_string_equal(s.reason, "too few measured rounds to analyse (3 completed, 2 warm-up)");
    assert_int_equal(s.n_rounds, 3);
    assert_int_equal(s.n_sites, 2);
    assert_false(s.sites[0].suspect);
    rpt_scenario_cleanup(&s);

    p.rounds = 5;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_non_null(strstr(s.reason, "only 3 measured rounds, at least 4 are needed"));
    rpt_scenario_cleanup(&s);

    p.rounds = 6;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_string_equal(
        s.reason, "4 of 4 measured rounds left blocks behind at 1 site; top site +256 B/round, "
                  "heap +256 B/round");
    rpt_scenario_cleanup(&s);
}

/* A failed run: verdict error whatever the rounds show, the whole message kept, its first line
 * as the reason; the completed rounds are still analysed. */
static void test_analysis_run_error(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256};
    struct analysis_opts o = opts();
    o.expect = RPT_EXPECT_ANY;
    const char *err = "target crashed (signal 11) in round 10\nrun it under gdb to see where";
    struct rpt_scenario s;
    analyse(&p, &o, err, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_ERROR);
    assert_false(s.ok);
    assert_string_equal(s.error, err);
    assert_string_equal(s.reason, "target crashed (signal 11) in round 10");
    assert_int_equal(s.n_rounds, 10);
    assert_true(s.sites[0].suspect);
    rpt_scenario_cleanup(&s);

    analyse(&p, &o, "target not found", &s);
    assert_int_equal(s.verdict, RPT_VERDICT_ERROR);
    assert_string_equal(s.reason, "target not found");
    assert_string_equal(s.error, "target not found");
    rpt_scenario_cleanup(&s);

    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_true(s.ok);
    assert_null(s.error);
    rpt_scenario_cleanup(&s);
}

/* The agent in pass-through at the end: the profile is incomplete, whatever it shows. */
static void test_analysis_run_passthrough(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .last_flags = PROTO_SNAP_PASSTHROUGH};
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_non_null(strstr(s.reason, "stopped tracking during the run (pass-through)"));
    rpt_scenario_cleanup(&s);

    p.last_flags = PROTO_SNAP_TRUNCATED;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_true(s.stacks_truncated);
    rpt_scenario_cleanup(&s);
}

/* Dropped allocations make the run inconclusive with their count. */
static void test_analysis_run_dropped(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .last_dropped = 3};
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_int_equal(s.dropped, 3);
    assert_string_equal(s.reason, "the agent dropped 3 allocations (table full or agent error); "
                                  "the profile is incomplete");
    rpt_scenario_cleanup(&s);

    p.last_dropped = 0;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(s.dropped, 0);
    rpt_scenario_cleanup(&s);
}

/* Under the threshold, a leaking site does not make a leak verdict; over it, it does. */
static void test_analysis_run_threshold(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256};
    struct analysis_opts o = opts();
    o.threshold_bytes_per_round = 1024;
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_NO_LEAK);
    assert_non_null(strstr(s.reason, "under the threshold of 1024"));
    assert_non_null(strstr(s.reason, "; 1 site leaks under the threshold"));
    assert_false(s.sites[0].suspect);
    assert_int_equal(site_of(&s, LEAK_ID)->kind, RPT_KIND_LEAK);
    rpt_scenario_cleanup(&s);

    o.threshold_bytes_per_round = 256;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    rpt_scenario_cleanup(&s);
}

/* A recording numbered on from round 40 gives the same result with round_base 40; read from
 * round 0 it has no rounds at all. */
static void test_analysis_run_round_base(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .base = 40};
    struct analysis_opts o = opts();
    o.round_base = 40;
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_string_equal(
        s.reason, "8 of 8 measured rounds left blocks behind at 1 site; top site +256 B/round, "
                  "heap +256 B/round");
    assert_int_equal(s.rounds[0].round, 1);
    assert_int_equal(s.sites[0].rounds_with_survivors, 8);
    rpt_scenario_cleanup(&s);

    o.round_base = 0;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_INCONCLUSIVE);
    assert_int_equal(s.n_rounds, 0);
    assert_string_equal(s.reason, "too few measured rounds to analyse (0 completed, 2 warm-up)");
    rpt_scenario_cleanup(&s);
}

/* With stacks inside this program the culprit is named: function, file and line. */
static void test_analysis_run_names_the_culprit(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .symbolized = true};
    struct analysis_opts o = opts();
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_int_equal(s.sites[0].id, LEAK_ID);
    assert_string_equal(s.sites[0].function, "leaky_cache_put");
    assert_non_null(strstr(s.sites[0].file, "analysis_test.c"));
    assert_true(s.sites[0].line > 0);
    assert_string_equal(site_of(&s, START_ID)->function, "startup_tables");
    rpt_scenario_cleanup(&s);
}

/* A suppression matching the leaking site's function turns the leak into no-leak; one that
 * matches nothing changes nothing. */
static void test_analysis_run_suppression(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .symbolized = true};
    struct analysis_opts o = opts();
    char leaky[] = "leaky_*";
    char other[] = "parse_*";
    struct supp_rule rule = {.function = leaky};
    o.supp = &rule;
    o.n_supp = 1;
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_NO_LEAK);
    assert_true(s.ok);
    assert_non_null(strstr(s.reason, "1 leaking site suppressed"));
    const struct rpt_site *leak = site_of(&s, LEAK_ID);
    assert_true(leak->suppressed);
    assert_false(leak->suspect);
    assert_int_equal(leak->kind, RPT_KIND_LEAK);
    assert_false(site_of(&s, START_ID)->suppressed);
    rpt_scenario_cleanup(&s);

    rule.function = other;
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_false(s.sites[0].suppressed);
    rpt_scenario_cleanup(&s);
}

/* expect_culprit: a matching top suspect keeps ok; another one makes ok false and says so. */
static void test_analysis_run_expect_culprit(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .leak = 256, .symbolized = true};
    struct analysis_opts o = opts();
    o.expect = RPT_EXPECT_LEAK;
    o.expect_culprit = "leaky_*";
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    assert_true(s.ok);
    assert_string_equal(
        s.reason, "8 of 8 measured rounds left blocks behind at 1 site; top site +256 B/round, "
                  "heap +256 B/round");
    rpt_scenario_cleanup(&s);

    o.expect_culprit = "parse_*";
    analyse(&p, &o, NULL, &s);
    assert_int_equal(s.verdict, RPT_VERDICT_LEAK);
    assert_false(s.ok);
    assert_string_equal(
        s.reason, "8 of 8 measured rounds left blocks behind at 1 site; top site +256 B/round, "
                  "heap +256 B/round; expected the culprit 'parse_*', found "
                  "'leaky_cache_put'");
    rpt_scenario_cleanup(&s);

    p.symbolized = false;
    o.expect_culprit = "leaky_*";
    analyse(&p, &o, NULL, &s);
    assert_false(s.ok);
    assert_non_null(strstr(s.reason, "found 'no symbolized suspect'"));
    rpt_scenario_cleanup(&s);
}

/* ok for each verdict and expectation: only leak and no-leak can meet one. */
static void test_analysis_judge_table(void **state)
{
    (void)state;
    static const struct {
        enum rpt_verdict v;
        enum rpt_expect e;
        bool ok;
    } table[] = {
        {RPT_VERDICT_LEAK, RPT_EXPECT_LEAK, true},
        {RPT_VERDICT_LEAK, RPT_EXPECT_NO_LEAK, false},
        {RPT_VERDICT_LEAK, RPT_EXPECT_ANY, true},
        {RPT_VERDICT_NO_LEAK, RPT_EXPECT_LEAK, false},
        {RPT_VERDICT_NO_LEAK, RPT_EXPECT_NO_LEAK, true},
        {RPT_VERDICT_NO_LEAK, RPT_EXPECT_ANY, true},
        {RPT_VERDICT_INCONCLUSIVE, RPT_EXPECT_ANY, false},
        {RPT_VERDICT_INCONCLUSIVE, RPT_EXPECT_NO_LEAK, false},
        {RPT_VERDICT_ERROR, RPT_EXPECT_ANY, false},
        {RPT_VERDICT_ERROR, RPT_EXPECT_LEAK, false},
    };
    struct analysis_opts o = opts();
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        struct rpt_scenario s = {.verdict = table[i].v, .expect = table[i].e, .ok = !table[i].ok};
        analysis_judge(&o, &s);
        assert_int_equal(s.ok, table[i].ok);
        assert_null(s.reason);
    }
}

/* expect_culprit is checked against the top site only when it is a suspect; a suspect-less
 * leak (or no reason yet) still gets a readable reason. */
static void test_analysis_judge_culprit(void **state)
{
    (void)state;
    struct analysis_opts o = opts();
    o.expect_culprit = "keep_*";
    char name[] = "keep_upload";
    struct rpt_site site = {.function = name, .suspect = true};
    struct rpt_scenario s = {.verdict = RPT_VERDICT_LEAK, .expect = RPT_EXPECT_LEAK};
    s.sites = &site;
    s.n_sites = 1;
    analysis_judge(&o, &s);
    assert_true(s.ok);
    assert_null(s.reason);

    site.suspect = false;
    analysis_judge(&o, &s);
    assert_false(s.ok);
    assert_string_equal(s.reason, "leak; expected the culprit 'keep_*', found 'no symbolized "
                                  "suspect'");
    free(s.reason);

    /* a no-leak verdict is not checked against the culprit */
    s.verdict = RPT_VERDICT_NO_LEAK;
    s.expect = RPT_EXPECT_NO_LEAK;
    s.reason = NULL;
    analysis_judge(&o, &s);
    assert_true(s.ok);
    assert_null(s.reason);
}

/* Reasons are one format everywhere: a program that called setlocale() (the in-process library
 * runs inside the user's) still gets '.' in the figures (skipped without a decimal-comma
 * locale). */
static void test_analysis_run_reason_c_locale(void **state)
{
    (void)state;
    struct t_prog p = {.rounds = 10, .start_growth = 1};
    struct analysis_opts o = opts();
    struct rpt_scenario c;
    analyse(&p, &o, NULL, &c);
    if (!test_locale_comma()) {
        rpt_scenario_cleanup(&c);
        skip();
    }
    struct rpt_scenario s;
    analyse(&p, &o, NULL, &s);
    setlocale(LC_ALL, "C");
    assert_non_null(strstr(c.reason, "+0.5 B/round"));
    assert_string_equal(s.reason, c.reason);
    rpt_scenario_cleanup(&c);
    rpt_scenario_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analysis_run_steady_leak),
        cmocka_unit_test(test_analysis_run_flat_is_no_leak),
        cmocka_unit_test(test_analysis_run_header),
        cmocka_unit_test(test_analysis_run_too_few_rounds),
        cmocka_unit_test(test_analysis_run_error),
        cmocka_unit_test(test_analysis_run_passthrough),
        cmocka_unit_test(test_analysis_run_dropped),
        cmocka_unit_test(test_analysis_run_threshold),
        cmocka_unit_test(test_analysis_run_round_base),
        cmocka_unit_test(test_analysis_run_names_the_culprit),
        cmocka_unit_test(test_analysis_run_suppression),
        cmocka_unit_test(test_analysis_run_expect_culprit),
        cmocka_unit_test(test_analysis_judge_table),
        cmocka_unit_test(test_analysis_judge_culprit),
        cmocka_unit_test(test_analysis_run_reason_c_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
