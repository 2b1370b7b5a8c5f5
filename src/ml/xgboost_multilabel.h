/* The `xgboost` kind on a multilabel task: one binary:logistic booster per
 * label (one-vs-rest, as `linear` does), each label's probability its own
 * booster's, the thresholds tuned by ml/multilabel.c. XGBoost 1.7's native
 * multi-output trees (multi_strategy) came with 2.0, and one booster per
 * label also lets early stopping pick each label's own round count. */
#ifndef BOUCLE_ML_XGBOOST_MULTILABEL_H
#define BOUCLE_ML_XGBOOST_MULTILABEL_H

#include "base/err.h"
#include "base/mem.h"
#include "ml/multilabel.h"
#include "ml/xgboost_model.h"
#include "text/tfidf.h"

#include <stddef.h>

struct xgb_ovr {
    size_t n;                 /* labels: 0 when the model is not one of these */
    struct xgb_model **label; /* label c's booster (two-label, one output) */
};

/* Trains on the CSR rows of x (n_features columns), y giving each row's
 * labels, with the settings of p for every label (early stopping per
 * label); fills thresholds[n_labels] as mc says. */
int xgb_ovr_train(const struct xgb_params *p, const struct tfidf_matrix *x, size_t n_features,
                  const struct multilabel_sets *y, size_t n_labels,
                  const struct multilabel_config *mc, struct xgb_ovr *out, double *thresholds,
                  struct multilabel_report *report, struct err *e);

/* probs[o->n]: each label's own probability (not normalised); returns
 * the most probable label. Thread-safe as xgb_predict. */
size_t xgb_ovr_predict(const struct xgb_ovr *o, const struct xgb_row *row, struct xgb_scratch *s,
                       double *probs);

/* The fewest and most rounds kept over the labels, and the most trained. */
void xgb_ovr_rounds(const struct xgb_ovr *o, int *kept_min, int *kept_max, int *trained_max);

/* The section: u32 booster count, then each label's xgb_save section.
 * xgb_ovr_load checks the count against n_labels and each booster as
 * xgb_load does (ERR_CORRUPT naming the label). */
int xgb_ovr_save(const struct xgb_ovr *o, struct buf *out, struct err *e);
int xgb_ovr_load(struct xgb_ovr *o, struct reader *r, size_t n_labels, size_t n_features,
                 struct err *e);

void xgb_ovr_free(struct xgb_ovr *o);

#endif
