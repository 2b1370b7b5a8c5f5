/* SQLite backend: the MLflow model registry over boucle's own (a registered
 * model is a task, its versions are model_versions rows, its aliases are
 * boucle's) and run artifacts as blobs (migration 4). */
#include "store/sqlite_store.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

static int model_exists(struct sqlite_store *s, const char *name, struct err *e)
{
    return sqlite_store_query_int(s, "SELECT 1 FROM registered_models WHERE name = ?1",
                                  "reading registered model", name, NULL, NULL, e);
}

static int no_model(const char *name, struct err *e)
{
    return err_set_field(e, ERR_NOT_FOUND, "name", "Registered Model with name=%s not found", name);
}

/* 0 when the model exists, else -1 (ERR_NOT_FOUND). */
static int need_model(struct sqlite_store *s, const char *name, struct err *e)
{
    int r = model_exists(s, name, e);
    if (r == 0) return no_model(name, e);
    return r == 1 ? 0 : -1;
}

/* 1 when the model has a champion (version in *v), 0 when not, -1 on error. */
static int champion_of(struct sqlite_store *s, const char *name, int64_t *v, struct err *e)
{
    return sqlite_store_query_int(
        s, "SELECT version FROM aliases WHERE task = ?1 AND alias = 'champion'", "reading alias",
        name, NULL, v, e);
}

static int touch_model(struct sqlite_store *s, const char *name, struct err *e)
{
    return sqlite_store_update(
        s, "UPDATE registered_models SET last_updated_ms = ?2 WHERE name = ?1",
        "updating registered model", SQLITE_ARGS(SQL_TEXT(name), SQL_INT(time_now_ms())), NULL, e);
}

static int insert_model_tags(struct sqlite_store *s, const char *name, const struct store_kv *tags,
                             size_t n, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (sqlite_store_update(
                s,
                "INSERT INTO registered_model_tags(name, key, value) VALUES(?1, ?2, ?3)"
                " ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
                "setting registered model tag",
                SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(tags[i].key), SQL_TEXT(tags[i].value)), NULL,
                e))
            return -1;
    return 0;
}

int sqlite_store_registered_model_create(void *conn, const char *name, const char *description,
                                         const struct store_kv *tags, size_t n_tags, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int64_t now = time_now_ms();
    int r = model_exists(s, name, e);
    if (r == 1)
        r = err_set_field(e, ERR_CONFLICT, "name", "Registered Model (name=%s) already exists.",
                          name);
    else if (r == 0)
        r = sqlite_store_update(s,
                                "INSERT INTO registered_models(name, description, creation_ms,"
                                " last_updated_ms) VALUES(?1, ?2, ?3, ?3)",
                                "creating registered model",
                                SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(description), SQL_INT(now)),
                                NULL, e);
    if (r == 0) r = insert_model_tags(s, name, tags, n_tags, e);
    return sqlite_store_end(s, r, e);
}

json_t *sqlite_store_registered_models_list(void *conn, const char *name, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"name", COL_TEXT},
        {"description", COL_TEXT},
        {"creation_timestamp", COL_INT},
        {"last_updated_timestamp", COL_INT},
    };
    static const struct sqlite_col kv[] = {{"key", COL_TEXT}, {"value", COL_TEXT}};
    static const struct sqlite_col al[] = {{"alias", COL_TEXT}, {"version", COL_INT}};
    struct sqlite_store *s = conn;
    json_t *list = sqlite_store_query_rows(
        s,
        "SELECT name, description, creation_ms, last_updated_ms FROM registered_models"
        " WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
        "listing registered models", SQLITE_ARGS(SQL_TEXT(name)), SQLITE_COLS(cols), e);
    if (!list) return NULL;
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        const char *n = json_string_value(json_object_get(m, "name"));
        json_t *tags = sqlite_store_query_rows(
            s, "SELECT key, value FROM registered_model_tags WHERE name = ?1 ORDER BY key",
            "reading registered model tags", SQLITE_ARGS(SQL_TEXT(n)), SQLITE_COLS(kv), e);
        json_t *aliases =
            tags ? sqlite_store_query_rows(s,
                                           "SELECT alias, version FROM aliases WHERE task = ?1"
                                           " ORDER BY alias",
                                           "reading aliases", SQLITE_ARGS(SQL_TEXT(n)),
                                           SQLITE_COLS(al), e)
                 : NULL;
        if (!aliases) {
            json_decref(tags);
            json_decref(list);
            return NULL;
        }
        json_object_set_new(m, "tags", tags);
        json_object_set_new(m, "aliases", aliases);
    }
    return list;
}

/* Moves every row of the model to its new name; the caller holds the
 * transaction and has checked both names. */
static int rename_model(struct sqlite_store *s, const char *name, const char *new_name,
                        struct err *e)
{
    static const char *const sql[] = {
        /* aliases reference model_versions(task, version): check at commit */
        "PRAGMA defer_foreign_keys = ON",
        "UPDATE registered_models SET name = ?2, last_updated_ms = ?3 WHERE name = ?1",
        "UPDATE registered_model_tags SET name = ?2 WHERE name = ?1",
        "UPDATE model_versions SET task = ?2 WHERE task = ?1",
        "UPDATE model_version_tags SET task = ?2 WHERE task = ?1",
        "UPDATE aliases SET task = ?2 WHERE task = ?1",
        "UPDATE alias_history SET task = ?2 WHERE task = ?1",
    };
    int64_t now = time_now_ms();
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        if (i == 0) {
            if (sqlite_store_exec(s, sql[0], "renaming registered model", e)) return -1;
            continue;
        }
        int r = i == 1
                    ? sqlite_store_update(
                          s, sql[i], "renaming registered model",
                          SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(new_name), SQL_INT(now)), NULL, e)
                    : sqlite_store_update(s, sql[i], "renaming registered model",
                                          SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(new_name)), NULL, e);
        if (r) return -1;
    }
    return 0;
}

int sqlite_store_registered_model_update(void *conn, const char *name, const char *new_name,
                                         const char *description, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int64_t champion = 0;
    int r = need_model(s, name, e);
    if (r == 0 && description)
        r = sqlite_store_update(
            s,
            "UPDATE registered_models SET description = ?2, last_updated_ms = ?3"
            " WHERE name = ?1",
            "updating registered model",
            SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(description), SQL_INT(time_now_ms())), NULL, e);
    if (r == 0 && new_name && strcmp(new_name, name) != 0) {
        int taken = model_exists(s, new_name, e);
        int has_champion = taken == 0 ? champion_of(s, name, &champion, e) : -1;
        if (taken == 1)
            r = err_set_field(e, ERR_CONFLICT, "new_name",
                              "Registered Model (name=%s) already exists.", new_name);
        else if (taken < 0 || has_champion < 0)
            r = -1;
        else if (has_champion)
            r = err_set_field(e, ERR_INVALID, "name",
                              "Registered model '%s' is a boucle task serving version %lld "
                              "(alias champion); it cannot be renamed",
                              name, (long long)champion);
        else
            r = rename_model(s, name, new_name, e);
    }
    return sqlite_store_end(s, r, e);
}

int sqlite_store_registered_model_delete(void *conn, const char *name, struct err *e)
{
    static const char *const sql[] = {
        "DELETE FROM aliases WHERE task = ?1",
        "DELETE FROM model_version_tags WHERE task = ?1",
        "DELETE FROM model_versions WHERE task = ?1",
        "DELETE FROM registered_model_tags WHERE name = ?1",
        "DELETE FROM registered_models WHERE name = ?1",
    };
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int64_t champion = 0;
    int r = need_model(s, name, e);
    int has = r == 0 ? champion_of(s, name, &champion, e) : -1;
    if (r == 0 && has < 0) r = -1;
    if (r == 0 && has == 1)
        r = err_set_field(e, ERR_INVALID, "name",
                          "Registered model '%s' is a boucle task serving version %lld (alias "
                          "champion); it cannot be deleted",
                          name, (long long)champion);
    for (size_t i = 0; r == 0 && i < sizeof sql / sizeof sql[0]; i++)
        r = sqlite_store_update(s, sql[i], "deleting registered model", SQLITE_ARGS(SQL_TEXT(name)),
                                NULL, e);
    return sqlite_store_end(s, r, e);
}

int sqlite_store_registered_model_tag(void *conn, const char *name, const char *key,
                                      const char *value, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_model(s, name, e);
    if (r == 0 && value) {
        struct store_kv kv = {key, value};
        r = insert_model_tags(s, name, &kv, 1, e);
    } else if (r == 0) {
        int64_t changed = 0;
        r = sqlite_store_update(s, "DELETE FROM registered_model_tags WHERE name = ?1 AND key = ?2",
                                "deleting registered model tag",
                                SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(key)), &changed, e);
        if (r == 0 && changed == 0)
            r = err_set_field(e, ERR_NOT_FOUND, "key",
                              "No tag with name: %s in registered model %s", key, name);
    }
    if (r == 0) r = touch_model(s, name, e);
    return sqlite_store_end(s, r, e);
}

static int insert_version_tags(struct sqlite_store *s, const char *name, int64_t version,
                               const struct store_kv *tags, size_t n, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (sqlite_store_update(s,
                                "INSERT INTO model_version_tags(task, version, key, value)"
                                " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(task, version, key)"
                                " DO UPDATE SET value = excluded.value",
                                "setting model version tag",
                                SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version), SQL_TEXT(tags[i].key),
                                            SQL_TEXT(tags[i].value)),
                                NULL, e))
            return -1;
    return 0;
}

int sqlite_store_model_version_create(void *conn, const struct store_mlflow_version *v,
                                      int64_t *version, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "creating model version";
    char sha[SHA256_HEX_LEN];
    sha256_hex("", 0, sha);
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_model(s, v->name, e);
    if (r == 0 && v->run_id && *v->run_id) {
        int run = sqlite_store_query_int(s, "SELECT 1 FROM runs WHERE id = ?1", what, v->run_id,
                                         NULL, NULL, e);
        if (run == 0)
            r = err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", v->run_id);
        else if (run < 0)
            r = -1;
    }
    int64_t added = 0;
    if (r == 0) {
        int64_t now = time_now_ms();
        r = sqlite_store_query_ints(
            s,
            "INSERT INTO model_versions(task, version, run_id, kind, artifact, artifact_sha256,"
            " size, created_ms, description, source, run_link, user_id, updated_ms)"
            " SELECT ?1, coalesce(max(version), 0) + 1, ?2, 'mlflow', zeroblob(0), ?3, 0, ?4, ?5,"
            " ?6, ?7, ?8, ?4 FROM model_versions WHERE task = ?1 RETURNING version",
            what,
            SQLITE_ARGS(SQL_TEXT(v->name), SQL_TEXT(v->run_id && *v->run_id ? v->run_id : NULL),
                        SQL_TEXT(sha), SQL_INT(now), SQL_TEXT(v->description), SQL_TEXT(v->source),
                        SQL_TEXT(v->run_link), SQL_TEXT(v->user_id)),
            &added, 1, e);
        r = r == 1 ? 0 : -1;
        if (r < 0 && e->code == ERR_OK) err_set(e, ERR_INTERNAL, "%s: no version returned", what);
    }
    if (r == 0) r = insert_version_tags(s, v->name, added, v->tags, v->n_tags, e);
    if (sqlite_store_end(s, r, e)) return -1;
    *version = added;
    return 0;
}

json_t *sqlite_store_model_versions_list(void *conn, const char *name, int64_t version,
                                         struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"name", COL_TEXT},
        {"version", COL_INT},
        {"creation_timestamp", COL_INT},
        {"last_updated_timestamp", COL_INT},
        {"user_id", COL_TEXT},
        {"current_stage", COL_TEXT},
        {"description", COL_TEXT},
        {"source", COL_TEXT},
        {"run_id", COL_TEXT},
        {"run_link", COL_TEXT},
        {"kind", COL_TEXT},
        {"size", COL_INT},
    };
    static const struct sqlite_col kv[] = {{"key", COL_TEXT}, {"value", COL_TEXT}};
    static const struct sqlite_col al[] = {{NULL, COL_TEXT}};
    struct sqlite_store *s = conn;
    json_t *list = sqlite_store_query_rows(
        s,
        "SELECT task, version, created_ms, coalesce(updated_ms, created_ms), coalesce(user_id, ''),"
        " stage, coalesce(description, ''),"
        " coalesce(source, 'boucle:/' || task || '/' || version), coalesce(run_id, ''),"
        " coalesce(run_link, ''), kind, size FROM model_versions"
        " WHERE (?1 IS NULL OR task = ?1) AND (?2 = 0 OR version = ?2)"
        " ORDER BY task, version DESC",
        "listing model versions", SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version)), SQLITE_COLS(cols),
        e);
    if (!list) return NULL;
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        const char *n = json_string_value(json_object_get(m, "name"));
        int64_t v = json_integer_value(json_object_get(m, "version"));
        json_t *tags = sqlite_store_query_rows(
            s,
            "SELECT key, value FROM model_version_tags WHERE task = ?1 AND version = ?2"
            " ORDER BY key",
            "reading model version tags", SQLITE_ARGS(SQL_TEXT(n), SQL_INT(v)), SQLITE_COLS(kv), e);
        json_t *aliases =
            tags ? sqlite_store_query_rows(
                       s,
                       "SELECT alias FROM aliases WHERE task = ?1 AND version = ?2 ORDER BY alias",
                       "reading aliases", SQLITE_ARGS(SQL_TEXT(n), SQL_INT(v)), SQLITE_COLS(al), e)
                 : NULL;
        if (!aliases) {
            json_decref(tags);
            json_decref(list);
            return NULL;
        }
        json_object_set_new(m, "tags", tags);
        json_object_set_new(m, "aliases", aliases);
    }
    return list;
}

static int no_version(const char *name, int64_t version, struct err *e)
{
    return err_set_field(e, ERR_NOT_FOUND, "version",
                         "Model Version (name=%s, version=%lld) not found", name,
                         (long long)version);
}

static int need_version_row(struct sqlite_store *s, const char *name, int64_t version,
                            struct err *e)
{
    int64_t one = 0;
    int r = sqlite_store_query_ints(
        s, "SELECT 1 FROM model_versions WHERE task = ?1 AND version = ?2", "reading model version",
        SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version)), &one, 1, e);
    if (r == 0) return no_version(name, version, e);
    return r == 1 ? 0 : -1;
}

int sqlite_store_model_version_update(void *conn, const char *name, int64_t version,
                                      const char *description, const char *stage,
                                      int archive_others, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "updating model version";
    int64_t now = time_now_ms();
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_version_row(s, name, version, e);
    if (r == 0)
        r = sqlite_store_update(s,
                                "UPDATE model_versions SET description = coalesce(?3, description),"
                                " stage = coalesce(?4, stage), updated_ms = ?5"
                                " WHERE task = ?1 AND version = ?2",
                                what,
                                SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version), SQL_TEXT(description),
                                            SQL_TEXT(stage), SQL_INT(now)),
                                NULL, e);
    if (r == 0 && stage && archive_others &&
        (strcmp(stage, "Staging") == 0 || strcmp(stage, "Production") == 0))
        r = sqlite_store_update(
            s,
            "UPDATE model_versions SET stage = 'Archived', updated_ms = ?4"
            " WHERE task = ?1 AND version != ?2 AND stage = ?3",
            what, SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version), SQL_TEXT(stage), SQL_INT(now)),
            NULL, e);
    if (r == 0) r = touch_model(s, name, e);
    return sqlite_store_end(s, r, e);
}

/* Records the removal of the aliases that `cond` selects (over ?1 task and
 * ?2 version or alias) in the alias history: to_version NULL. */
static int record_removals(struct sqlite_store *s, const char *cond, const char *name,
                           struct sqlite_arg which, const char *reason, const char *actor,
                           struct err *e)
{
    char sql[320];
    snprintf(sql, sizeof sql,
             "INSERT INTO alias_history(task, alias, from_version, to_version, reason, actor,"
             " ts_ms) SELECT task, alias, version, NULL, ?3, ?4, ?5 FROM aliases WHERE %s",
             cond);
    return sqlite_store_update(s, sql, "recording alias history",
                               SQLITE_ARGS(SQL_TEXT(name), which, SQL_TEXT(reason), SQL_TEXT(actor),
                                           SQL_INT(time_now_ms())),
                               NULL, e);
}

int sqlite_store_model_version_delete(void *conn, const char *name, int64_t version,
                                      const char *actor, struct err *e)
{
    static const char *const sql[] = {
        "DELETE FROM aliases WHERE task = ?1 AND version = ?2",
        "DELETE FROM model_version_tags WHERE task = ?1 AND version = ?2",
        "DELETE FROM model_versions WHERE task = ?1 AND version = ?2",
    };
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int64_t champion = 0;
    int r = need_version_row(s, name, version, e);
    int has = r == 0 ? champion_of(s, name, &champion, e) : -1;
    if (r == 0 && has < 0) r = -1;
    if (r == 0 && has == 1 && champion == version)
        r = err_set_field(e, ERR_INVALID, "version",
                          "Version %lld of '%s' is the champion boucle serves; promote another "
                          "version before deleting it",
                          (long long)version, name);
    char reason[64];
    snprintf(reason, sizeof reason, "model version %lld deleted", (long long)version);
    if (r == 0)
        r = record_removals(s, "task = ?1 AND version = ?2", name, SQL_INT(version), reason, actor,
                            e);
    for (size_t i = 0; r == 0 && i < sizeof sql / sizeof sql[0]; i++)
        r = sqlite_store_update(s, sql[i], "deleting model version",
                                SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version)), NULL, e);
    if (r == 0) r = touch_model(s, name, e);
    return sqlite_store_end(s, r, e);
}

int sqlite_store_model_version_tag(void *conn, const char *name, int64_t version, const char *key,
                                   const char *value, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_version_row(s, name, version, e);
    if (r == 0 && value) {
        struct store_kv kv = {key, value};
        r = insert_version_tags(s, name, version, &kv, 1, e);
    } else if (r == 0) {
        int64_t changed = 0;
        r = sqlite_store_update(
            s, "DELETE FROM model_version_tags WHERE task = ?1 AND version = ?2 AND key = ?3",
            "deleting model version tag",
            SQLITE_ARGS(SQL_TEXT(name), SQL_INT(version), SQL_TEXT(key)), &changed, e);
        if (r == 0 && changed == 0)
            r = err_set_field(e, ERR_NOT_FOUND, "key",
                              "No tag with name: %s in model version %s version %lld", key, name,
                              (long long)version);
    }
    return sqlite_store_end(s, r, e);
}

int sqlite_store_model_alias_delete(void *conn, const char *name, const char *alias,
                                    const char *reason, const char *actor, struct err *e)
{
    struct sqlite_store *s = conn;
    if (strcmp(alias, "champion") == 0)
        return err_set_field(e, ERR_INVALID, "alias",
                             "The champion alias of '%s' is what boucle serves: it can be moved "
                             "(set it to another version, or `boucle rollback`), not deleted",
                             name);
    if (sqlite_store_begin(s, e)) return -1;
    int r = need_model(s, name, e);
    int64_t changed = 0;
    if (r == 0)
        r = record_removals(s, "task = ?1 AND alias = ?2", name, SQL_TEXT(alias), reason, actor, e);
    if (r == 0)
        r = sqlite_store_update(s, "DELETE FROM aliases WHERE task = ?1 AND alias = ?2",
                                "deleting alias", SQLITE_ARGS(SQL_TEXT(name), SQL_TEXT(alias)),
                                &changed, e);
    if (r == 0 && changed == 0)
        r = err_set_field(e, ERR_NOT_FOUND, "alias", "Registered model alias %s not found.", alias);
    return sqlite_store_end(s, r, e);
}

/* ---- run artifacts ---- */

int sqlite_store_artifact_put(void *conn, const char *run_id, const char *path, const void *data,
                              size_t len, const char *sha256, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "storing artifact";
    int run =
        sqlite_store_query_int(s, "SELECT 1 FROM runs WHERE id = ?1", what, run_id, NULL, NULL, e);
    if (run < 0) return -1;
    if (run == 0)
        return err_set_field(e, ERR_NOT_FOUND, "run_id", "Run with id=%s not found", run_id);
    sqlite3_stmt *st = sqlite_store_prepare(
        s,
        "INSERT INTO artifacts(run_id, path, data, sha256, size, created_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(run_id, path) DO UPDATE SET"
        " data = excluded.data, sha256 = excluded.sha256, size = excluded.size,"
        " created_ms = excluded.created_ms",
        what, e);
    if (!st) return -1;
    sqlite_store_bind_text(st, 1, run_id);
    sqlite_store_bind_text(st, 2, path);
    if (len)
        sqlite3_bind_blob64(st, 3, data, len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 3, 0);
    sqlite_store_bind_text(st, 4, sha256);
    sqlite3_bind_int64(st, 5, (int64_t)len);
    sqlite3_bind_int64(st, 6, time_now_ms());
    int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_FOREIGNKEY, ERR_NOT_FOUND, "run_id",
                               e, "Run with id=%s not found", run_id);
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_artifact_get(void *conn, const char *run_id, const char *path, void **data,
                              size_t *len, char sha256_out[65], struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "reading artifact";
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s, "SELECT data, sha256 FROM artifacts WHERE run_id = ?1 AND path = ?2", what,
        SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(path)), e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *blob = sqlite3_column_blob(st, 0);
        *data = xmalloc(n + 1);
        if (n) memcpy(*data, blob, n);
        *len = n;
        sqlite_store_col_copy(st, 1, sha256_out, 65);
    }
    sqlite3_finalize(st);
    if (r == 0)
        return err_set_field(e, ERR_NOT_FOUND, "path", "Artifact '%s' of run %s not found", path,
                             run_id);
    return r < 0 ? -1 : 0;
}

json_t *sqlite_store_artifacts_list(void *conn, const char *run_id, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"path", COL_TEXT}, {"size", COL_INT}, {"sha256", COL_TEXT}};
    return sqlite_store_query_rows(
        conn, "SELECT path, size, sha256 FROM artifacts WHERE run_id = ?1 ORDER BY path",
        "listing artifacts", SQLITE_ARGS(SQL_TEXT(run_id)), SQLITE_COLS(cols), e);
}

int sqlite_store_artifact_delete(void *conn, const char *run_id, const char *path, struct err *e)
{
    int64_t changed = 0;
    if (sqlite_store_update(conn, "DELETE FROM artifacts WHERE run_id = ?1 AND path = ?2",
                            "deleting artifact", SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(path)),
                            &changed, e))
        return -1;
    if (changed == 0)
        return err_set_field(e, ERR_NOT_FOUND, "path", "Artifact '%s' of run %s not found", path,
                             run_id);
    return 0;
}
