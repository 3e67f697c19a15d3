/* SPDX-License-Identifier: MIT */
/* tpl.c - placeholders of the target's strings and files (see tpl.h).
 *
 * One scanner serves checking and expanding: it walks the text, copies literal runs and hands
 * each placeholder (name and optional argument) to the caller. Files are written with
 * O_NOFOLLOW under folders made and opened one component at a time with mkdirat() and
 * openat(O_NOFOLLOW), so a name (or a symbolic link left by an earlier run's target) can never
 * reach outside the run's folder.
 */
#include "tpl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/buf.h"
#include "../util/io.h"

#define TPL_MAX_NAME 255

/* One placeholder found at the scanner's position. */
struct tpl_ph {
    const char *name;
    size_t name_len;
    const char *arg; /* after ':', or NULL */
    size_t arg_len;
    size_t len; /* the whole placeholder, braces included */
};

enum tpl_kind {
    TPL_UNKNOWN,
    TPL_PORT,
    TPL_PORT_NAMED,
    TPL_RUN_DIR,
    TPL_FILE,
    TPL_VAR,
    TPL_ZERO, /* {round}, {i} in argv/env/cwd: no round has started */
};

static bool is_ident_start(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident(char ch)
{
    return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static bool is_arg(char ch)
{
    return is_ident(ch) || ch == '-' || ch == '.' || ch == '/';
}

/* At p == '{' (not an escape): fills `ph` and returns 1 when a placeholder starts here; 0 when
 * it is a literal brace (TPL_TEXT); -1 when a TPL_STRICT brace is never closed. */
static int scan_ph(const char *p, enum tpl_form form, struct tpl_ph *ph)
{
    const char *q = p + 1;
    *ph = (struct tpl_ph){.name = q};
    if (form == TPL_STRICT) {
        const char *end = strchr(q, '}');
        if (!end) {
            return -1;
        }
        const char *colon = memchr(q, ':', (size_t)(end - q));
        ph->name_len = (size_t)((colon ? colon : end) - q);
        if (colon) {
            ph->arg = colon + 1;
            ph->arg_len = (size_t)(end - colon - 1);
        }
        ph->len = (size_t)(end - p) + 1;
        return 1;
    }
    if (!is_ident_start(*q)) {
        return 0;
    }
    while (is_ident(*q)) {
        q++;
    }
    ph->name_len = (size_t)(q - ph->name);
    if (*q == ':') {
        ph->arg = ++q;
        while (is_arg(*q)) {
            q++;
        }
        ph->arg_len = (size_t)(q - ph->arg);
        if (ph->arg_len == 0) {
            return 0;
        }
    }
    if (*q != '}') {
        return 0;
    }
    ph->len = (size_t)(q - p) + 1;
    return 1;
}

static bool ph_is(const struct tpl_ph *ph, const char *name)
{
    return ph->name_len == strlen(name) && strncmp(ph->name, name, ph->name_len) == 0;
}

/* The value of var `ph` in names->vars, or NULL. */
static const char *var_value(const struct tpl_names *names, const struct tpl_ph *ph)
{
    for (char *const *v = names ? names->vars : NULL; v && *v; v++) {
        if (strncmp(*v, ph->name, ph->name_len) == 0 && (*v)[ph->name_len] == '=') {
            return *v + ph->name_len + 1;
        }
    }
    return NULL;
}

/* The file {file:ARG} names, or NULL. */
static const struct tpl_file *file_named(const struct tpl_names *names, const struct tpl_ph *ph)
{
    for (size_t i = 0; names && i < names->n_files; i++) {
        const char *n = names->files[i].name;
        if (strlen(n) == ph->arg_len && strncmp(n, ph->arg, ph->arg_len) == 0) {
            return &names->files[i];
        }
    }
    return NULL;
}

/* True when a port name is letters, digits, '_' and '-' only. */
static bool port_name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_ident(s[i]) && s[i] != '-') {
            return false;
        }
    }
    return n > 0 && n <= 64;
}

static enum tpl_kind classify(const struct tpl_ph *ph, enum tpl_form form,
                              const struct tpl_names *names)
{
    if (ph_is(ph, "port")) {
        if (!ph->arg) {
            return TPL_PORT;
        }
        return port_name_ok(ph->arg, ph->arg_len) ? TPL_PORT_NAMED : TPL_UNKNOWN;
    }
    if (ph_is(ph, "file") && ph->arg) {
        return file_named(names, ph) ? TPL_FILE : TPL_UNKNOWN;
    }
    if (ph->arg) {
        return TPL_UNKNOWN;
    }
    if (ph_is(ph, "run_dir")) {
        return TPL_RUN_DIR;
    }
    if (form == TPL_STRICT && (ph_is(ph, "round") || ph_is(ph, "i"))) {
        return TPL_ZERO;
    }
    return var_value(names, ph) ? TPL_VAR : TPL_UNKNOWN;
}

/* The line of offset `off` in `s` (1-based). */
static size_t line_of(const char *s, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++) {
        line += s[i] == '\n';
    }
    return line;
}

/* Fills `d` with the message for unknown placeholder `ph` at offset `off` of `s`. */
static int unknown(const char *s, size_t off, const struct tpl_ph *ph, enum tpl_form form,
                   const struct tpl_names *names, const char *where, struct diag *d)
{
    char at[48] = "";
    if (form == TPL_TEXT) {
        snprintf(at, sizeof(at), ": line %zu", line_of(s, off));
    }
    int shown = (int)(ph->len > 60 ? 60 : ph->len);
    if (ph_is(ph, "file") && ph->arg) {
        return diag_set(d, -EINVAL,
                        "%s%s: '%.*s' names no file of target.files (a file must be listed "
                        "there to be rendered)",
                        where, at, shown, s + off);
    }
    if (ph_is(ph, "port") && ph->arg) {
        return diag_set(d, -EINVAL,
                        "%s%s: bad port name in '%.*s' (expected letters, digits, '_' or '-')",
                        where, at, shown, s + off);
    }
    char vars[256] = "";
    size_t used = 0;
    for (char *const *v = names ? names->vars : NULL; v && *v && used + 2 < sizeof(vars); v++) {
        const char *eq = strchr(*v, '=');
        int n = snprintf(vars + used, sizeof(vars) - used, "%s{%.*s}", used ? ", " : "",
                         (int)(eq ? eq - *v : 0), *v);
        used += n > 0 ? (size_t)n : 0;
    }
    return diag_set(d, -EINVAL,
                    "%s%s: unknown placeholder '%.*s' (known: {port}, {port:NAME}, {run_dir}, "
                    "{file:NAME}%s%s%s; write '{{' for a literal brace)",
                    where, at, shown, s + off, form == TPL_STRICT ? ", {round}, {i}" : "",
                    vars[0] ? ", and target.vars: " : "", vars);
}

/* Notes a {port:NAME} in `u`. Returns 0 or -ENOMEM. */
static int note_port(struct tpl_uses *u, const struct tpl_ph *ph)
{
    for (size_t i = 0; i < u->n_port_names; i++) {
        if (strlen(u->port_names[i]) == ph->arg_len &&
            strncmp(u->port_names[i], ph->arg, ph->arg_len) == 0) {
            return 0;
        }
    }
    char **more = realloc(u->port_names, (u->n_port_names + 1) * sizeof(*more));
    if (!more) {
        return -ENOMEM;
    }
    u->port_names = more;
    u->port_names[u->n_port_names] = strndup(ph->arg, ph->arg_len);
    if (!u->port_names[u->n_port_names]) {
        return -ENOMEM;
    }
    u->n_port_names++;
    return 0;
}

void tpl_uses_cleanup(struct tpl_uses *u)
{
    for (size_t i = 0; i < u->n_port_names; i++) {
        free(u->port_names[i]);
    }
    free(u->port_names);
    u->port_names = NULL;
    u->n_port_names = 0;
}

/* Length of the literal escape at p ("{{", "}}" strict, "${" text), or 0. `out` gets what it
 * stands for (one or two characters). */
static size_t escape_at(const char *p, enum tpl_form form, char out[3])
{
    if (p[0] == '{' && p[1] == '{') {
        out[0] = '{';
        out[1] = '\0';
        return 2;
    }
    if (form == TPL_STRICT && p[0] == '}' && p[1] == '}') {
        out[0] = '}';
        out[1] = '\0';
        return 2;
    }
    if (form == TPL_TEXT && p[0] == '$' && p[1] == '{') {
        out[0] = '$';
        out[1] = '{';
        out[2] = '\0';
        return 2;
    }
    return 0;
}

int tpl_check(const char *s, enum tpl_form form, const struct tpl_names *known, const char *where,
              struct tpl_uses *uses, struct diag *d)
{
    char esc[3];
    for (const char *p = s; *p;) {
        size_t n = escape_at(p, form, esc);
        if (n) {
            p += n;
            continue;
        }
        if (*p != '{') {
            p++;
            continue;
        }
        struct tpl_ph ph;
        int r = scan_ph(p, form, &ph);
        if (r < 0) {
            return diag_set(d, -EINVAL,
                            "%s: unclosed '{' in '%.60s' (write '{{' for a literal brace)", where,
                            s);
        }
        if (r == 0) {
            p++;
            continue;
        }
        enum tpl_kind k = classify(&ph, form, known);
        if (k == TPL_UNKNOWN) {
            return unknown(s, (size_t)(p - s), &ph, form, known, where, d);
        }
        if (k == TPL_PORT) {
            uses->port = true;
        }
        if (k == TPL_PORT_NAMED && note_port(uses, &ph) < 0) {
            return diag_set(d, -ENOMEM, "out of memory");
        }
        p += ph.len;
    }
    return 0;
}

int tpl_check_file_name(const char *name, const char *where, struct diag *d)
{
    size_t len = strlen(name);
    if (len == 0 || len > TPL_MAX_NAME) {
        return diag_set(d, -EINVAL, "%s: expected a file name of 1 to %d bytes, found %zu bytes",
                        where, TPL_MAX_NAME, len);
    }
    if (name[0] == '/') {
        return diag_set(d, -EINVAL,
                        "%s: '%s' is an absolute path; files go inside the run's folder, so name "
                        "them relative to it (e.g. \"conf/server.conf\")",
                        where, name);
    }
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        bool dots = (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
        if (n == 0 || dots) {
            return diag_set(d, -EINVAL,
                            "%s: '%s' would leave the run's folder or has an empty part (no "
                            "'..', '.' or '//' in file names)",
                            where, name);
        }
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)p[i] < 0x20) {
                return diag_set(d, -EINVAL, "%s: control character in file name '%s'", where, name);
            }
        }
        p += n;
        if (*p == '/') {
            p++;
            if (!*p) {
                return diag_set(d, -EINVAL, "%s: '%s' ends with '/': expected a file name", where,
                                name);
            }
        }
    }
    return 0;
}

/* The port of {port:NAME} in `c`, or 0. */
static uint16_t named_port(const struct tpl_ctx *c, const struct tpl_ph *ph)
{
    for (size_t i = 0; i < c->n_ports; i++) {
        if (strlen(c->port_names[i]) == ph->arg_len &&
            strncmp(c->port_names[i], ph->arg, ph->arg_len) == 0) {
            return c->ports[i];
        }
    }
    return 0;
}

/* Appends what placeholder `ph` stands for to `b`. */
static void expand_one(struct buf *b, const struct tpl_ph *ph, enum tpl_form form,
                       const struct tpl_ctx *c)
{
    switch (classify(ph, form, c->names)) {
    case TPL_PORT:
        buf_printf(b, "%u", c->port);
        break;
    case TPL_PORT_NAMED:
        buf_printf(b, "%u", named_port(c, ph));
        break;
    case TPL_RUN_DIR:
        buf_puts(b, c->run_dir);
        break;
    case TPL_FILE:
        buf_printf(b, "%s/%.*s", c->run_dir, (int)ph->arg_len, ph->arg);
        break;
    case TPL_VAR:
        buf_puts(b, var_value(c->names, ph));
        break;
    case TPL_ZERO:
        buf_puts(b, "0");
        break;
    case TPL_UNKNOWN:
    default:
        buf_add(b, ph->name - 1, ph->len); /* checked at load: not reached */
        break;
    }
}

char *tpl_expand(const char *s, enum tpl_form form, const struct tpl_ctx *c)
{
    struct buf b;
    buf_init(&b);
    char esc[3];
    for (const char *p = s; *p;) {
        size_t n = escape_at(p, form, esc);
        if (n) {
            buf_puts(&b, esc);
            p += n;
            continue;
        }
        struct tpl_ph ph;
        if (*p == '{' && scan_ph(p, form, &ph) == 1) {
            expand_one(&b, &ph, form, c);
            p += ph.len;
            continue;
        }
        size_t run = strcspn(p + 1, "{}$") + 1;
        buf_add(&b, p, run);
        p += run;
    }
    if (b.len == 0) {
        buf_add(&b, "", 1);
        b.len = 0;
    }
    return buf_take(&b);
}

/* Opens (creating) the folders of `name` under the folder `dfd`, one component at a time, never
 * following a symbolic link. Returns the descriptor of the last folder (owned) or -errno. */
static int open_parent(int dfd, const char *name, const char **base)
{
    int cur = dup(dfd);
    const char *p = name;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash || cur < 0) {
            *base = p;
            return cur < 0 ? -errno : cur;
        }
        char part[TPL_MAX_NAME + 1];
        snprintf(part, sizeof(part), "%.*s", (int)(slash - p), p);
        if (mkdirat(cur, part, 0755) < 0 && errno != EEXIST) {
            int err = errno;
            close(cur);
            return -err;
        }
        int next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        close(cur);
        if (next < 0) {
            return -err;
        }
        cur = next;
        p = slash + 1;
    }
}

int tpl_render(const struct tpl_ctx *c, const struct tpl_file *f, struct diag *d)
{
    char *text = tpl_expand(f->text, TPL_TEXT, c);
    if (!text) {
        return diag_set(d, -ENOMEM, "out of memory");
    }
    int rc = 0;
    int fd = -1;
    int root = open(c->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *base = f->name;
    int dir = root < 0 ? -errno : open_parent(root, f->name, &base);
    if (dir >= 0) {
        fd = openat(dir, base, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                    f->executable ? 0755 : 0644);
        if (fd >= 0 && fchmod(fd, f->executable ? 0755 : 0644) < 0) {
            rc = -errno;
        }
        rc = fd < 0 ? -errno : rc;
        close(dir);
    } else {
        rc = dir;
    }
    if (rc == 0) {
        rc = io_write_all(fd, text, strlen(text));
    }
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        rc = -errno;
    }
    if (root >= 0) {
        close(root);
    }
    free(text);
    if (rc < 0) {
        return diag_set(d, rc, "can't write target.files[\"%s\"] to '%s/%s': %s", f->name,
                        c->run_dir, f->name, strerror(-rc));
    }
    return 0;
}
