/* SQLite backend: runs and their log lines. */
#include "store/sqlite_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>

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

int sqlite_store_run_finish(void *conn, const char *run_id, const char *status,
                            const char *metrics_json, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "finishing run";
    if (sqlite_store_begin(s, e)) return -1;
    char current[32];
    int found = run_status(s, run_id, current, sizeof current, e);
    if (found < 0) goto fail;
    if (found == 0) {
        err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
        goto fail;
    }
    /* A finished run is history: finishing it twice is a caller bug that
     * would otherwise overwrite its metrics silently. */
    if (!str_eq(current, "running")) {
        err_set_field(e, ERR_CONFLICT, "status", "run '%s' is already %s", run_id, current);
        goto fail;
    }
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

/* A run as runs_list and run_get show it; run_get adds its "logs". */
#define RUN_COLUMNS "id, task, kind, status, params_json, metrics_json, started_ms, ended_ms"
static const struct sqlite_col run_cols[] = {
    {"id", COL_TEXT},     {"task", COL_TEXT},    {"kind", COL_TEXT},       {"status", COL_TEXT},
    {"params", COL_JSON}, {"metrics", COL_JSON}, {"started_at", COL_TIME}, {"ended_at", COL_TIME},
};

json_t *sqlite_store_run_get(void *conn, const char *run_id, struct err *e)
{
    static const struct sqlite_col line_col[] = {{NULL, COL_TEXT}};
    json_t *run =
        sqlite_store_query_one(conn, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1",
                               "reading run", run_id, SQLITE_COLS(run_cols), "run_id", "run", e);
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
                                            "SELECT " RUN_COLUMNS " FROM runs"
                                            " WHERE ?1 IS NULL OR task = ?1"
                                            " ORDER BY started_ms DESC, rowid DESC LIMIT ?2",
                                            what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, task);
    /* limit 0 means no limit (SQLite reads a negative LIMIT that way). */
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    json_t *list = sqlite_store_rows_json(s, st, what, SQLITE_COLS(run_cols), e);
    sqlite3_finalize(st);
    return list;
}
