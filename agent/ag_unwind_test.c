/* SPDX-License-Identifier: MIT */
/* ag_unwind_test.c - the cached-rule stack walker against libunwind, capture by capture.
 *
 * Every probe takes the stack twice at the same place, with ag_unwind_backtrace() and with
 * unw_backtrace(), and the two must be identical from the probe's caller on (same addresses,
 * same depth), or the walker must have said "fall back". The call shapes come from
 * tests/unwind/uw_work.c and uw_work.cc, built as sixteen libraries (C and C++, -O0..-O3, with
 * and without frame pointers: $B/unwind/) that the test dlopens, closes and opens again (a new
 * library at the address of a closed one), on the main thread, on several threads at once, in
 * signal handlers (on the thread's stack and on a signal stack) and with C++ exceptions in
 * flight. A mismatch prints both stacks. The closing lines count fast walks and fallbacks.
 */
#include "ag_unwind.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define DEPTH    80 /* beyond the agent's 64 + 4, so deep recursion is cut by both */
#define SEEDS    24
#define THREADS  4
#define N_LIBS   16
#define MAX_SHOW 3 /* mismatches printed in full */

typedef void (*uw_probe_fn)(void *ctx);
typedef int (*uw_run_fn)(uw_probe_fn probe, void *ctx, unsigned seed);

static const char *const lib_names[N_LIBS] = {
    "c-O0-fp",  "c-O0-nofp",  "c-O1-fp",  "c-O1-nofp",  "c-O2-fp",  "c-O2-nofp",
    "c-O3-fp",  "c-O3-nofp",  "cc-O0-fp", "cc-O0-nofp", "cc-O1-fp", "cc-O1-nofp",
    "cc-O2-fp", "cc-O2-nofp", "cc-O3-fp", "cc-O3-nofp",
};

/* What one thread's probes found. */
struct tally {
    unsigned long captures, fast, fallback, mismatches;
    int max; /* the depth asked for, varied per capture */
};

static _Atomic unsigned long total_captures, total_fast, total_fallback, total_mismatches;
static _Atomic unsigned shown;

static void skip_under_memcheck(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) {
        skip();
    }
}

static void show_stack(const char *title, const uintptr_t *pcs, int n)
{
    fprintf(stderr, "  %s (%d frames):\n", title, n);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        const char *obj = "?", *sym = "?";
        if (dladdr((void *)pcs[i], &info)) {
            obj = info.dli_fname ? info.dli_fname : "?";
            sym = info.dli_sname ? info.dli_sname : "?";
        }
        fprintf(stderr, "    #%-2d %#lx %s (%s)\n", i, (unsigned long)pcs[i], sym, obj);
    }
}

#if defined(__SANITIZE_THREAD__)
/* Under ThreadSanitizer, libunwind's per-thread cache (made by unw_backtrace's fast path) is
 * freed by a thread-exit destructor that runs after the sanitizer has let go of the thread and
 * faults; the reference there is libunwind's frame-by-frame path, the one unw_backtrace falls
 * back on, which keeps no per-thread state. */
__attribute__((noinline)) static int reference_backtrace(void **pcs, int max)
{
    unw_context_t uc;
    unw_cursor_t cursor;
    if (unw_getcontext(&uc) != 0 || unw_init_local(&cursor, &uc) != 0) {
        return 0;
    }
    int n = 0;
    while (n < max && unw_step(&cursor) > 0) {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) {
            break;
        }
        pcs[n++] = (void *)(uintptr_t)ip;
    }
    return n;
}
#define REFERENCE "unw_step"
#else
#define reference_backtrace unw_backtrace
#define REFERENCE           "unw_backtrace"
#endif

/* The probe: both unwinders from here; equal from index 1 on (index 0 is the return address
 * into this function, a different call site for each). */
__attribute__((noinline)) static void probe(void *ctx)
{
    struct tally *t = ctx;
    uintptr_t mine[DEPTH];
    void *theirs[DEPTH];
    int max = t->max;
    t->max = t->max % DEPTH + 7; /* 1..DEPTH, varied */
    if (t->max > DEPTH) {
        t->max = DEPTH;
    }
    int n = ag_unwind_backtrace(mine, max);
    int m = reference_backtrace(theirs, max);
    t->captures++;
    if (n < 0) {
        t->fallback++;
        return;
    }
    t->fast++;
    bool same = n == m && n >= 1;
    for (int i = 1; same && i < n; i++) {
        same = mine[i] == (uintptr_t)theirs[i];
    }
    if (!same) {
        t->mismatches++;
        if (atomic_fetch_add(&shown, 1) < MAX_SHOW) {
            fprintf(stderr, "ag_unwind: stacks differ (max %d):\n", max);
            show_stack("ag_unwind_backtrace", mine, n);
            show_stack(REFERENCE, (const uintptr_t *)theirs, m);
        }
    }
}

static void add_tally(const struct tally *t)
{
    atomic_fetch_add(&total_captures, t->captures);
    atomic_fetch_add(&total_fast, t->fast);
    atomic_fetch_add(&total_fallback, t->fallback);
    atomic_fetch_add(&total_mismatches, t->mismatches);
}

static void on_signal(int sig)
{
    (void)sig;
    /* the handler's own tally: the interrupted thread's is in use */
    struct tally t = {0, 0, 0, 0, 17};
    probe(&t);
    add_tally(&t);
}

static void *open_lib(const char *name)
{
    const char *b = getenv("B");
    char path[512];
    snprintf(path, sizeof(path), "%s/unwind/libuw-%s.so", b && *b ? b : "build/debug", name);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fail_msg("cannot open %s: %s (built by the Makefile's UW_LIBS)", path, dlerror());
    }
    return h;
}

/* libunwind keeps rules by address and does not notice unloads by itself (nor do the C++
 * exceptions it takes over in this program: it exports _Unwind_RaiseException): its caches are
 * flushed after every close, so the reference stays right. */
static void close_lib(void *h)
{
    assert_int_equal(dlclose(h), 0);
    unw_flush_cache(unw_local_addr_space, 0, 0);
}

static uintptr_t lib_base(void *h)
{
    struct link_map *lm = NULL;
    assert_int_equal(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
    return lm->l_addr;
}

static void run_lib(void *h, struct tally *t, unsigned seeds)
{
    uw_run_fn run = (uw_run_fn)dlsym(h, "uw_work_run");
    assert_non_null(run);
    for (unsigned s = 0; s < seeds; s++) {
        (void)run(probe, t, s);
    }
}

/* libunwind's fast path also keeps a per-thread cache of frame rules by address, which no flush
 * reaches: after a dlclose() and a dlopen() of another library at the same address,
 * unw_backtrace() on a thread that walked the old code reads stale rules (wrong stacks, or a
 * fault). The reference therefore runs each library on a thread of its own. */
struct lib_run {
    void *h;
    struct tally t;
    unsigned seeds;
    bool altstack;
};

static void *lib_thread(void *arg)
{
    struct lib_run *r = arg;
    static __thread char alt[128 * 1024];
    if (r->altstack) {
        stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0};
        if (sigaltstack(&ss, NULL) != 0) {
            return NULL;
        }
    }
    run_lib(r->h, &r->t, r->seeds);
    if (r->altstack) {
        stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
        (void)sigaltstack(&ss, NULL);
    }
    return NULL;
}

static void run_lib_on_thread(void *h, unsigned seeds, bool altstack)
{
    struct lib_run r = {h, {0, 0, 0, 0, 1}, seeds, altstack};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, lib_thread, &r), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(r.t.captures > 0);
    add_tally(&r.t);
}

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
}

static void check_totals(const char *what)
{
    unsigned long c = atomic_load(&total_captures), f = atomic_load(&total_fast),
                  b = atomic_load(&total_fallback), m = atomic_load(&total_mismatches);
    print_message("ag_unwind %s: %lu captures, %lu fast (%.1f%%), %lu fell back, %lu mismatches\n",
                  what, c, f, c ? 100.0 * (double)f / (double)c : 0.0, b, m);
    assert_int_equal(m, 0);
    assert_true(c > 0);
    assert_true(f > 0);
}

static int reset(void **state)
{
    (void)state;
    atomic_store(&total_captures, 0);
    atomic_store(&total_fast, 0);
    atomic_store(&total_fallback, 0);
    atomic_store(&total_mismatches, 0);
    install_handler();
    return 0;
}

/* Every library in turn on the main thread, each opened, run and closed: the next one is often
 * loaded where the last one was, so a rule left over from closed code would show. */
static void test_unwind_matches_libunwind_in_every_build(void **state)
{
    (void)state;
    skip_under_memcheck();
    uint64_t gen_before = ag_unwind_generation();
    unsigned reused = 0;
    uintptr_t last_base = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N_LIBS; i++) {
            void *h = open_lib(lib_names[i]);
            uintptr_t base = lib_base(h);
            reused += base == last_base;
            last_base = base;
            run_lib_on_thread(h, SEEDS, false);
            close_lib(h);
        }
    }

    print_message("ag_unwind: %u of %d libraries loaded where the one closed before had been\n",
                  reused, 2 * N_LIBS);
    check_totals("main thread");
    assert_true(ag_unwind_generation() >= gen_before + 4 * 2 * N_LIBS); /* dlclose noticed */
}

/* Directly from the test program, and at every depth limit: the cut is the same. */
static void test_unwind_cuts_at_the_same_depth(void **state)
{
    (void)state;
    skip_under_memcheck();
    void *h = open_lib("c-O2-nofp");
    run_lib_on_thread(h, DEPTH, false); /* probe() steps the limit through 1..DEPTH */
    close_lib(h);
    struct tally t = {0, 0, 0, 0, 1};
    for (int max = 1; max <= DEPTH; max++) {
        t.max = max;
        probe(&t); /* from the test program itself */
    }
    add_tally(&t);
    check_totals("depth limits");
}

struct worker {
    void *const *libs;
    unsigned index;
    struct tally t;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < N_LIBS; i++) {
        run_lib(w->libs[(i + (int)w->index * 5) % N_LIBS], &w->t, SEEDS / 2);
    }
    return NULL;
}

/* Several threads walk at once, filling the one rule table together. */
static void test_unwind_matches_on_threads_at_once(void **state)
{
    (void)state;
    skip_under_memcheck();
    void *libs[N_LIBS];
    for (int i = 0; i < N_LIBS; i++) {
        libs[i] = open_lib(lib_names[i]);
    }
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].libs = libs;
        w[i].index = i;
        w[i].t.max = 1 + (int)i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        add_tally(&w[i].t);
    }
    print_message("ag_unwind: rule table of %lu slots after the threads\n",
                  (unsigned long)ag_unwind_table_slots());
    assert_true(ag_unwind_table_slots() > 4096); /* 16 libraries' call sites at once: it grew */
    for (int i = 0; i < N_LIBS; i++) {
        close_lib(libs[i]);
    }
    check_totals("threads");
}

/* A handler on a signal stack: the walk starts on another mapping than the thread's stack. */
static void test_unwind_in_a_handler_on_a_signal_stack(void **state)
{
    (void)state;
    skip_under_memcheck();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    for (int i = 0; i < N_LIBS; i += 3) {
        void *h = open_lib(lib_names[i]);
        run_lib_on_thread(h, SEEDS, true);
        close_lib(h);
    }
    install_handler();
    check_totals("signal stack");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_unwind_matches_libunwind_in_every_build, reset),
        cmocka_unit_test_setup(test_unwind_cuts_at_the_same_depth, reset),
        cmocka_unit_test_setup(test_unwind_matches_on_threads_at_once, reset),
        cmocka_unit_test_setup(test_unwind_in_a_handler_on_a_signal_stack, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
