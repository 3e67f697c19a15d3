/* SPDX-License-Identifier: MIT */
/* agent_nounwind.c - built without frame pointers and without unwind tables (see the Makefile's
 * TARGET_CFLAGS_agent_nounwind): the agent must degrade to shorter stacks, never crash.
 * Each request keeps 5 blocks of 777 bytes; also frees blocks from the early constructor when
 * that library is preloaded (its symbol is looked up, not linked). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *kept[10000];
static int n;

static __attribute__((noinline)) void deep3(void)
{
    for (int i = 0; i < 5 && n < 10000; i++) {
        kept[n++] = malloc(777);
    }
}

static __attribute__((noinline)) void deep2(void)
{
    deep3();
    __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void deep1(void)
{
    deep2();
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    char line[128];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "early", 5) == 0) {
            void (*release)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "agent_early_release");
            if (release) {
                release();
            }
        } else {
            deep1();
        }
        printf("ok\n");
    }
    for (int i = 0; i < n; i++) {
        free(kept[i]);
    }
    return 0;
}
