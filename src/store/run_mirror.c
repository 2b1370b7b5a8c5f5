#include "store/run_mirror.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* MLflow's own limits on one log-batch (params are capped lower). */
enum { MIRROR_MAX_METRICS = 1000, MIRROR_MAX_PARAMS = 100, MIRROR_MAX_VALUE = 6000 };

/* Another process may create the experiment at the same moment: then it
 * is read again. */
int run_mirror_experiment(struct store *s, const char *task, int64_t *id, struct err *e)
{
    char name[300];
    snprintf(name, sizeof name, RUN_MIRROR_EXPERIMENT_PREFIX "%s", task);
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *x = store_experiment_get(s, 0, name, e);
        if (x) {
            *id = json_integer_value(json_object_get(x, "id"));
            json_decref(x);
            return 0;
        }
        if (e->code != ERR_NOT_FOUND) return -1;
        struct store_kv tag = {"boucle.task", task};
        err_clear(e);
        if (store_experiment_create(s, name, NULL, &tag, 1, id, e) == 0) return 0;
        if (e->code != ERR_CONFLICT) return -1;
        err_clear(e);
    }
    return -1;
}

/* Depth-first over a JSON object: every scalar leaf under a dotted key
 * ("test.per_class.negative.f1"); arrays (a confusion matrix) are left out. */
struct leaves {
    struct store_kv *params;
    size_t n_params;
    struct store_metric *metrics;
    size_t n_metrics;
    char **owned; /* key and value texts to free */
    size_t n_owned;
    int64_t now;
};

static char *own(struct leaves *l, char *text)
{
    l->owned = xrealloc(l->owned, (l->n_owned + 1) * sizeof *l->owned);
    l->owned[l->n_owned++] = text;
    return text;
}

static void collect(struct leaves *l, const char *prefix, json_t *v, int as_metrics)
{
    const char *key;
    json_t *child;
    json_object_foreach(v, key, child)
    {
        size_t len = strlen(prefix) + strlen(key) + 2;
        if (len > 250) continue; /* MLflow's key limit */
        char *path = xmalloc(len);
        snprintf(path, len, "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(child)) {
            collect(l, path, child, as_metrics);
            free(path);
            continue;
        }
        if (as_metrics && json_is_number(child) && l->n_metrics < MIRROR_MAX_METRICS) {
            l->metrics = xrealloc(l->metrics, (l->n_metrics + 1) * sizeof *l->metrics);
            l->metrics[l->n_metrics++] = (struct store_metric){
                .key = own(l, path), .value = json_number_value(child), .timestamp = l->now};
            continue;
        }
        if (!as_metrics && !json_is_array(child) && !json_is_null(child) &&
            l->n_params < MIRROR_MAX_PARAMS) {
            char *text = json_is_string(child) ? xstrdup(json_string_value(child))
                                               : json_dumps(child, JSON_COMPACT | JSON_ENCODE_ANY);
            if (text && strlen(text) <= MIRROR_MAX_VALUE) {
                l->params = xrealloc(l->params, (l->n_params + 1) * sizeof *l->params);
                l->params[l->n_params++] = (struct store_kv){own(l, path), own(l, text)};
                continue;
            }
            free(text);
        }
        free(path);
    }
}

static void leaves_free(struct leaves *l)
{
    for (size_t i = 0; i < l->n_owned; i++)
        free(l->owned[i]);
    free(l->owned);
    free(l->params);
    free(l->metrics);
}

static void warn(const char *run_id, const struct err *e)
{
    log_msg(LOG_WARN, "store: run %s is not visible to MLflow clients: %s", run_id, e->msg);
}

void run_mirror_started(struct store *s, const char *run_id, const char *task, const char *kind,
                        const char *params_json)
{
    struct err e;
    err_clear(&e);
    int64_t exp;
    if (run_mirror_experiment(s, task, &exp, &e) || store_run_attach(s, run_id, exp, kind, &e))
        return warn(run_id, &e);
    struct leaves l = {.now = time_now_ms()};
    json_t *params = params_json ? json_loads(params_json, 0, NULL) : NULL;
    if (json_is_object(params)) collect(&l, "", params, 0);
    json_decref(params);
    struct store_kv tags[] = {{"boucle.task", task},
                              {"boucle.kind", kind},
                              {"mlflow.runName", kind},
                              {"mlflow.user", "boucle"},
                              {"mlflow.source.name", "boucle"}};
    if (store_mlflow_run_log(s, run_id, NULL, 0, l.params, l.n_params, tags,
                             sizeof tags / sizeof tags[0], &e))
        warn(run_id, &e);
    leaves_free(&l);
}

void run_mirror_finished(struct store *s, const char *run_id, const char *metrics_json)
{
    json_t *summary = metrics_json ? json_loads(metrics_json, 0, NULL) : NULL;
    struct leaves l = {.now = time_now_ms()};
    if (json_is_object(summary)) collect(&l, "", summary, 1);
    json_decref(summary);
    struct err e;
    err_clear(&e);
    if (l.n_metrics &&
        store_mlflow_run_log(s, run_id, l.metrics, l.n_metrics, NULL, 0, NULL, 0, &e))
        warn(run_id, &e);
    leaves_free(&l);
}
