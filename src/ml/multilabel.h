/* Multilabel training for the `linear` kind: one binary logistic regression
 * per label (one-vs-rest) over shared TF-IDF features, each label with its
 * own decision threshold, tuned on a validation share of the training rows
 * to maximise that label's F1. */
#ifndef BOUCLE_ML_MULTILABEL_H
#define BOUCLE_ML_MULTILABEL_H

#include "base/err.h"
#include "ml/linear.h"
#include "text/tfidf.h"

#include <stddef.h>
#include <stdint.h>

/* The labels of n examples: example i has label[start[i]..start[i+1]),
 * each in [0, n_labels) (start has n + 1 entries; no label = a negative
 * for every label). */
struct multilabel_sets {
    const size_t *start;
    const uint32_t *label;
};

#define MULTILABEL_THRESHOLD_DEFAULT 0.5
#define MULTILABEL_MIN_POSITIVES 5 /* in the validation share, to tune a label's threshold */

struct multilabel_config {
    /* `threshold:` in the task's model section: tune (the default, < 0
     * here) or one number in (0, 1) for every label */
    double threshold;
    /* `validation_fraction:` share of training rows held out to tune the
     * thresholds (default 0.2); the final model is then trained on all */
    double validation_fraction;
};
void multilabel_config_defaults(struct multilabel_config *c);

/* What training measured on the validation share, for the run's log. */
struct multilabel_report {
    size_t n_validation; /* rows held out (0: no tuning) */
    size_t n_tuned;      /* labels whose threshold was tuned, the others kept the default */
};

/* Trains the one-vs-rest weights (n_features + 1 rows, one column per
 * label) on all of x's rows and fills thresholds[n_labels]. */
int multilabel_fit(const struct tfidf_matrix *x, size_t n_features, const struct multilabel_sets *y,
                   size_t n_labels, const struct linear_params *p,
                   const struct multilabel_config *mc, struct linear_weights *out,
                   double *thresholds, struct multilabel_report *report, struct err *e);

/* The threshold with the best F1 for one label over n scored rows
 * (present[i] != 0 where the label is there): halfway between the lowest
 * probability kept and the highest left out, so it generalises rather than
 * sitting on a training point. Ties keep the higher threshold. Fewer than
 * min_positives present: `fallback`. */
double multilabel_best_threshold(const double *probs, const unsigned char *present, size_t n,
                                 size_t min_positives, double fallback);

#endif
