/* The SQLite backend: opening a connection (WAL, busy timeout, foreign keys),
 * the helpers its other files share, and its operations table. */
#include "store/sqlite_store.h"
#include "store/store_backend.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SQLITE_BUSY_TIMEOUT_MS 5000

int sqlite_store_fail(struct sqlite_store *s, struct err *e, const char *what)
{
    return err_set(e, ERR_IO, "sqlite: %s (in %s)", sqlite3_errmsg(s->db), what);
}

sqlite3_stmt *sqlite_store_prepare(struct sqlite_store *s, const char *sql, const char *what,
                                   struct err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite_store_fail(s, e, what);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int sqlite_store_exec(struct sqlite_store *s, const char *sql, const char *what, struct err *e)
{
    const char *next = sql;
    while (next && *next) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, next, -1, &st, &next) != SQLITE_OK)
            return sqlite_store_fail(s, e, what);
        if (!st) continue; /* trailing whitespace or comment */
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) {
            sqlite_store_fail(s, e, what);
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
    }
    return 0;
}

int sqlite_store_step_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                           struct err *e)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sqlite_store_fail(s, e, what);
    sqlite3_reset(st);
    return r;
}

void sqlite_store_release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int sqlite_store_begin(struct sqlite_store *s, struct err *e)
{
    return sqlite_store_step_done(s, s->begin, "begin transaction", e);
}

int sqlite_store_commit(struct sqlite_store *s, struct err *e)
{
    if (sqlite_store_step_done(s, s->commit, "commit", e) == 0) return 0;
    sqlite_store_rollback(s);
    return -1;
}

void sqlite_store_rollback(struct sqlite_store *s)
{
    /* Some errors (disk full, I/O) already rolled the transaction back. */
    if (sqlite3_get_autocommit(s->db)) return;
    sqlite3_step(s->rollback);
    sqlite3_reset(s->rollback);
}

int sqlite_store_end(struct sqlite_store *s, int r, struct err *e)
{
    if (r >= 0 && sqlite_store_commit(s, e) == 0) return r;
    sqlite_store_rollback(s);
    return -1;
}

int sqlite_store_bind_text(sqlite3_stmt *st, int idx, const char *text)
{
    if (!text) return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

int sqlite_store_violated(struct sqlite_store *s, int extended_code)
{
    return sqlite3_extended_errcode(s->db) == extended_code;
}

int sqlite_store_next(struct sqlite_store *s, sqlite3_stmt *st, const char *what, struct err *e)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    return sqlite_store_fail(s, e, what);
}

int sqlite_store_write(struct sqlite_store *s, sqlite3_stmt *st, const char *what, int violated,
                       enum err_code code, const char *field, struct err *e, const char *fmt, ...)
{
    if (sqlite3_step(st) == SQLITE_DONE) return 0;
    if (!sqlite_store_violated(s, violated)) return sqlite_store_fail(s, e, what);
    char msg[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set_field(e, code, field, "%s", msg);
}

json_t *sqlite_store_col_text(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return json_null();
    const char *text = (const char *)sqlite3_column_text(st, col);
    json_t *v = json_stringn(text, (size_t)sqlite3_column_bytes(st, col));
    /* jansson refuses invalid UTF-8; an answer with null beats no answer. */
    return v ? v : json_null();
}

json_t *sqlite_store_col_int(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return json_null();
    return json_integer((json_int_t)sqlite3_column_int64(st, col));
}

json_t *sqlite_store_col_json(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return json_null();
    const char *text = (const char *)sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    /* Writers of params/metrics are checked by store.c; predictions are not
     * (hot path), so text that does not parse is returned as a string. */
    return v ? v : sqlite_store_col_text(st, col);
}

json_t *sqlite_store_col_time(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) return json_null();
    char iso[40];
    time_format_iso8601(sqlite3_column_int64(st, col), iso, sizeof iso);
    return json_string(iso);
}

sqlite3_stmt *sqlite_store_prepare_args(struct sqlite_store *s, const char *sql, const char *what,
                                        const struct sqlite_arg *args, size_t n, struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare(s, sql, what, e);
    if (!st) return NULL;
    for (size_t i = 0; i < n; i++) {
        int idx = (int)i + 1;
        int rc = args[i].is_num ? sqlite3_bind_int64(st, idx, args[i].num)
                                : sqlite_store_bind_text(st, idx, args[i].text);
        if (rc != SQLITE_OK) {
            sqlite_store_fail(s, e, what);
            sqlite3_finalize(st);
            return NULL;
        }
    }
    return st;
}

int sqlite_store_update(struct sqlite_store *s, const char *sql, const char *what,
                        const struct sqlite_arg *args, size_t n, int64_t *changed, struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, n, e);
    if (!st) return -1;
    int r = sqlite_store_step_done(s, st, what, e);
    if (r == 0 && changed) *changed = sqlite3_changes64(s->db);
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_query_ints(struct sqlite_store *s, const char *sql, const char *what,
                            const struct sqlite_arg *args, size_t n, int64_t *out, size_t n_out,
                            struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, n, e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    for (size_t i = 0; r == 1 && i < n_out; i++)
        out[i] = sqlite3_column_int64(st, (int)i);
    sqlite3_finalize(st);
    return r;
}

void sqlite_store_col_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    snprintf(out, size, "%s", text ? text : "");
}

int sqlite_store_query_int(struct sqlite_store *s, const char *sql, const char *what,
                           const char *bind1, const char *bind2, int64_t *out, struct err *e)
{
    /* ?2 is bound only when given: binding a parameter the SQL lacks fails. */
    const struct sqlite_arg args[] = {SQL_TEXT(bind1), SQL_TEXT(bind2)};
    int64_t value = 0;
    int r = sqlite_store_query_ints(s, sql, what, args, bind2 ? 2 : 1, &value, 1, e);
    if (r == 1 && out) *out = value;
    return r;
}

json_t *sqlite_store_row_json(sqlite3_stmt *st, const struct sqlite_col *cols, size_t n)
{
    static json_t *(*const read[])(sqlite3_stmt *, int) = {
        [COL_TEXT] = sqlite_store_col_text,
        [COL_INT] = sqlite_store_col_int,
        [COL_JSON] = sqlite_store_col_json,
        [COL_TIME] = sqlite_store_col_time,
    };
    if (n == 1 && !cols[0].name) return read[cols[0].kind](st, 0);
    json_t *row = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(row, cols[i].name, read[cols[i].kind](st, (int)i));
    return row;
}

json_t *sqlite_store_rows_json(struct sqlite_store *s, sqlite3_stmt *st, const char *what,
                               const struct sqlite_col *cols, size_t n, struct err *e)
{
    json_t *list = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1)
        json_array_append_new(list, sqlite_store_row_json(st, cols, n));
    if (r < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

json_t *sqlite_store_query_rows(struct sqlite_store *s, const char *sql, const char *what,
                                const struct sqlite_arg *args, size_t n,
                                const struct sqlite_col *cols, size_t n_cols, struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, n, e);
    if (!st) return NULL;
    json_t *list = sqlite_store_rows_json(s, st, what, cols, n_cols, e);
    sqlite3_finalize(st);
    return list;
}

json_t *sqlite_store_query_list(struct sqlite_store *s, const char *sql, const char *what,
                                const char *bind1, const struct sqlite_col *cols, size_t n,
                                struct err *e)
{
    return sqlite_store_query_rows(s, sql, what, SQLITE_ARGS(SQL_TEXT(bind1)), cols, n, e);
}

json_t *sqlite_store_query_one(struct sqlite_store *s, const char *sql, const char *what,
                               const char *bind1, const struct sqlite_col *cols, size_t n,
                               const char *field, const char *noun, struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare(s, sql, what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, bind1);
    int r = sqlite_store_next(s, st, what, e);
    json_t *row = r == 1 ? sqlite_store_row_json(st, cols, n) : NULL;
    sqlite3_finalize(st);
    if (r == 0) err_set_field(e, ERR_NOT_FOUND, field, "%s '%s' not found", noun, bind1);
    return row;
}

/* ---- open and close ---- */

static void sqlite_close(void *conn)
{
    struct sqlite_store *s = conn;
    if (!s) return;
    sqlite3_stmt *cached[] = {s->begin,           s->commit,         s->rollback,
                              s->sync_full,       s->sync_normal,    s->prediction_insert,
                              s->prediction_task, s->feedback_insert};
    for (size_t i = 0; i < sizeof cached / sizeof cached[0]; i++)
        sqlite3_finalize(cached[i]);
    /* sqlite3_close (not _v2): every statement is finalized by now, and a
     * leak should show as SQLITE_BUSY in testing rather than linger. */
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

struct cached_sql {
    sqlite3_stmt **slot;
    const char *sql;
    const char *what;
};

static int prepare_all(struct sqlite_store *s, const struct cached_sql *list, size_t n,
                       struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        *list[i].slot = sqlite_store_prepare(s, list[i].sql, list[i].what, e);
        if (!*list[i].slot) return -1;
    }
    return 0;
}

/* The transaction verbs: needed by the migrations, so prepared before them. */
static int prepare_verbs(struct sqlite_store *s, struct err *e)
{
    const struct cached_sql list[] = {
        {&s->begin, "BEGIN IMMEDIATE", "begin transaction"},
        {&s->commit, "COMMIT", "commit"},
        {&s->rollback, "ROLLBACK", "rollback"},
        {&s->sync_full, "PRAGMA synchronous=FULL", "synchronous=FULL"},
        {&s->sync_normal, "PRAGMA synchronous=NORMAL", "synchronous=NORMAL"},
    };
    return prepare_all(s, list, sizeof list / sizeof list[0], e);
}

/* The hot inserts name tables, so they are prepared after the migrations. */
static int prepare_hot(struct sqlite_store *s, struct err *e)
{
    const struct cached_sql list[] = {
        {&s->prediction_insert,
         "INSERT INTO predictions(id, task, model_version, input_json, label, output_json,"
         " latency_us, created_ms, rollout_id, shadow_of)"
         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
         "preparing prediction insert"},
        {&s->prediction_task, "SELECT task FROM predictions WHERE id = ?1",
         "preparing prediction lookup"},
        {&s->feedback_insert,
         "INSERT INTO feedback(id, prediction_id, task, score, label, comment, created_ms)"
         " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
         "preparing feedback insert"},
    };
    return prepare_all(s, list, sizeof list / sizeof list[0], e);
}

static int set_wal(struct sqlite_store *s, struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare(s, "PRAGMA journal_mode=WAL", "journal_mode=WAL", e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, "journal_mode=WAL", e);
    if (r == 1) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        /* An in-memory database answers "memory": fine for tests. */
        if (mode && !str_eq(mode, "wal") && !str_eq(mode, "memory"))
            r = err_set(e, ERR_IO, "cannot switch to WAL journal (journal mode stays '%s')", mode);
    }
    sqlite3_finalize(st);
    return r < 0 ? -1 : 0;
}

static void *sqlite_open(const char *url, struct err *e)
{
    const char *path = url + strlen("sqlite:");
    if (str_starts_with(path, "//")) path += 2; /* tolerate sqlite:///abs/path */
    if (!*path) {
        err_set(e, ERR_INVALID, "store URL '%s' has no path: use sqlite:PATH", url);
        return NULL;
    }
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open database '%s': %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite_close(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, SQLITE_BUSY_TIMEOUT_MS);
    /* A write-protected file opens silently read-only; say so now rather
     * than at the first feedback. */
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        err_set(e, ERR_IO, "database '%s' is read-only: boucle needs to write to it", path);
        sqlite_close(s);
        return NULL;
    }
    if (set_wal(s, e) ||
        sqlite_store_exec(s, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
                          "connection settings", e) ||
        prepare_verbs(s, e) || sqlite_store_migrate(s, e) || prepare_hot(s, e)) {
        err_prefix(e, "opening database '%s'", path);
        sqlite_close(s);
        return NULL;
    }
    return s;
}

static int sqlite_schema_version(void *conn)
{
    return ((struct sqlite_store *)conn)->schema_version;
}

const struct store_backend sqlite_store_backend = {
    .name = "sqlite",
    .scheme = "sqlite:",
    .open = sqlite_open,
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .dataset_find = sqlite_store_dataset_find,
    .example_count = sqlite_store_example_count,
    .dataset_add = sqlite_store_dataset_add,
    .datasets_list = sqlite_store_datasets_list,
    .dataset_get = sqlite_store_dataset_get,
    .examples_foreach = sqlite_store_examples_foreach,
    .run_create = sqlite_store_run_create,
    .run_attach = sqlite_store_run_attach,
    .run_finish = sqlite_store_run_finish,
    .run_log = sqlite_store_run_log,
    .run_get = sqlite_store_run_get,
    .runs_list = sqlite_store_runs_list,
    .model_add = sqlite_store_model_add,
    .model_artifact = sqlite_store_model_artifact,
    .models_list = sqlite_store_models_list,
    .alias_set = sqlite_store_alias_set,
    .alias_get = sqlite_store_alias_get,
    .alias_history = sqlite_store_alias_history,
    .predictions_add = sqlite_store_predictions_add,
    .prediction_get = sqlite_store_prediction_get,
    .feedback_add = sqlite_store_feedback_add,
    .feedback_get = sqlite_store_feedback_get,
    .feedback_stats = sqlite_store_feedback_stats,
    .run_state_merge = sqlite_store_run_state_merge,
    .run_steps_set = sqlite_store_run_steps_set,
    .run_status_set = sqlite_store_run_status_set,
    .runs_reap = sqlite_store_runs_reap,
    .job_enqueue = sqlite_store_job_enqueue,
    .job_claim = sqlite_store_job_claim,
    .job_heartbeat = sqlite_store_job_heartbeat,
    .job_finish = sqlite_store_job_finish,
    .job_cancel = sqlite_store_job_cancel,
    .jobs_list = sqlite_store_jobs_list,
    .feedback_gold_unused = sqlite_store_feedback_gold_unused,
    .feedback_gold_unused_count = sqlite_store_feedback_gold_unused_count,
    .feedback_mark_used = sqlite_store_feedback_mark_used,
    .feedback_satisfaction = sqlite_store_feedback_satisfaction,
    .review_queue = sqlite_store_review_queue,
    .feedback_export = sqlite_store_feedback_export,
    .task_times = sqlite_store_task_times,
    .alias_deploy = sqlite_store_alias_deploy,
    .alias_rollback = sqlite_store_alias_rollback,
    .experiment_create = sqlite_store_experiment_create,
    .experiment_get = sqlite_store_experiment_get,
    .experiments_list = sqlite_store_experiments_list,
    .experiment_update = sqlite_store_experiment_update,
    .experiment_tag_set = sqlite_store_experiment_tag_set,
    .mlflow_run_create = sqlite_store_mlflow_run_create,
    .mlflow_run_get = sqlite_store_mlflow_run_get,
    .mlflow_runs_get = sqlite_store_mlflow_runs_get,
    .mlflow_runs_scan = sqlite_store_mlflow_runs_scan,
    .mlflow_run_update = sqlite_store_mlflow_run_update,
    .mlflow_run_log = sqlite_store_mlflow_run_log,
    .mlflow_tag_delete = sqlite_store_mlflow_tag_delete,
    .mlflow_metric_history = sqlite_store_mlflow_metric_history,
    .registered_model_create = sqlite_store_registered_model_create,
    .registered_models_list = sqlite_store_registered_models_list,
    .registered_model_update = sqlite_store_registered_model_update,
    .registered_model_delete = sqlite_store_registered_model_delete,
    .registered_model_tag = sqlite_store_registered_model_tag,
    .model_version_create = sqlite_store_model_version_create,
    .model_versions_list = sqlite_store_model_versions_list,
    .model_version_update = sqlite_store_model_version_update,
    .model_version_delete = sqlite_store_model_version_delete,
    .model_version_tag = sqlite_store_model_version_tag,
    .model_alias_delete = sqlite_store_model_alias_delete,
    .artifact_put = sqlite_store_artifact_put,
    .artifact_get = sqlite_store_artifact_get,
    .artifacts_list = sqlite_store_artifacts_list,
    .artifact_delete = sqlite_store_artifact_delete,
    .rollout_start = sqlite_store_rollout_start,
    .rollout_active = sqlite_store_rollout_active,
    .rollout_end = sqlite_store_rollout_end,
    .rollout_stats = sqlite_store_rollout_stats,
    .rollouts_list = sqlite_store_rollouts_list,
};
