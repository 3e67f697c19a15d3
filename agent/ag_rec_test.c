/* SPDX-License-Identifier: MIT */
/* ag_rec_test.c - the recording core the hooks call, on the agent's one state: blocks land in
 * the table at the caller's stack and round, the agent's own frames are dropped, deep stacks are
 * cut and flagged, frees and realloc's take/restore, errno and the guard left as found, and the
 * guard assertion in checked builds. */
#include "ag_rec.h"

#include <errno.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../common/proto.h"

/* Fresh state before each test (the old tables' mappings are left behind). */
static int reset_state(void **state)
{
    (void)state;
    memset(&ag_state, 0, sizeof(ag_state));
    ag_state.chan_fd = -1;
    ag_state.depth = 32;
    atomic_store(&ag_state.mode, AG_MODE_TRACK);
    ag_guard = 0;
    return 0;
}

/* libunwind probes memory by handing addresses to write(2), which memcheck reports as errors in
 * libunwind. Under valgrind (its preload library is in LD_PRELOAD) the tests that unwind are
 * skipped; they run in the plain, ASan and TSan builds. */
static void skip_under_memcheck(void)
{
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) {
        skip();
    }
}

/* Removes `ptr` from the table and returns what was recorded for it. */
static struct ag_block take_block(uintptr_t ptr)
{
    struct ag_block b;
    assert_true(ag_table_remove(&ag_state.table, ptr, &b));
    return b;
}

static void test_rec_alloc_records_block_at_callers_stack(void **state)
{
    (void)state;
    skip_under_memcheck();
    atomic_store(&ag_state.epoch, 7);
    volatile int n = 2; /* not a constant: the loop must stay one call site */
    for (int i = 0; i < n; i++) {
        errno = 4321;
        ag_rec_alloc((void *)(uintptr_t)(0x10000 + 16 * i), 100 + (size_t)i);
        assert_int_equal(errno, 4321);
        assert_int_equal(ag_guard, 0);
    }
    ag_rec_alloc((void *)0x20000, 5); /* another call site: another stack */

    struct ag_block a0 = take_block(0x10000);
    struct ag_block a1 = take_block(0x10010);
    struct ag_block b = take_block(0x20000);
    assert_int_equal(a0.size, 100);
    assert_int_equal(a1.size, 101);
    assert_int_equal(a0.epoch, 7);
    assert_int_not_equal(a0.stack_id, 0);
    assert_int_equal(a0.stack_id, a1.stack_id);
    assert_int_not_equal(b.stack_id, a0.stack_id);
    const struct ag_stack_entry *e = ag_stack_get(&ag_state.stacks, a0.stack_id);
    assert_non_null(e);
    assert_true(e->depth >= 2);
    assert_int_equal(e->flags, 0);
    uint64_t blocks;
    uint64_t bytes;
    ag_stack_allocs(&ag_state.stacks, a0.stack_id, &blocks, &bytes);
    assert_int_equal(blocks, 2);
    assert_int_equal(bytes, 201);
    assert_int_equal(atomic_load(&ag_state.truncated), 0);
}

/* dl_iterate_phdr callback: the executable segment holding the address in *ctx (in ctx[0]),
 * stored as [ctx[1], ctx[2]). */
static int find_segment(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    uintptr_t *r = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && r[0] >= lo &&
            r[0] < lo + ph->p_memsz) {
            r[1] = lo;
            r[2] = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

/* With this program's code marked as the agent's own, the leading frames in it (ag_rec_alloc,
 * this test) are dropped: the stack starts in cmocka's library. */
static void test_rec_drops_the_agents_own_frames(void **state)
{
    (void)state;
    skip_under_memcheck();
    ag_rec_alloc((void *)0x30000, 1);
    uint32_t full_id = take_block(0x30000).stack_id;
    uintptr_t r[3] = {(uintptr_t)&ag_rec_alloc, 0, 0};
    assert_int_equal(dl_iterate_phdr(find_segment, r), 1);
    ag_state.self_lo = r[1];
    ag_state.self_hi = r[2];
    ag_rec_alloc((void *)0x30000, 1);
    uint32_t cut_id = take_block(0x30000).stack_id;

    const struct ag_stack_entry *full = ag_stack_get(&ag_state.stacks, full_id);
    const struct ag_stack_entry *cut = ag_stack_get(&ag_state.stacks, cut_id);
    assert_non_null(full);
    assert_non_null(cut);
    assert_true(full->pcs[0] >= r[1] && full->pcs[0] < r[2]);
    assert_true(cut->depth >= 1);
    assert_true(cut->pcs[0] < r[1] || cut->pcs[0] >= r[2]);
    assert_true(cut->depth + 2 <= full->depth);
    /* What is left is the tail of the full stack. */
    assert_memory_equal(cut->pcs, full->pcs + (full->depth - cut->depth),
                        cut->depth * sizeof(cut->pcs[0]));
}

/* A stack deeper than the configured depth is cut to it, flagged and counted. */
static void test_rec_deep_stack_is_cut_and_flagged(void **state)
{
    (void)state;
    skip_under_memcheck();
    ag_state.depth = 2;
    ag_rec_alloc((void *)0x40000, 8);
    struct ag_block b = take_block(0x40000);
    const struct ag_stack_entry *e = ag_stack_get(&ag_state.stacks, b.stack_id);
    assert_non_null(e);
    assert_int_equal(e->depth, 2);
    assert_int_equal(e->flags, PROTO_STACK_TRUNCATED);
    assert_int_equal(atomic_load(&ag_state.truncated), 1);
}

/* A cut stack that mapped memory keeps its kind beside the truncation flag. */
static void test_rec_deep_region_stack_keeps_its_kind(void **state)
{
    (void)state;
    skip_under_memcheck();
    ag_state.depth = 2;
    ag_rec_region(0x50000, 4096, PROTO_STACK_MMAP);
    struct ag_region_cut cut;
    assert_true(ag_rec_unregion(0x50000, 4096, &cut));
    const struct ag_stack_entry *e = ag_stack_get(&ag_state.stacks, cut.stack_id);
    assert_non_null(e);
    assert_int_equal(e->depth, 2);
    assert_int_equal(e->flags, PROTO_STACK_MMAP | PROTO_STACK_TRUNCATED);
}

static void test_rec_free_known_and_unknown(void **state)
{
    (void)state;
    assert_int_equal(ag_table_insert(&ag_state.table, 0x50000, 32, 1, 0), 0);
    errno = 77;
    ag_rec_free((void *)0x50000);
    ag_rec_free((void *)0x50010); /* never recorded */
    assert_int_equal(errno, 77);
    assert_int_equal(ag_guard, 0);
    assert_false(ag_table_contains(&ag_state.table, 0x50000));
    struct ag_table_totals tot;
    ag_table_totals(&ag_state.table, &tot);
    assert_int_equal(tot.live_blocks, 0);
    assert_int_equal(tot.frees, 1);
    assert_int_equal(tot.unknown, 1);
}

/* realloc's protocol: take the old block out, put it back when the real realloc fails. */
static void test_rec_take_and_restore(void **state)
{
    (void)state;
    assert_int_equal(ag_table_insert(&ag_state.table, 0x60000, 64, 9, 3), 0);
    atomic_store(&ag_state.epoch, 4);
    struct ag_block was;
    errno = 5;
    assert_true(ag_rec_take((void *)0x60000, &was));
    assert_false(ag_table_contains(&ag_state.table, 0x60000));
    ag_rec_restore(&was);
    assert_int_equal(errno, 5);
    assert_int_equal(ag_guard, 0);
    struct ag_block back = take_block(0x60000);
    assert_int_equal(back.size, 64);
    assert_int_equal(back.epoch, 3); /* born when it was, not now */
    assert_int_equal(back.stack_id, 9);
    assert_false(ag_rec_take((void *)0x60000, &was));
}

static void test_rec_untracked_counts_only_while_tracking(void **state)
{
    (void)state;
    atomic_store(&ag_state.mode, AG_MODE_PASS);
    ag_rec_untracked();
    assert_int_equal(atomic_load(&ag_state.untracked), 0);
    atomic_store(&ag_state.mode, AG_MODE_TRACK);
    ag_rec_untracked();
    ag_rec_untracked();
    assert_int_equal(atomic_load(&ag_state.untracked), 2);
}

/* In checked builds (sanitizers, AG_DEBUG) recording with the guard already set traps: it would
 * mean a hook let a re-entrant call through. */
static void test_rec_guard_is_asserted(void **state)
{
    (void)state;
    if (!AG_CHECKED) {
        skip();
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka catches SIGILL to report a test; the trap must end this child instead. */
        signal(SIGILL, SIG_DFL);
        signal(SIGTRAP, SIG_DFL);
        ag_guard = 1;
        ag_rec_alloc((void *)0x70000, 1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGTRAP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rec_alloc_records_block_at_callers_stack, reset_state),
        cmocka_unit_test_setup(test_rec_drops_the_agents_own_frames, reset_state),
        cmocka_unit_test_setup(test_rec_deep_stack_is_cut_and_flagged, reset_state),
        cmocka_unit_test_setup(test_rec_deep_region_stack_keeps_its_kind, reset_state),
        cmocka_unit_test_setup(test_rec_free_known_and_unknown, reset_state),
        cmocka_unit_test_setup(test_rec_take_and_restore, reset_state),
        cmocka_unit_test_setup(test_rec_untracked_counts_only_while_tracking, reset_state),
        cmocka_unit_test_setup(test_rec_guard_is_asserted, reset_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
