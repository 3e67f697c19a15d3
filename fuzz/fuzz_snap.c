/* SPDX-License-Identifier: MIT */
/* fuzz_snap.c - libFuzzer target for the snapshot stream reader (harness/snap.c).
 *
 * The first input byte picks a chunk size (1..256), the rest is fed to snap_stream_feed() in
 * chunks of that size, as the channel delivers it. The parsed stream is then queried the way
 * the harness does (stacks by id, snapshots by round) and checked for its own invariants:
 * every site names a known stack, counts stay within the caps. Must never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../analysis/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = (size_t)data[0] + 1;
    data++;
    size--;
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        rc = snap_stream_feed(&st, data + off, n, &d);
    }
    if (rc != 0 && d.msg[0] == '\0') {
        abort(); /* an error without a message */
    }
    (void)snap_stream_partial(&st);
    if (st.n_stacks > SNAP_MAX_STACKS || st.n_snaps > SNAP_MAX_SNAPSHOTS) {
        abort();
    }
    for (size_t i = 0; i < st.n_stacks; i++) {
        const struct snap_stack *k = snap_stream_stack(&st, st.stacks[i].id);
        if (!k || k->id != st.stacks[i].id) {
            abort();
        }
    }
    for (size_t i = 0; i < st.n_snaps; i++) {
        const struct snap_snapshot *sn = &st.snaps[i];
        if (!snap_stream_find(&st, sn->round)) {
            abort();
        }
        for (size_t j = 0; j < sn->n_sites; j++) {
            (void)snap_stream_stack(&st, sn->sites[j].stack_id);
            for (size_t k = 0; k < sn->sites[j].n_births; k++) {
                (void)sn->sites[j].births[k].bytes;
            }
        }
        for (size_t j = 0; j < sn->n_objects; j++) {
            if (!sn->objects[j].path || sn->objects[j].n_segs > PROTO_MAX_SEGS) {
                abort();
            }
        }
    }
    snap_stream_cleanup(&st);
    return 0;
}
