/* SPDX-License-Identifier: MIT */
/* round_leak.c - leak case: one block per round (4 KiB by default), not per request.
 *
 * stdio target: reads "tick ROUND ID" lines and answers "tock ROUND ID". When a request carries
 * a round number not seen before, a 4 KiB summary for that round is opened; requests add to
 * it. With --leak every round's summary is kept (a history that only grows, one block per
 * round); with --fixed the previous round's summary is freed when the next one opens.
 * An optional BYTES makes each summary that much bigger (its notes area), e.g. 1 MiB to leak
 * through blocks the allocator serves with mmap(). Usage: round_leak --leak|--fixed [BYTES]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct summary {
    struct summary *prev;
    unsigned long round, requests;
    char notes[];
};

static size_t notes_bytes = 4096 - sizeof(struct summary);

static struct summary *current;

/* Opens the summary for `round`, linked to the previous one. Returns it, or NULL when out of
 * memory. */
static struct summary *open_round_summary(unsigned long round)
{
    struct summary *s = calloc(1, sizeof(*s) + notes_bytes);
    if (!s) {
        return NULL;
    }
    s->round = round;
    s->prev = current;
    current = s;
    return s;
}

/* Frees the summaries older than the current one. Can't fail. */
static void drop_old_summaries(void)
{
    struct summary *s = current ? current->prev : NULL;
    while (s) {
        struct summary *prev = s->prev;
        free(s);
        s = prev;
    }
    if (current) {
        current->prev = NULL;
    }
}

int main(int argc, char **argv)
{
    char *end = NULL;
    unsigned long bytes = argc == 3 ? strtoul(argv[2], &end, 10) : 0;
    if (argc < 2 || argc > 3 ||
        (argc == 3 && (!end || *end || bytes < 4096 || bytes > (1ul << 30))) ||
        (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: round_leak --leak|--fixed [BYTES (4096..1 GiB)]\n");
        return 2;
    }
    if (bytes) {
        notes_bytes = bytes - sizeof(struct summary);
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        unsigned long round = 0, id = 0;
        if (sscanf(line, "tick %lu %lu", &round, &id) != 2) {
            printf("error expected 'tick ROUND ID'\n");
            continue;
        }
        if (!current || current->round != round) {
            if (!open_round_summary(round)) {
                printf("error out of memory\n");
                continue;
            }
            if (!leak) {
                drop_old_summaries();
            }
        }
        current->requests++;
        printf("tock %lu %lu\n", round, id);
    }
    drop_old_summaries();
    free(current);
    return 0;
}
