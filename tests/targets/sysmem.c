/* SPDX-License-Identifier: MIT */
/* sysmem.c - leak cases outside malloc: memory taken with mmap, mremap and sbrk, and an arena
 * allocator that grows by mapping chunks; each with its fixed twin.
 *
 * stdio target: reads "req ROUND ID" lines and answers "ok ROUND ID". The first request of a
 * new round does the mode's work for that round:
 *   mmap-leak     maps 80 KiB (anonymous) and keeps it      mmap-fixed    unmaps last round's
 *   mremap-leak   grows one mapping by 16 KiB               mremap-fixed  grows it, then shrinks it
 * back sbrk-leak     moves the break up by 64 KiB              sbrk-fixed    moves it up, then back
 * down partial-leak  maps 4 pages, unmaps the middle two       partial-fixed unmaps the middle two,
 * then (two pages a round stay)                                the outer ones one by one file maps
 * 64 KiB of a file and keeps it (file-backed: not heap, no leak) big-malloc    keeps one 1 MiB
 * malloc block a round (glibc maps it: counted once, as malloc) and every request of arena-leak /
 * arena-fixed stores a 1 KiB record in an arena that grows by 64 KiB mapped chunks (arena-fixed
 * resets the arena, unmapping its chunks, every round). Usage: sysmem MODE
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROUND_MAP   (80u << 10)
#define REMAP_STEP  (16u << 10)
#define BRK_STEP    (64u << 10)
#define CHUNK_BYTES (64u << 10)
#define RECORD      1024u

static const char *mode;
static size_t page;

/* ---------------------------------------------------------------- an arena on mmap */

struct chunk {
    struct chunk *next;
    size_t used;
    char data[];
};

static struct chunk *arena;

/* Maps a new chunk for the arena. Returns NULL when mmap fails. */
static struct chunk *arena_grow(void)
{
    struct chunk *c =
        mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED) {
        return NULL;
    }
    c->next = arena;
    c->used = 0;
    arena = c;
    return c;
}

/* `size` bytes from the arena, growing it by a chunk when the current one is full. */
static void *arena_alloc(size_t size)
{
    if (!arena || arena->used + size > CHUNK_BYTES - sizeof(struct chunk)) {
        if (!arena_grow()) {
            return NULL;
        }
    }
    void *p = arena->data + arena->used;
    arena->used += size;
    return p;
}

/* Unmaps every chunk. */
static void arena_reset(void)
{
    while (arena) {
        struct chunk *next = arena->next;
        munmap(arena, CHUNK_BYTES);
        arena = next;
    }
}

/* Stores one request's record in the arena. Returns 0, or -1 when out of memory. */
static int store_record(unsigned long round, unsigned long id)
{
    char *rec = arena_alloc(RECORD);
    if (!rec) {
        return -1;
    }
    snprintf(rec, RECORD, "record %lu-%lu", round, id);
    return 0;
}

/* ---------------------------------------------------------------- per-round work */

static void *last_map;
static void *remapped;
static size_t remapped_len;

/* Maps ROUND_MAP bytes and keeps them (the fixed twin unmaps the previous round's). */
static int keep_mapping(int fixed)
{
    void *p = mmap(NULL, ROUND_MAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -1;
    }
    memset(p, 1, ROUND_MAP);
    if (fixed && last_map) {
        munmap(last_map, ROUND_MAP);
    }
    last_map = p;
    return 0;
}

/* Grows the one mapping by REMAP_STEP (the fixed twin shrinks it back afterwards). */
static int grow_mapping(int fixed)
{
    if (!remapped) {
        remapped =
            mmap(NULL, REMAP_STEP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (remapped == MAP_FAILED) {
            remapped = NULL;
            return -1;
        }
        remapped_len = REMAP_STEP;
    }
    void *p = mremap(remapped, remapped_len, remapped_len + REMAP_STEP, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        return -1;
    }
    remapped = p;
    remapped_len += REMAP_STEP;
    memset(remapped, 2, remapped_len);
    if (fixed) {
        p = mremap(remapped, remapped_len, REMAP_STEP, 0);
        if (p == MAP_FAILED) {
            return -1;
        }
        remapped_len = REMAP_STEP;
    }
    return 0;
}

/* Moves the break up by BRK_STEP (the fixed twin moves it back down at once). */
static int take_break(int fixed)
{
    char *p = sbrk(BRK_STEP);
    if (p == (void *)-1) {
        return -1;
    }
    memset(p, 3, BRK_STEP);
    if (fixed && sbrk(-(intptr_t)BRK_STEP) == (void *)-1) {
        return -1;
    }
    return 0;
}

/* Maps four pages and unmaps the middle two; the fixed twin then unmaps the outer two. */
static int map_and_cut(int fixed)
{
    char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -1;
    }
    memset(p, 4, 4 * page);
    munmap(p + page, 2 * page);
    if (fixed) {
        munmap(p, page);
        munmap(p + 3 * page, page);
    }
    return 0;
}

/* Maps 64 KiB of a temporary file and keeps the mapping (not heap). */
static int map_file(void)
{
    char path[] = "/tmp/sysmem-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    unlink(path);
    if (ftruncate(fd, 64 << 10) != 0) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? -1 : 0;
}

/* Keeps one 1 MiB block from malloc (glibc serves it with its own mmap). */
static int keep_big_block(void)
{
    static void **kept;
    static size_t n;
    void **grown = realloc(kept, (n + 1) * sizeof(*kept));
    if (!grown) {
        return -1;
    }
    kept = grown;
    kept[n] = malloc(1u << 20);
    if (!kept[n]) {
        return -1;
    }
    memset(kept[n++], 5, 1u << 20);
    return 0;
}

/* ---------------------------------------------------------------- racing threads */

#define RACERS 4

static _Atomic int racing = 1;

/* Maps, cuts and unmaps regions until `racing` clears. */
static void *race_mappings(void *arg)
{
    (void)arg;
    while (racing) {
        char *p = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            continue;
        }
        p[0] = 1;
        munmap(p + 4 * page, 4 * page);
        munmap(p, 4 * page);
        munmap(p + 8 * page, 8 * page);
    }
    return NULL;
}

/* The mode's work at the start of a new round. Returns 0, or -1 on failure. */
static int round_work(void)
{
    if (strcmp(mode, "mmap-leak") == 0 || strcmp(mode, "mmap-fixed") == 0) {
        return keep_mapping(strcmp(mode, "mmap-fixed") == 0);
    }
    if (strcmp(mode, "mremap-leak") == 0 || strcmp(mode, "mremap-fixed") == 0) {
        return grow_mapping(strcmp(mode, "mremap-fixed") == 0);
    }
    if (strcmp(mode, "sbrk-leak") == 0 || strcmp(mode, "sbrk-fixed") == 0) {
        return take_break(strcmp(mode, "sbrk-fixed") == 0);
    }
    if (strcmp(mode, "partial-leak") == 0 || strcmp(mode, "partial-fixed") == 0) {
        return map_and_cut(strcmp(mode, "partial-fixed") == 0);
    }
    if (strcmp(mode, "file") == 0) {
        return map_file();
    }
    if (strcmp(mode, "big-malloc") == 0) {
        return keep_big_block();
    }
    if (strcmp(mode, "arena-fixed") == 0) {
        arena_reset();
    }
    return 0;
}

static const char *const modes[] = {
    "mmap-leak",  "mmap-fixed", "mremap-leak",  "mremap-fixed", "sbrk-leak",
    "sbrk-fixed", "arena-leak", "arena-fixed",  "partial-leak", "partial-fixed",
    "file",       "big-malloc", "mmap-threads",
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(argv[1], modes[i]) == 0) {
            mode = modes[i];
        }
    }
    if (!mode) {
        fprintf(stderr, "usage: sysmem MODE (mmap-leak, mmap-fixed, mremap-leak, mremap-fixed, "
                        "sbrk-leak, sbrk-fixed, arena-leak, arena-fixed, partial-leak, "
                        "partial-fixed, file, big-malloc, mmap-threads)\n");
        return 2;
    }
    page = (size_t)sysconf(_SC_PAGESIZE);
    pthread_t racers[RACERS];
    size_t n_racers = 0;
    for (; strcmp(mode, "mmap-threads") == 0 && n_racers < RACERS; n_racers++) {
        if (pthread_create(&racers[n_racers], NULL, race_mappings, NULL) != 0) {
            fprintf(stderr, "sysmem: pthread_create failed\n");
            return 1;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned long current = 0;
    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        unsigned long round = 0, id = 0;
        if (sscanf(line, "req %lu %lu", &round, &id) != 2) {
            printf("error expected 'req ROUND ID'\n");
            continue;
        }
        if (round != current) {
            current = round;
            if (round_work() != 0) {
                printf("error round work failed\n");
                continue;
            }
        }
        if (strncmp(mode, "arena-", 6) == 0 && store_record(round, id) != 0) {
            printf("error out of memory\n");
            continue;
        }
        printf("ok %lu %lu\n", round, id);
    }
    racing = 0;
    for (size_t i = 0; i < n_racers; i++) {
        pthread_join(racers[i], NULL);
    }
    return 0;
}
