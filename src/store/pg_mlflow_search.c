/* PostgreSQL: the run-search scan (store_mlflow_runs_scan). */
#include "store/pg_store.h"
#include "store/scan_sql.h"

#include "base/mem.h"

#include <stdlib.h>

static const char *col_text(struct arena *a, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return NULL;
    return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int pg_store_mlflow_runs_scan(void *conn, const struct store_mlflow_scan *q, struct store_scan *out,
                              struct err *e)
{
    struct pg_store *s = conn;
    char *ids_text = pg_store_int_array(q->experiment_ids, q->n_experiments);

    struct scan_params params;
    scan_params_build(q, ids_text, &params);
    struct pg_arg *args = xcalloc(params.n, sizeof *args);
    for (size_t i = 0; i < params.n; i++)
        args[i].text = params.texts[i];

    char *sql = scan_sql(q, 1);
    PGresult *r = pg_store_query(s, sql, "searching runs", args, params.n, 0, e);
    free(sql);
    free(args);
    scan_params_free(&params);
    free(ids_text);
    if (!r) return -1;
    size_t capacity = 0;
    struct arena *a = &out->arena;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct store_scan_row *row = scan_add_row(out, q, &capacity);
        row->run_id = col_text(a, r, i, 0);
        row->run_name = col_text(a, r, i, 1);
        row->user_id = col_text(a, r, i, 2);
        row->status = col_text(a, r, i, 3);
        row->start_time = pg_store_int(r, i, 4);
        row->end_time = PQgetisnull(r, i, 5) ? 0 : pg_store_int(r, i, 5);
        row->artifact_uri = col_text(a, r, i, 6);
        int col = SCAN_FIRST_KEY_COLUMN;
        for (size_t m = 0; m < q->n_metric_keys; m++, col++) {
            if (PQgetisnull(r, i, col)) continue;
            row->has_metric[m] = 1;
            /* strtod reads PostgreSQL's NaN, Infinity and -Infinity */
            row->metrics[m] = strtod(PQgetvalue(r, i, col), NULL);
        }
        for (size_t p = 0; p < q->n_param_keys; p++)
            row->params[p] = col_text(a, r, i, col++);
        for (size_t t = 0; t < q->n_tag_keys; t++)
            row->tags[t] = col_text(a, r, i, col++);
    }
    PQclear(r);
    return 0;
}
