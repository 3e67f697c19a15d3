/* SPDX-License-Identifier: MIT */
/* round_leak.c - leak case: one 4 KiB block per round, not per request.
 *
 * stdio target: reads "tick ROUND ID" lines and answers "tock ROUND ID". When a request carries
 * a round number not seen before, a 4 KiB summary for that round is opened; requests add to
 * it. With --leak every round's summary is kept (a history that only grows, one block per
 * round); with --fixed the previous round's summary is freed when the next one opens.
 * Usage: round_leak --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct summary {
    struct summary *prev;
    unsigned long round, requests;
    char notes[4096 - 3 * sizeof(unsigned long)];
};

static struct summary *current;

/* Opens the summary for `round`, linked to the previous one. Returns it, or NULL when out of
 * memory. */
static struct summary *open_round_summary(unsigned long round)
{
    struct summary *s = calloc(1, sizeof(*s));
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
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: round_leak --leak|--fixed\n");
        return 2;
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
