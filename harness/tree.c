/* SPDX-License-Identifier: MIT */
/* tree.c - finding, stopping and reaping every descendant of the harness (see tree.h).
 *
 * A scan reads /proc with getdents64 and each /proc/PID/stat with read() into stack buffers, so
 * it allocates nothing and can run in a signal handler. The set of descendants starts as the
 * harness itself; a pass over /proc adds every process whose parent is in the set, and passes
 * repeat until one adds nothing (a child usually has a higher pid than its parent, so one or two
 * passes are the rule). The pid of a process that ended between the scan and kill() could in
 * theory be reused by an unrelated process; the window is a few microseconds and pids are
 * handed out in increasing order, so this is accepted.
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TREE_POLL_MS 20
#define TREE_KILL_MS 5000 /* how long SIGKILL rounds go on for a process that does not end */

/* One descendant found by a scan. */
struct tree_proc {
    pid_t pid;
    bool zombie;
};

/* A scan's result, on the caller's stack. */
struct tree_scan {
    struct tree_proc p[TREE_MAX];
    size_t n;
};

int tree_adopt(struct diag *d)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        int err = errno;
        return diag_set(d, -err,
                        "can't become the subreaper of the target's processes: %s (a daemon "
                        "that detaches itself may then outlive the run)",
                        strerror(err));
    }
    return 0;
}

/* Parses a decimal pid from a /proc entry name. Returns 0 when the name is not a number. */
static pid_t parse_pid(const char *s)
{
    long v = 0;
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000) {
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    return (pid_t)v;
}

/* Reads the state and parent of process `pid` from /proc/PID/stat. Returns false when the
 * process is gone or the line can't be read. */
static bool read_stat(pid_t pid, char *state, pid_t *ppid)
{
    char path[48];
    char buf[512];
    /* "/proc/" + pid + "/stat", built by hand: snprintf is not async-signal-safe. */
    char digits[16];
    size_t nd = 0;
    for (unsigned long v = (unsigned long)pid; v > 0 && nd < sizeof(digits); v /= 10) {
        digits[nd++] = (char)('0' + v % 10);
    }
    size_t k = 0;
    memcpy(path, "/proc/", 6);
    k = 6;
    while (nd > 0) {
        path[k++] = digits[--nd];
    }
    memcpy(path + k, "/stat", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t r;
    do {
        r = read(fd, buf, sizeof(buf) - 1);
    } while (r < 0 && errno == EINTR);
    close(fd);
    if (r <= 0) {
        return false;
    }
    buf[r] = '\0';
    /* "pid (comm) S ppid ...": comm may hold spaces and ')', the fields after it never do. */
    char *close_paren = NULL;
    for (char *p = buf; *p; p++) {
        if (*p == ')') {
            close_paren = p;
        }
    }
    if (!close_paren || close_paren[1] != ' ' || !close_paren[2] || close_paren[3] != ' ') {
        return false;
    }
    *state = close_paren[2];
    long v = 0;
    const char *p = close_paren + 4;
    if (*p < '0' || *p > '9') {
        return false;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
    }
    *ppid = (pid_t)v;
    return true;
}

/* True when `pid` is the caller or already in the scan. */
static bool in_set(const struct tree_scan *s, pid_t self, pid_t pid)
{
    if (pid == self) {
        return true;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->p[i].pid == pid) {
            return true;
        }
    }
    return false;
}

/* The directory entry layout of getdents64 (not in glibc's headers under this name). */
struct tree_dirent {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* One pass over /proc: adds every process whose parent is in the set. Returns how many were
 * added, or -1 when /proc can't be read. */
static long scan_pass(struct tree_scan *s, pid_t self)
{
    int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        return -1;
    }
    long added = 0;
    char buf[8192] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        for (long off = 0; off < n;) {
            struct tree_dirent *e = (struct tree_dirent *)(void *)(buf + off);
            off += e->d_reclen;
            pid_t pid = parse_pid(e->d_name);
            char state;
            pid_t ppid;
            if (pid <= 0 || in_set(s, self, pid) || !read_stat(pid, &state, &ppid) ||
                !in_set(s, self, ppid) || s->n >= TREE_MAX) {
                continue;
            }
            s->p[s->n].pid = pid;
            s->p[s->n].zombie = state == 'Z' || state == 'X';
            s->n++;
            added++;
        }
    }
    close(dfd);
    return added;
}

/* Fills `s` with every descendant of the caller. */
static void scan(struct tree_scan *s)
{
    pid_t self = getpid();
    s->n = 0;
    for (int pass = 0; pass < 64; pass++) {
        if (scan_pass(s, self) <= 0) {
            break;
        }
    }
}

size_t tree_list(pid_t *out, size_t cap)
{
    struct tree_scan s;
    scan(&s);
    size_t n = s.n < cap ? s.n : cap;
    for (size_t i = 0; i < n; i++) {
        out[i] = s.p[i].pid;
    }
    return n;
}

size_t tree_kill(int sig)
{
    struct tree_scan s;
    scan(&s);
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!s.p[i].zombie && kill(s.p[i].pid, sig) == 0) {
            if (sig == SIGTERM) {
                kill(s.p[i].pid, SIGCONT);
            }
            n++;
        }
    }
    return n;
}

size_t tree_reap(void)
{
    size_t n = 0;
    int saved = errno;
    for (;;) {
        int status;
        pid_t r = waitpid(-1, &status, WNOHANG);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        n++;
    }
    errno = saved;
    return n;
}

/* True when `pid` is in pids[0..n-1]. */
static bool listed(const pid_t *pids, size_t n, pid_t pid)
{
    for (size_t i = 0; i < n; i++) {
        if (pids[i] == pid) {
            return true;
        }
    }
    return false;
}

/* Reaps, scans, and sends SIGTERM to each living descendant not yet in `told` (recorded there).
 * Returns the number of living descendants. */
static size_t term_new(pid_t *told, size_t *n_told)
{
    struct tree_scan s;
    tree_reap();
    scan(&s);
    size_t alive = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i].zombie) {
            continue;
        }
        alive++;
        if (!listed(told, *n_told, s.p[i].pid) && *n_told < TREE_MAX) {
            kill(s.p[i].pid, SIGTERM);
            kill(s.p[i].pid, SIGCONT);
            told[(*n_told)++] = s.p[i].pid;
        }
    }
    return alive;
}

size_t tree_stop(int grace_ms)
{
    pid_t told[TREE_MAX];
    size_t n_told = 0;
    size_t alive = term_new(told, &n_told);
    for (int waited = 0; alive > 0 && waited < grace_ms; waited += TREE_POLL_MS) {
        poll(NULL, 0, TREE_POLL_MS);
        alive = term_new(told, &n_told);
    }
    for (int waited = 0; alive > 0 && waited < TREE_KILL_MS; waited += TREE_POLL_MS) {
        tree_kill(SIGKILL);
        poll(NULL, 0, TREE_POLL_MS);
        tree_reap();
        struct tree_scan s;
        scan(&s);
        alive = 0;
        for (size_t i = 0; i < s.n; i++) {
            alive += !s.p[i].zombie;
        }
    }
    tree_reap();
    return alive;
}
