/* The store interface: checks arguments, takes the handle's lock for the
 * whole call and dispatches to the backend chosen by the URL. Everything
 * backend-independent (argument checks, artifact checksum) lives here so each
 * backend only translates calls into its own SQL. */
#include "store/store.h"
#include "store/run_mirror.h"
#include "store/store_backend.h"

#include "base/version.h"
#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

struct store {
    const struct store_backend *ops;
    void *conn;
    /* Recursive so that an examples_foreach callback may call back into the
     * same handle from the same thread instead of deadlocking. */
    pthread_mutex_t lock;
};

static const struct store_backend *const backends[] = {&sqlite_store_backend, &pg_store_backend};

static void lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
}

static void unlock(struct store *s)
{
    pthread_mutex_unlock(&s->lock);
}

/* The tail of every entry point below, once its arguments are checked:
 * calls the backend's `op` with the connection and the remaining arguments
 * while holding the handle's lock, and returns what it returned. A macro
 * because the operations differ in argument and result types; `type` is the
 * result type. */
#define RETURN_LOCKED(type, s, op, ...)                                                            \
    do {                                                                                           \
        lock(s);                                                                                   \
        type locked_result_ = (s)->ops->op((s)->conn, __VA_ARGS__);                                \
        unlock(s);                                                                                 \
        return locked_result_;                                                                     \
    } while (0)

/* A required text argument: present and non-empty. */
static int need(const char *value, const char *field, struct err *e)
{
    if (value && *value) return 0;
    return err_set_field(e, ERR_INVALID, field, "%s is required", field);
}

/* Optional JSON text argument: NULL or a parseable JSON document, so that
 * readers can always embed it as a value. */
static int need_json(const char *text, const char *field, struct err *e)
{
    if (!text) return 0;
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v)
        return err_set_field(e, ERR_INVALID, field, "%s is not valid JSON: %s (column %d)", field,
                             je.text, je.column);
    json_decref(v);
    return 0;
}

/* A status that ends a run or a job. */
static int need_end_status(const char *status, const char *noun, struct err *e)
{
    if (need(status, "status", e)) return -1;
    if (str_eq(status, "completed") || str_eq(status, "failed") || str_eq(status, "cancelled"))
        return 0;
    return err_set_field(e, ERR_INVALID, "status",
                         "%s status '%s' is not one of completed, failed, cancelled", noun, status);
}

static int need_version(int64_t version, struct err *e)
{
    if (version >= 1) return 0;
    return err_set_field(e, ERR_INVALID, "version", "model version must be >= 1, not %lld",
                         (long long)version);
}

static int need_lease(int64_t lease_ms, struct err *e)
{
    if (lease_ms > 0) return 0;
    return err_set_field(e, ERR_INVALID, "lease_ms", "lease must be > 0 ms, not %lld",
                         (long long)lease_ms);
}

/* A required output pointer. */
static int need_out(const void *p, const char *what, struct err *e)
{
    if (p) return 0;
    return err_set(e, ERR_USAGE, "%s: no output pointer", what);
}

static int need_handle(struct store *s, struct err *e)
{
    if (s) return 0;
    return err_set(e, ERR_USAGE, "store is not open");
}

#define STORE_URL_FORMS "sqlite:PATH or postgres://USER@HOST:PORT/DB"

struct store *store_open(const char *url, struct err *e)
{
    if (!url || !*url) {
        err_set(e, ERR_INVALID, "store URL is empty: use " STORE_URL_FORMS);
        return NULL;
    }
    const struct store_backend *ops = NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (str_starts_with(url, backends[i]->scheme)) ops = backends[i];
    if (!ops) {
        err_set(e, ERR_INVALID, "unsupported store URL '%s': use " STORE_URL_FORMS, url);
        return NULL;
    }
    void *conn = ops->open(url, e);
    if (!conn) return NULL;

    struct store *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->conn = conn;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return s;
}

void store_close(struct store *s)
{
    if (!s) return;
    s->ops->close(s->conn);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int store_schema_version(struct store *s)
{
    if (!s) return -1;
    lock(s);
    int v = s->ops->schema_version(s->conn);
    unlock(s);
    return v;
}

/* ---- datasets and examples ---- */

int store_dataset_find(struct store *s, const char *task, const char *hash, int64_t *id,
                       struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need(hash, "hash", e)) return -1;
    RETURN_LOCKED(int, s, dataset_find, task, hash, id, e);
}

int store_example_count(struct store *s, const char *task, int64_t *count, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return -1;
    RETURN_LOCKED(int, s, example_count, task, count, e);
}

int store_dataset_add(struct store *s, const char *task, const char *hash, const char *source,
                      const struct store_example *rows, size_t n, int64_t *id, struct err *e)
{
    static const struct store_dataset_meta none = {0};
    return store_dataset_add_meta(s, task, hash, source, rows, n, &none, id, e);
}

int store_dataset_add_meta(struct store *s, const char *task, const char *hash, const char *source,
                           const struct store_example *rows, size_t n,
                           const struct store_dataset_meta *meta, int64_t *id, struct err *e)
{
    static const struct store_dataset_meta none = {0};
    if (need_handle(s, e) || need(task, "task", e) || need(hash, "hash", e)) return -1;
    if (n && !rows) return err_set(e, ERR_USAGE, "dataset_add: %zu rows but no array", n);
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].input_json)
            return err_set_field(e, ERR_INVALID, "input", "example %zu (line %lld): no input", i,
                                 (long long)rows[i].line);
        if (rows[i].split != 0 && rows[i].split != 1)
            return err_set_field(e, ERR_INVALID, "split",
                                 "example %zu (line %lld): split must be 0 (train) or 1 (test)", i,
                                 (long long)rows[i].line);
    }
    RETURN_LOCKED(int, s, dataset_add, task, hash, source, rows, n, meta ? meta : &none, id, e);
}

json_t *store_dataset_get(struct store *s, const char *task, int64_t id, int baseline,
                          struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return NULL;
    if (id < 0) {
        err_set_field(e, ERR_INVALID, "id", "dataset id must be positive, got %lld", (long long)id);
        return NULL;
    }
    lock(s);
    json_t *list = s->ops->dataset_get(s->conn, task, id, baseline != 0, e);
    unlock(s);
    if (!list) return NULL;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    if (one) return one;
    if (baseline)
        err_set(e, ERR_NOT_FOUND, "task '%s' has no dataset version with a profile", task);
    else if (id)
        err_set_field(e, ERR_NOT_FOUND, "id", "task '%s' has no dataset %lld", task, (long long)id);
    else
        err_set(e, ERR_NOT_FOUND, "task '%s' has no dataset", task);
    return NULL;
}

json_t *store_datasets_list(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED(json_t *, s, datasets_list, task, e);
}

int store_examples_foreach(struct store *s, const char *task, store_example_cb cb, void *ctx,
                           struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return -1;
    if (!cb) return err_set(e, ERR_USAGE, "examples_foreach: no callback");
    RETURN_LOCKED(int, s, examples_foreach, task, cb, ctx, e);
}

/* ---- runs ---- */

int store_run_create(struct store *s, const char *run_id, const char *task, const char *kind,
                     const char *params_json, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(task, "task", e) ||
        need(kind, "kind", e) || need_json(params_json, "params", e))
        return -1;
    lock(s);
    int rc = s->ops->run_create(s->conn, run_id, task, kind, params_json, e);
    unlock(s);
    if (rc == 0) run_mirror_started(s, run_id, task, kind, params_json);
    return rc;
}

int store_run_attach(struct store *s, const char *run_id, int64_t experiment_id,
                     const char *run_name, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(run_name, "run_name", e)) return -1;
    char uri[200];
    snprintf(uri, sizeof uri, "mlflow-artifacts:/%lld/%.64s/artifacts", (long long)experiment_id,
             run_id);
    RETURN_LOCKED(int, s, run_attach, run_id, experiment_id, run_name, uri, e);
}

int store_run_finish(struct store *s, const char *run_id, const char *status,
                     const char *metrics_json, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need_end_status(status, "run", e) ||
        need_json(metrics_json, "metrics", e))
        return -1;
    lock(s);
    int rc = s->ops->run_finish(s->conn, run_id, status, metrics_json, e);
    unlock(s);
    if (rc == 0) run_mirror_finished(s, run_id, metrics_json);
    return rc;
}

int store_run_log(struct store *s, const char *run_id, const char *line, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return -1;
    if (!line) return err_set_field(e, ERR_INVALID, "line", "line is required");
    RETURN_LOCKED(int, s, run_log, run_id, line, e);
}

json_t *store_run_get(struct store *s, const char *run_id, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return NULL;
    RETURN_LOCKED(json_t *, s, run_get, run_id, e);
}

json_t *store_runs_list(struct store *s, const char *task, size_t limit, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED(json_t *, s, runs_list, task, limit, e);
}

/* ---- model registry ---- */

int store_model_add(struct store *s, const struct store_model_version *v, int64_t *version,
                    struct err *e)
{
    if (need_handle(s, e)) return -1;
    if (!v) return err_set(e, ERR_USAGE, "model_add: no version");
    if (need(v->task, "task", e) || need(v->kind, "kind", e) ||
        need_json(v->metrics_json, "metrics", e))
        return -1;
    if (v->artifact_len && !v->artifact)
        return err_set_field(e, ERR_INVALID, "artifact", "artifact of %zu bytes has no data",
                             v->artifact_len);
    /* The checksum is what a server verifies before swapping a model in, so
     * it is computed here from the bytes actually stored, and a caller's
     * value that disagrees means the artifact was damaged on its way. */
    char sha[SHA256_HEX_LEN];
    sha256_hex(v->artifact ? v->artifact : "", v->artifact_len, sha);
    if (v->artifact_sha256 && *v->artifact_sha256 && strcasecmp(v->artifact_sha256, sha) != 0)
        return err_set_field(e, ERR_CORRUPT, "artifact_sha256",
                             "artifact sha256 is %s but the caller expected %s", sha,
                             v->artifact_sha256);
    struct store_model_version checked = *v;
    checked.artifact_sha256 = sha;
    /* lineage: the build that registers a trained version is the one that trained it */
    if (!checked.boucle_version) checked.boucle_version = boucle_version;
    RETURN_LOCKED(int, s, model_add, &checked, version, e);
}

int store_model_artifact(struct store *s, const char *task, int64_t version, void **data,
                         size_t *len, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return -1;
    if (!data || !len) return err_set(e, ERR_USAGE, "model_artifact: no output pointers");
    RETURN_LOCKED(int, s, model_artifact, task, version, data, len, e);
}

json_t *store_models_list(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED(json_t *, s, models_list, task, e);
}

int store_alias_set_reason(struct store *s, const char *task, const char *alias, int64_t version,
                           const char *reason, const char *actor, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need(alias, "alias", e) ||
        need_version(version, e))
        return -1;
    RETURN_LOCKED(int, s, alias_set, task, alias, version, reason, actor, e);
}

int store_alias_set(struct store *s, const char *task, const char *alias, int64_t version,
                    struct err *e)
{
    return store_alias_set_reason(s, task, alias, version, NULL, NULL, e);
}

int store_alias_get(struct store *s, const char *task, const char *alias, int64_t *version,
                    struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need(alias, "alias", e)) return -1;
    RETURN_LOCKED(int, s, alias_get, task, alias, version, e);
}

json_t *store_alias_history(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED(json_t *, s, alias_history, task, e);
}

/* ---- predictions and feedback ---- */

int store_predictions_add(struct store *s, const struct store_prediction *rows, size_t n,
                          struct err *e)
{
    if (need_handle(s, e)) return -1;
    if (n == 0) return 0;
    if (!rows) return err_set(e, ERR_USAGE, "predictions_add: %zu rows but no array", n);
    /* Cheap checks only: this is the log writer's path, and its records
     * were built by the server itself. */
    for (size_t i = 0; i < n; i++)
        if (need(rows[i].id, "id", e) || need(rows[i].task, "task", e) ||
            need(rows[i].input_json, "input", e))
            return err_prefix(e, "prediction %zu of %zu", i + 1, n);
    RETURN_LOCKED(int, s, predictions_add, rows, n, e);
}

json_t *store_prediction_get(struct store *s, const char *id, struct err *e)
{
    if (need_handle(s, e) || need(id, "id", e)) return NULL;
    RETURN_LOCKED(json_t *, s, prediction_get, id, e);
}

int store_feedback_add(struct store *s, const struct store_feedback *f, struct err *e)
{
    if (need_handle(s, e)) return -1;
    if (!f) return err_set(e, ERR_USAGE, "feedback_add: no feedback");
    if (need(f->id, "id", e) || need(f->prediction_id, "prediction_id", e)) return -1;
    if (f->score < -1 || f->score > 1)
        return err_set_field(e, ERR_INVALID, "score", "score must be -1, 0 or 1, not %d", f->score);
    RETURN_LOCKED(int, s, feedback_add, f, e);
}

json_t *store_feedback_get(struct store *s, const char *id, struct err *e)
{
    if (need_handle(s, e) || need(id, "id", e)) return NULL;
    RETURN_LOCKED(json_t *, s, feedback_get, id, e);
}

json_t *store_feedback_stats(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return NULL;
    RETURN_LOCKED(json_t *, s, feedback_stats, task, e);
}

/* ---- the automatic loop ---- */

int store_run_state_merge(struct store *s, const char *run_id, json_t *patch, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return -1;
    if (!json_is_object(patch))
        return err_set_field(e, ERR_INVALID, "state", "run state patch must be a JSON object");
    RETURN_LOCKED(int, s, run_state_merge, run_id, patch, e);
}

int store_run_steps_set(struct store *s, const char *run_id, json_t *steps, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return -1;
    if (!json_is_array(steps))
        return err_set_field(e, ERR_INVALID, "steps", "run steps must be a JSON array");
    RETURN_LOCKED(int, s, run_steps_set, run_id, steps, e);
}

int store_run_status_set(struct store *s, const char *run_id, const char *status, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(status, "status", e)) return -1;
    if (!str_eq(status, "pending") && !str_eq(status, "running"))
        return err_set_field(e, ERR_INVALID, "status",
                             "run status '%s' is not pending or running (end a run with "
                             "store_run_finish)",
                             status);
    RETURN_LOCKED(int, s, run_status_set, run_id, status, e);
}

int store_runs_reap(struct store *s, int64_t *n_reaped, struct err *e)
{
    int64_t ignored;
    if (need_handle(s, e)) return -1;
    RETURN_LOCKED(int, s, runs_reap, n_reaped ? n_reaped : &ignored, e);
}

void store_job_clear(struct store_job *j)
{
    if (!j) return;
    free(j->payload_json);
    memset(j, 0, sizeof *j);
}

int store_job_enqueue(struct store *s, const char *task, const char *kind, const char *trigger,
                      const char *payload_json, char run_id_out[40], struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need(kind, "kind", e) ||
        need_json(payload_json, "payload", e) || need_out(run_id_out, "job_enqueue", e))
        return -1;
    RETURN_LOCKED(int, s, job_enqueue, task, kind, trigger, payload_json, run_id_out, e);
}

int store_job_claim(struct store *s, const char *worker, int64_t lease_ms, struct store_job *out,
                    struct err *e)
{
    if (need_handle(s, e) || need(worker, "worker", e) || need_lease(lease_ms, e) ||
        need_out(out, "job_claim", e))
        return -1;
    memset(out, 0, sizeof *out);
    RETURN_LOCKED(int, s, job_claim, worker, lease_ms, out, e);
}

int store_job_heartbeat(struct store *s, int64_t job_id, const char *worker, int64_t lease_ms,
                        struct err *e)
{
    if (need_handle(s, e) || need(worker, "worker", e) || need_lease(lease_ms, e)) return -1;
    RETURN_LOCKED(int, s, job_heartbeat, job_id, worker, lease_ms, e);
}

int store_job_finish(struct store *s, int64_t job_id, const char *status, struct err *e)
{
    if (need_handle(s, e) || need_end_status(status, "job", e)) return -1;
    RETURN_LOCKED(int, s, job_finish, job_id, status, e);
}

int store_job_cancel(struct store *s, const char *task, const char *kind, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need(kind, "kind", e)) return -1;
    RETURN_LOCKED(int, s, job_cancel, task, kind, e);
}

json_t *store_jobs_list(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED(json_t *, s, jobs_list, task, e);
}

json_t *store_feedback_gold_unused(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return NULL;
    RETURN_LOCKED(json_t *, s, feedback_gold_unused, task, e);
}

int store_feedback_gold_unused_count(struct store *s, const char *task, int64_t *n, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need_out(n, "feedback_gold_unused_count", e))
        return -1;
    RETURN_LOCKED(int, s, feedback_gold_unused_count, task, n, e);
}

int store_feedback_mark_used(struct store *s, const char *const *feedback_ids, size_t n,
                             const char *run_id, const char *role, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(role, "role", e)) return -1;
    if (!str_eq(role, "train") && !str_eq(role, "holdout"))
        return err_set_field(e, ERR_INVALID, "role", "role '%s' is not train or holdout", role);
    if (n == 0) return 0;
    if (!feedback_ids) return err_set(e, ERR_USAGE, "feedback_mark_used: %zu ids but no array", n);
    for (size_t i = 0; i < n; i++)
        if (need(feedback_ids[i], "feedback_id", e))
            return err_prefix(e, "feedback id %zu of %zu", i + 1, n);
    RETURN_LOCKED(int, s, feedback_mark_used, feedback_ids, n, run_id, role, e);
}

int store_feedback_satisfaction(struct store *s, const char *task, int64_t since_ms,
                                int64_t *n_scored, int64_t *n_positive, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) ||
        need_out(n_scored, "feedback_satisfaction", e) ||
        need_out(n_positive, "feedback_satisfaction", e))
        return -1;
    RETURN_LOCKED(int, s, feedback_satisfaction, task, since_ms, n_scored, n_positive, e);
}

json_t *store_review_queue(struct store *s, const char *task, size_t limit, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return NULL;
    RETURN_LOCKED(json_t *, s, review_queue, task, limit, e);
}

json_t *store_feedback_export(struct store *s, const char *task, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e)) return NULL;
    RETURN_LOCKED(json_t *, s, feedback_export, task, e);
}

int store_task_times(struct store *s, const char *task, int64_t *last_retrain_ms,
                     int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need_out(last_retrain_ms, "task_times", e) ||
        need_out(last_deploy_ms, "task_times", e) || need_out(last_import_ms, "task_times", e))
        return -1;
    RETURN_LOCKED(int, s, task_times, task, last_retrain_ms, last_deploy_ms, last_import_ms, e);
}

int store_alias_deploy(struct store *s, const char *task, int64_t version, const char *reason,
                       const char *actor, struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need_version(version, e)) return -1;
    RETURN_LOCKED(int, s, alias_deploy, task, version, reason ? reason : "deploy", actor, e);
}

int store_alias_rollback(struct store *s, const char *task, const char *reason, const char *actor,
                         int64_t *now_serving, struct err *e)
{
    int64_t ignored;
    if (need_handle(s, e) || need(task, "task", e)) return -1;
    RETURN_LOCKED(int, s, alias_rollback, task, reason ? reason : "rollback", actor,
                  now_serving ? now_serving : &ignored, e);
}

int store_listen_aliases(struct store *s, struct err *e)
{
    if (need_handle(s, e)) return -1;
    if (!s->ops->listen_aliases) return 0;
    RETURN_LOCKED(int, s, listen_aliases, e);
}

int store_wait_alias_change(struct store *s, int timeout_ms, struct err *e)
{
    if (need_handle(s, e)) return -1;
    if (timeout_ms < 0) timeout_ms = 0;
    if (!s->ops->wait_alias_change) {
        /* No notifications (SQLite): the caller polls; sleeping here, and
         * without the lock, keeps its loop from spinning or blocking others. */
        time_sleep_ms(timeout_ms);
        return 0;
    }
    RETURN_LOCKED(int, s, wait_alias_change, timeout_ms, e);
}

/* ---- MLflow tracking (issue 4) ---- */

/* RETURN_LOCKED for operations a backend may not implement yet (NULL): the
 * caller gets ERR_INTERNAL instead of a crash. `fail` is the error result. */
#define RETURN_LOCKED_OPT(type, fail, s, op, e, ...)                                               \
    do {                                                                                           \
        if (!(s)->ops->op) {                                                                       \
            err_set(e, ERR_INTERNAL, "%s: not supported by this backend (%s)", #op,                \
                    (s)->ops->name);                                                               \
            return fail;                                                                           \
        }                                                                                          \
        RETURN_LOCKED(type, s, op, __VA_ARGS__, e);                                                \
    } while (0)

static int need_kvs(const struct store_kv *kv, size_t n, const char *what, struct err *e)
{
    if (n && !kv) return err_set(e, ERR_USAGE, "%s: %zu items but no array", what, n);
    for (size_t i = 0; i < n; i++)
        if (need(kv[i].key, "key", e)) return err_prefix(e, "%s %zu of %zu", what, i + 1, n);
    return 0;
}

static int need_stage(const char *stage, struct err *e)
{
    if (!stage || str_eq(stage, "active") || str_eq(stage, "deleted")) return 0;
    return err_set_field(e, ERR_INVALID, "lifecycle_stage",
                         "lifecycle stage '%s' is not active or deleted", stage);
}

int store_experiment_create(struct store *s, const char *name, const char *artifact_location,
                            const struct store_kv *tags, size_t n_tags, int64_t *id, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_kvs(tags, n_tags, "tag", e) ||
        need_out(id, "experiment_create", e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, experiment_create, e, name, artifact_location, tags, n_tags, id);
}

json_t *store_experiment_get(struct store *s, int64_t id, const char *name, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, experiment_get, e, id, name);
}

json_t *store_experiments_list(struct store *s, const char *lifecycle_stage, struct err *e)
{
    if (need_handle(s, e) || need_stage(lifecycle_stage, e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, experiments_list, e, lifecycle_stage);
}

int store_experiment_update(struct store *s, int64_t id, const char *new_name,
                            const char *lifecycle_stage, struct err *e)
{
    if (need_handle(s, e) || (new_name && need(new_name, "new_name", e)) ||
        need_stage(lifecycle_stage, e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, experiment_update, e, id, new_name, lifecycle_stage);
}

int store_experiment_tag_set(struct store *s, int64_t id, const char *key, const char *value,
                             struct err *e)
{
    if (need_handle(s, e) || need(key, "key", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, experiment_tag_set, e, id, key, value);
}

int store_mlflow_run_create(struct store *s, const struct store_mlflow_run *r, struct err *e)
{
    if (need_handle(s, e) || need_out(r, "mlflow_run_create", e) || need(r->run_id, "run_id", e) ||
        need_kvs(r->tags, r->n_tags, "tag", e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, mlflow_run_create, e, r);
}

json_t *store_mlflow_run_get(struct store *s, const char *run_id, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, mlflow_run_get, e, run_id);
}

json_t *store_mlflow_runs_get(struct store *s, const char *const *run_ids, size_t n, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    if (n && !run_ids) {
        err_set(e, ERR_USAGE, "mlflow_runs_get: %zu ids but no array", n);
        return NULL;
    }
    if (n == 0) return json_array();
    RETURN_LOCKED_OPT(json_t *, NULL, s, mlflow_runs_get, e, run_ids, n);
}

int store_mlflow_runs_scan(struct store *s, const struct store_mlflow_scan *q,
                           struct store_scan *out, struct err *e)
{
    if (out) {
        memset(out, 0, sizeof *out);
        arena_init(&out->arena, 0);
    }
    if (need_handle(s, e) || need_out(out, "mlflow_runs_scan", e) ||
        need_out(q, "mlflow_runs_scan", e) || need_stage(q->lifecycle_stage, e))
        return -1;
    if (q->n_experiments && !q->experiment_ids)
        return err_set(e, ERR_USAGE, "mlflow_runs_scan: %zu ids but no array", q->n_experiments);
    size_t keys = q->n_metric_keys + q->n_param_keys + q->n_tag_keys + q->n_conds;
    if (q->n_conds && !q->conds)
        return err_set(e, ERR_USAGE, "mlflow_runs_scan: %zu conditions but no array", q->n_conds);
    for (size_t i = 0; i < q->n_conds; i++)
        if (!q->conds[i].key || (q->conds[i].entity != STORE_SCAN_METRIC &&
                                 (q->conds[i].op != STORE_SCAN_EQ || !q->conds[i].text)))
            return err_set(e, ERR_USAGE, "mlflow_runs_scan: condition %zu is malformed", i + 1);
    if (keys > STORE_SCAN_MAX_KEYS)
        return err_set_field(e, ERR_INVALID, "filter",
                             "the search names %zu metric, param and tag keys; the limit is %d",
                             keys, STORE_SCAN_MAX_KEYS);
    RETURN_LOCKED_OPT(int, -1, s, mlflow_runs_scan, e, q, out);
}

void store_scan_free(struct store_scan *scan)
{
    if (!scan) return;
    free(scan->rows);
    arena_free(&scan->arena);
    memset(scan, 0, sizeof *scan);
}

int store_mlflow_run_update(struct store *s, const char *run_id,
                            const struct store_mlflow_run_patch *p, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need_out(p, "mlflow_run_update", e) ||
        need_stage(p->lifecycle_stage, e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, mlflow_run_update, e, run_id, p);
}

int store_mlflow_run_log(struct store *s, const char *run_id, const struct store_metric *metrics,
                         size_t n_metrics, const struct store_kv *params, size_t n_params,
                         const struct store_kv *tags, size_t n_tags, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need_kvs(params, n_params, "param", e) ||
        need_kvs(tags, n_tags, "tag", e))
        return -1;
    if (n_metrics && !metrics) return err_set(e, ERR_USAGE, "mlflow_run_log: no metrics array");
    for (size_t i = 0; i < n_metrics; i++)
        if (need(metrics[i].key, "key", e))
            return err_prefix(e, "metric %zu of %zu", i + 1, n_metrics);
    for (size_t i = 0; i < n_params; i++)
        if (!params[i].value)
            return err_set_field(e, ERR_INVALID, params[i].key, "param '%s' has no value",
                                 params[i].key);
    RETURN_LOCKED_OPT(int, -1, s, mlflow_run_log, e, run_id, metrics, n_metrics, params, n_params,
                      tags, n_tags);
}

int store_mlflow_tag_delete(struct store *s, const char *run_id, const char *key, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(key, "key", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, mlflow_tag_delete, e, run_id, key);
}

json_t *store_mlflow_metric_history(struct store *s, const char *run_id, const char *key,
                                    struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(key, "key", e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, mlflow_metric_history, e, run_id, key);
}

/* ---- MLflow model registry and run artifacts (issue 4) ---- */

static int need_stage_name(const char *stage, struct err *e)
{
    static const char *const stages[] = {"None", "Staging", "Production", "Archived"};
    if (!stage) return 0;
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        if (str_eq(stage, stages[i])) return 0;
    return err_set_field(e, ERR_INVALID, "stage",
                         "stage '%s' is not None, Staging, Production or Archived", stage);
}

int store_registered_model_create(struct store *s, const char *name, const char *description,
                                  const struct store_kv *tags, size_t n_tags, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_kvs(tags, n_tags, "tag", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, registered_model_create, e, name, description, tags, n_tags);
}

json_t *store_registered_models_list(struct store *s, const char *name, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, registered_models_list, e, name);
}

json_t *store_registered_model_get(struct store *s, const char *name, struct err *e)
{
    if (need(name, "name", e)) return NULL;
    json_t *list = store_registered_models_list(s, name, e);
    if (!list) return NULL;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    if (!one)
        err_set_field(e, ERR_NOT_FOUND, "name", "Registered Model with name=%s not found", name);
    return one;
}

int store_registered_model_update(struct store *s, const char *name, const char *new_name,
                                  const char *description, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || (new_name && need(new_name, "new_name", e)))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, registered_model_update, e, name, new_name, description);
}

int store_registered_model_delete(struct store *s, const char *name, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, registered_model_delete, e, name);
}

int store_registered_model_tag(struct store *s, const char *name, const char *key,
                               const char *value, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need(key, "key", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, registered_model_tag, e, name, key, value);
}

int store_model_version_create(struct store *s, const struct store_mlflow_version *v,
                               int64_t *version, struct err *e)
{
    if (need_handle(s, e) || need_out(v, "model_version_create", e) || need(v->name, "name", e) ||
        need_kvs(v->tags, v->n_tags, "tag", e) || need_out(version, "model_version_create", e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, model_version_create, e, v, version);
}

json_t *store_model_versions_list(struct store *s, const char *name, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, model_versions_list, e, name, 0);
}

json_t *store_model_version_get(struct store *s, const char *name, int64_t version, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_version(version, e)) return NULL;
    json_t *list;
    if (!s->ops->model_versions_list) {
        err_set(e, ERR_INTERNAL, "model_versions_list: not supported by this backend (%s)",
                s->ops->name);
        return NULL;
    }
    lock(s);
    list = s->ops->model_versions_list(s->conn, name, version, e);
    unlock(s);
    if (!list) return NULL;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    if (!one)
        err_set_field(e, ERR_NOT_FOUND, "version",
                      "Model Version (name=%s, version=%lld) not found", name, (long long)version);
    return one;
}

int store_model_version_update(struct store *s, const char *name, int64_t version,
                               const char *description, const char *stage, int archive_others,
                               struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_version(version, e) ||
        need_stage_name(stage, e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, model_version_update, e, name, version, description, stage,
                      archive_others);
}

int store_model_version_delete(struct store *s, const char *name, int64_t version,
                               const char *actor, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_version(version, e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, model_version_delete, e, name, version, actor);
}

int store_model_version_tag(struct store *s, const char *name, int64_t version, const char *key,
                            const char *value, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need_version(version, e) ||
        need(key, "key", e))
        return -1;
    RETURN_LOCKED_OPT(int, -1, s, model_version_tag, e, name, version, key, value);
}

int store_model_alias_delete(struct store *s, const char *name, const char *alias,
                             const char *reason, const char *actor, struct err *e)
{
    if (need_handle(s, e) || need(name, "name", e) || need(alias, "alias", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, model_alias_delete, e, name, alias, reason, actor);
}

int store_artifact_put(struct store *s, const char *run_id, const char *path, const void *data,
                       size_t len, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(path, "path", e)) return -1;
    if (len && !data) return err_set(e, ERR_USAGE, "artifact_put: %zu bytes but no data", len);
    char sha[SHA256_HEX_LEN];
    sha256_hex(data ? data : "", len, sha);
    RETURN_LOCKED_OPT(int, -1, s, artifact_put, e, run_id, path, data ? data : "", len, sha);
}

int store_artifact_get(struct store *s, const char *run_id, const char *path, void **data,
                       size_t *len, char sha256_out[65], struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(path, "path", e) ||
        need_out(data, "artifact_get", e) || need_out(len, "artifact_get", e))
        return -1;
    char ignored[65];
    RETURN_LOCKED_OPT(int, -1, s, artifact_get, e, run_id, path, data, len,
                      sha256_out ? sha256_out : ignored);
}

json_t *store_artifacts_list(struct store *s, const char *run_id, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, artifacts_list, e, run_id);
}

int store_artifact_delete(struct store *s, const char *run_id, const char *path, struct err *e)
{
    if (need_handle(s, e) || need(run_id, "run_id", e) || need(path, "path", e)) return -1;
    RETURN_LOCKED_OPT(int, -1, s, artifact_delete, e, run_id, path);
}

/* ---- shadow and canary rollouts (issue 6) ---- */

int store_rollout_start(struct store *s, const struct store_rollout_start *r, int64_t *id,
                        struct err *e)
{
    if (need_handle(s, e) || need_out(r, "rollout_start", e) || need_out(id, "rollout_start", e) ||
        need(r->task, "task", e) || need(r->strategy, "strategy", e) ||
        need_version(r->challenger_version, e))
        return -1;
    int canary = str_eq(r->strategy, "canary");
    if (!canary && !str_eq(r->strategy, "shadow"))
        return err_set_field(e, ERR_INVALID, "strategy",
                             "rollout strategy '%s' is not shadow or canary", r->strategy);
    if (canary && (r->percent < 1 || r->percent > 99))
        return err_set_field(e, ERR_INVALID, "percent",
                             "canary percent must be from 1 to 99, not %d", r->percent);
    if (!canary && r->percent != 0)
        return err_set_field(e, ERR_INVALID, "percent",
                             "a shadow answers no request: percent must be 0, not %d", r->percent);
    if (r->min_feedback < 1)
        return err_set_field(e, ERR_INVALID, "min_feedback", "min_feedback must be >= 1, not %lld",
                             (long long)r->min_feedback);
    RETURN_LOCKED_OPT(int, -1, s, rollout_start, e, r, id);
}

int store_rollout_active(struct store *s, const char *task, struct store_rollout *out,
                         struct err *e)
{
    if (need_handle(s, e) || need(task, "task", e) || need_out(out, "rollout_active", e)) return -1;
    memset(out, 0, sizeof *out);
    RETURN_LOCKED_OPT(int, -1, s, rollout_active, e, task, out);
}

int store_rollout_end(struct store *s, int64_t id, const char *status, const char *reason,
                      const char *decision_json, struct err *e)
{
    if (need_handle(s, e) || need(status, "status", e) || need(reason, "reason", e) ||
        need_json(decision_json, "decision", e))
        return -1;
    if (id < 1)
        return err_set_field(e, ERR_INVALID, "id", "rollout id must be >= 1, not %lld",
                             (long long)id);
    if (!str_eq(status, "promoted") && !str_eq(status, "rolled_back") && !str_eq(status, "stopped"))
        return err_set_field(e, ERR_INVALID, "status",
                             "rollout status '%s' is not one of promoted, rolled_back, stopped",
                             status);
    RETURN_LOCKED_OPT(int, -1, s, rollout_end, e, id, status, reason, decision_json);
}

int store_rollout_stats(struct store *s, const struct store_rollout *r,
                        struct store_rollout_stats *out, struct err *e)
{
    if (need_handle(s, e) || need_out(r, "rollout_stats", e) || need_out(out, "rollout_stats", e))
        return -1;
    if (r->id < 1)
        return err_set_field(e, ERR_INVALID, "id", "rollout id must be >= 1, not %lld",
                             (long long)r->id);
    memset(out, 0, sizeof *out);
    RETURN_LOCKED_OPT(int, -1, s, rollout_stats, e, r, out);
}

json_t *store_rollouts_list(struct store *s, const char *task, size_t limit, struct err *e)
{
    if (need_handle(s, e)) return NULL;
    RETURN_LOCKED_OPT(json_t *, NULL, s, rollouts_list, e, task, limit);
}
