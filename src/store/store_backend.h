/* The table every store backend fills in. store.c validates arguments, takes
 * the handle's lock and dispatches here, so a backend never locks and never
 * re-checks what store.c already checked; adding PostgreSQL means adding one
 * more table, with no change to any caller. `conn` is the backend's own
 * connection object, returned by its open(). */
#ifndef BOUCLE_STORE_STORE_BACKEND_H
#define BOUCLE_STORE_STORE_BACKEND_H

#include "store/store.h"

struct store_backend {
    const char *name;   /* "sqlite" */
    const char *scheme; /* the URL prefix that selects it: "sqlite:" */

    void *(*open)(const char *url, struct err *e);
    void (*close)(void *conn);
    int (*schema_version)(void *conn);

    int (*dataset_find)(void *conn, const char *task, const char *hash, int64_t *id, struct err *e);
    int (*example_count)(void *conn, const char *task, int64_t *count, struct err *e);
    /* meta is never NULL (store.c passes an empty one) */
    int (*dataset_add)(void *conn, const char *task, const char *hash, const char *source,
                       const struct store_example *rows, size_t n,
                       const struct store_dataset_meta *meta, int64_t *id, struct err *e);
    json_t *(*datasets_list)(void *conn, const char *task, struct err *e);
    /* store_dataset_get's version as a list of it, empty when there is none */
    json_t *(*dataset_get)(void *conn, const char *task, int64_t id, int baseline, struct err *e);
    int (*examples_foreach)(void *conn, const char *task, store_example_cb cb, void *ctx,
                            struct err *e);

    int (*run_create)(void *conn, const char *run_id, const char *task, const char *kind,
                      const char *params_json, struct err *e);
    int (*run_attach)(void *conn, const char *run_id, int64_t experiment_id, const char *run_name,
                      const char *artifact_uri, struct err *e);
    int (*run_finish)(void *conn, const char *run_id, const char *status, const char *metrics_json,
                      struct err *e);
    int (*run_log)(void *conn, const char *run_id, const char *line, struct err *e);
    json_t *(*run_get)(void *conn, const char *run_id, struct err *e);
    json_t *(*runs_list)(void *conn, const char *task, size_t limit, struct err *e);

    /* v->artifact_sha256 and v->boucle_version are always set (store.c
     * computes, checks or defaults them). */
    int (*model_add)(void *conn, const struct store_model_version *v, int64_t *version,
                     struct err *e);
    int (*model_artifact)(void *conn, const char *task, int64_t version, void **data, size_t *len,
                          struct err *e);
    json_t *(*models_list)(void *conn, const char *task, struct err *e);
    int (*alias_set)(void *conn, const char *task, const char *alias, int64_t version,
                     const char *reason, const char *actor, struct err *e);
    int (*alias_get)(void *conn, const char *task, const char *alias, int64_t *version,
                     struct err *e);
    json_t *(*alias_history)(void *conn, const char *task, struct err *e);

    int (*predictions_add)(void *conn, const struct store_prediction *rows, size_t n,
                           struct err *e);
    json_t *(*prediction_get)(void *conn, const char *id, struct err *e);
    int (*feedback_add)(void *conn, const struct store_feedback *f, struct err *e);
    json_t *(*feedback_get)(void *conn, const char *id, struct err *e);
    json_t *(*feedback_stats)(void *conn, const char *task, struct err *e);

    /* the automatic loop */
    int (*run_state_merge)(void *conn, const char *run_id, json_t *patch, struct err *e);
    int (*run_steps_set)(void *conn, const char *run_id, json_t *steps, struct err *e);
    int (*run_status_set)(void *conn, const char *run_id, const char *status, struct err *e);
    int (*runs_reap)(void *conn, int64_t *n_reaped, struct err *e);
    int (*job_enqueue)(void *conn, const char *task, const char *kind, const char *trigger,
                       const char *payload_json, char run_id_out[40], struct err *e);
    /* out is zeroed by store.c */
    int (*job_claim)(void *conn, const char *worker, int64_t lease_ms, struct store_job *out,
                     struct err *e);
    int (*job_heartbeat)(void *conn, int64_t job_id, const char *worker, int64_t lease_ms,
                         struct err *e);
    int (*job_finish)(void *conn, int64_t job_id, const char *status, struct err *e);
    int (*job_cancel)(void *conn, const char *task, const char *kind, struct err *e);
    json_t *(*jobs_list)(void *conn, const char *task, struct err *e);
    json_t *(*feedback_gold_unused)(void *conn, const char *task, struct err *e);
    int (*feedback_gold_unused_count)(void *conn, const char *task, int64_t *n, struct err *e);
    int (*feedback_mark_used)(void *conn, const char *const *feedback_ids, size_t n,
                              const char *run_id, const char *role, struct err *e);
    int (*feedback_satisfaction)(void *conn, const char *task, int64_t since_ms, int64_t *n_scored,
                                 int64_t *n_positive, struct err *e);
    json_t *(*review_queue)(void *conn, const char *task, size_t limit, struct err *e);
    json_t *(*feedback_export)(void *conn, const char *task, struct err *e);
    int (*task_times)(void *conn, const char *task, int64_t *last_retrain_ms,
                      int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e);
    /* reason is never NULL here (store.c defaults it); actor may be */
    int (*alias_deploy)(void *conn, const char *task, int64_t version, const char *reason,
                        const char *actor, struct err *e);
    int (*alias_rollback)(void *conn, const char *task, const char *reason, const char *actor,
                          int64_t *now_serving, struct err *e);
    /* Champion moves (store_listen_aliases, store_wait_alias_change); NULL:
     * store.c answers 0 (no notifications, e.g. a backend without them). */
    int (*listen_aliases)(void *conn, struct err *e);
    int (*wait_alias_change)(void *conn, int timeout_ms, struct err *e);
    /* MLflow tracking (issue 4). A backend may leave these NULL: store.c then
     * answers ERR_INTERNAL "not supported by this backend". */
    int (*experiment_create)(void *conn, const char *name, const char *artifact_location,
                             const struct store_kv *tags, size_t n_tags, int64_t *id,
                             struct err *e);
    json_t *(*experiment_get)(void *conn, int64_t id, const char *name, struct err *e);
    json_t *(*experiments_list)(void *conn, const char *lifecycle_stage, struct err *e);
    int (*experiment_update)(void *conn, int64_t id, const char *new_name,
                             const char *lifecycle_stage, struct err *e);
    int (*experiment_tag_set)(void *conn, int64_t id, const char *key, const char *value,
                              struct err *e);
    int (*mlflow_run_create)(void *conn, const struct store_mlflow_run *r, struct err *e);
    json_t *(*mlflow_run_get)(void *conn, const char *run_id, struct err *e);
    json_t *(*mlflow_runs_get)(void *conn, const char *const *run_ids, size_t n, struct err *e);
    int (*mlflow_runs_scan)(void *conn, const struct store_mlflow_scan *q, struct store_scan *out,
                            struct err *e);
    int (*mlflow_run_update)(void *conn, const char *run_id, const struct store_mlflow_run_patch *p,
                             struct err *e);
    int (*mlflow_run_log)(void *conn, const char *run_id, const struct store_metric *metrics,
                          size_t n_metrics, const struct store_kv *params, size_t n_params,
                          const struct store_kv *tags, size_t n_tags, struct err *e);
    int (*mlflow_tag_delete)(void *conn, const char *run_id, const char *key, struct err *e);
    json_t *(*mlflow_metric_history)(void *conn, const char *run_id, const char *key,
                                     struct err *e);
    /* MLflow registry and run artifacts (issue 4); NULL: store.c answers
     * ERR_INTERNAL. store.c checks names, versions and paths. */
    int (*registered_model_create)(void *conn, const char *name, const char *description,
                                   const struct store_kv *tags, size_t n_tags, struct err *e);
    json_t *(*registered_models_list)(void *conn, const char *name, struct err *e);
    int (*registered_model_update)(void *conn, const char *name, const char *new_name,
                                   const char *description, struct err *e);
    int (*registered_model_delete)(void *conn, const char *name, struct err *e);
    int (*registered_model_tag)(void *conn, const char *name, const char *key, const char *value,
                                struct err *e);
    int (*model_version_create)(void *conn, const struct store_mlflow_version *v, int64_t *version,
                                struct err *e);
    json_t *(*model_versions_list)(void *conn, const char *name, int64_t version, struct err *e);
    int (*model_version_update)(void *conn, const char *name, int64_t version,
                                const char *description, const char *stage, int archive_others,
                                struct err *e);
    int (*model_version_delete)(void *conn, const char *name, int64_t version, const char *actor,
                                struct err *e);
    int (*model_version_tag)(void *conn, const char *name, int64_t version, const char *key,
                             const char *value, struct err *e);
    int (*model_alias_delete)(void *conn, const char *name, const char *alias, const char *reason,
                              const char *actor, struct err *e);
    int (*artifact_put)(void *conn, const char *run_id, const char *path, const void *data,
                        size_t len, const char *sha256, struct err *e);
    int (*artifact_get)(void *conn, const char *run_id, const char *path, void **data, size_t *len,
                        char sha256_out[65], struct err *e);
    json_t *(*artifacts_list)(void *conn, const char *run_id, struct err *e);
    int (*artifact_delete)(void *conn, const char *run_id, const char *path, struct err *e);
    /* Shadow and canary rollouts (issue 6); store.c checks the arguments. */
    int (*rollout_start)(void *conn, const struct store_rollout_start *r, int64_t *id,
                         struct err *e);
    int (*rollout_active)(void *conn, const char *task, struct store_rollout *out, struct err *e);
    int (*rollout_end)(void *conn, int64_t id, const char *status, const char *reason,
                       const char *decision_json, struct err *e);
    int (*rollout_stats)(void *conn, const struct store_rollout *r, struct store_rollout_stats *out,
                         struct err *e);
    json_t *(*rollouts_list)(void *conn, const char *task, size_t limit, struct err *e);
};

extern const struct store_backend sqlite_store_backend;
extern const struct store_backend pg_store_backend;

#endif
