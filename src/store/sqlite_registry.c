/* SQLite backend: the model registry (versions with their artifact blobs)
 * and aliases with their history. */
#include "store/sqlite_store.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <string.h>

int sqlite_store_model_add(void *conn, const struct store_model_version *v, int64_t *version,
                           struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "adding model version";
    sqlite3_stmt *st = NULL;
    /* The next version is read under the write lock (BEGIN IMMEDIATE), so
     * two trainers finishing together still get distinct numbers. */
    if (sqlite_store_begin(s, e)) return -1;
    st = sqlite_store_prepare(
        s,
        "INSERT INTO model_versions(task, version, run_id, dataset_hash, config_hash, kind,"
        " artifact, artifact_sha256, size, metrics_json, created_ms, boucle_version)"
        " SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11"
        " FROM model_versions WHERE task = ?1"
        " RETURNING version",
        what, e);
    if (!st) goto fail;
    sqlite_store_bind_text(st, 1, v->task);
    sqlite_store_bind_text(st, 2, v->run_id);
    sqlite_store_bind_text(st, 3, v->dataset_hash);
    sqlite_store_bind_text(st, 4, v->config_hash);
    sqlite_store_bind_text(st, 5, v->kind);
    /* zeroblob for an empty artifact: a NULL pointer would bind SQL NULL. */
    if (v->artifact_len)
        sqlite3_bind_blob64(st, 6, v->artifact, v->artifact_len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 6, 0);
    sqlite_store_bind_text(st, 7, v->artifact_sha256);
    sqlite3_bind_int64(st, 8, (int64_t)v->artifact_len);
    sqlite_store_bind_text(st, 9, v->metrics_json);
    sqlite3_bind_int64(st, 10, time_now_ms());
    sqlite_store_bind_text(st, 11, v->boucle_version);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (sqlite_store_violated(s, SQLITE_CONSTRAINT_FOREIGNKEY))
            err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", v->run_id);
        else
            sqlite_store_fail(s, e, what);
        goto fail;
    }
    int64_t added = sqlite3_column_int64(st, 0);
    /* RETURNING rows are computed before the statement ends: step to done. */
    if (sqlite3_step(st) != SQLITE_DONE) {
        sqlite_store_fail(s, e, what);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite_store_commit(s, e)) return -1;
    if (version) *version = added;
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite_store_rollback(s);
    return -1;
}

static int no_version(const char *task, int64_t version, struct err *e)
{
    return err_set_field(e, ERR_NOT_FOUND, "version", "task '%s' has no model version %lld", task,
                         (long long)version);
}

int sqlite_store_model_artifact(void *conn, const char *task, int64_t version, void **data,
                                size_t *len, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "reading model artifact";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "SELECT artifact FROM model_versions WHERE task = ?1 AND version = ?2", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    sqlite3_bind_int64(st, 2, version);
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *blob = sqlite3_column_blob(st, 0);
        *data = xmalloc(n);
        if (n) memcpy(*data, blob, n);
        *len = n;
    }
    sqlite3_finalize(st);
    if (r == 0) return no_version(task, version, e);
    return r < 0 ? -1 : 0;
}

/* The aliases pointing at one version, by name; `st` is prepared once per
 * list and re-bound for each version. */
static json_t *aliases_of(struct sqlite_store *s, sqlite3_stmt *st, const char *task,
                          int64_t version, struct err *e)
{
    static const struct sqlite_col name_col[] = {{NULL, COL_TEXT}};
    sqlite_store_bind_text(st, 1, task);
    sqlite3_bind_int64(st, 2, version);
    json_t *names = sqlite_store_rows_json(s, st, "reading aliases", SQLITE_COLS(name_col), e);
    sqlite3_reset(st);
    return names;
}

json_t *sqlite_store_models_list(void *conn, const char *task, struct err *e)
{
    /* "aliases" comes from a second query per row, yet sits between
     * "metrics" and "created_at": the SELECT carries a NULL placeholder for
     * it, and replacing an object member keeps its place. */
    static const struct sqlite_col cols[] = {
        {"task", COL_TEXT},         {"version", COL_INT},      {"run_id", COL_TEXT},
        {"dataset_hash", COL_TEXT}, {"config_hash", COL_TEXT}, {"boucle_version", COL_TEXT},
        {"kind", COL_TEXT},         {"sha256", COL_TEXT},      {"size", COL_INT},
        {"metrics", COL_JSON},      {"aliases", COL_TEXT},     {"created_at", COL_TIME},
    };
    struct sqlite_store *s = conn;
    const char *what = "listing model versions";
    json_t *list = NULL;
    sqlite3_stmt *names = sqlite_store_prepare(
        s, "SELECT alias FROM aliases WHERE task = ?1 AND version = ?2 ORDER BY alias", what, e);
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "SELECT task, version, run_id, dataset_hash, config_hash, boucle_version, kind,"
        " artifact_sha256, size, metrics_json, NULL AS aliases, created_ms FROM model_versions"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY created_ms DESC, version DESC",
        what, e);
    if (!names || !st) goto done;
    sqlite_store_bind_text(st, 1, task);
    list = json_array();
    int r;
    while ((r = sqlite_store_next(s, st, what, e)) == 1) {
        json_t *aliases = aliases_of(s, names, (const char *)sqlite3_column_text(st, 0),
                                     sqlite3_column_int64(st, 1), e);
        if (!aliases) {
            r = -1;
            break;
        }
        json_t *m = sqlite_store_row_json(st, SQLITE_COLS(cols));
        json_object_set_new(m, "aliases", aliases);
        json_array_append_new(list, m);
    }
    if (r < 0) {
        json_decref(list);
        list = NULL;
    }
done:
    sqlite3_finalize(names);
    sqlite3_finalize(st);
    return list;
}

/* 1 and the version an alias points at, 0 when unset, -1 on error. */
static int alias_lookup(struct sqlite_store *s, const char *task, const char *alias,
                        int64_t *version, struct err *e)
{
    return sqlite_store_query_int(s, "SELECT version FROM aliases WHERE task = ?1 AND alias = ?2",
                                  "reading alias", task, alias, version, e);
}

static int version_exists(struct sqlite_store *s, const char *task, int64_t version, struct err *e)
{
    const char *what = "checking model version";
    sqlite3_stmt *st = sqlite_store_prepare(
        s, "SELECT 1 FROM model_versions WHERE task = ?1 AND version = ?2", what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    sqlite3_bind_int64(st, 2, version);
    int r = sqlite_store_next(s, st, what, e);
    sqlite3_finalize(st);
    return r;
}

static int write_alias(struct sqlite_store *s, const char *task, const char *alias, int64_t version,
                       int has_from, int64_t from, const char *reason, const char *actor,
                       struct err *e)
{
    const char *what = "moving alias";
    int64_t now = time_now_ms();
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "INSERT INTO aliases(task, alias, version, updated_ms) VALUES(?1, ?2, ?3, ?4)"
        " ON CONFLICT(task, alias) DO UPDATE SET version = excluded.version,"
        " updated_ms = excluded.updated_ms",
        what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    sqlite_store_bind_text(st, 2, alias);
    sqlite3_bind_int64(st, 3, version);
    sqlite3_bind_int64(st, 4, now);
    int r = sqlite_store_step_done(s, st, what, e);
    sqlite3_finalize(st);
    if (r) return -1;

    what = "recording alias history";
    st = sqlite_store_prepare(s,
                              "INSERT INTO alias_history(task, alias, from_version, to_version,"
                              " reason, actor, ts_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                              what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, task);
    sqlite_store_bind_text(st, 2, alias);
    if (has_from)
        sqlite3_bind_int64(st, 3, from);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, version);
    sqlite_store_bind_text(st, 5, reason);
    sqlite_store_bind_text(st, 6, actor);
    sqlite3_bind_int64(st, 7, now);
    r = sqlite_store_step_done(s, st, what, e);
    sqlite3_finalize(st);
    return r;
}

/* Points `alias` at `version`, recording where it pointed before; the caller
 * holds the transaction. */
static int move_alias(struct sqlite_store *s, const char *task, const char *alias, int64_t version,
                      const char *reason, const char *actor, struct err *e)
{
    int64_t from = 0;
    int has_from = alias_lookup(s, task, alias, &from, e);
    if (has_from < 0) return -1;
    return write_alias(s, task, alias, version, has_from, from, reason, actor, e);
}

/* 0 when the task has that version, else -1 with ERR_NOT_FOUND on "version". */
static int need_version_row(struct sqlite_store *s, const char *task, int64_t version,
                            struct err *e)
{
    int exists = version_exists(s, task, version, e);
    if (exists == 0) return no_version(task, version, e);
    return exists == 1 ? 0 : -1;
}

int sqlite_store_alias_set(void *conn, const char *task, const char *alias, int64_t version,
                           const char *reason, const char *actor, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_version_row(s, task, version, e)
                ? -1
                : move_alias(s, task, alias, version, reason, actor, e);
    return sqlite_store_end(s, r, e);
}

/* Deploy inside the caller's transaction: previous <- champion <- version. */
int sqlite_store_deploy_in(struct sqlite_store *s, const char *task, int64_t version,
                           const char *reason, const char *actor, struct err *e)
{
    int64_t champion = 0;
    if (need_version_row(s, task, version, e)) return -1;
    int has_champion = alias_lookup(s, task, "champion", &champion, e);
    if (has_champion < 0) return -1;
    /* Deploying the champion again would point `previous` at it too and
     * lose the version a rollback goes back to. */
    if (has_champion && champion == version)
        return err_set_field(e, ERR_CONFLICT, "version",
                             "version %lld is already the champion of task '%s'",
                             (long long)version, task);
    if (has_champion && move_alias(s, task, "previous", champion, reason, actor, e)) return -1;
    return write_alias(s, task, "champion", version, has_champion, champion, reason, actor, e);
}

int sqlite_store_alias_deploy(void *conn, const char *task, int64_t version, const char *reason,
                              const char *actor, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, sqlite_store_deploy_in(s, task, version, reason, actor, e), e);
}

/* Rollback inside the caller's transaction: champion <-> previous. */
static int roll_back(struct sqlite_store *s, const char *task, const char *reason,
                     const char *actor, int64_t *now_serving, struct err *e)
{
    int64_t previous = 0, champion = 0;
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

int sqlite_store_alias_rollback(void *conn, const char *task, const char *reason, const char *actor,
                                int64_t *now_serving, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, roll_back(s, task, reason, actor, now_serving, e), e);
}

int sqlite_store_alias_get(void *conn, const char *task, const char *alias, int64_t *version,
                           struct err *e)
{
    return alias_lookup(conn, task, alias, version, e);
}

json_t *sqlite_store_alias_history(void *conn, const char *task, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_INT},           {"task", COL_TEXT},       {"alias", COL_TEXT},
        {"from_version", COL_INT}, {"to_version", COL_INT},  {"reason", COL_TEXT},
        {"actor", COL_TEXT},       {"changed_at", COL_TIME},
    };
    return sqlite_store_query_list(
        conn,
        "SELECT id, task, alias, from_version, to_version, reason, actor, ts_ms"
        " FROM alias_history"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY id DESC",
        "reading alias history", task, SQLITE_COLS(cols), e);
}
