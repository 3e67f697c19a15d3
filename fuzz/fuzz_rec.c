/* SPDX-License-Identifier: MIT */
/* fuzz_rec.c - libFuzzer target for a process tree's recording (analysis/rec.c: the harness's
 * frames, REC_RETAIN's retainer paths included) analysed as `leakcheck analyze` does
 * (proctree_analyse(): roles, the merge by stack, the retainer paths named, grouped and attached
 * to the sites). The objects the recording names are hidden from the analysis, and the retainer
 * paths' roots name no object: symbolizing them would open real ELF files (libdw's input, not
 * ours) at a few executions per second.
 *
 * Whatever the recording holds (counts past its length, paths through unknown sites, roots of
 * any kind), reading it ends in a result or an error, never a crash, a sanitizer report or a
 * leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../analysis/proctree.h"
#include "../analysis/rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Hides (hide true) or restores the objects of every snapshot of every process, and points
 * every retainer root at no object. */
static void hide_objects(struct rec *r, size_t **saved, bool hide)
{
    for (size_t i = 0; i < r->n_procs; i++) {
        struct snap_stream *st = &r->procs[i]->st;
        for (size_t k = 0; saved[i] && k < st->n_snaps; k++) {
            if (hide) {
                saved[i][k] = st->snaps[k].n_objects;
                st->snaps[k].n_objects = 0;
            } else {
                st->snaps[k].n_objects = saved[i][k];
            }
        }
        struct rec_retain *t = r->procs[i]->retain;
        for (size_t k = 0; hide && t && k < t->n_paths; k++) {
            t->paths[k].root_obj = PROTO_NO_OBJ;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rec r;
    struct diag d = {{0}};
    rec_init(&r);
    (void)rec_feed(&r, data, size, &d);
    size_t **saved = calloc(r.n_procs + 1, sizeof(*saved));
    bool ok = saved != NULL;
    for (size_t i = 0; ok && i < r.n_procs; i++) {
        saved[i] = calloc(r.procs[i]->st.n_snaps + 1, sizeof(**saved));
        ok = saved[i] != NULL;
    }
    if (ok && r.n_procs > 0) {
        hide_objects(&r, saved, true);
        struct analysis_opts o = {.name = "fuzz", .warmup = 1, .rounds = 3};
        struct rpt_scenario out = {0};
        (void)proctree_analyse(&o, &r, NULL, NULL, &out);
        rpt_scenario_cleanup(&out);
        hide_objects(&r, saved, false);
    }
    for (size_t i = 0; saved && i < r.n_procs; i++) {
        free(saved[i]);
    }
    free(saved);
    rec_cleanup(&r);
    return 0;
}
