/* SPDX-License-Identifier: MIT */
/* chan_test.c - unit tests of the harness's end of the control channel over a socketpair: the
 * test plays the agent with a recorded stream (fuzz/corpus/snap), reads the requests the channel
 * sends, and closes or keeps silent to check -EPIPE and -ETIMEDOUT. */
#include "chan.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/proto.h"
#include "../util/file.h"

#define RECORDED "fuzz/corpus/snap/run5-chunk256.bin" /* a chunk-size byte, then the stream */

/* A channel over a socketpair; `peer` is the agent's end. */
struct fixture {
    struct snap_stream st;
    struct chan c;
    int peer;
    char *stream; /* the recorded stream (after the chunk-size byte) */
    size_t stream_len;
    char *file;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int sv[2];
    size_t len = 0;
    struct diag d = {{0}};
    if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        file_read(RECORDED, 1u << 20, &f->file, &len, &d) != 0 || len < 2) {
        return -1;
    }
    f->stream = f->file + 1;
    f->stream_len = len - 1;
    snap_stream_init(&f->st);
    f->c = (struct chan){.fd = sv[0], .st = &f->st, .bin = NULL, .t = NULL};
    f->peer = sv[1];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close(f->c.fd);
    if (f->peer >= 0) {
        close(f->peer);
    }
    if (f->c.bin) {
        fclose(f->c.bin);
    }
    snap_stream_cleanup(&f->st);
    free(f->file);
    free(f);
    return 0;
}

/* The number of complete snapshots in the recorded stream, parsed directly. */
static size_t recorded_snaps(const struct fixture *f)
{
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, (const uint8_t *)f->stream, f->stream_len, &d), 0);
    size_t n = st.n_snaps;
    snap_stream_cleanup(&st);
    return n;
}

static void test_chan_wait_feeds_the_stream_and_records_it(void **state)
{
    struct fixture *f = *state;
    char *rec = NULL;
    size_t rec_len = 0;
    f->c.bin = open_memstream(&rec, &rec_len);
    assert_non_null(f->c.bin);
    size_t want = recorded_snaps(f);
    assert_true(want >= 2);
    assert_int_equal(write(f->peer, f->stream, f->stream_len), (ssize_t)f->stream_len);
    struct diag d = {{0}};
    assert_int_equal(chan_wait(&f->c, true, 0, 5000, &d), 0);
    assert_true(f->st.have_hello);
    assert_int_equal(chan_wait(&f->c, false, want, 5000, &d), 0);
    assert_int_equal(f->st.n_snaps, want);
    fflush(f->c.bin);
    assert_int_equal(rec_len, f->stream_len); /* every byte read is recorded */
    assert_memory_equal(rec, f->stream, rec_len);
    fclose(f->c.bin);
    f->c.bin = NULL;
    free(rec);
}

static void test_chan_snapshot_sends_the_request(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    /* The whole recording arrives; then one more snapshot than it holds is asked for: the
     * request goes out, and with no answer the wait ends at its deadline. */
    assert_int_equal(write(f->peer, f->stream, f->stream_len), (ssize_t)f->stream_len);
    size_t have = recorded_snaps(f);
    assert_int_equal(chan_wait(&f->c, false, have, 5000, &d), 0);
    assert_int_equal(chan_snapshot(&f->c, 7, 100, &d), -ETIMEDOUT);
    uint8_t got[PROTO_REQ_SNAPSHOT_SIZE];
    uint8_t want[PROTO_REQ_SNAPSHOT_SIZE];
    proto_encode_req_snapshot(want, 7);
    assert_int_equal(read(f->peer, got, sizeof(got)), (ssize_t)sizeof(got));
    assert_memory_equal(got, want, sizeof(want));
    assert_false(f->c.eof);
}

static void test_chan_eof_is_epipe(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    assert_int_equal(write(f->peer, f->stream, 10), 10); /* part of the HELLO, then the end */
    close(f->peer);
    f->peer = -1;
    assert_int_equal(chan_wait(&f->c, true, 0, 5000, &d), -EPIPE);
    assert_true(f->c.eof);
    assert_false(f->st.have_hello);
    /* A request on a channel whose peer is gone cannot be sent. */
    assert_int_equal(chan_snapshot(&f->c, 1, 1000, &d), -EPIPE);
}

static void test_chan_silence_is_etimedout(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    assert_int_equal(chan_wait(&f->c, true, 0, 100, &d), -ETIMEDOUT);
    assert_false(f->c.eof);
}

static void test_chan_garbage_is_ebadmsg(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    static const char junk[] = "this is not an agent's frame, not at all........";
    assert_int_equal(write(f->peer, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    assert_int_equal(chan_wait(&f->c, true, 0, 5000, &d), -EBADMSG);
    assert_true(d.msg[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chan_wait_feeds_the_stream_and_records_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chan_snapshot_sends_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_eof_is_epipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_silence_is_etimedout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_garbage_is_ebadmsg, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
