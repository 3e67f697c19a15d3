/* SPDX-License-Identifier: MIT */
/* snap.c - incremental parser of the agent's frame stream.
 *
 * Bytes are appended to a buffer bounded by one frame (header + PROTO_MAX_PAYLOAD); complete
 * frames are decoded with the bounds-checked proto_get_* readers and then dropped from the
 * buffer. The snapshot being received lives in `cur` until its SNAP_END moves it to `snaps`.
 */
#include "snap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/arr.h"

void snap_stream_init(struct snap_stream *s)
{
    memset(s, 0, sizeof(*s));
}

static void snapshot_cleanup(struct snap_snapshot *sn)
{
    for (size_t i = 0; i < sn->n_sites; i++) {
        free(sn->sites[i].births);
    }
    free(sn->sites);
    for (size_t i = 0; i < sn->n_objects; i++) {
        free(sn->objects[i].path);
        free(sn->objects[i].build_id);
    }
    free(sn->objects);
    memset(sn, 0, sizeof(*sn));
}

void snap_stream_cleanup(struct snap_stream *s)
{
    free(s->agent_version);
    free(s->exe_path);
    free(s->cmdline);
    for (size_t i = 0; i < s->n_stacks; i++) {
        free(s->stacks[i].pcs);
    }
    free(s->stacks);
    for (size_t i = 0; i < s->n_snaps; i++) {
        snapshot_cleanup(&s->snaps[i]);
    }
    free(s->snaps);
    snapshot_cleanup(&s->cur);
    free(s->buf);
    free(s->index);
    memset(s, 0, sizeof(*s));
}

bool snap_stream_partial(const struct snap_stream *s)
{
    return s->in_snap || s->buf_len > 0;
}

static size_t hash_id(uint32_t id, size_t cap)
{
    return (size_t)((id * 2654435761u) & (cap - 1));
}

static int index_put(struct snap_stream *s, uint32_t id, size_t idx)
{
    if ((s->n_stacks + 1) * 2 > s->index_cap) {
        size_t nc = s->index_cap ? s->index_cap * 2 : 64;
        uint32_t *ni = calloc(nc, sizeof(*ni));
        if (!ni) {
            return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_stacks; i++) {
            size_t h = hash_id(s->stacks[i].id, nc);
            while (ni[h]) {
                h = (h + 1) & (nc - 1);
            }
            ni[h] = (uint32_t)(i + 1);
        }
        free(s->index);
        s->index = ni;
        s->index_cap = nc;
    }
    size_t h = hash_id(id, s->index_cap);
    while (s->index[h]) {
        h = (h + 1) & (s->index_cap - 1);
    }
    s->index[h] = (uint32_t)(idx + 1);
    return 0;
}

const struct snap_stack *snap_stream_stack(const struct snap_stream *s, uint32_t id)
{
    if (!s->index_cap) {
        return NULL;
    }
    size_t h = hash_id(id, s->index_cap);
    while (s->index[h]) {
        const struct snap_stack *st = &s->stacks[s->index[h] - 1];
        if (st->id == id) {
            return st;
        }
        h = (h + 1) & (s->index_cap - 1);
    }
    return NULL;
}

const struct snap_snapshot *snap_stream_find(const struct snap_stream *s, uint32_t round)
{
    for (size_t i = s->n_snaps; i > 0; i--) {
        if (s->snaps[i - 1].round == round) {
            return &s->snaps[i - 1];
        }
    }
    return NULL;
}

static const char *type_name(uint16_t t)
{
    switch (t) {
    case PROTO_HELLO:
        return "HELLO";
    case PROTO_REQ_SNAPSHOT:
        return "REQ_SNAPSHOT";
    case PROTO_SNAP_BEGIN:
        return "SNAP_BEGIN";
    case PROTO_STACK:
        return "STACK";
    case PROTO_SITE:
        return "SITE";
    case PROTO_OBJECT:
        return "OBJECT";
    case PROTO_SNAP_END:
        return "SNAP_END";
    default:
        return "unknown";
    }
}

/* Error helper: the frame type and stream offset, then what was wrong. */
#define BAD(s, d, h, ...)                                                                          \
    do {                                                                                           \
        char what_[256];                                                                           \
        snprintf(what_, sizeof(what_), __VA_ARGS__);                                               \
        return diag_set(d, -EBADMSG, "snapshot stream: %s frame at byte %llu: %s",                 \
                        type_name((h)->type), (unsigned long long)(s)->offset, what_);             \
    } while (0)

static int parse_hello(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                       struct diag *d)
{
    const uint8_t *v;
    const uint8_t *e;
    size_t vn;
    size_t en;
    uint32_t pid;
    uint32_t flags;
    uint64_t canary;
    if (s->have_hello) {
        BAD(s, d, h, "a second HELLO");
    }
    if (proto_get_u32(r, &pid) || proto_get_u32(r, &flags) || proto_get_u64(r, &canary) ||
        proto_get_str(r, &v, &vn) || proto_get_str(r, &e, &en)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    s->agent_version = strndup((const char *)v, vn);
    s->exe_path = strndup((const char *)e, en);
    if (!s->agent_version || !s->exe_path) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    /* Newer agents add their parent and command line. */
    uint32_t ppid;
    const uint8_t *c;
    size_t cn;
    if (proto_get_u32(r, &ppid) == 0 && proto_get_str(r, &c, &cn) == 0) {
        s->ppid = ppid;
        s->cmdline = malloc(cn + 1);
        if (!s->cmdline) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        memcpy(s->cmdline, c, cn);
        s->cmdline[cn] = '\0';
        s->cmdline_len = cn;
    }
    s->pid = pid;
    s->hello_flags = flags;
    s->canary_size = canary;
    s->have_hello = true;
    return 0;
}

static int parse_begin(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                       struct diag *d)
{
    if (s->in_snap) {
        BAD(s, d, h, "SNAP_BEGIN before the previous snapshot's SNAP_END");
    }
    if (s->n_snaps >= SNAP_MAX_SNAPSHOTS) {
        BAD(s, d, h, "more than %u snapshots", SNAP_MAX_SNAPSHOTS);
    }
    snapshot_cleanup(&s->cur);
    if (proto_get_u32(r, &s->cur.round) || proto_get_u32(r, &s->cur.flags)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    for (size_t i = 0; i < PROTO_NCOUNTERS; i++) {
        if (proto_get_u64(r, &s->cur.counters[i])) {
            BAD(s, d, h, "payload too short for %u counters (%u bytes)", PROTO_NCOUNTERS,
                h->length);
        }
    }
    s->cap_sites = 0;
    s->cap_objects = 0;
    s->in_snap = true;
    return 0;
}

/* True when the frames left in `r` (depth pcs) and `flags` are those of `known`. Reads nothing
 * out of `r` (works on a copy). Can't fail. */
static bool same_stack(const struct snap_stack *known, const struct proto_rbuf *r, uint16_t depth,
                       uint16_t flags)
{
    if (known->depth != depth || known->truncated != ((flags & PROTO_STACK_TRUNCATED) != 0) ||
        known->source != (flags & (PROTO_STACK_MMAP | PROTO_STACK_BRK))) {
        return false;
    }
    struct proto_rbuf copy = *r;
    for (size_t i = 0; i < depth; i++) {
        uint64_t pc;
        if (proto_get_u64(&copy, &pc) != 0 || pc != known->pcs[i]) {
            return false;
        }
    }
    return true;
}

static int parse_stack(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                       struct diag *d)
{
    uint32_t id;
    uint16_t depth;
    uint16_t flags;
    if (!s->in_snap) {
        BAD(s, d, h, "outside a snapshot");
    }
    if (proto_get_u32(r, &id) || proto_get_u16(r, &depth) || proto_get_u16(r, &flags)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    if (depth > PROTO_MAX_DEPTH) {
        BAD(s, d, h, "stack %u has depth %u, over the limit of %u", id, depth, PROTO_MAX_DEPTH);
    }
    if (r->len - r->pos < (size_t)depth * 8) {
        BAD(s, d, h, "stack %u: payload too short for %u frames", id, depth);
    }
    const struct snap_stack *known = snap_stream_stack(s, id);
    if (known) {
        /* A sender may repeat its whole stack table (in-process snapshots do): the same frames
         * again are no news; other frames under a known id are corrupt. */
        if (same_stack(known, r, depth, flags)) {
            return 0;
        }
        BAD(s, d, h, "stack %u sent twice with different frames", id);
    }
    if (s->n_stacks >= SNAP_MAX_STACKS) {
        BAD(s, d, h, "more than %u stacks", SNAP_MAX_STACKS);
    }
    if (arr_grow((void **)&s->stacks, &s->cap_stacks, s->n_stacks, sizeof(*s->stacks)) < 0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    struct snap_stack *st = &s->stacks[s->n_stacks];
    st->pcs = calloc(depth ? depth : 1, sizeof(*st->pcs));
    if (!st->pcs) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < depth; i++) {
        proto_get_u64(r, &st->pcs[i]);
    }
    st->id = id;
    st->depth = depth;
    st->truncated = (flags & PROTO_STACK_TRUNCATED) != 0;
    st->source = flags & (PROTO_STACK_MMAP | PROTO_STACK_BRK);
    if (index_put(s, id, s->n_stacks) < 0) {
        free(st->pcs);
        return diag_set(d, -ENOMEM, "out of memory");
    }
    s->n_stacks++;
    return 0;
}

static int parse_site(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                      struct diag *d)
{
    struct snap_site site = {0};
    uint32_t n_births;
    if (!s->in_snap) {
        BAD(s, d, h, "outside a snapshot");
    }
    if (proto_get_u32(r, &site.stack_id) || proto_get_u32(r, &n_births) ||
        proto_get_u64(r, &site.live_bytes) || proto_get_u64(r, &site.live_blocks) ||
        proto_get_u64(r, &site.alloc_blocks) || proto_get_u64(r, &site.alloc_bytes)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    if (n_births > SNAP_MAX_BIRTHS || r->len - r->pos < (size_t)n_births * 24) {
        BAD(s, d, h, "site of stack %u: %u births don't fit in the payload", site.stack_id,
            n_births);
    }
    if (s->cur.n_sites >= SNAP_MAX_SITES) {
        BAD(s, d, h, "more than %u sites in one snapshot", SNAP_MAX_SITES);
    }
    if (arr_grow((void **)&s->cur.sites, &s->cap_sites, s->cur.n_sites, sizeof(*s->cur.sites)) <
        0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    site.births = calloc(n_births ? n_births : 1, sizeof(*site.births));
    if (!site.births) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n_births; i++) {
        uint32_t pad;
        proto_get_u32(r, &site.births[i].epoch);
        proto_get_u32(r, &pad);
        proto_get_u64(r, &site.births[i].blocks);
        proto_get_u64(r, &site.births[i].bytes);
        if (i > 0 && site.births[i].epoch <= site.births[i - 1].epoch) {
            free(site.births);
            BAD(s, d, h, "site of stack %u: birth epochs not ascending", site.stack_id);
        }
    }
    site.n_births = n_births;
    s->cur.sites[s->cur.n_sites++] = site;
    return 0;
}

static int parse_object(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                        struct diag *d)
{
    struct snap_object o = {0};
    uint16_t n_segs;
    uint16_t pad16;
    uint32_t pad32;
    const uint8_t *p;
    const uint8_t *b;
    size_t pn;
    size_t bn;
    if (!s->in_snap) {
        BAD(s, d, h, "outside a snapshot");
    }
    if (proto_get_u64(r, &o.base) || proto_get_u16(r, &n_segs) || proto_get_u16(r, &pad16) ||
        proto_get_u32(r, &pad32)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    if (n_segs > PROTO_MAX_SEGS) {
        BAD(s, d, h, "%u segments, over the limit of %u", n_segs, PROTO_MAX_SEGS);
    }
    for (size_t i = 0; i < n_segs; i++) {
        if (proto_get_u64(r, &o.segs[i].start) || proto_get_u64(r, &o.segs[i].end) ||
            proto_get_u64(r, &o.segs[i].file_offset)) {
            BAD(s, d, h, "payload too short for %u segments", n_segs);
        }
    }
    if (proto_get_str(r, &p, &pn) || proto_get_str(r, &b, &bn)) {
        BAD(s, d, h, "payload too short for path and build id");
    }
    if (s->cur.n_objects >= SNAP_MAX_OBJECTS) {
        BAD(s, d, h, "more than %u objects in one snapshot", SNAP_MAX_OBJECTS);
    }
    if (arr_grow((void **)&s->cur.objects, &s->cap_objects, s->cur.n_objects,
                 sizeof(*s->cur.objects)) < 0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    o.n_segs = n_segs;
    o.path = strndup((const char *)p, pn);
    o.build_id = malloc(bn ? bn : 1);
    if (!o.path || !o.build_id) {
        free(o.path);
        free(o.build_id);
        return diag_set(d, -ENOMEM, "out of memory");
    }
    memcpy(o.build_id, b, bn);
    o.build_id_len = bn;
    s->cur.objects[s->cur.n_objects++] = o;
    return 0;
}

static int parse_end(struct snap_stream *s, struct proto_rbuf *r, const struct proto_header *h,
                     struct diag *d)
{
    uint32_t round;
    uint32_t n_stacks;
    uint32_t n_sites;
    uint32_t n_objects;
    if (!s->in_snap) {
        BAD(s, d, h, "outside a snapshot");
    }
    if (proto_get_u32(r, &round) || proto_get_u32(r, &n_stacks) || proto_get_u32(r, &n_sites) ||
        proto_get_u32(r, &n_objects)) {
        BAD(s, d, h, "payload too short (%u bytes)", h->length);
    }
    if (round != s->cur.round) {
        BAD(s, d, h, "ends round %u but round %u began", round, s->cur.round);
    }
    if (n_sites != s->cur.n_sites || n_objects != s->cur.n_objects) {
        BAD(s, d, h, "announces %u sites and %u objects, %zu and %zu arrived", n_sites, n_objects,
            s->cur.n_sites, s->cur.n_objects);
    }
    if (arr_grow((void **)&s->snaps, &s->cap_snaps, s->n_snaps, sizeof(*s->snaps)) < 0) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    s->snaps[s->n_snaps++] = s->cur;
    memset(&s->cur, 0, sizeof(s->cur));
    s->in_snap = false;
    return 0;
}

static int parse_frame(struct snap_stream *s, const struct proto_header *h, const uint8_t *payload,
                       struct diag *d)
{
    struct proto_rbuf r = {.data = payload, .len = h->length, .pos = 0};
    switch (h->type) {
    case PROTO_HELLO:
        return parse_hello(s, &r, h, d);
    case PROTO_SNAP_BEGIN:
        return parse_begin(s, &r, h, d);
    case PROTO_STACK:
        return parse_stack(s, &r, h, d);
    case PROTO_SITE:
        return parse_site(s, &r, h, d);
    case PROTO_OBJECT:
        return parse_object(s, &r, h, d);
    case PROTO_SNAP_END:
        return parse_end(s, &r, h, d);
    default:
        return diag_set(d, -EBADMSG, "snapshot stream: unexpected frame type %u at byte %llu",
                        h->type, (unsigned long long)s->offset);
    }
}

int snap_stream_feed(struct snap_stream *s, const uint8_t *p, size_t n, struct diag *d)
{
    if (s->error) {
        return diag_set(d, s->error, "snapshot stream: already failed");
    }
    while (n > 0) {
        /* Take what the current frame still needs: the header first, then the payload. */
        size_t need = PROTO_HEADER_SIZE;
        struct proto_header h = {0};
        if (s->buf_len >= PROTO_HEADER_SIZE) {
            proto_header_parse(s->buf, &h);
            need = PROTO_HEADER_SIZE + h.length;
        }
        size_t take = need - s->buf_len;
        if (take > n) {
            take = n;
        }
        if (arr_grow((void **)&s->buf, &s->buf_cap, s->buf_len + take, 1) < 0) {
            s->error = -ENOMEM;
            return diag_set(d, -ENOMEM, "out of memory");
        }
        memcpy(s->buf + s->buf_len, p, take);
        s->buf_len += take;
        p += take;
        n -= take;
        if (s->buf_len == PROTO_HEADER_SIZE && need == PROTO_HEADER_SIZE) {
            if (proto_header_parse(s->buf, &h) < 0) {
                uint32_t magic = (uint32_t)s->buf[0] | (uint32_t)s->buf[1] << 8 |
                                 (uint32_t)s->buf[2] << 16 | (uint32_t)s->buf[3] << 24;
                uint16_t ver = (uint16_t)(s->buf[4] | s->buf[5] << 8);
                uint32_t len = (uint32_t)s->buf[8] | (uint32_t)s->buf[9] << 8 |
                               (uint32_t)s->buf[10] << 16 | (uint32_t)s->buf[11] << 24;
                const char *why = magic != PROTO_MAGIC   ? "wrong magic"
                                  : ver != PROTO_VERSION ? "unsupported protocol version"
                                                         : "frame larger than the limit";
                s->error = -EBADMSG;
                return diag_set(d, -EBADMSG,
                                "snapshot stream: bad frame header at byte %llu: %s (magic "
                                "0x%08x, version %u, length %u; is this a leakcheck recording "
                                "from the same version?)",
                                (unsigned long long)s->offset, why, magic, ver, len);
            }
            need = PROTO_HEADER_SIZE + h.length;
        }
        if (s->buf_len >= PROTO_HEADER_SIZE && s->buf_len == need) {
            int rc = parse_frame(s, &h, s->buf + PROTO_HEADER_SIZE, d);
            if (rc < 0) {
                s->error = rc;
                return rc;
            }
            s->offset += s->buf_len;
            s->buf_len = 0;
        }
    }
    return 0;
}
