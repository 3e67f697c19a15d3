/* SPDX-License-Identifier: MIT */
/* ag_tally_test.c - per-thread counters: ids across chunk and directory boundaries, the range
 * limits, sums over threads with signed pairs, records going back to the pool when a thread
 * exits and in a forked child. */
#include "ag_tally.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static struct ag_tally *tally_new(void)
{
    struct ag_tally *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    return t;
}

/* Ids in the first chunk, at chunk edges, past the record's own chunks (through the directory)
 * and the last one; 0 and past the last are refused. */
static void test_tally_ids_across_chunks(void **state)
{
    (void)state;
    struct ag_tally *t = tally_new();
    struct ag_tally_rec *r = ag_tally_mine(t);
    assert_non_null(r);
    assert_ptr_equal(ag_tally_mine(t), r);
    const uint32_t ids[] = {1,
                            1u << AG_TALLY_CHUNK_BITS,
                            (1u << AG_TALLY_CHUNK_BITS) + 1,
                            AG_TALLY_LOW_CHUNKS << AG_TALLY_CHUNK_BITS,
                            (AG_TALLY_LOW_CHUNKS << AG_TALLY_CHUNK_BITS) + 1,
                            3000000,
                            AG_TALLY_MAX_ID};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        assert_true(ag_tally_add(r, ids[i], (int64_t)i + 1, 100 * ((int64_t)i + 1)));
        assert_true(ag_tally_add(r, ids[i], 1, -1));
    }
    assert_false(ag_tally_add(r, 0, 1, 1));
    assert_false(ag_tally_add(r, AG_TALLY_MAX_ID + 1, 1, 1));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        int64_t n;
        int64_t bytes;
        ag_tally_sum(t, ids[i], &n, &bytes);
        assert_int_equal(n, (int64_t)i + 2);
        assert_int_equal(bytes, 100 * ((int64_t)i + 1) - 1);
    }
    int64_t n[2100] = {0};
    int64_t bytes[2100] = {0};
    ag_tally_sum_all(t, 2100, n, bytes);
    assert_int_equal(n[0], 2);
    assert_int_equal(n[1023], 3);
    assert_int_equal(n[1024], 4);
    assert_int_equal(n[5], 0);
    free(t);
}

struct job {
    struct ag_tally *t;
    int64_t sign;
};

/* Adds sign x (1, 10) to ids 1..500 and 1 to scalar 0, 1000 times. */
static void *count_job(void *arg)
{
    struct job *j = arg;
    struct ag_tally_rec *r = ag_tally_mine(j->t);
    if (!r) {
        return (void *)1;
    }
    for (int k = 0; k < 1000; k++) {
        for (uint32_t id = 1; id <= 500; id++) {
            if (!ag_tally_add(r, id, j->sign, 10 * j->sign)) {
                return (void *)1;
            }
        }
        ag_tally_scalar_add(r, 0, 1);
    }
    return NULL;
}

/* Threads counting in (+) and out (-) the same ids at once: the sums are exact once they are
 * done, and read while they run without a race (TSan). */
static void test_tally_threads_sum(void **state)
{
    (void)state;
    struct ag_tally *t = tally_new();
    pthread_t tid[4];
    struct job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct job){.t = t, .sign = i % 2 ? -1 : 2};
        assert_int_equal(pthread_create(&tid[i], NULL, count_job, &jobs[i]), 0);
    }
    for (int k = 0; k < 20; k++) {
        int64_t n[500] = {0};
        int64_t bytes[500] = {0};
        ag_tally_sum_all(t, 500, n, bytes);
    }
    for (int i = 0; i < 4; i++) {
        void *rc;
        assert_int_equal(pthread_join(tid[i], &rc), 0);
        assert_null(rc);
    }
    int64_t n;
    int64_t bytes;
    ag_tally_sum(t, 250, &n, &bytes);
    assert_int_equal(n, 2 * 1000 * (2 - 1));
    assert_int_equal(bytes, 2 * 1000 * (20 - 10));
    assert_int_equal(ag_tally_scalar(t, 0), 4000);
    free(t);
}

/* One thread after another: each takes the record the last one gave back at exit, so the
 * counts accumulate in one record. */
static void test_tally_records_reused(void **state)
{
    (void)state;
    struct ag_tally *t = tally_new();
    for (int i = 0; i < 10; i++) {
        struct job j = {.t = t, .sign = 1};
        pthread_t tid;
        assert_int_equal(pthread_create(&tid, NULL, count_job, &j), 0);
        assert_int_equal(pthread_join(tid, NULL), 0);
    }
    assert_int_equal(ag_tally_records(t), 1);
    assert_int_equal(ag_tally_scalar(t, 0), 10000);
    free(t);
}

/* In a forked child every record but the caller's is released (its counts stay), and the
 * caller keeps its own. */
static void test_tally_fork_child_releases_others(void **state)
{
    (void)state;
    struct ag_tally *t = tally_new();
    struct ag_tally_rec *mine = ag_tally_mine(t);
    assert_non_null(mine);
    ag_tally_scalar_add(mine, 1, 5);
    struct job j = {.t = t, .sign = 1};
    pthread_t tid;
    /* A second record, counted by a thread that then exits. */
    assert_int_equal(pthread_create(&tid, NULL, count_job, &j), 0);
    assert_int_equal(pthread_join(tid, NULL), 0);
    struct ag_tally_rec *other = atomic_load(&t->head);
    /* Pretend the other record is still owned by a live thread, as it is during a fork. */
    if (other == mine) {
        other = other->next;
    }
    assert_non_null(other);
    atomic_store(&other->owner, (uintptr_t)12345);
    pid_t pid = fork();
    if (pid == 0) {
        ag_tally_fork_child(t);
        bool ok = atomic_load(&other->owner) == 0 && ag_tally_mine(t) == mine &&
                  atomic_load(&mine->owner) != 0 && ag_tally_scalar(t, 1) == 5 &&
                  ag_tally_scalar(t, 0) == 1000;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(atomic_load(&other->owner), 12345);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_ids_across_chunks),
        cmocka_unit_test(test_tally_threads_sum),
        cmocka_unit_test(test_tally_records_reused),
        cmocka_unit_test(test_tally_fork_child_releases_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
