/* SPDX-License-Identifier: MIT */
/* importer.c - an ETL importer: CSV batches on stdin, inserted into a SQLite database file.
 *
 *   inserts [--mode leaky|fixed] [--db PATH]
 *
 * Each stdin line is one batch:   batch ID SKU,QTY,PRICE_CENTS;SKU,QTY,PRICE_CENTS;...
 * Each batch is inserted in one transaction and answered with one line:
 *   ok ID ROWS total=N      N from SELECT count(*): every row must have arrived
 *   error ID REASON         a bad row or a database error (the batch is rolled back)
 * At end of input the importer checks that the table holds exactly the rows it was sent,
 * prints "done rows=N" and exits 0, or exits 1 on a mismatch. SIGTERM and SIGINT end it the
 * same way (the current batch finishes first). Without --db the database is a file in $TMPDIR
 * (or /tmp) named after the pid, deleted at exit.
 *
 * The two modes are the story of a file-to-database importer whose memory ran out every few
 * days:
 *   leaky  prepares the INSERT statement for every batch and never finalizes it. The statements
 *          stay reachable from the connection (sqlite3_next_stmt walks them), and the importer
 *          finalizes them all before closing the database at exit, so valgrind and LeakSanitizer
 *          report nothing; while it runs, each batch leaves its statement behind
 *          (insert_batch() prepares it);
 *   fixed  prepares the INSERT once and reuses it for every row of every batch.
 */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INSERT_SQL "INSERT INTO items(batch, sku, qty, price_cents) VALUES (?1, ?2, ?3, ?4)"
#define MAX_LINE   (1u << 20)

struct importer {
    sqlite3 *db;
    bool leaky;
    sqlite3_stmt *insert; /* fixed mode: prepared once */
    sqlite3_stmt *count;
    uint64_t rows_sent; /* rows this importer inserted and committed */
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Runs one statement with no result rows. Returns 0 or -EIO (message on stderr). */
static int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "inserts: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

/* Opens the database and creates the table. Returns 0 or -EIO. */
static int importer_open(struct importer *im, const char *path)
{
    if (sqlite3_open(path, &im->db) != SQLITE_OK) {
        fprintf(stderr, "inserts: cannot open %s: %s\n", path, sqlite3_errmsg(im->db));
        return -EIO;
    }
    /* An import can be redone from its files: durability per batch is not worth an fsync.
     * The import only appends, so a small page cache is all it needs; the default one (2 MB)
     * would keep growing with the file for thousands of batches, a bounded cost that is not
     * the story here. */
    if (exec_sql(im->db, "PRAGMA synchronous=OFF") || exec_sql(im->db, "PRAGMA cache_size=8") ||
        exec_sql(im->db, "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, "
                         "batch TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, "
                         "price_cents INTEGER NOT NULL)") ||
        exec_sql(im->db, "DELETE FROM items")) {
        return -EIO;
    }
    if (sqlite3_prepare_v2(im->db, "SELECT count(*) FROM items", -1, &im->count, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "inserts: prepare count: %s\n", sqlite3_errmsg(im->db));
        return -EIO;
    }
    if (!im->leaky && sqlite3_prepare_v2(im->db, INSERT_SQL, -1, &im->insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "inserts: prepare insert: %s\n", sqlite3_errmsg(im->db));
        return -EIO;
    }
    return 0;
}

/* Finalizes every statement still open on the connection, then closes it. Can't fail. */
static void importer_close(struct importer *im)
{
    sqlite3_stmt *st;
    if (!im->db) {
        return;
    }
    /* In the leaky mode this is where the batches' statements are finally released: at exit,
     * which is why a leak checker that looks only at exit sees nothing. */
    while ((st = sqlite3_next_stmt(im->db, NULL)) != NULL) {
        sqlite3_finalize(st);
    }
    im->insert = NULL;
    im->count = NULL;
    sqlite3_close(im->db);
    im->db = NULL;
}

/* Returns count(*) of the table, or -1 on a database error. */
static int64_t importer_count(struct importer *im)
{
    int64_t n = -1;
    if (sqlite3_step(im->count) == SQLITE_ROW) {
        n = sqlite3_column_int64(im->count, 0);
    }
    sqlite3_reset(im->count);
    return n;
}

/* Parses a decimal integer field that must be whole and in [0, max]. Returns 0 or -EINVAL. */
static int parse_int(const char *s, int64_t max, int64_t *out)
{
    char *end = NULL;
    if (!*s) {
        return -EINVAL;
    }
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < 0 || v > max) {
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Inserts one row "SKU,QTY,PRICE" (modified in place) with `st`. Returns 0, -EINVAL for a bad
 * row, -EIO for a database error. */
static int insert_row(struct importer *im, sqlite3_stmt *st, const char *batch, char *row)
{
    char *qty_s = strchr(row, ',');
    char *price_s = qty_s ? strchr(qty_s + 1, ',') : NULL;
    int64_t qty, price;
    if (!qty_s || !price_s || qty_s == row) {
        return -EINVAL;
    }
    *qty_s++ = '\0';
    *price_s++ = '\0';
    if (parse_int(qty_s, 1000000, &qty) || parse_int(price_s, INT64_C(1) << 40, &price)) {
        return -EINVAL;
    }
    sqlite3_bind_text(st, 1, batch, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, row, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, qty);
    sqlite3_bind_int64(st, 4, price);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "inserts: insert: %s\n", sqlite3_errmsg(im->db));
        return -EIO;
    }
    return 0;
}

/* Inserts the rows of one batch ("ROW;ROW;...", modified in place) in one transaction.
 * Returns the number of rows inserted, -EINVAL for a bad row or -EIO for a database error (the
 * batch is then rolled back). */
__attribute__((noinline)) static int64_t insert_batch(struct importer *im, const char *batch,
                                                      char *rows)
{
    sqlite3_stmt *st = im->insert;
    int64_t n = 0;
    int err = 0;

    if (exec_sql(im->db, "BEGIN")) {
        return -EIO;
    }
    if (im->leaky) {
        /* The leak: a fresh statement per batch, and no sqlite3_finalize() for it. */
        if (sqlite3_prepare_v2(im->db, INSERT_SQL, -1, &st, NULL) != SQLITE_OK) {
            fprintf(stderr, "inserts: prepare: %s\n", sqlite3_errmsg(im->db));
            exec_sql(im->db, "ROLLBACK");
            return -EIO;
        }
    }
    char *save = NULL;
    for (char *row = strtok_r(rows, ";", &save); row; row = strtok_r(NULL, ";", &save)) {
        err = insert_row(im, st, batch, row);
        if (err) {
            break;
        }
        n++;
    }
    sqlite3_clear_bindings(st);
    if (err || n == 0) {
        exec_sql(im->db, "ROLLBACK");
        return err ? err : -EINVAL;
    }
    if (exec_sql(im->db, "COMMIT")) {
        exec_sql(im->db, "ROLLBACK");
        return -EIO;
    }
    im->rows_sent += (uint64_t)n;
    return n;
}

/* Handles one input line. Prints exactly one reply line. Returns 0, or -EIO when the database
 * failed (the importer stops). */
static int handle_line(struct importer *im, char *line)
{
    char *save = NULL;
    char *verb = strtok_r(line, " ", &save);
    char *id = verb ? strtok_r(NULL, " ", &save) : NULL;
    char *rows = id ? strtok_r(NULL, "", &save) : NULL;

    if (!verb || strcmp(verb, "batch") != 0 || !id || !rows) {
        printf("error - expected 'batch ID SKU,QTY,PRICE;...'\n");
        return 0;
    }
    int64_t n = insert_batch(im, id, rows);
    if (n == -EINVAL) {
        printf("error %s bad row (want SKU,QTY,PRICE_CENTS)\n", id);
        return 0;
    }
    if (n < 0) {
        printf("error %s database error\n", id);
        return -EIO;
    }
    int64_t total = importer_count(im);
    if (total < 0) {
        printf("error %s count failed\n", id);
        return -EIO;
    }
    printf("ok %s %lld total=%lld\n", id, (long long)n, (long long)total);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: inserts [--mode leaky|fixed] [--db PATH]\n", f);
}

int main(int argc, char **argv)
{
    struct importer im;
    memset(&im, 0, sizeof(im));
    char tmp_path[4096];
    const char *db_path = NULL;
    int status = 1;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--mode") == 0 && k + 1 < argc) {
            const char *m = argv[++k];
            if (strcmp(m, "leaky") == 0) {
                im.leaky = true;
            } else if (strcmp(m, "fixed") != 0) {
                fprintf(stderr, "inserts: unknown mode '%s'\n", m);
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[k], "--db") == 0 && k + 1 < argc) {
            db_path = argv[++k];
        } else if (strcmp(argv[k], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "inserts: unknown argument '%s'\n", argv[k]);
            usage(stderr);
            return 2;
        }
    }
    bool temp_db = db_path == NULL;
    if (temp_db) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp_path, sizeof(tmp_path), "%s/inserts-%ld.db", dir && *dir ? dir : "/tmp",
                 (long)getpid());
        db_path = tmp_path;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read returns so we can stop */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char *line = malloc(MAX_LINE);
    if (!line) {
        fprintf(stderr, "inserts: out of memory\n");
        return 1;
    }
    if (importer_open(&im, db_path) != 0) {
        goto out;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready db=%s mode=%s\n", db_path, im.leaky ? "leaky" : "fixed");

    while (!stop_requested && fgets(line, MAX_LINE, stdin)) {
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (len == 0) {
            continue;
        }
        if (handle_line(&im, line) != 0) {
            goto out;
        }
    }

    int64_t total = importer_count(&im);
    if (total < 0 || (uint64_t)total != im.rows_sent) {
        fprintf(stderr, "inserts: row count mismatch: table has %lld rows, %llu were sent\n",
                (long long)total, (unsigned long long)im.rows_sent);
        goto out;
    }
    printf("done rows=%lld\n", (long long)total);
    status = 0;
out:
    importer_close(&im);
    if (temp_db) {
        unlink(db_path);
        char side[4200];
        snprintf(side, sizeof(side), "%s-journal", db_path);
        unlink(side);
    }
    free(line);
    return status;
}
