/* SPDX-License-Identifier: MIT */
/* hash_cache.c - leak case: an unbounded, reachable result cache in a hash map.
 *
 * stdio target: reads "get USER NONCE" lines and answers "val USER ..." with a value computed
 * once and cached. The bug (--leak): the cache key is the whole request, nonce included, so
 * every request adds an entry that is never looked up again. --fixed keys the cache by USER
 * only, so the map stays as big as the set of users. The bucket array has a fixed size (chains
 * grow), so the entries are the only thing that grows. Everything is freed at exit.
 * Usage: hash_cache --leak|--fixed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BUCKETS 1024u

struct entry {
    struct entry *next;
    char *key;
    char value[48];
};

static struct entry **buckets;

/* FNV-1a hash of a string. Can't fail. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* Returns the cached entry for `key`, or NULL. */
static struct entry *cache_lookup(const char *key)
{
    for (struct entry *e = buckets[hash_str(key) % N_BUCKETS]; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

/* Adds an entry for `key` holding `value`. Returns it, or NULL when out of memory. */
static struct entry *cache_insert(const char *key, const char *value)
{
    struct entry *e = malloc(sizeof(*e));
    if (!e) {
        return NULL;
    }
    e->key = strdup(key);
    snprintf(e->value, sizeof(e->value), "%s", value);
    uint32_t b = hash_str(key) % N_BUCKETS;
    e->next = buckets[b];
    buckets[b] = e;
    return e;
}

/* Frees every entry and the bucket array. Can't fail. */
static void cache_free(void)
{
    for (unsigned b = 0; b < N_BUCKETS; b++) {
        struct entry *e = buckets[b];
        while (e) {
            struct entry *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(buckets);
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: hash_cache --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    buckets = calloc(N_BUCKETS, sizeof(*buckets));
    if (!buckets) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *req = strncmp(line, "get ", 4) == 0 ? line + 4 : line;
        char user[256];
        snprintf(user, sizeof(user), "%.*s", (int)strcspn(req, " "), req);
        const char *key = leak ? req : user;
        struct entry *e = cache_lookup(key);
        if (!e) {
            char value[48];
            snprintf(value, sizeof(value), "profile-of-%.24s-%08x", user, hash_str(user));
            e = cache_insert(key, value);
        }
        printf("val %s %s\n", user, e ? e->value : "?");
    }
    cache_free();
    return 0;
}
