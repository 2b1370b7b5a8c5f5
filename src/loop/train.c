#include "loop/train.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "data/input.h"
#include "eval/metrics.h"
#include "ml/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The task's examples in memory: texts as the model sees them. */
struct corpus {
    const struct task_config *task;
    size_t max_field_bytes;
    size_t n, cap;
    char **texts;
    char **labels;
    int *split;
    struct sha256_ctx hash;
    struct err *e;
};

static int collect(void *ctx, const char *input_json, const char *label, int split)
{
    struct corpus *c = ctx;
    json_error_t je;
    json_t *input = json_loads(input_json, 0, &je);
    if (!input)
        return err_set(c->e, ERR_CORRUPT, "stored example %zu has invalid input JSON: %s", c->n + 1,
                       je.text);
    struct buf text;
    buf_init(&text);
    int rc = input_text_from_json(c->task, input, c->max_field_bytes, &text, NULL, c->e);
    json_decref(input);
    if (rc != 0) {
        buf_free(&text);
        return err_prefix(c->e, "stored example %zu", c->n + 1);
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->texts = xrealloc(c->texts, c->cap * sizeof *c->texts);
        c->labels = xrealloc(c->labels, c->cap * sizeof *c->labels);
        c->split = xrealloc(c->split, c->cap * sizeof *c->split);
    }
    c->texts[c->n] = buf_detach(&text);
    c->labels[c->n] = xstrdup(label);
    c->split[c->n] = split;
    c->n++;
    /* lineage: the content the model was trained and measured on */
    sha256_add(&c->hash, input_json, strlen(input_json) + 1);
    sha256_add(&c->hash, label, strlen(label) + 1);
    sha256_add(&c->hash, split ? "T" : "t", 1);
    return 0;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->texts[i]);
        free(c->labels[i]);
    }
    free(c->texts);
    free(c->labels);
    free(c->split);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted distinct labels; returns how many. */
static size_t label_set(const struct corpus *c, const char ***out)
{
    const char **all = xmalloc((c->n ? c->n : 1) * sizeof *all);
    for (size_t i = 0; i < c->n; i++)
        all[i] = c->labels[i];
    qsort(all, c->n, sizeof *all, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
    *out = all;
    return k;
}

static int label_index(const char **names, size_t n, const char *label)
{
    const char **hit = bsearch(&label, names, n, sizeof *names, cmp_str);
    return hit ? (int)(hit - names) : -1;
}

static json_t *config_json(const struct task_config *task, const struct model_config *mc)
{
    json_t *fields = json_array();
    for (size_t i = 0; i < task->n_text_fields; i++)
        json_array_append_new(fields, json_string(task->text_fields[i]));
    return json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:i,s:i,s:i,s:f,s:b,s:I,s:f,s:f,s:b}}", "task",
                     task->name, "type", task_type_name(task->type), "text", fields, "label",
                     task->label, "model", "kind", mc->kind, "ngram_min", mc->text.ngram_min,
                     "ngram_max", mc->text.ngram_max, "min_df", mc->text.min_df, "max_df",
                     mc->text.max_df, "sublinear_tf", mc->text.sublinear_tf, "max_features",
                     (json_int_t)mc->text.max_features, "C", mc->C, "eps", mc->eps,
                     "class_weight_balanced", mc->class_weight_balanced);
}

static json_t *evaluate(struct trained_model *m, const struct corpus *c, const char **names,
                        size_t n_labels, struct err *e)
{
    size_t n_test = 0;
    for (size_t i = 0; i < c->n; i++)
        n_test += c->split[i] == 1;
    if (n_test == 0) return NULL;
    int *y_true = xmalloc(n_test * sizeof *y_true);
    int *y_pred = xmalloc(n_test * sizeof *y_pred);
    double *probs = xmalloc(n_test * n_labels * sizeof *probs);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->split[i] != 1) continue;
        y_true[k] = label_index(names, n_labels, c->labels[i]);
        y_pred[k] = (int)model_predict(m, c->texts[i], strlen(c->texts[i]), probs + k * n_labels);
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

static void run_log(struct store *st, const char *run_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void run_log(struct store *st, const char *run_id, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_info("%s", line);
    struct err ignored;
    err_clear(&ignored);
    store_run_log(st, run_id, line, &ignored);
}

static int fit_and_register(struct store *st, const struct task_config *task,
                            const struct model_config *mc, struct corpus *c,
                            const char *config_hash, struct train_result *out, struct err *e)
{
    const char **names = NULL;
    size_t n_labels = label_set(c, &names);
    int rc = -1;
    int *labels = NULL;
    const char **train_texts = NULL;
    struct trained_model *m = NULL;
    struct buf artifact;
    buf_init(&artifact);
    if (n_labels < 2) {
        err_set(e, ERR_INVALID, "task '%s' needs at least 2 distinct labels to train, has %zu",
                task->name, n_labels);
        goto done;
    }
    if (task->type == TASK_BINARY && n_labels != 2) {
        err_set(e, ERR_INVALID, "task '%s' is binary but its data has %zu labels", task->name,
                n_labels);
        goto done;
    }
    labels = xmalloc(c->n * sizeof *labels);
    train_texts = xmalloc(c->n * sizeof *train_texts);
    for (size_t i = 0; i < c->n; i++) {
        if (c->split[i] != 0) continue;
        train_texts[out->n_train] = c->texts[i];
        labels[out->n_train] = label_index(names, n_labels, c->labels[i]);
        out->n_train++;
    }
    out->n_test = c->n - out->n_train;
    out->n_labels = n_labels;
    if (out->n_train == 0) {
        err_set(e, ERR_INVALID, "task '%s' has no training examples (all are in the test split)",
                task->name);
        goto done;
    }
    run_log(st, out->run_id, "training %s on %zu examples (%zu labels), testing on %zu", mc->kind,
            out->n_train, n_labels, out->n_test);
    int64_t t0 = time_mono_ns();
    m = model_train(mc, task->type, train_texts, labels, out->n_train, names, n_labels, e);
    out->train_seconds = time_elapsed_s(t0);
    if (!m) goto done;
    out->n_features = model_n_features(m);
    run_log(st, out->run_id, "trained in %.3f s, %zu features", out->train_seconds,
            out->n_features);
    out->metrics = evaluate(m, c, names, n_labels, e);
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
    if (!has) {
        rc = store_alias_set(st, task->name, "champion", out->version, e);
        out->became_champion = rc == 0;
    }
done:
    model_release(m);
    buf_free(&artifact);
    free(labels);
    free(train_texts);
    free(names);
    return rc;
}

int train_task(struct store *st, const struct config *cfg, const struct task_config *task,
               struct train_result *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = time_mono_ns();
    if (task->type == TASK_MULTILABEL)
        return err_set_field(e, ERR_INVALID, "type",
                             "task '%s': multilabel training is not available yet", task->name);
    struct model_config mc;
    if (model_config_parse(&mc, task->model_kind, task->model_params, task->n_model_params, e) != 0)
        return err_prefix(e, "%s: tasks.%s.model", cfg->path, task->name);

    json_t *params = config_json(task, &mc);
    char *params_text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(params);
    char config_hash[SHA256_HEX_LEN];
    sha256_hex(params_text, strlen(params_text), config_hash);
    uuid_v4(out->run_id);
    int rc = store_run_create(st, out->run_id, task->name, "train", params_text, e);
    free(params_text);
    if (rc != 0) return -1;

    struct corpus c = {.task = task, .max_field_bytes = cfg->limits.max_field_bytes, .e = e};
    sha256_begin(&c.hash);
    rc = store_examples_foreach(st, task->name, collect, &c, e);
    sha256_end(&c.hash, out->dataset_hash);
    if (rc == 0 && c.n == 0)
        rc =
            err_set(e, ERR_INVALID, "task '%s' has no examples: run `boucle import --task %s FILE`",
                    task->name, task->name);
    if (rc == 0) rc = fit_and_register(st, task, &mc, &c, config_hash, out, e);
    corpus_free(&c);
    out->total_seconds = time_elapsed_s(t0);

    struct err ignored;
    err_clear(&ignored);
    if (rc != 0) {
        run_log(st, out->run_id, "failed: %s", e->msg);
        store_run_finish(st, out->run_id, "failed", NULL, &ignored);
        return -1;
    }
    json_t *summary = json_pack(
        "{s:I,s:I,s:I,s:I,s:f,s:O?}", "model_version", (json_int_t)out->version, "n_train",
        (json_int_t)out->n_train, "n_test", (json_int_t)out->n_test, "n_features",
        (json_int_t)out->n_features, "train_seconds", out->train_seconds, "test", out->metrics);
    char *summary_text = json_dumps(summary, JSON_COMPACT);
    json_decref(summary);
    run_log(st, out->run_id, "registered model version %lld%s", (long long)out->version,
            out->became_champion ? " as champion" : "");
    rc = store_run_finish(st, out->run_id, "completed", summary_text, e);
    free(summary_text);
    return rc;
}

void train_result_free(struct train_result *r)
{
    json_decref(r->metrics);
    r->metrics = NULL;
}
