/* SPDX-License-Identifier: MIT */
/* retain_big.c - a large live heap for measuring the retainer scan (docs/RETAINERS.md).
 *
 * At start-up it builds MB megabytes of live blocks (96-byte nodes in 4096 global bucket
 * lists), then serves stdio: "put KEY" adds one node per line to the lists (a small leak) and
 * answers "ok KEY". Usage: retain_big MB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 4096
#define NODE_SIZE 96

struct node {
    struct node *next;
    char payload[NODE_SIZE - sizeof(struct node *)];
};

static struct node *g_buckets[N_BUCKETS];
static size_t g_added;

/* Adds one node to the next bucket. Returns 0, or -1 when out of memory. */
static int add_node(const char *text)
{
    struct node *n = malloc(sizeof(*n));
    if (!n) {
        return -1;
    }
    snprintf(n->payload, sizeof(n->payload), "%s", text);
    size_t b = g_added++ % N_BUCKETS;
    n->next = g_buckets[b];
    g_buckets[b] = n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: retain_big MB\n");
        return 2;
    }
    size_t nodes = (size_t)atol(argv[1]) * 1024 * 1024 / NODE_SIZE;
    for (size_t i = 0; i < nodes; i++) {
        if (add_node("start-up") < 0) {
            return 1;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        if (add_node(key) < 0) {
            printf("error\n");
            continue;
        }
        printf("ok %s\n", key);
    }
    return 0;
}
