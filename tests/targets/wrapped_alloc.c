/* SPDX-License-Identifier: MIT */
/* wrapped_alloc.c - leak case behind the program's own allocation wrapper.
 *
 * stdio target: reads "track NAME" lines and answers "tracking NAME (N bytes in use)". All
 * allocations go through obj_new_raw()/obj_release(), a home-grown wrapper that adds a header
 * and counts bytes in use. session_track() asks it for a 64-byte record per request; with
 * --leak the records are kept until exit, with --fixed released after the answer. Its scenario
 * lists obj_new_raw under "wrappers", so the culprit is the caller, session_track.
 * Usage: wrapped_alloc --leak|--fixed
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct obj_header {
    size_t size;
    uint64_t magic;
};

struct record {
    struct record *next;
    char name[56];
};

static size_t bytes_in_use;
static struct record *records;

/* Allocates `size` bytes behind a header. Returns NULL when out of memory. Free with
 * obj_release(). */
static void *obj_new_raw(size_t size)
{
    struct obj_header *h = malloc(sizeof(*h) + size);
    if (!h) {
        return NULL;
    }
    h->size = size;
    h->magic = 0x6f626a6563747321ull;
    bytes_in_use += size;
    return h + 1;
}

/* Releases a block from obj_new_raw(). obj_release(NULL) is a no-op. */
static void obj_release(void *p)
{
    if (!p) {
        return;
    }
    struct obj_header *h = (struct obj_header *)p - 1;
    bytes_in_use -= h->size;
    free(h);
}

/* Starts tracking `name`: a new record on the list. Returns it, or NULL when out of memory. */
static struct record *session_track(const char *name)
{
    struct record *r = obj_new_raw(sizeof(*r));
    if (!r) {
        return NULL;
    }
    snprintf(r->name, sizeof(r->name), "%.50s", name);
    r->next = records;
    records = r;
    return r;
}

/* Stops tracking the newest record. Can't fail. */
static void session_untrack_last(void)
{
    struct record *r = records;
    if (r) {
        records = r->next;
        obj_release(r);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: wrapped_alloc --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *name = strncmp(line, "track ", 6) == 0 ? line + 6 : line;
        struct record *r = session_track(name);
        if (!r) {
            printf("error out of memory\n");
            continue;
        }
        printf("tracking %s (%zu bytes in use)\n", r->name, bytes_in_use);
        if (!leak) {
            session_untrack_last();
        }
    }
    while (records) {
        session_untrack_last();
    }
    return 0;
}
