/* SPDX-License-Identifier: MIT */
/* chan_test.c - the harness's end of the channels, with forked children playing agents: they
 * join the abstract socket with the run's key (or a wrong one) and send a recorded stream
 * (fuzz/corpus/snap). Checks joining, recording and reading the recording back, refusals, ends,
 * snapshot requests to every process, and deadlines. */
#include "chan.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/proto.h"
#include "../util/file.h"

#define RECORDED "fuzz/corpus/snap/run5-chunk256.bin" /* a chunk-size byte, then the stream */

enum peer_mode {
    PEER_ALL,        /* AUTH, the whole stream, then wait for the end of the channel */
    PEER_BAD_KEY,    /* AUTH with a wrong key, the stream, then exit */
    PEER_HELLO_EXIT, /* AUTH, HELLO only, then exit with code 3 */
};

struct fixture {
    struct rec rec;
    struct chan c;
    char *file;
    const uint8_t *stream; /* the recorded stream (after the chunk-size byte) */
    size_t stream_len;
    size_t hello_len; /* bytes of its first frame */
    char *bin_data;
    size_t bin_len;
    FILE *bin;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    size_t len = 0;
    struct diag d = {{0}};
    if (!f || file_read(RECORDED, 1u << 20, &f->file, &len, &d) != 0 || len < 2) {
        return -1;
    }
    f->stream = (const uint8_t *)f->file + 1;
    f->stream_len = len - 1;
    struct proto_header h;
    if (proto_header_parse(f->stream, &h) != 0 || h.type != PROTO_HELLO) {
        return -1;
    }
    f->hello_len = PROTO_HEADER_SIZE + h.length;
    f->bin = open_memstream(&f->bin_data, &f->bin_len);
    rec_init(&f->rec);
    if (!f->bin || chan_open(&f->c, &f->rec, f->bin, &d) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    chan_close(&f->c);
    rec_cleanup(&f->rec);
    fclose(f->bin);
    free(f->bin_data);
    free(f->file);
    free(f);
    return 0;
}

/* Writes all of buf, or exits. */
static void put(int fd, const void *buf, size_t n)
{
    if (write(fd, buf, n) != (ssize_t)n) {
        _exit(9);
    }
}

/* Forks a child that joins as `mode` says. Returns its pid. */
static pid_t peer(const struct fixture *f, enum peer_mode mode)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0) {
        return pid;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(f->c.name);
    memcpy(sa.sun_path + 1, f->c.name, n);
    if (connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) != 0) {
        _exit(8);
    }
    uint8_t auth[PROTO_HEADER_SIZE + PROTO_KEY_SIZE];
    struct proto_wbuf w = {.data = auth, .cap = sizeof(auth)};
    proto_frame_begin(&w, PROTO_AUTH);
    uint8_t key[PROTO_KEY_SIZE];
    memcpy(key, f->c.key, sizeof(key));
    key[0] ^= mode == PEER_BAD_KEY ? 0xff : 0;
    proto_put_bytes(&w, key, sizeof(key));
    proto_frame_end(&w);
    put(fd, auth, w.len);
    if (mode == PEER_HELLO_EXIT) {
        put(fd, f->stream, f->hello_len);
        _exit(3);
    }
    put(fd, f->stream, f->stream_len);
    if (mode == PEER_ALL) {
        char buf[256];
        while (read(fd, buf, sizeof(buf)) > 0) {
        }
    }
    _exit(0);
}

/* The number of complete snapshots in the recorded stream. */
static size_t recorded_snaps(const struct fixture *f)
{
    struct snap_stream st;
    struct diag d = {{0}};
    snap_stream_init(&st);
    assert_int_equal(snap_stream_feed(&st, f->stream, f->stream_len, &d), 0);
    size_t n = st.n_snaps;
    snap_stream_cleanup(&st);
    return n;
}

static void reap(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* A process joins, its stream is recorded inside the harness's frames and parsed; the recording
 * read back gives the same process and snapshots. */
static void test_chan_join_record_and_read_back(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    pid_t pid = peer(f, PEER_ALL);
    f->c.main_pid = pid;
    assert_int_equal(chan_wait_hello(&f->c, pid, 5000, NULL, NULL, &d), 0);
    size_t want = recorded_snaps(f);
    for (int i = 0; i < 100 && f->rec.procs[0]->st.n_snaps < want; i++) {
        assert_int_equal(chan_pump(&f->c, 50, &d), 0);
    }
    assert_true(f->rec.tree);
    assert_int_equal(f->rec.n_procs, 1);
    const struct rec_proc *p = f->rec.procs[0];
    assert_int_equal(p->pid, (uint32_t)pid);
    assert_int_equal(p->ppid, (uint32_t)getpid());
    assert_int_equal(p->origin, PROTO_ORIGIN_START);
    assert_int_equal(p->st.n_snaps, want);
    assert_int_equal(chan_live(&f->c), 1);
    chan_close(&f->c); /* the child sees the end and exits */
    reap(pid);
    fflush(f->bin);
    struct rec back;
    rec_init(&back);
    assert_int_equal(rec_feed(&back, (const uint8_t *)f->bin_data, f->bin_len, &d), 0);
    assert_true(back.tree);
    assert_int_equal(back.n_procs, 1);
    assert_int_equal(back.procs[0]->pid, (uint32_t)pid);
    assert_int_equal(back.procs[0]->st.n_snaps, want);
    assert_true(back.procs[0]->ended);
    assert_false(rec_partial(&back));
    assert_true(rec_snapshot_seconds(&back, 1) < 0); /* no snapshot was asked for */
    rec_cleanup(&back);
}

/* A snapshot that was answered has its time recorded (request to last byte), and the recording
 * read back gives the same figure; one that timed out has none. */
static void test_chan_snapshot_time_is_recorded(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    pid_t pid = peer(f, PEER_ALL);
    f->c.main_pid = pid;
    assert_int_equal(chan_wait_hello(&f->c, pid, 5000, NULL, NULL, &d), 0);
    assert_true(recorded_snaps(f) >= 2);
    assert_int_equal(chan_snapshot(&f->c, 1, 5000, &d), 0);
    double t = rec_snapshot_seconds(&f->rec, 1);
    assert_true(t >= 0 && t < 5);
    assert_int_equal(chan_snapshot(&f->c, 77, 200, &d), -ETIMEDOUT);
    assert_true(rec_snapshot_seconds(&f->rec, 77) < 0);
    assert_true(rec_snapshot_seconds(&f->rec, 2) < 0);
    chan_close(&f->c);
    reap(pid);
    fflush(f->bin);
    struct rec back;
    rec_init(&back);
    assert_int_equal(rec_feed(&back, (const uint8_t *)f->bin_data, f->bin_len, &d), 0);
    assert_true(fabs(rec_snapshot_seconds(&back, 1) - t) < 1e-9);
    assert_true(rec_snapshot_seconds(&back, 77) < 0);
    rec_cleanup(&back);
}

/* A snapshot request goes to every process; without answers the wait ends at its deadline
 * naming the processes that did not answer. */
static void test_chan_snapshot_asks_every_process(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    pid_t a = peer(f, PEER_ALL);
    pid_t b = peer(f, PEER_ALL);
    assert_int_equal(chan_wait_hello(&f->c, a, 5000, NULL, NULL, &d), 0);
    assert_int_equal(chan_wait_hello(&f->c, b, 5000, NULL, NULL, &d), 0);
    assert_int_equal(chan_snapshot(&f->c, 77, 200, &d), -ETIMEDOUT);
    char pa[16];
    char pb[16];
    snprintf(pa, sizeof(pa), "%d", (int)a);
    snprintf(pb, sizeof(pb), "%d", (int)b);
    assert_non_null(strstr(d.msg, pa));
    assert_non_null(strstr(d.msg, pb));
    assert_int_equal(f->rec.n_procs, 2);
    assert_int_equal(f->rec.procs[1]->origin, PROTO_ORIGIN_SPAWN); /* neither is the main one */
    chan_close(&f->c);
    reap(a);
    reap(b);
}

/* A process without the run's key does not join; it is recorded as untracked, with why. */
static void test_chan_wrong_key_is_refused(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    pid_t pid = peer(f, PEER_BAD_KEY);
    for (int i = 0; i < 100 && f->rec.n_untracked == 0; i++) {
        assert_int_equal(chan_pump(&f->c, 20, &d), 0);
    }
    assert_int_equal(f->rec.n_procs, 0);
    assert_int_equal(f->rec.n_untracked, 1);
    assert_int_equal(f->rec.untracked[0].pid, (uint32_t)pid);
    assert_non_null(strstr(f->rec.untracked[0].why, "key"));
    reap(pid);
}

/* A process that ends is recorded with its exit status. */
static void test_chan_end_is_recorded(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    pid_t pid = peer(f, PEER_HELLO_EXIT);
    assert_int_equal(chan_wait_hello(&f->c, pid, 5000, NULL, NULL, &d), 0);
    for (int i = 0; i < 250 && !f->rec.procs[0]->ended; i++) {
        assert_int_equal(chan_pump(&f->c, 20, &d), 0);
    }
    const struct rec_proc *p = f->rec.procs[0];
    assert_true(p->ended);
    assert_int_equal(p->end_how, PROTO_END_EXIT);
    assert_true(p->status == -1 || p->status == 3 << 8);
    reap(pid);
    assert_int_equal(chan_live(&f->c), 0);
}

/* A process that is not a descendant of the harness is refused even with the run's name and key:
 * here the channel is opened in a child, and the test (its parent) connects to it. */
static void test_chan_stranger_is_refused(void **state)
{
    (void)state;
    int up[2];
    int down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rec rec;
        struct chan c;
        struct diag d = {{0}};
        rec_init(&rec);
        if (chan_open(&c, &rec, NULL, &d) != 0) {
            _exit(1);
        }
        put(up[1], c.name, sizeof(c.name));
        put(up[1], c.key, sizeof(c.key));
        char go;
        if (read(down[0], &go, 1) != 1) { /* the stranger has written AUTH and HELLO */
            _exit(2);
        }
        chan_pump(&c, 300, &d);
        _exit(rec.n_procs == 0 ? 0 : 3);
    }
    char name[64];
    uint8_t key[PROTO_KEY_SIZE];
    assert_int_equal(read(up[0], name, sizeof(name)), (ssize_t)sizeof(name));
    assert_int_equal(read(up[0], key, sizeof(key)), (ssize_t)sizeof(key));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path + 1, name, strlen(name));
    assert_int_equal(
        connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))),
        0);
    uint8_t frames[256];
    struct proto_wbuf w = {.data = frames, .cap = sizeof(frames)};
    proto_frame_begin(&w, PROTO_AUTH);
    proto_put_bytes(&w, key, sizeof(key));
    proto_frame_end(&w);
    proto_frame_begin(&w, PROTO_HELLO); /* a well-formed HELLO: only who is asking is wrong */
    proto_put_u32(&w, (uint32_t)getpid());
    proto_put_u32(&w, 0);
    proto_put_u64(&w, PROTO_CANARY_SIZE);
    proto_put_str(&w, "x", 1);
    proto_put_str(&w, "/bin/x", 6);
    proto_frame_end(&w);
    assert_false(w.overflow);
    assert_int_equal(write(fd, frames, w.len), (ssize_t)w.len);
    assert_int_equal(write(down[1], "g", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0); /* nothing joined */
    close(fd);
    close(up[0]);
    close(up[1]);
    close(down[0]);
    close(down[1]);
}

static void test_chan_silence_is_etimedout(void **state)
{
    struct fixture *f = *state;
    struct diag d = {{0}};
    assert_int_equal(chan_wait_hello(&f->c, 1, 100, NULL, NULL, &d), -ETIMEDOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chan_join_record_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_snapshot_asks_every_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_snapshot_time_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_wrong_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_end_is_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chan_silence_is_etimedout, setup, teardown),
        cmocka_unit_test(test_chan_stranger_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
