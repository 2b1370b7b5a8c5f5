/* SQLite backend: runs and their log lines. */
#include "store/sqlite_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int sqlite_store_run_create(void *conn, const char *run_id, const char *task, const char *kind,
                            const char *params_json, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "creating run";
    sqlite3_stmt *st =
        sqlite_store_prepare(s,
                             "INSERT INTO runs(id, task, kind, status, params_json, started_ms)"
                             " VALUES(?1, ?2, ?3, 'running', ?4, ?5)",
                             what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, run_id);
    sqlite_store_bind_text(st, 2, task);
    sqlite_store_bind_text(st, 3, kind);
    sqlite_store_bind_text(st, 4, params_json);
    sqlite3_bind_int64(st, 5, time_now_ms());
    int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_PRIMARYKEY, ERR_CONFLICT, "run_id", e,
                               "run '%s' already exists", run_id);
    sqlite3_finalize(st);
    return r;
}

/* 1 and the status when the run exists, 0 when not, -1 on error. The
 * caller holds the transaction. */
static int run_status(struct sqlite_store *s, const char *run_id, char *status, size_t size,
                      struct err *e)
{
    const char *what = "reading run status";
    sqlite3_stmt *st = sqlite_store_prepare(s, "SELECT status FROM runs WHERE id = ?1", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, run_id);
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) snprintf(status, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

/* 0 when the run exists with status `a` or `b` (b may be NULL); else -1
 * with ERR_NOT_FOUND, or ERR_CONFLICT naming its status. The caller holds
 * the transaction. */
static int run_status_is(struct sqlite_store *s, const char *run_id, const char *a, const char *b,
                         struct err *e)
{
    char current[32];
    int found = run_status(s, run_id, current, sizeof current, e);
    if (found < 0) return -1;
    if (found == 0) return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    if (str_eq(current, a) || (b && str_eq(current, b))) return 0;
    return err_set_field(e, ERR_CONFLICT, "status", "run '%s' is already %s", run_id, current);
}

int sqlite_store_run_attach(void *conn, const char *run_id, int64_t experiment_id,
                            const char *run_name, const char *artifact_uri, struct err *e)
{
    int64_t changed = 0;
    if (sqlite_store_update(conn,
                            "UPDATE runs SET experiment_id = ?2, run_name = ?3, user_id = 'boucle',"
                            " artifact_uri = ?4 WHERE id = ?1",
                            "attaching run to its experiment",
                            SQLITE_ARGS(SQL_TEXT(run_id), SQL_INT(experiment_id),
                                        SQL_TEXT(run_name), SQL_TEXT(artifact_uri)),
                            &changed, e))
        return -1;
    if (!changed) return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    return 0;
}

int sqlite_store_run_finish(void *conn, const char *run_id, const char *status,
                            const char *metrics_json, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "finishing run";
    if (sqlite_store_begin(s, e)) return -1;
    /* A finished run is history: finishing it twice is a caller bug that
     * would otherwise overwrite its metrics silently. */
    if (run_status_is(s, run_id, "running", NULL, e)) goto fail;
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "UPDATE runs SET status = ?2, metrics_json = coalesce(?3, metrics_json), ended_ms = ?4"
        " WHERE id = ?1",
        what, e);
    if (!st) goto fail;
    sqlite_store_bind_text(st, 1, run_id);
    sqlite_store_bind_text(st, 2, status);
    sqlite_store_bind_text(st, 3, metrics_json);
    sqlite3_bind_int64(st, 4, time_now_ms());
    int r = sqlite_store_step_done(s, st, what, e);
    sqlite3_finalize(st);
    if (r || sqlite_store_commit(s, e)) goto fail;
    return 0;
fail:
    sqlite_store_rollback(s);
    return -1;
}

int sqlite_store_run_log(void *conn, const char *run_id, const char *line, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "appending run log";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "INSERT INTO run_logs(run_id, ts_ms, line) VALUES(?1, ?2, ?3)", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, run_id);
    sqlite3_bind_int64(st, 2, time_now_ms());
    sqlite_store_bind_text(st, 3, line);
    int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_FOREIGNKEY, ERR_NOT_FOUND, "run_id",
                               e, "run '%s' not found", run_id);
    sqlite3_finalize(st);
    return r;
}

/* A run as runs_list and run_get show it: the columns both share, then
 * each one's own. run_get's "logs" come from a second query, yet sit right
 * after "ended_at" (where they always were): the SELECT carries a NULL
 * placeholder for them, and replacing an object member keeps its place. */
#define RUN_COLUMNS "id, task, kind, status, params_json, metrics_json, started_ms, ended_ms"
/* (kept by hand: clang-format cannot lay out an initializer list in a macro) */
/* clang-format off */
#define RUN_COLS                                                                                   \
    {"id", COL_TEXT}, {"task", COL_TEXT}, {"kind", COL_TEXT}, {"status", COL_TEXT},                \
    {"params", COL_JSON}, {"metrics", COL_JSON}, {"started_at", COL_TIME}, {"ended_at", COL_TIME}
/* clang-format on */
static const struct sqlite_col run_list_cols[] = {RUN_COLS, {"trigger", COL_TEXT}};
static const struct sqlite_col run_get_cols[] = {
    RUN_COLS, {"logs", COL_TEXT}, {"state", COL_JSON}, {"steps", COL_JSON}, {"trigger", COL_TEXT},
};

json_t *sqlite_store_run_get(void *conn, const char *run_id, struct err *e)
{
    static const struct sqlite_col line_col[] = {{NULL, COL_TEXT}};
    json_t *run = sqlite_store_query_one(
        conn,
        "SELECT " RUN_COLUMNS ", NULL AS logs, coalesce(state_json, '{}'),"
        " coalesce(steps_json, '[]'), triggered_by FROM runs WHERE id = ?1",
        "reading run", run_id, SQLITE_COLS(run_get_cols), "run_id", "run", e);
    if (!run) return NULL;
    json_t *logs =
        sqlite_store_query_list(conn, "SELECT line FROM run_logs WHERE run_id = ?1 ORDER BY id",
                                "reading run logs", run_id, SQLITE_COLS(line_col), e);
    if (!logs) {
        json_decref(run);
        return NULL;
    }
    json_object_set_new(run, "logs", logs);
    return run;
}

json_t *sqlite_store_runs_list(void *conn, const char *task, size_t limit, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "listing runs";
    sqlite3_stmt *st = sqlite_store_prepare(s,
                                            "SELECT " RUN_COLUMNS ", triggered_by FROM runs"
                                            " WHERE ?1 IS NULL OR task = ?1"
                                            " ORDER BY started_ms DESC, rowid DESC LIMIT ?2",
                                            what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, task);
    /* limit 0 means no limit (SQLite reads a negative LIMIT that way). */
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    json_t *list = sqlite_store_rows_json(s, st, what, SQLITE_COLS(run_list_cols), e);
    sqlite3_finalize(st);
    return list;
}

/* ---- the loop's run state ---- */

/* An UPDATE of one run: ?1 its id, ?2 the value. ERR_NOT_FOUND when no run
 * has that id. */
static int update_run(struct sqlite_store *s, const char *sql, const char *what, const char *run_id,
                      const char *value, struct err *e)
{
    int64_t changed = 0;
    if (sqlite_store_update(s, sql, what, SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(value)), &changed,
                            e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    return 0;
}

/* The merge inside the caller's transaction. */
static int merge_state(struct sqlite_store *s, const char *run_id, json_t *patch, struct err *e)
{
    static const struct sqlite_col state_col[] = {{NULL, COL_JSON}};
    json_t *state = sqlite_store_query_one(
        s, "SELECT coalesce(state_json, '{}') FROM runs WHERE id = ?1", "reading run state", run_id,
        SQLITE_COLS(state_col), "run_id", "run", e);
    if (!state) return -1;
    if (!json_is_object(state)) { /* damaged text reads back as a string */
        json_decref(state);
        state = json_object();
    }
    json_object_update(state, patch);
    char *text = json_dumps(state, JSON_COMPACT);
    json_decref(state);
    int r = update_run(s, "UPDATE runs SET state_json = ?2 WHERE id = ?1", "writing run state",
                       run_id, text, e);
    free(text);
    return r;
}

int sqlite_store_run_state_merge(void *conn, const char *run_id, json_t *patch, struct err *e)
{
    struct sqlite_store *s = conn;
    /* Read, merge and write under the write lock: two steps merging at once
     * (or two processes) never lose each other's keys. */
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, merge_state(s, run_id, patch, e), e);
}

int sqlite_store_run_steps_set(void *conn, const char *run_id, json_t *steps, struct err *e)
{
    char *text = json_dumps(steps, JSON_COMPACT);
    int r = update_run(conn, "UPDATE runs SET steps_json = ?2 WHERE id = ?1", "writing run steps",
                       run_id, text, e);
    free(text);
    return r;
}

int sqlite_store_run_status_set(void *conn, const char *run_id, const char *status, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    /* An ended run stays ended: only store_run_finish ends runs. */
    int r = run_status_is(s, run_id, "pending", "running", e)
                ? -1
                : update_run(s, "UPDATE runs SET status = ?2 WHERE id = ?1", "setting run status",
                             run_id, status, e);
    return sqlite_store_end(s, r, e);
}
