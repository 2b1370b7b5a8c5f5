/* Shadow and canary rollouts over HTTP (issue 6), admin scope:
 *   GET    /v1/tasks/{task}/rollout   the rollout, its live numbers, this server's view
 *   POST   /v1/tasks/{task}/rollout   {"strategy","version"?,"percent"?,"min_feedback"?}
 *   DELETE /v1/tasks/{task}/rollout   stop it: the champion keeps all traffic
 * and the rollout families of GET /metrics. A start or stop wakes this
 * server's watcher, so it switches at once; the others within a second. */
#include "serve/routes.h"

#include "serve/auth.h"

#include "loop/rollout.h"
#include "serve/metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *mode_name(enum challenger_mode m)
{
    return m == CHALLENGER_CANARY ? "canary" : m == CHALLENGER_SHADOW ? "shadow" : "off";
}

/* What this process serves now (it may lag the store by a poll). */
static json_t *serving_json(struct served_task *t)
{
    struct challenger_view v;
    challenger_view_take(&t->challenger, &v);
    json_t *doc =
        json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I}", "mode", mode_name(v.mode), "percent", v.percent,
                  "rollout_id", (json_int_t)v.rollout_id, "challenger_version",
                  (json_int_t)(v.model ? v.model->version : 0), "shadow_scored",
                  (json_int_t)atomic_load(&t->challenger.shadow_scored), "shadow_agreed",
                  (json_int_t)atomic_load(&t->challenger.shadow_agreed), "canary_answered",
                  (json_int_t)atomic_load(&t->challenger.canary_answered));
    challenger_view_release(&v);
    return doc;
}

static void rollout_get(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    struct rollout_report rep;
    json_t *doc = rollout_report_get(srv->store, t->cfg, &rep, &e) == 0
                      ? rollout_report_json(srv->store, t->cfg, &rep, &e)
                      : NULL;
    if (!doc) {
        http_reply_err(r, &e);
        return;
    }
    json_object_set_new(doc, "serving", serving_json(t));
    http_reply_json(r, 200, doc);
}

/* An optional whole number of the body in [min, max]: 0 when absent. */
static int body_count(struct http_request *r, json_t *doc, const char *key, long min, long max,
                      long *out)
{
    json_t *v = json_object_get(doc, key);
    *out = 0;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        http_reply_error(r, 422, "invalid", key, "%s: must be a whole number from %ld to %ld", key,
                         min, max);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

static void rollout_post(struct server *srv, struct http_request *r, struct served_task *t)
{
    json_t *doc = http_body_object(r);
    if (!doc) return;
    const char *key;
    json_t *v;
    struct rollout_request rq = {.strategy = ROLLOUT_DIRECT};
    long version = 0, percent = 0, after = 0;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "strategy") && strcmp(key, "version") && strcmp(key, "percent") &&
            strcmp(key, "min_feedback")) {
            http_reply_error(r, 422, "invalid", key,
                             "unknown key '%.64s' (expected strategy, version, percent, "
                             "min_feedback)",
                             key);
            goto out;
        }
    }
    json_t *strategy = json_object_get(doc, "strategy");
    if (!json_is_string(strategy) ||
        rollout_strategy_parse(json_string_value(strategy), &rq.strategy) != 0) {
        http_reply_error(r, 422, "invalid", "strategy",
                         "strategy: must be \"shadow\", \"canary\" or \"direct\"");
        goto out;
    }
    if (body_count(r, doc, "version", 1, 2000000000, &version) ||
        body_count(r, doc, "percent", 1, 99, &percent) ||
        body_count(r, doc, "min_feedback", 1, 100000000, &after))
        goto out;
    if ((percent || after) && rq.strategy != ROLLOUT_CANARY) {
        http_reply_error(r, 422, "invalid", percent ? "percent" : "min_feedback",
                         "%s: only a canary takes it", percent ? "percent" : "min_feedback");
        goto out;
    }
    struct err e;
    err_clear(&e);
    const char *task = t->cfg->name;
    if (rq.strategy == ROLLOUT_DIRECT) {
        char actor[128];
        auth_actor(r, actor, sizeof actor);
        if (!version) {
            http_reply_error(r, 422, "invalid", "version", "version: a direct deploy needs one");
        } else if (store_alias_deploy(srv->store, task, version, "deployed over HTTP", actor, &e) !=
                   0) {
            http_reply_err(r, &e);
        } else {
            server_wake_watcher(srv);
            http_reply_json(r, 200,
                            json_pack("{s:s,s:s,s:I}", "task", task, "strategy", "direct",
                                      "champion", (json_int_t)version));
        }
        goto out;
    }
    int64_t v64 = version;
    if (!v64 && store_alias_get(srv->store, task, "challenger", &v64, &e) <= 0) {
        if (e.code == ERR_OK)
            err_set_field(&e, ERR_NOT_FOUND, "version",
                          "task '%s' has no challenger alias: give a version", task);
        http_reply_err(r, &e);
        goto out;
    }
    rq.version = v64;
    rq.percent = (int)percent;
    rq.min_feedback = after;
    rq.reason = "started over HTTP";
    rollout_request_defaults(&rq, t->cfg);
    int64_t id = 0;
    if (rollout_start(srv->store, t->cfg, &rq, &id, &e) != 0) {
        http_reply_err(r, &e);
        goto out;
    }
    server_wake_watcher(srv);
    http_reply_json(r, 201,
                    json_pack("{s:s,s:I,s:s,s:I,s:i,s:I}", "task", task, "rollout_id",
                              (json_int_t)id, "strategy", rollout_strategy_name(rq.strategy),
                              "version", (json_int_t)rq.version, "percent",
                              rq.strategy == ROLLOUT_CANARY ? rq.percent : 0, "min_feedback",
                              (json_int_t)rq.min_feedback));
out:
    json_decref(doc);
}

static void rollout_delete(struct server *srv, struct http_request *r, struct served_task *t)
{
    struct err e;
    err_clear(&e);
    struct rollout_outcome out;
    int rc = rollout_finish(srv->store, t->cfg, "stopped", "stopped over HTTP", &out, &e);
    if (rc < 0) {
        http_reply_err(r, &e);
    } else if (rc == 0) {
        http_reply_error(r, 404, "not_found", NULL, "task '%s' has no active rollout",
                         t->cfg->name);
    } else {
        server_wake_watcher(srv);
        http_reply_json(r, 200,
                        json_pack("{s:s,s:I,s:s,s:s}", "task", t->cfg->name, "rollout_id",
                                  (json_int_t)out.rollout_id, "status", out.status, "outcome",
                                  out.reason));
    }
}

void routes_rollout(struct server *srv, struct http_request *r, struct served_task *t)
{
    if (strcmp(r->method, "GET") == 0)
        rollout_get(srv, r, t);
    else if (strcmp(r->method, "POST") == 0)
        rollout_post(srv, r, t);
    else
        rollout_delete(srv, r, t);
}

/* ---- /metrics ---- */

/* Task names are [A-Za-z0-9_-] (config.c checks), so they need no escaping
 * in a label value. */
static void render_served(struct server *srv, struct buf *out)
{
    metrics_family(out, "boucle_rollout_challenger_version", "gauge",
                   "The challenger version this server runs beside the champion (0: none).");
    for (size_t i = 0; i < srv->n_tasks; i++) {
        struct challenger_view v;
        challenger_view_take(&srv->tasks[i].challenger, &v);
        buf_printf(out, "boucle_rollout_challenger_version{task=\"%s\",strategy=\"%s\"} %lld\n",
                   srv->tasks[i].cfg->name, mode_name(v.mode),
                   (long long)(v.model ? v.model->version : 0));
        challenger_view_release(&v);
    }
    metrics_family(out, "boucle_rollout_percent", "gauge",
                   "Share of requests a canary answers on this server (0: none).");
    for (size_t i = 0; i < srv->n_tasks; i++) {
        struct challenger_view v;
        challenger_view_take(&srv->tasks[i].challenger, &v);
        buf_printf(out, "boucle_rollout_percent{task=\"%s\"} %d\n", srv->tasks[i].cfg->name,
                   v.mode == CHALLENGER_CANARY && v.model ? v.percent : 0);
        challenger_view_release(&v);
    }
    static const struct {
        const char *name, *help;
        size_t offset;
    } counters[] = {
        {"boucle_canary_predictions_total", "Requests a canary answered on this server.",
         offsetof(struct served_challenger, canary_answered)},
        {"boucle_shadow_predictions_total", "Answers a shadow scored on this server.",
         offsetof(struct served_challenger, shadow_scored)},
        {"boucle_shadow_agreements_total",
         "Shadow answers with the champion's label, on this server.",
         offsetof(struct served_challenger, shadow_agreed)},
    };
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        metrics_family(out, counters[k].name, "counter", counters[k].help);
        for (size_t i = 0; i < srv->n_tasks; i++) {
            _Atomic uint64_t *c =
                (_Atomic uint64_t *)((char *)&srv->tasks[i].challenger + counters[k].offset);
            buf_printf(out, "%s{task=\"%s\"} %llu\n", counters[k].name, srv->tasks[i].cfg->name,
                       (unsigned long long)atomic_load(c));
        }
    }
}

/* Samples of a family must follow its header together: one buffer each. */
struct live_lines {
    struct buf accuracy, judged, ratio;
};

static void live_line(struct live_lines *l, const char *task, const char *role, int64_t version,
                      int64_t correct, int64_t judged)
{
    buf_printf(&l->judged,
               "boucle_live_judged{task=\"%s\",model_version=\"%lld\",role=\"%s\"} %lld\n", task,
               (long long)version, role, (long long)judged);
    if (judged > 0) /* no judged answer is no accuracy, not 0 */
        buf_printf(&l->accuracy,
                   "boucle_live_accuracy{task=\"%s\",model_version=\"%lld\",role=\"%s\"} %.6f\n",
                   task, (long long)version, role, (double)correct / (double)judged);
}

static void family_with(struct buf *out, const char *name, const char *help, struct buf *lines)
{
    metrics_family(out, name, "gauge", help);
    if (lines->len) buf_append(out, lines->data, lines->len);
    buf_free(lines);
}

/* The active rollouts' live numbers, from the store (the whole rollout,
 * across servers): a scrape may do SQL, a prediction never does. */
void routes_rollout_metrics(struct server *srv, struct buf *out, uint64_t *errors)
{
    render_served(srv, out);
    struct live_lines l;
    buf_init(&l.accuracy);
    buf_init(&l.judged);
    buf_init(&l.ratio);
    for (size_t i = 0; i < srv->n_tasks; i++) {
        const struct task_config *task = srv->tasks[i].cfg;
        struct err e;
        err_clear(&e);
        struct rollout_report rep;
        if (rollout_report_get(srv->store, task, &rep, &e) != 0) {
            (*errors)++;
            continue;
        }
        if (!rep.active) continue;
        const struct store_rollout_stats *s = &rep.stats;
        int shadow = strcmp(rep.ro.strategy, "shadow") == 0;
        /* a shadow's two accuracies are on the same answers: the paired ones */
        live_line(&l, task->name, "champion", rep.ro.champion_version,
                  shadow ? s->champion_paired : s->champion.correct,
                  shadow ? s->paired : s->champion.judged);
        live_line(&l, task->name, "challenger", rep.ro.challenger_version, s->challenger.correct,
                  s->challenger.judged);
        if (shadow && s->compared > 0)
            buf_printf(&l.ratio,
                       "boucle_shadow_agreement_ratio{task=\"%s\",model_version=\"%lld\"} %.6f\n",
                       task->name, (long long)rep.ro.challenger_version,
                       (double)s->agreed / (double)s->compared);
    }
    family_with(out, "boucle_live_accuracy",
                "Accuracy over the answers feedback judged in the active rollout, by model.",
                &l.accuracy);
    family_with(out, "boucle_live_judged",
                "Answers feedback judged in the active rollout, by model.", &l.judged);
    family_with(out, "boucle_shadow_agreement_ratio",
                "Share of a shadow's answers with the champion's label, in the active rollout.",
                &l.ratio);
}
