/* SPDX-License-Identifier: MIT */
/* wrappers.c - leak cases behind the program's own allocation wrappers, with no `wrappers`
 * list in their scenarios: the culprit must be found from the recording.
 *
 * stdio target: reads "put KEY" lines and answers "ok N". Every allocation goes through
 * zmalloc() (abort on failure), zstrdup() (over zmalloc), the NEW() macro (over zmalloc) or a
 * pool (chunks from zmalloc): the wrappers every large C program has. At start-up the program
 * keeps a configuration built with each of them, and a ring of the last 16 keys (zstrdup): sites
 * that hold memory without growing, so the wrappers are seen to serve stable code too. Per
 * request, one MODE allocates a record and keeps it (--leak) or frees it after the answer
 * (--fixed):
 *   one    index_add(): zmalloc                        -> culprit index_add
 *   two    remember(): zstrdup -> zmalloc              -> culprit remember
 *   macro  session_open(): NEW(struct session)         -> culprit session_open
 *   pool   session_keep(): pool_alloc -> pool_grow -> zmalloc  -> culprit session_keep
 * Usage: wrappers one|two|macro|pool --leak|--fixed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocates n bytes; aborts when out of memory (never returns NULL). */
static void *zmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        abort();
    }
    return p;
}

/* A copy of s from zmalloc(). Can't fail. */
static char *zstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = zmalloc(n);
    memcpy(p, s, n);
    return p;
}

#define NEW(T) ((T *)zmalloc(sizeof(T)))

/* A pool: objects carved from 4 KiB chunks, all freed at once by pool_reset(). */
struct chunk {
    struct chunk *next;
    size_t used;
    char data[4096];
};

struct pool {
    struct chunk *head;
};

/* Adds a chunk to the pool. Can't fail. */
static void pool_grow(struct pool *p)
{
    struct chunk *c = zmalloc(sizeof(*c));
    c->used = 0;
    c->next = p->head;
    p->head = c;
}

/* n bytes (<= 4096) from the pool. Can't fail. */
static void *pool_alloc(struct pool *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!p->head || p->head->used + n > sizeof(p->head->data)) {
        pool_grow(p);
    }
    void *r = p->head->data + p->head->used;
    p->head->used += n;
    return r;
}

/* Frees every chunk of the pool. Can't fail. */
static void pool_reset(struct pool *p)
{
    while (p->head) {
        struct chunk *c = p->head;
        p->head = c->next;
        free(c);
    }
}

struct entry {
    struct entry *next;
    char key[40];
};

struct session {
    struct session *next;
    unsigned long id;
    char pad[48];
};

struct config {
    char *name;
    struct entry *defaults;
    struct session *template;
    void *table;
};

static struct config *config;
static struct pool config_pool, session_pool;
static char *ring[16];
static unsigned ring_pos;
static struct entry *entries;
static char **kept;
static size_t n_kept, cap_kept;
static struct session *sessions;

/* Builds the configuration, kept until exit, through every wrapper. Can't fail. */
static void config_load(void)
{
    config = NEW(struct config);
    config->name = zstrdup("wrappers-demo");
    config->defaults = zmalloc(sizeof(struct entry) * 4);
    config->template = NEW(struct session);
    config->table = pool_alloc(&config_pool, 1024);
    kept = zmalloc(sizeof(*kept) * 4096);
    cap_kept = 4096;
}

/* Notes the latest key in a ring of 16 (older ones freed). Can't fail. */
static void ring_note(const char *key)
{
    free(ring[ring_pos]);
    ring[ring_pos] = zstrdup(key);
    ring_pos = (ring_pos + 1) % 16;
}

/* Mode one: an index entry per key. */
static struct entry *index_add(const char *key)
{
    struct entry *e = zmalloc(sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->next = entries;
    entries = e;
    return e;
}

/* Mode two: a copy of every key. */
static char *remember(const char *key)
{
    char *copy = zstrdup(key);
    if (n_kept < cap_kept) {
        kept[n_kept++] = copy;
    }
    return copy;
}

/* Mode macro: a session per key. */
static struct session *session_open(unsigned long id)
{
    struct session *s = NEW(struct session);
    s->id = id;
    s->next = sessions;
    sessions = s;
    return s;
}

/* Mode pool: a session record from the session pool. */
static void *session_keep(unsigned long id)
{
    struct session *s = pool_alloc(&session_pool, 160);
    s->id = id;
    return s;
}

/* Frees what one request of `mode` kept (the fixed program). */
static void forget(const char *mode)
{
    if (strcmp(mode, "one") == 0 && entries) {
        struct entry *e = entries;
        entries = e->next;
        free(e);
    } else if (strcmp(mode, "two") == 0 && n_kept) {
        free(kept[--n_kept]);
    } else if (strcmp(mode, "macro") == 0 && sessions) {
        struct session *s = sessions;
        sessions = s->next;
        free(s);
    } else if (strcmp(mode, "pool") == 0) {
        pool_reset(&session_pool);
    }
}

int main(int argc, char **argv)
{
    const char *modes[] = {"one", "two", "macro", "pool"};
    int ok = argc == 3 && (strcmp(argv[2], "--leak") == 0 || strcmp(argv[2], "--fixed") == 0);
    for (size_t i = 0; ok && i < 4; i++) {
        ok = strcmp(argv[1], modes[i]) == 0 ? 2 : ok;
    }
    if (ok != 2) {
        fprintf(stderr, "usage: wrappers one|two|macro|pool --leak|--fixed\n");
        return 2;
    }
    const char *mode = argv[1];
    int leak = strcmp(argv[2], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    config_load();
    char line[256];
    unsigned long n = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        const char *key = strncmp(line, "put ", 4) == 0 ? line + 4 : line;
        ring_note(key);
        n++;
        if (strcmp(mode, "one") == 0) {
            index_add(key);
        } else if (strcmp(mode, "two") == 0) {
            remember(key);
        } else if (strcmp(mode, "macro") == 0) {
            session_open(n);
        } else {
            session_keep(n);
        }
        printf("ok %lu\n", n);
        if (!leak) {
            forget(mode);
        }
    }
    while (!leak && entries) {
        forget("one");
    }
    forget("one");
    while (entries) {
        struct entry *e = entries;
        entries = e->next;
        free(e);
    }
    while (n_kept) {
        free(kept[--n_kept]);
    }
    while (sessions) {
        struct session *s = sessions;
        sessions = s->next;
        free(s);
    }
    pool_reset(&session_pool);
    pool_reset(&config_pool);
    for (size_t i = 0; i < 16; i++) {
        free(ring[i]);
    }
    free(kept);
    free(config->name);
    free(config->defaults);
    free(config->template);
    free(config);
    return 0;
}
