/* SPDX-License-Identifier: MIT */
/* tpl.h - the placeholders of a scenario's target: argv, env, cwd, and the files rendered into
 * the run's own folder before the target starts.
 *
 * Two forms. In argv, env and cwd (TPL_STRICT) every '{' opens a placeholder, as everywhere in
 * a scenario file, and `{{` / `}}` are literal braces. In a file's text (TPL_TEXT) only
 * `{NAME}` and `{NAME:ARG}` are placeholders (NAME: a letter or '_', then letters, digits or
 * '_'; ARG: letters, digits, '_', '-', '.', '/'), so the braces of a configuration language
 * (`http {`, `{"a": 1}`) stay as they are; `${X}` (a shell's) is left alone and `{{` is a
 * literal '{'. Known placeholders: {port}, {port:NAME} (one more free port per NAME),
 * {run_dir} (the run's folder, absolute), {file:NAME} (the absolute path of the file NAME of
 * target.files), and each NAME of target.vars; argv, env and cwd also know {round} and {i}
 * (0: no round has started). Unknown placeholders are errors when the scenario loads.
 * No globals; thread-safe.
 */
#ifndef HARNESS_TPL_H
#define HARNESS_TPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/diag.h"

#define TPL_MAX_FILE (1u << 20) /* most bytes of one template */

enum tpl_form {
    TPL_STRICT, /* argv, env, cwd: every '{' opens a placeholder */
    TPL_TEXT,   /* a file's text: only {NAME} and {NAME:ARG} are placeholders */
};

/* One file of target.files. */
struct tpl_file {
    char *name;      /* path inside the run's folder ("conf/server.conf"), owned */
    char *text;      /* the template, owned */
    bool executable; /* written with mode 0755 (a wrapper script), else 0644 */
};

/* What the strings of a scenario may name. Borrowed. */
struct tpl_names {
    char *const *vars; /* "NAME=VALUE" entries, NULL-terminated, or NULL */
    const struct tpl_file *files;
    size_t n_files;
};

/* What checking strings found; port_names is owned (tpl_uses_cleanup()). */
struct tpl_uses {
    bool port;         /* {port} */
    char **port_names; /* each NAME of {port:NAME} once, n_port_names of them */
    size_t n_port_names;
};

/* Frees what `u` owns. Can't fail. */
void tpl_uses_cleanup(struct tpl_uses *u);

/* Checks `s` in `form` against `known`; `where` names it in messages ("f.json: target.argv[2]",
 * or a file's name and template). Notes {port} and {port:NAME} in `uses`. Returns 0, -EINVAL
 * with "WHERE: unknown placeholder '{x}' ..." (for a file: the line) in `d`, or -ENOMEM. */
int tpl_check(const char *s, enum tpl_form form, const struct tpl_names *known, const char *where,
              struct tpl_uses *uses, struct diag *d);

/* Checks a file name of target.files: relative, inside the run's folder (no '..', '.', empty
 * or hidden-escape components, no leading '/'), at most 255 bytes. Returns 0 or -EINVAL with
 * "WHERE: ..." in `d`. */
int tpl_check_file_name(const char *name, const char *where, struct diag *d);

/* What placeholders expand to when the target starts. Borrowed. */
struct tpl_ctx {
    const struct tpl_names *names;
    uint16_t port;           /* {port} */
    char *const *port_names; /* {port:NAME} is ports[i] where port_names[i] is NAME */
    const uint16_t *ports;
    size_t n_ports;
    const char *run_dir; /* absolute, no trailing '/' */
};

/* Expands the placeholders of `s` (checked with tpl_check() before). Returns a malloc'ed string
 * the caller frees, or NULL when out of memory. */
char *tpl_expand(const char *s, enum tpl_form form, const struct tpl_ctx *c);

/* Writes file `f`, expanded, to RUN_DIR/NAME (folders created, an earlier run's file replaced;
 * a symbolic link on the way or in its place is an error, so nothing is written outside the
 * run's folder). Returns 0 or a negative errno with "can't write target.files[\"NAME\"] to PATH:
 * why" in `d`. */
int tpl_render(const struct tpl_ctx *c, const struct tpl_file *f, struct diag *d);

#endif
