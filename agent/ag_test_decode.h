/* SPDX-License-Identifier: MIT */
/* ag_test_decode.h - test helper for ag_snap_test.c and ag_chan_test.c: decodes the agent's
 * snapshot frames with common/proto.h's bounds-checked readers, strictly (every frame's payload
 * read to its last byte, frames in protocol order), failing the calling cmocka test on anything
 * malformed. Test code only: uses the heap and cmocka. Include after <cmocka.h>.
 */
#ifndef AGENT_AG_TEST_DECODE_H
#define AGENT_AG_TEST_DECODE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto.h"

#define AG_TEST_MAX_STACKS 4096u
#define AG_TEST_MAX_SITES  4096u
#define AG_TEST_MAX_BIRTHS 8u /* births kept per site, besides the last one and the sums */
#define AG_TEST_MAX_OBJS   64u

struct ag_test_birth {
    uint32_t epoch;
    uint64_t blocks;
    uint64_t bytes;
};

struct ag_test_site {
    uint32_t stack_id;
    uint32_t n_births;
    uint64_t live_bytes;
    uint64_t live_blocks;
    uint64_t alloc_blocks;
    uint64_t alloc_bytes;
    struct ag_test_birth births[AG_TEST_MAX_BIRTHS]; /* the first ones */
    struct ag_test_birth last;                       /* the last one */
    uint64_t birth_blocks;                           /* sums over all births */
    uint64_t birth_bytes;
};

struct ag_test_stack {
    uint32_t id;
    uint16_t depth;
    uint16_t flags;
    uint64_t pcs[PROTO_MAX_DEPTH];
};

/* One decoded snapshot. Large: allocate it (ag_test_snap_new). */
struct ag_test_snap {
    uint32_t round;
    uint32_t flags;
    uint64_t counters[PROTO_NCOUNTERS];
    size_t n_stacks;
    struct ag_test_stack stacks[AG_TEST_MAX_STACKS];
    size_t n_sites;
    struct ag_test_site sites[AG_TEST_MAX_SITES];
    size_t n_objects;
    char object_paths[AG_TEST_MAX_OBJS][512];
    uint32_t end_round, end_stacks, end_sites, end_objects;
};

/* A zeroed snapshot; the caller frees it with free(). */
static inline struct ag_test_snap *ag_test_snap_new(void)
{
    struct ag_test_snap *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    return s;
}

/* The site of stack `id`, or NULL. */
static inline const struct ag_test_site *ag_test_site(const struct ag_test_snap *s, uint32_t id)
{
    for (size_t i = 0; i < s->n_sites; i++) {
        if (s->sites[i].stack_id == id) {
            return &s->sites[i];
        }
    }
    return NULL;
}

/* Decodes a STACK payload. */
static inline void ag_test_stack_frame(struct proto_rbuf *r, struct ag_test_snap *s)
{
    assert_true(s->n_stacks < AG_TEST_MAX_STACKS);
    struct ag_test_stack *st = &s->stacks[s->n_stacks++];
    assert_int_equal(proto_get_u32(r, &st->id), 0);
    assert_int_equal(proto_get_u16(r, &st->depth), 0);
    assert_int_equal(proto_get_u16(r, &st->flags), 0);
    assert_true(st->depth <= PROTO_MAX_DEPTH);
    for (unsigned i = 0; i < st->depth; i++) {
        assert_int_equal(proto_get_u64(r, &st->pcs[i]), 0);
    }
}

/* Decodes a SITE payload; births must come in ascending epoch order. */
static inline void ag_test_site_frame(struct proto_rbuf *r, struct ag_test_snap *s)
{
    assert_true(s->n_sites < AG_TEST_MAX_SITES);
    struct ag_test_site *site = &s->sites[s->n_sites++];
    assert_int_equal(proto_get_u32(r, &site->stack_id), 0);
    assert_int_equal(proto_get_u32(r, &site->n_births), 0);
    assert_int_equal(proto_get_u64(r, &site->live_bytes), 0);
    assert_int_equal(proto_get_u64(r, &site->live_blocks), 0);
    assert_int_equal(proto_get_u64(r, &site->alloc_blocks), 0);
    assert_int_equal(proto_get_u64(r, &site->alloc_bytes), 0);
    for (uint32_t b = 0; b < site->n_births; b++) {
        struct ag_test_birth x;
        uint32_t zero;
        assert_int_equal(proto_get_u32(r, &x.epoch), 0);
        assert_int_equal(proto_get_u32(r, &zero), 0);
        assert_int_equal(zero, 0);
        assert_int_equal(proto_get_u64(r, &x.blocks), 0);
        assert_int_equal(proto_get_u64(r, &x.bytes), 0);
        if (b > 0) {
            assert_true(x.epoch > site->last.epoch);
        }
        if (b < AG_TEST_MAX_BIRTHS) {
            site->births[b] = x;
        }
        site->last = x;
        site->birth_blocks += x.blocks;
        site->birth_bytes += x.bytes;
    }
}

/* Decodes an OBJECT payload, keeping its path. */
static inline void ag_test_object_frame(struct proto_rbuf *r, struct ag_test_snap *s)
{
    uint64_t base;
    uint16_t n_segs;
    uint16_t pad16;
    uint32_t pad32;
    assert_int_equal(proto_get_u64(r, &base), 0);
    assert_int_equal(proto_get_u16(r, &n_segs), 0);
    assert_int_equal(proto_get_u16(r, &pad16), 0);
    assert_int_equal(proto_get_u32(r, &pad32), 0);
    assert_true(n_segs >= 1 && n_segs <= PROTO_MAX_SEGS);
    for (unsigned i = 0; i < n_segs; i++) {
        uint64_t start;
        uint64_t end;
        uint64_t offset;
        assert_int_equal(proto_get_u64(r, &start), 0);
        assert_int_equal(proto_get_u64(r, &end), 0);
        assert_int_equal(proto_get_u64(r, &offset), 0);
        assert_true(start < end);
    }
    const uint8_t *path;
    size_t path_len;
    const uint8_t *bid;
    size_t bid_len;
    assert_int_equal(proto_get_str(r, &path, &path_len), 0);
    assert_int_equal(proto_get_str(r, &bid, &bid_len), 0);
    if (s->n_objects < AG_TEST_MAX_OBJS && path_len < sizeof(s->object_paths[0])) {
        memcpy(s->object_paths[s->n_objects], path, path_len);
    }
    s->n_objects++;
}

/* Decodes the SNAP_BEGIN payload. */
static inline void ag_test_begin_frame(struct proto_rbuf *r, struct ag_test_snap *s)
{
    assert_int_equal(proto_get_u32(r, &s->round), 0);
    assert_int_equal(proto_get_u32(r, &s->flags), 0);
    for (unsigned i = 0; i < PROTO_NCOUNTERS; i++) {
        assert_int_equal(proto_get_u64(r, &s->counters[i]), 0);
    }
}

/* Decodes the SNAP_END payload. */
static inline void ag_test_end_frame(struct proto_rbuf *r, struct ag_test_snap *s)
{
    assert_int_equal(proto_get_u32(r, &s->end_round), 0);
    assert_int_equal(proto_get_u32(r, &s->end_stacks), 0);
    assert_int_equal(proto_get_u32(r, &s->end_sites), 0);
    assert_int_equal(proto_get_u32(r, &s->end_objects), 0);
}

/* Decodes one snapshot from data[*pos..len) into `s` (zeroed by the caller) and moves *pos past
 * its SNAP_END. Fails the test unless it is SNAP_BEGIN, STACKs, SITEs, OBJECTs, SNAP_END in that
 * order, every payload read exactly, and the SNAP_END counts match the frames. */
static inline void ag_test_decode(const uint8_t *data, size_t len, size_t *pos,
                                  struct ag_test_snap *s)
{
    int last = 0;
    for (;;) {
        assert_true(len - *pos >= PROTO_HEADER_SIZE);
        struct proto_header h;
        assert_int_equal(proto_header_parse(data + *pos, &h), 0);
        assert_true(len - *pos - PROTO_HEADER_SIZE >= h.length);
        struct proto_rbuf r = {.data = data + *pos + PROTO_HEADER_SIZE, .len = h.length};
        *pos += PROTO_HEADER_SIZE + h.length;
        assert_true(last == 0 ? h.type == PROTO_SNAP_BEGIN : h.type >= last);
        assert_true(h.type >= PROTO_SNAP_BEGIN && h.type <= PROTO_SNAP_END);
        last = h.type;
        if (h.type == PROTO_SNAP_BEGIN) {
            assert_int_equal(s->n_stacks + s->n_sites + s->n_objects, 0);
            ag_test_begin_frame(&r, s);
        } else if (h.type == PROTO_STACK) {
            ag_test_stack_frame(&r, s);
        } else if (h.type == PROTO_SITE) {
            ag_test_site_frame(&r, s);
        } else if (h.type == PROTO_OBJECT) {
            ag_test_object_frame(&r, s);
        } else {
            ag_test_end_frame(&r, s);
        }
        assert_int_equal(r.pos, r.len);
        if (h.type == PROTO_SNAP_END) {
            break;
        }
    }
    assert_int_equal(s->end_round, s->round);
    assert_int_equal(s->end_stacks, s->n_stacks);
    assert_int_equal(s->end_sites, s->n_sites);
    assert_int_equal(s->end_objects, s->n_objects);
}

#endif
