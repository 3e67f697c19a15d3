/* SPDX-License-Identifier: MIT */
/* intermittent.c - leak case: only every third request leaks.
 *
 * stdio target: reads "req ID" lines, answers "done ID" or "retry ID". Each request is decoded
 * into a heap buffer; every third request is answered "retry", and with --leak that branch
 * returns without freeing the buffer (it is parked on a list, freed at exit, so the leak is
 * reachable). --fixed frees it on both branches. Usage: intermittent --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct decoded {
    struct decoded *next;
    size_t len;
    char text[];
};

static struct decoded *parked;
static bool leak;

/* Copies the request into a new decoded buffer with room to spare. Returns NULL when out of
 * memory. Caller frees. */
static struct decoded *decode_request(const char *line)
{
    size_t len = strlen(line);
    struct decoded *d = malloc(sizeof(*d) + len + 64);
    if (!d) {
        return NULL;
    }
    d->next = NULL;
    d->len = len;
    memcpy(d->text, line, len + 1);
    return d;
}

/* Answers one request; `n` counts requests from 1. */
static void handle_request(const char *line, unsigned long n)
{
    struct decoded *d = decode_request(line);
    if (!d) {
        printf("error\n");
        return;
    }
    if (n % 3 == 0) {
        printf("retry %s\n", d->text);
        if (leak) {
            d->next = parked; // the bug: this branch forgets free(d)
            parked = d;
            return;
        }
        free(d);
        return;
    }
    printf("done %s\n", d->text);
    free(d);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: intermittent --leak|--fixed\n");
        return 2;
    }
    leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long n = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        handle_request(line, ++n);
    }
    while (parked) {
        struct decoded *next = parked->next;
        free(parked);
        parked = next;
    }
    return 0;
}
