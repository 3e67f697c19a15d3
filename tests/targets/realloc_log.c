/* SPDX-License-Identifier: MIT */
/* realloc_log.c - leak case: a realloc()-grown log buffer that is never trimmed.
 *
 * stdio target: reads "log MESSAGE" lines, appends a timestamped record to an in-memory log and
 * answers "logged N" (N = the log's length). With --leak the log only grows (one block, resized
 * by realloc() on every append, so it leaks bytes but not blocks). With --fixed the log is
 * flushed (to /dev/null here) once it passes FLUSH_AT bytes and shrunk back.
 * Usage: realloc_log --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT  4096u
#define SHRINK_TO 256u

static char *log_buf;
static size_t log_len;

/* Appends `msg` as one record. Returns 0, or -1 when out of memory (the log is unchanged). */
static int log_append(const char *msg, unsigned long seq)
{
    char rec[512];
    int n = snprintf(rec, sizeof(rec), "[%06lu] %s\n", seq, msg);
    if (n < 0) {
        return -1;
    }
    size_t add = (size_t)n < sizeof(rec) ? (size_t)n : sizeof(rec) - 1;
    char *grown = realloc(log_buf, log_len + add + 1);
    if (!grown) {
        return -1;
    }
    log_buf = grown;
    memcpy(log_buf + log_len, rec, add + 1);
    log_len += add;
    return 0;
}

/* Writes the log out and shrinks the buffer back to SHRINK_TO bytes. Can't fail (a failed
 * shrink keeps the bigger buffer). */
static void log_flush(FILE *sink)
{
    fwrite(log_buf, 1, log_len, sink);
    log_len = 0;
    log_buf[0] = '\0';
    char *small = realloc(log_buf, SHRINK_TO);
    if (small) {
        log_buf = small;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: realloc_log --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    FILE *sink = fopen("/dev/null", "w");
    if (!sink) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long seq = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *msg = strncmp(line, "log ", 4) == 0 ? line + 4 : line;
        if (log_append(msg, ++seq) != 0) {
            printf("error\n");
            continue;
        }
        printf("logged %zu\n", log_len);
        if (!leak && log_len > FLUSH_AT) {
            log_flush(sink);
        }
    }
    free(log_buf);
    fclose(sink);
    return 0;
}
