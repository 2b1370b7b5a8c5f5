#include "loop/search_record.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/runlog.h"
#include "ml/grid.h"
#include "store/run_mirror.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The trial's grid values as MLflow params "model.<key>", the values as
 * written in the config: keys[k] holds the k-th key (values are borrowed). */
static size_t params_of(const struct search_config *s, size_t t, struct store_kv *out,
                        char (*keys)[80])
{
    for (size_t k = 0; k < s->n_grid; k++) {
        snprintf(keys[k], sizeof keys[k], "model.%s", s->grid[k].key);
        out[k] = (struct store_kv){keys[k], s->grid[k].values[grid_value_index(s, t, k)]};
    }
    return s->n_grid;
}

/* JSON has no NaN (an undefined score: a fold without both classes for
 * ROC-AUC): null stands for it. */
static json_t *number(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* The trial's own run: created, logged and ended; its id in run_out. */
static int trial_run(struct store *st, const char *task, const char *parent, int64_t experiment,
                     const struct search_config *s, const struct search_result *r, size_t t,
                     char *run_out, struct err *e)
{
    char id[UUID_STR_LEN], name[32], number[24];
    uuid_v4(id);
    snprintf(name, sizeof name, "trial-%zu", t + 1);
    snprintf(number, sizeof number, "%zu", t + 1);
    struct store_kv tags[] = {
        {"mlflow.parentRunId", parent},  {"mlflow.runName", name},
        {"mlflow.user", "boucle"},       {"mlflow.source.name", "boucle"},
        {"boucle.task", task},           {"boucle.kind", "search_trial"},
        {"boucle.search.trial", number}, {"boucle.search.metric", r->metric},
    };
    int64_t now = time_now_ms();
    struct store_mlflow_run run = {
        .run_id = id,
        .experiment_id = experiment,
        .run_name = name,
        .user_id = "boucle",
        .start_time = now,
        .tags = tags,
        .n_tags = sizeof tags / sizeof tags[0],
    };
    char uri[200];
    snprintf(uri, sizeof uri, "mlflow-artifacts:/%lld/%s/artifacts", (long long)experiment, id);
    run.artifact_uri = uri;
    if (store_mlflow_run_create(st, &run, e) != 0) return -1;
    /* scikit-learn's cv_results_ names, as MLflow's autologging logs them */
    size_t F = r->folds, n_metrics = 4 + F;
    struct store_metric *m = xcalloc(n_metrics, sizeof *m);
    char(*split_keys)[48] = xmalloc(F * sizeof *split_keys);
    m[0] = (struct store_metric){"mean_test_score", r->mean[t], now, 0};
    m[1] = (struct store_metric){"std_test_score", r->std[t], now, 0};
    m[2] = (struct store_metric){"rank_test_score", (double)r->rank[t], now, 0};
    m[3] = (struct store_metric){"mean_fit_time", r->fit_seconds[t], now, 0};
    for (size_t f = 0; f < F; f++) {
        snprintf(split_keys[f], sizeof split_keys[f], "split%zu_test_score", f);
        m[4 + f] = (struct store_metric){split_keys[f], r->scores[t * F + f], now, 0};
    }
    struct store_kv *kv = xmalloc(s->n_grid * sizeof *kv);
    char(*keys)[80] = xmalloc(s->n_grid * sizeof *keys);
    size_t n_kv = params_of(s, t, kv, keys);
    int rc = store_mlflow_run_log(st, id, m, n_metrics, kv, n_kv, NULL, 0, e);
    free(m);
    free(split_keys);
    free(kv);
    free(keys);
    struct store_mlflow_run_patch done = {
        .status = rc == 0 ? "completed" : "failed", .has_end_time = 1, .end_time = time_now_ms()};
    struct err ignored;
    err_clear(&ignored);
    store_mlflow_run_update(st, id, &done, rc == 0 ? e : &ignored);
    snprintf(run_out, UUID_STR_LEN, "%s", id);
    return rc;
}

static json_t *grid_values_json(const struct search_config *s, size_t t)
{
    json_t *o = json_object();
    for (size_t k = 0; k < s->n_grid; k++)
        json_object_set_new(o, s->grid[k].key,
                            json_string(s->grid[k].values[grid_value_index(s, t, k)]));
    return o;
}

static json_t *trial_json(const struct search_config *s, const struct search_result *r, size_t t,
                          const char *run_id)
{
    json_t *splits = json_array();
    for (size_t f = 0; f < r->folds; f++)
        json_array_append_new(splits, number(r->scores[t * r->folds + f]));
    return json_pack("{s:I,s:s?,s:o,s:o,s:o,s:I,s:o,s:f}", "trial", (json_int_t)(t + 1), "run_id",
                     run_id, "params", grid_values_json(s, t), "mean_test_score",
                     number(r->mean[t]), "std_test_score", number(r->std[t]), "rank_test_score",
                     (json_int_t)r->rank[t], "split_test_scores", splits, "mean_fit_time",
                     r->fit_seconds[t]);
}

json_t *search_record(struct store *st, const char *task, const char *run_id,
                      const struct search_config *s, const struct search_result *r)
{
    struct err e;
    err_clear(&e);
    int64_t experiment = 0;
    int tracked = run_mirror_experiment(st, task, &experiment, &e) == 0;
    if (!tracked) runlog(st, run_id, task, "search: trials not recorded as MLflow runs: %s", e.msg);
    json_t *trials = json_array();
    struct buf text;
    buf_init(&text);
    for (size_t t = 0; t < r->n_trials; t++) {
        char child[UUID_STR_LEN] = "";
        err_clear(&e);
        if (tracked && trial_run(st, task, run_id, experiment, s, r, t, child, &e) != 0)
            runlog(st, run_id, task, "search: trial %zu not recorded: %s", t + 1, e.msg);
        json_array_append_new(trials, trial_json(s, r, t, *child ? child : NULL));
        text.len = 0;
        grid_trial_text(s, t, &text);
        runlog(st, run_id, task, "search trial %zu/%zu (%s): %s %.4f +- %.4f, rank %zu", t + 1,
               r->n_trials, text.data, r->metric, r->mean[t], r->std[t], r->rank[t]);
    }
    /* the best trial's params become the training run's own */
    struct store_kv *kv = xmalloc(s->n_grid * sizeof *kv);
    char(*keys)[80] = xmalloc(s->n_grid * sizeof *keys);
    size_t n_kv = params_of(s, r->best, kv, keys);
    err_clear(&e);
    int logged = store_mlflow_run_log(st, run_id, NULL, 0, kv, n_kv, NULL, 0, &e);
    free(kv);
    free(keys);
    if (logged != 0)
        runlog(st, run_id, task, "search: best params not logged on the run: %s", e.msg);
    text.len = 0;
    grid_trial_text(s, r->best, &text);
    runlog(st, run_id, task,
           "search: best trial %zu (%s), cross-validated %s %.4f +- %.4f; %zu trials x %zu "
           "folds in %.2f s on %d jobs",
           r->best + 1, text.data, r->metric, r->mean[r->best], r->std[r->best], r->n_trials,
           r->folds, r->seconds, r->jobs);
    buf_free(&text);
    return json_pack("{s:s,s:I,s:i,s:I,s:I,s:f,s:I,s:o,s:o,s:o,s:o}", "metric", r->metric, "folds",
                     (json_int_t)r->folds, "jobs", r->jobs, "seed", (json_int_t)s->seed, "n_trials",
                     (json_int_t)r->n_trials, "seconds", r->seconds, "best_trial",
                     (json_int_t)(r->best + 1), "best_cv_score", number(r->mean[r->best]),
                     "best_cv_std", number(r->std[r->best]), "best_params",
                     grid_values_json(s, r->best), "trials", trials);
}
