/* PostgreSQL backend: shadow and canary rollouts (issue 6), as the SQLite
 * backend's. Starting and ending one take the task's registry lock (the one
 * alias moves take), so a start, an end and a deploy of a task never
 * interleave across processes; both announce themselves on the champion
 * channel, so every server's watcher re-reads the task at once. */
#include "store/pg_store.h"
#include "store/rollout_sql.h"

#include "base/timeutil.h"

#include <string.h>

/* pg_registry.c's lock scope for a task's aliases */
#define REGISTRY_LOCK "registry"

/* Reads the first row of a ROLLOUT_SQL_COLUMNS query: 1, 0 when none, -1. */
static int read_rollout(struct pg_store *s, const char *sql, const char *what,
                        const struct pg_arg *args, size_t n, struct store_rollout *out,
                        struct err *e)
{
    PGresult *r = pg_store_query(s, sql, what, args, n, 0, e);
    if (!r) return -1;
    int found = PQntuples(r) > 0;
    if (found) {
        out->id = pg_store_int(r, 0, 0);
        pg_store_copy(r, 0, 1, out->task, sizeof out->task);
        pg_store_copy(r, 0, 2, out->strategy, sizeof out->strategy);
        out->challenger_version = pg_store_int(r, 0, 3);
        out->champion_version = pg_store_int(r, 0, 4);
        out->percent = (int)pg_store_int(r, 0, 5);
        out->min_feedback = pg_store_int(r, 0, 6);
        pg_store_copy(r, 0, 7, out->status, sizeof out->status);
        out->started_ms = pg_store_int(r, 0, 8);
        out->ended_ms = pg_store_int(r, 0, 9);
    }
    PQclear(r);
    return found;
}

int pg_store_rollout_active(void *conn, const char *task, struct store_rollout *out, struct err *e)
{
    return read_rollout(conn,
                        "SELECT " ROLLOUT_SQL_COLUMNS " FROM rollouts WHERE task = $1"
                        " AND status = 'active'",
                        "reading the active rollout", PG_ARGS(PG_TEXT(task)), out, e);
}

/* Servers LISTENing re-read the task when the transaction commits. */
static int announce(struct pg_store *s, const char *task, struct err *e)
{
    return pg_store_update(s, "SELECT pg_notify('" PG_ALIAS_CHANNEL "', $1)",
                           "announcing the rollout", PG_ARGS(PG_TEXT(task)), NULL, e);
}

static int champion_of(struct pg_store *s, const char *task, int64_t *champion, struct err *e)
{
    return pg_store_query_int(s, "SELECT version FROM aliases WHERE task = $1 AND alias = $2",
                              "reading alias", task, "champion", champion, e);
}

/* The checks of a start (see the SQLite backend's). */
static int check_start(struct pg_store *s, const struct store_rollout_start *r, int64_t *champion,
                       struct err *e)
{
    int64_t size = 0;
    int found =
        pg_store_query_ints(s, "SELECT size FROM model_versions WHERE task = $1 AND version = $2",
                            "checking model version",
                            PG_ARGS(PG_TEXT(r->task), PG_INT(r->challenger_version)), &size, 1, e);
    if (found < 0) return -1;
    if (found == 0)
        return err_set_field(e, ERR_NOT_FOUND, "version", "task '%s' has no model version %lld",
                             r->task, (long long)r->challenger_version);
    if (size == 0)
        return err_set_field(e, ERR_INVALID, "version",
                             "version %lld of task '%s' has no artifact (registered through "
                             "MLflow): it cannot serve",
                             (long long)r->challenger_version, r->task);
    found = champion_of(s, r->task, champion, e);
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
    found = pg_store_rollout_active(s, r->task, &active, e);
    if (found < 0) return -1;
    if (found)
        return err_set_field(e, ERR_CONFLICT, "task",
                             "task '%s' already has an active %s of version %lld (rollout %lld): "
                             "stop it first",
                             r->task, active.strategy, (long long)active.challenger_version,
                             (long long)active.id);
    return 0;
}

static int insert_rollout(struct pg_store *s, const struct store_rollout_start *r, int64_t champion,
                          int64_t *id, struct err *e)
{
    int found = pg_store_query_ints(
        s,
        "INSERT INTO rollouts(task, strategy, challenger_version, champion_version, percent,"
        " min_feedback, status, reason, run_id, started_ms)"
        " VALUES($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9) RETURNING id",
        "starting the rollout",
        PG_ARGS(PG_TEXT(r->task), PG_TEXT(r->strategy), PG_INT(r->challenger_version),
                PG_INT(champion), PG_INT(r->percent), PG_INT(r->min_feedback), PG_TEXT(r->reason),
                PG_TEXT(r->run_id), PG_INT(time_now_ms())),
        id, 1, e);
    if (found == 0) return err_set(e, ERR_INTERNAL, "starting the rollout: no id returned");
    return found < 0 ? -1 : announce(s, r->task, e);
}

int pg_store_rollout_start(void *conn, const struct store_rollout_start *r, int64_t *id,
                           struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int64_t champion = 0;
    int rc = pg_store_lock(s, REGISTRY_LOCK, r->task, e) || check_start(s, r, &champion, e)
                 ? -1
                 : insert_rollout(s, r, champion, id, e);
    return pg_store_end(s, rc, e);
}

/* The end proper, inside its transaction: 1 ended here, 0 already ended. */
static int end_rollout(struct pg_store *s, int64_t id, const char *status, const char *reason,
                       const char *decision_json, struct err *e)
{
    struct store_rollout ro;
    int found = read_rollout(s, "SELECT " ROLLOUT_SQL_COLUMNS " FROM rollouts WHERE id = $1",
                             "reading the rollout", PG_ARGS(PG_INT(id)), &ro, e);
    if (found < 0) return -1;
    if (found == 0)
        return err_set_field(e, ERR_NOT_FOUND, "id", "rollout %lld not found", (long long)id);
    /* under the task's lock, re-read: another process may have ended it */
    if (pg_store_lock(s, REGISTRY_LOCK, ro.task, e) ||
        read_rollout(s, "SELECT " ROLLOUT_SQL_COLUMNS " FROM rollouts WHERE id = $1",
                     "reading the rollout", PG_ARGS(PG_INT(id)), &ro, e) < 0)
        return -1;
    if (strcmp(ro.status, "active") != 0) return 0;
    if (strcmp(status, "promoted") == 0) {
        int64_t champion = 0;
        int has = champion_of(s, ro.task, &champion, e);
        if (has < 0) return -1;
        if ((!has || champion != ro.challenger_version) &&
            pg_store_deploy_in(s, ro.task, ro.challenger_version, reason, "rollout", e))
            return -1;
    }
    if (pg_store_update(s,
                        "UPDATE rollouts SET status = $2, outcome = $3, decision_json = $4,"
                        " ended_ms = $5 WHERE id = $1 AND status = 'active'",
                        "ending the rollout",
                        PG_ARGS(PG_INT(id), PG_TEXT(status), PG_TEXT(reason),
                                PG_TEXT(decision_json), PG_INT(time_now_ms())),
                        NULL, e) ||
        announce(s, ro.task, e))
        return -1;
    return 1;
}

int pg_store_rollout_end(void *conn, int64_t id, const char *status, const char *reason,
                         const char *decision_json, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, end_rollout(s, id, status, reason, decision_json, e), e);
}

static int arm_stats(struct pg_store *s, const struct store_rollout *r, int64_t version,
                     struct store_rollout_arm *out, struct err *e)
{
    int64_t v[3] = {0, 0, 0};
    if (pg_store_query_ints(s, ROLLOUT_SQL_ARM("seq"), "measuring a rollout",
                            PG_ARGS(PG_INT(r->id), PG_INT(version)), v, 3, e) < 0)
        return -1;
    rollout_sql_arm(v, out);
    return 0;
}

static int shadow_stats(struct pg_store *s, const struct store_rollout *r,
                        struct store_rollout_stats *out, struct err *e)
{
    int64_t v[6] = {0, 0, 0, 0, 0, 0};
    if (pg_store_query_ints(s, ROLLOUT_SQL_SHADOW("seq"), "measuring a shadow",
                            PG_ARGS(PG_INT(r->id), PG_INT(r->challenger_version)), v, 6, e) < 0)
        return -1;
    rollout_sql_shadow(v, out);
    return 0;
}

int pg_store_rollout_stats(void *conn, const struct store_rollout *r,
                           struct store_rollout_stats *out, struct err *e)
{
    struct pg_store *s = conn;
    if (arm_stats(s, r, r->champion_version, &out->champion, e)) return -1;
    if (strcmp(r->strategy, "shadow") == 0) return shadow_stats(s, r, out, e);
    return arm_stats(s, r, r->challenger_version, &out->challenger, e);
}

json_t *pg_store_rollouts_list(void *conn, const char *task, size_t limit, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_INT},
        {"task", PGC_TEXT},
        {"strategy", PGC_TEXT},
        {"challenger_version", PGC_INT},
        {"champion_version", PGC_INT},
        {"percent", PGC_INT},
        {"min_feedback", PGC_INT},
        {"status", PGC_TEXT},
        {"reason", PGC_TEXT},
        {"run_id", PGC_TEXT},
        {"outcome", PGC_TEXT},
        {"decision", PGC_JSON},
        {"started_at", PGC_TIME},
        {"ended_at", PGC_TIME},
    };
    /* limit 0 means no limit: LIMIT NULL is LIMIT ALL */
    return pg_store_query_rows(
        conn,
        "SELECT id, task, strategy, challenger_version, champion_version, percent, min_feedback,"
        " status, reason, run_id, outcome, decision_json, started_ms, ended_ms FROM rollouts"
        " WHERE $1::text IS NULL OR task = $1 ORDER BY id DESC LIMIT nullif($2, 0)",
        "listing rollouts", PG_ARGS(PG_TEXT(task), PG_INT((int64_t)limit)), PG_COLS(cols), e);
}
