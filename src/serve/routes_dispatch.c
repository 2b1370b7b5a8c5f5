#include "serve/routes.h"

#include "base/json_scope.h"
#include "serve/auth.h"
#include "serve/limits.h"
#include "serve/web_assets.h"

#include <string.h>

/* Splits "/a/b/c" into at most `max` segments pointing into `copy`. */
static size_t split_path(char *copy, char **seg, size_t max)
{
    size_t n = 0;
    for (char *p = copy; *p && n < max;) {
        while (*p == '/')
            p++;
        if (!*p) break;
        seg[n++] = p;
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = '\0';
        p = slash + 1;
    }
    return n;
}

static int method_is(struct http_request *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

/* True when the method matches; otherwise answers 405 naming the allowed one. */
static int require(struct http_request *r, const char *allowed)
{
    if (method_is(r, allowed)) return 1;
    r->allow = allowed;
    http_reply_error(r, 405, "method_not_allowed", NULL, "%s %s is not allowed; use %s", r->method,
                     r->path, allowed);
    return 0;
}

static void unknown_task(struct http_request *r, const char *name)
{
    http_reply_error(r, 404, "not_found", "task", "unknown task '%.64s'", name);
}

/* The dashboard: files compiled into the binary, looked up by exact path. */
static int serve_web_asset(struct http_request *r)
{
    for (const struct web_asset *a = web_assets; a->path; a++) {
        if (strcmp(a->path, r->path) != 0) continue;
        if (!require(r, "GET")) return 1;
        buf_reset(&r->out);
        buf_append(&r->out, a->data, a->len);
        r->status = 200;
        r->content_type = a->content_type;
        return 1;
    }
    return 0;
}

void routes_dispatch(struct server *srv, struct http_request *r)
{
    /* before anything else: no route is reached without its scope */
    if (auth_check(&srv->cfg->auth, r) != 0) return;
    if (limits_check_rate(srv->limits, r) != 0) return; /* 429: per token, else per address */
    if (routes_is_mlflow(r->path)) {
        routes_mlflow(srv, r);
        return;
    }
    char copy[512];
    if (strlen(r->path) >= sizeof copy) {
        http_reply_error(r, 414, "uri_too_long", NULL, "path longer than %zu bytes",
                         sizeof copy - 1);
        return;
    }
    strcpy(copy, r->path);
    /* one more segment than the longest route has, so a longer path is no route */
    char *seg[7];
    size_t n = split_path(copy, seg, 7);

    if (n == 1 && strcmp(seg[0], "healthz") == 0) {
        if (require(r, "GET")) routes_healthz(srv, r);
        return;
    }
    if (n == 1 && strcmp(seg[0], "metrics") == 0) {
        if (require(r, "GET")) routes_metrics(srv, r);
        return;
    }
    if (n == 1 && strcmp(seg[0], "readyz") == 0) {
        if (require(r, "GET")) routes_readyz(srv, r);
        return;
    }
    if (n >= 2 && strcmp(seg[0], "v1") == 0) {
        const char *what = seg[1];
        if (strcmp(what, "feedback") == 0 && n == 2) {
            if (require(r, "POST")) routes_feedback_post(srv, r);
            return;
        }
        if (strcmp(what, "feedback") == 0 && n == 3) {
            if (require(r, "GET")) routes_feedback_get(srv, r, seg[2]);
            return;
        }
        if (strcmp(what, "predictions") == 0 && n == 3) {
            if (require(r, "GET")) routes_prediction_get(srv, r, seg[2]);
            return;
        }
        if (strcmp(what, "tasks") == 0 && n == 2) {
            if (require(r, "GET")) routes_tasks(srv, r);
            return;
        }
        if (strcmp(what, "tasks") == 0 && n == 4) {
            struct served_task *t = server_find_task(srv, seg[2], strlen(seg[2]));
            if (strcmp(seg[3], "predict") == 0) {
                if (!require(r, "POST")) return;
                if (!t) return unknown_task(r, seg[2]);
                /* the hot path's JSON lives in the thread's arena */
                json_scope_begin();
                routes_predict(srv, r, t);
                json_scope_end();
                return;
            }
            if (strcmp(seg[3], "retrain") == 0) {
                if (!method_is(r, "POST") && !method_is(r, "DELETE")) {
                    r->allow = "POST, DELETE";
                    http_reply_error(r, 405, "method_not_allowed", NULL,
                                     "%s %s is not allowed; use POST or DELETE", r->method,
                                     r->path);
                    return;
                }
                if (!t) return unknown_task(r, seg[2]);
                if (method_is(r, "POST"))
                    routes_retrain_post(srv, r, t);
                else
                    routes_retrain_delete(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "rollout") == 0) {
                if (!method_is(r, "GET") && !method_is(r, "POST") && !method_is(r, "DELETE")) {
                    r->allow = "GET, POST, DELETE";
                    http_reply_error(r, 405, "method_not_allowed", NULL,
                                     "%s %s is not allowed; use GET, POST or DELETE", r->method,
                                     r->path);
                    return;
                }
                if (!t) return unknown_task(r, seg[2]);
                routes_rollout(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "imports") == 0) {
                if (!require(r, "POST")) return;
                if (!t) return unknown_task(r, seg[2]);
                routes_import(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "rollback") == 0) {
                if (!require(r, "POST")) return;
                if (!t) return unknown_task(r, seg[2]);
                routes_rollback(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "review") == 0) {
                if (!require(r, "GET")) return;
                if (!t) return unknown_task(r, seg[2]);
                routes_review(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "models") == 0) {
                if (!require(r, "GET")) return;
                if (!t) return unknown_task(r, seg[2]);
                routes_models(srv, r, t);
                return;
            }
            if (strcmp(seg[3], "aliases") == 0) {
                if (!require(r, "GET")) return;
                if (!t) return unknown_task(r, seg[2]);
                routes_aliases(srv, r, t);
                return;
            }
        }
        if (strcmp(what, "tasks") == 0 && n == 5 && strcmp(seg[3], "models") == 0) {
            if (!require(r, "GET")) return;
            struct served_task *t = server_find_task(srv, seg[2], strlen(seg[2]));
            if (!t) return unknown_task(r, seg[2]);
            routes_model_get(srv, r, t, seg[4]);
            return;
        }
        if (strcmp(what, "tasks") == 0 && n == 6 && strcmp(seg[3], "models") == 0 &&
            strcmp(seg[5], "promote") == 0) {
            if (!require(r, "POST")) return;
            struct served_task *t = server_find_task(srv, seg[2], strlen(seg[2]));
            if (!t) return unknown_task(r, seg[2]);
            routes_model_promote(srv, r, t, seg[4]);
            return;
        }
        if (strcmp(what, "jobs") == 0 && n == 2) {
            if (require(r, "GET")) routes_jobs(srv, r);
            return;
        }
        if (strcmp(what, "datasets") == 0 && n == 2) {
            if (require(r, "GET")) routes_datasets(srv, r);
            return;
        }
        if (strcmp(what, "runs") == 0 && (n == 2 || n == 3)) {
            if (require(r, "GET")) routes_runs(srv, r, n == 3 ? seg[2] : NULL);
            return;
        }
    }
    if (serve_web_asset(r)) return;
    http_reply_error(r, 404, "not_found", NULL, "no route for %s %.200s", r->method, r->path);
}
