/* Store tests against a real database, a fresh one per test: a SQLite file
 * in its own temporary directory, or a new PostgreSQL database when
 * BOUCLE_TEST_PG_URL is set (store_test_backend.h). Raw SQL appears only to
 * inspect or tamper with the database from outside, the way another process
 * or an older binary would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/store.h"
#include "store_test_backend.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One integer from the database, read through a separate raw connection. */
static int64_t raw_int(struct test_store *f, const char *sql)
{
    int64_t v = test_db_int(&f->db, sql);
    assert_true(v >= 0);
    return v;
}

static void raw_exec(struct test_store *f, const char *sql)
{
    test_db_int(&f->db, sql);
}

static void add_prediction(struct store *s, const char *id, const char *task, const char *label)
{
    struct store_prediction p = {
        id, task, 1,   "{\"text\":\"hello\"}", label, "{\"label\":\"x\",\"score\":0.9}", 120,
        0,  0,    NULL};
    struct err e = {0};
    assert_int_equal(store_predictions_add(s, &p, 1, &e), 0);
}

static const char *str_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_non_null(v);
    return json_string_value(v);
}

static json_int_t int_at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* ---- schema and opening ---- */

static void test_open_creates_schema(void **state)
{
    struct test_store *f = *state;
    assert_int_equal(store_schema_version(f->s), TEST_SCHEMA_VERSION);
    const char *tables[] = {"datasets",    "examples",       "runs",    "run_logs",
                            "metrics",     "model_versions", "aliases", "alias_history",
                            "predictions", "feedback",       "jobs",    "schema_migrations"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 test_db_is_pg() ? "SELECT count(*) FROM information_schema.tables"
                                   " WHERE table_schema = 'public' AND table_name = '%s'"
                                 : "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                   "name='%s'",
                 tables[i]);
        assert_int_equal(raw_int(f, sql), 1);
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations"), TEST_SCHEMA_VERSION);
    if (f->db.pg) return;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db.path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_reopen_is_idempotent(void **state)
{
    struct test_store *f = *state;
    int64_t applied = raw_int(f, "SELECT max(applied_ms) FROM schema_migrations");
    time_sleep_ms(5);
    for (int i = 0; i < 3; i++) {
        store_close(f->s);
        struct err e = {0};
        f->s = store_open(f->db.url, &e);
        assert_non_null(f->s);
        assert_int_equal(store_schema_version(f->s), TEST_SCHEMA_VERSION);
    }
    assert_int_equal(raw_int(f, "SELECT count(*) FROM schema_migrations"), TEST_SCHEMA_VERSION);
    assert_int_equal(raw_int(f, "SELECT max(applied_ms) FROM schema_migrations"), applied);
}

static void test_newer_schema_refused(void **state)
{
    struct test_store *f = *state;
    store_close(f->s);
    raw_exec(f, "INSERT INTO schema_migrations(version, description, applied_ms)"
                " VALUES(9, 'from the future', 0)");
    struct err e = {0};
    f->s = store_open(f->db.url, &e);
    assert_null(f->s);
    assert_int_equal(e.code, ERR_CONFLICT);
    char want[128];
    snprintf(want, sizeof want,
             "database schema version 9 is newer than this boucle (knows %d); upgrade boucle",
             TEST_SCHEMA_VERSION);
    assert_non_null(strstr(e.msg, want));
    /* Leave a usable handle for teardown. */
    raw_exec(f, "DELETE FROM schema_migrations WHERE version = 9");
    f->s = store_open(f->db.url, &e);
    assert_non_null(f->s);
}

/* Servers and workers starting together on a new database: one migrates,
 * the others wait for it (SQLite's write lock, PostgreSQL's advisory lock)
 * and find the schema done. */
struct opener {
    const char *url;
    int ok;
};

static void *open_one(void *arg)
{
    struct opener *o = arg;
    struct err e = {0};
    struct store *s = store_open(o->url, &e);
    if (!s) fprintf(stderr, "concurrent open: %s\n", e.msg);
    o->ok = s && store_schema_version(s) == TEST_SCHEMA_VERSION;
    store_close(s);
    return NULL;
}

static void test_concurrent_first_open(void **state)
{
    (void)state;
    struct test_db fresh;
    assert_int_equal(test_db_create(&fresh), 0);
    enum { OPENERS = 6 };
    pthread_t t[OPENERS];
    struct opener o[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (struct opener){fresh.url, 0};
        assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
    }
    for (int i = 0; i < OPENERS; i++) {
        pthread_join(t[i], NULL);
        assert_true(o[i].ok);
    }
    int64_t n = test_db_int(&fresh, "SELECT count(*) FROM schema_migrations");
    test_db_drop(&fresh);
    assert_int_equal(n, TEST_SCHEMA_VERSION);
}

static void test_bad_urls(void **state)
{
    (void)state;
    struct err e = {0};
    assert_null(store_open("mysql://localhost/x", &e));
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "unsupported store URL 'mysql://localhost/x': use sqlite:PATH or "
                               "postgres://USER@HOST:PORT/DB");

    /* nothing listens on port 1: the server's refusal, as an I/O error */
    assert_null(store_open("postgres://nobody@127.0.0.1:1/boucle", &e));
    assert_int_equal(e.code, ERR_IO);
    assert_true(str_starts_with(e.msg, "postgres: "));
    assert_non_null(strstr(e.msg, "(in connecting)"));
    assert_null(store_open("postgresql://nobody@127.0.0.1:1/boucle", &e));
    assert_int_equal(e.code, ERR_IO);
    assert_null(store_open("postgresx://localhost/boucle", &e));
    assert_int_equal(e.code, ERR_INVALID);

    assert_null(store_open("sqlite:", &e));
    assert_int_equal(e.code, ERR_INVALID);

    assert_null(store_open("sqlite:/nonexistent-boucle-dir/sub/x.db", &e));
    assert_int_equal(e.code, ERR_IO);
    assert_non_null(strstr(e.msg, "/nonexistent-boucle-dir/sub/x.db"));
}

/* ---- datasets and examples ---- */

struct collected {
    char labels[16][32];
    int splits[16];
    int n;
    int stop_after;
};

static int collect(void *ctx, const char *input_json, const char *label, int split)
{
    struct collected *c = ctx;
    assert_non_null(input_json);
    snprintf(c->labels[c->n], sizeof c->labels[0], "%s", label);
    c->splits[c->n] = split;
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 7 : 0;
}

static void test_datasets(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    const struct store_example rows[] = {
        {"{\"text\":\"a\"}", "bug", 0, 2},
        {"{\"text\":\"b\"}", "feature", 0, 3},
        {"{\"text\":\"c\"}", "bug", 1, 4},
    };
    int64_t id1, id2, id3, found = 0, count = -1;
    assert_int_equal(store_example_count(f->s, "tickets", &count, &e), 0);
    assert_int_equal(count, 0);
    assert_int_equal(store_dataset_find(f->s, "tickets", "h1", &found, &e), 0);

    assert_int_equal(store_dataset_add(f->s, "tickets", "h1", "a.csv", rows, 3, &id1, &e), 0);
    assert_int_equal(store_dataset_add(f->s, "tickets", "h2", "b.csv", rows + 2, 1, &id2, &e), 0);
    assert_int_equal(store_dataset_add(f->s, "spam", "h1", NULL, rows, 1, &id3, &e), 0);
    assert_true(id1 != id2 && id2 != id3);

    assert_int_equal(store_dataset_find(f->s, "tickets", "h2", &found, &e), 1);
    assert_int_equal(found, id2);
    assert_int_equal(store_example_count(f->s, "tickets", &count, &e), 0);
    assert_int_equal(count, 4);

    /* Same (task, hash) again: conflict, and no half-inserted rows. */
    assert_int_equal(store_dataset_add(f->s, "tickets", "h1", "a.csv", rows, 3, NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.field, "hash");
    assert_int_equal(store_example_count(f->s, "tickets", &count, &e), 0);
    assert_int_equal(count, 4);

    /* A bad split is refused before anything is written. */
    const struct store_example bad = {"{}", "x", 2, 9};
    assert_int_equal(store_dataset_add(f->s, "tickets", "h3", NULL, &bad, 1, NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "split");

    json_t *list = store_datasets_list(f->s, "tickets", &e);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 2);
    json_t *newest = json_array_get(list, 0);
    assert_int_equal(int_at(newest, "id"), id2);
    json_t *oldest = json_array_get(list, 1);
    assert_string_equal(str_at(oldest, "hash"), "h1");
    assert_string_equal(str_at(oldest, "source"), "a.csv");
    assert_string_equal(str_at(oldest, "task"), "tickets");
    assert_int_equal(int_at(oldest, "rows"), 3);
    assert_int_equal(int_at(oldest, "train_rows"), 2);
    assert_int_equal(int_at(oldest, "test_rows"), 1);
    assert_non_null(strchr(str_at(oldest, "created_at"), 'T'));
    json_decref(list);

    list = store_datasets_list(f->s, NULL, &e);
    assert_int_equal(json_array_size(list), 3);
    assert_true(json_is_null(json_object_get(json_array_get(list, 0), "source")));
    json_decref(list);

    struct collected c = {0};
    assert_int_equal(store_examples_foreach(f->s, "tickets", collect, &c, &e), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.labels[0], "bug");
    assert_string_equal(c.labels[1], "feature");
    assert_string_equal(c.labels[2], "bug");
    assert_int_equal(c.splits[0], 0);
    assert_int_equal(c.splits[2], 1);
    assert_int_equal(c.splits[3], 1);

    struct collected stop = {.stop_after = 2};
    assert_int_equal(store_examples_foreach(f->s, "tickets", collect, &stop, &e), 7);
    assert_int_equal(stop.n, 2);
}

/* A callback may use the same handle (the handle's lock is recursive). */
static int count_inside(void *ctx, const char *input_json, const char *label, int split)
{
    (void)input_json, (void)label, (void)split;
    struct test_store *f = ctx;
    int64_t n = 0;
    struct err e = {0};
    assert_int_equal(store_example_count(f->s, "tickets", &n, &e), 0);
    return n == 1 ? 0 : 1;
}

static void test_foreach_reentrant(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    const struct store_example row = {"{}", "bug", 0, 1};
    assert_int_equal(store_dataset_add(f->s, "tickets", "h", NULL, &row, 1, NULL, &e), 0);
    assert_int_equal(store_examples_foreach(f->s, "tickets", count_inside, f, &e), 0);
}

/* ---- runs ---- */

static void test_runs(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    assert_int_equal(store_run_create(f->s, "r1", "tickets", "train", "{\"C\":1.5}", &e), 0);
    time_sleep_ms(3);
    assert_int_equal(store_run_create(f->s, "r2", "tickets", "retrain", NULL, &e), 0);
    time_sleep_ms(3);
    assert_int_equal(store_run_create(f->s, "r3", "spam", "train", NULL, &e), 0);

    assert_int_equal(store_run_create(f->s, "r1", "tickets", "train", NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_run_create(f->s, "r9", "tickets", "train", "{nope", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "params");

    /* every run joined its task's MLflow experiment with its params; attaching
     * an unknown run or with no name is refused */
    json_t *exp = store_experiment_get(f->s, 0, "boucle/tickets", &e);
    assert_non_null(exp);
    int64_t exp_id = json_integer_value(json_object_get(exp, "id"));
    json_decref(exp);
    json_t *mr = store_mlflow_run_get(f->s, "r1", &e);
    assert_int_equal(json_integer_value(json_object_get(mr, "experiment_id")), exp_id);
    assert_string_equal(json_string_value(json_object_get(mr, "run_name")), "train");
    json_t *param = json_array_get(json_object_get(mr, "params"), 0);
    assert_string_equal(json_string_value(json_object_get(param, "key")), "C");
    assert_string_equal(json_string_value(json_object_get(param, "value")), "1.5");
    json_decref(mr);
    assert_int_equal(store_run_attach(f->s, "nope", exp_id, "train", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");
    assert_int_equal(store_run_attach(f->s, "r1", exp_id, "", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "run_name");

    assert_int_equal(store_run_log(f->s, "r1", "loading data", &e), 0);
    assert_int_equal(store_run_log(f->s, "r1", "training", &e), 0);
    assert_int_equal(store_run_log(f->s, "nope", "x", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");

    assert_int_equal(store_run_finish(f->s, "r1", "completed", "{\"f1\":0.91}", &e), 0);
    assert_int_equal(store_run_finish(f->s, "r1", "failed", NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_run_finish(f->s, "nope", "failed", NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_run_finish(f->s, "r2", "exploded", NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);

    json_t *run = store_run_get(f->s, "r1", &e);
    assert_non_null(run);
    assert_string_equal(str_at(run, "id"), "r1");
    assert_string_equal(str_at(run, "task"), "tickets");
    assert_string_equal(str_at(run, "kind"), "train");
    assert_string_equal(str_at(run, "status"), "completed");
    assert_true(json_real_value(json_object_get(json_object_get(run, "params"), "C")) == 1.5);
    assert_true(json_real_value(json_object_get(json_object_get(run, "metrics"), "f1")) == 0.91);
    json_t *logs = json_object_get(run, "logs");
    assert_int_equal(json_array_size(logs), 2);
    assert_string_equal(json_string_value(json_array_get(logs, 0)), "loading data");
    assert_string_equal(json_string_value(json_array_get(logs, 1)), "training");
    assert_true(json_is_string(json_object_get(run, "started_at")));
    assert_true(json_is_string(json_object_get(run, "ended_at")));
    json_decref(run);

    run = store_run_get(f->s, "r2", &e);
    assert_string_equal(str_at(run, "status"), "running");
    assert_true(json_is_null(json_object_get(run, "params")));
    assert_true(json_is_null(json_object_get(run, "ended_at")));
    assert_int_equal(json_array_size(json_object_get(run, "logs")), 0);
    json_decref(run);

    assert_null(store_run_get(f->s, "nope", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);

    json_t *list = store_runs_list(f->s, "tickets", 10, &e);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str_at(json_array_get(list, 0), "id"), "r2");
    assert_string_equal(str_at(json_array_get(list, 1), "id"), "r1");
    json_decref(list);
    list = store_runs_list(f->s, NULL, 2, &e);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str_at(json_array_get(list, 0), "id"), "r3");
    json_decref(list);
    list = store_runs_list(f->s, NULL, 0, &e);
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);
}

/* ---- model registry ---- */

static void test_models(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    assert_int_equal(store_run_create(f->s, "run-a", "tickets", "train", NULL, &e), 0);
    unsigned char blob[4096];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (unsigned char)(i * 31 + 7); /* includes NUL bytes */
    struct store_model_version v = {"tickets", "run-a",     "dh", "ch",           "linear",
                                    blob,      sizeof blob, NULL, "{\"f1\":0.8}", NULL};
    int64_t ver = 0;
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), 0);
    assert_int_equal(ver, 1);
    v.artifact_len = 100;
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), 0);
    assert_int_equal(ver, 2);
    v.task = "spam";
    v.boucle_version = "0.9.1"; /* a version another build trained */
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), 0);
    assert_int_equal(ver, 1);
    v.boucle_version = NULL;

    v.task = "tickets";
    v.artifact_sha256 = "00ff";
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    v.artifact_sha256 = NULL;
    v.run_id = "no-such-run";
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");
    v.run_id = NULL; /* a model imported from elsewhere has no run */
    v.artifact = NULL;
    v.artifact_len = 0;
    assert_int_equal(store_model_add(f->s, &v, &ver, &e), 0);
    assert_int_equal(ver, 3);

    void *data = NULL;
    size_t len = 0;
    assert_int_equal(store_model_artifact(f->s, "tickets", 1, &data, &len, &e), 0);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(data, blob, sizeof blob);
    free(data);
    assert_int_equal(store_model_artifact(f->s, "tickets", 2, &data, &len, &e), 0);
    assert_int_equal(len, 100);
    assert_memory_equal(data, blob, 100);
    free(data);
    assert_int_equal(store_model_artifact(f->s, "tickets", 3, &data, &len, &e), 0);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(store_model_artifact(f->s, "tickets", 9, &data, &len, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_model_artifact(f->s, "nope", 1, &data, &len, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);

    assert_int_equal(store_alias_set(f->s, "tickets", "champion", 1, &e), 0);
    json_t *list = store_models_list(f->s, "tickets", &e);
    assert_non_null(list);
    assert_int_equal(json_array_size(list), 3);
    json_t *first = json_array_get(list, 2);
    assert_int_equal(int_at(first, "version"), 1);
    assert_string_equal(str_at(first, "run_id"), "run-a");
    assert_string_equal(str_at(first, "dataset_hash"), "dh");
    assert_string_equal(str_at(first, "config_hash"), "ch");
    /* lineage: the build that registered it (this one, by default) */
    assert_true(strlen(str_at(first, "boucle_version")) > 0);
    assert_string_equal(str_at(first, "kind"), "linear");
    char sha[SHA256_HEX_LEN];
    sha256_hex(blob, sizeof blob, sha);
    assert_string_equal(str_at(first, "sha256"), sha);
    assert_int_equal(int_at(first, "size"), sizeof blob);
    assert_true(json_is_object(json_object_get(first, "metrics")));
    json_t *aliases = json_object_get(first, "aliases");
    assert_int_equal(json_array_size(aliases), 1);
    assert_string_equal(json_string_value(json_array_get(aliases, 0)), "champion");
    assert_int_equal(json_array_size(json_object_get(json_array_get(list, 0), "aliases")), 0);
    assert_true(json_is_null(json_object_get(json_array_get(list, 0), "run_id")));
    json_decref(list);
    list = store_models_list(f->s, "spam", &e);
    assert_string_equal(str_at(json_array_get(list, 0), "boucle_version"), "0.9.1");
    json_decref(list);
}

static void test_aliases(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    struct store_model_version v = {"tickets", NULL, "dh", "ch", "linear",
                                    "abc",     3,    NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_model_add(f->s, &v, NULL, &e), 0);

    int64_t ver = 0;
    assert_int_equal(store_alias_get(f->s, "tickets", "champion", &ver, &e), 0);
    assert_int_equal(store_alias_set(f->s, "tickets", "champion", 1, &e), 0);
    assert_int_equal(store_alias_get(f->s, "tickets", "champion", &ver, &e), 1);
    assert_int_equal(ver, 1);
    assert_int_equal(store_alias_set_reason(f->s, "tickets", "previous", 1, "deploy", NULL, &e), 0);
    assert_int_equal(
        store_alias_set_reason(f->s, "tickets", "champion", 2, "deploy", "cli:alice", &e), 0);
    assert_int_equal(store_alias_get(f->s, "tickets", "champion", &ver, &e), 1);
    assert_int_equal(ver, 2);

    assert_int_equal(store_alias_set(f->s, "tickets", "champion", 7, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "version");
    assert_int_equal(store_alias_set(f->s, "spam", "champion", 1, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_alias_get(f->s, "tickets", "champion", &ver, &e), 1);
    assert_int_equal(ver, 2); /* the failed moves changed nothing */

    json_t *h = store_alias_history(f->s, "tickets", &e);
    assert_non_null(h);
    assert_int_equal(json_array_size(h), 3);
    json_t *last = json_array_get(h, 0);
    assert_string_equal(str_at(last, "alias"), "champion");
    assert_int_equal(int_at(last, "from_version"), 1);
    assert_int_equal(int_at(last, "to_version"), 2);
    assert_string_equal(str_at(last, "reason"), "deploy");
    assert_string_equal(str_at(last, "actor"), "cli:alice"); /* who */
    assert_true(json_is_string(json_object_get(last, "changed_at")));
    json_t *oldest = json_array_get(h, 2);
    assert_true(json_is_null(json_object_get(oldest, "from_version")));
    assert_true(json_is_null(json_object_get(oldest, "reason")));
    assert_true(json_is_null(json_object_get(oldest, "actor")));
    assert_int_equal(int_at(oldest, "to_version"), 1);
    json_decref(h);
    h = store_alias_history(f->s, "spam", &e);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);
}

/* ---- predictions and feedback ---- */

static void test_predictions(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    enum { N = 300 };
    static char ids[N][UUID_STR_LEN];
    struct store_prediction rows[N];
    for (int i = 0; i < N; i++) {
        uuid_v4(ids[i]);
        rows[i] = (struct store_prediction){ids[i],  "tickets",
                                            4,       "{\"text\":\"printer on fire\"}",
                                            "bug",   "{\"label\":\"bug\",\"scores\":{\"bug\":0.7}}",
                                            250 + i, 1700000000000 + i,
                                            0,       NULL};
    }
    assert_int_equal(store_predictions_add(f->s, rows, N, &e), 0);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM predictions"), N);

    json_t *p = store_prediction_get(f->s, ids[17], &e);
    assert_non_null(p);
    assert_string_equal(str_at(p, "id"), ids[17]);
    assert_string_equal(str_at(p, "task"), "tickets");
    assert_int_equal(int_at(p, "model_version"), 4);
    assert_string_equal(str_at(json_object_get(p, "input"), "text"), "printer on fire");
    assert_string_equal(str_at(p, "label"), "bug");
    assert_string_equal(str_at(json_object_get(p, "output"), "label"), "bug");
    assert_int_equal(int_at(p, "latency_us"), 267);
    assert_string_equal(str_at(p, "created_at"), "2023-11-14T22:13:20.017Z");
    json_decref(p);

    /* A batch with one duplicate is refused whole. */
    char fresh[UUID_STR_LEN];
    uuid_v4(fresh);
    struct store_prediction dup[2] = {rows[0], rows[1]};
    dup[0].id = fresh;
    assert_int_equal(store_predictions_add(f->s, dup, 2, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_null(store_prediction_get(f->s, fresh, &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM predictions"), N);
    assert_int_equal(store_predictions_add(f->s, NULL, 0, &e), 0);
}

static void test_feedback(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    add_prediction(f->s, "p1", "tickets", "bug");
    add_prediction(f->s, "p2", "tickets", "feature");
    add_prediction(f->s, "p3", "spam", "ham");

    struct store_feedback fb = {"f1", "p1", 1, NULL, "spot on", 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    fb = (struct store_feedback){"f2", "p2", -1, "bug", NULL, 1700000000000};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    fb = (struct store_feedback){"f3", "p2", 0, NULL, NULL, 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    fb = (struct store_feedback){"f4", "p3", -1, "spam", NULL, 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);

    fb = (struct store_feedback){"f5", "no-such-prediction", 1, NULL, NULL, 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "prediction_id");
    assert_string_equal(e.msg, "prediction 'no-such-prediction' not found");

    fb = (struct store_feedback){"f1", "p2", 1, NULL, NULL, 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    fb = (struct store_feedback){"f6", "p2", 2, NULL, NULL, 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.field, "score");

    json_t *got = store_feedback_get(f->s, "f2", &e);
    assert_non_null(got);
    assert_string_equal(str_at(got, "prediction_id"), "p2");
    assert_string_equal(str_at(got, "task"), "tickets"); /* copied from the prediction */
    assert_int_equal(int_at(got, "score"), -1);
    assert_string_equal(str_at(got, "label"), "bug");
    assert_true(json_is_null(json_object_get(got, "comment")));
    assert_true(json_is_null(json_object_get(got, "used_for_training_run")));
    assert_string_equal(str_at(got, "created_at"), "2023-11-14T22:13:20.000Z");
    json_decref(got);
    got = store_feedback_get(f->s, "f1", &e);
    assert_string_equal(str_at(got, "comment"), "spot on");
    json_decref(got);
    assert_null(store_feedback_get(f->s, "f5", &e));
    assert_int_equal(e.code, ERR_NOT_FOUND);

    json_t *st = store_feedback_stats(f->s, "tickets", &e);
    assert_non_null(st);
    assert_int_equal(int_at(st, "total"), 3);
    assert_int_equal(int_at(st, "positive"), 1);
    assert_int_equal(int_at(st, "negative"), 1);
    assert_int_equal(int_at(st, "neutral"), 1);
    assert_int_equal(int_at(st, "corrected"), 1);
    json_decref(st);
    st = store_feedback_stats(f->s, "nothing-yet", &e);
    assert_int_equal(int_at(st, "total"), 0);
    assert_int_equal(int_at(st, "corrected"), 0);
    json_decref(st);
}

/* ---- concurrency and durability ---- */

enum { WRITERS = 4, BATCHES = 25, BATCH = 40, FEEDBACKS = 100 };

struct worker {
    struct store *s;
    int index;
    int failures;
};

static void *predict_writer(void *arg)
{
    struct worker *w = arg;
    static __thread char ids[BATCH][48];
    struct store_prediction rows[BATCH];
    for (int b = 0; b < BATCHES; b++) {
        for (int i = 0; i < BATCH; i++) {
            snprintf(ids[i], sizeof ids[i], "w%d-b%d-i%d", w->index, b, i);
            rows[i] =
                (struct store_prediction){ids[i], "tickets", 1, "{}", "bug", "{}", 10, 0, 0, NULL};
        }
        struct err e = {0};
        if (store_predictions_add(w->s, rows, BATCH, &e)) {
            fprintf(stderr, "writer %d: %s\n", w->index, e.msg);
            w->failures++;
        }
    }
    return NULL;
}

static void *feedback_writer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < FEEDBACKS; i++) {
        char id[32], pid[32];
        snprintf(id, sizeof id, "fb-%d", i);
        snprintf(pid, sizeof pid, "seed-%d", i % 10);
        struct store_feedback fb = {id, pid, i % 3 - 1, NULL, NULL, 0};
        struct err e = {0};
        if (store_feedback_add(w->s, &fb, &e)) {
            fprintf(stderr, "feedback: %s\n", e.msg);
            w->failures++;
        }
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    for (int i = 0; i < 10; i++) {
        char id[32];
        snprintf(id, sizeof id, "seed-%d", i);
        add_prediction(f->s, id, "tickets", "bug");
    }
    struct store *a = store_open(f->db.url, &e), *b = store_open(f->db.url, &e);
    assert_non_null(a);
    assert_non_null(b);
    pthread_t threads[WRITERS + 1];
    struct worker workers[WRITERS + 1];
    for (int i = 0; i < WRITERS; i++) {
        workers[i] = (struct worker){i % 2 ? b : a, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, predict_writer, &workers[i]), 0);
    }
    workers[WRITERS] = (struct worker){a, WRITERS, 0};
    assert_int_equal(pthread_create(&threads[WRITERS], NULL, feedback_writer, &workers[WRITERS]),
                     0);
    for (int i = 0; i <= WRITERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }
    store_close(a);
    store_close(b);
    assert_int_equal(raw_int(f, "SELECT count(*) FROM predictions"),
                     10 + WRITERS * BATCHES * BATCH);
    json_t *st = store_feedback_stats(f->s, "tickets", &e);
    assert_int_equal(int_at(st, "total"), FEEDBACKS);
    json_decref(st);
    json_t *p = store_prediction_get(f->s, "w3-b24-i39", &e);
    assert_non_null(p);
    json_decref(p);
}

static void test_durability(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    add_prediction(f->s, "p1", "tickets", "bug");
    struct store_feedback fb = {"f1", "p1", -1, "feature", "wrong", 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    /* Another connection sees the acknowledged row at once, before close. */
    assert_int_equal(raw_int(f, "SELECT count(*) FROM feedback WHERE id = 'f1'"), 1);
    store_close(f->s);
    f->s = store_open(f->db.url, &e);
    assert_non_null(f->s);
    json_t *got = store_feedback_get(f->s, "f1", &e);
    assert_non_null(got);
    assert_string_equal(str_at(got, "label"), "feature");
    json_decref(got);
    got = store_prediction_get(f->s, "p1", &e);
    assert_non_null(got);
    json_decref(got);
}

static void test_injection_stored_verbatim(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    const char *task = "t'); DROP TABLE predictions; --";
    const char *label = "x\"; DELETE FROM feedback WHERE 1=1; SELECT '";
    add_prediction(f->s, "p'1", task, label);
    struct store_feedback fb = {"f' OR '1'='1", "p'1", 1, label, "'; --", 0};
    assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    json_t *p = store_prediction_get(f->s, "p'1", &e);
    assert_non_null(p);
    assert_string_equal(str_at(p, "task"), task);
    assert_string_equal(str_at(p, "label"), label);
    json_decref(p);
    json_t *st = store_feedback_stats(f->s, task, &e);
    assert_int_equal(int_at(st, "total"), 1);
    json_decref(st);
    assert_null(store_feedback_get(f->s, "x' OR '1'='1", &e));
    assert_int_equal(store_run_create(f->s, "r'", task, "train", NULL, &e), 0);
    json_t *runs = store_runs_list(f->s, task, 0, &e);
    assert_int_equal(json_array_size(runs), 1);
    json_decref(runs);
    assert_int_equal(raw_int(f, f->db.pg ? "SELECT count(*) FROM information_schema.tables"
                                           " WHERE table_name IN ('predictions', 'feedback')"
                                         : "SELECT count(*) FROM sqlite_master WHERE name IN "
                                           "('predictions', 'feedback')"),
                     2);
}

/* ---- speed: printed, with a bound loose enough for sanitizer builds ---- */

static void test_speed(void **state)
{
    struct test_store *f = *state;
    struct err e = {0};
    enum { BATCH_ROWS = 256, BATCH_COUNT = 40, FB = 1000 };
    static char ids[BATCH_ROWS * BATCH_COUNT][UUID_STR_LEN];
    static struct store_prediction rows[BATCH_ROWS * BATCH_COUNT];
    for (int i = 0; i < BATCH_ROWS * BATCH_COUNT; i++) {
        uuid_v4(ids[i]);
        rows[i] = (struct store_prediction){
            ids[i], "tickets",
            3,      "{\"title\":\"cannot log in\",\"body\":\"since the update\"}",
            "bug",  "{\"label\":\"bug\",\"scores\":{\"bug\":0.81,\"feature\":0.19}}",
            180,    0,
            0,      NULL};
    }
    int64_t t0 = time_mono_ns();
    for (int b = 0; b < BATCH_COUNT; b++)
        assert_int_equal(store_predictions_add(f->s, rows + b * BATCH_ROWS, BATCH_ROWS, &e), 0);
    double pred_s = time_elapsed_s(t0);

    t0 = time_mono_ns();
    for (int i = 0; i < FB; i++) {
        char id[UUID_STR_LEN];
        uuid_v4(id);
        struct store_feedback fb = {id, ids[i], i % 3 - 1, NULL, NULL, 0};
        assert_int_equal(store_feedback_add(f->s, &fb, &e), 0);
    }
    double fb_s = time_elapsed_s(t0);
    printf("store speed: %d predictions in batches of %d: %.0f rows/s (%.2f ms/batch); "
           "%d durable feedback inserts: %.2f s (%.0f/s)\n",
           BATCH_ROWS * BATCH_COUNT, BATCH_ROWS, BATCH_ROWS * BATCH_COUNT / pred_s,
           pred_s * 1000 / BATCH_COUNT, FB, fb_s, FB / fb_s);
    assert_true(fb_s < 30);
}

int main(void)
{
    ids_init();
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_schema, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test(test_concurrent_first_open),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test_setup_teardown(test_datasets, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_reentrant, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_runs, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_models, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_aliases, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_predictions, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_feedback, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_durability, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_injection_stored_verbatim, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_speed, test_store_setup, test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
