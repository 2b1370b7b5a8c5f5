/* The PostgreSQL backend (libpq): opening a connection, the helpers its
 * other files share, and its operations table. */
#include "store/pg_store.h"
#include "store/store_backend.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parameter type OIDs (pg_type.h is not part of libpq's public headers). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define PG_MAX_PARAMS 16

int pg_store_fail(struct pg_store *s, struct err *e, const char *what)
{
    /* libpq's message spans lines (the error, then LINE, DETAIL, HINT):
     * its first line, without the severity the code already says. */
    const char *text = PQerrorMessage(s->conn);
    static const char *const severities[] = {"ERROR:  ", "FATAL:  ", "PANIC:  "};
    for (size_t i = 0; i < sizeof severities / sizeof severities[0]; i++)
        if (str_starts_with(text, severities[i])) text += strlen(severities[i]);
    char msg[400];
    snprintf(msg, sizeof msg, "%.*s", (int)strcspn(text, "\n"), text);
    size_t len = strlen(msg);
    while (len && msg[len - 1] == ' ')
        msg[--len] = '\0';
    return err_set(e, ERR_IO, "postgres: %s (in %s)", msg, what);
}

int pg_store_violated(struct pg_store *s, const char *sqlstate)
{
    return str_eq(s->sqlstate, sqlstate);
}

/* Keeps the SQLSTATE of a failed result for pg_store_violated. */
static void note_failure(struct pg_store *s, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(s->sqlstate, sizeof s->sqlstate, "%s", state ? state : "");
}

int pg_store_connected(struct pg_store *s, struct err *e)
{
    if (PQstatus(s->conn) == CONNECTION_OK) return 0;
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) return pg_store_fail(s, e, "reconnecting");
    log_warn("store: reconnected to PostgreSQL database '%s'", PQdb(s->conn));
    s->reconnected = 1;
    PGresult *r = PQexec(s->conn, s->listening ? "SET client_min_messages = warning;"
                                                 " SET synchronous_commit = on;"
                                                 " LISTEN " PG_ALIAS_CHANNEL
                                               : "SET client_min_messages = warning;"
                                                 " SET synchronous_commit = on");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : pg_store_fail(s, e, "reconnecting");
}

PGresult *pg_store_query(struct pg_store *s, const char *sql, const char *what,
                         const struct pg_arg *args, size_t n, int binary_result, struct err *e)
{
    if (pg_store_connected(s, e)) return NULL;
    if (n > PG_MAX_PARAMS) {
        err_set(e, ERR_INTERNAL, "%s: %zu parameters (at most %d)", what, n, PG_MAX_PARAMS);
        return NULL;
    }
    Oid types[PG_MAX_PARAMS];
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS], formats[PG_MAX_PARAMS];
    char nums[PG_MAX_PARAMS][24];
    for (size_t i = 0; i < n; i++) {
        lengths[i] = 0;
        formats[i] = 0;
        if (args[i].kind == 1) {
            types[i] = OID_INT8;
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)args[i].num);
            values[i] = nums[i];
        } else if (args[i].kind == 2) {
            types[i] = OID_BYTEA;
            /* binary format: the bytes as they are (a non-NULL pointer even
             * for zero bytes, or libpq would send SQL NULL) */
            values[i] = args[i].bytes ? args[i].bytes : "";
            lengths[i] = (int)args[i].len;
            formats[i] = 1;
        } else {
            types[i] = OID_TEXT;
            values[i] = args[i].text;
        }
    }
    PGresult *r =
        PQexecParams(s->conn, sql, (int)n, types, values, lengths, formats, binary_result ? 1 : 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        s->sqlstate[0] = '\0';
        return r;
    }
    note_failure(s, r);
    pg_store_fail(s, e, what);
    PQclear(r);
    return NULL;
}

int pg_store_exec(struct pg_store *s, const char *sql, const char *what, struct err *e)
{
    if (pg_store_connected(s, e)) return -1;
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        note_failure(s, r);
        pg_store_fail(s, e, what);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int pg_store_update(struct pg_store *s, const char *sql, const char *what,
                    const struct pg_arg *args, size_t n, int64_t *changed, struct err *e)
{
    PGresult *r = pg_store_query(s, sql, what, args, n, 0, e);
    if (!r) return -1;
    if (changed) *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

int pg_store_write(struct pg_store *s, const char *sql, const char *what, const struct pg_arg *args,
                   size_t n, const char *violated, enum err_code code, const char *field,
                   struct err *e, const char *fmt, ...)
{
    if (pg_store_update(s, sql, what, args, n, NULL, e) == 0) return 0;
    if (!pg_store_violated(s, violated)) return -1;
    char msg[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set_field(e, code, field, "%s", msg);
}

int64_t pg_store_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *pg_store_int_array(const int64_t *v, size_t n)
{
    char *text = xmalloc(n * 21 + 3);
    size_t len = 0;
    text[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "%s%lld", i ? "," : "", (long long)v[i]);
    text[len++] = '}';
    text[len] = '\0';
    return text;
}

char *pg_store_text_array(const char *const *v, size_t n)
{
    struct buf b;
    buf_init(&b);
    buf_append_char(&b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) buf_append_char(&b, ',');
        buf_append_char(&b, '"');
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\') buf_append_char(&b, '\\');
            buf_append_char(&b, *c);
        }
        buf_append_char(&b, '"');
    }
    buf_append_char(&b, '}');
    return buf_detach(&b);
}

void pg_store_copy(const PGresult *r, int row, int col, char *out, size_t size)
{
    snprintf(out, size, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int pg_store_query_ints(struct pg_store *s, const char *sql, const char *what,
                        const struct pg_arg *args, size_t n, int64_t *out, size_t n_out,
                        struct err *e)
{
    PGresult *r = pg_store_query(s, sql, what, args, n, 0, e);
    if (!r) return -1;
    int found = PQntuples(r) > 0;
    for (size_t i = 0; found && i < n_out && (int)i < PQnfields(r); i++)
        out[i] = pg_store_int(r, 0, (int)i);
    PQclear(r);
    return found;
}

int pg_store_query_int(struct pg_store *s, const char *sql, const char *what, const char *bind1,
                       const char *bind2, int64_t *out, struct err *e)
{
    const struct pg_arg args[] = {PG_TEXT(bind1), PG_TEXT(bind2)};
    int64_t value = 0;
    int r = pg_store_query_ints(s, sql, what, args, bind2 ? 2 : 1, &value, 1, e);
    if (r == 1 && out) *out = value;
    return r;
}

/* ---- transactions ---- */

int pg_store_begin(struct pg_store *s, struct err *e)
{
    if (pg_store_exec(s, "BEGIN", "begin transaction", e) == 0) return 0;
    /* A connection the server dropped while idle shows only now; nothing
     * was done yet, so BEGIN again on a new one (a single statement outside
     * a transaction fails once instead: it might have run). */
    if (PQstatus(s->conn) != CONNECTION_BAD) return -1;
    return pg_store_exec(s, "BEGIN", "begin transaction", e);
}

void pg_store_rollback(struct pg_store *s)
{
    if (PQtransactionStatus(s->conn) == PQTRANS_IDLE) return;
    PGresult *r = PQexec(s->conn, "ROLLBACK");
    PQclear(r);
}

int pg_store_commit(struct pg_store *s, struct err *e)
{
    if (pg_store_exec(s, "COMMIT", "commit", e) == 0) return 0;
    pg_store_rollback(s);
    return -1;
}

int pg_store_end(struct pg_store *s, int r, struct err *e)
{
    if (r >= 0 && pg_store_commit(s, e) == 0) return r;
    pg_store_rollback(s);
    return -1;
}

int pg_store_lock(struct pg_store *s, const char *scope, const char *key, struct err *e)
{
    PGresult *r = pg_store_query(s, "SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))",
                                 "taking a lock", PG_ARGS(PG_TEXT(scope), PG_TEXT(key)), 0, e);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

/* ---- rows into JSON ---- */

static json_t *col_text(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_null();
    json_t *v = json_stringn(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
    return v ? v : json_null(); /* invalid UTF-8 */
}

static json_t *col_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_null();
    return json_integer((json_int_t)pg_store_int(r, row, col));
}

static json_t *col_json(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_null();
    json_t *v = json_loadb(PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col),
                           JSON_DECODE_ANY, NULL);
    return v ? v : col_text(r, row, col);
}

static json_t *col_time(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return json_null();
    char iso[40];
    time_format_iso8601(pg_store_int(r, row, col), iso, sizeof iso);
    return json_string(iso);
}

json_t *pg_store_row_json(const PGresult *r, int row, const struct pg_col *cols, size_t n)
{
    static json_t *(*const read[])(const PGresult *, int, int) = {
        [PGC_TEXT] = col_text,
        [PGC_INT] = col_int,
        [PGC_JSON] = col_json,
        [PGC_TIME] = col_time,
    };
    if (n == 1 && !cols[0].name) return read[cols[0].kind](r, row, 0);
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(obj, cols[i].name, read[cols[i].kind](r, row, (int)i));
    return obj;
}

json_t *pg_store_query_rows(struct pg_store *s, const char *sql, const char *what,
                            const struct pg_arg *args, size_t n, const struct pg_col *cols,
                            size_t n_cols, struct err *e)
{
    PGresult *r = pg_store_query(s, sql, what, args, n, 0, e);
    if (!r) return NULL;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(list, pg_store_row_json(r, i, cols, n_cols));
    PQclear(r);
    return list;
}

json_t *pg_store_query_list(struct pg_store *s, const char *sql, const char *what,
                            const char *bind1, const struct pg_col *cols, size_t n, struct err *e)
{
    return pg_store_query_rows(s, sql, what, PG_ARGS(PG_TEXT(bind1)), cols, n, e);
}

json_t *pg_store_query_one(struct pg_store *s, const char *sql, const char *what, const char *bind1,
                           const struct pg_col *cols, size_t n, const char *field, const char *noun,
                           struct err *e)
{
    PGresult *r = pg_store_query(s, sql, what, PG_ARGS(PG_TEXT(bind1)), 0, e);
    if (!r) return NULL;
    json_t *row = PQntuples(r) > 0 ? pg_store_row_json(r, 0, cols, n) : NULL;
    PQclear(r);
    if (!row) err_set_field(e, ERR_NOT_FOUND, field, "%s '%s' not found", noun, bind1);
    return row;
}

/* ---- open and close ---- */

/* The server's NOTICEs (e.g. "relation already exists, skipping") go to
 * the debug log, not to stderr. */
static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %s", message);
}

static void pg_close(void *conn)
{
    struct pg_store *s = conn;
    if (!s) return;
    PQfinish(s->conn);
    free(s);
}

static void *pg_open(const char *url, struct err *e)
{
    if (!str_starts_with(url, "postgres://") && !str_starts_with(url, "postgresql://")) {
        err_set(e, ERR_INVALID, "unsupported store URL '%s': use postgres://USER@HOST:PORT/DB",
                url);
        return NULL;
    }
    struct pg_store *s = xcalloc(1, sizeof *s);
    s->conn = PQconnectdb(url);
    if (!s->conn) {
        err_set(e, ERR_INTERNAL, "postgres: out of memory (in connecting)");
        free(s);
        return NULL;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        pg_store_fail(s, e, "connecting");
        pg_close(s);
        return NULL;
    }
    PQsetNoticeProcessor(s->conn, on_notice, NULL);
    /* synchronous_commit on: an acknowledged feedback is on disk whatever
     * the server's default; the prediction log turns it off for its own
     * batches (as SQLite's synchronous FULL and NORMAL). */
    if (pg_store_exec(s, "SET client_min_messages = warning; SET synchronous_commit = on",
                      "connection settings", e) ||
        pg_store_migrate(s, e)) {
        err_prefix(e, "opening database '%s'", PQdb(s->conn));
        pg_close(s);
        return NULL;
    }
    return s;
}

static int pg_schema_version(void *conn)
{
    return ((struct pg_store *)conn)->schema_version;
}

const struct store_backend pg_store_backend = {
    .name = "pg",
    /* matches postgres:// and postgresql://; open() checks which */
    .scheme = "postgres",
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .dataset_find = pg_store_dataset_find,
    .example_count = pg_store_example_count,
    .dataset_add = pg_store_dataset_add,
    .datasets_list = pg_store_datasets_list,
    .dataset_get = pg_store_dataset_get,
    .examples_foreach = pg_store_examples_foreach,
    .run_create = pg_store_run_create,
    .run_attach = pg_store_run_attach,
    .run_finish = pg_store_run_finish,
    .run_log = pg_store_run_log,
    .run_get = pg_store_run_get,
    .runs_list = pg_store_runs_list,
    .model_add = pg_store_model_add,
    .model_artifact = pg_store_model_artifact,
    .models_list = pg_store_models_list,
    .alias_set = pg_store_alias_set,
    .alias_get = pg_store_alias_get,
    .alias_history = pg_store_alias_history,
    .predictions_add = pg_store_predictions_add,
    .prediction_get = pg_store_prediction_get,
    .feedback_add = pg_store_feedback_add,
    .feedback_get = pg_store_feedback_get,
    .feedback_stats = pg_store_feedback_stats,
    .run_state_merge = pg_store_run_state_merge,
    .run_steps_set = pg_store_run_steps_set,
    .run_status_set = pg_store_run_status_set,
    .runs_reap = pg_store_runs_reap,
    .job_enqueue = pg_store_job_enqueue,
    .job_claim = pg_store_job_claim,
    .job_heartbeat = pg_store_job_heartbeat,
    .job_finish = pg_store_job_finish,
    .job_cancel = pg_store_job_cancel,
    .jobs_list = pg_store_jobs_list,
    .feedback_gold_unused = pg_store_feedback_gold_unused,
    .feedback_gold_unused_count = pg_store_feedback_gold_unused_count,
    .feedback_mark_used = pg_store_feedback_mark_used,
    .feedback_satisfaction = pg_store_feedback_satisfaction,
    .review_queue = pg_store_review_queue,
    .feedback_export = pg_store_feedback_export,
    .task_times = pg_store_task_times,
    .alias_deploy = pg_store_alias_deploy,
    .alias_rollback = pg_store_alias_rollback,
    .listen_aliases = pg_store_listen_aliases,
    .wait_alias_change = pg_store_wait_alias_change,
    .experiment_create = pg_store_experiment_create,
    .experiment_get = pg_store_experiment_get,
    .experiments_list = pg_store_experiments_list,
    .experiment_update = pg_store_experiment_update,
    .experiment_tag_set = pg_store_experiment_tag_set,
    .mlflow_run_create = pg_store_mlflow_run_create,
    .mlflow_run_get = pg_store_mlflow_run_get,
    .mlflow_runs_get = pg_store_mlflow_runs_get,
    .mlflow_runs_scan = pg_store_mlflow_runs_scan,
    .mlflow_run_update = pg_store_mlflow_run_update,
    .mlflow_run_log = pg_store_mlflow_run_log,
    .mlflow_tag_delete = pg_store_mlflow_tag_delete,
    .mlflow_metric_history = pg_store_mlflow_metric_history,
    .registered_model_create = pg_store_registered_model_create,
    .registered_models_list = pg_store_registered_models_list,
    .registered_model_update = pg_store_registered_model_update,
    .registered_model_delete = pg_store_registered_model_delete,
    .registered_model_tag = pg_store_registered_model_tag,
    .model_version_create = pg_store_model_version_create,
    .model_versions_list = pg_store_model_versions_list,
    .model_version_update = pg_store_model_version_update,
    .model_version_delete = pg_store_model_version_delete,
    .model_version_tag = pg_store_model_version_tag,
    .model_alias_delete = pg_store_model_alias_delete,
    .artifact_put = pg_store_artifact_put,
    .artifact_get = pg_store_artifact_get,
    .artifacts_list = pg_store_artifacts_list,
    .artifact_delete = pg_store_artifact_delete,
    .rollout_start = pg_store_rollout_start,
    .rollout_active = pg_store_rollout_active,
    .rollout_end = pg_store_rollout_end,
    .rollout_stats = pg_store_rollout_stats,
    .rollouts_list = pg_store_rollouts_list,
};
