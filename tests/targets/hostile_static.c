/* SPDX-License-Identifier: MIT */
/* hostile_static.c - a statically linked line server ("ok" per stdin line): LD_PRELOAD never
 * applies to it, so the agent never loads and never says hello. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char line[4096];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof(line), stdin)) {
        char *kept = strdup(line);
        free(kept);
        puts("ok");
    }
    return 0;
}
