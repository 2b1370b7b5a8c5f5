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
    size_t *confusion;      /* n_labels x n_labels, row = true, column = predicted */
    double roc_auc, pr_auc; /* binary only (positive = label 1); NAN otherwise */
    double log_loss;
};

/* probs: n x n_labels row-major (may be NULL: no AUC, no log loss). */
int metrics_compute(const int *y_true, const int *y_pred, const double *probs, size_t n,
                    size_t n_labels, struct metrics *out, struct err *e);
/* {"accuracy":..,"f1_macro":..,...,"per_class":{"neg":{"precision","recall","f1","support"}},
 *  "confusion_matrix":{"labels":[..],"matrix":[[..]]}, "roc_auc":.., "pr_auc":..} */
json_t *metrics_to_json(const struct metrics *m, const char *const *label_names);
void metrics_free(struct metrics *m);

#endif
