/* SPDX-License-Identifier: MIT */
/* retain_cases.c - who holds the leak: one stdio target, one way of keeping blocks per mode.
 *
 * Reads "put KEY" lines, answers "ok KEY" per line, and keeps a copy of each key (a "record")
 * the way the mode says, so the retainer scan (harness/retain.h) has a known answer:
 *   list      a global list (g_list -> node -> node ... -> record)
 *   hash      a global hash table (g_buckets -> bucket array -> node -> record)
 *   registry  a registry struct in a global pointing to a malloc'd array of pointers
 *             (g_registry.items -> array -> record)
 *   tls       a thread-local cache (t_cache, __thread -> node -> record)
 *   tls-thread the same in a worker thread's t_cache: the main thread hands each record to the
 *             worker through a pipe, the worker keeps it and waits for the next
 *   hops      a pointer kept only in a block three hops from a global
 *             (g_holder -> outer -> middle -> inner -> record)
 *   lost      the pointer dropped (no path: lost)
 *   xor       the pointer stored XOR'ed with a key in a global array (looks like no pointer:
 *             reported as lost, the documented limitation)
 *   fixed     the non-leak twin: each record freed once answered
 * Usage: retain_cases MODE
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    char *record;
};

struct registry {
    const char *name;
    char **items; /* malloc'd array of pointers */
    size_t n, cap;
};

struct inner {
    uint64_t tag;
    struct node *records;
};
struct middle {
    uint64_t pad[3];
    struct inner *inner;
};
struct outer {
    struct middle *middle;
};

#define N_BUCKETS 64

static struct node *g_list;
static struct node **g_buckets;
static struct registry g_registry = {.name = "records"};
static __thread char t_last_key[64]; /* so t_cache is not at offset 0 of the TLS block */
static __thread struct node *t_cache;
static struct outer *g_holder;
static uintptr_t g_xor[4096];
static size_t g_n_xor;

/* A copy of `key`: the record kept. Returns NULL when out of memory. */
static char *make_record(const char *key)
{
    size_t n = strlen(key) + 1;
    char *r = malloc(n < 48 ? 48 : n);
    if (r) {
        memcpy(r, key, n);
    }
    return r;
}

/* A node holding `record`, pushed on *head. */
static void push_node(struct node **head, char *record)
{
    struct node *n = malloc(sizeof(*n));
    if (!n) {
        free(record);
        return;
    }
    n->record = record;
    n->next = *head;
    *head = n;
}

static void keep_in_list(char *r)
{
    push_node(&g_list, r);
}

static void keep_in_hash(char *r, const char *key)
{
    if (!g_buckets) {
        g_buckets = calloc(N_BUCKETS, sizeof(*g_buckets));
        if (!g_buckets) {
            free(r);
            return;
        }
    }
    size_t h = 5381;
    for (const char *p = key; *p; p++) {
        h = h * 33 + (unsigned char)*p;
    }
    push_node(&g_buckets[h % N_BUCKETS], r);
}

static void keep_in_registry(char *r)
{
    if (g_registry.n == g_registry.cap) {
        size_t cap = g_registry.cap ? g_registry.cap * 2 : 8;
        char **items = realloc(g_registry.items, cap * sizeof(*items));
        if (!items) {
            free(r);
            return;
        }
        g_registry.items = items;
        g_registry.cap = cap;
    }
    g_registry.items[g_registry.n++] = r;
}

static void keep_in_tls(char *r)
{
    snprintf(t_last_key, sizeof(t_last_key), "%s", r);
    push_node(&t_cache, r);
}

static int g_to_worker[2] = {-1, -1};   /* records, main thread -> worker */
static int g_from_worker[2] = {-1, -1}; /* one byte back once kept */

/* The worker of tls-thread: keeps every record it is handed in its own t_cache. */
static void *tls_worker(void *arg)
{
    (void)arg;
    char *r;
    while (read(g_to_worker[0], &r, sizeof(r)) == (ssize_t)sizeof(r)) {
        push_node(&t_cache, r);
        char kept = 1;
        if (write(g_from_worker[1], &kept, 1) != 1) {
            break;
        }
    }
    return NULL;
}

/* Hands r to the worker and waits until it is kept. Returns 0 or -1. */
static int keep_in_worker(char *r)
{
    char kept;
    if (write(g_to_worker[1], &r, sizeof(r)) != (ssize_t)sizeof(r) ||
        read(g_from_worker[0], &kept, 1) != 1) {
        return -1;
    }
    return 0;
}

static void keep_three_hops(char *r)
{
    if (!g_holder) {
        g_holder = calloc(1, sizeof(*g_holder));
        struct middle *m = calloc(1, sizeof(*m));
        struct inner *in = calloc(1, sizeof(*in));
        if (!g_holder || !m || !in) {
            free(r);
            return;
        }
        g_holder->middle = m;
        m->inner = in;
    }
    push_node(&g_holder->middle->inner->records, r);
}

static void keep_xored(char *r)
{
    if (g_n_xor < sizeof(g_xor) / sizeof(g_xor[0])) {
        g_xor[g_n_xor++] = (uintptr_t)r ^ (uintptr_t)0x5a5a5a5a5a5a5a5aull;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr,
                "usage: retain_cases list|hash|registry|tls|tls-thread|hops|lost|xor|fixed\n");
        return 2;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "tls-thread") == 0) {
        pthread_t worker;
        if (pipe(g_to_worker) < 0 || pipe(g_from_worker) < 0 ||
            pthread_create(&worker, NULL, tls_worker, NULL) != 0) {
            return 1;
        }
        pthread_detach(worker);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        char *r = make_record(key);
        if (!r) {
            printf("error\n");
            continue;
        }
        printf("ok %s\n", r);
        if (strcmp(mode, "list") == 0) {
            keep_in_list(r);
        } else if (strcmp(mode, "hash") == 0) {
            keep_in_hash(r, key);
        } else if (strcmp(mode, "registry") == 0) {
            keep_in_registry(r);
        } else if (strcmp(mode, "tls") == 0) {
            keep_in_tls(r);
        } else if (strcmp(mode, "tls-thread") == 0) {
            if (keep_in_worker(r) < 0) {
                free(r);
            }
        } else if (strcmp(mode, "hops") == 0) {
            keep_three_hops(r);
        } else if (strcmp(mode, "xor") == 0) {
            keep_xored(r);
        } else if (strcmp(mode, "lost") == 0) {
            r = NULL; /* dropped: nothing points at it any more */
        } else {
            free(r);
        }
        r = NULL;
    }
    return 0;
}
