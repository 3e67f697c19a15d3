/* SPDX-License-Identifier: MIT */
/* agent_early.c - preloaded beside the agent: its constructor allocates before (or after) the
 * agent's own, and the program frees those blocks later (agent_early_release). */
#include <stdlib.h>
#include <string.h>

void agent_early_release(void);

static void *early[4];

__attribute__((constructor(101))) static void early_init(void)
{
    early[0] = malloc(100);
    early[1] = calloc(10, 10);
    early[2] = realloc(NULL, 50);
    early[3] = strdup("allocated before main");
}

void agent_early_release(void)
{
    for (int i = 0; i < 4; i++) {
        free(early[i]);
        early[i] = NULL;
    }
}
