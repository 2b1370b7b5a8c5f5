#include "loop/check.h"

#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void note(json_t *list, const char *trigger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(json_t *list, const char *trigger, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_pack("{s:s,s:s}", "trigger", trigger, "reason", reason));
}

/* When the task last got a new model: its newest version, or its last retrain. */
static int64_t last_training_ms(struct store *st, const char *task, int64_t last_retrain_ms)
{
    struct err e;
    err_clear(&e);
    json_t *models = store_models_list(st, task, &e);
    int64_t t = last_retrain_ms;
    if (models && json_array_size(models) > 0) {
        int64_t created = time_parse_iso8601(
            json_string_value(json_object_get(json_array_get(models, 0), "created_at")));
        if (created > t) t = created;
    }
    json_decref(models);
    return t;
}

static int eval_trigger(struct store *st, const struct task_config *task,
                        const struct trigger_config *t, int64_t now, int64_t last_retrain,
                        int64_t last_deploy, int64_t last_import, struct check_result *out,
                        struct err *e)
{
    const char *name = trigger_kind_name(t->kind);
    switch (t->kind) {
    case TRIGGER_FEEDBACK_COUNT: {
        int64_t n = 0;
        if (store_feedback_gold_unused_count(st, task->name, &n, e) != 0) return -1;
        if (n >= t->feedback_count)
            note(out->fired, name, "%lld new gold feedback >= %ld", (long long)n,
                 t->feedback_count);
        else
            note(out->quiet, name, "%lld new gold feedback < %ld", (long long)n, t->feedback_count);
        return 0;
    }
    case TRIGGER_SATISFACTION: {
        /* only feedback on the model now serving counts */
        int64_t since = now - t->satisfaction_window_ms;
        if (last_deploy > since) since = last_deploy;
        int64_t scored = 0, positive = 0;
        if (store_feedback_satisfaction(st, task->name, since, &scored, &positive, e) != 0)
            return -1;
        if (scored < t->satisfaction_min_samples) {
            note(out->quiet, name, "%lld scored feedback since the window start, %ld needed",
                 (long long)scored, t->satisfaction_min_samples);
            return 0;
        }
        double share = (double)positive / (double)scored;
        if (share < t->satisfaction_below)
            note(out->fired, name, "satisfaction %.3f < %.3f over %lld scored feedback", share,
                 t->satisfaction_below, (long long)scored);
        else
            note(out->quiet, name, "satisfaction %.3f >= %.3f over %lld scored feedback", share,
                 t->satisfaction_below, (long long)scored);
        return 0;
    }
    case TRIGGER_SCHEDULE: {
        struct cron c;
        if (cron_parse(t->schedule, &c, e) != 0) return -1;
        int64_t since = last_retrain ? last_retrain : last_import;
        int64_t due = since ? cron_next(&c, since) : -1;
        char when[40] = "never";
        if (due > 0) time_format_iso8601(due, when, sizeof when);
        if (due > 0 && due <= now)
            note(out->fired, name, "'%s' was due at %s", t->schedule, when);
        else
            note(out->quiet, name, "'%s' next due at %s", t->schedule,
                 due > 0 ? when : "(no data yet)");
        return 0;
    }
    case TRIGGER_NEW_DATA: {
        int64_t trained = last_training_ms(st, task->name, last_retrain);
        if (last_import > trained)
            note(out->fired, name, "data imported after the last training");
        else
            note(out->quiet, name, "no import since the last training");
        return 0;
    }
    }
    return 0;
}

int check_retrain(struct store *st, const struct task_config *task, int64_t now_ms,
                  int apply_cooldown, struct check_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->fired = json_array();
    out->quiet = json_array();
    int64_t last_retrain = 0, last_deploy = 0, last_import = 0;
    if (store_task_times(st, task->name, &last_retrain, &last_deploy, &last_import, e) != 0)
        return -1;
    for (size_t i = 0; i < task->n_triggers; i++)
        if (eval_trigger(st, task, &task->triggers[i], now_ms, last_retrain, last_deploy,
                         last_import, out, e) != 0)
            return -1;
    if (json_array_size(out->fired) == 0) return 0;
    snprintf(out->trigger, sizeof out->trigger, "%s",
             json_string_value(json_object_get(json_array_get(out->fired, 0), "trigger")));
    if (apply_cooldown && last_retrain && now_ms - last_retrain < task->retrain_cooldown_ms) {
        out->in_cooldown = 1;
        return 0;
    }
    out->needed = 1;
    return 0;
}

void check_result_free(struct check_result *r)
{
    json_decref(r->fired);
    json_decref(r->quiet);
    r->fired = r->quiet = NULL;
}

char *check_result_summary(const struct check_result *r)
{
    struct buf b;
    buf_init(&b);
    json_t *list = json_array_size(r->fired) ? r->fired : r->quiet;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        buf_printf(&b, "%s%s: %s", i ? "; " : "",
                   json_string_value(json_object_get(item, "trigger")),
                   json_string_value(json_object_get(item, "reason")));
    }
    if (r->in_cooldown) buf_append_str(&b, " (in cooldown after the last retrain)");
    if (!b.data) buf_append_str(&b, "no trigger configured");
    return buf_detach(&b);
}
