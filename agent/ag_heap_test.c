/* SPDX-License-Identifier: MIT */
/* ag_heap_test.c - the allocator's figures through the helper thread: real mallinfo2 figures,
 * fresh ones when the helper answers, the last ones when it is held up past the deadline (a
 * reader blocked until the test lets it go, so nothing depends on timing), and a helper of its
 * own in a forked child. */
#include "ag_heap.h"

#include <malloc.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* A reader whose figures count its calls, and which can be made to block. */
static _Atomic uint64_t calls;
static _Atomic int hold; /* 1: block until cleared */
static _Atomic int held; /* 1: a call is blocked */

static void counting_read(struct ag_heap_figures *out)
{
    uint64_t n = atomic_fetch_add(&calls, 1) + 1;
    while (atomic_load(&hold)) {
        atomic_store(&held, 1);
        usleep(1000);
    }
    atomic_store(&held, 0);
    *out =
        (struct ag_heap_figures){.arena = n, .hblkhd = 2 * n, .uordblks = 3 * n, .fordblks = 4 * n};
}

/* Without a replaced reader the figures are mallinfo2's: what the test's own mallinfo2 call
 * sees of its block, the helper sees too (nothing under valgrind or a sanitizer, whose
 * allocators mallinfo2 does not describe). */
static void test_heap_real_figures(void **state)
{
    (void)state;
    ag_heap_set_reader(NULL);
    void *p = malloc(100000);
    assert_non_null(p);
    struct mallinfo2 direct = mallinfo2();
    struct ag_heap_figures f;
    ag_heap_read(60000, &f);
    if (direct.uordblks >= 100000 || direct.hblkhd >= 100000) {
        assert_true(f.uordblks >= 100000 || f.hblkhd >= 100000);
    }
    assert_int_equal(ag_heap_helper_pid(), getpid());
    free(p);
}

/* Each read gets the answer to its own request while the helper keeps up. */
static void test_heap_fresh_answers(void **state)
{
    (void)state;
    ag_heap_set_reader(counting_read);
    struct ag_heap_figures f;
    for (int i = 0; i < 5; i++) {
        ag_heap_read(60000, &f); /* a deadline no helper misses */
        assert_int_equal(f.arena, atomic_load(&calls));
        assert_int_equal(f.fordblks, 4 * f.arena);
    }
}

/* A helper held up past the deadline: the read returns the last figures at once; once the
 * helper is let go its answer serves the next read. */
static void test_heap_stale_when_held_up(void **state)
{
    (void)state;
    ag_heap_set_reader(counting_read);
    struct ag_heap_figures f;
    ag_heap_read(60000, &f);
    uint64_t last = f.arena;
    assert_int_equal(last, atomic_load(&calls));
    atomic_store(&hold, 1);
    ag_heap_read(1, &f);
    assert_int_equal(f.arena, last); /* the helper is blocked in the next call: last figures */
    while (!atomic_load(&held)) {
        usleep(1000);
    }
    ag_heap_read(1, &f);
    assert_int_equal(f.arena, last);
    atomic_store(&hold, 0);
    /* The blocked call finishes; a read with a long deadline gets its own answer. */
    ag_heap_read(60000, &f);
    assert_true(f.arena > last);
    assert_int_equal(f.arena, atomic_load(&calls));
}

/* A forked child has no helper thread: its first read starts one and gets fresh figures. */
static void test_heap_forked_child_starts_its_own(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* TSan cannot start threads after a multi-threaded fork */
#endif
    ag_heap_set_reader(counting_read);
    struct ag_heap_figures f;
    ag_heap_read(60000, &f);
    ag_heap_lock();
    pid_t pid = fork();
    ag_heap_unlock();
    if (pid == 0) {
        uint64_t before = atomic_load(&calls);
        ag_heap_read(60000, &f);
        _exit(f.arena == before + 1 && ag_heap_helper_pid() == getpid() ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(ag_heap_helper_pid(), getpid());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_real_figures),
        cmocka_unit_test(test_heap_fresh_answers),
        cmocka_unit_test(test_heap_stale_when_held_up),
        cmocka_unit_test(test_heap_forked_child_starts_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
