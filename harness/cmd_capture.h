/* SPDX-License-Identifier: MIT */
/* cmd_capture.h - test-only: what a command prints. capture_begin() points stdout and stderr
 * at temporary files, capture_end() puts them back and hands out the text each received.
 * Included by the harness's cli and cmd_*_test.c files; assert only after capture_end().
 */
#ifndef HARNESS_CMD_CAPTURE_H
#define HARNESS_CMD_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct capture {
    FILE *out, *err;
    int saved_out, saved_err;
    char *out_text, *err_text; /* after capture_end(): owned, freed by capture_free() */
};

/* Reads the whole of `f` from its start into a new string; aborts the test when it can't. */
__attribute__((unused)) static char *capture_slurp(FILE *f)
{
    long n = ftell(f);
    char *s = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (!s || n < 0) {
        abort();
    }
    rewind(f);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Sends stdout and stderr to temporary files; aborts the test when it can't. */
__attribute__((unused)) static void capture_begin(struct capture *c)
{
    fflush(stdout);
    fflush(stderr);
    c->out = tmpfile();
    c->err = tmpfile();
    c->saved_out = dup(STDOUT_FILENO);
    c->saved_err = dup(STDERR_FILENO);
    if (!c->out || !c->err || c->saved_out < 0 || c->saved_err < 0 ||
        dup2(fileno(c->out), STDOUT_FILENO) < 0 || dup2(fileno(c->err), STDERR_FILENO) < 0) {
        abort();
    }
}

/* Restores stdout and stderr and fills out_text and err_text. */
__attribute__((unused)) static void capture_end(struct capture *c)
{
    fflush(stdout);
    fflush(stderr);
    dup2(c->saved_out, STDOUT_FILENO);
    dup2(c->saved_err, STDERR_FILENO);
    close(c->saved_out);
    close(c->saved_err);
    fseek(c->out, 0, SEEK_END);
    fseek(c->err, 0, SEEK_END);
    c->out_text = capture_slurp(c->out);
    c->err_text = capture_slurp(c->err);
}

/* Frees the captured texts. */
__attribute__((unused)) static void capture_free(struct capture *c)
{
    free(c->out_text);
    free(c->err_text);
    c->out_text = NULL;
    c->err_text = NULL;
}

/* Runs command `fn` with a copy of the NULL-terminated `args` (args[0] is the command word,
 * at most 31 entries) under capture. Returns the command's exit code. */
__attribute__((unused)) static int capture_cmd(cli_cmd_fn fn, struct cli *cli,
                                               const char *const *args, struct capture *c)
{
    char *argv[32] = {NULL};
    int argc = 0;
    for (; args[argc]; argc++) {
        argv[argc] = strdup(args[argc]);
        if (argc >= 31 || !argv[argc]) {
            abort();
        }
    }
    capture_begin(c);
    int code = fn(cli, argc, argv);
    capture_end(c);
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
    }
    return code;
}

#endif
