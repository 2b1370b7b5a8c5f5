#include "store/scan_sql.h"

#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_subselect(struct buf *b, int pg, const char *select, const char *table, int param)
{
    char tail[160];
    snprintf(tail, sizeof tail, " FROM %s WHERE run_id = r.id AND key = %s%d%s)", table,
             pg ? "$" : "?", param, pg ? "::text" : "");
    buf_append_str(b, ", (SELECT ");
    buf_append_str(b, select);
    buf_append_str(b, tail);
}

char *scan_sql(const struct store_mlflow_scan *q, int pg)
{
    struct buf b;
    buf_init(&b);
    buf_append_str(&b, "SELECT r.id, r.run_name, r.user_id, r.status, r.started_ms, r.ended_ms,"
                       " r.artifact_uri");
    int param = SCAN_FIRST_KEY_PARAM;
    /* coalesce: a NaN point (NULL in SQLite) must read apart from no point */
    for (size_t i = 0; i < q->n_metric_keys; i++)
        add_subselect(&b, pg, pg ? "coalesce(value, 'NaN'::float8)" : "coalesce(value, 'NaN')",
                      "latest_metrics", param++);
    for (size_t i = 0; i < q->n_param_keys; i++)
        add_subselect(&b, pg, "value", "run_params", param++);
    for (size_t i = 0; i < q->n_tag_keys; i++)
        add_subselect(&b, pg, "value", "run_tags", param++);
    buf_append_str(&b,
                   pg ? " FROM runs r WHERE r.experiment_id = ANY($1::bigint[])"
                        " AND ($2::text IS NULL OR r.lifecycle_stage = $2)"
                      : " FROM runs r WHERE r.experiment_id IN (SELECT value FROM json_each(?1))"
                        " AND (?2 IS NULL OR r.lifecycle_stage = ?2)");
    static const char *const tables[] = {"latest_metrics", "run_params", "run_tags"};
    static const char *const ops[] = {"=", ">", ">=", "<", "<="};
    const char *mark = pg ? "$" : "?";
    for (size_t i = 0; i < q->n_conds; i++) {
        const struct store_scan_cond *c = &q->conds[i];
        int numeric = c->entity == STORE_SCAN_METRIC;
        /* (key, value) leads both indexes: the candidates come from an index range */
        buf_printf(&b,
                   " AND r.id IN (SELECT run_id FROM %s WHERE key = %s%d%s AND value %s %s%d%s)",
                   tables[c->entity], mark, param, pg ? "::text" : "", ops[c->op], mark, param + 1,
                   pg ? (numeric ? "::float8" : "::text") : "");
        param += 2;
    }
    return buf_detach(&b);
}

struct store_scan_row *scan_add_row(struct store_scan *out, const struct store_mlflow_scan *q,
                                    size_t *capacity)
{
    if (out->n == *capacity) {
        *capacity = *capacity ? *capacity * 2 : 1024;
        out->rows = xrealloc(out->rows, *capacity * sizeof *out->rows);
    }
    struct store_scan_row *r = &out->rows[out->n++];
    memset(r, 0, sizeof *r);
    struct arena *a = &out->arena;
    if (q->n_metric_keys) {
        r->metrics = arena_calloc(a, q->n_metric_keys * sizeof *r->metrics);
        r->has_metric = arena_calloc(a, q->n_metric_keys);
    }
    if (q->n_param_keys) r->params = arena_calloc(a, q->n_param_keys * sizeof *r->params);
    if (q->n_tag_keys) r->tags = arena_calloc(a, q->n_tag_keys * sizeof *r->tags);
    return r;
}

void scan_params_build(const struct store_mlflow_scan *q, const char *experiment_ids_text,
                       struct scan_params *out)
{
    size_t n = SCAN_FIRST_KEY_PARAM - 1 + q->n_metric_keys + q->n_param_keys + q->n_tag_keys +
               2 * q->n_conds;
    out->texts = xcalloc(n, sizeof *out->texts);
    out->numbers = xcalloc(q->n_conds + 1, sizeof *out->numbers);
    size_t k = 0;
    out->texts[k++] = experiment_ids_text;
    out->texts[k++] = q->lifecycle_stage;
    for (size_t i = 0; i < q->n_metric_keys; i++)
        out->texts[k++] = q->metric_keys[i];
    for (size_t i = 0; i < q->n_param_keys; i++)
        out->texts[k++] = q->param_keys[i];
    for (size_t i = 0; i < q->n_tag_keys; i++)
        out->texts[k++] = q->tag_keys[i];
    for (size_t i = 0; i < q->n_conds; i++) {
        const struct store_scan_cond *c = &q->conds[i];
        out->texts[k++] = c->key;
        if (c->entity == STORE_SCAN_METRIC) {
            snprintf(out->numbers[i], sizeof out->numbers[i], "%.17g", c->number);
            out->texts[k++] = out->numbers[i];
        } else {
            out->texts[k++] = c->text;
        }
    }
    out->n = k;
}

void scan_params_free(struct scan_params *p)
{
    free(p->texts);
    free(p->numbers);
    memset(p, 0, sizeof *p);
}
