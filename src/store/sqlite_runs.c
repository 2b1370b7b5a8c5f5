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
    int r = 0;
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite_store_violated(s, SQLITE_CONSTRAINT_PRIMARYKEY))
            r = err_set_field(e, ERR_CONFLICT, "run_id", "run '%s' already exists", run_id);
        else
            r = sqlite_store_fail(s, e, what);
    }
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
    int r = 0;
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite_store_violated(s, SQLITE_CONSTRAINT_FOREIGNKEY))
            r = err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
        else
            r = sqlite_store_fail(s, e, what);
    }
    sqlite3_finalize(st);
    return r;
}

#define RUN_COLUMNS "id, task, kind, status, params_json, metrics_json, started_ms, ended_ms"

static json_t *run_row(sqlite3_stmt *st)
{
    json_t *run = json_object();
    json_object_set_new(run, "id", sqlite_store_col_text(st, 0));
    json_object_set_new(run, "task", sqlite_store_col_text(st, 1));
    json_object_set_new(run, "kind", sqlite_store_col_text(st, 2));
    json_object_set_new(run, "status", sqlite_store_col_text(st, 3));
    json_object_set_new(run, "params", sqlite_store_col_json(st, 4));
    json_object_set_new(run, "metrics", sqlite_store_col_json(st, 5));
    json_object_set_new(run, "started_at", sqlite_store_col_time(st, 6));
    json_object_set_new(run, "ended_at", sqlite_store_col_time(st, 7));
    return run;
}

static json_t *run_logs(struct sqlite_store *s, const char *run_id, struct err *e)
{
    const char *what = "reading run logs";
    sqlite3_stmt *st =
        sqlite_store_prepare(s, "SELECT line FROM run_logs WHERE run_id = ?1 ORDER BY id", what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, run_id);
    json_t *lines = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1)
        json_array_append_new(lines, sqlite_store_col_text(st, 0));
    sqlite3_finalize(st);
    if (r < 0) {
        json_decref(lines);
        return NULL;
    }
    return lines;
}

json_t *sqlite_store_run_get(void *conn, const char *run_id, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "reading run";
    sqlite3_stmt *st =
        sqlite_store_prepare(s, "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1", what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, run_id);
    int r = sqlite_store_next(s, st, what, e);
    json_t *run = r == 1 ? run_row(st) : NULL;
    sqlite3_finalize(st);
    if (r == 0) err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
    if (!run) return NULL;
    json_t *logs = run_logs(s, run_id, e);
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
    json_t *list = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1)
        json_array_append_new(list, run_row(st));
    sqlite3_finalize(st);
    if (r < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}
