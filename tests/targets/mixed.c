/* SPDX-License-Identifier: MIT */
/* mixed.c - leak case: a mixed request stream where only one request type leaks.
 *
 * stdio target, a tiny key-value store: "put KEY VALUE" (answers "ok"), "get KEY" (answers
 * "val VALUE" or "miss"), "stat" (answers "stat puts=N gets=N keys=N"). The store has a fixed
 * number of slots (a put replaces and frees the value in its slot), so put and get allocate but
 * keep nothing new. With --leak every stat formats its answer into a snapshot that is kept in
 * a history list; with --fixed the snapshot is freed after answering.
 * Usage: mixed --leak|--fixed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SLOTS 64u

struct slot {
    char *key;
    char *value;
};

struct snapshot {
    struct snapshot *next;
    char text[96];
};

static struct slot slots[N_SLOTS];
static struct snapshot *stat_history;
static unsigned long n_puts, n_gets;

/* FNV-1a hash of a string. Can't fail. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* Stores a copy of key and value in the key's slot, freeing what was there. Returns 0, or -1
 * when out of memory. */
static int store_put(const char *key, const char *value)
{
    char *k = strdup(key);
    char *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    struct slot *s = &slots[hash_str(key) % N_SLOTS];
    free(s->key);
    free(s->value);
    s->key = k;
    s->value = v;
    n_puts++;
    return 0;
}

/* Returns the value stored for key, or NULL. */
static const char *store_get(const char *key)
{
    const struct slot *s = &slots[hash_str(key) % N_SLOTS];
    n_gets++;
    return s->key && strcmp(s->key, key) == 0 ? s->value : NULL;
}

/* Formats the store's statistics into a new snapshot, linked into the history. Returns it, or
 * NULL when out of memory. */
static struct snapshot *stat_snapshot(void)
{
    struct snapshot *snap = malloc(sizeof(*snap));
    if (!snap) {
        return NULL;
    }
    unsigned used = 0;
    for (unsigned i = 0; i < N_SLOTS; i++) {
        used += slots[i].key != NULL;
    }
    snprintf(snap->text, sizeof(snap->text), "puts=%lu gets=%lu keys=%u", n_puts, n_gets, used);
    snap->next = stat_history;
    stat_history = snap;
    return snap;
}

/* Unlinks and frees the newest snapshot. Can't fail. */
static void stat_forget_last(void)
{
    struct snapshot *snap = stat_history;
    if (snap) {
        stat_history = snap->next;
        free(snap);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: mixed --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char key[256], value[1024];
        if (sscanf(line, "put %255s %1023s", key, value) == 2) {
            printf(store_put(key, value) == 0 ? "ok\n" : "error\n");
        } else if (sscanf(line, "get %255s", key) == 1) {
            const char *v = store_get(key);
            if (v) {
                printf("val %s\n", v);
            } else {
                printf("miss\n");
            }
        } else if (strcmp(line, "stat") == 0) {
            struct snapshot *snap = stat_snapshot();
            printf("stat %s\n", snap ? snap->text : "?");
            if (!leak) {
                stat_forget_last();
            }
        } else {
            printf("error unknown request\n");
        }
    }
    while (stat_history) {
        stat_forget_last();
    }
    for (unsigned i = 0; i < N_SLOTS; i++) {
        free(slots[i].key);
        free(slots[i].value);
    }
    return 0;
}
