/* Internals of the PostgreSQL backend, shared by its files (one per area,
 * like the SQLite backend's). Every statement is sent with PQexecParams and
 * its values as parameters: no value is ever formatted into SQL text. Not
 * for callers outside src/store/: they use store.h. */
#ifndef BOUCLE_STORE_PG_STORE_H
#define BOUCLE_STORE_PG_STORE_H

#include "store/store.h"

#include <libpq-fe.h>

/* One connection; store.c serialises calls on it with the handle's mutex. */
struct pg_store {
    PGconn *conn;
    int schema_version;
    int listening;    /* LISTEN boucle_alias was sent */
    char sqlstate[6]; /* of the last failed statement, "" when none */
    /* the connection was re-established: notifications may have been
     * missed while it was down */
    int reconnected;
};

/* The channel a champion move is announced on; the payload is the task. */
#define PG_ALIAS_CHANNEL "boucle_alias"

/* A connection the server dropped (restart, failover, idle timeout) is
 * re-established before the next statement, outside any transaction; a
 * LISTEN is renewed. 0, or -1 when the server is still unreachable. */
int pg_store_connected(struct pg_store *s, struct err *e);
/* ERR_IO "postgres: <PQerrorMessage> (in <what>)"; returns -1. */
int pg_store_fail(struct pg_store *s, struct err *e, const char *what);
/* The last failed statement raised this SQLSTATE ("23505" unique, "23503"
 * foreign key). */
int pg_store_violated(struct pg_store *s, const char *sqlstate);

/* Parameters: text (NULL sends SQL NULL), a 64-bit integer, or bytes sent
 * in binary (bytea). Written as PG_ARGS(PG_TEXT(task), PG_INT(now)). */
struct pg_arg {
    const char *text;
    int64_t num;
    const void *bytes;
    size_t len;
    int kind; /* 0 text, 1 integer, 2 bytes */
};
#define PG_TEXT(v) ((struct pg_arg){.text = (v)})
#define PG_INT(v) ((struct pg_arg){.num = (v), .kind = 1})
#define PG_BYTES(p, n) ((struct pg_arg){.bytes = (p), .len = (n), .kind = 2})
#define PG_ARGS(...)                                                                               \
    ((const struct pg_arg[]){__VA_ARGS__}),                                                        \
        (sizeof((const struct pg_arg[]){__VA_ARGS__}) / sizeof(struct pg_arg))
#define PG_NO_ARGS NULL, 0

/* Runs one statement with parameters; the result (caller PQclear()s it) or
 * NULL with e filled. binary_result asks for binary columns (bytea). */
PGresult *pg_store_query(struct pg_store *s, const char *sql, const char *what,
                         const struct pg_arg *args, size_t n, int binary_result, struct err *e);
/* Runs constant SQL (DDL, transaction verbs: never values), possibly
 * several statements. 0 or -1. */
int pg_store_exec(struct pg_store *s, const char *sql, const char *what, struct err *e);
/* A write (INSERT, UPDATE, DELETE); *changed (unless NULL) gets the number
 * of rows it changed. 0 or -1. */
int pg_store_update(struct pg_store *s, const char *sql, const char *what,
                    const struct pg_arg *args, size_t n, int64_t *changed, struct err *e);
/* A write that may break a constraint: when it fails with SQLSTATE
 * `violated`, e gets `code`, `field` and the caller's message; any other
 * failure the server's message. 0 or -1. */
int pg_store_write(struct pg_store *s, const char *sql, const char *what, const struct pg_arg *args,
                   size_t n, const char *violated, enum err_code code, const char *field,
                   struct err *e, const char *fmt, ...) __attribute__((format(printf, 10, 11)));
/* Columns 0..n_out-1 of the first row as integers (SQL NULL reads 0). 1 on
 * a row, 0 when there is none, -1 with e filled. */
int pg_store_query_ints(struct pg_store *s, const char *sql, const char *what,
                        const struct pg_arg *args, size_t n, int64_t *out, size_t n_out,
                        struct err *e);
/* One text look-up: $1 = bind1 and, unless NULL, $2 = bind2; column 0 of
 * the first row into *out (unless NULL). 1, 0 or -1. */
int pg_store_query_int(struct pg_store *s, const char *sql, const char *what, const char *bind1,
                       const char *bind2, int64_t *out, struct err *e);

/* Transactions. begin/commit/end as in the SQLite backend: end commits and
 * returns r when r >= 0, else rolls back and returns -1. */
int pg_store_begin(struct pg_store *s, struct err *e);
int pg_store_commit(struct pg_store *s, struct err *e);
void pg_store_rollback(struct pg_store *s);
int pg_store_end(struct pg_store *s, int r, struct err *e);
/* A transaction-scoped advisory lock on `scope`:`key` (released at commit
 * or rollback): serialises read-then-write sequences across processes. */
int pg_store_lock(struct pg_store *s, const char *scope, const char *key, struct err *e);
/* The scope of a task's (a registered model's) lock: its version numbers,
 * aliases and name are read then written, by the trainer (pg_registry.c)
 * and by MLflow clients (pg_mlflow_registry.c) alike. */
#define PG_TASK_LOCK "registry"

/* Value readers. */
int64_t pg_store_int(const PGresult *r, int row, int col); /* NULL reads 0 */
/* Array parameters' text, for "= ANY($1::bigint[])" and "= ANY($1::text[])":
 * "{1,2,3}" and {"a","b"} (elements quoted, '"' and '\\' escaped). Caller frees. */
char *pg_store_int_array(const int64_t *v, size_t n);
char *pg_store_text_array(const char *const *v, size_t n);
void pg_store_copy(const PGresult *r, int row, int col, char *out, size_t size);

/* Rows into JSON, declaratively (as sqlite_store.h's column specs). */
enum pg_col_kind {
    PGC_TEXT, /* string or null */
    PGC_INT,  /* integer or null */
    PGC_JSON, /* parsed value or null (text that does not parse: a string) */
    PGC_TIME, /* Unix ms -> ISO-8601 string, or null */
};
struct pg_col {
    const char *name; /* JSON key; NULL in a one-column spec: the bare value */
    enum pg_col_kind kind;
};
#define PG_COLS(spec) (spec), (sizeof(spec) / sizeof((spec)[0]))

json_t *pg_store_row_json(const PGresult *r, int row, const struct pg_col *cols, size_t n);
json_t *pg_store_query_rows(struct pg_store *s, const char *sql, const char *what,
                            const struct pg_arg *args, size_t n, const struct pg_col *cols,
                            size_t n_cols, struct err *e);
/* The same with one text parameter $1 (SQL NULL when NULL). */
json_t *pg_store_query_list(struct pg_store *s, const char *sql, const char *what,
                            const char *bind1, const struct pg_col *cols, size_t n, struct err *e);
/* The first row only; none is ERR_NOT_FOUND on `field`: "<noun> '<bind1>' not found". */
json_t *pg_store_query_one(struct pg_store *s, const char *sql, const char *what, const char *bind1,
                           const struct pg_col *cols, size_t n, const char *field, const char *noun,
                           struct err *e);

/* pg_schema.c */
int pg_store_migrate(struct pg_store *s, struct err *e);

/* One function per backend operation, grouped by file. pg_datasets.c: */
int pg_store_dataset_find(void *conn, const char *task, const char *hash, int64_t *id,
                          struct err *e);
int pg_store_example_count(void *conn, const char *task, int64_t *count, struct err *e);
int pg_store_dataset_add(void *conn, const char *task, const char *hash, const char *source,
                         const struct store_example *rows, size_t n,
                         const struct store_dataset_meta *meta, int64_t *id, struct err *e);
json_t *pg_store_datasets_list(void *conn, const char *task, struct err *e);
json_t *pg_store_dataset_get(void *conn, const char *task, int64_t id, int baseline, struct err *e);
int pg_store_examples_foreach(void *conn, const char *task, store_example_cb cb, void *ctx,
                              struct err *e);
/* pg_runs.c: */
int pg_store_run_create(void *conn, const char *run_id, const char *task, const char *kind,
                        const char *params_json, struct err *e);
int pg_store_run_attach(void *conn, const char *run_id, int64_t experiment_id, const char *run_name,
                        const char *artifact_uri, struct err *e);
int pg_store_run_finish(void *conn, const char *run_id, const char *status,
                        const char *metrics_json, struct err *e);
int pg_store_run_log(void *conn, const char *run_id, const char *line, struct err *e);
json_t *pg_store_run_get(void *conn, const char *run_id, struct err *e);
json_t *pg_store_runs_list(void *conn, const char *task, size_t limit, struct err *e);
int pg_store_run_state_merge(void *conn, const char *run_id, json_t *patch, struct err *e);
int pg_store_run_steps_set(void *conn, const char *run_id, json_t *steps, struct err *e);
int pg_store_run_status_set(void *conn, const char *run_id, const char *status, struct err *e);
/* pg_registry.c: */
int pg_store_model_add(void *conn, const struct store_model_version *v, int64_t *version,
                       struct err *e);
int pg_store_model_artifact(void *conn, const char *task, int64_t version, void **data, size_t *len,
                            struct err *e);
json_t *pg_store_models_list(void *conn, const char *task, struct err *e);
int pg_store_alias_set(void *conn, const char *task, const char *alias, int64_t version,
                       const char *reason, const char *actor, struct err *e);
int pg_store_alias_get(void *conn, const char *task, const char *alias, int64_t *version,
                       struct err *e);
json_t *pg_store_alias_history(void *conn, const char *task, struct err *e);
int pg_store_alias_deploy(void *conn, const char *task, int64_t version, const char *reason,
                          const char *actor, struct err *e);
int pg_store_alias_rollback(void *conn, const char *task, const char *reason, const char *actor,
                            int64_t *now_serving, struct err *e);
/* Deploy inside the caller's transaction (previous <- champion <- version),
 * under the task's registry lock; ERR_CONFLICT when version already is the
 * champion. */
int pg_store_deploy_in(struct pg_store *s, const char *task, int64_t version, const char *reason,
                       const char *actor, struct err *e);
int pg_store_listen_aliases(void *conn, struct err *e);
int pg_store_wait_alias_change(void *conn, int timeout_ms, struct err *e);
/* pg_feedback.c: */
int pg_store_predictions_add(void *conn, const struct store_prediction *rows, size_t n,
                             struct err *e);
json_t *pg_store_prediction_get(void *conn, const char *id, struct err *e);
int pg_store_feedback_add(void *conn, const struct store_feedback *f, struct err *e);
json_t *pg_store_feedback_get(void *conn, const char *id, struct err *e);
json_t *pg_store_feedback_stats(void *conn, const char *task, struct err *e);
json_t *pg_store_feedback_gold_unused(void *conn, const char *task, struct err *e);
int pg_store_feedback_gold_unused_count(void *conn, const char *task, int64_t *n, struct err *e);
int pg_store_feedback_mark_used(void *conn, const char *const *feedback_ids, size_t n,
                                const char *run_id, const char *role, struct err *e);
int pg_store_feedback_satisfaction(void *conn, const char *task, int64_t since_ms,
                                   int64_t *n_scored, int64_t *n_positive, struct err *e);
json_t *pg_store_review_queue(void *conn, const char *task, size_t limit, struct err *e);
json_t *pg_store_feedback_export(void *conn, const char *task, struct err *e);
/* pg_jobs.c: */
int pg_store_runs_reap(void *conn, int64_t *n_reaped, struct err *e);
int pg_store_job_enqueue(void *conn, const char *task, const char *kind, const char *trigger,
                         const char *payload_json, char run_id_out[40], struct err *e);
int pg_store_job_claim(void *conn, const char *worker, int64_t lease_ms, struct store_job *out,
                       struct err *e);
int pg_store_job_heartbeat(void *conn, int64_t job_id, const char *worker, int64_t lease_ms,
                           struct err *e);
int pg_store_job_finish(void *conn, int64_t job_id, const char *status, struct err *e);
int pg_store_job_cancel(void *conn, const char *task, const char *kind, struct err *e);
json_t *pg_store_jobs_list(void *conn, const char *task, struct err *e);
int pg_store_task_times(void *conn, const char *task, int64_t *last_retrain_ms,
                        int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e);
/* pg_mlflow.c: */
int pg_store_experiment_create(void *conn, const char *name, const char *artifact_location,
                               const struct store_kv *tags, size_t n_tags, int64_t *id,
                               struct err *e);
json_t *pg_store_experiment_get(void *conn, int64_t id, const char *name, struct err *e);
json_t *pg_store_experiments_list(void *conn, const char *lifecycle_stage, struct err *e);
int pg_store_experiment_update(void *conn, int64_t id, const char *new_name,
                               const char *lifecycle_stage, struct err *e);
int pg_store_experiment_tag_set(void *conn, int64_t id, const char *key, const char *value,
                                struct err *e);
int pg_store_mlflow_run_create(void *conn, const struct store_mlflow_run *r, struct err *e);
json_t *pg_store_mlflow_run_get(void *conn, const char *run_id, struct err *e);
json_t *pg_store_mlflow_runs_get(void *conn, const char *const *run_ids, size_t n, struct err *e);
int pg_store_mlflow_runs_scan(void *conn, const struct store_mlflow_scan *q, struct store_scan *out,
                              struct err *e);
int pg_store_mlflow_run_update(void *conn, const char *run_id,
                               const struct store_mlflow_run_patch *p, struct err *e);
int pg_store_mlflow_run_log(void *conn, const char *run_id, const struct store_metric *metrics,
                            size_t n_metrics, const struct store_kv *params, size_t n_params,
                            const struct store_kv *tags, size_t n_tags, struct err *e);
int pg_store_mlflow_tag_delete(void *conn, const char *run_id, const char *key, struct err *e);
json_t *pg_store_mlflow_metric_history(void *conn, const char *run_id, const char *key,
                                       struct err *e);

/* pg_mlflow_registry.c: */
int pg_store_registered_model_create(void *conn, const char *name, const char *description,
                                     const struct store_kv *tags, size_t n_tags, struct err *e);
json_t *pg_store_registered_models_list(void *conn, const char *name, struct err *e);
int pg_store_registered_model_update(void *conn, const char *name, const char *new_name,
                                     const char *description, struct err *e);
int pg_store_registered_model_delete(void *conn, const char *name, struct err *e);
int pg_store_registered_model_tag(void *conn, const char *name, const char *key, const char *value,
                                  struct err *e);
int pg_store_model_version_create(void *conn, const struct store_mlflow_version *v,
                                  int64_t *version, struct err *e);
json_t *pg_store_model_versions_list(void *conn, const char *name, int64_t version, struct err *e);
int pg_store_model_version_update(void *conn, const char *name, int64_t version,
                                  const char *description, const char *stage, int archive_others,
                                  struct err *e);
int pg_store_model_version_delete(void *conn, const char *name, int64_t version, const char *actor,
                                  struct err *e);
int pg_store_model_version_tag(void *conn, const char *name, int64_t version, const char *key,
                               const char *value, struct err *e);
int pg_store_model_alias_delete(void *conn, const char *name, const char *alias, const char *reason,
                                const char *actor, struct err *e);
int pg_store_artifact_put(void *conn, const char *run_id, const char *path, const void *data,
                          size_t len, const char *sha256, struct err *e);
int pg_store_artifact_get(void *conn, const char *run_id, const char *path, void **data,
                          size_t *len, char sha256_out[65], struct err *e);
json_t *pg_store_artifacts_list(void *conn, const char *run_id, struct err *e);
int pg_store_artifact_delete(void *conn, const char *run_id, const char *path, struct err *e);
/* pg_rollout.c (issue 6): */
int pg_store_rollout_start(void *conn, const struct store_rollout_start *r, int64_t *id,
                           struct err *e);
int pg_store_rollout_active(void *conn, const char *task, struct store_rollout *out, struct err *e);
int pg_store_rollout_end(void *conn, int64_t id, const char *status, const char *reason,
                         const char *decision_json, struct err *e);
int pg_store_rollout_stats(void *conn, const struct store_rollout *r,
                           struct store_rollout_stats *out, struct err *e);
json_t *pg_store_rollouts_list(void *conn, const char *task, size_t limit, struct err *e);

#endif
