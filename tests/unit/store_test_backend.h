/* The store tests run against both backends: each test gets a fresh
 * database, a SQLite file in its own temporary directory or, when
 * BOUCLE_TEST_PG_URL names a PostgreSQL server (scripts/pg-test-server.sh;
 * `make unit-pg`), a new database created through that URL and dropped at
 * teardown. test_db_int runs raw SQL beside the store, the way another
 * process would (SQL that both dialects share, or branch on test_db_is_pg). */
#ifndef BOUCLE_TESTS_STORE_TEST_BACKEND_H
#define BOUCLE_TESTS_STORE_TEST_BACKEND_H

#include "store/store.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The schema version this binary migrates to (the same on both backends):
 * the one number a new migration changes in the tests. It is written out,
 * not read from the store, so a migration added or lost by mistake fails. */
#define TEST_SCHEMA_VERSION 8

struct test_db {
    char dir[64];
    char path[128];  /* SQLite: the file */
    char name[64];   /* PostgreSQL: the database */
    char admin[256]; /* PostgreSQL: the URL the database was created through */
    char url[320];   /* what store_open takes */
    int pg;
};

static inline const char *test_db_pg_url(void)
{
    const char *url = getenv("BOUCLE_TEST_PG_URL");
    return url && *url ? url : NULL;
}

static inline int test_db_is_pg(void)
{
    return test_db_pg_url() != NULL;
}

/* Runs `sql` (one or more statements) on a raw connection to `conninfo`;
 * column 0 of the last result's first row, or -1 when it has none. */
static inline int64_t test_db_pg_int(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    int64_t v = -1;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test_db: connect: %s\n", PQerrorMessage(c));
        PQfinish(c);
        abort();
    }
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "test_db: %s: %s\n", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        abort();
    }
    if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = 0;
    PQclear(r);
    PQfinish(c);
    return v;
}

/* A URL like `base` with its database name replaced by `name`. */
static inline void test_db_pg_url_for(const char *base, const char *name, char *out, size_t size)
{
    const char *scheme_end = strstr(base, "://");
    const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
    const char *query = slash ? strchr(slash, '?') : NULL;
    int head = slash ? (int)(slash - base) : (int)strlen(base);
    snprintf(out, size, "%.*s/%s%s", head, base, name, query ? query : "");
}

static int test_db_sqlite_row(void *ctx, int n, char **values, char **names)
{
    (void)names;
    *(int64_t *)ctx = n > 0 && values[0] ? strtoll(values[0], NULL, 10) : 0;
    return 0;
}

/* Column 0 of the last row `sql` produced, or -1 when it produced none. */
static inline int64_t test_db_int(const struct test_db *d, const char *sql)
{
    if (d->pg) return test_db_pg_int(d->url, sql);
    sqlite3 *db = NULL;
    char *msg = NULL;
    int64_t v = -1;
    if (sqlite3_open(d->path, &db) != SQLITE_OK) abort();
    int rc = sqlite3_exec(db, sql, test_db_sqlite_row, &v, &msg);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "test_db: %s: %s\n", sql, msg);
        abort();
    }
    sqlite3_free(msg);
    sqlite3_close(db);
    return v;
}

/* A fresh, empty database; 0 or -1. */
static inline int test_db_create(struct test_db *d)
{
    memset(d, 0, sizeof *d);
    const char *pg = test_db_pg_url();
    if (pg) {
        d->pg = 1;
        snprintf(d->admin, sizeof d->admin, "%s", pg);
        static int counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(d->name, sizeof d->name, "t_%d_%lld_%d", (int)getpid(),
                 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ++counter);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", d->name);
        test_db_pg_int(d->admin, sql);
        test_db_pg_url_for(d->admin, d->name, d->url, sizeof d->url);
        return 0;
    }
    snprintf(d->dir, sizeof d->dir, "/tmp/boucle-store-XXXXXX");
    if (!mkdtemp(d->dir)) return -1;
    snprintf(d->path, sizeof d->path, "%s/boucle.db", d->dir);
    snprintf(d->url, sizeof d->url, "sqlite:%s", d->path);
    return 0;
}

/* Drops the database (every store handle on it must be closed). */
static inline void test_db_drop(struct test_db *d)
{
    if (d->pg) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->name);
        test_db_pg_int(d->admin, sql);
        return;
    }
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", d->path, suffixes[i]);
        unlink(p);
    }
    rmdir(d->dir);
}

/* A fresh database with a store open on it: the cmocka setup and teardown
 * the store tests share (*state is a struct test_store *). */
struct test_store {
    struct test_db db;
    struct store *s;
};

static inline int test_store_setup(void **state)
{
    struct test_store *f = calloc(1, sizeof *f);
    if (!f || test_db_create(&f->db)) {
        free(f);
        return -1;
    }
    struct err e = {0};
    f->s = store_open(f->db.url, &e);
    if (!f->s) fprintf(stderr, "store_open: %s\n", e.msg);
    *state = f;
    return f->s ? 0 : -1;
}

static inline int test_store_teardown(void **state)
{
    struct test_store *f = *state;
    store_close(f->s);
    test_db_drop(&f->db);
    free(f);
    return 0;
}

#endif
