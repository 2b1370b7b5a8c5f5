/* PostgreSQL backend: the model registry (artifacts as BYTEA), aliases with
 * their history, and LISTEN/NOTIFY on champion moves so that every server
 * on the database learns of a new champion at once. */
#include "store/pg_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

static int add_version(struct pg_store *s, const struct store_model_version *v, int64_t *version,
                       struct err *e)
{
    if (pg_store_lock(s, PG_TASK_LOCK, v->task, e)) return -1;
    PGresult *r = pg_store_query(
        s,
        "INSERT INTO model_versions(task, version, run_id, dataset_hash, config_hash, kind,"
        " artifact, artifact_sha256, size, metrics_json, created_ms, boucle_version)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11"
        " FROM model_versions WHERE task = $1"
        " RETURNING version",
        "adding model version",
        PG_ARGS(PG_TEXT(v->task), PG_TEXT(v->run_id), PG_TEXT(v->dataset_hash),
                PG_TEXT(v->config_hash), PG_TEXT(v->kind), PG_BYTES(v->artifact, v->artifact_len),
                PG_TEXT(v->artifact_sha256), PG_INT((int64_t)v->artifact_len),
                PG_TEXT(v->metrics_json), PG_INT(time_now_ms()), PG_TEXT(v->boucle_version)),
        0, e);
    if (!r) {
        if (pg_store_violated(s, "23503"))
            err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", v->run_id);
        return -1;
    }
    *version = pg_store_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int pg_store_model_add(void *conn, const struct store_model_version *v, int64_t *version,
                       struct err *e)
{
    struct pg_store *s = conn;
    int64_t added = 0;
    if (pg_store_begin(s, e) || pg_store_end(s, add_version(s, v, &added, e), e) < 0) return -1;
    if (version) *version = added;
    return 0;
}

static int no_version(const char *task, int64_t version, struct err *e)
{
    return err_set_field(e, ERR_NOT_FOUND, "version", "task '%s' has no model version %lld", task,
                         (long long)version);
}

int pg_store_model_artifact(void *conn, const char *task, int64_t version, void **data, size_t *len,
                            struct err *e)
{
    /* binary result: the bytea column arrives as its raw bytes */
    PGresult *r =
        pg_store_query(conn, "SELECT artifact FROM model_versions WHERE task = $1 AND version = $2",
                       "reading model artifact", PG_ARGS(PG_TEXT(task), PG_INT(version)), 1, e);
    if (!r) return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return no_version(task, version, e);
    }
    size_t n = (size_t)PQgetlength(r, 0, 0);
    *data = xmalloc(n ? n : 1);
    if (n) memcpy(*data, PQgetvalue(r, 0, 0), n);
    *len = n;
    PQclear(r);
    return 0;
}

json_t *pg_store_models_list(void *conn, const char *task, struct err *e)
{
    /* "aliases" comes from a second query per row, yet sits between
     * "metrics" and "created_at": the SELECT carries a NULL placeholder for
     * it, and replacing an object member keeps its place. */
    static const struct pg_col cols[] = {
        {"task", PGC_TEXT},         {"version", PGC_INT},      {"run_id", PGC_TEXT},
        {"dataset_hash", PGC_TEXT}, {"config_hash", PGC_TEXT}, {"boucle_version", PGC_TEXT},
        {"kind", PGC_TEXT},         {"sha256", PGC_TEXT},      {"size", PGC_INT},
        {"metrics", PGC_JSON},      {"aliases", PGC_TEXT},     {"created_at", PGC_TIME},
    };
    static const struct pg_col name_col[] = {{NULL, PGC_TEXT}};
    struct pg_store *s = conn;
    PGresult *r = pg_store_query(s,
                                 "SELECT task, version, run_id, dataset_hash, config_hash,"
                                 " boucle_version, kind, artifact_sha256, size, metrics_json,"
                                 " NULL AS aliases, created_ms"
                                 " FROM model_versions WHERE $1::text IS NULL OR task = $1"
                                 " ORDER BY created_ms DESC, version DESC",
                                 "listing model versions", PG_ARGS(PG_TEXT(task)), 0, e);
    if (!r) return NULL;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *aliases = pg_store_query_rows(
            s, "SELECT alias FROM aliases WHERE task = $1 AND version = $2 ORDER BY alias",
            "reading aliases", PG_ARGS(PG_TEXT(PQgetvalue(r, i, 0)), PG_INT(pg_store_int(r, i, 1))),
            PG_COLS(name_col), e);
        if (!aliases) {
            json_decref(list);
            list = NULL;
            break;
        }
        json_t *m = pg_store_row_json(r, i, PG_COLS(cols));
        json_object_set_new(m, "aliases", aliases);
        json_array_append_new(list, m);
    }
    PQclear(r);
    return list;
}

static int alias_lookup(struct pg_store *s, const char *task, const char *alias, int64_t *version,
                        struct err *e)
{
    return pg_store_query_int(s, "SELECT version FROM aliases WHERE task = $1 AND alias = $2",
                              "reading alias", task, alias, version, e);
}

static int need_version_row(struct pg_store *s, const char *task, int64_t version, struct err *e)
{
    int64_t one = 0;
    int exists = pg_store_query_ints(
        s, "SELECT 1 FROM model_versions WHERE task = $1 AND version = $2",
        "checking model version", PG_ARGS(PG_TEXT(task), PG_INT(version)), &one, 1, e);
    if (exists == 0) return no_version(task, version, e);
    return exists == 1 ? 0 : -1;
}

static int write_alias(struct pg_store *s, const char *task, const char *alias, int64_t version,
                       int has_from, int64_t from, const char *reason, const char *actor,
                       struct err *e)
{
    int64_t now = time_now_ms();
    if (pg_store_update(s,
                        "INSERT INTO aliases(task, alias, version, updated_ms)"
                        " VALUES($1, $2, $3, $4)"
                        " ON CONFLICT(task, alias) DO UPDATE SET version = excluded.version,"
                        " updated_ms = excluded.updated_ms",
                        "moving alias",
                        PG_ARGS(PG_TEXT(task), PG_TEXT(alias), PG_INT(version), PG_INT(now)), NULL,
                        e))
        return -1;
    /* from_version is NULL the first time: a CASE on a flag keeps the SQL
     * one constant string */
    if (pg_store_update(s,
                        "INSERT INTO alias_history(task, alias, from_version, to_version,"
                        " reason, actor, ts_ms)"
                        " VALUES($1, $2, CASE WHEN $3 = 1 THEN $4 END, $5, $6, $7, $8)",
                        "recording alias history",
                        PG_ARGS(PG_TEXT(task), PG_TEXT(alias), PG_INT(has_from), PG_INT(from),
                                PG_INT(version), PG_TEXT(reason), PG_TEXT(actor), PG_INT(now)),
                        NULL, e))
        return -1;
    /* Servers LISTENing learn of the new champion when this commits. */
    if (str_eq(alias, "champion") &&
        pg_store_update(s, "SELECT pg_notify('" PG_ALIAS_CHANNEL "', $1)",
                        "announcing the champion", PG_ARGS(PG_TEXT(task)), NULL, e))
        return -1;
    return 0;
}

static int move_alias(struct pg_store *s, const char *task, const char *alias, int64_t version,
                      const char *reason, const char *actor, struct err *e)
{
    int64_t from = 0;
    int has_from = alias_lookup(s, task, alias, &from, e);
    if (has_from < 0) return -1;
    return write_alias(s, task, alias, version, has_from, from, reason, actor, e);
}

int pg_store_alias_set(void *conn, const char *task, const char *alias, int64_t version,
                       const char *reason, const char *actor, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int r = pg_store_lock(s, PG_TASK_LOCK, task, e) || need_version_row(s, task, version, e)
                ? -1
                : move_alias(s, task, alias, version, reason, actor, e);
    return pg_store_end(s, r, e);
}

int pg_store_deploy_in(struct pg_store *s, const char *task, int64_t version, const char *reason,
                       const char *actor, struct err *e)
{
    int64_t champion = 0;
    if (pg_store_lock(s, PG_TASK_LOCK, task, e) || need_version_row(s, task, version, e)) return -1;
    int has_champion = alias_lookup(s, task, "champion", &champion, e);
    if (has_champion < 0) return -1;
    if (has_champion && champion == version)
        return err_set_field(e, ERR_CONFLICT, "version",
                             "version %lld is already the champion of task '%s'",
                             (long long)version, task);
    if (has_champion && move_alias(s, task, "previous", champion, reason, actor, e)) return -1;
    return write_alias(s, task, "champion", version, has_champion, champion, reason, actor, e);
}

int pg_store_alias_deploy(void *conn, const char *task, int64_t version, const char *reason,
                          const char *actor, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, pg_store_deploy_in(s, task, version, reason, actor, e), e);
}

static int roll_back(struct pg_store *s, const char *task, const char *reason, const char *actor,
                     int64_t *now_serving, struct err *e)
{
    int64_t previous = 0, champion = 0;
    if (pg_store_lock(s, PG_TASK_LOCK, task, e)) return -1;
    int has_previous = alias_lookup(s, task, "previous", &previous, e);
    if (has_previous == 0)
        return err_set_field(e, ERR_NOT_FOUND, "alias",
                             "task '%s' has no previous version to roll back to", task);
    int has_champion = has_previous < 0 ? -1 : alias_lookup(s, task, "champion", &champion, e);
    if (has_champion < 0 ||
        write_alias(s, task, "champion", previous, has_champion, champion, reason, actor, e) ||
        (has_champion && write_alias(s, task, "previous", champion, 1, previous, reason, actor, e)))
        return -1;
    *now_serving = previous;
    return 0;
}

int pg_store_alias_rollback(void *conn, const char *task, const char *reason, const char *actor,
                            int64_t *now_serving, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, roll_back(s, task, reason, actor, now_serving, e), e);
}

int pg_store_alias_get(void *conn, const char *task, const char *alias, int64_t *version,
                       struct err *e)
{
    return alias_lookup(conn, task, alias, version, e);
}

json_t *pg_store_alias_history(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_INT},           {"task", PGC_TEXT},       {"alias", PGC_TEXT},
        {"from_version", PGC_INT}, {"to_version", PGC_INT},  {"reason", PGC_TEXT},
        {"actor", PGC_TEXT},       {"changed_at", PGC_TIME},
    };
    return pg_store_query_list(
        conn,
        "SELECT id, task, alias, from_version, to_version, reason, actor, ts_ms"
        " FROM alias_history"
        " WHERE $1::text IS NULL OR task = $1 ORDER BY id DESC",
        "reading alias history", task, PG_COLS(cols), e);
}

/* ---- LISTEN/NOTIFY ---- */

int pg_store_listen_aliases(void *conn, struct err *e)
{
    struct pg_store *s = conn;
    if (s->listening) return 0;
    if (pg_store_exec(s, "LISTEN " PG_ALIAS_CHANNEL, "listening for champion moves", e)) return -1;
    s->listening = 1;
    return 0;
}

/* Frees every notification libpq holds; 1 if there was one. */
static int drain(struct pg_store *s)
{
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(s->conn))) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

/* Reads what the server sent: 0, or 1 when the connection had dropped and
 * was re-established (moves may have been missed), or -1. */
static int consume(struct pg_store *s, struct err *e)
{
    if (PQconsumeInput(s->conn) && PQstatus(s->conn) == CONNECTION_OK) return 0;
    if (PQstatus(s->conn) != CONNECTION_BAD)
        return pg_store_fail(s, e, "waiting for champion moves");
    if (pg_store_connected(s, e)) return -1;
    s->reconnected = 0;
    return 1;
}

int pg_store_wait_alias_change(void *conn, int timeout_ms, struct err *e)
{
    struct pg_store *s = conn;
    /* A lost connection also lost the moves made while it was down: after
     * a reconnect, say "changed" so the caller re-reads the champion. */
    if (pg_store_connected(s, e)) return -1;
    if (s->reconnected) {
        s->reconnected = 0;
        return 1;
    }
    /* Notifications that arrived during other queries are already queued. */
    int r = consume(s, e);
    if (r) return r;
    if (drain(s)) return 1;
    int64_t deadline = time_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = deadline - time_now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = PQsocket(s->conn), .events = POLLIN};
        if (p.fd < 0) return pg_store_fail(s, e, "waiting for champion moves");
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno != EINTR)
            return err_set(e, ERR_IO, "postgres: poll: %s (in waiting for champion moves)",
                           strerror(errno));
        if (rc <= 0) continue;
        if ((r = consume(s, e))) return r;
        if (drain(s)) return 1;
    }
}
