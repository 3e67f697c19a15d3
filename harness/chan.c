/* SPDX-License-Identifier: MIT */
/* chan.c - the harness's end of the agents' channels (see chan.h). */
#include "chan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../util/clock.h"
#include "../util/io.h"
#include "procfs.h"
#include "sig.h"
#include "target.h"
#include "tree.h"

#define JOIN_TIMEOUT_MS 2000 /* a joining process sends AUTH and HELLO at once */
#define READ_CHUNK      65536
#define POLL_SLICE_MS   100
#define YOUNG_S         1.0 /* a process this young may still be joining: not untracked yet */
#define REJOIN_S        2.0 /* how long a snapshot waits for a process between two programs */
#define MAX_DEPTH       256 /* parent links followed to find the harness */

struct chan_conn {
    int fd;        /* -1 once closed */
    uint32_t proc; /* its index in the recording */
    pid_t pid;
    bool ended;    /* REC_END written */
    bool asked;    /* a snapshot request of the current collection went out */
    double eof_at; /* when its channel closed (fd -1, not ended: the process went on) */
    char *title;   /* the command line recorded last */
    size_t title_len;
};

/* ---------------------------------------------------------------- /proc */

/* True when `pid` is the harness or descends from it through its parent links. */
static bool descends_from_us(pid_t pid)
{
    pid_t self = getpid();
    for (int i = 0; i < MAX_DEPTH && pid > 1; i++) {
        if (pid == self) {
            return true;
        }
        struct procfs_stat ps;
        if (procfs_stat(pid, "stat", &ps) < 0) {
            return false;
        }
        pid = ps.ppid;
    }
    return pid == self;
}

/* True while the process exists and is not a zombie. */
static bool proc_running(pid_t pid)
{
    struct procfs_stat ps;
    return procfs_stat(pid, "stat", &ps) == 0 && ps.state != 'Z' && ps.state != 'X';
}

/* ---------------------------------------------------------------- the recording */

/* Writes one harness frame to the recording (nothing from the first failed write on) and feeds
 * it to the parser. */
static void record(struct chan *c, const uint8_t *frame, size_t len)
{
    c->bin_received += len;
    if (c->bin && !c->bin_errno) {
        errno = 0;
        if (fwrite(frame, 1, len, c->bin) != len || fflush(c->bin) != 0) {
            c->bin_errno = errno ? errno : EIO;
            c->bin_snaps = rec_snapshots(c->rec); /* all before this frame */
        } else {
            c->bin_bytes += len;
        }
    }
    struct diag d = {{0}};
    rec_feed(c->rec, frame, len, &d);
}

/* A frame builder over a heap buffer of `cap` bytes. */
static bool frame_new(struct proto_wbuf *w, enum proto_type type, size_t cap)
{
    *w = (struct proto_wbuf){.data = malloc(PROTO_HEADER_SIZE + cap),
                             .cap = PROTO_HEADER_SIZE + cap};
    if (!w->data) {
        return false;
    }
    proto_frame_begin(w, type);
    return true;
}

static void frame_done(struct chan *c, struct proto_wbuf *w)
{
    proto_frame_end(w);
    if (!w->overflow) {
        record(c, w->data, w->len);
    }
    free(w->data);
}

static void rec_proc(struct chan *c, uint32_t idx, pid_t pid, pid_t ppid, uint32_t origin,
                     uint32_t prev, const char *exe, const char *cmd, size_t cmd_len)
{
    struct proto_wbuf w;
    size_t exe_len = strlen(exe);
    if (!frame_new(&w, PROTO_REC_PROC, 32 + exe_len + cmd_len)) {
        return;
    }
    proto_put_u32(&w, idx);
    proto_put_u32(&w, (uint32_t)pid);
    proto_put_u32(&w, (uint32_t)ppid);
    proto_put_u32(&w, origin);
    proto_put_u32(&w, prev);
    proto_put_u32(&w, c->round);
    proto_put_str(&w, exe, exe_len);
    proto_put_str(&w, cmd, cmd_len);
    frame_done(c, &w);
}

static void rec_data(struct chan *c, uint32_t idx, const uint8_t *p, size_t n)
{
    struct proto_wbuf w;
    if (!frame_new(&w, PROTO_REC_DATA, 4 + n)) {
        return;
    }
    proto_put_u32(&w, idx);
    proto_put_bytes(&w, p, n);
    frame_done(c, &w);
}

static void rec_title(struct chan *c, uint32_t idx, const char *cmd, size_t n)
{
    struct proto_wbuf w;
    if (!frame_new(&w, PROTO_REC_TITLE, 8 + n)) {
        return;
    }
    proto_put_u32(&w, idx);
    proto_put_str(&w, cmd, n);
    frame_done(c, &w);
}

static void record_cpu(struct chan *c, uint32_t idx, uint64_t ticks)
{
    struct proto_wbuf w;
    if (!frame_new(&w, PROTO_REC_CPU, 16)) {
        return;
    }
    proto_put_u32(&w, idx);
    proto_put_u32(&w, c->round);
    proto_put_u64(&w, ticks);
    frame_done(c, &w);
}

/* Records how long the snapshot closing `round` took. */
static void record_snap_time(struct chan *c, uint32_t round, double seconds)
{
    struct proto_wbuf w;
    if (!frame_new(&w, PROTO_REC_SNAP_TIME, 16)) {
        return;
    }
    proto_put_u32(&w, round);
    proto_put_u32(&w, 0);
    proto_put_u64(&w, seconds > 0 ? (uint64_t)(seconds * 1e9 + 0.5) : 0);
    frame_done(c, &w);
}

static void rec_end(struct chan *c, struct chan_conn *k, uint32_t how, int status)
{
    if (k->ended) {
        return;
    }
    k->ended = true;
    struct proto_wbuf w;
    if (!frame_new(&w, PROTO_REC_END, 16)) {
        return;
    }
    proto_put_u32(&w, k->proc);
    proto_put_u32(&w, how);
    proto_put_u32(&w, c->round);
    proto_put_u32(&w, (uint32_t)status);
    frame_done(c, &w);
}

static void rec_untracked(struct chan *c, pid_t pid, pid_t ppid, const char *exe, const char *cmd,
                          const char *why)
{
    struct proto_wbuf w;
    size_t a = strlen(exe);
    size_t b = strlen(cmd);
    size_t e = strlen(why);
    if (!frame_new(&w, PROTO_REC_UNTRACKED, 20 + a + b + e)) {
        return;
    }
    proto_put_u32(&w, (uint32_t)pid);
    proto_put_u32(&w, (uint32_t)ppid);
    proto_put_u32(&w, c->round);
    proto_put_str(&w, exe, a);
    proto_put_str(&w, cmd, b);
    proto_put_str(&w, why, e);
    frame_done(c, &w);
}

/* ---------------------------------------------------------------- set-up */

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int chan_open(struct chan *c, struct rec *rec, FILE *bin, struct diag *d)
{
    memset(c, 0, sizeof(*c));
    c->listen_fd = -1;
    c->rec = rec;
    c->bin = bin;
    uint8_t rnd[8];
    if (getrandom(c->key, sizeof(c->key), 0) != (ssize_t)sizeof(c->key) ||
        getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        return diag_set(d, -EIO, "can't read random bytes for the channel's key: %s",
                        strerror(errno));
    }
    to_hex(c->key, sizeof(c->key), c->key_hex);
    char r[17];
    to_hex(rnd, sizeof(rnd), r);
    snprintf(c->name, sizeof(c->name), "leakcheck-%d-%s", (int)getpid(), r);
    /* Orphans of the tree (double-forked daemons) become our children, not init's: they stay
     * descendants, can join, and are stopped with the rest. */
    tree_adopt(d);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return diag_set(d, -errno, "can't create the agent's channel socket: %s", strerror(errno));
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(c->name);
    memcpy(sa.sun_path + 1, c->name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        close(fd);
        return diag_set(d, -e, "can't listen on the agent's channel socket: %s", strerror(e));
    }
    c->listen_fd = fd;
    return 0;
}

void chan_env(const struct chan *c, char out[2][160])
{
    snprintf(out[0], 160, "%s=%s", PROTO_ENV_SOCK, c->name);
    snprintf(out[1], 160, "%s=%s", PROTO_ENV_KEY, c->key_hex);
}

/* Forward: the end of a connection. */
static void on_eof(struct chan *c, struct chan_conn *k);

size_t chan_live(struct chan *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_conns; i++) {
        /* A process that ended while a child it forked without the fork handlers (a raw
         * clone) still holds its channel open is over all the same. */
        if (c->conns[i].fd >= 0 && !proc_running(c->conns[i].pid)) {
            on_eof(c, &c->conns[i]);
        }
        n += c->conns[i].fd >= 0;
    }
    return n;
}

/* ---------------------------------------------------------------- joining */

/* Reads exactly n bytes within the deadline. Returns 0 or -1. */
static int read_full(int fd, uint8_t *buf, size_t n, double deadline)
{
    while (n > 0) {
        int ms = (int)((deadline - clock_s()) * 1000);
        if (ms <= 0) {
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ms) <= 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        ssize_t r = read(fd, buf, n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one frame (header + payload of at most cap bytes) into buf. Returns its header's type
 * and sets *len, or -1. */
static int read_frame(int fd, uint8_t *buf, size_t cap, size_t *len, double deadline)
{
    struct proto_header h;
    if (read_full(fd, buf, PROTO_HEADER_SIZE, deadline) < 0 || proto_header_parse(buf, &h) < 0 ||
        h.length > cap - PROTO_HEADER_SIZE ||
        read_full(fd, buf + PROTO_HEADER_SIZE, h.length, deadline) < 0) {
        return -1;
    }
    *len = PROTO_HEADER_SIZE + h.length;
    return h.type;
}

/* The latest connection of process `pid`, or NULL. */
static struct chan_conn *conn_of(struct chan *c, pid_t pid)
{
    for (size_t i = c->n_conns; i > 0; i--) {
        if (c->conns[i - 1].pid == pid) {
            return &c->conns[i - 1];
        }
    }
    return NULL;
}

/* Refuses a connection, recording the process as untracked (when known). */
static void refuse(struct chan *c, int fd, pid_t pid, const char *why)
{
    if (fd >= 0) {
        close(fd);
    }
    if (pid <= 0) {
        return;
    }
    char exe[4096] = "";
    char cmd[4096] = "";
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    ssize_t m = procfs_read(pid, "cmdline", cmd, sizeof(cmd));
    for (ssize_t i = 0; i + 1 < m; i++) {
        cmd[i] = cmd[i] ? cmd[i] : ' ';
    }
    struct procfs_stat ps = {0};
    procfs_stat(pid, "stat", &ps);
    rec_untracked(c, pid, ps.ppid, exe, cmd, why);
}

static void send_request(struct chan *c, struct chan_conn *k, uint32_t round)
{
    uint8_t frame[PROTO_REQ_SNAPSHOT_SIZE];
    proto_encode_req_snapshot(frame, round);
    (void)c;
    k->asked = io_send_all(k->fd, frame, sizeof(frame)) == 0;
}

/* Takes one pending connection: checks who it is, reads AUTH and HELLO, records the process.
 * Returns false when none was pending. */
static bool accept_one(struct chan *c, bool collecting, uint32_t round)
{
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    struct ucred cr = {0};
    socklen_t cl = sizeof(cr);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 || cr.pid <= 0) {
        refuse(c, fd, 0, "");
        return true;
    }
    if (!descends_from_us(cr.pid)) {
        close(fd); /* not of this run: nothing to say about it */
        return true;
    }
    double deadline = clock_s() + JOIN_TIMEOUT_MS / 1000.0;
    uint8_t auth[PROTO_HEADER_SIZE + PROTO_KEY_SIZE];
    size_t len = 0;
    if (read_frame(fd, auth, sizeof(auth), &len, deadline) != PROTO_AUTH || len != sizeof(auth) ||
        memcmp(auth + PROTO_HEADER_SIZE, c->key, PROTO_KEY_SIZE) != 0) {
        refuse(c, fd, cr.pid, "its agent did not present the run's key");
        return true;
    }
    uint8_t hello[PROTO_HEADER_SIZE + 16384];
    if (read_frame(fd, hello, sizeof(hello), &len, deadline) != PROTO_HELLO || len < 20) {
        refuse(c, fd, cr.pid, "its agent did not say HELLO");
        return true;
    }
    uint32_t flags = (uint32_t)hello[16] | (uint32_t)hello[17] << 8 | (uint32_t)hello[18] << 16 |
                     (uint32_t)hello[19] << 24;
    if (c->n_conns == c->cap_conns) {
        size_t nc = c->cap_conns ? c->cap_conns * 2 : 16;
        struct chan_conn *nk = realloc(c->conns, nc * sizeof(*nk));
        if (!nk) {
            close(fd);
            return true;
        }
        c->conns = nk;
        c->cap_conns = nc;
    }
    /* An earlier image of the same process ends here: it exec'd, or its channel was taken. */
    struct chan_conn *old = conn_of(c, cr.pid);
    uint32_t prev = PROTO_NO_PROC;
    uint32_t origin = flags & PROTO_HELLO_FORKED      ? PROTO_ORIGIN_FORK
                      : flags & PROTO_HELLO_RECONNECT ? PROTO_ORIGIN_RECONNECT
                      : old                           ? PROTO_ORIGIN_EXEC
                      : cr.pid == c->main_pid         ? PROTO_ORIGIN_START
                                                      : PROTO_ORIGIN_SPAWN;
    if (old && origin != PROTO_ORIGIN_FORK) {
        prev = old->proc;
        if (old->fd >= 0) {
            close(old->fd);
            old->fd = -1;
        }
        rec_end(c, old, origin == PROTO_ORIGIN_EXEC ? PROTO_END_EXEC : PROTO_END_CLOSED, -1);
    }
    struct procfs_stat ps = {0};
    procfs_stat(cr.pid, "stat", &ps);
    char cmd[8192];
    ssize_t cmd_len = procfs_read(cr.pid, "cmdline", cmd, sizeof(cmd));
    char exe[4096];
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)cr.pid);
    ssize_t exe_len = readlink(path, exe, sizeof(exe) - 1);
    exe[exe_len > 0 ? exe_len : 0] = '\0';
    struct chan_conn *k = &c->conns[c->n_conns];
    *k = (struct chan_conn){.fd = fd, .proc = (uint32_t)c->rec->n_procs, .pid = cr.pid};
    c->n_conns++;
    rec_proc(c, k->proc, cr.pid, ps.ppid, origin, prev, exe, cmd,
             cmd_len > 0 ? (size_t)cmd_len : 0);
    rec_data(c, k->proc, hello, len);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (collecting) {
        send_request(c, k, round);
    }
    return true;
}

/* ---------------------------------------------------------------- serving */

/* The end of a process's channel: the process ended (its status from /proc while it is a
 * zombie), or it goes on and the end is decided when it joins again or the run ends. */
static void on_eof(struct chan *c, struct chan_conn *k)
{
    close(k->fd);
    k->fd = -1;
    k->eof_at = clock_s();
    struct procfs_stat ps;
    if (procfs_stat(k->pid, "stat", &ps) < 0) {
        rec_end(c, k, PROTO_END_EXIT, -1);
    } else if (ps.state == 'Z' || ps.state == 'X') {
        rec_end(c, k, PROTO_END_EXIT, ps.exit_code);
    }
}

/* Decides the ends left open: a closed channel whose process has since ended. */
static void settle_ends(struct chan *c)
{
    for (size_t i = 0; i < c->n_conns; i++) {
        struct chan_conn *k = &c->conns[i];
        if (k->fd < 0 && !k->ended) {
            struct procfs_stat ps;
            if (procfs_stat(k->pid, "stat", &ps) < 0) {
                rec_end(c, k, PROTO_END_EXIT, -1);
            } else if (ps.state == 'Z' || ps.state == 'X') {
                rec_end(c, k, PROTO_END_EXIT, ps.exit_code);
            }
        }
    }
}

/* One poll over the socket and every open connection, for at most ms. */
static int serve_once(struct chan *c, int ms, bool collecting, uint32_t round, struct diag *d)
{
    if (sig_caught()) {
        return diag_set(d, -EINTR, "interrupted by %s", sig_name(sig_caught()));
    }
    size_t n = 2 + c->n_conns;
    struct pollfd stack_fds[64];
    struct pollfd *fds = n <= 64 ? stack_fds : calloc(n, sizeof(*fds));
    if (!fds) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    fds[0] = (struct pollfd){.fd = c->listen_fd, .events = POLLIN};
    for (size_t i = 0; i < c->n_conns; i++) {
        fds[1 + i] = (struct pollfd){.fd = c->conns[i].fd, .events = POLLIN};
    }
    fds[n - 1] = (struct pollfd){.fd = sig_fd(), .events = POLLIN}; /* a stop signal wakes us */
    int pr = poll(fds, (nfds_t)n, ms);
    int rc = 0;
    if (pr < 0 && errno != EINTR) {
        rc = diag_set(d, -errno, "poll on the agents' channels: %s", strerror(errno));
    }
    for (size_t i = 0; pr > 0 && i < c->n_conns && i + 2 < n; i++) {
        if (!fds[1 + i].revents || c->conns[i].fd < 0) {
            continue;
        }
        uint8_t buf[READ_CHUNK];
        ssize_t r = read(c->conns[i].fd, buf, sizeof(buf));
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r <= 0) {
            on_eof(c, &c->conns[i]);
            continue;
        }
        rec_data(c, c->conns[i].proc, buf, (size_t)r);
    }
    if (pr > 0 && (fds[0].revents & POLLIN)) {
        /* Every pending join: a daemon's child and grandchild arrive together. */
        while (accept_one(c, collecting, round)) {
        }
    }
    if (fds != stack_fds) {
        free(fds);
    }
    settle_ends(c);
    return rc;
}

int chan_pump(struct chan *c, int ms, struct diag *d)
{
    double deadline = clock_s() + ms / 1000.0;
    int rc = serve_once(c, 0, false, 0, d);
    for (double left = ms / 1000.0; rc == 0 && left > 0; left = deadline - clock_s()) {
        rc = serve_once(c, left * 1000 < POLL_SLICE_MS ? (int)(left * 1000) + 1 : POLL_SLICE_MS,
                        false, 0, d);
    }
    return rc;
}

/* True once a process with `pid` has joined and its HELLO is parsed. */
static bool has_hello(const struct chan *c, pid_t pid)
{
    for (size_t i = 0; i < c->n_conns; i++) {
        const struct chan_conn *k = &c->conns[i];
        if (k->pid == pid && k->proc < c->rec->n_procs && c->rec->procs[k->proc]->st.have_hello) {
            return true;
        }
    }
    return false;
}

int chan_wait_hello(struct chan *c, pid_t pid, int timeout_ms, bool (*alive)(void *), void *arg,
                    struct diag *d)
{
    double deadline = clock_s() + timeout_ms / 1000.0;
    for (;;) {
        if (has_hello(c, pid)) {
            return 0;
        }
        double left = deadline - clock_s();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        if (alive && !alive(arg) && chan_live(c) == 0) {
            /* One last look: a HELLO may be waiting in the socket. */
            serve_once(c, 0, false, 0, d);
            return has_hello(c, pid) ? 0 : -EPIPE;
        }
        int rc = serve_once(c, left * 1000 < POLL_SLICE_MS ? (int)(left * 1000) + 1 : POLL_SLICE_MS,
                            false, 0, d);
        if (rc < 0) {
            return rc;
        }
    }
}

/* True when connection k has nothing more to give for round `round`. */
static bool answered(const struct chan *c, const struct chan_conn *k, uint32_t round)
{
    if (k->fd < 0 || !k->asked) {
        return true;
    }
    const struct rec_proc *p = c->rec->procs[k->proc];
    return p->st.error != 0 || p->error || snap_stream_find(&p->st, round) != NULL;
}

/* Records each joined process's CPU time, and the command lines that changed since last
 * recorded (programs retitle themselves). */
static void note_titles(struct chan *c)
{
    for (size_t i = 0; i < c->n_conns; i++) {
        struct chan_conn *k = &c->conns[i];
        if (k->fd < 0) {
            continue;
        }
        uint64_t ns;
        if (procfs_cpu_ns(k->pid, PROTO_THREAD_NAME, &ns)) {
            record_cpu(c, k->proc, ns);
        }
        char cmd[8192];
        ssize_t n = procfs_read(k->pid, "cmdline", cmd, sizeof(cmd));
        if (n <= 0) {
            continue;
        }
        /* Against what the agent itself read when it joined (the harness may have looked after
         * the program retitled itself). */
        const struct rec_proc *p = c->rec->procs[k->proc];
        const char *was = k->title ? k->title : p->st.cmdline ? p->st.cmdline : p->cmdline;
        size_t was_len = k->title        ? k->title_len
                         : p->st.cmdline ? p->st.cmdline_len
                                         : p->cmdline_len;
        if ((size_t)n == was_len && memcmp(cmd, was, was_len) == 0) {
            continue;
        }
        char *t = malloc((size_t)n);
        if (!t) {
            continue;
        }
        memcpy(t, cmd, (size_t)n);
        free(k->title);
        k->title = t;
        k->title_len = (size_t)n;
        rec_title(c, k->proc, cmd, (size_t)n);
    }
}

int chan_snapshot(struct chan *c, uint32_t round, int timeout_ms, struct diag *d)
{
    double deadline = clock_s() + timeout_ms / 1000.0;
    double waiting_since = 0; /* since when only a process that may join again is awaited */
    double t_done = 0;        /* when the last answer had come in whole */
    /* Take whatever arrived since the last wait first (joins, data, ends). */
    int rc = serve_once(c, 0, false, 0, d);
    double t_asked = clock_s();
    for (size_t i = 0; rc == 0 && i < c->n_conns; i++) {
        c->conns[i].asked = false;
        if (c->conns[i].fd >= 0) {
            send_request(c, &c->conns[i], round);
        }
    }
    while (rc == 0) {
        bool all = true;
        bool any = false;
        for (size_t i = 0; all && i < c->n_conns; i++) {
            all = answered(c, &c->conns[i], round);
            any |= c->conns[i].asked &&
                   snap_stream_find(&c->rec->procs[c->conns[i].proc]->st, round) != NULL;
        }
        /* Done when every process asked has answered or ended, and one answered, or none of
         * the tree runs any more (a process between two programs joins again in a moment). */
        pid_t one;
        if (all && (any || chan_tree_pids(c, &one, 1) == 0 ||
                    (waiting_since > 0 && clock_s() - waiting_since > REJOIN_S))) {
            t_done = clock_s();
            break;
        }
        if (all && waiting_since == 0) {
            waiting_since = clock_s();
        }
        double left = deadline - clock_s();
        if (left <= 0) {
            char who[512] = "";
            size_t w = 0;
            for (size_t i = 0; i < c->n_conns && w + 32 < sizeof(who); i++) {
                if (!answered(c, &c->conns[i], round)) {
                    w += (size_t)snprintf(who + w, sizeof(who) - w, "%s%d", w ? ", " : "",
                                          (int)c->conns[i].pid);
                }
            }
            return diag_set(d, -ETIMEDOUT, "no snapshot within %d ms from process %s", timeout_ms,
                            who);
        }
        rc = serve_once(c, left * 1000 < POLL_SLICE_MS ? (int)(left * 1000) + 1 : POLL_SLICE_MS,
                        true, round, d);
    }
    if (rc < 0) {
        return rc;
    }
    c->round = round;
    note_titles(c);
    bool any = false;
    const struct rec_proc *broken = NULL;
    for (size_t i = 0; i < c->n_conns && !any; i++) {
        const struct rec_proc *p = c->rec->procs[c->conns[i].proc];
        any = c->conns[i].asked && snap_stream_find(&p->st, round);
        broken = p->error ? p : broken;
    }
    if (!any && broken) {
        return diag_set(d, -EBADMSG, "process %u: %s", broken->pid, broken->error);
    }
    if (any) {
        record_snap_time(c, round, t_done - t_asked);
    }
    return any ? 0 : -EPIPE;
}

void chan_close(struct chan *c)
{
    if (c->listen_fd >= 0 || c->n_conns > 0) {
        for (size_t i = 0; i < c->n_conns; i++) {
            struct chan_conn *k = &c->conns[i];
            bool running = proc_running(k->pid);
            if (k->fd >= 0) {
                close(k->fd);
                k->fd = -1;
                rec_end(c, k, running ? PROTO_END_RUN : PROTO_END_EXIT, -1);
            } else if (!k->ended) {
                rec_end(c, k, running ? PROTO_END_CLOSED : PROTO_END_EXIT, -1);
            }
            free(k->title);
        }
    }
    free(c->conns);
    c->conns = NULL;
    c->n_conns = c->cap_conns = 0;
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        c->listen_fd = -1;
    }
}

/* ---------------------------------------------------------------- untracked processes */

/* Why a process that has not joined can't: what can be told from outside. Returns true when
 * that is final (a set-ID or static program, an environment without the agent); false when the
 * agent is on its way (it may be loading right now, mid-exec), with `why` for when it never
 * comes. */
static bool why_untracked(pid_t pid, char *why, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
        snprintf(why, cap,
                 "a set-user-ID or set-group-ID program, which the loader never gives "
                 "LD_PRELOAD libraries");
        return true;
    }
    char exe[4096];
    ssize_t en = readlink(path, exe, sizeof(exe) - 1);
    exe[en > 0 ? en : 0] = '\0';
    if (en > 0 && target_is_static(exe)) {
        snprintf(why, cap, "a statically linked program, which never loads LD_PRELOAD libraries");
        return true;
    }
    char env[65536];
    ssize_t n = procfs_read(pid, "environ", env, sizeof(env));
    bool preload = false;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
        if (strncmp(env + i, "LD_PRELOAD=", 11) == 0 && strstr(env + i, "libleakcheck-agent")) {
            preload = true;
        }
    }
    if (n >= 0 && !preload) {
        snprintf(why, cap,
                 "started without the agent in LD_PRELOAD (its environment was "
                 "replaced or cleared)");
        return true;
    }
    snprintf(why, cap, "never joined: its agent could not start or reach leakcheck (see the log)");
    return false;
}

size_t chan_tree_pids(const struct chan *c, pid_t *out, size_t cap)
{
    (void)c;
    pid_t all[TREE_MAX];
    size_t n = tree_list(all, TREE_MAX);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (proc_running(all[i])) {
            if (k < cap) {
                out[k] = all[i];
            }
            k++;
        }
    }
    return k;
}

size_t chan_scan_untracked(struct chan *c)
{
    pid_t all[TREE_MAX];
    size_t n = tree_list(all, TREE_MAX);
    double uptime = 0;
    char up[64];
    int ufd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
    if (ufd >= 0) {
        ssize_t un = read(ufd, up, sizeof(up) - 1);
        up[un > 0 ? un : 0] = '\0';
        uptime = strtod(up, NULL);
        close(ufd);
    }
    double hz = (double)sysconf(_SC_CLK_TCK);
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        struct procfs_stat ps;
        if (procfs_stat(all[i], "stat", &ps) < 0 || ps.state == 'Z' || ps.state == 'X') {
            continue;
        }
        struct chan_conn *k = conn_of(c, all[i]);
        if (k && k->fd >= 0) {
            continue; /* joined */
        }
        char why[256];
        bool final = why_untracked(all[i], why, sizeof(why));
        if (!final && k && !k->ended && clock_s() - k->eof_at < YOUNG_S) {
            continue; /* between two programs */
        }
        if (!final && hz > 0 && uptime > 0 && uptime - (double)ps.start / hz < YOUNG_S) {
            continue; /* may still be joining */
        }
        if (k && !k->ended) {
            /* It closed its channel and runs on: an exec into a program that could not join,
             * or a channel it took away. */
            rec_end(c, k, PROTO_END_CLOSED, -1);
        }
        refuse(c, -1, all[i], why);
        found++;
    }
    return found;
}

/* ---------------------------------------------------------------- the end of the recording */

int chan_close_recording(struct chan *c, const char *name, struct diag *d)
{
    if (!c->bin) {
        return 0;
    }
    if (!c->bin_errno) {
        c->bin_snaps = rec_snapshots(c->rec);
        uint8_t frame[PROTO_HEADER_SIZE + 16];
        struct proto_wbuf b = {.data = frame, .cap = sizeof(frame)};
        proto_frame_begin(&b, PROTO_REC_CLOSE);
        proto_put_u64(&b, c->bin_bytes);
        proto_put_u32(&b, (uint32_t)c->bin_snaps);
        proto_put_u32(&b, 0);
        proto_frame_end(&b);
        errno = 0;
        if (fwrite(frame, 1, b.len, c->bin) != b.len || fflush(c->bin) != 0 ||
            fsync(fileno(c->bin)) != 0) {
            c->bin_errno = errno ? errno : EIO;
        }
    }
    struct stat sb;
    uint64_t on_disk = fstat(fileno(c->bin), &sb) == 0 ? (uint64_t)sb.st_size : c->bin_bytes;
    if (fclose(c->bin) != 0 && !c->bin_errno) {
        c->bin_errno = errno ? errno : EIO;
    }
    c->bin = NULL;
    if (!c->bin_errno) {
        return 0;
    }
    size_t all = rec_snapshots(c->rec);
    size_t missing = all - c->bin_snaps;
    return diag_set(d, -c->bin_errno,
                    "%s: writing the recording failed (%s): the file holds %llu of the %llu "
                    "bytes recorded: %zu complete snapshot%s, then a cut and no end mark; %zu "
                    "snapshot%s are not in it. The figures of this run come from all of them, "
                    "but 'leakcheck analyze' of the file sees only what it holds; free some "
                    "space and run again",
                    name, strerror(c->bin_errno), (unsigned long long)on_disk,
                    (unsigned long long)c->bin_received, c->bin_snaps, c->bin_snaps == 1 ? "" : "s",
                    missing, missing == 1 ? "" : "s");
}

size_t chan_peers(const struct chan *c, struct chan_peer *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_conns; i++) {
        if (c->conns[i].fd >= 0) {
            if (n < cap) {
                out[n] = (struct chan_peer){.pid = c->conns[i].pid, .proc = c->conns[i].proc};
            }
            n++;
        }
    }
    return n;
}

void chan_record(struct chan *c, const uint8_t *frame, size_t len)
{
    record(c, frame, len);
}

int chan_blocks(struct chan *c, uint32_t proc, chan_frame_fn fn, void *ctx, int timeout_ms,
                struct diag *d)
{
    struct chan_conn *k = NULL;
    for (size_t i = 0; i < c->n_conns && !k; i++) {
        k = c->conns[i].proc == proc && c->conns[i].fd >= 0 ? &c->conns[i] : NULL;
    }
    if (!k) {
        return diag_set(d, -EPIPE, "process's channel is closed");
    }
    uint8_t req[PROTO_REQ_BLOCKS_SIZE];
    proto_encode_req_blocks(req);
    if (io_send_all(k->fd, req, sizeof(req)) != 0) {
        on_eof(c, k);
        return diag_set(d, -EPIPE, "process's channel is closed");
    }
    size_t cap = PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    double deadline = clock_s() + timeout_ms / 1000.0;
    int rc = 0;
    int refused = 0; /* the callback's error: the rest of the answer is read and dropped */
    for (;;) {
        size_t len = 0;
        int type = read_frame(k->fd, buf, cap, &len, deadline);
        if (type < 0) {
            rc = clock_s() >= deadline
                     ? diag_set(d, -ETIMEDOUT, "no block list within %d ms", timeout_ms)
                     : diag_set(d, -EPIPE, "the channel ended during the block list");
            break;
        }
        if (type < PROTO_BLOCKS_BEGIN || type > PROTO_BLOCKS_END) {
            rc = diag_set(d, -EBADMSG, "frame of type %d in the block list", type);
            break;
        }
        if (refused == 0) {
            refused = fn(ctx, (uint16_t)type, buf + PROTO_HEADER_SIZE, len - PROTO_HEADER_SIZE);
        }
        if (type == PROTO_BLOCKS_END) {
            break;
        }
    }
    free(buf);
    if (rc < 0) {
        on_eof(c, k);
        return rc;
    }
    return refused;
}
