/* SPDX-License-Identifier: MIT */
/* conn_struct.c - leak case: a per-connection struct kept after the connection closes.
 *
 * stdio target with a stack of open connections: "open PEER" opens one (answers "opened N"),
 * "send DATA" writes to the newest (answers "sent BYTES"), "close" closes the newest (answers
 * "closed PEER"). With --leak a closed connection is moved to a "closed" list kept for
 * statistics that nothing ever prunes; with --fixed it is freed. Everything is freed at exit.
 * Usage: conn_struct --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
    struct conn *next;
    char *peer;
    size_t sent;
    char out[256];
};

static struct conn *open_conns, *closed_conns;
static unsigned long n_open;

/* Opens a connection to `peer` and pushes it on the open stack. Returns it, or NULL when out
 * of memory. */
static struct conn *conn_open(const char *peer)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->peer = strdup(peer);
    if (!c->peer) {
        free(c);
        return NULL;
    }
    c->next = open_conns;
    open_conns = c;
    n_open++;
    return c;
}

/* Frees a connection. Can't fail. */
static void conn_free(struct conn *c)
{
    free(c->peer);
    free(c);
}

/* Frees every connection on a list. Can't fail. */
static void conn_free_list(struct conn *c)
{
    while (c) {
        struct conn *next = c->next;
        conn_free(c);
        c = next;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: conn_struct --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "open ", 5) == 0) {
            struct conn *c = conn_open(line + 5);
            printf(c ? "opened %lu\n" : "error %lu\n", n_open);
        } else if (strncmp(line, "send ", 5) == 0 && open_conns) {
            struct conn *c = open_conns;
            int n = snprintf(c->out, sizeof(c->out), "%.200s", line + 5);
            c->sent += n > 0 ? (size_t)n : 0;
            printf("sent %zu\n", c->sent);
        } else if (strcmp(line, "close") == 0 && open_conns) {
            struct conn *c = open_conns;
            open_conns = c->next;
            printf("closed %s\n", c->peer);
            if (leak) {
                c->next = closed_conns; // the bug: kept "for statistics", never pruned
                closed_conns = c;
            } else {
                conn_free(c);
            }
        } else {
            printf("error bad request or no open connection\n");
        }
    }
    conn_free_list(open_conns);
    conn_free_list(closed_conns);
    return 0;
}
