#include "loop/train.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/corpus.h"
#include "loop/runlog.h"
#include "loop/search.h"
#include "loop/search_record.h"
#include "loop/train_multilabel.h"
#include "eval/metrics.h"
#include "eval/metrics_multilabel.h"
#include "ml/grid.h"
#include "ml/linear.h"
#include "ml/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The task's `clean:` steps and separator, as run params and lineage. */
static json_t *clean_json(const struct clean_config *cc)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < cc->n_steps; i++)
        json_array_append_new(steps, json_string(clean_step_name((enum clean_step)cc->steps[i])));
    return json_pack("{s:o,s:s}", "steps", steps, "text_separator", cc->separator);
}

/* The task's numeric and categorical fields with their options. */
static json_t *tabular_json(const struct task_config *task)
{
    json_t *num = json_array(), *cat = json_array();
    for (size_t i = 0; i < task->n_numeric; i++)
        json_array_append_new(num, json_pack("{s:s,s:s}", "name", task->numeric[i].name, "impute",
                                             impute_kind_name(task->numeric[i].impute)));
    for (size_t i = 0; i < task->n_categorical; i++)
        json_array_append_new(cat, json_pack("{s:s,s:i}", "name", task->categorical[i].name,
                                             "hash_bits", task->categorical[i].hash_bits));
    return json_pack("{s:o,s:o}", "numeric", num, "categorical", cat);
}

/* The text options of format 6, only when set (existing tasks keep their
 * config hash). keep_punct is on by default: it is recorded whenever on, so
 * a task whose config did not change gets a new hash (it trains another
 * featuriser), and `keep_punct: false` keeps the hash it had. */
static void add_text_options(json_t *model, const struct tfidf_config *t)
{
    static const char *const analyzers[] = {"word", "char_wb", "both"};
    if (t->analyzer != TFIDF_WORD) {
        json_object_set_new(model, "analyzer", json_string(analyzers[t->analyzer]));
        json_object_set_new(model, "char_ngrams", json_pack("[i,i]", t->char_min, t->char_max));
    }
    if (t->hashing_bits) json_object_set_new(model, "hashing_bits", json_integer(t->hashing_bits));
    if (t->stop_words)
        json_object_set_new(model, "stop_words",
                            json_string(text_lang_name((enum text_lang)t->stop_words)));
    if (t->stemming)
        json_object_set_new(model, "stemming",
                            json_string(text_lang_name((enum text_lang)t->stemming)));
    if (t->keep_punct) json_object_set_new(model, "keep_punct", json_true());
    if (t->split_urls) json_object_set_new(model, "split_urls", json_true());
}

static json_t *config_json(const struct task_config *task, const struct model_config *mc)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < task->n_text_fields; i++)
        json_array_append_new(fields, json_string(task->text_fields[i]));
    const struct fasttext_config *ft = &mc->ft;
    json_t *doc;
    const struct xgb_params *xp = &mc->xgb;
    if (!strcmp(mc->kind, "xgboost"))
        doc = json_pack(
            "{s:s,s:s,s:o,s:s,s:{s:s,s:i,s:i,s:i,s:f,s:b,s:I,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,"
            "s:f,s:s,s:i,s:i,s:i,s:f}}",
            "task", task->name, "type", task_type_name(task->type), "text", fields, "label",
            task->label, "model", "kind", mc->kind, "ngram_min", mc->text.ngram_min, "ngram_max",
            mc->text.ngram_max, "min_df", mc->text.min_df, "max_df", mc->text.max_df,
            "sublinear_tf", mc->text.sublinear_tf, "max_features",
            (json_int_t)mc->text.max_features, "n_estimators", xp->n_estimators, "max_depth",
            xp->max_depth, "learning_rate", xp->learning_rate, "subsample", xp->subsample,
            "colsample_bytree", xp->colsample_bytree, "min_child_weight", xp->min_child_weight,
            "reg_lambda", xp->reg_lambda, "reg_alpha", xp->reg_alpha, "scale_pos_weight",
            xp->scale_pos_weight, "tree_method", xgb_tree_method_name(xp->tree), "nthread",
            xp->nthread, "seed", xp->seed, "early_stopping_rounds", xp->early_stopping_rounds,
            "validation_fraction", xp->validation_fraction);
    else if (!strcmp(mc->kind, "fasttext"))
        doc =
            json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:i,s:i,s:f,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s}}",
                      "task", task->name, "type", task_type_name(task->type), "text", fields,
                      "label", task->label, "model", "kind", mc->kind, "dim", ft->dim, "epoch",
                      ft->epoch, "lr", ft->lr, "word_ngrams", ft->word_ngrams, "minn", ft->minn,
                      "maxn", ft->maxn, "bucket", ft->bucket, "min_count", ft->min_count, "thread",
                      ft->thread, "seed", ft->seed, "loss", fasttext_loss_name(ft->loss));
    else
        doc = json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:i,s:i,s:i,s:f,s:b,s:I,s:f,s:f,s:b}}", "task",
                        task->name, "type", task_type_name(task->type), "text", fields, "label",
                        task->label, "model", "kind", mc->kind, "ngram_min", mc->text.ngram_min,
                        "ngram_max", mc->text.ngram_max, "min_df", mc->text.min_df, "max_df",
                        mc->text.max_df, "sublinear_tf", mc->text.sublinear_tf, "max_features",
                        (json_int_t)mc->text.max_features, "C", mc->C, "eps", mc->eps,
                        "class_weight_balanced", mc->class_weight_balanced);
    /* only when set, as the cleaning below: existing tasks keep their config hash */
    json_t *model = json_object_get(doc, "model");
    if (!strcmp(mc->kind, "linear") && mc->penalty == LINEAR_L1)
        json_object_set_new(model, "penalty", json_string("l1"));
    if (!strcmp(mc->kind, "linear") && mc->loss == LINEAR_SVM)
        json_object_set_new(model, "loss", json_string("svm"));
    if (strcmp(mc->kind, "fasttext") != 0) add_text_options(model, &mc->text);
    if (!strcmp(mc->kind, "fasttext") && ft->keep_punct) /* as add_text_options */
        json_object_set_new(model, "keep_punct", json_true());
    if (task->type == TASK_MULTILABEL) /* a new type: no older hash to keep */
        json_object_set_new(model, "threshold",
                            mc->ml.threshold > 0 ? json_real(mc->ml.threshold)
                                                 : json_string("tune"));
    /* xgboost's validation_fraction is its early stopping share, kept above */
    if (task->type == TASK_MULTILABEL && strcmp(mc->kind, "xgboost") != 0)
        json_object_set_new(model, "validation_fraction", json_real(mc->ml.validation_fraction));
    /* only when set: a task without cleaning keeps the config hash it had */
    if (!clean_config_is_default(&mc->prep))
        json_object_set_new(doc, "clean", clean_json(&mc->prep));
    if (task->n_numeric || task->n_categorical)
        json_object_set_new(doc, "tabular", tabular_json(task));
    return doc;
}

static json_t *evaluate(struct trained_model *m, const struct corpus *c, const char **names,
                        size_t n_labels, struct err *e)
{
    size_t n_test = 0;
    for (size_t i = 0; i < c->n; i++)
        n_test += c->split[i] == 1 && c->texts[i];
    if (n_test == 0) return NULL;
    int *y_true = xmalloc(n_test * sizeof *y_true);
    int *y_pred = xmalloc(n_test * sizeof *y_pred);
    double *probs = xmalloc(n_test * n_labels * sizeof *probs);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->split[i] != 1 || !c->texts[i]) continue;
        y_true[k] = corpus_index(names, n_labels, c->labels[i]);
        struct model_input in = corpus_input(c, i); /* prepared by the model, as when serving */
        y_pred[k] = (int)model_predict_input(m, &in, probs + k * n_labels);
        k++;
    }
    struct metrics mt;
    json_t *out = NULL;
    if (metrics_compute(y_true, y_pred, probs, n_test, n_labels, &mt, e) == 0) {
        out = metrics_to_json(&mt, names);
        metrics_free(&mt);
    }
    free(y_true);
    free(y_pred);
    free(probs);
    return out;
}

/* The experiment knobs: keep a deterministic share of the train split, or
 * shuffle its labels (a model that must lose against any real one). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* On the corpus rows trained on: rows[k] gives the text, label_rows[k] the
 * label (or label set), the same row unless the labels are shuffled. */
static void apply_knobs(const struct task_config *task, size_t *rows, size_t *label_rows, size_t *n)
{
    if (task->train_fraction > 0 && task->train_fraction < 1) {
        size_t k = 0;
        for (size_t i = 0; i < *n; i++) {
            if ((double)(mix64(i) >> 11) / 9007199254740992.0 >= task->train_fraction) continue;
            rows[k++] = rows[i];
        }
        *n = k;
    }
    memcpy(label_rows, rows, *n * sizeof *rows);
    if (task->shuffle_labels) {
        for (size_t i = *n; i > 1; i--) {
            size_t j = (size_t)(mix64(i * 7919) % i);
            size_t t = label_rows[i - 1];
            label_rows[i - 1] = label_rows[j];
            label_rows[j] = t;
        }
    }
}

/* The training rows' inputs in training order: their prepared texts and
 * tabular values, gathered from the corpus. */
struct train_set {
    const char **texts;
    double *num;
    const char **cat;
    size_t *cat_lens;
    struct tabular_values tab;
};

static void gather(const struct corpus *c, const size_t *rows, size_t n, struct train_set *s)
{
    size_t nn = c->n_num, nc = c->n_cat;
    s->texts = xmalloc((n ? n : 1) * sizeof *s->texts);
    s->num = xmalloc((n * nn + 1) * sizeof *s->num);
    s->cat = xmalloc((n * nc + 1) * sizeof *s->cat);
    s->cat_lens = xmalloc((n * nc + 1) * sizeof *s->cat_lens);
    for (size_t k = 0; k < n; k++) {
        size_t i = rows[k];
        s->texts[k] = c->texts[i];
        if (nn) memcpy(s->num + k * nn, c->num + i * nn, nn * sizeof *s->num);
        if (nc) memcpy(s->cat + k * nc, c->cat + i * nc, nc * sizeof *s->cat);
        if (nc) memcpy(s->cat_lens + k * nc, c->cat_lens + i * nc, nc * sizeof *s->cat_lens);
    }
    s->tab = (struct tabular_values){nn, nc, s->num, s->cat, s->cat_lens};
}

static void train_set_free(struct train_set *s)
{
    free(s->texts);
    free(s->num);
    free(s->cat);
    free(s->cat_lens);
}

/* One label per row: the model of binary and multiclass tasks. */
static struct trained_model *fit_single(const struct task_config *task,
                                        const struct model_config *mc, const struct corpus *c,
                                        const size_t *rows, const size_t *label_rows, size_t n,
                                        const char *const *names, size_t n_labels, struct err *e)
{
    struct train_set set;
    gather(c, rows, n, &set);
    int *labels = xmalloc((n ? n : 1) * sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = corpus_index(names, n_labels, c->labels[label_rows[i]]);
    /* a task without text fields gives the model none (not empty texts) */
    struct trained_model *m =
        model_train_rows(mc, task->type, task->n_text_fields ? set.texts : NULL,
                         c->n_num + c->n_cat ? &set.tab : NULL, labels, n, names, n_labels, e);
    free(labels);
    train_set_free(&set);
    return m;
}

/* What a search ranks by: its `metric:`, else the task's gate metric,
 * else the gate's default for the task's type. */
static const char *search_metric(const struct task_config *task)
{
    if (task->search.metric) return task->search.metric;
    if (task->gate.primary) return task->gate.primary;
    return task->type == TASK_MULTILABEL ? "f1_micro" : "f1_macro";
}

/* What a search trial's fold trains on: positions in the training rows. */
struct fold_fit {
    const struct task_config *task;
    const struct corpus *c;
    const size_t *rows, *label_rows;
    const char *const *names;
    size_t n_labels;
};

static struct trained_model *fit_fold(void *ctx, const struct model_config *mc,
                                      const size_t *subset, size_t n, struct err *e)
{
    const struct fold_fit *f = ctx;
    size_t *rows = xmalloc((n ? n : 1) * sizeof *rows);
    size_t *label_rows = xmalloc((n ? n : 1) * sizeof *label_rows);
    for (size_t i = 0; i < n; i++) {
        rows[i] = f->rows[subset[i]];
        label_rows[i] = f->label_rows[subset[i]];
    }
    struct trained_model *m;
    if (f->task->type == TASK_MULTILABEL) {
        /* as the refit trains: thresholds tuned on a share of these rows,
         * never on the held-out fold */
        json_t *tuning = NULL;
        m = train_multilabel_fit(mc, f->c, rows, label_rows, n, f->names, f->n_labels, &tuning, e);
        json_decref(tuning);
    } else {
        m = fit_single(f->task, mc, f->c, rows, label_rows, n, f->names, f->n_labels, e);
    }
    free(rows);
    free(label_rows);
    return m;
}

/* The task's search over trials[]: the best trial's settings into *best,
 * the search's summary into the result. */
static int search(struct store *st, const struct task_config *task,
                  const struct model_config *trials, const struct corpus *c, const size_t *rows,
                  const size_t *label_rows, const char *const *names, struct train_result *out,
                  const struct model_config **best, struct err *e)
{
    const struct search_config *s = &task->search;
    const char *metric = search_metric(task);
    size_t n = out->n_train;
    int multilabel = task->type == TASK_MULTILABEL;
    int *labels = NULL;
    const char **sets = NULL;
    if (multilabel) {
        sets = xmalloc((n ? n : 1) * sizeof *sets);
        for (size_t i = 0; i < n; i++)
            sets[i] = c->labels[label_rows[i]];
    } else {
        labels = xmalloc((n ? n : 1) * sizeof *labels);
        for (size_t i = 0; i < n; i++)
            labels[i] = corpus_index(names, out->n_labels, c->labels[label_rows[i]]);
    }
    struct fold_fit f = {task, c, rows, label_rows, names, out->n_labels};
    struct search_data d = {c, rows, labels, sets, n, names, out->n_labels, fit_fold, &f};
    runlog(st, out->run_id, task->name,
           "search: %zu trials x %d-fold %s cross-validation on %zu rows, ranked by %s",
           s->n_trials, s->folds, multilabel ? "iteratively stratified" : "stratified", n, metric);
    struct search_result r;
    int rc = search_run(s, metric, trials, &d, &r, e);
    free(labels);
    free(sets);
    if (rc != 0) return -1;
    out->search = search_record(st, task->name, out->run_id, s, &r);
    *best = &trials[r.best];
    search_result_free(&r);
    return 0;
}

static int fit_and_register(struct store *st, const struct task_config *task,
                            const struct model_config *mc, const struct model_config *trials,
                            struct corpus *c, const char *config_hash,
                            const struct train_options *opt, struct train_result *out,
                            struct err *e)
{
    corpus_prepare(c, &mc->prep);
    out->prep = c->prep;
    out->clean = mc->prep;
    struct buf summary;
    buf_init(&summary);
    prepare_report_text(&mc->prep, &c->prep, &summary);
    runlog(st, out->run_id, task->name, "cleaning: %s", summary.data);
    buf_free(&summary);
    const char **names = NULL;
    size_t n_labels = corpus_label_names(c, task->type, &names);
    int rc = -1, multilabel = task->type == TASK_MULTILABEL;
    size_t *rows = NULL, *label_rows = NULL;
    struct trained_model *m = NULL;
    struct buf artifact;
    buf_init(&artifact);
    if (multilabel && n_labels < 1) {
        err_set(e, ERR_INVALID, "task '%s' has no label in any example's set: nothing to learn",
                task->name);
        goto done;
    }
    if (!multilabel && n_labels < 2) {
        err_set(e, ERR_INVALID, "task '%s' needs at least 2 distinct labels to train, has %zu",
                task->name, n_labels);
        goto done;
    }
    if (task->type == TASK_BINARY && n_labels != 2) {
        err_set(e, ERR_INVALID, "task '%s' is binary but its data has %zu labels", task->name,
                n_labels);
        goto done;
    }
    rows = xmalloc((c->n ? c->n : 1) * sizeof *rows);
    label_rows = xmalloc((c->n ? c->n : 1) * sizeof *label_rows);
    for (size_t i = 0; i < c->n; i++) {
        if (!c->texts[i]) continue; /* dropped by drop_empty or dedupe */
        if (c->split[i] != 0)
            out->n_test++;
        else
            rows[out->n_train++] = i;
    }
    out->n_labels = n_labels;
    apply_knobs(task, rows, label_rows, &out->n_train);
    if (out->n_train == 0) {
        err_set(e, ERR_INVALID,
                "task '%s' has no training examples (all are in the test split, or cleaning "
                "dropped them)",
                task->name);
        goto done;
    }
    if (trials && search(st, task, trials, c, rows, label_rows, names, out, &mc, e) != 0) goto done;
    runlog(st, out->run_id, task->name, "training %s on %zu examples (%zu labels), testing on %zu",
           mc->kind, out->n_train, n_labels, out->n_test);
    int64_t t0 = time_mono_ns();
    if (multilabel)
        m = train_multilabel_fit(mc, c, rows, label_rows, out->n_train, names, n_labels,
                                 &out->tuning, e);
    else
        m = fit_single(task, mc, c, rows, label_rows, out->n_train, names, n_labels, e);
    out->train_seconds = time_elapsed_s(t0);
    if (!m) goto done;
    out->n_features = model_n_features(m);
    out->fit_seconds = model_fit_seconds(m);
    runlog(st, out->run_id, task->name, "trained in %.3f s (fit %.3f s), %zu features",
           out->train_seconds, out->fit_seconds, out->n_features);
    char summary_line[160];
    model_summary(m, summary_line, sizeof summary_line);
    if (*summary_line) runlog(st, out->run_id, task->name, "%s", summary_line);
    if (multilabel) {
        out->thresholds = train_multilabel_thresholds(m);
        runlog(st, out->run_id, task->name, "thresholds: %lld of %zu labels tuned on %lld rows",
               (long long)json_integer_value(json_object_get(out->tuning, "tuned_labels")),
               n_labels,
               (long long)json_integer_value(json_object_get(out->tuning, "validation_rows")));
    }
    out->metrics = multilabel ? train_multilabel_evaluate(m, c, names, n_labels, e)
                              : evaluate(m, c, names, n_labels, e);
    if (!out->metrics && e->code != ERR_OK) goto done;
    if (model_save(m, &artifact, e) != 0) goto done;
    sha256_hex(artifact.data, artifact.len, out->artifact_sha256);
    out->artifact_bytes = artifact.len;
    char *metrics_text = out->metrics ? json_dumps(out->metrics, JSON_COMPACT) : NULL;
    struct store_model_version v = {
        .task = task->name,
        .run_id = out->run_id,
        .dataset_hash = out->dataset_hash,
        .config_hash = config_hash,
        .kind = mc->kind,
        .artifact = artifact.data,
        .artifact_len = artifact.len,
        .artifact_sha256 = out->artifact_sha256,
        .metrics_json = metrics_text,
    };
    rc = store_model_add(st, &v, &out->version, e);
    free(metrics_text);
    if (rc != 0) goto done;
    int64_t champion = 0;
    int has = store_alias_get(st, task->name, "champion", &champion, e);
    if (has < 0) {
        rc = -1;
        goto done;
    }
    char reason[96];
    snprintf(reason, sizeof reason, "trained in run %s", out->run_id);
    if (!has && opt->champion_if_none) {
        rc = store_alias_set_reason(st, task->name, "champion", out->version,
                                    "the task's first version", opt->actor, e);
        out->became_champion = rc == 0;
    }
    if (rc == 0 && opt->alias)
        rc =
            store_alias_set_reason(st, task->name, opt->alias, out->version, reason, opt->actor, e);
done:
    model_release(m);
    buf_free(&artifact);
    free(rows);
    free(label_rows);
    free(names);
    return rc;
}

/* The inputs a model reads come from the task, not from `model:`; so do
 * the defaults that depend on the task's type. */
static void task_inputs(const struct task_config *task, struct model_config *mc)
{
    mc->prep = task->clean;
    mc->numeric = task->numeric;
    mc->n_numeric = task->n_numeric;
    mc->categorical = task->categorical;
    mc->n_categorical = task->n_categorical;
    if (task->type == TASK_MULTILABEL) xgb_params_multilabel(&mc->xgb);
}

/* threshold and validation_fraction are for multilabel tasks only. */
static int multilabel_keys(const struct config *cfg, const struct task_config *task,
                           const struct model_config *mc, struct err *e)
{
    if (!mc->multilabel_line || task->type == TASK_MULTILABEL) return 0;
    return err_set_field(e, ERR_INVALID, "model.threshold",
                         "%s: tasks.%s.model (line %d): threshold and validation_fraction "
                         "apply to multilabel tasks only (this task is %s)",
                         cfg->path, task->name, mc->multilabel_line, task_type_name(task->type));
}

/* The key of config_json's "model" a `model:` key sets. */
static void drop_model_key(json_t *model, const char *key)
{
    if (!strcmp(key, "ngram_range")) {
        json_object_del(model, "ngram_min");
        json_object_del(model, "ngram_max");
    } else {
        json_object_del(model, !strcmp(key, "class_weight") ? "class_weight_balanced" : key);
    }
}

/* A task with `model: {search: ...}`: every trial's settings, checked
 * before anything runs, and the search in the run's params instead of
 * the searched keys (the best values are logged once known). */
static int search_settings(const struct config *cfg, const struct task_config *task, json_t *params,
                           struct model_config **trials, struct err *e)
{
    const struct search_config *s = &task->search;
    *trials = NULL;
    if (!s->enabled) return 0;
    /* the config accepts either task type's metrics: is it this type's? */
    struct metrics probe_single = {0};
    struct metrics_multilabel probe_sets = {0};
    double unused;
    const char *metric = search_metric(task);
    if ((task->type == TASK_MULTILABEL ? metrics_multilabel_value(&probe_sets, metric, &unused, e)
                                       : metrics_value(&probe_single, metric, &unused, e)) != 0)
        return err_prefix(e, "%s: tasks.%s.model.search (line %d)", cfg->path, task->name, s->line);
    struct model_config *all = xmalloc(s->n_trials * sizeof *all);
    if (grid_configs(task->model_kind, task->model_params, task->n_model_params, s, all, e) != 0) {
        free(all);
        return err_prefix(e, "%s: tasks.%s.model", cfg->path, task->name);
    }
    for (size_t t = 0; t < s->n_trials; t++) {
        if (multilabel_keys(cfg, task, &all[t], e) != 0) {
            free(all);
            return -1;
        }
        task_inputs(task, &all[t]);
    }
    json_t *model = json_object_get(params, "model"), *grid = json_object();
    for (size_t k = 0; k < s->n_grid; k++) {
        drop_model_key(model, s->grid[k].key);
        json_t *values = json_array();
        for (size_t v = 0; v < s->grid[k].n_values; v++)
            json_array_append_new(values, json_string(s->grid[k].values[v]));
        json_object_set_new(grid, s->grid[k].key, values);
    }
    /* the grid as one text: a run's params are scalars. `jobs` is left
     * out: it changes the time a search takes, never its result. */
    char *grid_text = json_dumps(grid, JSON_COMPACT);
    json_decref(grid);
    json_object_set_new(params, "search",
                        json_pack("{s:s,s:i,s:s,s:I,s:I}", "grid", grid_text, "folds", s->folds,
                                  "metric", metric, "seed", (json_int_t)s->seed, "max_trials",
                                  (json_int_t)s->max_trials));
    free(grid_text);
    *trials = all;
    return 0;
}

/* The task's model settings, checked, and as canonical JSON text (the run's
 * params and, hashed, the version's config hash); with a search, every
 * trial's settings in *trials (else NULL). Caller frees *text and *trials. */
static int model_settings(const struct config *cfg, const struct task_config *task,
                          struct model_config *mc, char **text, struct model_config **trials,
                          struct err *e)
{
    *trials = NULL;
    if (model_config_parse(mc, task->model_kind, task->model_params, task->n_model_params, e) != 0)
        return err_prefix(e, "%s: tasks.%s.model", cfg->path, task->name);
    if (multilabel_keys(cfg, task, mc, e) != 0) return -1;
    task_inputs(task, mc);
    json_t *params = config_json(task, mc);
    int rc = search_settings(cfg, task, params, trials, e);
    *text = rc == 0 ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(params);
    return rc;
}

int train_in_run(struct store *st, const struct config *cfg, const struct task_config *task,
                 const char *run_id, const struct train_options *opt, struct train_result *out,
                 struct err *e)
{
    memset(out, 0, sizeof *out);
    snprintf(out->run_id, sizeof out->run_id, "%s", run_id);
    int64_t t0 = time_mono_ns();
    struct model_config mc, *trials;
    char *params_text = NULL;
    if (model_settings(cfg, task, &mc, &params_text, &trials, e) != 0) return -1;
    char config_hash[SHA256_HEX_LEN];
    sha256_hex(params_text, strlen(params_text), config_hash);
    free(params_text);

    struct corpus c;
    int rc = corpus_load(st, task, cfg->limits.max_field_bytes, &c, e);
    if (rc == 0) memcpy(out->dataset_hash, c.hash, sizeof out->dataset_hash);
    if (rc == 0 && c.n == 0)
        rc =
            err_set(e, ERR_INVALID, "task '%s' has no examples: run `boucle import --task %s FILE`",
                    task->name, task->name);
    if (rc == 0) rc = fit_and_register(st, task, &mc, trials, &c, config_hash, opt, out, e);
    corpus_free(&c);
    free(trials);
    out->total_seconds = time_elapsed_s(t0);
    if (rc != 0) return -1;
    runlog(st, out->run_id, task->name, "registered model version %lld%s", (long long)out->version,
           out->became_champion ? " as champion"
           : opt->alias         ? " as challenger"
                                : "");
    return 0;
}

json_t *train_result_json(const struct train_result *r)
{
    json_t *o =
        json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:s,s:O?,s:o}", "model_version", (json_int_t)r->version,
                  "n_train", (json_int_t)r->n_train, "n_test", (json_int_t)r->n_test, "n_features",
                  (json_int_t)r->n_features, "train_seconds", r->train_seconds, "fit_seconds",
                  r->fit_seconds, "dataset_hash", r->dataset_hash, "test", r->metrics, "cleaning",
                  prepare_report_json(&r->clean, &r->prep));
    train_result_multilabel_json(r, o);
    if (r->search) json_object_set(o, "search", r->search);
    return o;
}

int train_task(struct store *st, const struct config *cfg, const struct task_config *task,
               const char *actor, struct train_result *out, struct err *e)
{
    char run_id[UUID_STR_LEN];
    uuid_v4(run_id);
    memset(out, 0, sizeof *out);
    struct model_config mc, *trials;
    char *params_text = NULL;
    if (model_settings(cfg, task, &mc, &params_text, &trials, e) != 0) return -1;
    free(trials);
    int created = store_run_create(st, run_id, task->name, "train", params_text, e);
    free(params_text);
    if (created != 0) return -1;
    struct train_options opt = {.champion_if_none = 1, .actor = actor};
    int rc = train_in_run(st, cfg, task, run_id, &opt, out, e);
    struct err ignored;
    err_clear(&ignored);
    if (rc != 0) {
        runlog(st, run_id, task->name, "failed: %s", e->msg);
        store_run_finish(st, run_id, "failed", NULL, &ignored);
        return -1;
    }
    json_t *summary = train_result_json(out);
    char *summary_text = json_dumps(summary, JSON_COMPACT);
    json_decref(summary);
    rc = store_run_finish(st, run_id, "completed", summary_text, e);
    free(summary_text);
    return rc;
}

void train_result_multilabel_json(const struct train_result *r, json_t *into)
{
    if (r->thresholds) json_object_set(into, "thresholds", r->thresholds);
    if (r->tuning) json_object_set(into, "threshold_tuning", r->tuning);
}

void train_result_free(struct train_result *r)
{
    json_decref(r->metrics);
    json_decref(r->thresholds);
    json_decref(r->tuning);
    json_decref(r->search);
    r->metrics = r->thresholds = r->tuning = r->search = NULL;
}
