/* SPDX-License-Identifier: MIT */
/* asprintf_reply.c - leak case: replies built with asprintf() and kept.
 *
 * stdio target: reads "hello NAME" lines and answers "greetings NAME, you are visitor N". The
 * reply is formatted with asprintf(); with --leak every reply is kept in a "sent" list (a
 * resend buffer nobody trims); with --fixed it is freed once written. Kept replies are freed
 * at exit. Usage: asprintf_reply --leak|--fixed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sent {
    struct sent *next;
    char *text;
};

static struct sent *sent_list;

/* Formats the reply for visitor `n` called `name`. Returns it (caller frees) or NULL when out
 * of memory. */
static char *format_reply(const char *name, unsigned long n)
{
    char *reply = NULL;
    if (asprintf(&reply, "greetings %s, you are visitor %lu", name, n) < 0) {
        return NULL;
    }
    return reply;
}

/* Keeps `text` on the sent list. Returns 0, or -1 when out of memory (then it is freed). */
static int remember_sent(char *text)
{
    struct sent *s = malloc(sizeof(*s));
    if (!s) {
        free(text);
        return -1;
    }
    s->text = text;
    s->next = sent_list;
    sent_list = s;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: asprintf_reply --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    unsigned long n = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *name = strncmp(line, "hello ", 6) == 0 ? line + 6 : line;
        char *reply = format_reply(name, ++n);
        if (!reply) {
            printf("error out of memory\n");
            continue;
        }
        printf("%s\n", reply);
        if (leak) {
            remember_sent(reply);
        } else {
            free(reply);
        }
    }
    while (sent_list) {
        struct sent *next = sent_list->next;
        free(sent_list->text);
        free(sent_list);
        sent_list = next;
    }
    return 0;
}
