/* PostgreSQL backend: datasets and their examples, one transaction each. */
#include "store/pg_store.h"

#include "base/timeutil.h"

int pg_store_dataset_find(void *conn, const char *task, const char *hash, int64_t *id,
                          struct err *e)
{
    return pg_store_query_int(conn, "SELECT id FROM datasets WHERE task = $1 AND hash = $2",
                              "finding dataset", task, hash, id, e);
}

int pg_store_example_count(void *conn, const char *task, int64_t *count, struct err *e)
{
    int r = pg_store_query_int(conn, "SELECT count(*) FROM examples WHERE task = $1",
                               "counting examples", task, NULL, count, e);
    return r < 0 ? -1 : 0;
}

/* The dataset row and its examples, inside the caller's transaction. */
static int add(struct pg_store *s, const char *task, const char *hash, const char *source,
               const struct store_example *rows, size_t n, const struct store_dataset_meta *meta,
               int64_t *id, struct err *e)
{
    int64_t n_test = 0, dataset_id = 0;
    for (size_t i = 0; i < n; i++)
        n_test += rows[i].split == 1;
    PGresult *r = pg_store_query(
        s,
        "INSERT INTO datasets(task, hash, source, n_rows, n_train, n_test, created_ms,"
        " profile_json, contract_json) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        "inserting dataset",
        PG_ARGS(PG_TEXT(task), PG_TEXT(hash), PG_TEXT(source), PG_INT((int64_t)n),
                PG_INT((int64_t)n - n_test), PG_INT(n_test), PG_INT(time_now_ms()),
                PG_TEXT(meta->profile_json), PG_TEXT(meta->contract_json)),
        0, e);
    if (!r) {
        if (pg_store_violated(s, "23505"))
            err_set_field(e, ERR_CONFLICT, "hash", "task '%s' already has a dataset with hash %s",
                          task, hash);
        return -1;
    }
    dataset_id = pg_store_int(r, 0, 0);
    PQclear(r);
    for (size_t i = 0; i < n; i++)
        if (pg_store_update(s,
                            "INSERT INTO examples(dataset_id, task, input_json, label, split, line)"
                            " VALUES($1, $2, $3, $4, $5, $6)",
                            "inserting examples",
                            PG_ARGS(PG_INT(dataset_id), PG_TEXT(task), PG_TEXT(rows[i].input_json),
                                    PG_TEXT(rows[i].label), PG_INT(rows[i].split),
                                    PG_INT(rows[i].line)),
                            NULL, e))
            return -1;
    *id = dataset_id;
    return 0;
}

int pg_store_dataset_add(void *conn, const char *task, const char *hash, const char *source,
                         const struct store_example *rows, size_t n,
                         const struct store_dataset_meta *meta, int64_t *id, struct err *e)
{
    struct pg_store *s = conn;
    int64_t added = 0;
    if (pg_store_begin(s, e) ||
        pg_store_end(s, add(s, task, hash, source, rows, n, meta, &added, e), e) < 0)
        return -1;
    if (id) *id = added;
    return 0;
}

json_t *pg_store_datasets_list(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_INT},        {"task", PGC_TEXT},       {"hash", PGC_TEXT},
        {"source", PGC_TEXT},   {"rows", PGC_INT},        {"train_rows", PGC_INT},
        {"test_rows", PGC_INT}, {"created_at", PGC_TIME},
    };
    return pg_store_query_list(
        conn,
        "SELECT id, task, hash, source, n_rows, n_train, n_test, created_ms FROM datasets"
        " WHERE $1::text IS NULL OR task = $1 ORDER BY created_ms DESC, id DESC",
        "listing datasets", task, PG_COLS(cols), e);
}

json_t *pg_store_dataset_get(void *conn, const char *task, int64_t id, int baseline, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_INT},        {"task", PGC_TEXT},       {"hash", PGC_TEXT},
        {"source", PGC_TEXT},   {"rows", PGC_INT},        {"train_rows", PGC_INT},
        {"test_rows", PGC_INT}, {"created_at", PGC_TIME}, {"profile", PGC_JSON},
        {"contract", PGC_JSON},
    };
    /* a feedback version's source is "feedback:<run>" (loop/steps.c) */
    return pg_store_query_rows(
        conn,
        "SELECT id, task, hash, source, n_rows, n_train, n_test, created_ms, profile_json,"
        " contract_json FROM datasets WHERE task = $1 AND ($2 = 0 OR id = $2)"
        " AND ($3 = 0 OR (profile_json IS NOT NULL"
        " AND (source IS NULL OR source NOT LIKE 'feedback:%')))"
        " ORDER BY id DESC LIMIT 1",
        "reading dataset", PG_ARGS(PG_TEXT(task), PG_INT(id), PG_INT(baseline)), PG_COLS(cols), e);
}

int pg_store_examples_foreach(void *conn, const char *task, store_example_cb cb, void *ctx,
                              struct err *e)
{
    struct pg_store *s = conn;
    /* The whole result comes over at once; a task's examples fit in memory
     * (training loads them all anyway). */
    PGresult *r = pg_store_query(
        s, "SELECT input_json, label, split FROM examples WHERE task = $1 ORDER BY id",
        "reading examples", PG_ARGS(PG_TEXT(task)), 0, e);
    if (!r) return -1;
    int stop = 0;
    for (int i = 0; !stop && i < PQntuples(r); i++)
        stop = cb(ctx, PQgetvalue(r, i, 0), PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
                  (int)pg_store_int(r, i, 2));
    PQclear(r);
    return stop;
}
