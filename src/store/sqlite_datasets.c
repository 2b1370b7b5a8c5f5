/* SQLite backend: datasets and their examples. A dataset and all its rows go
 * in one transaction, so a failed import leaves nothing behind. */
#include "store/sqlite_store.h"

#include "base/timeutil.h"

int sqlite_store_dataset_find(void *conn, const char *task, const char *hash, int64_t *id,
                              struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "finding dataset";
    sqlite3_stmt *st =
        sqlite_store_prepare(s, "SELECT id FROM datasets WHERE task = ?1 AND hash = ?2", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    sqlite_store_bind_text(st, 2, hash);
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1 && id) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_example_count(void *conn, const char *task, int64_t *count, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "counting examples";
    sqlite3_stmt *st =
        sqlite_store_prepare(s, "SELECT count(*) FROM examples WHERE task = ?1", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1 && count) *count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

static int insert_examples(struct sqlite_store *s, int64_t dataset_id, const char *task,
                           const struct store_example *rows, size_t n, struct err *e)
{
    const char *what = "inserting examples";
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "INSERT INTO examples(dataset_id, task, input_json, label, split, line)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        what, e);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite_store_bind_text(st, 2, task);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        sqlite_store_bind_text(st, 3, rows[i].input_json);
        sqlite_store_bind_text(st, 4, rows[i].label);
        sqlite3_bind_int(st, 5, rows[i].split);
        sqlite3_bind_int64(st, 6, rows[i].line);
        r = sqlite_store_step_done(s, st, what, e);
    }
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_dataset_add(void *conn, const char *task, const char *hash, const char *source,
                             const struct store_example *rows, size_t n, int64_t *id, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "inserting dataset";
    int64_t n_test = 0;
    for (size_t i = 0; i < n; i++)
        n_test += rows[i].split == 1;

    if (sqlite_store_begin(s, e)) return -1;
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "INSERT INTO datasets(task, hash, source, n_rows, n_train, n_test, created_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        what, e);
    if (!st) goto fail;
    sqlite_store_bind_text(st, 1, task);
    sqlite_store_bind_text(st, 2, hash);
    sqlite_store_bind_text(st, 3, source);
    sqlite3_bind_int64(st, 4, (int64_t)n);
    sqlite3_bind_int64(st, 5, (int64_t)n - n_test);
    sqlite3_bind_int64(st, 6, n_test);
    sqlite3_bind_int64(st, 7, time_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite_store_violated(s, SQLITE_CONSTRAINT_UNIQUE))
            err_set_field(e, ERR_CONFLICT, "hash", "task '%s' already has a dataset with hash %s",
                          task, hash);
        else
            sqlite_store_fail(s, e, what);
        sqlite3_finalize(st);
        goto fail;
    }
    sqlite3_finalize(st);
    int64_t dataset_id = sqlite3_last_insert_rowid(s->db);
    if (insert_examples(s, dataset_id, task, rows, n, e) || sqlite_store_commit(s, e)) goto fail;
    if (id) *id = dataset_id;
    return 0;
fail:
    sqlite_store_rollback(s);
    return -1;
}

json_t *sqlite_store_datasets_list(void *conn, const char *task, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "listing datasets";
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "SELECT id, task, hash, source, n_rows, n_train, n_test, created_ms FROM datasets"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY created_ms DESC, id DESC",
        what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, task);
    json_t *list = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1) {
        json_t *d = json_object();
        json_object_set_new(d, "id", sqlite_store_col_int(st, 0));
        json_object_set_new(d, "task", sqlite_store_col_text(st, 1));
        json_object_set_new(d, "hash", sqlite_store_col_text(st, 2));
        json_object_set_new(d, "source", sqlite_store_col_text(st, 3));
        json_object_set_new(d, "rows", sqlite_store_col_int(st, 4));
        json_object_set_new(d, "train_rows", sqlite_store_col_int(st, 5));
        json_object_set_new(d, "test_rows", sqlite_store_col_int(st, 6));
        json_object_set_new(d, "created_at", sqlite_store_col_time(st, 7));
        json_array_append_new(list, d);
    }
    sqlite3_finalize(st);
    if (r < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

int sqlite_store_examples_foreach(void *conn, const char *task, store_example_cb cb, void *ctx,
                                  struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "reading examples";
    /* Rowid order is insertion order; the task index yields it directly. */
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "SELECT input_json, label, split FROM examples WHERE task = ?1 ORDER BY id", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    int r = 0, stop = 0;
    while (!stop && (r = sqlite_store_next(s, st, what, e)) == 1)
        stop = cb(ctx, (const char *)sqlite3_column_text(st, 0),
                  (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    if (stop) return stop;
    return r < 0 ? -1 : 0;
}
