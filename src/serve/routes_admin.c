/* Health, readiness, and read-only views of datasets, runs and models. */
#include "serve/routes.h"

#include "base/version.h"
#include "base/ids.h"

#include <stdlib.h>
#include <string.h>

void routes_healthz(struct server *srv, struct http_request *r)
{
    (void)srv;
    http_reply_json(r, 200, json_pack("{s:s,s:s}", "status", "ok", "version", boucle_version));
}

static json_t *tasks_json(struct server *srv, int *all_ready)
{
    json_t *tasks = json_object();
    *all_ready = 1;
    for (size_t i = 0; i < srv->n_tasks; i++) {
        struct served_task *t = &srv->tasks[i];
        int64_t v = model_slot_version(&t->slot);
        if (!v) *all_ready = 0;
        json_object_set_new(tasks, t->cfg->name,
                            json_pack("{s:s,s:o}", "type", task_type_name(t->cfg->type),
                                      "model_version", v ? json_integer(v) : json_null()));
    }
    return tasks;
}

void routes_readyz(struct server *srv, struct http_request *r)
{
    int ready;
    json_t *tasks = tasks_json(srv, &ready);
    http_reply_json(r, ready ? 200 : 503, json_pack("{s:b,s:o}", "ready", ready, "tasks", tasks));
}

void routes_tasks(struct server *srv, struct http_request *r)
{
    int ready;
    http_reply_json(r, 200, json_pack("{s:o}", "tasks", tasks_json(srv, &ready)));
}

static void reply_list(struct http_request *r, const char *key, json_t *list, struct err *e)
{
    if (!list)
        http_reply_err(r, e);
    else
        http_reply_json(r, 200, json_pack("{s:o}", key, list));
}

void routes_models(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    reply_list(r, "models", store_models_list(srv->store, t->cfg->name, &e), &e);
}

void routes_datasets(struct server *srv, struct http_request *r)
{
    struct err e;
    err_clear(&e);
    reply_list(r, "datasets", store_datasets_list(srv->store, http_query(r, "task"), &e), &e);
}

void routes_runs(struct server *srv, struct http_request *r, const char *id)
{
    struct err e;
    err_clear(&e);
    if (id) {
        json_t *run = uuid_is_valid(id) ? store_run_get(srv->store, id, &e) : NULL;
        if (run)
            http_reply_json(r, 200, run);
        else if (e.code == ERR_OK || e.code == ERR_NOT_FOUND)
            http_reply_error(r, 404, "not_found", NULL, "run '%.64s' not found", id);
        else
            http_reply_err(r, &e);
        return;
    }
    const char *limit_s = http_query(r, "limit");
    long limit = limit_s ? strtol(limit_s, NULL, 10) : 100;
    if (limit <= 0 || limit > 1000) {
        http_reply_error(r, 422, "invalid", "limit", "limit: must be between 1 and 1000");
        return;
    }
    reply_list(r, "runs", store_runs_list(srv->store, http_query(r, "task"), (size_t)limit, &e),
               &e);
}

void routes_prediction_get(struct server *srv, struct http_request *r, const char *id)
{
    struct err e;
    err_clear(&e);
    json_t *p = uuid_is_valid(id) ? store_prediction_get(srv->store, id, &e) : NULL;
    if (p)
        http_reply_json(r, 200, p);
    else if (e.code == ERR_OK || e.code == ERR_NOT_FOUND)
        http_reply_error(r, 404, "not_found", NULL, "prediction '%.64s' not found", id);
    else
        http_reply_err(r, &e);
}
