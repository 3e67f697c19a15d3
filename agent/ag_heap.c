/* SPDX-License-Identifier: MIT */
/* ag_heap.c - mallinfo2 on a helper thread with a deadline (see ag_heap.h).
 *
 * The two request counters are futex words: the caller bumps `asked` and wakes the helper,
 * then sleeps on `answered` until it reaches the request or the deadline passes; the helper
 * sleeps on `asked`, reads the figures, stores them under the lock and publishes `answered`.
 * Counters wrap; comparisons are on their signed difference.
 */
#include "ag_heap.h"

#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"
#include "ag_core.h"

/* The one helper's state. */
struct heap {
    _Atomic uint32_t asked;    /* requests made (futex word) */
    _Atomic uint32_t answered; /* the request the figures in `last` answer (futex word) */
    _Atomic int helper_pid;    /* the process the helper runs in; 0: none yet */
    _Atomic int have_last;     /* `last` holds an answer */
    struct ag_lock lock;       /* guards `last` */
    struct ag_heap_figures last;
    _Atomic(ag_heap_read_fn) read; /* NULL: mallinfo2 */
};

static struct heap heap;

/* mallinfo2 into the figures. */
static void read_mallinfo(struct ag_heap_figures *out)
{
    struct mallinfo2 mi = mallinfo2();
    out->arena = mi.arena;
    out->hblkhd = mi.hblkhd;
    out->uordblks = mi.uordblks;
    out->fordblks = mi.fordblks;
}

static void read_now(struct heap *h, struct ag_heap_figures *out)
{
    ag_heap_read_fn fn = atomic_load_explicit(&h->read, memory_order_acquire);
    (fn ? fn : read_mallinfo)(out);
}

void ag_heap_set_reader(ag_heap_read_fn fn)
{
    atomic_store_explicit(&heap.read, fn, memory_order_release);
}

int ag_heap_helper_pid(void)
{
    return atomic_load_explicit(&heap.helper_pid, memory_order_acquire);
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
    /* The kernel reads the word as a plain 32-bit integer, which an _Atomic uint32_t is. */
    return syscall(SYS_futex, (uint32_t *)(uintptr_t)word, op, val, timeout, NULL, 0);
}

/* The helper: answers every request with fresh figures. */
static void *helper(void *arg)
{
    struct heap *h = arg;
    ag_guard = 1;
    prctl(PR_SET_NAME, PROTO_THREAD_NAME, 0, 0, 0);
    for (;;) {
        uint32_t done = atomic_load_explicit(&h->answered, memory_order_relaxed);
        uint32_t req = atomic_load_explicit(&h->asked, memory_order_acquire);
        if (req == done) {
            futex(&h->asked, FUTEX_WAIT_PRIVATE, done, NULL);
            continue;
        }
        struct ag_heap_figures f;
        read_now(h, &f);
        ag_lock_take(&h->lock);
        h->last = f;
        ag_lock_release(&h->lock);
        atomic_store_explicit(&h->have_last, 1, memory_order_release);
        atomic_store_explicit(&h->answered, req, memory_order_release);
        futex(&h->answered, FUTEX_WAKE_PRIVATE, 1, NULL);
    }
    return NULL;
}

/* Starts the helper of this process unless it runs. Returns false when it can't. */
static bool helper_running(struct heap *h)
{
    int pid = (int)getpid();
    if (atomic_load_explicit(&h->helper_pid, memory_order_acquire) == pid) {
        return true;
    }
    int rc = ag_thread_start(helper, h, 256u << 10);
    if (rc != 0) {
        return false;
    }
    atomic_store_explicit(&h->helper_pid, pid, memory_order_release);
    return true;
}

/* Nanoseconds on the monotonic clock. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ag_heap_read(unsigned wait_ms, struct ag_heap_figures *out)
{
    struct heap *h = &heap;
    if (!helper_running(h)) {
        read_now(h, out);
        return;
    }
    uint32_t req = atomic_fetch_add_explicit(&h->asked, 1, memory_order_acq_rel) + 1;
    futex(&h->asked, FUTEX_WAKE_PRIVATE, 1, NULL);
    /* The first read of a process has nothing older to fall back on: it waits. */
    bool wait_all = !atomic_load_explicit(&h->have_last, memory_order_acquire);
    uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000ull;
    for (;;) {
        uint32_t done = atomic_load_explicit(&h->answered, memory_order_acquire);
        if ((int32_t)(done - req) >= 0) {
            break;
        }
        uint64_t now = now_ns();
        if (!wait_all && now >= deadline) {
            break;
        }
        struct timespec left = {0, 0};
        uint64_t ns = wait_all ? 100000000ull : deadline - now;
        left.tv_sec = (time_t)(ns / 1000000000ull);
        left.tv_nsec = (long)(ns % 1000000000ull);
        futex(&h->answered, FUTEX_WAIT_PRIVATE, done, &left);
    }
    ag_lock_take(&h->lock);
    *out = h->last;
    ag_lock_release(&h->lock);
}

void ag_heap_lock(void)
{
    ag_lock_take(&heap.lock);
}

void ag_heap_unlock(void)
{
    ag_lock_release(&heap.lock);
}
