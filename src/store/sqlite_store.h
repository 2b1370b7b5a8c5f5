/* Internals of the SQLite backend, shared by its files (one per area:
 * datasets, runs, registry, predictions+feedback, schema). Not for callers
 * outside src/store/: they use store.h. */
#ifndef BOUCLE_STORE_SQLITE_STORE_H
#define BOUCLE_STORE_SQLITE_STORE_H

#include "store/store.h"

#include <sqlite3.h>

/* One connection. store.c serialises calls on it with the handle's mutex,
 * so the connection is opened SQLITE_OPEN_NOMUTEX and nothing here locks. */
struct sqlite_store {
    sqlite3 *db;
    char *path;
    int schema_version;
    /* Statements prepared once at open: the transaction verbs and the two
     * hot inserts (the log writer's batches and the durable feedback path). */
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *sync_full;
    sqlite3_stmt *sync_normal;
    sqlite3_stmt *prediction_insert;
    sqlite3_stmt *prediction_task;
    sqlite3_stmt *feedback_insert;
};

/* ERR_IO "sqlite: <errmsg> (in <what>)"; returns -1. */
int sqlite_store_fail(struct sqlite_store *s, struct err *e, const char *what);
/* sqlite3_prepare_v2, failing with `what` as context; NULL on error. */
sqlite3_stmt *sqlite_store_prepare(struct sqlite_store *s, const char *sql, const char *what,
                                   struct err *e);
/* Runs constant SQL (DDL, pragmas: never values) statement by statement. */
int sqlite_store_exec(struct sqlite_store *s, const char *sql, const char *what, struct err *e);
/* Steps a cached statement to completion and resets it; 0 or -1. */
int sqlite_store_step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                           struct err *e);
/* Resets a cached statement and drops its bindings (which may point at
 * caller memory that is about to go away). */
void sqlite_store_release(sqlite3_stmt *st);

/* BEGIN IMMEDIATE: writers take the write lock up front, so a transaction
 * never fails half-way on a read-to-write upgrade; busy_timeout applies. */
int sqlite_store_begin(struct sqlite_store *s, struct err *e);
int sqlite_store_commit(struct sqlite_store *s, struct err *e);
/* Rolls back if a transaction is still open; keeps the caller's error. */
void sqlite_store_rollback(struct sqlite_store *s);
/* Ends the transaction sqlite_store_begin opened with the result `r` of the
 * work done in it: commits and returns r when r >= 0, else rolls back and
 * returns -1 (e was filled by what failed). */
int sqlite_store_end(struct sqlite_store *s, int r, struct err *e);

/* Binds text, or SQL NULL when the pointer is NULL. The memory must stay
 * valid until the statement is reset (it is not copied). */
int sqlite_store_bind_text(sqlite3_stmt *st, int idx, const char *text);
/* The extended result code of the last failure was a constraint of this kind
 * (SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE, _FOREIGNKEY...). */
int sqlite_store_violated(struct sqlite_store *s, int extended_code);

/* Steps a write (INSERT, UPDATE) once; 0 when done, else -1 with e filled.
 * When the failure is the constraint `violated` (an extended code such as
 * SQLITE_CONSTRAINT_PRIMARYKEY), e gets `code`, `field` and the caller's
 * message, which says what the user did wrong; any other failure gets the
 * SQLite message in `what`. Neither resets nor finalizes st. */
int sqlite_store_write(struct sqlite_store *s, sqlite3_stmt *st, const char *what, int violated,
                       enum err_code code, const char *field, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Column readers for JSON answers. */
json_t *sqlite_store_col_text(sqlite3_stmt *st, int col); /* string or null */
json_t *sqlite_store_col_int(sqlite3_stmt *st, int col);  /* integer or null */
json_t *sqlite_store_col_json(sqlite3_stmt *st, int col); /* parsed value or null */
json_t *sqlite_store_col_time(sqlite3_stmt *st, int col); /* ISO-8601 string or null */
/* Stepping a read query: 1 on a row, 0 when done, -1 with e filled. */
int sqlite_store_next(struct sqlite_store *s, sqlite3_stmt *st, const char *what, struct err *e);

/* Bound parameters for the *_args helpers below: text (NULL binds SQL NULL,
 * the memory must outlive the statement's use) or an integer. Written as
 * SQLITE_ARGS(SQL_TEXT(task), SQL_INT(now)): the array and its length. */
struct sqlite_arg {
    const char *text;
    int64_t num;
    int is_num;
};
#define SQL_TEXT(v) ((struct sqlite_arg){.text = (v)})
#define SQL_INT(v) ((struct sqlite_arg){.num = (v), .is_num = 1})
#define SQLITE_ARGS(...)                                                                           \
    ((const struct sqlite_arg[]){__VA_ARGS__}),                                                    \
        (sizeof((const struct sqlite_arg[]){__VA_ARGS__}) / sizeof(struct sqlite_arg))

/* Prepares `sql` and binds args[i] to ?(i+1); NULL with e filled on error. */
sqlite3_stmt *sqlite_store_prepare_args(struct sqlite_store *s, const char *sql, const char *what,
                                        const struct sqlite_arg *args, size_t n, struct err *e);
/* Prepares, binds and steps a write (INSERT, UPDATE, DELETE) to its end;
 * *changed (unless NULL) gets the number of rows it changed. 0 or -1. */
int sqlite_store_update(struct sqlite_store *s, const char *sql, const char *what,
                        const struct sqlite_arg *args, size_t n, int64_t *changed, struct err *e);
/* Reads columns 0..n_out-1 of the first row as integers into out[] (SQL
 * NULL reads 0). 1 on a row, 0 when there is none, -1 with e filled. */
int sqlite_store_query_ints(struct sqlite_store *s, const char *sql, const char *what,
                            const struct sqlite_arg *args, size_t n, int64_t *out, size_t n_out,
                            struct err *e);
/* Copies a text column into a fixed buffer, truncating; "" for SQL NULL. */
void sqlite_store_col_copy(sqlite3_stmt *st, int col, char *out, size_t size);

/* A one-value look-up: binds bind1 to ?1 and, unless NULL, bind2 to ?2, and
 * reads column 0 of the first row into *out (when out is not NULL). 1 on a
 * row, 0 when there is none, -1 with e filled. */
int sqlite_store_query_int(struct sqlite_store *s, const char *sql, const char *what,
                           const char *bind1, const char *bind2, int64_t *out, struct err *e);

/* Reading rows into JSON, declaratively: spec entry i names result column i
 * and says how to read it, so a query's SELECT list and its JSON keys sit
 * side by side and stay in the same order. Keys come out in spec order (the
 * HTTP API and the tests see that order). */
enum sqlite_col_kind {
    COL_TEXT, /* sqlite_store_col_text */
    COL_INT,  /* sqlite_store_col_int */
    COL_JSON, /* sqlite_store_col_json */
    COL_TIME, /* sqlite_store_col_time: stored as Unix ms */
};
struct sqlite_col {
    const char *name; /* JSON key; NULL in a one-column spec: the bare value */
    enum sqlite_col_kind kind;
};
/* A spec array and its length, for the functions below. */
#define SQLITE_COLS(spec) (spec), (sizeof(spec) / sizeof((spec)[0]))

/* The current row as an object, or as the bare value of a one-column spec
 * without a name (for lists of strings). */
json_t *sqlite_store_row_json(sqlite3_stmt *st, const struct sqlite_col *cols, size_t n);
/* Steps a prepared and bound statement to its end: an array of rows, or NULL
 * with e filled. Neither resets nor finalizes st (a caller may re-bind it). */
json_t *sqlite_store_rows_json(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                               const struct sqlite_col *cols, size_t n, struct err *e);
/* Prepares `sql`, binds args and returns every row as an array; NULL with e
 * filled on error. */
json_t *sqlite_store_query_rows(struct sqlite_store *s, const char *sql, const char *what,
                                const struct sqlite_arg *args, size_t n,
                                const struct sqlite_col *cols, size_t n_cols, struct err *e);
/* The same with one text parameter: `bind1` (or SQL NULL when NULL) as ?1. */
json_t *sqlite_store_query_list(struct sqlite_store *s, const char *sql, const char *what,
                                const char *bind1, const struct sqlite_col *cols, size_t n,
                                struct err *e);
/* The same for the first row only. No row is ERR_NOT_FOUND on `field`:
 * "<noun> '<bind1>' not found". */
json_t *sqlite_store_query_one(struct sqlite_store *s, const char *sql, const char *what,
                               const char *bind1, const struct sqlite_col *cols, size_t n,
                               const char *field, const char *noun, struct err *e);

/* sqlite_schema.c */
int sqlite_store_migrate(struct sqlite_store *s, struct err *e);
int sqlite_store_known_version(void);

/* One function per backend operation, grouped by file. */
int sqlite_store_dataset_find(void *conn, const char *task, const char *hash, int64_t *id,
                              struct err *e);
int sqlite_store_example_count(void *conn, const char *task, int64_t *count, struct err *e);
int sqlite_store_dataset_add(void *conn, const char *task, const char *hash, const char *source,
                             const struct store_example *rows, size_t n,
                             const struct store_dataset_meta *meta, int64_t *id, struct err *e);
json_t *sqlite_store_datasets_list(void *conn, const char *task, struct err *e);
json_t *sqlite_store_dataset_get(void *conn, const char *task, int64_t id, int baseline,
                                 struct err *e);
int sqlite_store_examples_foreach(void *conn, const char *task, store_example_cb cb, void *ctx,
                                  struct err *e);

int sqlite_store_run_create(void *conn, const char *run_id, const char *task, const char *kind,
                            const char *params_json, struct err *e);
int sqlite_store_run_attach(void *conn, const char *run_id, int64_t experiment_id,
                            const char *run_name, const char *artifact_uri, struct err *e);
int sqlite_store_run_finish(void *conn, const char *run_id, const char *status,
                            const char *metrics_json, struct err *e);
int sqlite_store_run_log(void *conn, const char *run_id, const char *line, struct err *e);
json_t *sqlite_store_run_get(void *conn, const char *run_id, struct err *e);
json_t *sqlite_store_runs_list(void *conn, const char *task, size_t limit, struct err *e);

int sqlite_store_model_add(void *conn, const struct store_model_version *v, int64_t *version,
                           struct err *e);
int sqlite_store_model_artifact(void *conn, const char *task, int64_t version, void **data,
                                size_t *len, struct err *e);
json_t *sqlite_store_models_list(void *conn, const char *task, struct err *e);
int sqlite_store_alias_set(void *conn, const char *task, const char *alias, int64_t version,
                           const char *reason, const char *actor, struct err *e);
int sqlite_store_alias_get(void *conn, const char *task, const char *alias, int64_t *version,
                           struct err *e);
json_t *sqlite_store_alias_history(void *conn, const char *task, struct err *e);

int sqlite_store_predictions_add(void *conn, const struct store_prediction *rows, size_t n,
                                 struct err *e);
json_t *sqlite_store_prediction_get(void *conn, const char *id, struct err *e);
int sqlite_store_feedback_add(void *conn, const struct store_feedback *f, struct err *e);
json_t *sqlite_store_feedback_get(void *conn, const char *id, struct err *e);
json_t *sqlite_store_feedback_stats(void *conn, const char *task, struct err *e);

/* The automatic loop (issue 3). sqlite_runs.c: */
int sqlite_store_run_state_merge(void *conn, const char *run_id, json_t *patch, struct err *e);
int sqlite_store_run_steps_set(void *conn, const char *run_id, json_t *steps, struct err *e);
int sqlite_store_run_status_set(void *conn, const char *run_id, const char *status, struct err *e);
/* sqlite_jobs.c: */
int sqlite_store_runs_reap(void *conn, int64_t *n_reaped, struct err *e);
int sqlite_store_job_enqueue(void *conn, const char *task, const char *kind, const char *trigger,
                             const char *payload_json, char run_id_out[40], struct err *e);
int sqlite_store_job_claim(void *conn, const char *worker, int64_t lease_ms, struct store_job *out,
                           struct err *e);
int sqlite_store_job_heartbeat(void *conn, int64_t job_id, const char *worker, int64_t lease_ms,
                               struct err *e);
int sqlite_store_job_finish(void *conn, int64_t job_id, const char *status, struct err *e);
int sqlite_store_job_cancel(void *conn, const char *task, const char *kind, struct err *e);
json_t *sqlite_store_jobs_list(void *conn, const char *task, struct err *e);
int sqlite_store_task_times(void *conn, const char *task, int64_t *last_retrain_ms,
                            int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e);
/* sqlite_feedback.c: */
json_t *sqlite_store_feedback_gold_unused(void *conn, const char *task, struct err *e);
int sqlite_store_feedback_gold_unused_count(void *conn, const char *task, int64_t *n,
                                            struct err *e);
int sqlite_store_feedback_mark_used(void *conn, const char *const *feedback_ids, size_t n,
                                    const char *run_id, const char *role, struct err *e);
int sqlite_store_feedback_satisfaction(void *conn, const char *task, int64_t since_ms,
                                       int64_t *n_scored, int64_t *n_positive, struct err *e);
json_t *sqlite_store_review_queue(void *conn, const char *task, size_t limit, struct err *e);
json_t *sqlite_store_feedback_export(void *conn, const char *task, struct err *e);
/* sqlite_registry.c: */
int sqlite_store_alias_deploy(void *conn, const char *task, int64_t version, const char *reason,
                              const char *actor, struct err *e);
int sqlite_store_alias_rollback(void *conn, const char *task, const char *reason, const char *actor,
                                int64_t *now_serving, struct err *e);
/* Deploy inside the caller's transaction (previous <- champion <- version);
 * ERR_CONFLICT when version already is the champion. */
int sqlite_store_deploy_in(struct sqlite_store *s, const char *task, int64_t version,
                           const char *reason, const char *actor, struct err *e);

/* sqlite_mlflow.c (issue 4): */
int sqlite_store_experiment_create(void *conn, const char *name, const char *artifact_location,
                                   const struct store_kv *tags, size_t n_tags, int64_t *id,
                                   struct err *e);
json_t *sqlite_store_experiment_get(void *conn, int64_t id, const char *name, struct err *e);
json_t *sqlite_store_experiments_list(void *conn, const char *lifecycle_stage, struct err *e);
int sqlite_store_experiment_update(void *conn, int64_t id, const char *new_name,
                                   const char *lifecycle_stage, struct err *e);
int sqlite_store_experiment_tag_set(void *conn, int64_t id, const char *key, const char *value,
                                    struct err *e);
int sqlite_store_mlflow_run_create(void *conn, const struct store_mlflow_run *r, struct err *e);
json_t *sqlite_store_mlflow_run_get(void *conn, const char *run_id, struct err *e);
json_t *sqlite_store_mlflow_runs_get(void *conn, const char *const *run_ids, size_t n,
                                     struct err *e);
int sqlite_store_mlflow_runs_scan(void *conn, const struct store_mlflow_scan *q,
                                  struct store_scan *out, struct err *e);
int sqlite_store_mlflow_run_update(void *conn, const char *run_id,
                                   const struct store_mlflow_run_patch *p, struct err *e);
int sqlite_store_mlflow_run_log(void *conn, const char *run_id, const struct store_metric *metrics,
                                size_t n_metrics, const struct store_kv *params, size_t n_params,
                                const struct store_kv *tags, size_t n_tags, struct err *e);
int sqlite_store_mlflow_tag_delete(void *conn, const char *run_id, const char *key, struct err *e);
json_t *sqlite_store_mlflow_metric_history(void *conn, const char *run_id, const char *key,
                                           struct err *e);

/* sqlite_mlflow_registry.c (issue 4): */
int sqlite_store_registered_model_create(void *conn, const char *name, const char *description,
                                         const struct store_kv *tags, size_t n_tags, struct err *e);
json_t *sqlite_store_registered_models_list(void *conn, const char *name, struct err *e);
int sqlite_store_registered_model_update(void *conn, const char *name, const char *new_name,
                                         const char *description, struct err *e);
int sqlite_store_registered_model_delete(void *conn, const char *name, struct err *e);
int sqlite_store_registered_model_tag(void *conn, const char *name, const char *key,
                                      const char *value, struct err *e);
int sqlite_store_model_version_create(void *conn, const struct store_mlflow_version *v,
                                      int64_t *version, struct err *e);
json_t *sqlite_store_model_versions_list(void *conn, const char *name, int64_t version,
                                         struct err *e);
int sqlite_store_model_version_update(void *conn, const char *name, int64_t version,
                                      const char *description, const char *stage,
                                      int archive_others, struct err *e);
int sqlite_store_model_version_delete(void *conn, const char *name, int64_t version,
                                      const char *actor, struct err *e);
int sqlite_store_model_version_tag(void *conn, const char *name, int64_t version, const char *key,
                                   const char *value, struct err *e);
int sqlite_store_model_alias_delete(void *conn, const char *name, const char *alias,
                                    const char *reason, const char *actor, struct err *e);
int sqlite_store_artifact_put(void *conn, const char *run_id, const char *path, const void *data,
                              size_t len, const char *sha256, struct err *e);
int sqlite_store_artifact_get(void *conn, const char *run_id, const char *path, void **data,
                              size_t *len, char sha256_out[65], struct err *e);
json_t *sqlite_store_artifacts_list(void *conn, const char *run_id, struct err *e);
int sqlite_store_artifact_delete(void *conn, const char *run_id, const char *path, struct err *e);

/* sqlite_rollout.c (issue 6): */
int sqlite_store_rollout_start(void *conn, const struct store_rollout_start *r, int64_t *id,
                               struct err *e);
int sqlite_store_rollout_active(void *conn, const char *task, struct store_rollout *out,
                                struct err *e);
int sqlite_store_rollout_end(void *conn, int64_t id, const char *status, const char *reason,
                             const char *decision_json, struct err *e);
int sqlite_store_rollout_stats(void *conn, const struct store_rollout *r,
                               struct store_rollout_stats *out, struct err *e);
json_t *sqlite_store_rollouts_list(void *conn, const char *task, size_t limit, struct err *e);

#endif
