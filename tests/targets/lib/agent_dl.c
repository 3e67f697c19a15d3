/* SPDX-License-Identifier: MIT */
/* agent_dl.c - a library the agent tests dlopen: allocates 9 blocks of 321 bytes and keeps them. */
#include <stdlib.h>

void dl_lib_alloc(void);

static void *blocks[9];

void dl_lib_alloc(void)
{
    for (int i = 0; i < 9; i++) {
        blocks[i] = malloc(321);
    }
}
