/* SPDX-License-Identifier: MIT */
/* lazy_init.c - no-leak case: a one-time initialisation inside a measured round.
 *
 * stdio target: reads "q ROUND ID" lines and answers "r ROUND ID CODE". The first request whose
 * ROUND is at least INIT_ROUND builds lookup tables (64 KiB in 257 blocks) that are kept for the
 * rest of the run: one step up in the live heap, then flat. Everything else per request is
 * freed. Usage: lazy_init INIT_ROUND
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TABLES    256u
#define TABLE_BYTES 256u

static uint8_t **tables;

/* Builds the lookup tables. Returns 0, or -1 when out of memory (nothing is kept). */
static int init_tables(void)
{
    uint8_t **t = calloc(N_TABLES, sizeof(*t));
    if (!t) {
        return -1;
    }
    for (unsigned i = 0; i < N_TABLES; i++) {
        t[i] = malloc(TABLE_BYTES);
        if (!t[i]) {
            while (i--) {
                free(t[i]);
            }
            free(t);
            return -1;
        }
        for (unsigned j = 0; j < TABLE_BYTES; j++) {
            t[i][j] = (uint8_t)(i * 31u + j * 7u);
        }
    }
    tables = t;
    return 0;
}

/* Frees the lookup tables, if built. Can't fail. */
static void free_tables(void)
{
    if (!tables) {
        return;
    }
    for (unsigned i = 0; i < N_TABLES; i++) {
        free(tables[i]);
    }
    free(tables);
    tables = NULL;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long init_round = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || errno || !end || *end || init_round == 0) {
        fprintf(stderr, "usage: lazy_init INIT_ROUND (1..)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        unsigned long round = 0, id = 0;
        if (sscanf(line, "q %lu %lu", &round, &id) != 2) {
            printf("error expected 'q ROUND ID'\n");
            continue;
        }
        if (round >= init_round && !tables && init_tables() != 0) {
            printf("error out of memory\n");
            continue;
        }
        char *scratch = malloc(128);
        if (!scratch) {
            printf("error out of memory\n");
            continue;
        }
        snprintf(scratch, 128, "r %lu %lu %u", round, id,
                 tables ? tables[id % N_TABLES][round % TABLE_BYTES] : 0u);
        printf("%s\n", scratch);
        free(scratch);
    }
    free_tables();
    return 0;
}
