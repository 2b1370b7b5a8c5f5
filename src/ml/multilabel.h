/* Multilabel training: one binary model per label (one-vs-rest) over
 * shared TF-IDF features, each label with its own decision threshold,
 * tuned on a validation share of the training rows to maximise that
 * label's F1. The tuning is the same for every kind: a kind brings a
 * multilabel_learner (`linear`'s logistic regressions are here, `xgboost`'s
 * boosters in ml/xgboost_multilabel.h). */
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

/* Label c's targets over the rows a learner is fitting: present[i] != 0
 * where row i of them has the label. */
struct multilabel_targets;
void multilabel_targets_of(const struct multilabel_targets *t, size_t c, unsigned char *present);

/* What one-vs-rest asks of a model kind. */
struct multilabel_learner {
    void *ctx;
    /* Fits one binary model per label on rows[0..n_rows) of x (rows NULL:
     * every row), label c's targets given by multilabel_targets_of(t, c),
     * and drops what an earlier call fitted. */
    int (*fit)(void *ctx, const struct tfidf_matrix *x, const size_t *rows, size_t n_rows,
               size_t n_labels, const struct multilabel_targets *t, struct err *e);
    /* Each label's own probability for row i of x, into probs[n_labels]. */
    void (*score)(void *ctx, const struct tfidf_matrix *x, size_t i, double *probs);
};

/* Tunes thresholds[n_labels] as mc says (fitting the learner without the
 * validation rows and scoring them), then fits the learner on every row:
 * what it holds afterwards is the model to serve. */
int multilabel_train(const struct tfidf_matrix *x, const struct multilabel_sets *y, size_t n_labels,
                     const struct multilabel_config *mc, const struct multilabel_learner *l,
                     double *thresholds, struct multilabel_report *report, struct err *e);

/* `linear`: trains the one-vs-rest weights (n_features + 1 rows, one column per
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
