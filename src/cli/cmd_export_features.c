/* boucle export --task T --what features --out DIR (an ops command, for
 * benchmarks and for checking a model against another library): the
 * champion's feature matrix, so that a peer can be given exactly what
 * boucle's learner was given.
 *   DIR/train.svm  the training rows in training order, LIBSVM: the label's
 *                  index, then index:value (floats printed to round-trip)
 *   DIR/valid.txt  per training row, 1 when early stopping holds it out
 *   DIR/test.svm   the test rows
 *   DIR/test_probabilities.txt  the champion's probabilities for each
 *                  test row, through the serving path (one row per line)
 *   DIR/model.json n_features, labels, the kind and its settings
 * The features are computed by the champion from the stored inputs, as
 * serving computes them (its featuriser, its cleaning). A multilabel task
 * is refused (usage, exit 2): its rows have a set of labels, not one. */
#include "cli/cli.h"

#include "loop/corpus.h"
#include "ml/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct trained_model *load_champion(const struct cli_env *env, struct err *e)
{
    int64_t version = 0;
    int has = store_alias_get(env->st, env->task->name, "champion", &version, e);
    if (has == 0)
        err_set(e, ERR_NOT_FOUND, "task '%s' has no champion yet: run `boucle train --task %s`",
                env->task->name, env->task->name);
    void *data = NULL;
    size_t len = 0;
    if (has <= 0 || store_model_artifact(env->st, env->task->name, version, &data, &len, e) != 0)
        return NULL;
    struct trained_model *m = model_load(data, len, e);
    free(data);
    if (m && model_check_fields(m, env->task, e) != 0) {
        model_release(m);
        return NULL;
    }
    return m;
}

static int label_index(const struct trained_model *m, const char *label)
{
    for (size_t i = 0; i < model_n_labels(m); i++)
        if (!strcmp(model_label(m, i), label)) return (int)i;
    return -1;
}

/* One LIBSVM line; %.9g gives back the very float XGBoost reads. */
static void write_row(FILE *f, int label, const uint32_t *idx, const double *val, size_t n)
{
    fprintf(f, "%d", label);
    for (size_t k = 0; k < n; k++)
        fprintf(f, " %u:%.9g", idx[k], (double)(float)val[k]);
    fputc('\n', f);
}

static FILE *open_in(const char *dir, const char *name, struct err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) err_set(e, ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return f;
}

static int close_all(FILE **f, size_t n, int rc, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (f[i] && fclose(f[i]) != 0 && rc == 0)
            rc = err_set(e, ERR_IO, "cannot write the export: %s", strerror(errno));
    return rc;
}

static json_t *model_json(const struct trained_model *m, const struct model_config *mc)
{
    json_t *labels = json_array();
    for (size_t i = 0; i < model_n_labels(m); i++)
        json_array_append_new(labels, json_string(model_label(m, i)));
    const struct xgb_params *p = &mc->xgb;
    return json_pack("{s:s,s:I,s:o,s:{s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:i,s:i,s:i,s:f}}",
                     "kind", model_kind(m), "n_features", (json_int_t)model_n_features(m), "labels",
                     labels, "xgboost", "n_estimators", p->n_estimators, "max_depth", p->max_depth,
                     "learning_rate", p->learning_rate, "subsample", p->subsample,
                     "colsample_bytree", p->colsample_bytree, "min_child_weight",
                     p->min_child_weight, "reg_lambda", p->reg_lambda, "reg_alpha", p->reg_alpha,
                     "scale_pos_weight", p->scale_pos_weight, "tree_method",
                     xgb_tree_method_name(p->tree), "nthread", p->nthread, "seed", p->seed,
                     "early_stopping_rounds", p->early_stopping_rounds, "validation_fraction",
                     p->validation_fraction);
}

static int write_export(const struct cli_env *env, const struct trained_model *m,
                        const struct model_config *mc, const char *dir, struct err *e)
{
    struct corpus c;
    if (corpus_load(env->st, env->task, env->cfg->limits.max_field_bytes, &c, e) != 0) return -1;
    corpus_prepare(&c, model_prep(m));
    FILE *f[4] = {open_in(dir, "train.svm", e), NULL, NULL, NULL};
    if (f[0]) f[1] = open_in(dir, "valid.txt", e);
    if (f[1]) f[2] = open_in(dir, "test.svm", e);
    if (f[2]) f[3] = open_in(dir, "test_probabilities.txt", e);
    int rc = f[3] ? 0 : -1;
    int *labels = xmalloc((c.n ? c.n : 1) * sizeof *labels);
    size_t n_train = 0, nl = model_n_labels(m);
    double *probs = xmalloc(nl * sizeof *probs);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        if (!c.texts[i]) continue; /* dropped by the cleaning, as in training */
        int y = label_index(m, c.labels[i]);
        if (y < 0) continue; /* a test label training never saw */
        struct model_input in = corpus_input(&c, i);
        const uint32_t *idx;
        const double *val;
        size_t n = model_row_features(m, &in, &idx, &val);
        write_row(c.split[i] ? f[2] : f[0], y, idx, val, n);
        if (!c.split[i]) {
            labels[n_train++] = y;
            continue;
        }
        model_predict_input(m, &in, probs);
        for (size_t k = 0; k < nl; k++)
            fprintf(f[3], "%s%.17g", k ? " " : "", probs[k]);
        fputc('\n', f[3]);
    }
    if (rc == 0) { /* the rows early stopping held out, as xgb_train picks them */
        unsigned char *valid = xcalloc(n_train ? n_train : 1, 1);
        if (mc->xgb.early_stopping_rounds > 0)
            xgb_validation_split(labels, n_train, nl, mc->xgb.validation_fraction,
                                 (uint64_t)mc->xgb.seed, valid);
        for (size_t i = 0; i < n_train; i++)
            fprintf(f[1], "%d\n", valid[i]);
        free(valid);
    }
    rc = close_all(f, 4, rc, e);
    free(labels);
    free(probs);
    corpus_free(&c);
    if (rc == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model.json", dir);
        json_t *doc = model_json(m, mc);
        if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
            rc = err_set(e, ERR_IO, "cannot write '%s'", path);
        json_decref(doc);
    }
    return rc;
}

int cli_export_features(struct cli_env *env, const char *dir)
{
    struct err e;
    err_clear(&e);
    if (env->task->type == TASK_MULTILABEL) {
        /* refused before anything is written: a row's label set is not
         * one label (rows with several would be skipped, the others
         * written as if the task were single-label) */
        err_set(&e, ERR_USAGE,
                "--what features: task '%s' is multilabel, and the export gives one label per "
                "row (LIBSVM, as a binary or multiclass task's learner reads it); nothing "
                "written",
                env->task->name);
        cli_close(env);
        return cli_fail(&e);
    }
    if (!dir) {
        cli_close(env);
        err_set(&e, ERR_USAGE, "--what features writes several files: give --out DIRECTORY");
        return cli_fail(&e);
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_close(env);
        err_set(&e, ERR_IO, "cannot create '%s': %s", dir, strerror(errno));
        return cli_fail(&e);
    }
    struct model_config mc;
    int rc = -1;
    struct trained_model *m = NULL;
    /* the task's settings: what the champion was trained with, unless the
     * config changed since (then retrain before exporting) */
    if (model_config_parse(&mc, env->task->model_kind, env->task->model_params,
                           env->task->n_model_params, &e) == 0)
        m = load_champion(env, &e);
    if (m) rc = write_export(env, m, &mc, dir, &e);
    if (rc == 0)
        fprintf(stderr, "exported the features of task '%s' to %s\n", env->task->name, dir);
    model_release(m);
    cli_close(env);
    return rc != 0 ? cli_fail(&e) : EXIT_OK;
}
