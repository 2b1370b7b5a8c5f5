/* SQLite backend: datasets and their examples. A dataset and all its rows go
 * in one transaction, so a failed import leaves nothing behind. */
#include "store/sqlite_store.h"

#include "base/timeutil.h"

int sqlite_store_dataset_find(void *conn, const char *task, const char *hash, int64_t *id,
                              struct err *e)
{
    return sqlite_store_query_int(conn, "SELECT id FROM datasets WHERE task = ?1 AND hash = ?2",
                                  "finding dataset", task, hash, id, e);
}

int sqlite_store_example_count(void *conn, const char *task, int64_t *count, struct err *e)
{
    int r = sqlite_store_query_int(conn, "SELECT count(*) FROM examples WHERE task = ?1",
                                   "counting examples", task, NULL, count, e);
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
                             const struct store_example *rows, size_t n,
                             const struct store_dataset_meta *meta, int64_t *id, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "inserting dataset";
    int64_t n_test = 0;
    for (size_t i = 0; i < n; i++)
        n_test += rows[i].split == 1;

    if (sqlite_store_begin(s, e)) return -1;
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "INSERT INTO datasets(task, hash, source, n_rows, n_train, n_test, created_ms,"
        " profile_json, contract_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        what, e);
    if (!st) goto fail;
    sqlite_store_bind_text(st, 1, task);
    sqlite_store_bind_text(st, 2, hash);
    sqlite_store_bind_text(st, 3, source);
    sqlite3_bind_int64(st, 4, (int64_t)n);
    sqlite3_bind_int64(st, 5, (int64_t)n - n_test);
    sqlite3_bind_int64(st, 6, n_test);
    sqlite3_bind_int64(st, 7, time_now_ms());
    sqlite_store_bind_text(st, 8, meta->profile_json);
    sqlite_store_bind_text(st, 9, meta->contract_json);
    if (sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_UNIQUE, ERR_CONFLICT, "hash", e,
                           "task '%s' already has a dataset with hash %s", task, hash)) {
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
    static const struct sqlite_col cols[] = {
        {"id", COL_INT},        {"task", COL_TEXT},       {"hash", COL_TEXT},
        {"source", COL_TEXT},   {"rows", COL_INT},        {"train_rows", COL_INT},
        {"test_rows", COL_INT}, {"created_at", COL_TIME},
    };
    return sqlite_store_query_list(
        conn,
        "SELECT id, task, hash, source, n_rows, n_train, n_test, created_ms FROM datasets"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY created_ms DESC, id DESC",
        "listing datasets", task, SQLITE_COLS(cols), e);
}

json_t *sqlite_store_dataset_get(void *conn, const char *task, int64_t id, int baseline,
                                 struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_INT},        {"task", COL_TEXT},       {"hash", COL_TEXT},
        {"source", COL_TEXT},   {"rows", COL_INT},        {"train_rows", COL_INT},
        {"test_rows", COL_INT}, {"created_at", COL_TIME}, {"profile", COL_JSON},
        {"contract", COL_JSON},
    };
    /* a feedback version's source is "feedback:<run>" (loop/steps.c) */
    return sqlite_store_query_rows(
        conn,
        "SELECT id, task, hash, source, n_rows, n_train, n_test, created_ms, profile_json,"
        " contract_json FROM datasets WHERE task = ?1 AND (?2 = 0 OR id = ?2)"
        " AND (?3 = 0 OR (profile_json IS NOT NULL"
        " AND (source IS NULL OR source NOT LIKE 'feedback:%')))"
        " ORDER BY id DESC LIMIT 1",
        "reading dataset", SQLITE_ARGS(SQL_TEXT(task), SQL_INT(id), SQL_INT(baseline)),
        SQLITE_COLS(cols), e);
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
