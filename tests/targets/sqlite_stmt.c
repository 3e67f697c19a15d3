/* SPDX-License-Identifier: MIT */
/* sqlite_stmt.c - leak case through a real library: SQLite statements never finalized.
 *
 * stdio target over an in-memory database: reads "query KEY" lines, prepares a SELECT with
 * sqlite3_prepare_v2() per request, steps it and answers "row KEY VALUE" or "none KEY". With
 * --leak the statement is reset but parked instead of finalized (as a driver that keeps
 * statements alive would), so SQLite's memory grows per request; with --fixed it is finalized.
 * Parked statements are finalized at exit, so valgrind sees nothing.
 * Usage: sqlite_stmt --leak|--fixed
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parked {
    struct parked *next;
    sqlite3_stmt *stmt;
};

static struct parked *parked_list;

/* Creates and fills the kv table. Returns 0, or -1 on a database error. */
static int setup_db(sqlite3 *db)
{
    const char *sql = "CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT);"
                      "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 63)"
                      " INSERT INTO kv SELECT 'k' || i, 'value-' || (i * 7) FROM n;";
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Prepares the lookup for `key` and steps it once, writing the answer to stdout. Returns the
 * statement (reset, still holding its memory) or NULL on error; the caller finalizes it. */
static sqlite3_stmt *run_query(sqlite3 *db, const char *key)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, "SELECT v, length(v) FROM kv WHERE k = ?1", -1, &stmt, NULL) !=
        SQLITE_OK) {
        printf("error %s\n", sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        printf("row %s %s\n", key, (const char *)sqlite3_column_text(stmt, 0));
    } else {
        printf("none %s\n", key);
    }
    sqlite3_reset(stmt);
    return stmt;
}

/* Keeps `stmt` for later. Returns 0, or -1 when out of memory (then it is finalized). */
static int park_statement(sqlite3_stmt *stmt)
{
    struct parked *p = malloc(sizeof(*p));
    if (!p) {
        sqlite3_finalize(stmt);
        return -1;
    }
    p->stmt = stmt;
    p->next = parked_list;
    parked_list = p;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "--leak") != 0 && strcmp(argv[1], "--fixed") != 0)) {
        fprintf(stderr, "usage: sqlite_stmt --leak|--fixed\n");
        return 2;
    }
    bool leak = strcmp(argv[1], "--leak") == 0;
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK || setup_db(db) != 0) {
        fprintf(stderr, "sqlite_stmt: cannot set up the database\n");
        sqlite3_close(db);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *key = strncmp(line, "query ", 6) == 0 ? line + 6 : line;
        sqlite3_stmt *stmt = run_query(db, key);
        if (!stmt) {
            continue;
        }
        if (leak) {
            park_statement(stmt);
        } else {
            sqlite3_finalize(stmt);
        }
    }
    while (parked_list) {
        struct parked *next = parked_list->next;
        sqlite3_finalize(parked_list->stmt);
        free(parked_list);
        parked_list = next;
    }
    sqlite3_close(db);
    return 0;
}
