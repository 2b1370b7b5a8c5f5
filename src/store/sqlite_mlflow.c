/* SQLite backend: MLflow tracking (issue 4) — experiments, and the MLflow
 * side of runs (params, tags, metric points). MLflow runs are rows of `runs`
 * (kind 'mlflow', task ''), next to boucle's own. */
#include "store/sqlite_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- experiments ---- */

static const struct sqlite_col experiment_cols[] = {
    {"id", COL_INT},
    {"name", COL_TEXT},
    {"artifact_location", COL_TEXT},
    {"lifecycle_stage", COL_TEXT},
    {"creation_time", COL_INT},
    {"last_update_time", COL_INT},
};
#define EXPERIMENT_COLUMNS                                                                         \
    "id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"

static const struct sqlite_col kv_cols[] = {{"key", COL_TEXT}, {"value", COL_TEXT}};

static int experiment_exists(struct sqlite_store *s, int64_t id, struct err *e)
{
    int r = sqlite_store_query_ints(s, "SELECT 1 FROM experiments WHERE id = ?1",
                                    "reading experiment", SQLITE_ARGS(SQL_INT(id)), NULL, 0, e);
    if (r == 0)
        return err_set_field(e, ERR_NOT_FOUND, "experiment_id", "No Experiment with id=%lld exists",
                             (long long)id);
    return r < 0 ? -1 : 0;
}

static int experiment_tag_put(struct sqlite_store *s, int64_t id, const char *key,
                              const char *value, struct err *e)
{
    return sqlite_store_update(
        s,
        "INSERT INTO experiment_tags(experiment_id, key, value)"
        " VALUES(?1, ?2, ?3)"
        " ON CONFLICT(experiment_id, key) DO UPDATE SET value = excluded.value",
        "setting experiment tag", SQLITE_ARGS(SQL_INT(id), SQL_TEXT(key), SQL_TEXT(value)), NULL,
        e);
}

static int experiment_create(struct sqlite_store *s, const char *name,
                             const char *artifact_location, const struct store_kv *tags,
                             size_t n_tags, int64_t *id, struct err *e)
{
    const char *what = "creating experiment";
    int64_t now = time_now_ms();
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s,
        "INSERT INTO experiments(name, artifact_location, creation_time, last_update_time)"
        " VALUES(?1, ?2, ?3, ?3)",
        what, SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(artifact_location), SQL_INT(now)), e);
    if (!st) return -1;
    int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_UNIQUE, ERR_CONFLICT, "name", e,
                               "Experiment(name=%s) already exists.", name);
    sqlite3_finalize(st);
    if (r) return -1;
    *id = sqlite3_last_insert_rowid(s->db);
    if (!artifact_location) {
        char loc[64];
        snprintf(loc, sizeof loc, "mlflow-artifacts:/%lld", (long long)*id);
        if (sqlite_store_update(s, "UPDATE experiments SET artifact_location = ?2 WHERE id = ?1",
                                what, SQLITE_ARGS(SQL_INT(*id), SQL_TEXT(loc)), NULL, e))
            return -1;
    }
    for (size_t i = 0; i < n_tags; i++)
        if (experiment_tag_put(s, *id, tags[i].key, tags[i].value, e)) return -1;
    return 0;
}

int sqlite_store_experiment_create(void *conn, const char *name, const char *artifact_location,
                                   const struct store_kv *tags, size_t n_tags, int64_t *id,
                                   struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, experiment_create(s, name, artifact_location, tags, n_tags, id, e),
                            e);
}

/* Adds "tags" to each experiment of the list. */
static int experiments_add_tags(struct sqlite_store *s, json_t *list, struct err *e)
{
    const char *what = "reading experiment tags";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 ORDER BY key", what, e);
    if (!st) return -1;
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(x, "id")));
        json_t *tags = sqlite_store_rows_json(s, st, what, SQLITE_COLS(kv_cols), e);
        if (!tags) {
            sqlite3_finalize(st);
            return -1;
        }
        json_object_set_new(x, "tags", tags);
    }
    sqlite3_finalize(st);
    return 0;
}

json_t *sqlite_store_experiment_get(void *conn, int64_t id, const char *name, struct err *e)
{
    struct sqlite_store *s = conn;
    json_t *list = name ? sqlite_store_query_rows(s,
                                                  "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                                  " WHERE name = ?1",
                                                  "reading experiment", SQLITE_ARGS(SQL_TEXT(name)),
                                                  SQLITE_COLS(experiment_cols), e)
                        : sqlite_store_query_rows(s,
                                                  "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                                  " WHERE id = ?1",
                                                  "reading experiment", SQLITE_ARGS(SQL_INT(id)),
                                                  SQLITE_COLS(experiment_cols), e);
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

json_t *sqlite_store_experiments_list(void *conn, const char *lifecycle_stage, struct err *e)
{
    struct sqlite_store *s = conn;
    json_t *list =
        sqlite_store_query_rows(s,
                                "SELECT " EXPERIMENT_COLUMNS " FROM experiments"
                                " WHERE ?1 IS NULL OR lifecycle_stage = ?1 ORDER BY id",
                                "listing experiments", SQLITE_ARGS(SQL_TEXT(lifecycle_stage)),
                                SQLITE_COLS(experiment_cols), e);
    if (list && experiments_add_tags(s, list, e)) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static int experiment_update(struct sqlite_store *s, int64_t id, const char *new_name,
                             const char *lifecycle_stage, struct err *e)
{
    const char *what = "updating experiment";
    if (experiment_exists(s, id, e)) return -1;
    int64_t now = time_now_ms();
    if (new_name) {
        sqlite3_stmt *st = sqlite_store_prepare_args(
            s, "UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE id = ?1", what,
            SQLITE_ARGS(SQL_INT(id), SQL_TEXT(new_name), SQL_INT(now)), e);
        if (!st) return -1;
        int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_UNIQUE, ERR_CONFLICT, "new_name",
                                   e, "Experiment(name=%s) already exists.", new_name);
        sqlite3_finalize(st);
        if (r) return -1;
    }
    if (lifecycle_stage) {
        if (sqlite_store_update(
                s,
                "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3"
                " WHERE id = ?1",
                what, SQLITE_ARGS(SQL_INT(id), SQL_TEXT(lifecycle_stage), SQL_INT(now)), NULL, e) ||
            sqlite_store_update(s, "UPDATE runs SET lifecycle_stage = ?2 WHERE experiment_id = ?1",
                                what, SQLITE_ARGS(SQL_INT(id), SQL_TEXT(lifecycle_stage)), NULL, e))
            return -1;
    }
    return 0;
}

int sqlite_store_experiment_update(void *conn, int64_t id, const char *new_name,
                                   const char *lifecycle_stage, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, experiment_update(s, id, new_name, lifecycle_stage, e), e);
}

int sqlite_store_experiment_tag_set(void *conn, int64_t id, const char *key, const char *value,
                                    struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int r = experiment_exists(s, id, e) ? -1 : experiment_tag_put(s, id, key, value, e);
    return sqlite_store_end(s, r, e);
}

/* ---- runs ---- */

static int run_tag_put(struct sqlite_store *s, const char *run_id, const char *key,
                       const char *value, struct err *e)
{
    return sqlite_store_update(
        s,
        "INSERT INTO run_tags(run_id, key, value) VALUES(?1, ?2, ?3)"
        " ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value",
        "setting run tag", SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(key), SQL_TEXT(value)), NULL, e);
}

static int run_create(struct sqlite_store *s, const struct store_mlflow_run *r, struct err *e)
{
    const char *what = "creating run";
    if (experiment_exists(s, r->experiment_id, e)) return -1;
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s,
        "INSERT INTO runs(id, task, kind, status, started_ms, experiment_id, run_name, user_id,"
        " artifact_uri) VALUES(?1, '', 'mlflow', 'running', ?2, ?3, ?4, ?5, ?6)",
        what,
        SQLITE_ARGS(SQL_TEXT(r->run_id), SQL_INT(r->start_time), SQL_INT(r->experiment_id),
                    SQL_TEXT(r->run_name), SQL_TEXT(r->user_id), SQL_TEXT(r->artifact_uri)),
        e);
    if (!st) return -1;
    int rc = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_PRIMARYKEY, ERR_CONFLICT, "run_id",
                                e, "run '%s' already exists", r->run_id);
    sqlite3_finalize(st);
    if (rc) return -1;
    for (size_t i = 0; i < r->n_tags; i++)
        if (run_tag_put(s, r->run_id, r->tags[i].key, r->tags[i].value, e)) return -1;
    return 0;
}

int sqlite_store_mlflow_run_create(void *conn, const struct store_mlflow_run *r, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, run_create(s, r, e), e);
}

/* A metric value: a number, or the strings JSON has for what it cannot
 * write (SQL NULL stands for NaN). */
static json_t *metric_value(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return json_string("NaN");
    double v = sqlite3_column_double(st, col);
    if (isinf(v)) return json_string(v > 0 ? "Infinity" : "-Infinity");
    return json_real(v);
}

static json_t *metric_row(sqlite3_stmt *st, int first)
{
    json_t *m = json_object();
    json_object_set_new(m, "key", sqlite_store_col_text(st, first));
    json_object_set_new(m, "value", metric_value(st, first + 1));
    json_object_set_new(m, "timestamp", sqlite_store_col_int(st, first + 2));
    json_object_set_new(m, "step", sqlite_store_col_int(st, first + 3));
    return m;
}

static const struct sqlite_col run_cols[] = {
    {"run_id", COL_TEXT},  {"experiment_id", COL_INT}, {"run_name", COL_TEXT},
    {"user_id", COL_TEXT}, {"status", COL_TEXT},       {"start_time", COL_INT},
    {"end_time", COL_INT}, {"artifact_uri", COL_TEXT}, {"lifecycle_stage", COL_TEXT},
};

/* The runs matching `cond` (SQL over the alias r, with ?1 and ?2 bound to
 * a1 and a2), each with its params, tags and every metric point, in four
 * queries whatever the number of runs. */
static json_t *load_runs(struct sqlite_store *s, const char *cond, const char *a1, const char *a2,
                         struct err *e)
{
    const char *what = "reading runs";
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT id, experiment_id, run_name, user_id, status, started_ms, ended_ms,"
             " artifact_uri, lifecycle_stage FROM runs r WHERE %s ORDER BY r.rowid",
             cond);
    json_t *runs = sqlite_store_query_rows(s, sql, what, SQLITE_ARGS(SQL_TEXT(a1), SQL_TEXT(a2)),
                                           SQLITE_COLS(run_cols), e);
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
        " ORDER BY run_id, key",
        " ORDER BY run_id, key",
        " ORDER BY run_id, key, step, ts_ms, rowid",
    };
    int failed = 0;
    for (size_t c = 0; c < 3 && !failed && json_array_size(runs) > 0; c++) {
        snprintf(sql, sizeof sql, "%s WHERE run_id IN (SELECT id FROM runs r WHERE %s)%s",
                 children[c][1], cond, child_order[c]);
        sqlite3_stmt *st =
            sqlite_store_prepare_args(s, sql, what, SQLITE_ARGS(SQL_TEXT(a1), SQL_TEXT(a2)), e);
        if (!st) {
            failed = 1;
            break;
        }
        int r;
        while ((r = sqlite_store_next(s, st, what, e)) == 1) {
            json_t *owner = json_object_get(by_id, (const char *)sqlite3_column_text(st, 0));
            if (!owner) continue;
            json_t *item;
            if (c == 2) {
                item = metric_row(st, 1);
            } else {
                item = json_object();
                json_object_set_new(item, "key", sqlite_store_col_text(st, 1));
                json_object_set_new(item, "value", sqlite_store_col_text(st, 2));
            }
            json_array_append_new(json_object_get(owner, children[c][0]), item);
        }
        sqlite3_finalize(st);
        if (r < 0) failed = 1;
    }
    json_decref(by_id);
    if (failed) {
        json_decref(runs);
        return NULL;
    }
    return runs;
}

json_t *sqlite_store_mlflow_run_get(void *conn, const char *run_id, struct err *e)
{
    json_t *runs = load_runs(conn, "r.id = ?1 AND ?2 IS NULL", run_id, NULL, e);
    if (!runs) return NULL;
    json_t *run = json_incref(json_array_get(runs, 0));
    json_decref(runs);
    if (!run) err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
    return run;
}

json_t *sqlite_store_mlflow_runs_get(void *conn, const char *const *run_ids, size_t n,
                                     struct err *e)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_string(run_ids[i]));
    char *ids_text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    json_t *runs = load_runs(conn, "r.id IN (SELECT value FROM json_each(?1)) AND ?2 IS NULL",
                             ids_text, NULL, e);
    free(ids_text);
    return runs;
}

/* 0 when the run exists (and, when `active`, is not deleted). */
static int run_check(struct sqlite_store *s, const char *run_id, int active, struct err *e)
{
    static const struct sqlite_col stage_col[] = {{NULL, COL_TEXT}};
    json_t *stage =
        sqlite_store_query_one(s, "SELECT lifecycle_stage FROM runs WHERE id = ?1", "reading run",
                               run_id, SQLITE_COLS(stage_col), "run_id", "run", e);
    if (!stage) {
        if (e->code == ERR_NOT_FOUND)
            err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
        return -1;
    }
    int deleted = str_eq(json_string_value(stage), "deleted");
    json_decref(stage);
    if (active && deleted)
        return err_set_field(e, ERR_INVALID, "run_id",
                             "The run %s must be in the 'active' state. Current state is deleted.",
                             run_id);
    return 0;
}

static int run_update(struct sqlite_store *s, const char *run_id,
                      const struct store_mlflow_run_patch *p, struct err *e)
{
    const char *what = "updating run";
    if (run_check(s, run_id, 0, e)) return -1;
    if (p->status &&
        sqlite_store_update(s, "UPDATE runs SET status = ?2 WHERE id = ?1", what,
                            SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(p->status)), NULL, e))
        return -1;
    if (p->has_end_time &&
        sqlite_store_update(s, "UPDATE runs SET ended_ms = ?2 WHERE id = ?1", what,
                            SQLITE_ARGS(SQL_TEXT(run_id), SQL_INT(p->end_time)), NULL, e))
        return -1;
    if (p->run_name &&
        (sqlite_store_update(s, "UPDATE runs SET run_name = ?2 WHERE id = ?1", what,
                             SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(p->run_name)), NULL, e) ||
         run_tag_put(s, run_id, "mlflow.runName", p->run_name, e)))
        return -1;
    if (p->lifecycle_stage &&
        sqlite_store_update(s, "UPDATE runs SET lifecycle_stage = ?2 WHERE id = ?1", what,
                            SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(p->lifecycle_stage)), NULL, e))
        return -1;
    return 0;
}

int sqlite_store_mlflow_run_update(void *conn, const char *run_id,
                                   const struct store_mlflow_run_patch *p, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, run_update(s, run_id, p, e), e);
}

static int param_put(struct sqlite_store *s, const char *run_id, const struct store_kv *p,
                     struct err *e)
{
    static const struct sqlite_col value_col[] = {{NULL, COL_TEXT}};
    json_t *old = sqlite_store_query_rows(
        s, "SELECT value FROM run_params WHERE run_id = ?1 AND key = ?2", "reading param",
        SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(p->key)), SQLITE_COLS(value_col), e);
    if (!old) return -1;
    const char *prev = json_string_value(json_array_get(old, 0));
    if (prev) {
        int same = str_eq(prev, p->value);
        if (!same)
            err_set_field(e, ERR_CONFLICT, p->key,
                          "Changing param values is not allowed. Param with key='%.200s' was "
                          "already logged with value='%.100s' for run ID='%s'. Attempted logging "
                          "new value '%.100s'.",
                          p->key, prev, run_id, p->value);
        json_decref(old);
        return same ? 0 : -1;
    }
    json_decref(old);
    return sqlite_store_update(
        s, "INSERT INTO run_params(run_id, key, value) VALUES(?1, ?2, ?3)", "logging param",
        SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(p->key), SQL_TEXT(p->value)), NULL, e);
}

static int run_log(struct sqlite_store *s, const char *run_id, const struct store_metric *m,
                   size_t n_metrics, const struct store_kv *params, size_t n_params,
                   const struct store_kv *tags, size_t n_tags, struct err *e)
{
    if (run_check(s, run_id, 1, e)) return -1;
    for (size_t i = 0; i < n_params; i++)
        if (param_put(s, run_id, &params[i], e)) return -1;
    if (n_metrics) {
        const char *what = "logging metric";
        sqlite3_stmt *st = sqlite_store_prepare(
            s, "INSERT INTO metrics(run_id, key, value, step, ts_ms) VALUES(?1, ?2, ?3, ?4, ?5)",
            what, e);
        if (!st) return -1;
        for (size_t i = 0; i < n_metrics; i++) {
            sqlite3_reset(st);
            sqlite_store_bind_text(st, 1, run_id);
            sqlite_store_bind_text(st, 2, m[i].key);
            if (isnan(m[i].value))
                sqlite3_bind_null(st, 3);
            else
                sqlite3_bind_double(st, 3, m[i].value);
            sqlite3_bind_int64(st, 4, m[i].step);
            sqlite3_bind_int64(st, 5, m[i].timestamp);
            if (sqlite_store_step_done(s, st, what, e)) {
                sqlite3_finalize(st);
                return -1;
            }
        }
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < n_tags; i++)
        if (run_tag_put(s, run_id, tags[i].key, tags[i].value, e)) return -1;
    return 0;
}

int sqlite_store_mlflow_run_log(void *conn, const char *run_id, const struct store_metric *metrics,
                                size_t n_metrics, const struct store_kv *params, size_t n_params,
                                const struct store_kv *tags, size_t n_tags, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(
        s, run_log(s, run_id, metrics, n_metrics, params, n_params, tags, n_tags, e), e);
}

static int tag_delete(struct sqlite_store *s, const char *run_id, const char *key, struct err *e)
{
    if (run_check(s, run_id, 1, e)) return -1;
    int64_t changed = 0;
    if (sqlite_store_update(s, "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2",
                            "deleting run tag", SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(key)),
                            &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "key", "No tag with name: %s in run with id %s", key,
                             run_id);
    return 0;
}

int sqlite_store_mlflow_tag_delete(void *conn, const char *run_id, const char *key, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, tag_delete(s, run_id, key, e), e);
}

json_t *sqlite_store_mlflow_metric_history(void *conn, const char *run_id, const char *key,
                                           struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "reading metric history";
    if (run_check(s, run_id, 0, e)) return NULL;
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s,
        "SELECT key, value, ts_ms, step FROM metrics WHERE run_id = ?1 AND key = ?2"
        " ORDER BY ts_ms, step, rowid",
        what, SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(key)), e);
    if (!st) return NULL;
    json_t *list = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1)
        json_array_append_new(list, metric_row(st, 0));
    sqlite3_finalize(st);
    if (r < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}
