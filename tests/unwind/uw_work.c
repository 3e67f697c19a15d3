/* SPDX-License-Identifier: MIT */
/* uw_work.c - call shapes for the stack walker's differential test (agent/ag_unwind_test.c).
 *
 * Built as a library at -O0..-O3, with and without frame pointers (the Makefile's UW_LIBS); the
 * test dlopens each and calls uw_work_run(), which reaches the test's probe from deep and
 * shallow recursion, alloca, a large frame, a realigned frame, many arguments, mutual
 * recursion, a callback from the C library (qsort, no frame pointers there) and a signal
 * handler. Each shape is chosen by `seed`, so runs differ in depth and order.
 */
#include <alloca.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef void (*uw_probe_fn)(void *ctx);

int uw_work_run(uw_probe_fn probe, void *ctx, unsigned seed);

static __thread uw_probe_fn the_probe; /* per thread: several run at once */
static __thread void *the_ctx;
static __thread volatile int sink;

__attribute__((noinline)) static int leaf(int x)
{
    the_probe(the_ctx);
    return x + 1;
}

__attribute__((noinline)) static int recurse(int depth, int x)
{
    if (depth <= 0) {
        return leaf(x);
    }
    int r = recurse(depth - 1, x + depth);
    sink += r;
    return r + 1;
}

static int with_alloca(int n)
{
    char *p = alloca((size_t)n + 1);
    memset(p, n, (size_t)n + 1);
    the_probe(the_ctx);
    return p[n / 2];
}

__attribute__((noinline)) static int big_frame(int i)
{
    volatile char buf[6000];
    buf[i % 6000] = 1;
    the_probe(the_ctx);
    return buf[i % 6000];
}

__attribute__((noinline)) static int realigned(int i)
{
    _Alignas(64) volatile char buf[64];
    buf[i % 64] = (char)i;
    the_probe(the_ctx);
    return buf[i % 64];
}

__attribute__((noinline)) static int many_args(int a, int b, int c, int d, int e, int f, int g,
                                               int h, int i, int j)
{
    the_probe(the_ctx);
    return a + b + c + d + e + f + g + h + i + j;
}

static int mutual_b(int n);

__attribute__((noinline)) static int mutual_a(int n)
{
    if (n <= 0) {
        return leaf(n);
    }
    return mutual_b(n - 1) * 3 + 1;
}

__attribute__((noinline)) static int mutual_b(int n)
{
    if (n <= 0) {
        return with_alloca(16);
    }
    return mutual_a(n - 1) * 5 + 2;
}

static int compare(const void *a, const void *b)
{
    the_probe(the_ctx);
    return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static int via_qsort(int n)
{
    int v[4] = {3 + n, 1, 2, 0};
    qsort(v, 4, sizeof(v[0]), compare);
    return v[0];
}

__attribute__((noinline)) static int via_signal(int n)
{
    raise(SIGUSR1);
    return n;
}

/* 512 call sites of the probe, each a return address of its own, so that the walker's rule
 * table has to grow when several libraries run at once. */
#define SITE(n)                                                                                    \
    case n:                                                                                        \
        the_probe(the_ctx);                                                                        \
        sink += n;                                                                                 \
        break;
#define SITES8(n)                                                                                  \
    SITE(n) SITE(n + 1) SITE(n + 2) SITE(n + 3) SITE(n + 4) SITE(n + 5) SITE(n + 6) SITE(n + 7)
#define SITES64(n)                                                                                 \
    SITES8(n)                                                                                      \
    SITES8(n + 8)                                                                                  \
    SITES8(n + 16)                                                                                 \
    SITES8(n + 24)                                                                                 \
    SITES8(n + 32)                                                                                 \
    SITES8(n + 40)                                                                                 \
    SITES8(n + 48)                                                                                 \
    SITES8(n + 56)

__attribute__((noinline)) static int fan_out(int n)
{
    for (int k = 0; k < 16; k++) {
        switch ((n * 131 + k * 37) & 511) {
            SITES64(0)
            SITES64(64)
            SITES64(128)
            SITES64(192)
            SITES64(256)
            SITES64(320)
            SITES64(384)
            SITES64(448)
        }
    }
    return sink;
}

typedef int (*shape_fn)(int);

static int shape_recurse(int n)
{
    return recurse(n % 90, n);
}

static int shape_alloca(int n)
{
    return recurse(n % 5, with_alloca(8 + n % 200));
}

static int shape_big(int n)
{
    return recurse(n % 3, big_frame(n));
}

static int shape_args(int n)
{
    return many_args(n, 1, 2, 3, 4, 5, 6, 7, 8, 9);
}

static int shape_mutual(int n)
{
    return mutual_a(n % 12);
}

static int shape_realigned(int n)
{
    return realigned(n);
}

static const shape_fn shapes[] = {shape_recurse, shape_alloca,    shape_big,
                                  shape_args,    shape_mutual,    via_qsort,
                                  via_signal,    shape_realigned, fan_out};

int uw_work_run(uw_probe_fn probe, void *ctx, unsigned seed)
{
    the_probe = probe;
    the_ctx = ctx;
    int total = 0;
    for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        unsigned k = (i + seed) % (sizeof(shapes) / sizeof(shapes[0]));
        total += shapes[k]((int)(seed * 7 + i));
    }
    return total;
}
