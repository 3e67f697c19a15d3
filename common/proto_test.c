/* SPDX-License-Identifier: MIT */
/* proto_test.c - frame encoding and bounds-checked decoding of the channel protocol. */
#include "proto.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_proto_roundtrip_all_types(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    proto_frame_begin(&b, PROTO_SITE);
    proto_put_u16(&b, 0xbeef);
    proto_put_u32(&b, 0xdeadbeefu);
    proto_put_u64(&b, 0x0123456789abcdefull);
    proto_put_str(&b, "lib.so", 6);
    proto_frame_end(&b);
    assert_false(b.overflow);
    assert_int_equal(b.len, PROTO_HEADER_SIZE + 2 + 4 + 8 + 2 + 6);

    struct proto_header h;
    assert_int_equal(proto_header_parse(buf, &h), 0);
    assert_int_equal(h.type, PROTO_SITE);
    assert_int_equal(h.version, PROTO_VERSION);
    assert_int_equal(h.length, b.len - PROTO_HEADER_SIZE);

    struct proto_rbuf r = {.data = buf + PROTO_HEADER_SIZE, .len = h.length};
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    const uint8_t *p;
    size_t n;
    assert_int_equal(proto_get_u16(&r, &v16), 0);
    assert_int_equal(v16, 0xbeef);
    assert_int_equal(proto_get_u32(&r, &v32), 0);
    assert_int_equal(v32, 0xdeadbeefu);
    assert_int_equal(proto_get_u64(&r, &v64), 0);
    assert_true(v64 == 0x0123456789abcdefull);
    assert_int_equal(proto_get_str(&r, &p, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "lib.so", 6);
    assert_int_equal(r.pos, r.len);
}

static void test_proto_little_endian_on_wire(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    proto_put_u32(&b, 0x04030201u);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[3], 4);
    proto_frame_begin(&b, PROTO_HELLO);
    /* "LCK1" */
    assert_memory_equal(buf + 4, "LCK1", 4);
}

static void test_proto_overflow_is_flagged_not_written(void **state)
{
    (void)state;
    uint8_t buf[16];
    memset(buf, 0x55, sizeof(buf));
    struct proto_wbuf b = {.data = buf, .cap = 14};
    proto_frame_begin(&b, PROTO_STACK);
    proto_put_u64(&b, 1);
    assert_true(b.overflow);
    assert_int_equal(b.len, PROTO_HEADER_SIZE);
    assert_int_equal(buf[14], 0x55);
    proto_frame_end(&b); /* must not patch anything once overflowed */
}

static void test_proto_short_payload_is_rejected(void **state)
{
    (void)state;
    uint8_t data[5] = {1, 2, 3, 4, 5};
    struct proto_rbuf r = {.data = data, .len = sizeof(data)};
    uint64_t v64 = 42;
    assert_int_equal(proto_get_u64(&r, &v64), -EBADMSG);
    assert_true(v64 == 42);
    uint32_t v32;
    assert_int_equal(proto_get_u32(&r, &v32), 0);
    uint16_t v16 = 7;
    assert_int_equal(proto_get_u16(&r, &v16), -EBADMSG);
    assert_int_equal(v16, 7);
}

static void test_proto_str_longer_than_payload(void **state)
{
    (void)state;
    uint8_t data[4] = {10, 0, 'a', 'b'}; /* says 10 bytes, has 2 */
    struct proto_rbuf r = {.data = data, .len = sizeof(data)};
    const uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(proto_get_str(&r, &p, &n), -EBADMSG);
    assert_int_equal(r.pos, 0);
    assert_null(p);
}

static void test_proto_header_rejects_bad_magic_version_length(void **state)
{
    (void)state;
    uint8_t buf[PROTO_HEADER_SIZE];
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    proto_frame_begin(&b, PROTO_SNAP_END);
    proto_frame_end(&b);
    struct proto_header h;
    assert_int_equal(proto_header_parse(buf, &h), 0);

    uint8_t bad[PROTO_HEADER_SIZE];
    memcpy(bad, buf, sizeof(bad));
    bad[0] ^= 0xff;
    assert_int_equal(proto_header_parse(bad, &h), -EBADMSG);

    memcpy(bad, buf, sizeof(bad));
    bad[4] = 9; /* version */
    assert_int_equal(proto_header_parse(bad, &h), -EBADMSG);

    memcpy(bad, buf, sizeof(bad));
    uint32_t too_big = PROTO_MAX_PAYLOAD + 1;
    for (int i = 0; i < 4; i++) {
        bad[8 + i] = (uint8_t)(too_big >> (8 * i));
    }
    assert_int_equal(proto_header_parse(bad, &h), -EBADMSG);
}

static void test_proto_str_is_capped_at_u16(void **state)
{
    (void)state;
    static uint8_t big[70000];
    static uint8_t out[70100];
    memset(big, 'x', sizeof(big));
    struct proto_wbuf b = {.data = out, .cap = sizeof(out)};
    proto_put_str(&b, big, sizeof(big));
    assert_false(b.overflow);
    assert_int_equal(b.len, 2 + 0xffff);
}

/* The request encoder and decoder agree, and the frame is what the header promises. */
/* REQ_BLOCKS is a whole frame of its own type with a 4-byte payload. */
static void test_proto_req_blocks(void **state)
{
    (void)state;
    uint8_t frame[PROTO_REQ_BLOCKS_SIZE];
    proto_encode_req_blocks(frame);
    struct proto_header h;
    assert_int_equal(proto_header_parse(frame, &h), 0);
    assert_int_equal(h.type, PROTO_REQ_BLOCKS);
    assert_int_equal(h.length, 4);
}

static void test_proto_req_snapshot_roundtrip(void **state)
{
    (void)state;
    uint8_t frame[PROTO_REQ_SNAPSHOT_SIZE];
    proto_encode_req_snapshot(frame, 0xdeadbeefu);
    struct proto_header h;
    assert_int_equal(proto_header_parse(frame, &h), 0);
    assert_int_equal(h.type, PROTO_REQ_SNAPSHOT);
    assert_int_equal(h.length, PROTO_REQ_SNAPSHOT_SIZE - PROTO_HEADER_SIZE);
    uint32_t round = 0;
    assert_int_equal(proto_decode_req_snapshot(frame + PROTO_HEADER_SIZE, h.length, &round), 0);
    assert_int_equal(round, 0xdeadbeefu);
    assert_int_equal(proto_decode_req_snapshot(frame + PROTO_HEADER_SIZE, 3, &round), -EBADMSG);
    assert_int_equal(round, 0xdeadbeefu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proto_roundtrip_all_types),
        cmocka_unit_test(test_proto_req_snapshot_roundtrip),
        cmocka_unit_test(test_proto_req_blocks),
        cmocka_unit_test(test_proto_little_endian_on_wire),
        cmocka_unit_test(test_proto_overflow_is_flagged_not_written),
        cmocka_unit_test(test_proto_short_payload_is_rejected),
        cmocka_unit_test(test_proto_str_longer_than_payload),
        cmocka_unit_test(test_proto_header_rejects_bad_magic_version_length),
        cmocka_unit_test(test_proto_str_is_capped_at_u16),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
