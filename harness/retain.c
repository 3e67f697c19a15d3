/* SPDX-License-Identifier: MIT */
/* retain.c - the retainer scan (see retain.h). */
#include "retain.h"

#include <dirent.h>
#include <errno.h>
#include <libunwind-ptrace.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../analysis/heapgraph.h"
#include "../common/proto.h"
#include "../util/arr.h"
#include "../util/clock.h"
#include "procfs.h"
#include "sig.h"

#define BLOCKS_TIMEOUT_MS 30000
#define STOP_WAIT_MS      2000 /* a thread must stop within this */
#define LATE_WAIT_MS      5000 /* a thread that did not: waited for again before detaching */
#define MAX_THREADS       4096
#define MAX_FRAMES        256
#define RED_ZONE          128u
#define TCB_BYTES         2304u /* glibc's struct pthread, searched above the thread pointer */
#define READ_BUF          (1u << 20)
#define IOV_BATCH         512u

/* One loaded object, as the agent described it. */
struct robj {
    uint64_t base;
    uint32_t flags;
    uint32_t n_ranges;
    int64_t tls_offset;
    uint64_t tls_memsz;
    uint64_t ranges[16][2];
    char *path;
    uint32_t index; /* in the frame's object list, or PROTO_NO_OBJ (the agent) */
};

/* One stack frame of a thread: [sp, next frame's sp) holds it. */
struct rframe {
    uint64_t sp, pc;
};

/* One thread of the stopped process. */
struct rthread {
    pid_t tid;
    bool seized, stopped, gone;
    int pending_sig; /* a signal that stopped it: delivered on detach */
    struct user_regs_struct regs;
    bool have_regs;
    struct rframe *frames;
    size_t n_frames;
    uint64_t stack_lo, stack_hi; /* the range searched */
};

/* What a root tag stands for: tags index an array of these. */
struct rtag {
    uint32_t kind; /* enum proto_root */
    uint32_t obj;  /* object index, or PROTO_NO_OBJ */
    uint32_t thread;
    uint64_t base; /* GLOBAL: the object's base; TLS: its block's start; REGISTER: the number */
};

/* The scan of one process. */
struct rproc {
    const struct retain_opts *o;
    pid_t pid;
    uint32_t proc;
    /* from the agent */
    uint32_t chan_tid;
    struct robj *objs;
    size_t n_objs, cap_objs;
    uint32_t n_named; /* objects but the agent's */
    struct hg_block *blocks;
    size_t n_blocks, cap_blocks;
    bool partial;
    /* the stopped process */
    struct rthread *th;
    size_t n_th, cap_th;
    struct rtag *tags;
    size_t n_tags, cap_tags;
    struct hg_range *ranges;
    size_t n_ranges, cap_ranges;
    struct hg_value *values;
    size_t n_values, cap_values;
    double stop_deadline;
    double stopped_at, released_at;
    bool process_gone;
    uint64_t read_calls;
    char note[256];
};

/* ---------------------------------------------------------------- the block list */

static int on_frame(void *ctx, uint16_t type, const uint8_t *p, size_t len)
{
    struct rproc *rp = ctx;
    struct proto_rbuf r = {.data = p, .len = len};
    if (type == PROTO_BLOCKS_BEGIN) {
        uint64_t n = 0;
        uint32_t flags = 0;
        if (proto_get_u32(&r, &rp->chan_tid) < 0 || proto_get_u32(&r, &flags) < 0 ||
            proto_get_u64(&r, &n) < 0) {
            return -EBADMSG;
        }
        /* Room for what the table counts now, and a little more: no doubling of a big list. */
        size_t want = (size_t)(n + n / 16 + 64);
        struct hg_block *b = want > rp->cap_blocks && n < (1ull << 31)
                                 ? realloc(rp->blocks, want * sizeof(*b))
                                 : NULL;
        if (b) {
            rp->blocks = b;
            rp->cap_blocks = want;
        }
        return 0;
    }
    if (type == PROTO_BLOCKS_OBJECT) {
        if (arr_grow((void **)&rp->objs, &rp->cap_objs, rp->n_objs, sizeof(*rp->objs)) < 0) {
            return -ENOMEM;
        }
        struct robj *ob = &rp->objs[rp->n_objs];
        memset(ob, 0, sizeof(*ob));
        uint64_t off = 0;
        if (proto_get_u64(&r, &ob->base) < 0 || proto_get_u32(&r, &ob->flags) < 0 ||
            proto_get_u32(&r, &ob->n_ranges) < 0 || proto_get_u64(&r, &off) < 0 ||
            proto_get_u64(&r, &ob->tls_memsz) < 0 || ob->n_ranges > 16) {
            return -EBADMSG;
        }
        ob->tls_offset = (int64_t)off;
        for (uint32_t i = 0; i < ob->n_ranges; i++) {
            if (proto_get_u64(&r, &ob->ranges[i][0]) < 0 ||
                proto_get_u64(&r, &ob->ranges[i][1]) < 0) {
                return -EBADMSG;
            }
        }
        const uint8_t *s = NULL;
        size_t n = 0;
        if (proto_get_str(&r, &s, &n) < 0) {
            return -EBADMSG;
        }
        ob->path = strndup((const char *)s, n);
        if (!ob->path) {
            return -ENOMEM;
        }
        /* The agent's object is never a root nor named: it has no index in the frame. */
        ob->index = ob->flags & PROTO_BOBJ_AGENT ? PROTO_NO_OBJ : rp->n_named++;
        rp->n_objs++;
        return 0;
    }
    if (type == PROTO_BLOCKS) {
        uint32_t n = 0;
        uint32_t zero = 0;
        if (proto_get_u32(&r, &n) < 0 || proto_get_u32(&r, &zero) < 0 ||
            (size_t)n * 24u > len - r.pos) {
            return -EBADMSG;
        }
        if (n > 0 && arr_grow((void **)&rp->blocks, &rp->cap_blocks, rp->n_blocks + n - 1,
                              sizeof(*rp->blocks)) < 0) {
            return -ENOMEM;
        }
        for (uint32_t i = 0; i < n; i++) {
            struct hg_block *b = &rp->blocks[rp->n_blocks++];
            proto_get_u64(&r, &b->addr);
            proto_get_u64(&r, &b->size);
            proto_get_u32(&r, &b->stack_id);
            proto_get_u32(&r, &b->epoch);
        }
        return 0;
    }
    uint64_t n = 0;
    uint32_t flags = 0;
    if (proto_get_u64(&r, &n) < 0 || proto_get_u32(&r, &flags) < 0) {
        return -EBADMSG;
    }
    rp->partial = (flags & PROTO_BLOCKS_PARTIAL) != 0;
    return 0;
}

/* ---------------------------------------------------------------- stopping and letting go */

static bool known_tid(const struct rproc *rp, pid_t tid)
{
    for (size_t i = 0; i < rp->n_th; i++) {
        if (rp->th[i].tid == tid) {
            return true;
        }
    }
    return false;
}

/* True when thread tid of process pid is a zombie (a leader that called pthread_exit): it can't
 * stop, and has no stack or registers to speak of. */
static bool thread_ended(pid_t pid, pid_t tid)
{
    char file[48];
    snprintf(file, sizeof(file), "task/%d/stat", (int)tid);
    struct procfs_stat ps;
    return procfs_stat(pid, file, &ps) < 0 || ps.state == 'Z' || ps.state == 'X';
}

/* Seizes and interrupts the threads of /proc/PID/task not seen yet. Returns how many were new,
 * or -1 when the process is gone (or -ENOMEM). */
static long seize_new(struct rproc *rp)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)rp->pid);
    DIR *dir = opendir(path);
    if (!dir) {
        return -1;
    }
    long added = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && rp->n_th < MAX_THREADS) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        pid_t tid = (pid_t)atoi(e->d_name);
        if (known_tid(rp, tid) || thread_ended(rp->pid, tid)) {
            continue;
        }
        if (arr_grow((void **)&rp->th, &rp->cap_th, rp->n_th, sizeof(*rp->th)) < 0) {
            closedir(dir);
            return -ENOMEM;
        }
        struct rthread *t = &rp->th[rp->n_th++];
        memset(t, 0, sizeof(*t));
        t->tid = tid;
        added++;
        if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
            t->gone = true; /* it ended meanwhile (or can't be traced: see the note) */
            if (errno == EPERM && !rp->note[0]) {
                snprintf(rp->note, sizeof(rp->note), "thread %d can't be traced (ptrace: %s)",
                         (int)tid, strerror(errno));
            }
            continue;
        }
        t->seized = true;
        if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) {
            t->gone = true;
        }
    }
    closedir(dir);
    return added;
}

/* Waits (polling) until thread t reports a stop, ends, or the deadline passes. */
static void wait_stop(struct rproc *rp, struct rthread *t, double deadline)
{
    struct timespec nap = {0, 200000};
    while (t->seized && !t->stopped && !t->gone) {
        int status = 0;
        pid_t r = waitpid(t->tid, &status, WNOHANG | __WALL);
        if (r == t->tid) {
            if (WIFSTOPPED(status)) {
                t->stopped = true;
                if ((status >> 16) != PTRACE_EVENT_STOP) {
                    t->pending_sig = WSTOPSIG(status); /* a signal on its way in: kept */
                }
            } else if (WIFEXITED(status) || WIFSIGNALED(status)) {
                t->gone = true;
                if (t->tid == rp->pid) {
                    rp->process_gone = true;
                    if (rp->o->on_exit) {
                        rp->o->on_exit(rp->o->exit_arg, t->tid, status);
                    }
                }
            }
            continue;
        }
        if (r < 0 && errno != EINTR) {
            t->gone = true;
            continue;
        }
        if (clock_s() >= deadline) {
            return;
        }
        nanosleep(&nap, NULL);
    }
}

/* Stops every thread. Returns 0, or -1 with rp->note set. */
static int stop_all(struct rproc *rp)
{
    double deadline = clock_s() + STOP_WAIT_MS / 1000.0;
    for (int pass = 0; pass < 64; pass++) {
        long added = seize_new(rp);
        if (added < 0) {
            rp->process_gone = true;
            snprintf(rp->note, sizeof(rp->note), "it ended before it could be stopped");
            return -1;
        }
        for (size_t i = 0; i < rp->n_th; i++) {
            wait_stop(rp, &rp->th[i], deadline);
            if (!rp->th[i].stopped && !rp->th[i].gone) {
                snprintf(rp->note, sizeof(rp->note), "thread %d did not stop within %d ms",
                         (int)rp->th[i].tid, STOP_WAIT_MS);
                return -1;
            }
        }
        if (added == 0) {
            break; /* every thread stopped, and none appeared meanwhile */
        }
    }
    size_t stopped = 0;
    for (size_t i = 0; i < rp->n_th; i++) {
        stopped += rp->th[i].stopped;
    }
    if (stopped == 0) {
        if (!rp->note[0]) {
            snprintf(rp->note, sizeof(rp->note), "no thread could be stopped");
        }
        return -1;
    }
    return 0;
}

/* Reaps the threads of a process killed while stopped (SIGKILL from elsewhere): a traced thread
 * that ends waits for its tracer. The leader's status goes to on_exit. */
static void reap_dying(struct rproc *rp, double deadline)
{
    struct timespec nap = {0, 500000};
    for (;;) {
        bool left = false;
        for (size_t i = 0; i < rp->n_th; i++) {
            struct rthread *t = &rp->th[i];
            if (!t->seized || t->gone) {
                continue;
            }
            int status = 0;
            pid_t r = waitpid(t->tid, &status, WNOHANG | __WALL);
            if (r == t->tid && (WIFEXITED(status) || WIFSIGNALED(status))) {
                t->gone = true;
                t->seized = false;
                if (t->tid == rp->pid && rp->o->on_exit) {
                    rp->o->on_exit(rp->o->exit_arg, t->tid, status);
                }
            } else if (r < 0 && errno == ECHILD) {
                t->gone = true; /* reaped already, or not ours to reap */
                t->seized = false;
            } else {
                left = true;
            }
        }
        if (!left || clock_s() >= deadline) {
            return;
        }
        nanosleep(&nap, NULL);
    }
}

/* Lets every thread go (with the signal that stopped it, if any). Can't fail: a thread that did
 * not stop in time is waited for once more, since only a stopped thread can be detached; the
 * threads of a process killed meanwhile are reaped. */
static void release_all(struct rproc *rp)
{
    double late = clock_s() + LATE_WAIT_MS / 1000.0;
    bool dying = false;
    for (size_t i = 0; i < rp->n_th; i++) {
        struct rthread *t = &rp->th[i];
        if (!t->seized || t->gone) {
            continue;
        }
        if (!t->stopped) {
            wait_stop(rp, t, late);
        }
        if (t->gone) {
            continue;
        }
        if (t->stopped &&
            ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(uintptr_t)t->pending_sig) == 0) {
            t->seized = false;
        } else {
            dying = true; /* no longer stopped: killed */
        }
    }
    if (dying) {
        rp->process_gone = true;
        reap_dying(rp, clock_s() + LATE_WAIT_MS / 1000.0);
    }
    rp->released_at = clock_s();
}

/* ---------------------------------------------------------------- reading */

/* hg_read_fn over process_vm_readv: a failed piece is retried alone; the process gone stops. */
static int read_mem(void *ctx, struct hg_iov *v, size_t n)
{
    struct rproc *rp = ctx;
    struct iovec local[IOV_BATCH];
    struct iovec remote[IOV_BATCH];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < IOV_BATCH ? n - done : IOV_BATCH;
        for (size_t j = 0; j < k; j++) {
            local[j] = (struct iovec){.iov_base = v[done + j].buf, .iov_len = v[done + j].len};
            remote[j] = (struct iovec){.iov_base = (void *)(uintptr_t)v[done + j].addr,
                                       .iov_len = v[done + j].len};
        }
        rp->read_calls++;
        ssize_t got = process_vm_readv(rp->pid, local, k, remote, k, 0);
        if (got < 0 && errno == ESRCH) {
            rp->process_gone = true;
            return -ESRCH;
        }
        if (got < 0 && errno != EFAULT) {
            /* Not a hole in its memory: none of it can be read (no survivor may be called
             * lost on that). */
            int e = errno;
            snprintf(rp->note, sizeof(rp->note), "its memory can't be read (%s)", strerror(e));
            return -e;
        }
        size_t left = got > 0 ? (size_t)got : 0;
        size_t j = 0;
        for (; j < k && left >= v[done + j].len; j++) {
            v[done + j].got = v[done + j].len;
            left -= v[done + j].len;
        }
        if (j < k) {
            /* The piece at j failed (partly unreadable): read it alone, go on after it. */
            struct hg_iov *p = &v[done + j];
            struct iovec l1 = {.iov_base = p->buf, .iov_len = p->len};
            struct iovec r1 = {.iov_base = (void *)(uintptr_t)p->addr, .iov_len = p->len};
            ssize_t one = left > 0 ? (ssize_t)left : process_vm_readv(rp->pid, &l1, 1, &r1, 1, 0);
            p->got = one > 0 ? (size_t)one & ~(size_t)7 : 0;
            done += j + 1;
        } else {
            done += k;
        }
    }
    return 0;
}

static bool stop_fn(void *ctx)
{
    struct rproc *rp = ctx;
    if (sig_caught()) {
        snprintf(rp->note, sizeof(rp->note), "interrupted by %s", sig_name(sig_caught()));
        return true;
    }
    if (clock_s() >= rp->stop_deadline) {
        snprintf(rp->note, sizeof(rp->note), "the search was cut at the stop budget of %u ms",
                 rp->o->stop_ms ? rp->o->stop_ms : RETAIN_STOP_MS);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- roots */

/* The end of the mapping of /proc/PID/maps that holds addr, or 0. */
static uint64_t mapping_end(pid_t pid, uint64_t addr)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return 0;
    }
    char line[4096];
    uint64_t end = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo = 0;
        unsigned long long hi = 0;
        if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
            end = hi;
            break;
        }
    }
    fclose(f);
    return end;
}

static int add_tag(struct rproc *rp, uint32_t kind, uint32_t obj, uint32_t thread, uint64_t base)
{
    if (arr_grow((void **)&rp->tags, &rp->cap_tags, rp->n_tags, sizeof(*rp->tags)) < 0) {
        return -ENOMEM;
    }
    rp->tags[rp->n_tags] = (struct rtag){.kind = kind, .obj = obj, .thread = thread, .base = base};
    return (int)rp->n_tags++;
}

/* Tiers (heapgraph.h): globals, TLS, then the stack frames from the outermost in (a block
 * reachable from main's frame is held by it, not by a stale word in a frame called since),
 * registers, and last the red zones below the stack pointers (where stale words are common). */
#define TIER_GLOBAL   0u
#define TIER_TLS      1u
#define TIER_FRAME0   2u /* + depth from the outermost frame */
#define TIER_REGISTER (TIER_FRAME0 + MAX_FRAMES + 1u)
#define TIER_RED_ZONE (TIER_REGISTER + 1u)

static int add_range(struct rproc *rp, uint64_t lo, uint64_t hi, int tag, uint32_t tier, bool libc)
{
    if (tag < 0 ||
        arr_grow((void **)&rp->ranges, &rp->cap_ranges, rp->n_ranges, sizeof(*rp->ranges)) < 0) {
        return -ENOMEM;
    }
    rp->ranges[rp->n_ranges++] =
        (struct hg_range){.start = lo, .end = hi, .tag = (uint32_t)tag, .tier = tier, .libc = libc};
    return 0;
}

/* True for the C library's object (its data holds the malloc state). */
static bool is_libc(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "libc-", 5) == 0;
}

/* A thread that is the program's: stopped, not the agent's channel thread. */
static bool program_thread(const struct rproc *rp, const struct rthread *t)
{
    return t->stopped && !t->gone && t->have_regs && (uint32_t)t->tid != rp->chan_tid;
}

/* Unwinds thread t for its frames (sp, pc), leaf first. */
static void unwind(struct rthread *t, unw_addr_space_t as)
{
    void *ui = _UPT_create(t->tid);
    if (!ui) {
        return;
    }
    t->frames = calloc(MAX_FRAMES, sizeof(*t->frames));
    unw_cursor_t cur;
    if (t->frames && unw_init_remote(&cur, as, ui) == 0) {
        do {
            unw_word_t ip = 0;
            unw_word_t sp = 0;
            unw_get_reg(&cur, UNW_REG_IP, &ip);
            unw_get_reg(&cur, UNW_REG_SP, &sp);
            if (t->n_frames > 0 && sp <= t->frames[t->n_frames - 1].sp) {
                break; /* a stack only grows up as frames unwind */
            }
            t->frames[t->n_frames++] = (struct rframe){.sp = sp, .pc = ip};
        } while (t->n_frames < MAX_FRAMES && unw_step(&cur) > 0);
    }
    _UPT_destroy(ui);
}

/* Builds the roots in their fixed order: globals, TLS, stacks, registers. */
static int build_roots(struct rproc *rp)
{
    for (size_t i = 0; i < rp->n_objs; i++) {
        const struct robj *ob = &rp->objs[i];
        if (ob->index == PROTO_NO_OBJ) {
            continue;
        }
        bool libc = is_libc(ob->path);
        for (uint32_t k = 0; k < ob->n_ranges; k++) {
            int tag = add_tag(rp, PROTO_ROOT_GLOBAL, ob->index, 0, ob->base);
            if (add_range(rp, ob->ranges[k][0], ob->ranges[k][1], tag, TIER_GLOBAL, libc) < 0) {
                return -ENOMEM;
            }
        }
    }
    for (size_t t = 0; t < rp->n_th; t++) {
        const struct rthread *th = &rp->th[t];
        if (!program_thread(rp, th)) {
            continue;
        }
        uint64_t tp = th->regs.fs_base;
        for (size_t i = 0; i < rp->n_objs; i++) {
            const struct robj *ob = &rp->objs[i];
            if (ob->index == PROTO_NO_OBJ || !(ob->flags & PROTO_BOBJ_TLS_STATIC) || tp == 0) {
                continue;
            }
            uint64_t lo = tp + (uint64_t)ob->tls_offset;
            int tag = add_tag(rp, PROTO_ROOT_TLS, ob->index, (uint32_t)t, lo);
            if (add_range(rp, lo, lo + ob->tls_memsz, tag, TIER_TLS, false) < 0) {
                return -ENOMEM;
            }
        }
        if (tp != 0) {
            /* The thread control block: the DTV (dynamic TLS) and pthread_setspecific's data. */
            int tag = add_tag(rp, PROTO_ROOT_TLS, PROTO_NO_OBJ, (uint32_t)t, tp);
            if (add_range(rp, tp, tp + TCB_BYTES, tag, TIER_TLS, false) < 0) {
                return -ENOMEM;
            }
        }
    }
    for (size_t t = 0; t < rp->n_th; t++) {
        struct rthread *th = &rp->th[t];
        if (!program_thread(rp, th) || th->stack_hi == 0) {
            continue;
        }
        int tag = add_tag(rp, PROTO_ROOT_STACK, PROTO_NO_OBJ, (uint32_t)t, 0);
        uint64_t sp = th->regs.rsp & ~(uint64_t)7;
        /* One range per frame the unwinder found (the rest of the stack with the outermost). */
        uint64_t hi = th->stack_hi;
        uint32_t depth = 0;
        for (size_t f = th->n_frames; f > 1; f--) {
            uint64_t lo = th->frames[f - 1].sp & ~(uint64_t)7;
            if (lo <= sp || lo >= hi) {
                continue;
            }
            if (add_range(rp, lo, hi, tag, TIER_FRAME0 + depth++, false) < 0) {
                return -ENOMEM;
            }
            hi = lo;
        }
        if (add_range(rp, sp, hi, tag, TIER_FRAME0 + depth, false) < 0 ||
            add_range(rp, th->stack_lo, sp, tag, TIER_RED_ZONE, false) < 0) {
            return -ENOMEM;
        }
    }
    for (size_t t = 0; t < rp->n_th; t++) {
        const struct rthread *th = &rp->th[t];
        if (!program_thread(rp, th)) {
            continue;
        }
        const unsigned long long *r = (const unsigned long long *)&th->regs;
        static const unsigned idx[PROTO_REG_COUNT] = {
            [PROTO_REG_RAX] = offsetof(struct user_regs_struct, rax) / 8,
            [PROTO_REG_RBX] = offsetof(struct user_regs_struct, rbx) / 8,
            [PROTO_REG_RCX] = offsetof(struct user_regs_struct, rcx) / 8,
            [PROTO_REG_RDX] = offsetof(struct user_regs_struct, rdx) / 8,
            [PROTO_REG_RSI] = offsetof(struct user_regs_struct, rsi) / 8,
            [PROTO_REG_RDI] = offsetof(struct user_regs_struct, rdi) / 8,
            [PROTO_REG_RBP] = offsetof(struct user_regs_struct, rbp) / 8,
            [PROTO_REG_RSP] = offsetof(struct user_regs_struct, rsp) / 8,
            [PROTO_REG_R8] = offsetof(struct user_regs_struct, r8) / 8,
            [PROTO_REG_R9] = offsetof(struct user_regs_struct, r9) / 8,
            [PROTO_REG_R10] = offsetof(struct user_regs_struct, r10) / 8,
            [PROTO_REG_R11] = offsetof(struct user_regs_struct, r11) / 8,
            [PROTO_REG_R12] = offsetof(struct user_regs_struct, r12) / 8,
            [PROTO_REG_R13] = offsetof(struct user_regs_struct, r13) / 8,
            [PROTO_REG_R14] = offsetof(struct user_regs_struct, r14) / 8,
            [PROTO_REG_R15] = offsetof(struct user_regs_struct, r15) / 8,
        };
        for (unsigned k = 0; k < PROTO_REG_COUNT; k++) {
            int tag = add_tag(rp, PROTO_ROOT_REGISTER, PROTO_NO_OBJ, (uint32_t)t, k);
            if (tag < 0 || arr_grow((void **)&rp->values, &rp->cap_values, rp->n_values,
                                    sizeof(*rp->values)) < 0) {
                return -ENOMEM;
            }
            rp->values[rp->n_values++] =
                (struct hg_value){.value = r[idx[k]], .tag = (uint32_t)tag, .tier = TIER_REGISTER};
        }
    }
    return 0;
}

/* Why a root could not be searched (a stopped thread without registers or stack), or NULL. */
static const char *roots_missing(const struct rproc *rp)
{
    static char why[128];
    for (size_t i = 0; i < rp->n_th; i++) {
        const struct rthread *t = &rp->th[i];
        if (t->stopped && !t->gone && (uint32_t)t->tid != rp->chan_tid &&
            (!t->have_regs || t->stack_hi == 0)) {
            snprintf(why, sizeof(why), "thread %d's %s could not be read", (int)t->tid,
                     t->have_regs ? "stack" : "registers");
            return why;
        }
    }
    return NULL;
}

/* Reads each program thread's registers, stack range and frames. */
static void read_threads(struct rproc *rp)
{
    /* Threads in tid order: the roots' order must not depend on /proc's listing. */
    for (size_t i = 1; i < rp->n_th; i++) {
        for (size_t j = i; j > 0 && rp->th[j - 1].tid > rp->th[j].tid; j--) {
            struct rthread x = rp->th[j];
            rp->th[j] = rp->th[j - 1];
            rp->th[j - 1] = x;
        }
    }
    unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
    for (size_t i = 0; i < rp->n_th; i++) {
        struct rthread *t = &rp->th[i];
        if (!t->stopped || t->gone) {
            continue;
        }
        t->have_regs = ptrace(PTRACE_GETREGS, t->tid, NULL, &t->regs) == 0;
        if (!t->have_regs || (uint32_t)t->tid == rp->chan_tid) {
            continue;
        }
        uint64_t sp = t->regs.rsp;
        uint64_t end = mapping_end(rp->pid, sp);
        if (end > sp) {
            t->stack_lo = (sp - RED_ZONE) & ~(uint64_t)7;
            t->stack_hi = end;
        }
        if (as) {
            unwind(t, as);
        }
    }
    if (as) {
        unw_destroy_addr_space(as);
    }
}

/* ---------------------------------------------------------------- sampling and the frame */

/* Per site: bytes of measured survivors (for ranking). */
struct site_total {
    uint32_t stack_id;
    uint64_t bytes;
    size_t first, count; /* its run in the sorted survivors */
};

static int by_bytes(const void *a, const void *b)
{
    const struct site_total *x = a;
    const struct site_total *y = b;
    if (x->bytes != y->bytes) {
        return x->bytes > y->bytes ? -1 : 1;
    }
    return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

/* qsort_r comparator over block indices: by site, round of birth, address. */
static int by_site_birth(const void *a, const void *b, void *arg)
{
    const struct hg_block *blocks = arg;
    const struct hg_block *x = &blocks[*(const uint32_t *)a];
    const struct hg_block *y = &blocks[*(const uint32_t *)b];
    if (x->stack_id != y->stack_id) {
        return x->stack_id < y->stack_id ? -1 : 1;
    }
    if (x->epoch != y->epoch) {
        return x->epoch < y->epoch ? -1 : 1;
    }
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The survivors to sample: blocks born after warm-up, the top sites by their bytes, up to
 * RETAIN_PER_SITE each spread over the rounds (oldest to newest). Returns how many into *out
 * (malloc'ed), or -ENOMEM. */
static long pick_samples(const struct rproc *rp, uint32_t **out)
{
    *out = NULL;
    uint32_t *mine = malloc((rp->n_blocks ? rp->n_blocks : 1) * sizeof(*mine));
    if (!mine) {
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < rp->n_blocks; i++) {
        if (rp->blocks[i].epoch > rp->o->warmup) {
            mine[k++] = (uint32_t)i;
        }
    }
    qsort_r(mine, k, sizeof(*mine), by_site_birth, rp->blocks);
    /* Sites as runs of `mine`, ranked by bytes. */
    struct site_total *sites = calloc(k ? k : 1, sizeof(*sites));
    size_t *first = calloc(k ? k : 1, sizeof(*first));
    if (!sites || !first) {
        free(sites);
        free(first);
        free(mine);
        return -ENOMEM;
    }
    size_t m = 0;
    for (size_t j = 0; j < k; j++) {
        const struct hg_block *b = &rp->blocks[mine[j]];
        if (m == 0 || sites[m - 1].stack_id != b->stack_id) {
            sites[m] = (struct site_total){.stack_id = b->stack_id, .first = j};
            m++;
        }
        sites[m - 1].bytes += b->size;
        sites[m - 1].count++;
    }
    free(first);
    qsort(sites, m, sizeof(*sites), by_bytes);
    if (m > RETAIN_MAX_SITES) {
        m = RETAIN_MAX_SITES;
    }
    uint32_t *picked = malloc((m ? m : 1) * RETAIN_PER_SITE * sizeof(*picked));
    if (!picked) {
        free(sites);
        free(mine);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t s = 0; s < m; s++) {
        size_t cnt = sites[s].count;
        size_t take = cnt < RETAIN_PER_SITE ? cnt : RETAIN_PER_SITE;
        for (size_t j = 0; j < take; j++) {
            picked[n++] = mine[sites[s].first + j * cnt / take];
        }
    }
    free(sites);
    free(mine);
    *out = picked;
    return (long)n;
}

/* The frame of thread t holding stack address a: (offset above its sp, its pc). */
static void stack_place(const struct rthread *t, uint64_t a, uint64_t *off, uint64_t *pc)
{
    *off = a - t->stack_lo;
    *pc = 0;
    for (size_t i = t->n_frames; i > 0; i--) {
        if (t->frames[i - 1].sp <= a) {
            *off = a - t->frames[i - 1].sp;
            *pc = t->frames[i - 1].pc;
            return;
        }
    }
    if (t->n_frames > 0) {
        *off = a - t->frames[0].sp; /* the red zone, below the innermost frame */
        *pc = t->frames[0].pc;
    }
}

/* Writes the root fields of one path. */
static void put_root(struct proto_wbuf *w, const struct rproc *rp, const struct hg_hit *hit)
{
    const struct rtag *tg = &rp->tags[hit->tag];
    const struct rthread *t = &rp->th[tg->thread];
    uint64_t addr = 0;
    uint64_t pc = 0;
    uint32_t tid = tg->kind == PROTO_ROOT_GLOBAL ? 0 : (uint32_t)t->tid;
    switch (tg->kind) {
    case PROTO_ROOT_GLOBAL:
        addr = hit->where - tg->base;
        break;
    case PROTO_ROOT_TLS:
        addr = hit->where - tg->base; /* in the object's block; the TCB's from the TP */
        break;
    case PROTO_ROOT_STACK:
        stack_place(t, hit->where, &addr, &pc);
        break;
    default:
        addr = tg->base; /* the register's number */
        break;
    }
    proto_put_u32(w, tg->kind);
    proto_put_u32(w, tg->obj);
    proto_put_u64(w, addr);
    proto_put_u64(w, pc);
    proto_put_u32(w, tid);
}

/* Encodes the paths of the samples. Hops: a run of consecutive hops with the same site (a
 * list's or a tree's nodes) is written once, as its last hop (the offset of the pointer out of
 * the run); at most RETAIN_MAX_HOPS, root side first. */
static void put_paths(struct proto_wbuf *w, const struct rproc *rp, const struct hg *g,
                      const uint32_t *picked, size_t n_picked, uint32_t *n_paths, uint32_t *hops)
{
    for (size_t s = 0; s < n_picked; s++) {
        uint32_t i = picked[s];
        const struct hg_block *b = &rp->blocks[i];
        const struct hg_hit *hit = NULL;
        long len = g ? hg_path(g, i, hops, rp->n_blocks, &hit) : -1;
        if (len < 0 && (!g || g->cut)) {
            continue; /* not reached before the search stopped: unknown, not lost */
        }
        proto_put_u32(w, b->stack_id);
        proto_put_u32(w, b->epoch);
        proto_put_u64(w, b->size);
        if (len < 0) {
            proto_put_u32(w, PROTO_ROOT_UNREACHABLE);
            proto_put_u32(w, PROTO_NO_OBJ);
            proto_put_u64(w, 0);
            proto_put_u64(w, 0);
            proto_put_u32(w, 0);
            proto_put_u32(w, 0);
            (*n_paths)++;
            continue;
        }
        put_root(w, rp, hit);
        /* Collapse runs, then cap. hops[j]'s pointer to the next block is at offset[next]. */
        uint32_t kept = 0;
        size_t at_count = w->len;
        proto_put_u32(w, 0);
        for (long j = 0; j < len && kept < RETAIN_MAX_HOPS; j++) {
            uint32_t next = j + 1 < len ? hops[j + 1] : i;
            uint32_t site = rp->blocks[hops[j]].stack_id;
            if (j + 1 < len && rp->blocks[next].stack_id == site) {
                continue; /* inside a run of one site's blocks: its last hop stands for it */
            }
            proto_put_u32(w, site);
            proto_put_u32(w, g->offset[next]);
            kept++;
        }
        if (!w->overflow) {
            uint8_t *p = w->data + at_count;
            p[0] = (uint8_t)kept;
            p[1] = (uint8_t)(kept >> 8);
            p[2] = (uint8_t)(kept >> 16);
            p[3] = (uint8_t)(kept >> 24);
        }
        (*n_paths)++;
    }
}

/* Builds and records the REC_RETAIN frame of one process. */
static int record_frame(struct chan *c, const struct rproc *rp, const struct hg *g, uint32_t flags,
                        const uint32_t *picked, size_t n_picked, double scan_s, uint64_t peak,
                        struct retain_result *res)
{
    size_t paths_bytes = n_picked * (60 + 8u * RETAIN_MAX_HOPS);
    size_t objs_bytes = 0;
    for (size_t i = 0; i < rp->n_objs; i++) {
        objs_bytes += 10 + strlen(rp->objs[i].path);
    }
    size_t note_len = strlen(rp->note);
    size_t cap = PROTO_HEADER_SIZE + 80 + note_len + objs_bytes + paths_bytes;
    struct proto_wbuf w = {.data = malloc(cap), .cap = cap};
    uint32_t *hops = malloc((rp->n_blocks ? rp->n_blocks : 1) * sizeof(*hops));
    if (!w.data || !hops) {
        free(w.data);
        free(hops);
        return -ENOMEM;
    }
    uint64_t live_bytes = 0;
    for (size_t i = 0; i < rp->n_blocks; i++) {
        live_bytes += rp->blocks[i].size;
    }
    uint32_t n_objs = 0;
    for (size_t i = 0; i < rp->n_objs; i++) {
        n_objs += rp->objs[i].index != PROTO_NO_OBJ;
    }
    double stopped = rp->stopped_at > 0 ? rp->released_at - rp->stopped_at : 0;
    proto_frame_begin(&w, PROTO_REC_RETAIN);
    proto_put_u32(&w, rp->proc);
    proto_put_u32(&w, rp->o->round);
    proto_put_u32(&w, flags);
    proto_put_u32(&w, n_objs);
    size_t at_paths = w.len;
    proto_put_u32(&w, 0);
    proto_put_u32(&w, 0);
    proto_put_u64(&w, (uint64_t)(stopped * 1e6));
    proto_put_u64(&w, (uint64_t)(scan_s * 1e6));
    proto_put_u64(&w, g ? g->bytes_read : 0);
    proto_put_u64(&w, rp->n_blocks);
    proto_put_u64(&w, live_bytes);
    proto_put_u64(&w, peak);
    proto_put_str(&w, rp->note, note_len);
    for (size_t i = 0; i < rp->n_objs; i++) {
        if (rp->objs[i].index != PROTO_NO_OBJ) {
            proto_put_u64(&w, rp->objs[i].base);
            proto_put_str(&w, rp->objs[i].path, strlen(rp->objs[i].path));
        }
    }
    uint32_t n_paths = 0;
    put_paths(&w, rp, g, picked, n_picked, &n_paths, hops);
    free(hops);
    if (!w.overflow) {
        uint8_t *p = w.data + at_paths;
        p[0] = (uint8_t)n_paths;
        p[1] = (uint8_t)(n_paths >> 8);
        p[2] = (uint8_t)(n_paths >> 16);
        p[3] = (uint8_t)(n_paths >> 24);
        proto_frame_end(&w);
        chan_record(c, w.data, w.len);
    }
    free(w.data);
    res->processes++;
    res->paths += n_paths;
    res->bytes_read += g ? g->bytes_read : 0;
    res->live_blocks += rp->n_blocks;
    res->live_bytes += live_bytes;
    if (stopped > res->stopped_seconds) {
        res->stopped_seconds = stopped;
    }
    if (peak > res->peak_bytes) {
        res->peak_bytes = peak;
    }
    if (flags) {
        res->complete = false;
        if (!res->note[0]) {
            snprintf(res->note, sizeof(res->note), "%s", rp->note);
        }
    }
    return 0;
}

static void rproc_free(struct rproc *rp)
{
    for (size_t i = 0; i < rp->n_objs; i++) {
        free(rp->objs[i].path);
    }
    for (size_t i = 0; i < rp->n_th; i++) {
        free(rp->th[i].frames);
    }
    free(rp->objs);
    free(rp->blocks);
    free(rp->th);
    free(rp->tags);
    free(rp->ranges);
    free(rp->values);
}

/* Scans one process. Returns 0 or -ENOMEM. */
static int scan_one(struct chan *c, const struct retain_opts *o, const struct chan_peer *peer,
                    struct retain_result *res)
{
    double t0 = clock_s();
    struct rproc rp = {.o = o, .pid = peer->pid, .proc = peer->proc};
    struct diag d = {{0}};
    uint32_t flags = 0;
    struct hg g = {0};
    bool have_g = false;
    uint32_t *picked = NULL;
    long n_picked = 0;
    int rc = chan_blocks(c, peer->proc, on_frame, &rp, BLOCKS_TIMEOUT_MS, &d);
    if (rc == -ENOMEM) {
        rproc_free(&rp);
        return rc;
    }
    if (rc < 0) {
        snprintf(rp.note, sizeof(rp.note), "no block list: %.200s", d.msg);
        flags = PROTO_RETAIN_FAILED;
    }
    if (rp.partial && !flags) {
        snprintf(rp.note, sizeof(rp.note), "the agent could not copy its table");
        flags = PROTO_RETAIN_FAILED;
    }
    if (!flags) {
        hg_sort_blocks(rp.blocks, rp.n_blocks);
        rp.n_blocks = hg_drop_overlaps(rp.blocks, rp.n_blocks);
        struct hg_opts ho = {.read = read_mem, .stop = stop_fn, .ctx = &rp, .buf_bytes = READ_BUF};
        rc = hg_init(&g, rp.blocks, rp.n_blocks, &ho);
        have_g = rc == 0;
        rp.stopped_at = clock_s();
        rp.stop_deadline = rp.stopped_at + (o->stop_ms ? o->stop_ms : RETAIN_STOP_MS) / 1000.0;
        if (rc == 0 && sig_caught()) {
            /* a stop signal came while the list was read: the process is not stopped at all */
            snprintf(rp.note, sizeof(rp.note), "interrupted by %s", sig_name(sig_caught()));
            flags = PROTO_RETAIN_CUT;
            g.cut = true; /* nothing searched: no survivor is called lost */
            rp.stopped_at = 0;
        } else if (rc == 0 && stop_all(&rp) < 0) {
            flags = PROTO_RETAIN_FAILED;
        } else if (rc == 0) {
            read_threads(&rp);
            rc = build_roots(&rp);
            if (rc == 0) {
                rc = hg_search(&g, &ho, rp.ranges, rp.n_ranges, rp.values, rp.n_values);
            }
            const char *missing = roots_missing(&rp);
            if (rc == 0 && missing && !g.cut) {
                /* A root not searched: what was not reached is unknown, not lost. */
                g.cut = true;
                snprintf(rp.note, sizeof(rp.note), "%s", missing);
            }
            if (rc == 0 && g.cut) {
                flags = PROTO_RETAIN_CUT;
                if (g.read_error == -ESRCH || rp.process_gone) {
                    snprintf(rp.note, sizeof(rp.note), "it ended during the scan");
                }
            }
        }
        release_all(&rp);
        if (rc == -ENOMEM) {
            hg_free(&g);
            rproc_free(&rp);
            return rc;
        }
    }
    if (!flags || flags == PROTO_RETAIN_CUT) {
        n_picked = pick_samples(&rp, &picked);
        if (n_picked < 0) {
            hg_free(&g);
            rproc_free(&rp);
            return -ENOMEM;
        }
    }
    uint64_t peak = (uint64_t)rp.cap_blocks * sizeof(*rp.blocks) + (have_g ? g.peak_bytes : 0) +
                    PROTO_HEADER_SIZE + PROTO_MAX_PAYLOAD + rp.n_blocks * 4u;
    rc = record_frame(c, &rp, have_g && !(flags & PROTO_RETAIN_FAILED) ? &g : NULL, flags, picked,
                      (size_t)n_picked, clock_s() - t0, peak, res);
    free(picked);
    hg_free(&g);
    rproc_free(&rp);
    return rc;
}

int retain_scan(struct chan *c, const struct retain_opts *o, struct retain_result *res,
                struct diag *d)
{
    double t0 = clock_s();
    memset(res, 0, sizeof(*res));
    res->complete = true;
    size_t n = chan_peers(c, NULL, 0);
    struct chan_peer *peers = calloc(n ? n : 1, sizeof(*peers));
    if (!peers) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    n = chan_peers(c, peers, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0 && !sig_caught(); i++) {
        rc = scan_one(c, o, &peers[i], res);
    }
    free(peers);
    res->seconds = clock_s() - t0;
    if (sig_caught() && res->processes < n) {
        res->complete = false;
        if (!res->note[0]) {
            snprintf(res->note, sizeof(res->note), "interrupted by %s", sig_name(sig_caught()));
        }
    }
    return rc < 0 ? diag_set(d, rc, "out of memory") : 0;
}
