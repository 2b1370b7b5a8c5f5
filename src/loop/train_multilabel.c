#include "loop/train_multilabel.h"

#include "base/arena.h"
#include "base/mem.h"
#include "data/labelset.h"
#include "eval/gate.h"
#include "eval/metrics_multilabel.h"

#include <stdlib.h>
#include <string.h>

struct trained_model *train_multilabel_fit(const struct model_config *mc, const struct corpus *c,
                                           const size_t *rows, const size_t *label_rows, size_t n,
                                           const char *const *names, size_t n_names,
                                           json_t **tuning, struct err *e)
{
    const char **texts = xmalloc((n ? n : 1) * sizeof *texts);
    size_t *start = xmalloc((n + 1) * sizeof *start), total = 0;
    for (size_t i = 0; i < n; i++)
        total += labelset_count(c->labels[label_rows[i]]);
    uint32_t *labels = xmalloc((total + n_names + 1) * sizeof *labels);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        texts[i] = c->texts[rows[i]];
        start[i] = k;
        k += corpus_label_ids(c->labels[label_rows[i]], names, n_names, labels + k);
    }
    start[n] = k;
    struct multilabel_sets y = {start, labels};
    struct multilabel_report rep;
    struct trained_model *m = model_train_multilabel(mc, texts, &y, n, names, n_names, &rep, e);
    if (m)
        *tuning = json_pack("{s:I,s:I}", "validation_rows", (json_int_t)rep.n_validation,
                            "tuned_labels", (json_int_t)rep.n_tuned);
    free(texts);
    free(start);
    free(labels);
    return m;
}

json_t *train_multilabel_evaluate(const struct trained_model *m, const struct corpus *c,
                                  const char *const *names, size_t n_names, struct err *e)
{
    size_t n_test = 0;
    for (size_t i = 0; i < c->n; i++)
        n_test += c->split[i] == 1 && c->texts[i];
    if (n_test == 0) return NULL;
    unsigned char *truth = xcalloc(n_test * n_names, 1), *pred = xmalloc(n_test * n_names);
    double *probs = xmalloc(n_test * n_names * sizeof *probs);
    uint32_t *ids = xmalloc(n_names * sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->split[i] != 1 || !c->texts[i]) continue;
        double *p = probs + k * n_names;
        model_predict(m, c->texts[i], strlen(c->texts[i]), p);
        size_t nl = corpus_label_ids(c->labels[i], names, n_names, ids);
        for (size_t j = 0; j < nl; j++)
            truth[k * n_names + ids[j]] = 1;
        for (size_t l = 0; l < n_names; l++)
            pred[k * n_names + l] = p[l] >= model_threshold(m, l);
        k++;
    }
    struct metrics_multilabel mt;
    json_t *out = NULL;
    if (metrics_multilabel_compute(truth, pred, probs, n_test, n_names, &mt, e) == 0) {
        out = metrics_multilabel_to_json(&mt, names);
        metrics_multilabel_free(&mt);
    }
    free(truth);
    free(pred);
    free(probs);
    free(ids);
    return out;
}

/* A model's answers on the test rows as bytes over the shared names. */
static int predict_sets(struct trained_model *m, const struct corpus *c, const size_t *rows,
                        size_t n, const char *const *names, size_t n_names, unsigned char *out,
                        struct err *e)
{
    size_t nl = model_n_labels(m);
    if (model_task_type(m) != TASK_MULTILABEL)
        return err_set(e, ERR_INVALID,
                       "a %s model cannot be compared on label sets: retrain it as multilabel",
                       task_type_name(model_task_type(m)));
    int *to = xmalloc(nl * sizeof *to);
    for (size_t l = 0; l < nl; l++)
        to[l] = corpus_index(names, n_names, model_label(m, l));
    double *probs = xmalloc(nl * sizeof *probs);
    memset(out, 0, n * n_names);
    for (size_t i = 0; i < n; i++) {
        size_t row = rows[i];
        model_predict_fields(m, corpus_values(c, row), corpus_lens(c, row), c->n_fields, probs);
        for (size_t l = 0; l < nl; l++)
            if (probs[l] >= model_threshold(m, l)) out[i * n_names + (size_t)to[l]] = 1;
    }
    free(probs);
    free(to);
    return 0;
}

int train_multilabel_compare(const struct gate_config *gate, const struct corpus *c,
                             struct trained_model *champion, struct trained_model *challenger,
                             json_t **decision, struct err *e)
{
    /* one list of names for the truth and both models: a label may be new */
    struct trained_model *models[2] = {champion, challenger};
    size_t n_rows = 0, total = model_n_labels(champion) + model_n_labels(challenger);
    size_t *rows = xmalloc((c->n ? c->n : 1) * sizeof *rows);
    for (size_t i = 0; i < c->n; i++)
        if (c->split[i] == 1 && c->texts[i]) {
            rows[n_rows++] = i;
            total += labelset_count(c->labels[i]);
        }
    char **all = xmalloc((total ? total : 1) * sizeof *all);
    struct arena a;
    arena_init(&a, 0);
    size_t k = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const char *cur = c->labels[rows[i]], *l;
        size_t len;
        while (labelset_next(&cur, &l, &len))
            all[k++] = arena_strndup(&a, l, len);
    }
    for (int m = 0; m < 2; m++)
        for (size_t l = 0; l < model_n_labels(models[m]); l++)
            all[k++] = (char *)model_label(models[m], l);
    const char **names = NULL;
    size_t n_names = corpus_distinct(all, k, &names);
    int rc = -1;
    unsigned char *truth = xcalloc(n_rows * n_names + 1, 1);
    unsigned char *pred[2] = {xmalloc(n_rows * n_names + 1), xmalloc(n_rows * n_names + 1)};
    uint32_t *ids = xmalloc((n_names ? n_names : 1) * sizeof *ids);
    if (n_rows == 0) {
        err_set(e, ERR_INVALID, "no held-out examples to compare models on");
        goto done;
    }
    for (size_t i = 0; i < n_rows; i++) {
        size_t nl = corpus_label_ids(c->labels[rows[i]], names, n_names, ids);
        for (size_t j = 0; j < nl; j++)
            truth[i * n_names + ids[j]] = 1;
    }
    for (int m = 0; m < 2; m++)
        if (predict_sets(models[m], c, rows, n_rows, names, n_names, pred[m], e) != 0) {
            err_prefix(e, "%s", m ? "challenger" : "champion");
            goto done;
        }
    struct gate_decision d;
    memset(&d, 0, sizeof d);
    rc = gate_decide_multilabel(gate, truth, pred[0], pred[1], n_rows, n_names, names, 42, &d, e);
    if (rc == 0) *decision = gate_decision_to_json(&d);
    gate_decision_free(&d);
done:
    free(truth);
    free(pred[0]);
    free(pred[1]);
    free(ids);
    free(names);
    free(all);
    free(rows);
    arena_free(&a);
    return rc;
}

json_t *train_multilabel_thresholds(const struct trained_model *m)
{
    json_t *o = json_object();
    for (size_t i = 0; i < model_n_labels(m); i++)
        json_object_set_new(o, model_label(m, i), json_real(model_threshold(m, i)));
    return o;
}
