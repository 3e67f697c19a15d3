/* SPDX-License-Identifier: MIT */
/* proto.c - encoding and bounds-checked decoding of control-channel frames.
 *
 * No heap, no stdio: this file is linked into the agent and runs on its hook path.
 */
#include "proto.h"

#include <errno.h>
#include <string.h>

static void put_raw(struct proto_wbuf *b, const void *p, size_t n)
{
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void proto_put_u16(struct proto_wbuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put_raw(b, x, sizeof(x));
}

void proto_put_u32(struct proto_wbuf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    put_raw(b, x, sizeof(x));
}

void proto_put_u64(struct proto_wbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) {
        x[i] = (uint8_t)(v >> (8 * i));
    }
    put_raw(b, x, sizeof(x));
}

void proto_put_bytes(struct proto_wbuf *b, const void *p, size_t n)
{
    put_raw(b, p, n);
}

void proto_put_str(struct proto_wbuf *b, const void *p, size_t n)
{
    if (n > 0xffff) {
        n = 0xffff;
    }
    proto_put_u16(b, (uint16_t)n);
    put_raw(b, p, n);
}

void proto_frame_begin(struct proto_wbuf *b, enum proto_type type)
{
    b->frame_start = b->len;
    proto_put_u32(b, PROTO_MAGIC);
    proto_put_u16(b, PROTO_VERSION);
    proto_put_u16(b, (uint16_t)type);
    proto_put_u32(b, 0);
}

void proto_frame_end(struct proto_wbuf *b)
{
    if (b->overflow) {
        return;
    }
    size_t n = b->len - b->frame_start - PROTO_HEADER_SIZE;
    uint8_t *p = b->data + b->frame_start + 8;
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(n >> (8 * i));
    }
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

int proto_get_u16(struct proto_rbuf *r, uint16_t *v)
{
    if (r->len - r->pos < 2) {
        return -EBADMSG;
    }
    *v = (uint16_t)get_le(r->data + r->pos, 2);
    r->pos += 2;
    return 0;
}

int proto_get_u32(struct proto_rbuf *r, uint32_t *v)
{
    if (r->len - r->pos < 4) {
        return -EBADMSG;
    }
    *v = (uint32_t)get_le(r->data + r->pos, 4);
    r->pos += 4;
    return 0;
}

int proto_get_u64(struct proto_rbuf *r, uint64_t *v)
{
    if (r->len - r->pos < 8) {
        return -EBADMSG;
    }
    *v = get_le(r->data + r->pos, 8);
    r->pos += 8;
    return 0;
}

int proto_get_bytes(struct proto_rbuf *r, size_t n, const uint8_t **p)
{
    if (r->len - r->pos < n) {
        return -EBADMSG;
    }
    *p = r->data + r->pos;
    r->pos += n;
    return 0;
}

int proto_get_str(struct proto_rbuf *r, const uint8_t **p, size_t *n)
{
    uint16_t len;
    size_t save = r->pos;
    if (proto_get_u16(r, &len) < 0 || proto_get_bytes(r, len, p) < 0) {
        r->pos = save;
        return -EBADMSG;
    }
    *n = len;
    return 0;
}

int proto_header_parse(const uint8_t *p, struct proto_header *h)
{
    if ((uint32_t)get_le(p, 4) != PROTO_MAGIC) {
        return -EBADMSG;
    }
    uint16_t version = (uint16_t)get_le(p + 4, 2);
    uint32_t length = (uint32_t)get_le(p + 8, 4);
    if (version != PROTO_VERSION || length > PROTO_MAX_PAYLOAD) {
        return -EBADMSG;
    }
    h->version = version;
    h->type = (uint16_t)get_le(p + 6, 2);
    h->length = length;
    return 0;
}

void proto_encode_req_snapshot(uint8_t out[PROTO_REQ_SNAPSHOT_SIZE], uint32_t round)
{
    struct proto_wbuf b = {.data = out, .cap = PROTO_REQ_SNAPSHOT_SIZE};
    proto_frame_begin(&b, PROTO_REQ_SNAPSHOT);
    proto_put_u32(&b, round);
    proto_put_u32(&b, 0);
    proto_frame_end(&b);
}

int proto_decode_req_snapshot(const uint8_t *payload, size_t len, uint32_t *round)
{
    struct proto_rbuf r = {.data = payload, .len = len};
    return proto_get_u32(&r, round);
}

void proto_encode_req_blocks(uint8_t out[PROTO_REQ_BLOCKS_SIZE])
{
    struct proto_wbuf b = {.data = out, .cap = PROTO_REQ_BLOCKS_SIZE};
    proto_frame_begin(&b, PROTO_REQ_BLOCKS);
    proto_put_u32(&b, 0);
    proto_frame_end(&b);
}
