/* SPDX-License-Identifier: MIT */
/* capped_pool.c - no-leak case: an object pool that keeps idle objects, up to a cap.
 *
 * stdio target: reads "conn ID" lines and answers "using N idle M". Each request takes a
 * 512-byte connection object from the pool (or allocates one when the pool is empty) and puts
 * it in flight; then the oldest in-flight objects finish and go back to the pool until no more
 * than a seeded random number (0..MAX_FLIGHT-1) stay in flight. The pool keeps at most CAP idle
 * objects and frees the rest, so the memory held is bounded by MAX_FLIGHT + CAP objects. Usage:
 * capped_pool CAP
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FLIGHT 64u

struct conn {
    struct conn *next;
    unsigned long id;
    char buf[496];
};

static struct conn *idle;
static size_t n_idle, cap_idle;
static struct conn *flight[MAX_FLIGHT];
static size_t flight_head, n_flight;
static uint64_t rng_state = 88172645463325252ull;

/* xorshift64 step. Can't fail. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Takes an idle object or allocates a new one. Returns NULL when out of memory. */
static struct conn *pool_acquire(void)
{
    struct conn *c = idle;
    if (c) {
        idle = c->next;
        n_idle--;
        return c;
    }
    return malloc(sizeof(*c));
}

/* Returns `c` to the pool, or frees it when the pool already holds cap_idle objects. */
static void pool_release(struct conn *c)
{
    if (n_idle >= cap_idle) {
        free(c);
        return;
    }
    c->next = idle;
    idle = c;
    n_idle++;
}

/* Finishes the oldest in-flight object. Can't fail. */
static void finish_oldest(void)
{
    pool_release(flight[flight_head]);
    flight_head = (flight_head + 1) % MAX_FLIGHT;
    n_flight--;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    unsigned long cap = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || errno || !end || *end || cap > 1000000) {
        fprintf(stderr, "usage: capped_pool CAP (0..1000000)\n");
        return 2;
    }
    cap_idle = cap;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        if (n_flight == MAX_FLIGHT) {
            finish_oldest();
        }
        struct conn *c = pool_acquire();
        if (!c) {
            printf("error out of memory\n");
            continue;
        }
        c->id = ++seq;
        snprintf(c->buf, sizeof(c->buf), "%.400s", line);
        flight[(flight_head + n_flight) % MAX_FLIGHT] = c;
        n_flight++;
        size_t keep = (size_t)(rng_next() % MAX_FLIGHT);
        while (n_flight > keep) {
            finish_oldest();
        }
        printf("using %zu idle %zu\n", n_flight, n_idle);
    }
    while (n_flight) {
        finish_oldest();
    }
    while (idle) {
        struct conn *next = idle->next;
        free(idle);
        idle = next;
    }
    return 0;
}
