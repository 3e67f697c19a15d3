/* SPDX-License-Identifier: MIT */
/* fuzz_analyze.c - libFuzzer target for `leakcheck analyze`: a recorded snapshot stream
 * (analysis/snap.c) analysed into a scenario result (analysis_run() in analysis/analysis.c: series,
 * growth, survivors by round, culprits). The objects the stream names are hidden from the
 * analysis: symbolizing them would open real ELF files (libdw's input, not ours) at a few
 * executions per second.
 *
 * A recording may come from another machine or a target that died mid-write; whatever the
 * numbers in it (huge counts, rounds out of order, empty snapshots), the analysis must end in a
 * verdict or an error, never a crash, a sanitizer report or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../analysis/analysis.h"
#include "../analysis/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    (void)snap_stream_feed(&st, data, size, &d);
    size_t *n_objects = calloc(st.n_snaps + 1, sizeof(*n_objects));
    if (st.n_snaps >= 1 && n_objects) {
        for (size_t i = 0; i < st.n_snaps; i++) {
            n_objects[i] = st.snaps[i].n_objects;
            st.snaps[i].n_objects = 0;
        }
        // As analyze does: the rounds are those of the recording, the first one warm-up.
        struct analysis_opts o = {
            .name = "fuzz",
            .warmup = 1,
            .rounds = (uint32_t)(st.n_snaps > 1 ? st.n_snaps - 1 : 1),
        };
        struct rpt_scenario out = {0};
        (void)analysis_run(&o, &st, NULL, NULL, &out);
        rpt_scenario_cleanup(&out);
        for (size_t i = 0; i < st.n_snaps; i++) {
            st.snaps[i].n_objects = n_objects[i];
        }
    }
    free(n_objects);
    snap_stream_cleanup(&st);
    return 0;
}
