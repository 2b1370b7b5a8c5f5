#include "loop/search_score.h"

#include "base/mem.h"
#include "data/folds.h"
#include "data/labelset.h"
#include "eval/metrics.h"
#include "eval/metrics_multilabel.h"

#include <stdlib.h>
#include <string.h>

int search_metric_check(const struct search_data *d, const char *metric, struct err *e)
{
    double unused;
    if (d->sets) {
        struct metrics_multilabel probe = {0};
        return metrics_multilabel_value(&probe, metric, &unused, e);
    }
    struct metrics probe = {0};
    return metrics_value(&probe, metric, &unused, e);
}

int search_folds(const struct search_data *d, size_t folds, uint64_t seed, int *fold_of,
                 struct err *e)
{
    if (d->sets) return labelset_folds_stratified(d->sets, d->n, folds, seed, fold_of, e);
    return folds_stratified(d->labels, d->n, d->n_labels, folds, seed, d->names, fold_of, e);
}

static int score_single(const struct search_data *d, const struct trained_model *m,
                        const int *fold_of, int fold, size_t n_test, const char *metric,
                        double *score, struct err *e)
{
    int *y_true = xmalloc(n_test * sizeof *y_true), *y_pred = xmalloc(n_test * sizeof *y_pred);
    double *probs = xmalloc(n_test * d->n_labels * sizeof *probs);
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (fold_of[i] != fold) continue;
        y_true[k] = d->labels[i];
        struct model_input in = corpus_input(d->c, d->rows[i]);
        y_pred[k] = (int)model_predict_input(m, &in, probs + k * d->n_labels);
        k++;
    }
    struct metrics mt;
    int rc = metrics_compute(y_true, y_pred, probs, n_test, d->n_labels, &mt, e);
    if (rc == 0) {
        rc = metrics_value(&mt, metric, score, e);
        metrics_free(&mt);
    }
    free(y_true);
    free(y_pred);
    free(probs);
    return rc;
}

/* Every fold's model was trained on d->names (train.c's fit), so its label
 * l is names[l] and needs no mapping. */
static int score_sets(const struct search_data *d, const struct trained_model *m,
                      const int *fold_of, int fold, size_t n_test, const char *metric,
                      double *score, struct err *e)
{
    size_t L = d->n_labels;
    if (model_n_labels(m) != L)
        return err_set(e, ERR_INTERNAL, "the fold's model has %zu labels, the task %zu",
                       model_n_labels(m), L);
    unsigned char *truth = xcalloc(n_test * L, 1), *pred = xmalloc(n_test * L);
    double *probs = xmalloc(n_test * L * sizeof *probs);
    uint32_t *ids = xmalloc(L * sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (fold_of[i] != fold) continue;
        size_t nl = corpus_label_ids(d->sets[i], d->names, L, ids);
        for (size_t j = 0; j < nl; j++)
            truth[k * L + ids[j]] = 1;
        struct model_input in = corpus_input(d->c, d->rows[i]);
        double *p = probs + k * L;
        model_predict_input(m, &in, p);
        for (size_t l = 0; l < L; l++)
            pred[k * L + l] = p[l] >= model_threshold(m, l);
        k++;
    }
    struct metrics_multilabel mt;
    int rc = metrics_multilabel_compute(truth, pred, probs, n_test, L, &mt, e);
    if (rc == 0) {
        rc = metrics_multilabel_value(&mt, metric, score, e);
        metrics_multilabel_free(&mt);
    }
    free(truth);
    free(pred);
    free(probs);
    free(ids);
    return rc;
}

int search_score_fold(const struct search_data *d, const struct trained_model *m,
                      const int *fold_of, int fold, const char *metric, double *score,
                      struct err *e)
{
    size_t n_test = 0;
    for (size_t i = 0; i < d->n; i++)
        n_test += fold_of[i] == fold;
    if (n_test == 0) return err_set(e, ERR_INVALID, "the fold holds out no rows");
    if (d->sets) return score_sets(d, m, fold_of, fold, n_test, metric, score, e);
    return score_single(d, m, fold_of, fold, n_test, metric, score, e);
}
