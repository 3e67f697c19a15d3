/* SPDX-License-Identifier: MIT */
/* lru_cache.c - no-leak case: a bounded LRU cache that fills up, then evicts.
 *
 * stdio target: reads "get KEY" lines and answers "hit KEY VALUE" or "miss KEY VALUE" (the value
 * is computed and cached on a miss). The cache holds at most CAPACITY entries; once full, each
 * miss evicts the least recently used entry, so memory grows until the cache is full and then
 * stays flat even though every key is new. Usage: lru_cache CAPACITY
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 4096u

struct lru_entry {
    struct lru_entry *hnext;       /* hash chain */
    struct lru_entry *prev, *next; /* recency list, most recent first */
    char *key;
    char value[40];
};

static struct lru_entry *buckets[N_BUCKETS];
static struct lru_entry *mru, *lru;
static size_t n_entries, capacity;

/* FNV-1a hash of a string. Can't fail. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* Unlinks `e` from the recency list. Can't fail. */
static void list_unlink(struct lru_entry *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        mru = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        lru = e->prev;
    }
    e->prev = e->next = NULL;
}

/* Puts `e` at the front of the recency list. Can't fail. */
static void list_push_front(struct lru_entry *e)
{
    e->prev = NULL;
    e->next = mru;
    if (mru) {
        mru->prev = e;
    }
    mru = e;
    if (!lru) {
        lru = e;
    }
}

/* Removes and frees the least recently used entry. Can't fail. */
static void lru_evict(void)
{
    struct lru_entry *e = lru;
    if (!e) {
        return;
    }
    list_unlink(e);
    struct lru_entry **pp = &buckets[hash_str(e->key) % N_BUCKETS];
    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    free(e->key);
    free(e);
    n_entries--;
}

/* Looks `key` up, marking it most recently used. Returns the entry or NULL. */
static struct lru_entry *lru_get(const char *key)
{
    for (struct lru_entry *e = buckets[hash_str(key) % N_BUCKETS]; e; e = e->hnext) {
        if (strcmp(e->key, key) == 0) {
            list_unlink(e);
            list_push_front(e);
            return e;
        }
    }
    return NULL;
}

/* Inserts `key` with a computed value, evicting first when full. Returns the entry, or NULL
 * when out of memory. */
static struct lru_entry *lru_put(const char *key)
{
    while (n_entries >= capacity) {
        lru_evict();
    }
    struct lru_entry *e = calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->key = strdup(key);
    if (!e->key) {
        free(e);
        return NULL;
    }
    snprintf(e->value, sizeof(e->value), "v-%08x", hash_str(key) * 2654435761u);
    uint32_t b = hash_str(key) % N_BUCKETS;
    e->hnext = buckets[b];
    buckets[b] = e;
    list_push_front(e);
    n_entries++;
    return e;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long cap = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || errno || !end || *end || cap == 0 || cap > 1000000) {
        fprintf(stderr, "usage: lru_cache CAPACITY (1..1000000)\n");
        return 2;
    }
    capacity = cap;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "get ", 4) == 0 ? line + 4 : line;
        struct lru_entry *e = lru_get(key);
        if (e) {
            printf("hit %s %s\n", key, e->value);
            continue;
        }
        e = lru_put(key);
        printf("miss %s %s\n", key, e ? e->value : "?");
    }
    while (n_entries) {
        lru_evict();
    }
    return 0;
}
