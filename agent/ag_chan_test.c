/* SPDX-License-Identifier: MIT */
/* ag_chan_test.c - the channel over a real socketpair: HELLO, the request loop (snapshots
 * answered in order, stacks sent once, unknown requests skipped, malformed ones ending the loop,
 * a write error ending it after one attempt), in-process snapshots to a pipe, and the read and
 * write loops under EINTR and short transfers.
 *
 * send() and read() are replaced for the whole program by this file's versions (the executable's
 * definition wins over libc's for ag_chan.o), which pass through to the kernel unless a test
 * asks them to fail, cut transfers short, or report EINTR. The test itself uses recv() and
 * write(), which are left alone.
 */
#include "ag_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "ag_test_decode.h"

/* How the fake send() and read() behave; all zero: pass through. */
static struct {
    int send_errno;     /* fail every send with this errno */
    unsigned eintr_mod; /* every eintr_mod-th call (1st, (mod+1)th, ...) fails with EINTR */
    size_t max_chunk;   /* transfer at most this many bytes per call */
    bool fake_read;     /* apply eintr_mod and max_chunk to read() too */
    unsigned sends;     /* send() calls */
    unsigned send_eintrs;
    unsigned reads;
    unsigned read_eintrs;
} fake;

/* send(2) for the whole program: fails, reports EINTR or cuts short as `fake` says. */
ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    fake.sends++;
    if (fake.send_errno) {
        errno = fake.send_errno;
        return -1;
    }
    if (fake.eintr_mod && fake.sends % fake.eintr_mod == 1) {
        fake.send_eintrs++;
        errno = EINTR;
        return -1;
    }
    if (fake.max_chunk && len > fake.max_chunk) {
        len = fake.max_chunk;
    }
    return syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

/* read(2) for the whole program: passes through unless fake.fake_read. */
ssize_t read(int fd, void *buf, size_t len)
{
    if (fake.fake_read) {
        fake.reads++;
        if (fake.eintr_mod && fake.reads % fake.eintr_mod == 1) {
            fake.read_eintrs++;
            errno = EINTR;
            return -1;
        }
        if (fake.max_chunk && len > fake.max_chunk) {
            len = fake.max_chunk;
        }
    }
    return syscall(SYS_read, fd, buf, len);
}

static const uintptr_t pcs_a[] = {0x401000, 0x402000, 0x403000};

/* A state with one stack (id 1) holding two live blocks of rounds 0 and 1, chan_fd = fd. */
static struct ag_state *state_new(int fd)
{
    struct ag_state *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    ag_chan_adopt(st, fd);
    st->depth = 32;
    atomic_store(&st->mode, AG_MODE_TRACK);
    assert_int_equal(ag_stack_intern(&st->stacks, pcs_a, 3, 0), 1);
    ag_stack_count_alloc(&st->stacks, 1, 100);
    ag_stack_count_alloc(&st->stacks, 1, 200);
    assert_int_equal(ag_table_insert(&st->table, 0x10000, 100, 1, 0), 0);
    assert_int_equal(ag_table_insert(&st->table, 0x20000, 200, 1, 1), 0);
    return st;
}

/* Setup: the fakes pass through again, the guard is clear. */
static int reset_fake(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    ag_guard = 0;
    return 0;
}

/* Everything readable on `fd` now (the writer has finished); the caller frees *out. */
static size_t drain(int fd, uint8_t **out)
{
    size_t cap = 1 << 16;
    size_t len = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    *out = buf;
    return len;
}

/* Everything readable on the non-blocking pipe `fd` now; the caller frees *out. */
static size_t drain_pipe(int fd, uint8_t **out)
{
    size_t cap = 1 << 20;
    size_t len = 0;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        ssize_t n = syscall(SYS_read, fd, buf + len, cap - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        assert_true(len < cap);
    }
    *out = buf;
    return len;
}

/* Appends a request frame of `type` with `payload_len` bytes (round, then zeros) to fd. */
static void put_request(int fd, uint16_t type, uint32_t round, size_t payload_len)
{
    uint8_t buf[PROTO_HEADER_SIZE + 128] = {0};
    struct proto_wbuf b = {.data = buf, .cap = sizeof(buf)};
    proto_frame_begin(&b, type);
    if (payload_len >= 4) {
        proto_put_u32(&b, round);
        payload_len -= 4;
    }
    static const uint8_t zeros[128];
    proto_put_bytes(&b, zeros, payload_len);
    proto_frame_end(&b);
    assert_false(b.overflow);
    assert_int_equal(write(fd, buf, b.len), (ssize_t)b.len);
}

/* Runs the request loop over sv[0] on this thread until it returns, then clears the guard. */
static void serve(struct ag_state *st)
{
    ag_chan_serve(st);
    assert_int_equal(ag_guard, 1); /* the channel thread keeps the guard set */
    ag_guard = 0;
    assert_int_equal(atomic_load(&st->mode), AG_MODE_PASS);
}

/* HELLO goes out whole through EINTR and 5-byte writes, and says who the agent is. */
static void test_chan_hello_through_eintr_and_short_writes(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct ag_state *st = state_new(sv[0]);
    fake.eintr_mod = 4;
    fake.max_chunk = 5;
    assert_int_equal(ag_chan_hello(st, 0), 0);
    assert_true(fake.send_eintrs >= 2);
    assert_true(fake.sends > 10);

    uint8_t *data;
    size_t len = drain(sv[1], &data);
    struct proto_header h;
    assert_true(len >= PROTO_HEADER_SIZE);
    assert_int_equal(proto_header_parse(data, &h), 0);
    assert_int_equal(h.type, PROTO_HELLO);
    assert_int_equal(len, PROTO_HEADER_SIZE + h.length);
    struct proto_rbuf r = {.data = data + PROTO_HEADER_SIZE, .len = h.length};
    uint32_t pid;
    uint32_t flags;
    uint64_t canary;
    const uint8_t *version;
    size_t version_len;
    const uint8_t *exe;
    size_t exe_len;
    assert_int_equal(proto_get_u32(&r, &pid), 0);
    assert_int_equal(proto_get_u32(&r, &flags), 0);
    assert_int_equal(proto_get_u64(&r, &canary), 0);
    assert_int_equal(proto_get_str(&r, &version, &version_len), 0);
    assert_int_equal(proto_get_str(&r, &exe, &exe_len), 0);
    uint32_t ppid;
    assert_int_equal(proto_get_u32(&r, &ppid), 0);
    assert_int_equal(ppid, (uint32_t)getppid());
    const uint8_t *cmd;
    size_t cmd_len;
    assert_int_equal(proto_get_str(&r, &cmd, &cmd_len), 0);
    assert_true(cmd_len > 0 && strstr((const char *)cmd, "ag_chan_test") != NULL);
    assert_int_equal(r.pos, r.len);
    assert_int_equal(pid, (uint32_t)getpid());
    assert_int_equal(flags, PROTO_HELLO_UNWIND);
    assert_int_equal(canary, PROTO_CANARY_SIZE);
    assert_int_equal(version_len, strlen(LEAKCHECK_VERSION));
    assert_memory_equal(version, LEAKCHECK_VERSION, version_len);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self));
    assert_true(n > 0);
    assert_int_equal(exe_len, (size_t)n);
    assert_memory_equal(exe, self, exe_len);
    free(data);
    free(st);
    close(sv[0]);
    close(sv[1]);
}

/* Two snapshot requests with an unknown request between them, then the end of the channel:
 * two snapshots in order, the stack sent with the first only, then pass-through. Requests
 * arrive a byte at a time with EINTRs, answers leave in 1000-byte pieces with EINTRs. */
static void test_chan_serve_answers_requests_in_order(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct ag_state *st = state_new(sv[0]);
    put_request(sv[1], PROTO_REQ_SNAPSHOT, 1, 8);
    put_request(sv[1], 99, 0, 16);
    put_request(sv[1], PROTO_REQ_SNAPSHOT, 2, 8);
    assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    fake.eintr_mod = 3;
    fake.max_chunk = 1000;
    fake.fake_read = true;
    serve(st);
    assert_true(fake.read_eintrs > 0 && fake.send_eintrs > 0);
    assert_int_equal(atomic_load(&st->epoch), 3);

    uint8_t *data;
    size_t len = drain(sv[1], &data);
    size_t pos = 0;
    struct ag_test_snap *s1 = ag_test_snap_new();
    struct ag_test_snap *s2 = ag_test_snap_new();
    ag_test_decode(data, len, &pos, s1);
    ag_test_decode(data, len, &pos, s2);
    assert_int_equal(pos, len); /* two answers, nothing else */
    assert_int_equal(s1->round, 1);
    assert_int_equal(s1->n_stacks, 1);
    assert_int_equal(s1->stacks[0].pcs[1], 0x402000);
    assert_int_equal(s2->round, 2);
    assert_int_equal(s2->n_stacks, 0);
    for (int i = 0; i < 2; i++) {
        const struct ag_test_snap *s = i == 0 ? s1 : s2;
        const struct ag_test_site *a = ag_test_site(s, 1);
        assert_non_null(a);
        assert_int_equal(a->live_bytes, 300);
        assert_int_equal(a->n_births, 2);
        assert_int_equal(a->births[1].epoch, 1);
        assert_int_equal(a->births[1].bytes, 200);
    }
    free(s1);
    free(s2);
    free(data);
    free(st);
    close(sv[0]);
    close(sv[1]);
}

/* A request the loop cannot read ends it at once, unanswered, with the agent in pass-through. */
static void check_malformed(void (*send_bad)(int fd))
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct ag_state *st = state_new(sv[0]);
    send_bad(sv[1]);
    put_request(sv[1], PROTO_REQ_SNAPSHOT, 7, 8); /* never reached */
    assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    serve(st);
    uint8_t *data;
    assert_int_equal(drain(sv[1], &data), 0);
    assert_int_equal(atomic_load(&st->epoch), 0); /* no snapshot began */
    free(data);
    free(st);
    close(sv[0]);
    close(sv[1]);
}

/* A header whose magic is wrong. */
static void bad_magic(int fd)
{
    uint8_t buf[PROTO_HEADER_SIZE + 8] = {'X', 'X', 'X', 'X'};
    assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
}

/* A snapshot request whose payload is too short to hold a round. */
static void short_payload(int fd)
{
    put_request(fd, PROTO_REQ_SNAPSHOT, 0, 2);
}

/* A request bigger than any the protocol defines. */
static void oversized(int fd)
{
    put_request(fd, PROTO_REQ_SNAPSHOT, 3, 100);
}

static void test_chan_serve_stops_on_malformed_requests(void **state)
{
    (void)state;
    check_malformed(bad_magic);
    check_malformed(short_payload);
    check_malformed(oversized);
}

/* When a write fails, the loop stops after that one attempt: no second snapshot is tried. */
static void test_chan_serve_stops_after_a_write_error(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct ag_state *st = state_new(sv[0]);
    put_request(sv[1], PROTO_REQ_SNAPSHOT, 1, 8);
    put_request(sv[1], PROTO_REQ_SNAPSHOT, 2, 8);
    assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    fake.send_errno = EPIPE;
    serve(st);
    assert_int_equal(fake.sends, 1);
    assert_int_equal(atomic_load(&st->epoch), 2); /* round 1 was taken, round 2 never */
    free(st);
    close(sv[0]);
    close(sv[1]);
}

/* The in-process path writes to a pipe (write(2) after send's ENOTSOCK), every stack each time;
 * a failing write is -EIO. */
static void test_chan_snapshot_to_pipe_sends_every_stack(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe2(p, O_NONBLOCK), 0);
    struct ag_state *st = state_new(-1);
    for (uint32_t round = 4; round < 6; round++) {
        ag_guard = 1;
        assert_int_equal(ag_chan_snapshot_to(st, p[1], round), 0);
        ag_guard = 0;
        uint8_t *data;
        size_t len = drain_pipe(p[0], &data);
        size_t pos = 0;
        struct ag_test_snap *s = ag_test_snap_new();
        ag_test_decode(data, len, &pos, s);
        assert_int_equal(pos, len);
        assert_int_equal(s->round, round);
        assert_int_equal(s->n_stacks, 1);
        assert_int_equal(ag_test_site(s, 1)->live_blocks, 2);
        free(s);
        free(data);
    }
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fake.send_errno = ECONNRESET;
    ag_guard = 1;
    assert_int_equal(ag_chan_snapshot_to(st, sv[0], 6), -EIO);
    ag_guard = 0;
    free(st);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_chan_hello_through_eintr_and_short_writes, reset_fake),
        cmocka_unit_test_setup(test_chan_serve_answers_requests_in_order, reset_fake),
        cmocka_unit_test_setup(test_chan_serve_stops_on_malformed_requests, reset_fake),
        cmocka_unit_test_setup(test_chan_serve_stops_after_a_write_error, reset_fake),
        cmocka_unit_test_setup(test_chan_snapshot_to_pipe_sends_every_stack, reset_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
