/* The store: the only module with SQL. One interface, backends behind it
 * (SQLite now; PostgreSQL next). Every function is safe to call from several
 * threads on one handle (each takes the handle's lock); multi-statement
 * writes are one transaction. Returns 0 on success, -1 with `e` filled. */
#ifndef BOUCLE_STORE_STORE_H
#define BOUCLE_STORE_STORE_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* url: "sqlite:/abs/path/file.db". Creates the file, enables WAL, runs the
 * numbered migrations; refuses a database whose schema is newer than this binary's. */
struct store *store_open(const char *url, struct err *e);
void store_close(struct store *s);
int store_schema_version(struct store *s);

/* ---- datasets and examples ---- */
struct store_example {
    const char *input_json; /* compact JSON object of the task's input fields */
    const char *label;
    int split; /* 0 train, 1 test */
    int64_t line;
};
/* Returns 1 and the id when (task, hash) exists, 0 when not, -1 on error. */
int store_dataset_find(struct store *s, const char *task, const char *hash, int64_t *id,
                       struct err *e);
/* Number of examples the task has in all its datasets (0 = first import). */
int store_example_count(struct store *s, const char *task, int64_t *count, struct err *e);
/* Inserts the dataset row and all its examples in one transaction. */
int store_dataset_add(struct store *s, const char *task, const char *hash, const char *source,
                      const struct store_example *rows, size_t n, int64_t *id, struct err *e);
/* [{"id","task","hash","source","rows","train_rows","test_rows","created_at"}] newest first;
 * task may be NULL for all tasks. */
json_t *store_datasets_list(struct store *s, const char *task, struct err *e);
/* Calls cb for every example of the task, in insertion order; a non-zero
 * return from cb stops and is returned. */
typedef int (*store_example_cb)(void *ctx, const char *input_json, const char *label, int split);
int store_examples_foreach(struct store *s, const char *task, store_example_cb cb, void *ctx,
                           struct err *e);

/* ---- runs ---- */
/* kind: "train", "retrain", ...; params_json may be NULL. Status starts "running". */
int store_run_create(struct store *s, const char *run_id, const char *task, const char *kind,
                     const char *params_json, struct err *e);
/* status: "completed" | "failed" | "cancelled"; metrics_json may be NULL. */
int store_run_finish(struct store *s, const char *run_id, const char *status,
                     const char *metrics_json, struct err *e);
int store_run_log(struct store *s, const char *run_id, const char *line, struct err *e);
/* {"id","task","kind","status","params","metrics","logs":[..],"started_at","ended_at"};
 * NULL with ERR_NOT_FOUND when absent. */
json_t *store_run_get(struct store *s, const char *run_id, struct err *e);
/* newest first, at most `limit` */
json_t *store_runs_list(struct store *s, const char *task, size_t limit, struct err *e);

/* ---- model registry ---- */
struct store_model_version {
    const char *task;
    const char *run_id;
    const char *dataset_hash;
    const char *config_hash;
    const char *kind;
    const void *artifact;
    size_t artifact_len;
    const char *artifact_sha256;
    const char *metrics_json;
};
/* Versions count 1, 2, 3... per task. */
int store_model_add(struct store *s, const struct store_model_version *v, int64_t *version,
                    struct err *e);
/* The artifact bytes (caller frees *data). ERR_NOT_FOUND when absent. */
int store_model_artifact(struct store *s, const char *task, int64_t version, void **data,
                         size_t *len, struct err *e);
/* [{"version","run_id","dataset_hash","config_hash","kind","sha256","size","metrics",
 *   "aliases":[..],"created_at"}] newest first */
json_t *store_models_list(struct store *s, const char *task, struct err *e);
int store_alias_set(struct store *s, const char *task, const char *alias, int64_t version,
                    struct err *e);
/* 1 and *version when set, 0 when not, -1 on error. */
int store_alias_get(struct store *s, const char *task, const char *alias, int64_t *version,
                    struct err *e);
/* store_alias_set with a reason kept in the alias history ("deploy", "rollback",
 * "gate passed: f1 +0.03"); reason may be NULL. store_alias_set is this with NULL.
 * ERR_NOT_FOUND (field "version") when the task has no such version. */
int store_alias_set_reason(struct store *s, const char *task, const char *alias, int64_t version,
                           const char *reason, struct err *e);
/* Every alias move of the task (all tasks when NULL), newest first:
 * [{"id","task","alias","from_version" (null the first time),"to_version","reason",
 *   "changed_at"}] */
json_t *store_alias_history(struct store *s, const char *task, struct err *e);

/* ---- predictions and feedback ---- */
struct store_prediction {
    const char *id; /* uuid */
    const char *task;
    int64_t model_version;
    const char *input_json;
    const char *label;       /* the predicted label */
    const char *output_json; /* the full answer */
    int64_t latency_us;
    int64_t created_ms;
};
/* All rows in one transaction (the log writer's group commit). */
int store_predictions_add(struct store *s, const struct store_prediction *rows, size_t n,
                          struct err *e);
/* {"id","task","model_version","input","label","output","latency_us","created_at"};
 * NULL with ERR_NOT_FOUND when absent. */
json_t *store_prediction_get(struct store *s, const char *id, struct err *e);

struct store_feedback {
    const char *id; /* uuid */
    const char *prediction_id;
    int score;           /* -1, 0, 1 */
    const char *label;   /* corrected label, or NULL */
    const char *comment; /* or NULL */
    int64_t created_ms;
};
/* Durable when it returns 0: committed with synchronous=FULL. */
int store_feedback_add(struct store *s, const struct store_feedback *f, struct err *e);
json_t *store_feedback_get(struct store *s, const char *id, struct err *e);
/* counts for a task: {"total","positive","negative","neutral","corrected"} */
json_t *store_feedback_stats(struct store *s, const char *task, struct err *e);

#endif
