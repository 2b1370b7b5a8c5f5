/* The loop over HTTP: start or cancel a retrain, roll back, the review
 * queue of unexplained thumbs-down, and the job queue. */
#include "serve/routes.h"

#include "serve/auth.h"

#include <stdlib.h>
#include <string.h>

void routes_retrain_post(struct server *srv, struct http_request *r, struct served_task *t)
{
    int if_needed = 0;
    if (r->body.len) {
        json_t *doc = http_body_object(r);
        if (!doc) return;
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
            if (strcmp(key, "if_needed") != 0 || !json_is_boolean(v)) {
                http_reply_error(r, 422, "invalid", key,
                                 "%s: the only accepted key is if_needed (a boolean)", key);
                json_decref(doc);
                return;
            }
            if_needed = json_is_true(v);
        }
        json_decref(doc);
    }
    char payload[64], run_id[40];
    snprintf(payload, sizeof payload, "{\"if_needed\":%s}", if_needed ? "true" : "false");
    struct err e;
    err_clear(&e);
    if (store_job_enqueue(srv->store, t->cfg->name, "retrain", "manual", payload, run_id, &e) !=
        0) {
        http_reply_err(r, &e);
        return;
    }
    http_reply_json(r, 202,
                    json_pack("{s:s,s:s,s:s,s:s}", "run_id", run_id, "task", t->cfg->name, "status",
                              "pending", "trigger", "manual"));
}

void routes_retrain_delete(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    int n = store_job_cancel(srv->store, t->cfg->name, "retrain", &e);
    if (n < 0)
        http_reply_err(r, &e);
    else if (n == 0)
        http_reply_error(r, 404, "not_found", NULL, "task '%s' has no retrain queued or running",
                         t->cfg->name);
    else
        http_reply_json(r, 200, json_pack("{s:s,s:b}", "task", t->cfg->name, "cancelled", 1));
}

void routes_rollback(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    int64_t now_serving = 0;
    char actor[128];
    auth_actor(r, actor, sizeof actor);
    if (store_alias_rollback(srv->store, t->cfg->name, "rollback requested over HTTP", actor,
                             &now_serving, &e) != 0) {
        http_reply_err(r, &e);
        return;
    }
    server_wake_watcher(srv); /* swap now, not at the next poll */
    http_reply_json(
        r, 200, json_pack("{s:s,s:I}", "task", t->cfg->name, "champion", (json_int_t)now_serving));
}

void routes_review(struct server *srv, struct http_request *r, struct served_task *t)
{
    const char *limit_s = http_query(r, "limit");
    long limit = limit_s ? strtol(limit_s, NULL, 10) : 100;
    if (limit <= 0 || limit > 1000) {
        http_reply_error(r, 422, "invalid", "limit", "limit: must be between 1 and 1000");
        return;
    }
    struct err e;
    err_clear(&e);
    json_t *items = store_review_queue(srv->store, t->cfg->name, (size_t)limit, &e);
    if (!items)
        http_reply_err(r, &e);
    else
        http_reply_json(r, 200, json_pack("{s:s,s:o}", "task", t->cfg->name, "review", items));
}

void routes_jobs(struct server *srv, struct http_request *r)
{
    struct err e;
    err_clear(&e);
    json_t *jobs = store_jobs_list(srv->store, http_query(r, "task"), &e);
    if (!jobs)
        http_reply_err(r, &e);
    else
        http_reply_json(r, 200, json_pack("{s:o}", "jobs", jobs));
}
