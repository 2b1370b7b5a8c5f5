/* Classification metrics on plain arrays. */
#ifndef BOUCLE_EVAL_METRICS_H
#define BOUCLE_EVAL_METRICS_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>

struct metrics {
    size_t n, n_labels;
    double accuracy;
    double *precision, *recall, *f1; /* per class, n_labels each */
    size_t *support;                 /* true count per class */
    double precision_macro, recall_macro, f1_macro;
    double precision_weighted, recall_weighted, f1_weighted;
    double precision_micro, recall_micro, f1_micro; /* one label per example: = accuracy */
    size_t *confusion; /* n_labels x n_labels, row = true, column = predicted */
    /* binary: of label 1; multiclass: one-vs-rest, macro over the labels
     * that have both positives and negatives in y_true (sklearn's ovr) */
    double roc_auc, pr_auc;
    double log_loss;
    /* binary: mean (p(label 1) - y)^2, as sklearn's brier_score_loss;
     * multiclass: mean over examples of the sum over labels of (p - y)^2 */
    double brier;
    /* expected calibration error: 15 equal-width bins of the predicted
     * label's probability, sum of |accuracy - confidence| weighted by size */
    double ece;
};

/* probs: n x n_labels row-major (may be NULL: no AUC, no log loss). */
int metrics_compute(const int *y_true, const int *y_pred, const double *probs, size_t n,
                    size_t n_labels, struct metrics *out, struct err *e);
/* The metric of that name, higher is better: accuracy, f1_macro,
 * f1_weighted, precision_macro, recall_macro, roc_auc. ERR_INVALID naming
 * them for another name. */
int metrics_value(const struct metrics *m, const char *name, double *out, struct err *e);
/* {"accuracy":..,"f1_macro":..,"f1_micro":..,...,"log_loss","brier","ece","per_class":{"neg":{"precision","recall","f1","support"}},
 *  "confusion_matrix":{"labels":[..],"matrix":[[..]]}, "roc_auc":.., "pr_auc":..} */
json_t *metrics_to_json(const struct metrics *m, const char *const *label_names);
void metrics_free(struct metrics *m);

/* ROC-AUC and PR-AUC (average precision) of scores[i] for positive[i] != 0,
 * as above; NAN when undefined (no positive; ROC-AUC also with no negative). */
void metrics_binary_auc(const double *scores, const unsigned char *positive, size_t n,
                        double *roc_auc, double *pr_auc);

#endif
