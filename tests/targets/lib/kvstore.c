/* SPDX-License-Identifier: MIT */
/* kvstore.c - libkvstore.so, a library that allocates for its caller: a key-value store whose
 * entries the library allocates and keeps until the caller deletes them, through the library's
 * own wrapper kv_alloc(). Used by tests/targets/kvuser.c. */
#include <stdlib.h>
#include <string.h>

struct kv_entry {
    struct kv_entry *next;
    char *key;
    char value[64];
};

struct kv_store {
    struct kv_entry *head;
    size_t n;
    char *name;
};

struct kv_store *kv_open(const char *name);
int kv_put(struct kv_store *s, const char *key);
int kv_del(struct kv_store *s, const char *key);
void kv_close(struct kv_store *s);

/* The library's allocator: n bytes, NULL when out of memory. */
__attribute__((noinline)) void *kv_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

/* Opens a store named `name`. Returns NULL when out of memory. */
struct kv_store *kv_open(const char *name)
{
    struct kv_store *s = kv_alloc(sizeof(*s));
    if (!s) {
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->name = kv_alloc(strlen(name) + 1);
    if (s->name) {
        strcpy(s->name, name);
    }
    return s;
}

/* Adds `key`. Returns 0, or -1 when out of memory. */
int kv_put(struct kv_store *s, const char *key)
{
    struct kv_entry *e = kv_alloc(sizeof(*e));
    if (!e) {
        return -1;
    }
    e->key = kv_alloc(strlen(key) + 1);
    if (!e->key) {
        free(e);
        return -1;
    }
    strcpy(e->key, key);
    memset(e->value, 0, sizeof(e->value));
    e->next = s->head;
    s->head = e;
    s->n++;
    return 0;
}

/* Deletes `key`. Returns 0, or -1 when absent. */
int kv_del(struct kv_store *s, const char *key)
{
    for (struct kv_entry **p = &s->head; *p; p = &(*p)->next) {
        if (strcmp((*p)->key, key) == 0) {
            struct kv_entry *e = *p;
            *p = e->next;
            free(e->key);
            free(e);
            s->n--;
            return 0;
        }
    }
    return -1;
}

/* Frees the store and what it holds. */
void kv_close(struct kv_store *s)
{
    while (s && s->head) {
        kv_del(s, s->head->key);
    }
    if (s) {
        free(s->name);
        free(s);
    }
}
