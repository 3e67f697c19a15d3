/* SPDX-License-Identifier: MIT */
/* rpt_fixture.h - a result model for the report tests, built without the harness.
 *
 * Four scenarios: "uploads-leaky" (an unexpected leak of 32 KiB/round at keep_upload, plus a
 * plateau site with a hostile C++ name and path, and a suppressed one-time site), a clean
 * scenario with a hostile name, an expected leak, and a run that failed. 15 rounds, 3 warm-up.
 * Test-only: included by reports/ *_test.c and tests/it_reports.c.
 */
#ifndef REPORTS_RPT_FIXTURE_H
#define REPORTS_RPT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "../model/rpt.h"

#define FIX_ROUNDS         15
#define FIX_WARMUP         3
#define FIX_LEAK_PER_ROUND 32768u
#define FIX_HOSTILE_FN     "std::map<int, std::string>::operator[]"
#define FIX_HOSTILE_FILE   "src/we \"ird\" & dir/x <y>.cc"
#define FIX_HOSTILE_NAME   "cache fixed | \"q\" </script>\n&amp; *x*"

/* strdup that aborts the test on failure (fixtures are not under test). */
__attribute__((unused)) static char *fix_strdup(const char *s)
{
    if (!s) {
        return NULL;
    }
    char *p = strdup(s);
    if (!p) {
        abort();
    }
    return p;
}

/* calloc that aborts the test on failure. */
__attribute__((unused)) static void *fix_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        abort();
    }
    return p;
}

/* Fills one frame. */
__attribute__((unused)) static void fix_frame(struct rpt_frame *f, uint64_t addr, const char *fn,
                                              const char *file, uint32_t line, const char *obj,
                                              bool inlined)
{
    f->address = addr;
    f->function = fix_strdup(fn);
    f->file = fix_strdup(file);
    f->line = line;
    f->object = fix_strdup(obj);
    f->object_offset = addr & 0xfffff;
    f->inlined = inlined;
}

/* Fills a site whose live bytes follow base + per_round * (measured rounds so far) (capped at
 * `cap` bytes when cap != 0), with `block` bytes per block. */
__attribute__((unused)) static void fix_site(struct rpt_site *site, uint32_t id, const char *fn,
                                             const char *file, uint32_t line, uint64_t base,
                                             uint64_t per_round, uint64_t cap, uint64_t block)
{
    site->id = id;
    site->function = fix_strdup(fn);
    site->file = fix_strdup(file);
    site->line = line;
    site->object = fix_strdup("/opt/app/bin/server");
    site->live_bytes = fix_calloc(FIX_ROUNDS, sizeof(uint64_t));
    site->live_blocks = fix_calloc(FIX_ROUNDS, sizeof(uint64_t));
    for (uint32_t r = 0; r < FIX_ROUNDS; r++) {
        uint64_t measured = r + 1 > FIX_WARMUP ? r + 1 - FIX_WARMUP : 0;
        uint64_t v = base + per_round * measured;
        if (cap && v > cap) {
            v = cap;
        }
        site->live_bytes[r] = v;
        site->live_blocks[r] = v / block;
        if (v > site->peak_bytes) {
            site->peak_bytes = v;
        }
    }
    site->final_bytes = site->live_bytes[FIX_ROUNDS - 1];
    site->final_blocks = site->live_blocks[FIX_ROUNDS - 1];
    site->growth_bytes_signed =
        (int64_t)site->live_bytes[FIX_ROUNDS - 1] - (int64_t)site->live_bytes[FIX_WARMUP];
    site->growth_blocks_signed =
        (int64_t)site->live_blocks[FIX_ROUNDS - 1] - (int64_t)site->live_blocks[FIX_WARMUP];
    site->growth_bytes = site->growth_bytes_signed > 0 ? (uint64_t)site->growth_bytes_signed : 0;
    site->alloc_bytes = site->final_bytes * 3 + block;
    site->alloc_blocks = site->alloc_bytes / block;
    site->measured_rounds = FIX_ROUNDS - FIX_WARMUP;
}

/* Fills the rounds of a scenario from the sum of its sites plus `other` bytes. */
__attribute__((unused)) static void fix_rounds(struct rpt_scenario *s, uint64_t other)
{
    s->n_rounds = FIX_ROUNDS;
    s->rounds = fix_calloc(FIX_ROUNDS, sizeof(*s->rounds));
    for (uint32_t r = 0; r < FIX_ROUNDS; r++) {
        struct rpt_round *rd = &s->rounds[r];
        rd->round = r + 1;
        rd->warmup = r < FIX_WARMUP;
        rd->live_bytes = other + (r < FIX_WARMUP ? 4096u * (FIX_WARMUP - r) : 0);
        rd->live_blocks = 40;
        for (size_t i = 0; i < s->n_sites; i++) {
            rd->live_bytes += s->sites[i].live_bytes[r];
            rd->live_blocks += s->sites[i].live_blocks[r];
        }
        rd->rss_bytes = 3 * 1024 * 1024 + rd->live_bytes + 65536u * r;
        rd->heap_inuse_bytes = rd->live_bytes + 8192;
        rd->heap_free_bytes = 16384;
        rd->agent_bytes = 200000;
        rd->seconds = 0.125 + 0.001 * r;
    }
}

/* Common scenario fields. */
__attribute__((unused)) static void fix_scenario(struct rpt_scenario *s, const char *name,
                                                 enum rpt_verdict v, enum rpt_expect e, bool ok,
                                                 const char *reason)
{
    s->name = fix_strdup(name);
    s->verdict = v;
    s->expect = e;
    s->ok = ok;
    s->reason = fix_strdup(reason);
    s->threshold_bytes_per_round = 1024;
    s->trend_p_value = 1;
    s->rounds_planned = FIX_ROUNDS;
    s->warmup = FIX_WARMUP;
    s->exit_code = 0;
    s->seconds = 2.5;
    s->argv = fix_calloc(4, sizeof(char *));
    s->argv[0] = fix_strdup("build/scenarios/uploads");
    s->argv[1] = fix_strdup("--port");
    s->argv[2] = fix_strdup("8080");
}

/* The leaky scenario's sites: keep_upload (leak, suspect), the hostile C++ site (plateau), and
 * lazy_init_tables (step, suppressed). */
__attribute__((unused)) static void fix_leaky_sites(struct rpt_scenario *s)
{
    s->n_sites = 3;
    s->sites = fix_calloc(3, sizeof(*s->sites));

    struct rpt_site *a = &s->sites[0];
    fix_site(a, 7, "keep_upload", "scenarios/uploads/server.c", 88, 65536, FIX_LEAK_PER_ROUND, 0,
             16384);
    a->kind = RPT_KIND_LEAK;
    a->suspect = true;
    a->bytes_per_round = FIX_LEAK_PER_ROUND;
    a->blocks_per_round = 2;
    a->rounds_with_survivors = FIX_ROUNDS - FIX_WARMUP;
    a->n_frames = 5;
    a->frames = fix_calloc(5, sizeof(*a->frames));
    fix_frame(&a->frames[0], 0x7f3a12345677, "malloc", NULL, 0,
              "/usr/lib/x86_64-linux-gnu/libc.so.6", false);
    fix_frame(&a->frames[1], 0x55d0c3a0b1c1, "copy_chunk", "scenarios/uploads/server.c", 61,
              "/opt/app/bin/server", true);
    fix_frame(&a->frames[2], 0x55d0c3a0b1c1, "keep_upload", "scenarios/uploads/server.c", 88,
              "/opt/app/bin/server", false);
    fix_frame(&a->frames[3], 0x55d0c3a0a011, "handle_request", "scenarios/uploads/server.c", 140,
              "/opt/app/bin/server", false);
    fix_frame(&a->frames[4], 0x55d0c3a09abc, "main", "scenarios/uploads/server.c", 201,
              "/opt/app/bin/server", false);
    a->culprit_frame = 2;
    a->frames[0].skip = RPT_SKIP_LISTED;
    a->frames[1].skip = RPT_SKIP_RELAY;

    struct rpt_site *b = &s->sites[1];
    fix_site(b, 3, FIX_HOSTILE_FN, FIX_HOSTILE_FILE, 12, 8192, 4096, 24576, 64);
    b->kind = RPT_KIND_PLATEAU;
    b->bytes_per_round = 0;
    b->rounds_with_survivors = 4;
    b->n_frames = 3;
    b->frames = fix_calloc(3, sizeof(*b->frames));
    fix_frame(&b->frames[0], 0x7f3a12399001, "operator new(unsigned long)", NULL, 0,
              "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", false);
    b->frames[0].system_name = fix_strdup("_Znwm");
    fix_frame(&b->frames[1], 0x55d0c3a0c222, FIX_HOSTILE_FN, FIX_HOSTILE_FILE, 12,
              "/opt/app/bin/server", false);
    fix_frame(&b->frames[2], 0x55d0c3a09abc, "main", "scenarios/uploads/server.c", 201,
              "/opt/app/bin/server", false);
    b->culprit_frame = 1;
    b->frames[0].skip = RPT_SKIP_LISTED;

    struct rpt_site *c = &s->sites[2];
    fix_site(c, 1, "lazy_init_tables", "scenarios/uploads/tables.c", 5, 2048, 0, 0, 2048);
    c->kind = RPT_KIND_STEP;
    c->suppressed = true;
    c->n_frames = 2;
    c->frames = fix_calloc(2, sizeof(*c->frames));
    fix_frame(&c->frames[0], 0x7f3a12345677, "malloc", NULL, 0,
              "/usr/lib/x86_64-linux-gnu/libc.so.6", false);
    fix_frame(&c->frames[1], 0x55d0c3a0d001, "lazy_init_tables", "scenarios/uploads/tables.c", 5,
              "/opt/app/bin/server", false);
    c->culprit_frame = 1;
    c->frames[0].skip = RPT_SKIP_LISTED;
}

/* A retainer scan over the leaky scenario: keep_upload's sampled survivors, 60 held by the
 * global g_uploads through a block from upload_table_new, 4 lost. */
__attribute__((unused)) static void fix_retainers(struct rpt_scenario *s)
{
    s->retain = (struct rpt_retain_scan){.ran = true,
                                         .complete = true,
                                         .round = FIX_ROUNDS,
                                         .processes = 1,
                                         .stopped_seconds = 0.012,
                                         .seconds = 0.034,
                                         .bytes_read = 12u << 20,
                                         .live_blocks = 5000,
                                         .live_bytes = 10u << 20,
                                         .memory_bytes = 3u << 20};
    struct rpt_site *a = &s->sites[0];
    a->retain_sampled = 64;
    a->n_retainers = 2;
    a->retainers = fix_calloc(2, sizeof(*a->retainers));
    struct rpt_retainer *g = &a->retainers[0];
    g->kind = RPT_ROOT_GLOBAL;
    g->symbol = fix_strdup("g_uploads");
    g->object = fix_strdup("/opt/app/bin/server");
    g->file = fix_strdup("scenarios/uploads/server.c");
    g->line = 40;
    g->section = fix_strdup(".bss");
    g->offset = 8;
    g->n_via = 1;
    g->via = fix_calloc(1, sizeof(*g->via));
    g->via[0].function = fix_strdup("upload_table_new");
    g->via[0].file = fix_strdup("scenarios/uploads/server.c");
    g->via[0].line = 30;
    g->via[0].site = 4;
    g->via[0].offset = 16;
    g->blocks = 60;
    g->bytes = 60 * 32768;
    struct rpt_retainer *lost = &a->retainers[1];
    lost->kind = RPT_ROOT_UNREACHABLE;
    lost->blocks = 4;
    lost->bytes = 4 * 32768;
}

/* Builds the fixture run (caller frees with rpt_run_free()). */
__attribute__((unused)) static struct rpt_run *fix_run(void)
{
    struct rpt_run *run = fix_calloc(1, sizeof(*run));
    run->commit = fix_strdup("0123456789abcdef0123456789abcdef01234567");
    run->commit_message = fix_strdup("Fix \"uploads\" & <cache> | 50% </script>");
    run->started_at = fix_strdup("2024-05-01T12:00:00Z");
    run->agent_version = fix_strdup("0.1.0");
    run->host = fix_strdup("ci-1");
    run->n_scenarios = 4;
    run->scenarios = fix_calloc(4, sizeof(*run->scenarios));

    struct rpt_scenario *s = &run->scenarios[0];
    fix_scenario(s, "uploads-leaky", RPT_VERDICT_LEAK, RPT_EXPECT_NO_LEAK, false,
                 "12 of 12 measured rounds left blocks behind at one site");
    s->file = fix_strdup("scenarios/uploads/leaky.json");
    fix_leaky_sites(s);
    fix_retainers(s);
    fix_rounds(s, 100000);
    s->growth_bytes_per_round = FIX_LEAK_PER_ROUND;
    s->growth_blocks_per_round = 2;
    s->trend_p_value = 0.0001;
    s->unknown_frees = 1;

    s = &run->scenarios[1];
    fix_scenario(s, FIX_HOSTILE_NAME, RPT_VERDICT_NO_LEAK, RPT_EXPECT_NO_LEAK, true,
                 "live heap flat over 12 measured rounds");
    s->n_sites = 1;
    s->sites = fix_calloc(1, sizeof(*s->sites));
    fix_site(&s->sites[0], 2, FIX_HOSTILE_FN, FIX_HOSTILE_FILE, 12, 40960, 0, 0, 128);
    s->sites[0].n_frames = 1;
    s->sites[0].frames = fix_calloc(1, sizeof(struct rpt_frame));
    fix_frame(&s->sites[0].frames[0], 0x55d0c3a0c222, FIX_HOSTILE_FN, FIX_HOSTILE_FILE, 12,
              "/opt/app/bin/server", false);
    fix_rounds(s, 50000);
    s->growth_bytes_per_round = 0;

    s = &run->scenarios[2];
    fix_scenario(s, "uploads-expected", RPT_VERDICT_LEAK, RPT_EXPECT_LEAK, true,
                 "known leak: 12 of 12 measured rounds left blocks behind");
    fix_leaky_sites(s);
    fix_rounds(s, 100000);
    s->growth_bytes_per_round = FIX_LEAK_PER_ROUND;

    s = &run->scenarios[3];
    fix_scenario(s, "crashed", RPT_VERDICT_ERROR, RPT_EXPECT_NO_LEAK, false,
                 "the target crashed in round 4");
    s->error = fix_strdup("target killed by signal 11 (SIGSEGV) in round 4; run it under gdb");
    s->exit_code = -1;
    s->term_signal = 11;
    s->n_rounds = 3;
    s->rounds = fix_calloc(3, sizeof(*s->rounds));
    for (uint32_t r = 0; r < 3; r++) {
        s->rounds[r].round = r + 1;
        s->rounds[r].warmup = true;
        s->rounds[r].live_bytes = 1000 + r;
    }
    return run;
}

#endif
