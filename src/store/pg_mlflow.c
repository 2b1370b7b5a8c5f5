/* PostgreSQL backend: MLflow tracking (issue 4) — experiments, and the
 * MLflow side of runs (params, tags, metric points), with the semantics,
 * JSON and errors of sqlite_mlflow.c. MLflow runs are rows of `runs` (kind
 * 'mlflow', task ''), next to boucle's own. Keys are ordered COLLATE "C",
 * as SQLite's BINARY collation orders them, whatever the database's locale. */
#include "store/pg_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static json_t *text_or_null(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_null();
    json_t *v = json_stringn(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
    return v ? v : json_null(); /* invalid UTF-8 */
}

/* {"key", "value"} from columns first and first + 1. */
static json_t *kv_row(const PGresult *r, int row, int first)
{
    json_t *item = json_object();
    json_object_set_new(item, "key", text_or_null(r, row, first));
    json_object_set_new(item, "value", text_or_null(r, row, first + 1));
    return item;
}

/* ---- experiments ---- */

static const struct pg_col experiment_cols[] = {
    {"id", PGC_INT},
    {"name", PGC_TEXT},
    {"artifact_location", PGC_TEXT},
    {"lifecycle_stage", PGC_TEXT},
    {"creation_time", PGC_INT},
    {"last_update_time", PGC_INT},
};
#define EXPERIMENT_COLUMNS                                                                         \
    "id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"

static int experiment_exists(struct pg_store *s, int64_t id, struct err *e)
{
    int r = pg_store_query_ints(s, "SELECT 1 FROM experiments WHERE id = $1", "reading experiment",
                                PG_ARGS(PG_INT(id)), NULL, 0, e);
    if (r == 0)
        return err_set_field(e, ERR_NOT_FOUND, "experiment_id", "No Experiment with id=%lld exists",
                             (long long)id);
    return r < 0 ? -1 : 0;
}

static int experiment_tag_put(struct pg_store *s, int64_t id, const char *key, const char *value,
                              struct err *e)
{
    return pg_store_update(s,
                           "INSERT INTO experiment_tags(experiment_id, key, value)"
                           " VALUES($1, $2, $3)"
                           " ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
                           "setting experiment tag",
                           PG_ARGS(PG_INT(id), PG_TEXT(key), PG_TEXT(value)), NULL, e);
}

static int experiment_create(struct pg_store *s, const char *name, const char *artifact_location,
                             const struct store_kv *tags, size_t n_tags, int64_t *id, struct err *e)
{
    const char *what = "creating experiment";
    /* ids are max + 1, as SQLite's rowid (no gaps from failed creations):
     * creators take turns */
    if (pg_store_lock(s, "experiments", "create", e)) return -1;
    int64_t now = time_now_ms();
    PGresult *r = pg_store_query(
        s,
        "INSERT INTO experiments(id, name, artifact_location, creation_time, last_update_time)"
        " SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $3 FROM experiments RETURNING id",
        what, PG_ARGS(PG_TEXT(name), PG_TEXT(artifact_location), PG_INT(now)), 0, e);
    if (!r) {
        if (pg_store_violated(s, "23505"))
            err_set_field(e, ERR_CONFLICT, "name", "Experiment(name=%s) already exists.", name);
        return -1;
    }
    *id = pg_store_int(r, 0, 0);
    PQclear(r);
    if (!artifact_location) {
        char loc[64];
        snprintf(loc, sizeof loc, "mlflow-artifacts:/%lld", (long long)*id);
        if (pg_store_update(s, "UPDATE experiments SET artifact_location = $2 WHERE id = $1", what,
                            PG_ARGS(PG_INT(*id), PG_TEXT(loc)), NULL, e))
            return -1;
    }
    for (size_t i = 0; i < n_tags; i++)
        if (experiment_tag_put(s, *id, tags[i].key, tags[i].value, e)) return -1;
    return 0;
}

int pg_store_experiment_create(void *conn, const char *name, const char *artifact_location,
                               const struct store_kv *tags, size_t n_tags, int64_t *id,
                               struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, experiment_create(s, name, artifact_location, tags, n_tags, id, e), e);
}

/* Adds "tags" to each experiment of the list, in one query. */
static int experiments_add_tags(struct pg_store *s, json_t *list, struct err *e)
{
    size_t n = json_array_size(list), i;
    if (n == 0) return 0;
    int64_t *ids = xcalloc(n, sizeof *ids);
    json_t *by_id = json_object(); /* borrowed "tags" arrays */
    json_t *x;
    json_array_foreach(list, i, x)
    {
        ids[i] = json_integer_value(json_object_get(x, "id"));
        json_t *tags = json_array();
        json_object_set_new(x, "tags", tags);
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)ids[i]);
        json_object_set(by_id, key, tags);
    }
    char *ids_text = pg_store_int_array(ids, n);
    free(ids);
    PGresult *r = pg_store_query(s,
                                 "SELECT experiment_id, key, value FROM experiment_tags"
                                 " WHERE experiment_id = ANY($1::bigint[])"
                                 " ORDER BY experiment_id, key COLLATE \"C\"",
                                 "reading experiment tags", PG_ARGS(PG_TEXT(ids_text)), 0, e);
    free(ids_text);
    if (!r) {
        json_decref(by_id);
        return -1;
    }
    for (int row = 0; row < PQntuples(r); row++) {
        json_t *tags = json_object_get(by_id, PQgetvalue(r, row, 0));
        if (tags) json_array_append_new(tags, kv_row(r, row, 1));
    }
    PQclear(r);
    json_decref(by_id);
    return 0;
}

json_t *pg_store_experiment_get(void *conn, int64_t id, const char *name, struct err *e)
{
    struct pg_store *s = conn;
    json_t *list = name ? pg_store_query_rows(s,
                                              "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                              " WHERE name = $1",
                                              "reading experiment", PG_ARGS(PG_TEXT(name)),
                                              PG_COLS(experiment_cols), e)
                        : pg_store_query_rows(s,
                                              "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                              " WHERE id = $1",
                                              "reading experiment", PG_ARGS(PG_INT(id)),
                                              PG_COLS(experiment_cols), e);
    if (!list) return NULL;
    if (json_array_size(list) == 0) {
        json_decref(list);
        if (name)
            err_set_field(e, ERR_NOT_FOUND, "experiment_name",
                          "Could not find experiment with name '%s'", name);
        else
            err_set_field(e, ERR_NOT_FOUND, "experiment_id", "No Experiment with id=%lld exists",
                          (long long)id);
        return NULL;
    }
    if (experiments_add_tags(s, list, e)) {
        json_decref(list);
        return NULL;
    }
    json_t *x = json_incref(json_array_get(list, 0));
    json_decref(list);
    return x;
}

json_t *pg_store_experiments_list(void *conn, const char *lifecycle_stage, struct err *e)
{
    struct pg_store *s = conn;
    json_t *list = pg_store_query_rows(s,
                                       "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                       " WHERE $1::text IS NULL OR lifecycle_stage = $1"
                                       " ORDER BY id",
                                       "listing experiments", PG_ARGS(PG_TEXT(lifecycle_stage)),
                                       PG_COLS(experiment_cols), e);
    if (list && experiments_add_tags(s, list, e)) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static int experiment_update(struct pg_store *s, int64_t id, const char *new_name,
                             const char *lifecycle_stage, struct err *e)
{
    const char *what = "updating experiment";
    if (experiment_exists(s, id, e)) return -1;
    int64_t now = time_now_ms();
    if (new_name &&
        pg_store_write(s, "UPDATE experiments SET name = $2, last_update_time = $3 WHERE id = $1",
                       what, PG_ARGS(PG_INT(id), PG_TEXT(new_name), PG_INT(now)), "23505",
                       ERR_CONFLICT, "new_name", e, "Experiment(name=%s) already exists.",
                       new_name))
        return -1;
    if (lifecycle_stage &&
        (pg_store_update(s,
                         "UPDATE experiments SET lifecycle_stage = $2, last_update_time = $3"
                         " WHERE id = $1",
                         what, PG_ARGS(PG_INT(id), PG_TEXT(lifecycle_stage), PG_INT(now)), NULL,
                         e) ||
         pg_store_update(s, "UPDATE runs SET lifecycle_stage = $2 WHERE experiment_id = $1", what,
                         PG_ARGS(PG_INT(id), PG_TEXT(lifecycle_stage)), NULL, e)))
        return -1;
    return 0;
}

int pg_store_experiment_update(void *conn, int64_t id, const char *new_name,
                               const char *lifecycle_stage, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, experiment_update(s, id, new_name, lifecycle_stage, e), e);
}

int pg_store_experiment_tag_set(void *conn, int64_t id, const char *key, const char *value,
                                struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int r = experiment_exists(s, id, e) ? -1 : experiment_tag_put(s, id, key, value, e);
    return pg_store_end(s, r, e);
}

/* ---- runs ---- */

static int run_tag_put(struct pg_store *s, const char *run_id, const char *key, const char *value,
                       struct err *e)
{
    return pg_store_update(s,
                           "INSERT INTO run_tags(run_id, key, value) VALUES($1, $2, $3)"
                           " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                           "setting run tag",
                           PG_ARGS(PG_TEXT(run_id), PG_TEXT(key), PG_TEXT(value)), NULL, e);
}

static int run_create(struct pg_store *s, const struct store_mlflow_run *r, struct err *e)
{
    if (experiment_exists(s, r->experiment_id, e) ||
        pg_store_write(
            s,
            "INSERT INTO runs(id, task, kind, status, started_ms, experiment_id, run_name,"
            " user_id, artifact_uri) VALUES($1, '', 'mlflow', 'running', $2, $3, $4, $5, $6)",
            "creating run",
            PG_ARGS(PG_TEXT(r->run_id), PG_INT(r->start_time), PG_INT(r->experiment_id),
                    PG_TEXT(r->run_name), PG_TEXT(r->user_id), PG_TEXT(r->artifact_uri)),
            "23505", ERR_CONFLICT, "run_id", e, "run '%s' already exists", r->run_id))
        return -1;
    for (size_t i = 0; i < r->n_tags; i++)
        if (run_tag_put(s, r->run_id, r->tags[i].key, r->tags[i].value, e)) return -1;
    return 0;
}

int pg_store_mlflow_run_create(void *conn, const struct store_mlflow_run *r, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, run_create(s, r, e), e);
}

/* A metric value: a number, or the strings JSON has for what it cannot
 * write (SQL NULL stands for NaN). */
static json_t *metric_value(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_string("NaN");
    double v = strtod(PQgetvalue(r, row, col), NULL);
    if (isnan(v)) return json_string("NaN");
    if (isinf(v)) return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

/* key, value, ts_ms, step from column `first` on. */
static json_t *metric_row(const PGresult *r, int row, int first)
{
    json_t *m = json_object();
    json_object_set_new(m, "key", text_or_null(r, row, first));
    json_object_set_new(m, "value", metric_value(r, row, first + 1));
    json_object_set_new(m, "timestamp", json_integer(pg_store_int(r, row, first + 2)));
    json_object_set_new(m, "step", json_integer(pg_store_int(r, row, first + 3)));
    return m;
}

static const struct pg_col run_cols[] = {
    {"run_id", PGC_TEXT},  {"experiment_id", PGC_INT}, {"run_name", PGC_TEXT},
    {"user_id", PGC_TEXT}, {"status", PGC_TEXT},       {"start_time", PGC_INT},
    {"end_time", PGC_INT}, {"artifact_uri", PGC_TEXT}, {"lifecycle_stage", PGC_TEXT},
};

/* The runs matching `cond` (constant SQL over the alias r, its values in
 * args), each with its params, tags and every metric point, in four
 * queries whatever the number of runs. */
static json_t *load_runs(struct pg_store *s, const char *cond, const struct pg_arg *args, size_t n,
                         struct err *e)
{
    const char *what = "reading runs";
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT id, experiment_id, run_name, user_id, status, started_ms, ended_ms,"
             " artifact_uri, lifecycle_stage FROM runs r WHERE %s ORDER BY r.seq",
             cond);
    json_t *runs = pg_store_query_rows(s, sql, what, args, n, PG_COLS(run_cols), e);
    if (!runs) return NULL;
    json_t *by_id = json_object(); /* borrowed references */
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        json_object_set_new(run, "params", json_array());
        json_object_set_new(run, "tags", json_array());
        json_object_set_new(run, "metrics", json_array());
        json_object_set(by_id, json_string_value(json_object_get(run, "run_id")), run);
    }
    static const char *const children[][2] = {
        {"params", "SELECT run_id, key, value FROM run_params"},
        {"tags", "SELECT run_id, key, value FROM run_tags"},
        {"metrics", "SELECT run_id, key, value, ts_ms, step FROM metrics"},
    };
    static const char *const child_order[] = {
        " ORDER BY run_id, key COLLATE \"C\"",
        " ORDER BY run_id, key COLLATE \"C\"",
        " ORDER BY run_id, key COLLATE \"C\", step, ts_ms, seq",
    };
    int failed = 0;
    for (size_t c = 0; c < 3 && !failed && json_array_size(runs) > 0; c++) {
        snprintf(sql, sizeof sql, "%s WHERE run_id IN (SELECT id FROM runs r WHERE %s)%s",
                 children[c][1], cond, child_order[c]);
        PGresult *r = pg_store_query(s, sql, what, args, n, 0, e);
        if (!r) {
            failed = 1;
            break;
        }
        for (int row = 0; row < PQntuples(r); row++) {
            json_t *owner = json_object_get(by_id, PQgetvalue(r, row, 0));
            if (!owner) continue;
            json_t *item = c == 2 ? metric_row(r, row, 1) : kv_row(r, row, 1);
            json_array_append_new(json_object_get(owner, children[c][0]), item);
        }
        PQclear(r);
    }
    json_decref(by_id);
    if (failed) {
        json_decref(runs);
        return NULL;
    }
    return runs;
}

json_t *pg_store_mlflow_run_get(void *conn, const char *run_id, struct err *e)
{
    json_t *runs = load_runs(conn, "r.id = $1", PG_ARGS(PG_TEXT(run_id)), e);
    if (!runs) return NULL;
    json_t *run = json_incref(json_array_get(runs, 0));
    json_decref(runs);
    if (!run) err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
    return run;
}

json_t *pg_store_mlflow_runs_get(void *conn, const char *const *run_ids, size_t n, struct err *e)
{
    char *ids_text = pg_store_text_array(run_ids, n);
    json_t *runs = load_runs(conn, "r.id = ANY($1::text[])", PG_ARGS(PG_TEXT(ids_text)), e);
    free(ids_text);
    return runs;
}

/* 0 when the run exists (and, when `active`, is not deleted). `lock`: the
 * run's row stays locked until the transaction ends, so writes to one run
 * (a param's check-then-insert) take turns across processes. */
static int run_check(struct pg_store *s, const char *run_id, int active, int lock, struct err *e)
{
    PGresult *r = pg_store_query(s,
                                 lock ? "SELECT lifecycle_stage FROM runs WHERE id = $1 FOR UPDATE"
                                      : "SELECT lifecycle_stage FROM runs WHERE id = $1",
                                 "reading run", PG_ARGS(PG_TEXT(run_id)), 0, e);
    if (!r) return -1;
    int found = PQntuples(r) > 0;
    int deleted = found && str_eq(PQgetvalue(r, 0, 0), "deleted");
    PQclear(r);
    if (!found)
        return err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
    if (active && deleted)
        return err_set_field(e, ERR_INVALID, "run_id",
                             "The run %s must be in the 'active' state. Current state is deleted.",
                             run_id);
    return 0;
}

static int run_update(struct pg_store *s, const char *run_id,
                      const struct store_mlflow_run_patch *p, struct err *e)
{
    const char *what = "updating run";
    if (run_check(s, run_id, 0, 1, e)) return -1;
    if (p->status && pg_store_update(s, "UPDATE runs SET status = $2 WHERE id = $1", what,
                                     PG_ARGS(PG_TEXT(run_id), PG_TEXT(p->status)), NULL, e))
        return -1;
    if (p->has_end_time && pg_store_update(s, "UPDATE runs SET ended_ms = $2 WHERE id = $1", what,
                                           PG_ARGS(PG_TEXT(run_id), PG_INT(p->end_time)), NULL, e))
        return -1;
    if (p->run_name && (pg_store_update(s, "UPDATE runs SET run_name = $2 WHERE id = $1", what,
                                        PG_ARGS(PG_TEXT(run_id), PG_TEXT(p->run_name)), NULL, e) ||
                        run_tag_put(s, run_id, "mlflow.runName", p->run_name, e)))
        return -1;
    if (p->lifecycle_stage &&
        pg_store_update(s, "UPDATE runs SET lifecycle_stage = $2 WHERE id = $1", what,
                        PG_ARGS(PG_TEXT(run_id), PG_TEXT(p->lifecycle_stage)), NULL, e))
        return -1;
    return 0;
}

int pg_store_mlflow_run_update(void *conn, const char *run_id,
                               const struct store_mlflow_run_patch *p, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, run_update(s, run_id, p, e), e);
}

static int param_put(struct pg_store *s, const char *run_id, const struct store_kv *p,
                     struct err *e)
{
    PGresult *r = pg_store_query(s, "SELECT value FROM run_params WHERE run_id = $1 AND key = $2",
                                 "reading param", PG_ARGS(PG_TEXT(run_id), PG_TEXT(p->key)), 0, e);
    if (!r) return -1;
    if (PQntuples(r) > 0) {
        const char *prev = PQgetvalue(r, 0, 0);
        int same = str_eq(prev, p->value);
        if (!same)
            err_set_field(e, ERR_CONFLICT, p->key,
                          "Changing param values is not allowed. Param with key='%.200s' was "
                          "already logged with value='%.100s' for run ID='%s'. Attempted logging "
                          "new value '%.100s'.",
                          p->key, prev, run_id, p->value);
        PQclear(r);
        return same ? 0 : -1;
    }
    PQclear(r);
    return pg_store_update(s, "INSERT INTO run_params(run_id, key, value) VALUES($1, $2, $3)",
                           "logging param",
                           PG_ARGS(PG_TEXT(run_id), PG_TEXT(p->key), PG_TEXT(p->value)), NULL, e);
}

/* Every point in one statement: the batch as a JSON parameter
 * [{"k": key, "v": value as text or null for NaN, "s": step, "t": ms}],
 * inserted in its order (seq). */
static int metrics_put(struct pg_store *s, const char *run_id, const struct store_metric *m,
                       size_t n, struct err *e)
{
    json_t *batch = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *key = json_string(m[i].key);
        if (!key) {
            json_decref(batch);
            return err_set_field(e, ERR_INVALID, "key", "metric key %zu of %zu is not UTF-8", i + 1,
                                 n);
        }
        char num[40];
        if (isinf(m[i].value))
            snprintf(num, sizeof num, "%s", m[i].value > 0 ? "Infinity" : "-Infinity");
        else
            snprintf(num, sizeof num, "%.17g", m[i].value);
        json_t *point = json_object();
        json_object_set_new(point, "k", key);
        json_object_set_new(point, "v", isnan(m[i].value) ? json_null() : json_string(num));
        json_object_set_new(point, "s", json_integer(m[i].step));
        json_object_set_new(point, "t", json_integer(m[i].timestamp));
        json_array_append_new(batch, point);
    }
    char *text = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    int r = pg_store_update(
        s,
        "INSERT INTO metrics(run_id, key, value, step, ts_ms)"
        " SELECT $1, m.k, m.v::float8, m.s, m.t"
        " FROM ROWS FROM (json_to_recordset($2::json) AS (k text, v text, s bigint, t bigint))"
        " WITH ORDINALITY AS m(k, v, s, t, n) ORDER BY m.n",
        "logging metric", PG_ARGS(PG_TEXT(run_id), PG_TEXT(text)), NULL, e);
    free(text);
    return r;
}

static int run_log(struct pg_store *s, const char *run_id, const struct store_metric *m,
                   size_t n_metrics, const struct store_kv *params, size_t n_params,
                   const struct store_kv *tags, size_t n_tags, struct err *e)
{
    if (run_check(s, run_id, 1, 1, e)) return -1;
    for (size_t i = 0; i < n_params; i++)
        if (param_put(s, run_id, &params[i], e)) return -1;
    if (n_metrics && metrics_put(s, run_id, m, n_metrics, e)) return -1;
    for (size_t i = 0; i < n_tags; i++)
        if (run_tag_put(s, run_id, tags[i].key, tags[i].value, e)) return -1;
    return 0;
}

int pg_store_mlflow_run_log(void *conn, const char *run_id, const struct store_metric *metrics,
                            size_t n_metrics, const struct store_kv *params, size_t n_params,
                            const struct store_kv *tags, size_t n_tags, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(
        s, run_log(s, run_id, metrics, n_metrics, params, n_params, tags, n_tags, e), e);
}

static int tag_delete(struct pg_store *s, const char *run_id, const char *key, struct err *e)
{
    if (run_check(s, run_id, 1, 1, e)) return -1;
    int64_t changed = 0;
    if (pg_store_update(s, "DELETE FROM run_tags WHERE run_id = $1 AND key = $2",
                        "deleting run tag", PG_ARGS(PG_TEXT(run_id), PG_TEXT(key)), &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "key", "No tag with name: %s in run with id %s", key,
                             run_id);
    return 0;
}

int pg_store_mlflow_tag_delete(void *conn, const char *run_id, const char *key, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, tag_delete(s, run_id, key, e), e);
}

json_t *pg_store_mlflow_metric_history(void *conn, const char *run_id, const char *key,
                                       struct err *e)
{
    struct pg_store *s = conn;
    if (run_check(s, run_id, 0, 0, e)) return NULL;
    PGresult *r =
        pg_store_query(s,
                       "SELECT key, value, ts_ms, step FROM metrics"
                       " WHERE run_id = $1 AND key = $2 ORDER BY ts_ms, step, seq",
                       "reading metric history", PG_ARGS(PG_TEXT(run_id), PG_TEXT(key)), 0, e);
    if (!r) return NULL;
    json_t *list = json_array();
    for (int row = 0; row < PQntuples(r); row++)
        json_array_append_new(list, metric_row(r, row, 0));
    PQclear(r);
    return list;
}
