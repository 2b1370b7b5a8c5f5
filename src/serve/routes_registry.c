/* The registry over HTTP: one model version with its lineage
 * (GET /v1/tasks/{task}/models/{version}), a promotion with the refusals of
 * `boucle promote` (POST .../models/{version}/promote) and the task's
 * aliases with every move (GET /v1/tasks/{task}/aliases). */
#include "serve/routes.h"

#include "serve/auth.h"
#include "track/registry.h"

#include <string.h>

#define MAX_REASON_BYTES 500

/* The {version} path segment: 0, or -1 after answering 422. */
static int path_version(struct http_request *r, const char *text, int64_t *out)
{
    if (registry_parse_version(text, out) == 0) return 0;
    http_reply_error(r, 422, "invalid", "version",
                     "version: '%.32s' is not a positive version number", text);
    return -1;
}

void routes_model_get(struct server *srv, struct http_request *r, struct served_task *t,
                      const char *version_text)
{
    int64_t version;
    if (path_version(r, version_text, &version)) return;
    struct err e;
    err_clear(&e);
    json_t *shown = registry_version_show(srv->store, t->cfg->name, version, &e);
    if (shown)
        http_reply_json(r, 200, shown);
    else
        http_reply_err(r, &e);
}

/* The promotion's optional body {"force": bool, "reason": string}: 0, or -1
 * after answering. The reason points into *doc (the caller frees it). */
static int promote_body(struct http_request *r, json_t **doc, int *force, const char **reason)
{
    *doc = NULL;
    if (!r->body.len) return 0;
    if (!(*doc = http_body_object(r))) return -1;
    const char *key;
    json_t *v;
    json_object_foreach(*doc, key, v)
    {
        if (strcmp(key, "force") == 0 && json_is_boolean(v)) {
            *force = json_is_true(v);
        } else if (strcmp(key, "reason") == 0 && json_is_string(v)) {
            if (json_string_length(v) > MAX_REASON_BYTES) {
                http_reply_error(r, 422, "limit", "reason", "reason: longer than %d bytes",
                                 MAX_REASON_BYTES);
                return -1;
            }
            *reason = json_string_value(v);
        } else {
            http_reply_error(r, 422, "invalid", key,
                             "%s: the accepted keys are force (a boolean) and reason (a string)",
                             key);
            return -1;
        }
    }
    return 0;
}

void routes_model_promote(struct server *srv, struct http_request *r, struct served_task *t,
                          const char *version_text)
{
    int64_t version;
    if (path_version(r, version_text, &version)) return;
    json_t *doc;
    struct registry_promotion p = {.primary = t->cfg->gate.primary, .reason = "promoted over HTTP"};
    if (promote_body(r, &doc, &p.force, &p.reason)) {
        json_decref(doc);
        return;
    }
    char actor[128];
    auth_actor(r, actor, sizeof actor);
    p.actor = actor;
    struct err e;
    err_clear(&e);
    int64_t previous = 0;
    int rc = registry_promote(srv->store, t->cfg->name, version, &p, &previous, &e);
    json_decref(doc);
    if (rc != 0) {
        http_reply_err(r, &e);
        return;
    }
    server_wake_watcher(srv); /* swap now, not at the next poll */
    http_reply_json(r, 200,
                    json_pack("{s:s,s:I,s:o}", "task", t->cfg->name, "champion",
                              (json_int_t)version, "previous",
                              previous ? json_integer((json_int_t)previous) : json_null()));
}

void routes_aliases(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    json_t *versions = store_models_list(srv->store, t->cfg->name, &e);
    json_t *history = versions ? store_alias_history(srv->store, t->cfg->name, &e) : NULL;
    if (!history) {
        json_decref(versions);
        http_reply_err(r, &e);
        return;
    }
    json_t *aliases = json_object(); /* alias -> version, from each version's names */
    size_t i, j;
    json_t *v, *name;
    json_array_foreach(versions, i, v) json_array_foreach(json_object_get(v, "aliases"), j, name)
        json_object_set(aliases, json_string_value(name), json_object_get(v, "version"));
    json_decref(versions);
    http_reply_json(
        r, 200,
        json_pack("{s:s,s:o,s:o}", "task", t->cfg->name, "aliases", aliases, "history", history));
}
