/* SPDX-License-Identifier: MIT */
/* growing_string.c - leak case: one string that grows in bytes but not in blocks.
 *
 * stdio target: reads "say TEXT" lines and answers "len N". Each request's text is appended to
 * the session transcript, a single string whose capacity doubles when full (so it is resized
 * rarely and grows in steps). With --leak the transcript is never cleared; with --fixed it is
 * cleared after each answer (keeping its capacity, which stops growing at once).
 * Usage: growing_string --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *transcript;
static size_t transcript_len, transcript_cap;

/* Appends `text` and a newline to the transcript, doubling its capacity as needed. Returns 0,
 * or -1 when out of memory (the transcript is unchanged). */
static int transcript_append(const char *text)
{
    size_t add = strlen(text) + 1;
    if (transcript_len + add + 1 > transcript_cap) {
        size_t cap = transcript_cap ? transcript_cap : 64;
        while (transcript_len + add + 1 > cap) {
            cap *= 2;
        }
        char *grown = realloc(transcript, cap);
        if (!grown) {
            return -1;
        }
        transcript = grown;
        transcript_cap = cap;
    }
    memcpy(transcript + transcript_len, text, add - 1);
    transcript[transcript_len + add - 1] = '\n';
    transcript_len += add;
    transcript[transcript_len] = '\0';
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: growing_string --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *text = strncmp(line, "say ", 4) == 0 ? line + 4 : line;
        if (transcript_append(text) != 0) {
            printf("error out of memory\n");
            continue;
        }
        printf("len %zu\n", transcript_len);
        if (!leak) {
            transcript_len = 0;
            transcript[0] = '\0';
        }
    }
    free(transcript);
    return 0;
}
