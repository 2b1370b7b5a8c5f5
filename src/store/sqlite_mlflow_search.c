/* SQLite: the run-search scan (store_mlflow_runs_scan). */
#include "store/scan_sql.h"
#include "store/sqlite_store.h"

#include "base/mem.h"

#include <math.h>
#include <stdlib.h>

static const char *col_text(struct arena *a, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return NULL;
    const char *text = (const char *)sqlite3_column_text(st, col);
    return arena_strndup(a, text, (size_t)sqlite3_column_bytes(st, col));
}

/* A metric column: absent (NULL), the text 'NaN', or a number. */
static void col_metric(sqlite3_stmt *st, int col, double *value, unsigned char *has)
{
    int type = sqlite3_column_type(st, col);
    if (type == SQLITE_NULL) return;
    *has = 1;
    *value = type == SQLITE_TEXT ? NAN : sqlite3_column_double(st, col);
}

int sqlite_store_mlflow_runs_scan(void *conn, const struct store_mlflow_scan *q,
                                  struct store_scan *out, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "searching runs";
    json_t *ids = json_array();
    for (size_t i = 0; i < q->n_experiments; i++)
        json_array_append_new(ids, json_integer(q->experiment_ids[i]));
    char *ids_text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);

    struct scan_params params;
    scan_params_build(q, ids_text, &params);
    struct sqlite_arg *args = xcalloc(params.n, sizeof *args);
    for (size_t i = 0; i < params.n; i++)
        args[i].text = params.texts[i];

    char *sql = scan_sql(q, 0);
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, params.n, e);
    free(sql);
    int r = st ? 0 : -1;
    size_t capacity = 0;
    while (st && (r = sqlite_store_next(s, st, what, e)) == 1) {
        struct store_scan_row *row = scan_add_row(out, q, &capacity);
        struct arena *a = &out->arena;
        row->run_id = col_text(a, st, 0);
        row->run_name = col_text(a, st, 1);
        row->user_id = col_text(a, st, 2);
        row->status = col_text(a, st, 3);
        row->start_time = sqlite3_column_int64(st, 4);
        row->end_time = sqlite3_column_int64(st, 5);
        row->artifact_uri = col_text(a, st, 6);
        int col = SCAN_FIRST_KEY_COLUMN;
        for (size_t i = 0; i < q->n_metric_keys; i++)
            col_metric(st, col++, &row->metrics[i], &row->has_metric[i]);
        for (size_t i = 0; i < q->n_param_keys; i++)
            row->params[i] = col_text(a, st, col++);
        for (size_t i = 0; i < q->n_tag_keys; i++)
            row->tags[i] = col_text(a, st, col++);
    }
    sqlite3_finalize(st);
    free(args);
    scan_params_free(&params);
    free(ids_text);
    return r < 0 ? -1 : 0;
}
