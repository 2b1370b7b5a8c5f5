#include "loop/rollout.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/runlog.h"
#include "monitor/notify.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void rollout_request_defaults(struct rollout_request *r, const struct task_config *task)
{
    if (r->strategy == ROLLOUT_CANARY && r->percent == 0) r->percent = task->rollout.percent;
    if (r->min_feedback == 0) r->min_feedback = task->rollout.min_feedback;
}

int rollout_start(struct store *st, const struct task_config *task, const struct rollout_request *r,
                  int64_t *id, struct err *e)
{
    if (r->strategy != ROLLOUT_SHADOW && r->strategy != ROLLOUT_CANARY)
        return err_set_field(e, ERR_INVALID, "strategy",
                             "a rollout is a shadow or a canary, not '%s'",
                             rollout_strategy_name(r->strategy));
    char reason[256];
    if (r->strategy == ROLLOUT_CANARY)
        snprintf(reason, sizeof reason, "canary of version %lld at %d%%%s%.200s",
                 (long long)r->version, r->percent, r->reason ? ": " : "",
                 r->reason ? r->reason : "");
    else
        snprintf(reason, sizeof reason, "shadow of version %lld%s%.200s", (long long)r->version,
                 r->reason ? ": " : "", r->reason ? r->reason : "");
    struct store_rollout_start s = {
        .task = task->name,
        .strategy = rollout_strategy_name(r->strategy),
        .challenger_version = r->version,
        .percent = r->strategy == ROLLOUT_CANARY ? r->percent : 0,
        .min_feedback = r->min_feedback > 0 ? r->min_feedback : task->rollout.min_feedback,
        .reason = reason,
        .run_id = r->run_id,
    };
    if (store_rollout_start(st, &s, id, e) != 0) return -1;
    log_info("task %s: rollout %lld started: %s", task->name, (long long)*id, reason);
    return 0;
}

int rollout_report_get(struct store *st, const struct task_config *task, struct rollout_report *out,
                       struct err *e)
{
    memset(out, 0, sizeof *out);
    int found = store_rollout_active(st, task->name, &out->ro, e);
    if (found <= 0) return found;
    out->active = 1;
    if (store_rollout_stats(st, &out->ro, &out->stats, e) != 0) return -1;
    if (strcmp(out->ro.strategy, "canary") == 0) {
        struct rollout_config policy = task->rollout;
        policy.min_feedback = (long)out->ro.min_feedback; /* the rollout's own, as started */
        struct live_arm champion = {out->stats.champion.judged, out->stats.champion.correct};
        struct live_arm challenger = {out->stats.challenger.judged, out->stats.challenger.correct};
        live_compare(&policy, &champion, &challenger, &out->verdict);
    }
    return 0;
}

static json_t *ratio_or_null(int64_t num, int64_t den)
{
    return den > 0 ? json_real((double)num / (double)den) : json_null();
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *arm_json(int64_t version, const struct store_rollout_arm *a)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:o}", "version", (json_int_t)version, "predictions",
                     (json_int_t)a->predictions, "judged", (json_int_t)a->judged, "correct",
                     (json_int_t)a->correct, "accuracy", ratio_or_null(a->correct, a->judged));
}

/* The active rollout's numbers: the "decision" kept with it when it ends. */
static json_t *numbers_json(const struct rollout_report *r)
{
    const struct store_rollout *ro = &r->ro;
    json_t *doc =
        json_pack("{s:I,s:s,s:I,s:I,s:i,s:I,s:o,s:o}", "id", (json_int_t)ro->id, "strategy",
                  ro->strategy, "challenger_version", (json_int_t)ro->challenger_version,
                  "champion_version", (json_int_t)ro->champion_version, "percent", ro->percent,
                  "min_feedback", (json_int_t)ro->min_feedback, "champion",
                  arm_json(ro->champion_version, &r->stats.champion), "challenger",
                  arm_json(ro->challenger_version, &r->stats.challenger));
    if (strcmp(ro->strategy, "shadow") == 0) {
        json_object_set_new(doc, "agreement",
                            json_pack("{s:I,s:I,s:o}", "compared", (json_int_t)r->stats.compared,
                                      "agreed", (json_int_t)r->stats.agreed, "ratio",
                                      ratio_or_null(r->stats.agreed, r->stats.compared)));
        json_object_set_new(doc, "paired",
                            json_pack("{s:I,s:o,s:o}", "n", (json_int_t)r->stats.paired,
                                      "champion_accuracy",
                                      ratio_or_null(r->stats.champion_paired, r->stats.paired),
                                      "challenger_accuracy",
                                      ratio_or_null(r->stats.challenger.correct, r->stats.paired)));
    } else {
        const struct live_verdict *v = &r->verdict;
        json_object_set_new(doc, "decision",
                            json_pack("{s:b,s:s?,s:s,s:o,s:o}", "ready", v->ready, "would",
                                      v->ready ? (v->promote ? "promote" : "roll back") : NULL,
                                      "reason", v->reason, "drop", real_or_null(v->drop),
                                      "drop_lower", real_or_null(v->drop_lower)));
    }
    return doc;
}

json_t *rollout_report_json(struct store *st, const struct task_config *task,
                            const struct rollout_report *r, struct err *e)
{
    json_t *recent = store_rollouts_list(st, task->name, 2, e);
    if (!recent) return NULL;
    json_t *last = NULL, *item;
    size_t i;
    json_array_foreach(recent, i, item)
    {
        const char *status = json_string_value(json_object_get(item, "status"));
        if (!last && status && strcmp(status, "active") != 0) last = json_incref(item);
    }
    json_decref(recent);
    json_t *doc = json_pack("{s:s,s:b}", "task", task->name, "active", r->active);
    if (r->active) {
        char started[40];
        time_format_iso8601(r->ro.started_ms, started, sizeof started);
        json_t *numbers = numbers_json(r);
        json_object_set_new(
            doc, "rollout",
            json_pack("{s:I,s:s,s:I,s:I,s:i,s:I,s:s,s:s}", "id", (json_int_t)r->ro.id, "strategy",
                      r->ro.strategy, "challenger_version", (json_int_t)r->ro.challenger_version,
                      "champion_version", (json_int_t)r->ro.champion_version, "percent",
                      r->ro.percent, "min_feedback", (json_int_t)r->ro.min_feedback, "status",
                      r->ro.status, "started_at", started));
        static const char *const keys[] = {"champion", "challenger", "agreement", "paired",
                                           "decision"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (json_object_get(numbers, keys[k]))
                json_object_set(doc, keys[k], json_object_get(numbers, keys[k]));
        json_decref(numbers);
    } else {
        json_object_set_new(doc, "rollout", json_null());
    }
    json_object_set_new(doc, "last", last ? last : json_null());
    return doc;
}

/* The decision is recorded in a run of its own (kind "rollout"), then told.
 * Failures here are logged, not returned: the rollout has already ended. */
static void record(struct store *st, const struct task_config *task, const struct rollout_report *r,
                   json_t *decision, struct rollout_outcome *out)
{
    struct err e;
    err_clear(&e);
    uuid_v4(out->run_id);
    json_t *params =
        json_pack("{s:I,s:s,s:I,s:I}", "rollout_id", (json_int_t)r->ro.id, "strategy",
                  r->ro.strategy, "challenger_version", (json_int_t)r->ro.challenger_version,
                  "champion_version", (json_int_t)r->ro.champion_version);
    char *params_text = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    int ok = store_run_create(st, out->run_id, task->name, "rollout", params_text, &e) == 0;
    free(params_text);
    if (ok) {
        runlog(st, out->run_id, task->name, "%s %lld (version %lld beside champion %lld): %s",
               r->ro.strategy, (long long)r->ro.id, (long long)r->ro.challenger_version,
               (long long)r->ro.champion_version, out->status);
        runlog(st, out->run_id, task->name, "%s", out->reason);
        json_t *patch = json_pack("{s:O,s:b}", "decision", decision, "deployed",
                                  strcmp(out->status, "promoted") == 0);
        ok = store_run_state_merge(st, out->run_id, patch, &e) == 0 &&
             store_run_finish(st, out->run_id, "completed", NULL, &e) == 0;
        json_decref(patch);
    }
    if (!ok) {
        log_warn("task %s: rollout %lld %s, but its run was not recorded: %s", task->name,
                 (long long)r->ro.id, out->status, e.msg);
        out->run_id[0] = '\0';
    }
    const char *event = strcmp(out->status, "promoted") == 0 ? "deployed" : out->status;
    char subject[512];
    snprintf(subject, sizeof subject, "%s: %s of version %lld %s", task->name, r->ro.strategy,
             (long long)r->ro.challenger_version,
             strcmp(out->status, "promoted") == 0      ? "promoted to champion"
             : strcmp(out->status, "rolled_back") == 0 ? "rolled back"
                                                       : "stopped");
    struct buf body;
    buf_init(&body);
    buf_printf(&body, "%s\n\n%s\nrun: %s\n", subject, out->reason,
               out->run_id[0] ? out->run_id : "(not recorded)");
    struct notification n = {.task = task->name,
                             .event = event,
                             .subject = subject,
                             .body = body.data,
                             .details = decision};
    err_clear(&e);
    if (notify_send(&task->notify, &n, &e) != 0)
        log_warn("task %s: notifying the rollout's end: %s", task->name, e.msg);
    buf_free(&body);
}

/* Ends the reported rollout with status and reason: 1 ended here, 0 when
 * another process ended it first, -1. */
static int finish(struct store *st, const struct task_config *task, const struct rollout_report *r,
                  const char *status, const char *why, struct rollout_outcome *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->rollout_id = r->ro.id;
    snprintf(out->status, sizeof out->status, "%s", status);
    snprintf(out->reason, sizeof out->reason, "%s of version %lld (rollout %lld) %s: %.300s",
             r->ro.strategy, (long long)r->ro.challenger_version, (long long)r->ro.id,
             strcmp(status, "promoted") == 0      ? "promoted"
             : strcmp(status, "rolled_back") == 0 ? "rolled back"
                                                  : "stopped",
             why);
    json_t *decision = numbers_json(r);
    json_object_set_new(decision, "status", json_string(status));
    json_object_set_new(decision, "reason", json_string(out->reason));
    char *text = json_dumps(decision, JSON_COMPACT);
    int rc = store_rollout_end(st, r->ro.id, status, out->reason, text, e);
    free(text);
    if (rc == 1) {
        log_info("task %s: %s", task->name, out->reason);
        record(st, task, r, decision, out);
    }
    json_decref(decision);
    return rc;
}

int rollout_finish(struct store *st, const struct task_config *task, const char *status,
                   const char *why, struct rollout_outcome *out, struct err *e)
{
    struct rollout_report r;
    if (rollout_report_get(st, task, &r, e) != 0) return -1;
    if (!r.active) return 0;
    return finish(st, task, &r, status, why, out, e);
}

int rollout_tick(struct store *st, const struct task_config *task, struct rollout_outcome *out,
                 struct err *e)
{
    struct rollout_report r;
    if (rollout_report_get(st, task, &r, e) != 0) return -1;
    if (!r.active) return 0;
    int64_t champion = 0;
    int has = store_alias_get(st, task->name, "champion", &champion, e);
    if (has < 0) return -1;
    if (!has || champion != r.ro.champion_version) {
        char why[160];
        snprintf(why, sizeof why, "the champion moved to version %lld (was %lld) meanwhile",
                 (long long)champion, (long long)r.ro.champion_version);
        return finish(st, task, &r, "stopped", why, out, e);
    }
    if (strcmp(r.ro.strategy, "canary") != 0 || !r.verdict.ready) return 0;
    return finish(st, task, &r, r.verdict.promote ? "promoted" : "rolled_back", r.verdict.reason,
                  out, e);
}
