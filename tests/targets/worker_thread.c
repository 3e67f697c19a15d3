/* SPDX-License-Identifier: MIT */
/* worker_thread.c - leak case: the leak happens on a worker thread.
 *
 * stdio target: reads "job PAYLOAD" lines. The main thread puts each job on a queue; a worker
 * thread takes it, computes a digest and hands the answer back; the main thread prints
 * "digest PAYLOAD HEX" and only then reads the next line (so a round's work is finished when
 * its last reply arrives). With --leak the worker keeps a copy of every payload in its
 * per-thread history, which only grows; with --fixed it drops the copy once done. The history
 * is freed when the worker stops at end of input. Usage: worker_thread --leak|--fixed
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct job {
    struct job *next;
    char *payload;
    uint32_t digest;
    bool done;
};

struct history {
    struct history *next;
    char *payload;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queued = PTHREAD_COND_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static struct job *queue_head, *queue_tail;
static bool stopping;
static bool leak;

/* Records the payload in the worker's history. Returns 0, or -1 when out of memory. */
static int worker_record(struct history **hist, const char *payload)
{
    struct history *h = malloc(sizeof(*h));
    if (!h) {
        return -1;
    }
    size_t len = strlen(payload);
    h->payload = malloc(len + 32);
    if (!h->payload) {
        free(h);
        return -1;
    }
    memcpy(h->payload, payload, len + 1);
    h->next = *hist;
    *hist = h;
    return 0;
}

/* Frees a history list. Can't fail. */
static void history_free(struct history *h)
{
    while (h) {
        struct history *next = h->next;
        free(h->payload);
        free(h);
        h = next;
    }
}

/* The worker: takes jobs off the queue until told to stop. */
static void *worker_main(void *arg)
{
    (void)arg;
    struct history *hist = NULL;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!queue_head && !stopping) {
            pthread_cond_wait(&queued, &lock);
        }
        if (!queue_head) {
            break;
        }
        struct job *j = queue_head;
        queue_head = j->next;
        if (!queue_head) {
            queue_tail = NULL;
        }
        pthread_mutex_unlock(&lock);

        uint32_t h = 2166136261u;
        for (const char *p = j->payload; *p; p++) {
            h = (h ^ (unsigned char)*p) * 16777619u;
        }
        worker_record(&hist, j->payload);
        if (!leak) {
            struct history *last = hist;
            hist = last->next;
            last->next = NULL;
            history_free(last);
        }

        pthread_mutex_lock(&lock);
        j->digest = h;
        j->done = true;
        pthread_cond_broadcast(&finished);
    }
    pthread_mutex_unlock(&lock);
    history_free(hist);
    return NULL;
}

/* Queues a job and waits until the worker has done it. Returns its digest. */
static uint32_t submit_and_wait(struct job *j)
{
    pthread_mutex_lock(&lock);
    j->next = NULL;
    if (queue_tail) {
        queue_tail->next = j;
    } else {
        queue_head = j;
    }
    queue_tail = j;
    pthread_cond_signal(&queued);
    while (!j->done) {
        pthread_cond_wait(&finished, &lock);
    }
    pthread_mutex_unlock(&lock);
    return j->digest;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: worker_thread --leak|--fixed\n");
        return 2;
    }
    leak = strcmp(argv[1], "--leak") == 0;
    pthread_t worker;
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *payload = strncmp(line, "job ", 4) == 0 ? line + 4 : line;
        struct job *j = calloc(1, sizeof(*j));
        if (!j || !(j->payload = strdup(payload))) {
            free(j);
            printf("error\n");
            continue;
        }
        uint32_t digest = submit_and_wait(j);
        printf("digest %s %08x\n", payload, digest);
        free(j->payload);
        free(j);
    }
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&queued);
    pthread_mutex_unlock(&lock);
    pthread_join(worker, NULL);
    return 0;
}
