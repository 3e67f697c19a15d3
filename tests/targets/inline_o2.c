/* SPDX-License-Identifier: MIT */
/* inline_o2.c - an optimised (-O2) program whose stacks go through inlined functions, for the
 * symbolizer's test against `addr2line -i -f -C` (analysis/sym_inline_test.c).
 *
 * At several depths of inlining, probe() prints the return addresses of its callers that lie in
 * this program (backtrace(3)), one "pc 0x..." line each, after a "base 0x..." line with the
 * program's load bias. Output only; no input.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>

static void *self_base;
static volatile unsigned sink;

/* Prints the return addresses of the current stack that lie in this program. */
static __attribute__((noinline)) void probe(unsigned tag)
{
    void *pcs[64];
    int n = backtrace(pcs, 64);
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (dladdr(pcs[i], &info) && info.dli_fbase == self_base) {
            printf("pc %p\n", pcs[i]);
        }
    }
    sink += tag;
}

static inline void leaf(unsigned x)
{
    if (x & 1) {
        probe(x);
    }
    sink += x;
}

static inline void middle(unsigned x)
{
    leaf(x * 3 + 1);
    sink ^= x;
}

static inline __attribute__((always_inline)) void outer(unsigned x)
{
    middle(x + 2);
    leaf(x);
}

/* A function kept out of line, so one physical frame sits between inlined ones. */
static __attribute__((noinline)) void handler(unsigned x)
{
    outer(x);
    sink += 7;
}

int main(int argc, char **argv)
{
    (void)argv;
    Dl_info info;
    if (!dladdr((void *)main, &info)) {
        return 1;
    }
    self_base = info.dli_fbase;
    printf("base %p\n", self_base);
    handler((unsigned)argc);
    outer((unsigned)argc + 4);
    middle((unsigned)argc);
    printf("sink %u\n", sink);
    return 0;
}
