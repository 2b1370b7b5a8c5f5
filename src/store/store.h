/* The store: the only module with SQL. One interface, backends behind it
 * (SQLite now; PostgreSQL next). Every function is safe to call from several
 * threads on one handle (each takes the handle's lock); multi-statement
 * writes are one transaction. Returns 0 on success, -1 with `e` filled. */
#ifndef BOUCLE_STORE_STORE_H
#define BOUCLE_STORE_STORE_H

#include "base/arena.h"
#include "base/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* url: "sqlite:/abs/path/file.db" (creates the file, enables WAL) or
 * "postgres://user@host:port/db" (also postgresql://; the database must
 * exist). Runs the numbered migrations; refuses a database whose schema is
 * newer than this binary's. */
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
/* What a dataset version keeps beside its rows (schema 8): its profile
 * (data_profile_version's JSON) and the contract check it passed or was
 * warned about (the differences from the previous version); either may be
 * NULL. Versions stored before schema 8 have neither. */
struct store_dataset_meta {
    const char *profile_json;
    const char *contract_json;
};
/* store_dataset_add with the meta, in the same transaction. */
int store_dataset_add_meta(struct store *s, const char *task, const char *hash, const char *source,
                           const struct store_example *rows, size_t n,
                           const struct store_dataset_meta *meta, int64_t *id, struct err *e);
/* One version of the task: {"id","task","hash","source","rows","train_rows","test_rows",
 * "created_at","profile","contract"} (the last two null when not stored). id > 0: that
 * version; 0: the latest. `baseline`: the latest imported from a file (not made from
 * feedback, whose source is "feedback:<run>") that has a profile — what the next
 * import's contract is checked against. NULL with ERR_NOT_FOUND when there is none. */
json_t *store_dataset_get(struct store *s, const char *task, int64_t id, int baseline,
                          struct err *e);
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
/* Puts a boucle run into an MLflow experiment under a run name, with the
 * user "boucle" and the artifact URI MLflow clients expect (store.c does it
 * for every new run: see run_mirror.h). ERR_NOT_FOUND when absent. */
int store_run_attach(struct store *s, const char *run_id, int64_t experiment_id,
                     const char *run_name, struct err *e);
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
    const char *boucle_version; /* the build that trained it; NULL: this one (base/version.h) */
};
/* Versions count 1, 2, 3... per task. */
int store_model_add(struct store *s, const struct store_model_version *v, int64_t *version,
                    struct err *e);
/* The artifact bytes (caller frees *data). ERR_NOT_FOUND when absent. */
int store_model_artifact(struct store *s, const char *task, int64_t version, void **data,
                         size_t *len, struct err *e);
/* [{"task","version","run_id","dataset_hash","config_hash","boucle_version","kind","sha256",
 *   "size","metrics","aliases":[..],"created_at"}] newest first (boucle_version is null
 * for versions registered through MLflow or before schema 5) */
json_t *store_models_list(struct store *s, const char *task, struct err *e);
int store_alias_set(struct store *s, const char *task, const char *alias, int64_t version,
                    struct err *e);
/* 1 and *version when set, 0 when not, -1 on error. */
int store_alias_get(struct store *s, const char *task, const char *alias, int64_t *version,
                    struct err *e);
/* store_alias_set with why and who, kept in the alias history: reason ("deploy",
 * "rollback", "gate passed: f1 +0.03") and actor ("cli:alice", "token:ci", "loop");
 * either may be NULL. store_alias_set is this with both NULL.
 * ERR_NOT_FOUND (field "version") when the task has no such version. */
int store_alias_set_reason(struct store *s, const char *task, const char *alias, int64_t version,
                           const char *reason, const char *actor, struct err *e);
/* Every alias move of the task (all tasks when NULL), newest first:
 * [{"id","task","alias","from_version" (null the first time),"to_version" (null when
 *   the alias was removed),"reason","actor" (null when not known),"changed_at"}] */
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
    /* During a shadow or canary rollout (issue 6): the rollout every
     * prediction made under it carries (0: none), and for a shadow answer,
     * logged but never returned, the id of the answered prediction (NULL
     * for an answer). */
    int64_t rollout_id;
    const char *shadow_of;
};
/* All rows in one transaction (the log writer's group commit). */
int store_predictions_add(struct store *s, const struct store_prediction *rows, size_t n,
                          struct err *e);
/* {"id","task","model_version","input","label","output","latency_us","created_at",
 *  "rollout_id" (or null),"shadow_of" (or null)}; NULL with ERR_NOT_FOUND when absent. */
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

/* ---- the automatic loop (issue 3) ---- */

/* Run state: a JSON object the pipeline's steps share (challenger version,
 * dataset, decision...), and the per-step status list. */
/* Merges `patch` (an object) into the run's state. */
int store_run_state_merge(struct store *s, const char *run_id, json_t *patch, struct err *e);
/* Replaces the run's steps: [{"name","status","attempts","started_at","ended_at","error"}]. */
int store_run_steps_set(struct store *s, const char *run_id, json_t *steps, struct err *e);
/* Sets status without ending the run ("pending" -> "running"). */
int store_run_status_set(struct store *s, const char *run_id, const char *status, struct err *e);
/* Marks runs still "running"/"pending" whose job is finished or gone as failed
 * (called at worker start and by the scheduler); returns how many. */
int store_runs_reap(struct store *s, int64_t *n_reaped, struct err *e);
/* store_run_get also returns "state" and "steps"; store_runs_list "trigger". */

/* Jobs: a queue with leases. One queued-or-running job of a kind per task. */
struct store_job {
    int64_t id;
    char task[72];
    char kind[32];      /* "retrain" */
    char run_id[40];    /* the run this job executes */
    char *payload_json; /* owned by the struct: free with store_job_clear */
    int attempts;       /* including the current one */
    int64_t lease_until_ms;
};
void store_job_clear(struct store_job *j);
/* Creates the run (status "pending", kind = job kind, params = payload) and
 * the job in one transaction. ERR_CONFLICT when the task already has a
 * queued or running job of this kind (the message names its run). */
int store_job_enqueue(struct store *s, const char *task, const char *kind, const char *trigger,
                      const char *payload_json, char run_id_out[40], struct err *e);
/* Claims the oldest queued job, or a running one whose lease expired
 * (its worker died), for `worker`; attempts is incremented. 1 claimed, 0 none. */
int store_job_claim(struct store *s, const char *worker, int64_t lease_ms, struct store_job *out,
                    struct err *e);
/* Extends the lease; ERR_CONFLICT when the job is no longer this worker's
 * (lease lost, or cancelled: then the worker must stop). */
int store_job_heartbeat(struct store *s, int64_t job_id, const char *worker, int64_t lease_ms,
                        struct err *e);
/* status: "completed" | "failed" | "cancelled". */
int store_job_finish(struct store *s, int64_t job_id, const char *status, struct err *e);
/* Cancels the task's queued or running job of that kind (and its run); 1 if one was. */
int store_job_cancel(struct store *s, const char *task, const char *kind, struct err *e);
/* [{"id","task","kind","run_id","status","attempts","worker","lease_until","created_at"}] */
json_t *store_jobs_list(struct store *s, const char *task, struct err *e);

/* Feedback as training signal. Gold = a corrected label, or score 1 without
 * a label (confirms the predicted label). Only the latest feedback of a
 * prediction counts. */
/* [{"feedback_id","prediction_id","input","label","created_at"}] for gold
 * feedback of the task not yet used by any run, oldest first. */
json_t *store_feedback_gold_unused(struct store *s, const char *task, struct err *e);
int store_feedback_gold_unused_count(struct store *s, const char *task, int64_t *n, struct err *e);
/* Marks feedback as used by a run (role "train" or "holdout"). */
int store_feedback_mark_used(struct store *s, const char *const *feedback_ids, size_t n,
                             const char *run_id, const char *role, struct err *e);
/* Scored feedback (score != 0) of the task since since_ms: how many, how many +1. */
int store_feedback_satisfaction(struct store *s, const char *task, int64_t since_ms,
                                int64_t *n_scored, int64_t *n_positive, struct err *e);
/* Predictions with a -1 and no corrected label (latest feedback), newest first:
 * [{"prediction_id","input","label","score","comment","created_at"}] */
json_t *store_review_queue(struct store *s, const char *task, size_t limit, struct err *e);
/* For `boucle export --what preferences`: every feedback of the task joined to
 * its prediction: [{"input","predicted","label"|null,"score","created_at"}]. */
json_t *store_feedback_export(struct store *s, const char *task, struct err *e);

/* Loop bookkeeping: times of the task's last retrain run start and last
 * champion change (0 when none). */
int store_task_times(struct store *s, const char *task, int64_t *last_retrain_ms,
                     int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e);

/* Deploy: previous <- current champion, champion <- version, in one
 * transaction with history (reason, actor: as store_alias_set_reason).
 * Rollback: champion <- previous and previous <- the old champion.
 * ERR_NOT_FOUND when there is no previous. */
int store_alias_deploy(struct store *s, const char *task, int64_t version, const char *reason,
                       const char *actor, struct err *e);
int store_alias_rollback(struct store *s, const char *task, const char *reason, const char *actor,
                         int64_t *now_serving, struct err *e);

/* Champion moves across processes. With PostgreSQL every alias_set, deploy
 * or rollback that moves `champion` sends NOTIFY boucle_alias '<task>' when
 * it commits. store_listen_aliases subscribes this handle (once; SQLite: a
 * no-op). store_wait_alias_change waits up to timeout_ms: 1 when one or more
 * moves were announced (all drained), 0 on timeout (SQLite: sleeps
 * timeout_ms, then 0, so a caller polls store_alias_get), -1 on error. The
 * wait holds the handle's lock: give the watcher a handle of its own. */
int store_listen_aliases(struct store *s, struct err *e);
int store_wait_alias_change(struct store *s, int timeout_ms, struct err *e);

/* ---- MLflow tracking (issue 4) ---- */
/* MLflow experiments and runs. MLflow runs are runs like boucle's own (one
 * id space, one metric table); their status uses boucle's vocabulary
 * (running, completed, failed, cancelled, pending). Lifecycle stages are
 * "active" or "deleted". Experiment 0, "Default", always exists. */
struct store_kv {
    const char *key;
    const char *value;
};
struct store_metric {
    const char *key;
    double value; /* NaN and +-Inf allowed */
    int64_t timestamp;
    int64_t step;
};

/* artifact_location NULL: "mlflow-artifacts:/<id>". ERR_CONFLICT (field
 * "name") when the name is taken, by an active or a deleted experiment. */
int store_experiment_create(struct store *s, const char *name, const char *artifact_location,
                            const struct store_kv *tags, size_t n_tags, int64_t *id, struct err *e);
/* By name when name is not NULL, else by id: {"id" (integer), "name",
 * "artifact_location", "lifecycle_stage", "creation_time", "last_update_time"
 * (ms), "tags": [{"key","value"}]}. ERR_NOT_FOUND when absent. */
json_t *store_experiment_get(struct store *s, int64_t id, const char *name, struct err *e);
/* Every experiment in that lifecycle stage (NULL: all), by id, shaped as above. */
json_t *store_experiments_list(struct store *s, const char *lifecycle_stage, struct err *e);
/* Renames (new_name) and/or moves to a lifecycle stage (NULL: unchanged); a
 * stage change applies to the experiment's runs too. ERR_NOT_FOUND,
 * ERR_CONFLICT (field "new_name") when the name is taken. */
int store_experiment_update(struct store *s, int64_t id, const char *new_name,
                            const char *lifecycle_stage, struct err *e);
int store_experiment_tag_set(struct store *s, int64_t id, const char *key, const char *value,
                             struct err *e);

struct store_mlflow_run {
    const char *run_id;
    int64_t experiment_id;
    const char *run_name; /* may be NULL */
    const char *user_id;  /* may be NULL */
    int64_t start_time;   /* ms */
    const char *artifact_uri;
    const struct store_kv *tags;
    size_t n_tags;
};
/* Status "running". ERR_NOT_FOUND (field "experiment_id") for an unknown experiment. */
int store_mlflow_run_create(struct store *s, const struct store_mlflow_run *r, struct err *e);
/* {"run_id","experiment_id" (integer, null for a boucle run),"run_name","user_id","status",
 *  "start_time","end_time" (ms or null),"artifact_uri","lifecycle_stage",
 *  "params":[{"key","value"}] and "tags":[...] by key,
 *  "metrics":[{"key","value","timestamp","step"}]: every point, by key, step, timestamp}.
 * A metric value is a number, or the string "NaN", "Infinity" or "-Infinity".
 * ERR_NOT_FOUND (field "run_id") when absent. */
json_t *store_mlflow_run_get(struct store *s, const char *run_id, struct err *e);
/* The runs with those ids, shaped as store_mlflow_run_get, in any order
 * (an unknown id is skipped): the page a search returns, in four queries. */
json_t *store_mlflow_runs_get(struct store *s, const char *const *run_ids, size_t n, struct err *e);

/* What a run search needs of every candidate run, and no more: the
 * attributes, and the latest value of only the metrics, params and tags its
 * filter and order name. One query whatever the number of runs. */
/* A condition the scan may apply in SQL to skip runs early: a run is kept
 * only when it has the key with a value that compares so. The caller still
 * evaluates its full filter on what comes back, so a backend may treat the
 * conditions as a superset (PostgreSQL's NaN passes `>`). */
enum store_scan_entity { STORE_SCAN_METRIC, STORE_SCAN_PARAM, STORE_SCAN_TAG };
enum store_scan_op { STORE_SCAN_EQ, STORE_SCAN_GT, STORE_SCAN_GE, STORE_SCAN_LT, STORE_SCAN_LE };
struct store_scan_cond {
    enum store_scan_entity entity;
    const char *key;
    enum store_scan_op op; /* params and tags: STORE_SCAN_EQ only */
    double number;         /* metrics */
    const char *text;      /* params and tags: compared bytewise */
};

struct store_mlflow_scan {
    const int64_t *experiment_ids;
    size_t n_experiments;
    const char *lifecycle_stage; /* NULL: every stage */
    const char *const *metric_keys;
    size_t n_metric_keys;
    const char *const *param_keys;
    size_t n_param_keys;
    const char *const *tag_keys;
    size_t n_tag_keys;
    const struct store_scan_cond *conds; /* all must hold */
    size_t n_conds;
};
#define STORE_SCAN_MAX_KEYS 100 /* metric + param + tag keys, and conditions, in one scan */

struct store_scan_row {
    const char *run_id, *run_name, *user_id, *artifact_uri;
    const char *status;           /* boucle's vocabulary, as store_mlflow_run_get */
    int64_t start_time, end_time; /* ms; end_time 0 when the run has not ended */
    double *metrics;              /* [n_metric_keys]: the latest value, NAN for NaN */
    unsigned char *has_metric;    /* [n_metric_keys]: 0 when the run lacks the key */
    const char **params;          /* [n_param_keys]: NULL when absent */
    const char **tags;            /* [n_tag_keys]: NULL when absent */
};

struct store_scan {
    struct store_scan_row *rows;
    size_t n;
    struct arena arena; /* every string and array of the rows */
};

/* Fills *out (freed with store_scan_free, also after an error). ERR_INVALID
 * (field "filter") beyond STORE_SCAN_MAX_KEYS keys. */
int store_mlflow_runs_scan(struct store *s, const struct store_mlflow_scan *q,
                           struct store_scan *out, struct err *e);
void store_scan_free(struct store_scan *scan);
struct store_mlflow_run_patch {
    const char *status;          /* NULL: unchanged */
    int has_end_time;            /* else end_time is unchanged */
    int64_t end_time;            /* ms */
    const char *run_name;        /* NULL: unchanged; also sets the tag mlflow.runName */
    const char *lifecycle_stage; /* NULL: unchanged */
};
int store_mlflow_run_update(struct store *s, const char *run_id,
                            const struct store_mlflow_run_patch *p, struct err *e);
/* Logs metric points, params and tags (set: a tag's new value replaces the
 * old) to an active run in one transaction: all or nothing. A param already
 * logged with another value is ERR_CONFLICT (field: the key); a deleted run is
 * ERR_INVALID; an unknown one ERR_NOT_FOUND. */
int store_mlflow_run_log(struct store *s, const char *run_id, const struct store_metric *metrics,
                         size_t n_metrics, const struct store_kv *params, size_t n_params,
                         const struct store_kv *tags, size_t n_tags, struct err *e);
/* ERR_NOT_FOUND (field "key") when the run has no such tag. */
int store_mlflow_tag_delete(struct store *s, const char *run_id, const char *key, struct err *e);
/* Every point of one metric: [{"key","value","timestamp","step"}] by timestamp, step. */
json_t *store_mlflow_metric_history(struct store *s, const char *run_id, const char *key,
                                    struct err *e);

/* ---- MLflow model registry and run artifacts (issue 4) ---- */
/* A registered model is a task: its versions are model_versions rows (the
 * ones boucle trains and the ones MLflow creates, which carry no artifact),
 * its aliases are boucle's (set them with store_alias_set_reason /
 * store_alias_deploy). Every task with a version is a registered model. */
/* ERR_CONFLICT (field "name") when the name exists. */
int store_registered_model_create(struct store *s, const char *name, const char *description,
                                  const struct store_kv *tags, size_t n_tags, struct err *e);
/* [{"name","description" (or null),"creation_timestamp","last_updated_timestamp" (ms),
 *   "tags":[{"key","value"}],"aliases":[{"alias","version" (integer)}]}] by name; name
 * NULL: every model. store_registered_model_get: that one, ERR_NOT_FOUND when absent. */
json_t *store_registered_models_list(struct store *s, const char *name, struct err *e);
json_t *store_registered_model_get(struct store *s, const char *name, struct err *e);
/* Renames (new_name; ERR_CONFLICT when taken, ERR_INVALID when the model has a
 * champion: servers serve it under its task name) and/or sets the description
 * (NULL: unchanged). ERR_NOT_FOUND when absent. */
int store_registered_model_update(struct store *s, const char *name, const char *new_name,
                                  const char *description, struct err *e);
/* Deletes the model with its versions, tags and aliases; ERR_INVALID when it
 * has a champion. */
int store_registered_model_delete(struct store *s, const char *name, struct err *e);
/* Sets a tag (value NULL: deletes it; ERR_NOT_FOUND when it has no such tag). */
int store_registered_model_tag(struct store *s, const char *name, const char *key,
                               const char *value, struct err *e);

struct store_mlflow_version {
    const char *name;
    const char *source;
    const char *run_id; /* NULL or an existing run (ERR_NOT_FOUND "run_id" else) */
    const char *run_link;
    const char *description;
    const char *user_id;
    const struct store_kv *tags;
    size_t n_tags;
};
/* The next version of the model (created when absent), kind "mlflow". */
int store_model_version_create(struct store *s, const struct store_mlflow_version *v,
                               int64_t *version, struct err *e);
/* [{"name","version" (integer),"creation_timestamp","last_updated_timestamp","user_id",
 *   "current_stage","description","source","run_id","run_link","kind","size",
 *   "tags":[{"key","value"}],"aliases":[names]}] by name, version descending. name NULL:
 * every model's. store_model_version_get: one, ERR_NOT_FOUND when absent. */
json_t *store_model_versions_list(struct store *s, const char *name, struct err *e);
json_t *store_model_version_get(struct store *s, const char *name, int64_t version, struct err *e);
/* Sets the description and/or the stage (NULL: unchanged); archive_others moves
 * the model's other versions in that stage to "Archived". */
int store_model_version_update(struct store *s, const char *name, int64_t version,
                               const char *description, const char *stage, int archive_others,
                               struct err *e);
/* Deletes a version with its tags and aliases (each removal recorded in the
 * alias history, by actor); ERR_INVALID when it is the champion. */
int store_model_version_delete(struct store *s, const char *name, int64_t version,
                               const char *actor, struct err *e);
int store_model_version_tag(struct store *s, const char *name, int64_t version, const char *key,
                            const char *value, struct err *e);
/* Removes an alias, recorded in the alias history with reason and actor
 * (ERR_NOT_FOUND when unset; ERR_INVALID for "champion"). */
int store_model_alias_delete(struct store *s, const char *name, const char *alias,
                             const char *reason, const char *actor, struct err *e);

/* Run artifacts: blobs keyed by (run_id, path); path is relative and
 * normalised (the caller checks it). Put replaces. ERR_NOT_FOUND for an
 * unknown run (field "run_id") or artifact (field "path"). */
int store_artifact_put(struct store *s, const char *run_id, const char *path, const void *data,
                       size_t len, struct err *e);
/* The bytes (caller frees *data; never NULL, even when empty) and their sha256. */
int store_artifact_get(struct store *s, const char *run_id, const char *path, void **data,
                       size_t *len, char sha256_out[65], struct err *e);
/* Every artifact of the run: [{"path","size","sha256"}] by path. */
json_t *store_artifacts_list(struct store *s, const char *run_id, struct err *e);
int store_artifact_delete(struct store *s, const char *run_id, const char *path, struct err *e);

/* ---- shadow and canary rollouts (issue 6) ---- */
/* A rollout puts a challenger version beside the task's champion: in
 * "shadow" it scores the traffic without answering, in "canary" it answers
 * `percent` % of the requests. At most one is active per task; it ends
 * "promoted" (the challenger became champion), "rolled_back" (removed after
 * doing worse) or "stopped" (by hand, or the champion moved meanwhile).
 * Starting and ending one wake the servers like a champion move (NOTIFY on
 * PostgreSQL, the alias poll on SQLite). */
struct store_rollout {
    int64_t id;
    char task[72];
    char strategy[16]; /* "shadow" | "canary" */
    int64_t challenger_version;
    int64_t champion_version; /* the champion when it started */
    int percent;              /* canary: 1..99; shadow: 0 */
    int64_t min_feedback;     /* canary: judged predictions per side before a decision */
    char status[16];          /* "active" | "promoted" | "rolled_back" | "stopped" */
    int64_t started_ms, ended_ms;
};
struct store_rollout_start {
    const char *task;
    const char *strategy;
    int64_t challenger_version;
    int percent;
    int64_t min_feedback;
    const char *reason; /* why it started; may be NULL */
    const char *run_id; /* the run that started it; may be NULL */
};
/* Records the task's current champion with it. ERR_CONFLICT when the task
 * already has an active rollout (the message names it); ERR_NOT_FOUND (field
 * "version") for an unknown version; ERR_INVALID when the task has no
 * champion or the version is the champion. */
int store_rollout_start(struct store *s, const struct store_rollout_start *r, int64_t *id,
                        struct err *e);
/* The task's active rollout: 1 and *out, 0 when none, -1 on error. */
int store_rollout_active(struct store *s, const char *task, struct store_rollout *out,
                         struct err *e);
/* Ends rollout `id` if it is still active, with status "promoted",
 * "rolled_back" or "stopped", the reason and the decision's numbers (a JSON
 * object text, may be NULL). "promoted" also deploys the challenger
 * (previous <- champion, champion <- challenger, `reason` in the alias
 * history) in the same transaction, unless it is already the champion.
 * 1 when this call ended it, 0 when it was no longer active (another
 * process decided first), -1 on error. */
int store_rollout_end(struct store *s, int64_t id, const char *status, const char *reason,
                      const char *decision_json, struct err *e);
/* One model's live record in a rollout: predictions it made, how many of
 * them a feedback judged, how many of those it got right. A prediction is
 * judged by its latest feedback: a corrected label (right when equal), else a
 * score of 1 (right) or -1 (wrong); a score of 0 judges nothing. */
struct store_rollout_arm {
    int64_t predictions, judged, correct;
};
/* A shadow's answers are judged by the truth their answered twin's feedback
 * gives: a corrected label, or the answered label confirmed by a 1 (a -1
 * without a label says the champion was wrong, not what is right, so that
 * pair is left out). `paired` counts those pairs, and `champion_paired` the
 * champion's right answers among them: both models on the same examples. */
struct store_rollout_stats {
    struct store_rollout_arm champion, challenger;
    int64_t compared, agreed;        /* shadow: answered twins found, same label */
    int64_t paired, champion_paired; /* shadow: as above */
};
int store_rollout_stats(struct store *s, const struct store_rollout *r,
                        struct store_rollout_stats *out, struct err *e);
/* The task's rollouts (all tasks when NULL), newest first, at most limit (0: all):
 * [{"id","task","strategy","challenger_version","champion_version","percent",
 *   "min_feedback","status","reason","run_id","outcome","decision","started_at",
 *   "ended_at"}] */
json_t *store_rollouts_list(struct store *s, const char *task, size_t limit, struct err *e);

#endif
