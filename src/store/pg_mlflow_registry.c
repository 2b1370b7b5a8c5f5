/* PostgreSQL backend: the MLflow model registry over boucle's own (a
 * registered model is a task, its versions are model_versions rows, its
 * aliases are boucle's) and run artifacts as BYTEA blobs (migration 4), with
 * the semantics, JSON and errors of sqlite_mlflow_registry.c. Whatever reads
 * a model's versions or aliases and then writes them takes the task's lock
 * (PG_TASK_LOCK), as the trainer and the deploy step do, so version numbers
 * and champion checks hold across processes. Names, keys and paths are
 * ordered COLLATE "C", as SQLite's BINARY collation orders them. */
#include "store/pg_store.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static int model_exists(struct pg_store *s, const char *name, struct err *e)
{
    return pg_store_query_int(s, "SELECT 1 FROM registered_models WHERE name = $1",
                              "reading registered model", name, NULL, NULL, e);
}

/* 0 when the model exists, else -1 (ERR_NOT_FOUND). */
static int need_model(struct pg_store *s, const char *name, struct err *e)
{
    int r = model_exists(s, name, e);
    if (r == 0)
        return err_set_field(e, ERR_NOT_FOUND, "name", "Registered Model with name=%s not found",
                             name);
    return r == 1 ? 0 : -1;
}

/* The task's lock, then need_model. */
static int lock_model(struct pg_store *s, const char *name, struct err *e)
{
    return pg_store_lock(s, PG_TASK_LOCK, name, e) ? -1 : need_model(s, name, e);
}

/* 1 when the model has a champion (version in *v), 0 when not, -1 on error. */
static int champion_of(struct pg_store *s, const char *name, int64_t *v, struct err *e)
{
    return pg_store_query_int(s,
                              "SELECT version FROM aliases WHERE task = $1 AND alias = 'champion'",
                              "reading alias", name, NULL, v, e);
}

static int touch_model(struct pg_store *s, const char *name, struct err *e)
{
    return pg_store_update(s, "UPDATE registered_models SET last_updated_ms = $2 WHERE name = $1",
                           "updating registered model",
                           PG_ARGS(PG_TEXT(name), PG_INT(time_now_ms())), NULL, e);
}

static int insert_model_tags(struct pg_store *s, const char *name, const struct store_kv *tags,
                             size_t n, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (pg_store_update(s,
                            "INSERT INTO registered_model_tags(name, key, value) VALUES($1, $2, $3)"
                            " ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
                            "setting registered model tag",
                            PG_ARGS(PG_TEXT(name), PG_TEXT(tags[i].key), PG_TEXT(tags[i].value)),
                            NULL, e))
            return -1;
    return 0;
}

static int model_create(struct pg_store *s, const char *name, const char *description,
                        const struct store_kv *tags, size_t n_tags, struct err *e)
{
    if (pg_store_write(s,
                       "INSERT INTO registered_models(name, description, creation_ms,"
                       " last_updated_ms) VALUES($1, $2, $3, $3)",
                       "creating registered model",
                       PG_ARGS(PG_TEXT(name), PG_TEXT(description), PG_INT(time_now_ms())), "23505",
                       ERR_CONFLICT, "name", e, "Registered Model (name=%s) already exists.", name))
        return -1;
    return insert_model_tags(s, name, tags, n_tags, e);
}

int pg_store_registered_model_create(void *conn, const char *name, const char *description,
                                     const struct store_kv *tags, size_t n_tags, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, model_create(s, name, description, tags, n_tags, e), e);
}

json_t *pg_store_registered_models_list(void *conn, const char *name, struct err *e)
{
    /* tags and aliases come with each row, aggregated by the server */
    static const struct pg_col cols[] = {
        {"name", PGC_TEXT},
        {"description", PGC_TEXT},
        {"creation_timestamp", PGC_INT},
        {"last_updated_timestamp", PGC_INT},
        {"tags", PGC_JSON},
        {"aliases", PGC_JSON},
    };
    return pg_store_query_list(
        conn,
        "SELECT m.name, m.description, m.creation_ms, m.last_updated_ms,"
        " (SELECT coalesce(json_agg(json_build_object('key', t.key, 'value', t.value)"
        "   ORDER BY t.key COLLATE \"C\"), '[]') FROM registered_model_tags t"
        "   WHERE t.name = m.name),"
        " (SELECT coalesce(json_agg(json_build_object('alias', a.alias, 'version', a.version)"
        "   ORDER BY a.alias COLLATE \"C\"), '[]') FROM aliases a WHERE a.task = m.name)"
        " FROM registered_models m WHERE $1::text IS NULL OR m.name = $1"
        " ORDER BY m.name COLLATE \"C\"",
        "listing registered models", name, PG_COLS(cols), e);
}

/* Moves every row of the model to its new name; the caller holds the
 * transaction and both names' locks, and has checked both names. */
static int rename_model(struct pg_store *s, const char *name, const char *new_name, struct err *e)
{
    static const char *const sql[] = {
        "UPDATE registered_models SET name = $2, last_updated_ms = $3 WHERE name = $1",
        "UPDATE registered_model_tags SET name = $2 WHERE name = $1",
        "UPDATE model_versions SET task = $2 WHERE task = $1",
        "UPDATE model_version_tags SET task = $2 WHERE task = $1",
        "UPDATE aliases SET task = $2 WHERE task = $1",
        "UPDATE alias_history SET task = $2 WHERE task = $1",
    };
    /* aliases reference model_versions(task, version): check at commit */
    if (pg_store_exec(s, "SET CONSTRAINTS aliases_task_version_fkey DEFERRED",
                      "renaming registered model", e))
        return -1;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (pg_store_update(s, sql[i], "renaming registered model",
                            PG_ARGS(PG_TEXT(name), PG_TEXT(new_name), PG_INT(now)), NULL, e))
            return -1;
    return 0;
}

static int rename_checked(struct pg_store *s, const char *name, const char *new_name, struct err *e)
{
    /* both names' locks, in one order whoever renames, so two renames
     * (a to b, b to a) wait for each other instead of deadlocking */
    int first = strcmp(name, new_name) < 0;
    if (pg_store_lock(s, PG_TASK_LOCK, first ? name : new_name, e) ||
        pg_store_lock(s, PG_TASK_LOCK, first ? new_name : name, e))
        return -1;
    int64_t champion = 0;
    int taken = model_exists(s, new_name, e);
    int has_champion = taken == 0 ? champion_of(s, name, &champion, e) : -1;
    if (taken == 1)
        return err_set_field(e, ERR_CONFLICT, "new_name",
                             "Registered Model (name=%s) already exists.", new_name);
    if (taken < 0 || has_champion < 0) return -1;
    if (has_champion)
        return err_set_field(e, ERR_INVALID, "name",
                             "Registered model '%s' is a boucle task serving version %lld "
                             "(alias champion); it cannot be renamed",
                             name, (long long)champion);
    return rename_model(s, name, new_name, e);
}

static int model_update(struct pg_store *s, const char *name, const char *new_name,
                        const char *description, struct err *e)
{
    if (need_model(s, name, e)) return -1;
    if (description &&
        pg_store_update(s,
                        "UPDATE registered_models SET description = $2, last_updated_ms = $3"
                        " WHERE name = $1",
                        "updating registered model",
                        PG_ARGS(PG_TEXT(name), PG_TEXT(description), PG_INT(time_now_ms())), NULL,
                        e))
        return -1;
    if (new_name && strcmp(new_name, name) != 0) return rename_checked(s, name, new_name, e);
    return 0;
}

int pg_store_registered_model_update(void *conn, const char *name, const char *new_name,
                                     const char *description, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, model_update(s, name, new_name, description, e), e);
}

static int model_delete(struct pg_store *s, const char *name, struct err *e)
{
    static const char *const sql[] = {
        "DELETE FROM aliases WHERE task = $1",
        "DELETE FROM model_version_tags WHERE task = $1",
        "DELETE FROM model_versions WHERE task = $1",
        "DELETE FROM registered_model_tags WHERE name = $1",
        "DELETE FROM registered_models WHERE name = $1",
    };
    int64_t champion = 0;
    if (lock_model(s, name, e)) return -1;
    int has = champion_of(s, name, &champion, e);
    if (has < 0) return -1;
    if (has == 1)
        return err_set_field(e, ERR_INVALID, "name",
                             "Registered model '%s' is a boucle task serving version %lld (alias "
                             "champion); it cannot be deleted",
                             name, (long long)champion);
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (pg_store_update(s, sql[i], "deleting registered model", PG_ARGS(PG_TEXT(name)), NULL,
                            e))
            return -1;
    return 0;
}

int pg_store_registered_model_delete(void *conn, const char *name, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, model_delete(s, name, e), e);
}

static int model_tag(struct pg_store *s, const char *name, const char *key, const char *value,
                     struct err *e)
{
    if (need_model(s, name, e)) return -1;
    if (value) {
        struct store_kv kv = {key, value};
        if (insert_model_tags(s, name, &kv, 1, e)) return -1;
    } else {
        int64_t changed = 0;
        if (pg_store_update(s, "DELETE FROM registered_model_tags WHERE name = $1 AND key = $2",
                            "deleting registered model tag", PG_ARGS(PG_TEXT(name), PG_TEXT(key)),
                            &changed, e))
            return -1;
        if (changed == 0)
            return err_set_field(e, ERR_NOT_FOUND, "key",
                                 "No tag with name: %s in registered model %s", key, name);
    }
    return touch_model(s, name, e);
}

int pg_store_registered_model_tag(void *conn, const char *name, const char *key, const char *value,
                                  struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, model_tag(s, name, key, value, e), e);
}

/* ---- model versions ---- */

static int insert_version_tags(struct pg_store *s, const char *name, int64_t version,
                               const struct store_kv *tags, size_t n, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (pg_store_update(s,
                            "INSERT INTO model_version_tags(task, version, key, value)"
                            " VALUES($1, $2, $3, $4) ON CONFLICT (task, version, key)"
                            " DO UPDATE SET value = excluded.value",
                            "setting model version tag",
                            PG_ARGS(PG_TEXT(name), PG_INT(version), PG_TEXT(tags[i].key),
                                    PG_TEXT(tags[i].value)),
                            NULL, e))
            return -1;
    return 0;
}

static int version_create(struct pg_store *s, const struct store_mlflow_version *v,
                          int64_t *version, struct err *e)
{
    const char *what = "creating model version";
    const char *run_id = v->run_id && *v->run_id ? v->run_id : NULL;
    if (lock_model(s, v->name, e)) return -1;
    if (run_id) {
        int run =
            pg_store_query_int(s, "SELECT 1 FROM runs WHERE id = $1", what, run_id, NULL, NULL, e);
        if (run == 0)
            return err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
        if (run < 0) return -1;
    }
    char sha[SHA256_HEX_LEN];
    sha256_hex("", 0, sha);
    int r = pg_store_query_ints(
        s,
        "INSERT INTO model_versions(task, version, run_id, kind, artifact, artifact_sha256,"
        " size, created_ms, description, source, run_link, user_id, updated_ms)"
        " SELECT $1, coalesce(max(version), 0) + 1, $2, 'mlflow', ''::bytea, $3, 0, $4, $5,"
        " $6, $7, $8, $4 FROM model_versions WHERE task = $1 RETURNING version",
        what,
        PG_ARGS(PG_TEXT(v->name), PG_TEXT(run_id), PG_TEXT(sha), PG_INT(time_now_ms()),
                PG_TEXT(v->description), PG_TEXT(v->source), PG_TEXT(v->run_link),
                PG_TEXT(v->user_id)),
        version, 1, e);
    if (r == 0) return err_set(e, ERR_INTERNAL, "%s: no version returned", what);
    if (r < 0) return -1;
    return insert_version_tags(s, v->name, *version, v->tags, v->n_tags, e);
}

int pg_store_model_version_create(void *conn, const struct store_mlflow_version *v,
                                  int64_t *version, struct err *e)
{
    struct pg_store *s = conn;
    int64_t added = 0;
    if (pg_store_begin(s, e) || pg_store_end(s, version_create(s, v, &added, e), e) < 0) return -1;
    *version = added;
    return 0;
}

json_t *pg_store_model_versions_list(void *conn, const char *name, int64_t version, struct err *e)
{
    static const struct pg_col cols[] = {
        {"name", PGC_TEXT},
        {"version", PGC_INT},
        {"creation_timestamp", PGC_INT},
        {"last_updated_timestamp", PGC_INT},
        {"user_id", PGC_TEXT},
        {"current_stage", PGC_TEXT},
        {"description", PGC_TEXT},
        {"source", PGC_TEXT},
        {"run_id", PGC_TEXT},
        {"run_link", PGC_TEXT},
        {"kind", PGC_TEXT},
        {"size", PGC_INT},
        {"tags", PGC_JSON},
        {"aliases", PGC_JSON},
    };
    return pg_store_query_rows(
        conn,
        "SELECT v.task, v.version, v.created_ms, coalesce(v.updated_ms, v.created_ms),"
        " coalesce(v.user_id, ''), v.stage, coalesce(v.description, ''),"
        " coalesce(v.source, 'boucle:/' || v.task || '/' || v.version), coalesce(v.run_id, ''),"
        " coalesce(v.run_link, ''), v.kind, v.size,"
        " (SELECT coalesce(json_agg(json_build_object('key', t.key, 'value', t.value)"
        "   ORDER BY t.key COLLATE \"C\"), '[]') FROM model_version_tags t"
        "   WHERE t.task = v.task AND t.version = v.version),"
        " (SELECT coalesce(json_agg(a.alias ORDER BY a.alias COLLATE \"C\"), '[]')"
        "   FROM aliases a WHERE a.task = v.task AND a.version = v.version)"
        " FROM model_versions v"
        " WHERE ($1::text IS NULL OR v.task = $1) AND ($2 = 0 OR v.version = $2)"
        " ORDER BY v.task COLLATE \"C\", v.version DESC",
        "listing model versions", PG_ARGS(PG_TEXT(name), PG_INT(version)), PG_COLS(cols), e);
}

static int need_version_row(struct pg_store *s, const char *name, int64_t version, struct err *e)
{
    int64_t one = 0;
    int r = pg_store_query_ints(s, "SELECT 1 FROM model_versions WHERE task = $1 AND version = $2",
                                "reading model version", PG_ARGS(PG_TEXT(name), PG_INT(version)),
                                &one, 1, e);
    if (r == 0)
        return err_set_field(e, ERR_NOT_FOUND, "version",
                             "Model Version (name=%s, version=%lld) not found", name,
                             (long long)version);
    return r == 1 ? 0 : -1;
}

static int version_update(struct pg_store *s, const char *name, int64_t version,
                          const char *description, const char *stage, int archive_others,
                          struct err *e)
{
    const char *what = "updating model version";
    int64_t now = time_now_ms();
    if (need_version_row(s, name, version, e) ||
        pg_store_update(s,
                        "UPDATE model_versions SET description = coalesce($3, description),"
                        " stage = coalesce($4, stage), updated_ms = $5"
                        " WHERE task = $1 AND version = $2",
                        what,
                        PG_ARGS(PG_TEXT(name), PG_INT(version), PG_TEXT(description),
                                PG_TEXT(stage), PG_INT(now)),
                        NULL, e))
        return -1;
    if (stage && archive_others &&
        (strcmp(stage, "Staging") == 0 || strcmp(stage, "Production") == 0) &&
        pg_store_update(s,
                        "UPDATE model_versions SET stage = 'Archived', updated_ms = $4"
                        " WHERE task = $1 AND version != $2 AND stage = $3",
                        what, PG_ARGS(PG_TEXT(name), PG_INT(version), PG_TEXT(stage), PG_INT(now)),
                        NULL, e))
        return -1;
    return touch_model(s, name, e);
}

int pg_store_model_version_update(void *conn, const char *name, int64_t version,
                                  const char *description, const char *stage, int archive_others,
                                  struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, version_update(s, name, version, description, stage, archive_others, e),
                        e);
}

/* Records the removal of the aliases that `cond` selects (over $1 task and
 * $2 version or alias) in the alias history: to_version NULL. */
static int record_removals(struct pg_store *s, const char *cond, const char *name,
                           struct pg_arg which, const char *reason, const char *actor,
                           struct err *e)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO alias_history(task, alias, from_version, to_version, reason, actor,"
             " ts_ms) SELECT task, alias, version, NULL, $3, $4, $5 FROM aliases WHERE %s",
             cond);
    return pg_store_update(
        s, sql, "recording alias history",
        PG_ARGS(PG_TEXT(name), which, PG_TEXT(reason), PG_TEXT(actor), PG_INT(time_now_ms())), NULL,
        e);
}

static int version_delete(struct pg_store *s, const char *name, int64_t version, const char *actor,
                          struct err *e)
{
    static const char *const sql[] = {
        "DELETE FROM aliases WHERE task = $1 AND version = $2",
        "DELETE FROM model_version_tags WHERE task = $1 AND version = $2",
        "DELETE FROM model_versions WHERE task = $1 AND version = $2",
    };
    int64_t champion = 0;
    if (pg_store_lock(s, PG_TASK_LOCK, name, e) || need_version_row(s, name, version, e)) return -1;
    int has = champion_of(s, name, &champion, e);
    if (has < 0) return -1;
    if (has == 1 && champion == version)
        return err_set_field(e, ERR_INVALID, "version",
                             "Version %lld of '%s' is the champion boucle serves; promote another "
                             "version before deleting it",
                             (long long)version, name);
    char reason[64];
    snprintf(reason, sizeof reason, "model version %lld deleted", (long long)version);
    if (record_removals(s, "task = $1 AND version = $2", name, PG_INT(version), reason, actor, e))
        return -1;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (pg_store_update(s, sql[i], "deleting model version",
                            PG_ARGS(PG_TEXT(name), PG_INT(version)), NULL, e))
            return -1;
    return touch_model(s, name, e);
}

int pg_store_model_version_delete(void *conn, const char *name, int64_t version, const char *actor,
                                  struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, version_delete(s, name, version, actor, e), e);
}

static int version_tag(struct pg_store *s, const char *name, int64_t version, const char *key,
                       const char *value, struct err *e)
{
    if (need_version_row(s, name, version, e)) return -1;
    if (value) {
        struct store_kv kv = {key, value};
        return insert_version_tags(s, name, version, &kv, 1, e);
    }
    int64_t changed = 0;
    if (pg_store_update(
            s, "DELETE FROM model_version_tags WHERE task = $1 AND version = $2 AND key = $3",
            "deleting model version tag", PG_ARGS(PG_TEXT(name), PG_INT(version), PG_TEXT(key)),
            &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "key",
                             "No tag with name: %s in model version %s version %lld", key, name,
                             (long long)version);
    return 0;
}

int pg_store_model_version_tag(void *conn, const char *name, int64_t version, const char *key,
                               const char *value, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, version_tag(s, name, version, key, value, e), e);
}

static int alias_delete(struct pg_store *s, const char *name, const char *alias, const char *reason,
                        const char *actor, struct err *e)
{
    int64_t changed = 0;
    if (lock_model(s, name, e) ||
        record_removals(s, "task = $1 AND alias = $2", name, PG_TEXT(alias), reason, actor, e) ||
        pg_store_update(s, "DELETE FROM aliases WHERE task = $1 AND alias = $2", "deleting alias",
                        PG_ARGS(PG_TEXT(name), PG_TEXT(alias)), &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "alias", "Registered model alias %s not found.",
                             alias);
    return 0;
}

int pg_store_model_alias_delete(void *conn, const char *name, const char *alias, const char *reason,
                                const char *actor, struct err *e)
{
    struct pg_store *s = conn;
    if (strcmp(alias, "champion") == 0)
        return err_set_field(e, ERR_INVALID, "alias",
                             "The champion alias of '%s' is what boucle serves: it can be moved "
                             "(set it to another version, or `boucle rollback`), not deleted",
                             name);
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, alias_delete(s, name, alias, reason, actor, e), e);
}

/* ---- run artifacts ---- */

int pg_store_artifact_put(void *conn, const char *run_id, const char *path, const void *data,
                          size_t len, const char *sha256, struct err *e)
{
    struct pg_store *s = conn;
    const char *what = "storing artifact";
    int run =
        pg_store_query_int(s, "SELECT 1 FROM runs WHERE id = $1", what, run_id, NULL, NULL, e);
    if (run < 0) return -1;
    if (run == 0)
        return err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
    /* a run deleted meanwhile breaks the foreign key: the same answer */
    return pg_store_write(s,
                          "INSERT INTO artifacts(run_id, path, data, sha256, size, created_ms)"
                          " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, path) DO UPDATE"
                          " SET data = excluded.data, sha256 = excluded.sha256,"
                          " size = excluded.size, created_ms = excluded.created_ms",
                          what,
                          PG_ARGS(PG_TEXT(run_id), PG_TEXT(path), PG_BYTES(data, len),
                                  PG_TEXT(sha256), PG_INT((int64_t)len), PG_INT(time_now_ms())),
                          "23503", ERR_NOT_FOUND, "run_id", e, "Run with id=%s not found", run_id);
}

int pg_store_artifact_get(void *conn, const char *run_id, const char *path, void **data,
                          size_t *len, char sha256_out[65], struct err *e)
{
    /* binary result: the bytea column arrives as its raw bytes (and the
     * text column as its bytes, which libpq ends with a NUL) */
    PGresult *r =
        pg_store_query(conn, "SELECT data, sha256 FROM artifacts WHERE run_id = $1 AND path = $2",
                       "reading artifact", PG_ARGS(PG_TEXT(run_id), PG_TEXT(path)), 1, e);
    if (!r) return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return err_set_field(e, ERR_NOT_FOUND, "path", "Artifact '%s' of run %s not found", path,
                             run_id);
    }
    size_t n = (size_t)PQgetlength(r, 0, 0);
    *data = xmalloc(n + 1);
    if (n) memcpy(*data, PQgetvalue(r, 0, 0), n);
    *len = n;
    pg_store_copy(r, 0, 1, sha256_out, 65);
    PQclear(r);
    return 0;
}

json_t *pg_store_artifacts_list(void *conn, const char *run_id, struct err *e)
{
    static const struct pg_col cols[] = {
        {"path", PGC_TEXT}, {"size", PGC_INT}, {"sha256", PGC_TEXT}};
    return pg_store_query_list(
        conn,
        "SELECT path, size, sha256 FROM artifacts WHERE run_id = $1 ORDER BY path COLLATE \"C\"",
        "listing artifacts", run_id, PG_COLS(cols), e);
}

int pg_store_artifact_delete(void *conn, const char *run_id, const char *path, struct err *e)
{
    int64_t changed = 0;
    if (pg_store_update(conn, "DELETE FROM artifacts WHERE run_id = $1 AND path = $2",
                        "deleting artifact", PG_ARGS(PG_TEXT(run_id), PG_TEXT(path)), &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "path", "Artifact '%s' of run %s not found", path,
                             run_id);
    return 0;
}
