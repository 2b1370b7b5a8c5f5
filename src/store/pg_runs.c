/* PostgreSQL backend: runs, their log lines and the loop's run state. */
#include "store/pg_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int pg_store_run_create(void *conn, const char *run_id, const char *task, const char *kind,
                        const char *params_json, struct err *e)
{
    return pg_store_write(conn,
                          "INSERT INTO runs(id, task, kind, status, params_json, started_ms)"
                          " VALUES($1, $2, $3, 'running', $4, $5)",
                          "creating run",
                          PG_ARGS(PG_TEXT(run_id), PG_TEXT(task), PG_TEXT(kind),
                                  PG_TEXT(params_json), PG_INT(time_now_ms())),
                          "23505", ERR_CONFLICT, "run_id", e, "run '%s' already exists", run_id);
}

/* 0 when the run exists with status `a` or `b` (b may be NULL); else -1
 * with ERR_NOT_FOUND, or ERR_CONFLICT naming its status. The caller holds
 * the transaction: the row stays locked until it ends. */
static int run_status_is(struct pg_store *s, const char *run_id, const char *a, const char *b,
                         struct err *e)
{
    PGresult *r = pg_store_query(s, "SELECT status FROM runs WHERE id = $1 FOR UPDATE",
                                 "reading run status", PG_ARGS(PG_TEXT(run_id)), 0, e);
    if (!r) return -1;
    char current[32] = "";
    int found = PQntuples(r) > 0;
    if (found) pg_store_copy(r, 0, 0, current, sizeof current);
    PQclear(r);
    if (!found) return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    if (str_eq(current, a) || (b && str_eq(current, b))) return 0;
    return err_set_field(e, ERR_CONFLICT, "status", "run '%s' is already %s", run_id, current);
}

int pg_store_run_attach(void *conn, const char *run_id, int64_t experiment_id, const char *run_name,
                        const char *artifact_uri, struct err *e)
{
    int64_t changed = 0;
    if (pg_store_update(conn,
                        "UPDATE runs SET experiment_id = $2, run_name = $3, user_id = 'boucle',"
                        " artifact_uri = $4 WHERE id = $1",
                        "attaching run to its experiment",
                        PG_ARGS(PG_TEXT(run_id), PG_INT(experiment_id), PG_TEXT(run_name),
                                PG_TEXT(artifact_uri)),
                        &changed, e))
        return -1;
    if (!changed) return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    return 0;
}

int pg_store_run_finish(void *conn, const char *run_id, const char *status,
                        const char *metrics_json, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int r = run_status_is(s, run_id, "running", NULL, e) ||
                    pg_store_update(s,
                                    "UPDATE runs SET status = $2,"
                                    " metrics_json = coalesce($3, metrics_json), ended_ms = $4"
                                    " WHERE id = $1",
                                    "finishing run",
                                    PG_ARGS(PG_TEXT(run_id), PG_TEXT(status), PG_TEXT(metrics_json),
                                            PG_INT(time_now_ms())),
                                    NULL, e)
                ? -1
                : 0;
    return pg_store_end(s, r, e);
}

int pg_store_run_log(void *conn, const char *run_id, const char *line, struct err *e)
{
    return pg_store_write(conn, "INSERT INTO run_logs(run_id, ts_ms, line) VALUES($1, $2, $3)",
                          "appending run log",
                          PG_ARGS(PG_TEXT(run_id), PG_INT(time_now_ms()), PG_TEXT(line)), "23503",
                          ERR_NOT_FOUND, "run_id", e, "run '%s' not found", run_id);
}

/* As the SQLite backend: "logs" sits after "ended_at" through a NULL
 * placeholder that a second query's list replaces in place. */
#define RUN_COLUMNS "id, task, kind, status, params_json, metrics_json, started_ms, ended_ms"
/* clang-format off */
#define RUN_COLS                                                                                   \
    {"id", PGC_TEXT}, {"task", PGC_TEXT}, {"kind", PGC_TEXT}, {"status", PGC_TEXT},                \
    {"params", PGC_JSON}, {"metrics", PGC_JSON}, {"started_at", PGC_TIME}, {"ended_at", PGC_TIME}
/* clang-format on */
static const struct pg_col run_list_cols[] = {RUN_COLS, {"trigger", PGC_TEXT}};
static const struct pg_col run_get_cols[] = {
    RUN_COLS, {"logs", PGC_TEXT}, {"state", PGC_JSON}, {"steps", PGC_JSON}, {"trigger", PGC_TEXT},
};

json_t *pg_store_run_get(void *conn, const char *run_id, struct err *e)
{
    static const struct pg_col line_col[] = {{NULL, PGC_TEXT}};
    json_t *run =
        pg_store_query_one(conn,
                           "SELECT " RUN_COLUMNS ", NULL AS logs, coalesce(state_json, '{}'),"
                           " coalesce(steps_json, '[]'), triggered_by FROM runs WHERE id = $1",
                           "reading run", run_id, PG_COLS(run_get_cols), "run_id", "run", e);
    if (!run) return NULL;
    json_t *logs =
        pg_store_query_list(conn, "SELECT line FROM run_logs WHERE run_id = $1 ORDER BY id",
                            "reading run logs", run_id, PG_COLS(line_col), e);
    if (!logs) {
        json_decref(run);
        return NULL;
    }
    json_object_set_new(run, "logs", logs);
    return run;
}

json_t *pg_store_runs_list(void *conn, const char *task, size_t limit, struct err *e)
{
    /* limit 0 means no limit: LIMIT NULL is LIMIT ALL */
    return pg_store_query_rows(conn,
                               "SELECT " RUN_COLUMNS ", triggered_by FROM runs"
                               " WHERE $1::text IS NULL OR task = $1"
                               " ORDER BY started_ms DESC, seq DESC LIMIT nullif($2, 0)",
                               "listing runs", PG_ARGS(PG_TEXT(task), PG_INT((int64_t)limit)),
                               PG_COLS(run_list_cols), e);
}

/* ---- the loop's run state ---- */

static int update_run(struct pg_store *s, const char *sql, const char *what, const char *run_id,
                      const char *value, struct err *e)
{
    int64_t changed = 0;
    if (pg_store_update(s, sql, what, PG_ARGS(PG_TEXT(run_id), PG_TEXT(value)), &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    return 0;
}

static int merge_state(struct pg_store *s, const char *run_id, json_t *patch, struct err *e)
{
    static const struct pg_col state_col[] = {{NULL, PGC_JSON}};
    /* FOR UPDATE: two merges at once never lose each other's keys */
    json_t *state = pg_store_query_one(
        s, "SELECT coalesce(state_json, '{}') FROM runs WHERE id = $1 FOR UPDATE",
        "reading run state", run_id, PG_COLS(state_col), "run_id", "run", e);
    if (!state) return -1;
    if (!json_is_object(state)) {
        json_decref(state);
        state = json_object();
    }
    json_object_update(state, patch);
    char *text = json_dumps(state, JSON_COMPACT);
    json_decref(state);
    int r = update_run(s, "UPDATE runs SET state_json = $2 WHERE id = $1", "writing run state",
                       run_id, text, e);
    free(text);
    return r;
}

int pg_store_run_state_merge(void *conn, const char *run_id, json_t *patch, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, merge_state(s, run_id, patch, e), e);
}

int pg_store_run_steps_set(void *conn, const char *run_id, json_t *steps, struct err *e)
{
    char *text = json_dumps(steps, JSON_COMPACT);
    int r = update_run(conn, "UPDATE runs SET steps_json = $2 WHERE id = $1", "writing run steps",
                       run_id, text, e);
    free(text);
    return r;
}

int pg_store_run_status_set(void *conn, const char *run_id, const char *status, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int r = run_status_is(s, run_id, "pending", "running", e)
                ? -1
                : update_run(s, "UPDATE runs SET status = $2 WHERE id = $1", "setting run status",
                             run_id, status, e);
    return pg_store_end(s, r, e);
}
