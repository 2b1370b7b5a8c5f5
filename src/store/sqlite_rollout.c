/* SQLite backend: shadow and canary rollouts (issue 6). Starting and ending
 * one are transactions that check the registry first, so two processes
 * deciding at once end a rollout once; the partial unique index
 * rollouts_one_active backs the one-active-rollout rule. */
#include "store/sqlite_store.h"
#include "store/rollout_sql.h"

#include "base/timeutil.h"

#include <string.h>

/* Reads the first row of a ROLLOUT_SQL_COLUMNS query: 1, 0 when none, -1. */
static int read_rollout(struct sqlite_store *s, const char *sql, const char *what,
                        const struct sqlite_arg *args, size_t n, struct store_rollout *out,
                        struct err *e)
{
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, n, e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        out->id = sqlite3_column_int64(st, 0);
        sqlite_store_col_copy(st, 1, out->task, sizeof out->task);
        sqlite_store_col_copy(st, 2, out->strategy, sizeof out->strategy);
        out->challenger_version = sqlite3_column_int64(st, 3);
        out->champion_version = sqlite3_column_int64(st, 4);
        out->percent = sqlite3_column_int(st, 5);
        out->min_feedback = sqlite3_column_int64(st, 6);
        sqlite_store_col_copy(st, 7, out->status, sizeof out->status);
        out->started_ms = sqlite3_column_int64(st, 8);
        out->ended_ms = sqlite3_column_int64(st, 9);
    }
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_rollout_active(void *conn, const char *task, struct store_rollout *out,
                                struct err *e)
{
    return read_rollout(conn,
                        "SELECT " ROLLOUT_SQL_COLUMNS " FROM rollouts WHERE task = ?1"
                        " AND status = 'active'",
                        "reading the active rollout", SQLITE_ARGS(SQL_TEXT(task)), out, e);
}

/* The checks of a start, inside its transaction: a servable version that is
 * not the champion, a champion to compare with, no rollout already active. */
static int check_start(struct sqlite_store *s, const struct store_rollout_start *r,
                       int64_t *champion, struct err *e)
{
    int64_t size = 0;
    int found = sqlite_store_query_ints(
        s, "SELECT size FROM model_versions WHERE task = ?1 AND version = ?2",
        "checking model version", SQLITE_ARGS(SQL_TEXT(r->task), SQL_INT(r->challenger_version)),
        &size, 1, e);
    if (found < 0) return -1;
    if (found == 0)
        return err_set_field(e, ERR_NOT_FOUND, "version", "task '%s' has no model version %lld",
                             r->task, (long long)r->challenger_version);
    if (size == 0)
        return err_set_field(e, ERR_INVALID, "version",
                             "version %lld of task '%s' has no artifact (registered through "
                             "MLflow): it cannot serve",
                             (long long)r->challenger_version, r->task);
    found = sqlite_store_query_int(s, "SELECT version FROM aliases WHERE task = ?1 AND alias = ?2",
                                   "reading alias", r->task, "champion", champion, e);
    if (found < 0) return -1;
    if (found == 0)
        return err_set_field(e, ERR_INVALID, "strategy",
                             "task '%s' has no champion to compare a %s with: deploy version "
                             "%lld directly",
                             r->task, r->strategy, (long long)r->challenger_version);
    if (*champion == r->challenger_version)
        return err_set_field(e, ERR_INVALID, "version",
                             "version %lld is already the champion of task '%s'",
                             (long long)r->challenger_version, r->task);
    struct store_rollout active;
    found = sqlite_store_rollout_active(s, r->task, &active, e);
    if (found < 0) return -1;
    if (found)
        return err_set_field(e, ERR_CONFLICT, "task",
                             "task '%s' already has an active %s of version %lld (rollout %lld): "
                             "stop it first",
                             r->task, active.strategy, (long long)active.challenger_version,
                             (long long)active.id);
    return 0;
}

static int insert_rollout(struct sqlite_store *s, const struct store_rollout_start *r,
                          int64_t champion, int64_t *id, struct err *e)
{
    int found = sqlite_store_query_ints(
        s,
        "INSERT INTO rollouts(task, strategy, challenger_version, champion_version, percent,"
        " min_feedback, status, reason, run_id, started_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?9) RETURNING id",
        "starting the rollout",
        SQLITE_ARGS(SQL_TEXT(r->task), SQL_TEXT(r->strategy), SQL_INT(r->challenger_version),
                    SQL_INT(champion), SQL_INT(r->percent), SQL_INT(r->min_feedback),
                    SQL_TEXT(r->reason), SQL_TEXT(r->run_id), SQL_INT(time_now_ms())),
        id, 1, e);
    if (found == 0) return err_set(e, ERR_INTERNAL, "starting the rollout: no id returned");
    return found < 0 ? -1 : 0;
}

int sqlite_store_rollout_start(void *conn, const struct store_rollout_start *r, int64_t *id,
                               struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int64_t champion = 0;
    int rc = check_start(s, r, &champion, e) ? -1 : insert_rollout(s, r, champion, id, e);
    return sqlite_store_end(s, rc, e);
}

/* The end proper, inside its transaction: 1 ended here, 0 already ended. */
static int end_rollout(struct sqlite_store *s, int64_t id, const char *status, const char *reason,
                       const char *decision_json, struct err *e)
{
    struct store_rollout ro;
    int found = read_rollout(s, "SELECT " ROLLOUT_SQL_COLUMNS " FROM rollouts WHERE id = ?1",
                             "reading the rollout", SQLITE_ARGS(SQL_INT(id)), &ro, e);
    if (found < 0) return -1;
    if (found == 0)
        return err_set_field(e, ERR_NOT_FOUND, "id", "rollout %lld not found", (long long)id);
    if (strcmp(ro.status, "active") != 0) return 0;
    if (strcmp(status, "promoted") == 0) {
        int64_t champion = 0;
        int has =
            sqlite_store_query_int(s, "SELECT version FROM aliases WHERE task = ?1 AND alias = ?2",
                                   "reading alias", ro.task, "champion", &champion, e);
        if (has < 0) return -1;
        if ((!has || champion != ro.challenger_version) &&
            sqlite_store_deploy_in(s, ro.task, ro.challenger_version, reason, "rollout", e))
            return -1;
    }
    if (sqlite_store_update(s,
                            "UPDATE rollouts SET status = ?2, outcome = ?3, decision_json = ?4,"
                            " ended_ms = ?5 WHERE id = ?1 AND status = 'active'",
                            "ending the rollout",
                            SQLITE_ARGS(SQL_INT(id), SQL_TEXT(status), SQL_TEXT(reason),
                                        SQL_TEXT(decision_json), SQL_INT(time_now_ms())),
                            NULL, e))
        return -1;
    return 1;
}

int sqlite_store_rollout_end(void *conn, int64_t id, const char *status, const char *reason,
                             const char *decision_json, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, end_rollout(s, id, status, reason, decision_json, e), e);
}

static int arm_stats(struct sqlite_store *s, const struct store_rollout *r, int64_t version,
                     struct store_rollout_arm *out, struct err *e)
{
    int64_t v[3] = {0, 0, 0};
    if (sqlite_store_query_ints(s, ROLLOUT_SQL_ARM("rowid"), "measuring a rollout",
                                SQLITE_ARGS(SQL_INT(r->id), SQL_INT(version)), v, 3, e) < 0)
        return -1;
    rollout_sql_arm(v, out);
    return 0;
}

static int shadow_stats(struct sqlite_store *s, const struct store_rollout *r,
                        struct store_rollout_stats *out, struct err *e)
{
    int64_t v[6] = {0, 0, 0, 0, 0, 0};
    if (sqlite_store_query_ints(s, ROLLOUT_SQL_SHADOW("rowid"), "measuring a shadow",
                                SQLITE_ARGS(SQL_INT(r->id), SQL_INT(r->challenger_version)), v, 6,
                                e) < 0)
        return -1;
    rollout_sql_shadow(v, out);
    return 0;
}

int sqlite_store_rollout_stats(void *conn, const struct store_rollout *r,
                               struct store_rollout_stats *out, struct err *e)
{
    struct sqlite_store *s = conn;
    if (arm_stats(s, r, r->champion_version, &out->champion, e)) return -1;
    if (strcmp(r->strategy, "shadow") == 0) return shadow_stats(s, r, out, e);
    return arm_stats(s, r, r->challenger_version, &out->challenger, e);
}

json_t *sqlite_store_rollouts_list(void *conn, const char *task, size_t limit, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_INT},
        {"task", COL_TEXT},
        {"strategy", COL_TEXT},
        {"challenger_version", COL_INT},
        {"champion_version", COL_INT},
        {"percent", COL_INT},
        {"min_feedback", COL_INT},
        {"status", COL_TEXT},
        {"reason", COL_TEXT},
        {"run_id", COL_TEXT},
        {"outcome", COL_TEXT},
        {"decision", COL_JSON},
        {"started_at", COL_TIME},
        {"ended_at", COL_TIME},
    };
    /* a negative LIMIT is no limit in SQLite */
    return sqlite_store_query_rows(
        conn,
        "SELECT id, task, strategy, challenger_version, champion_version, percent, min_feedback,"
        " status, reason, run_id, outcome, decision_json, started_ms, ended_ms FROM rollouts"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY id DESC LIMIT ?2",
        "listing rollouts", SQLITE_ARGS(SQL_TEXT(task), SQL_INT(limit ? (int64_t)limit : -1)),
        SQLITE_COLS(cols), e);
}
