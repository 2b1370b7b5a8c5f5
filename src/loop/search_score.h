/* How a search trial's model scores on its held-out fold: one label per row
 * (eval/metrics.h) or a label set per row (eval/metrics_multilabel.h, the
 * model's tuned thresholds deciding each label). Used by search.c only. */
#ifndef BOUCLE_LOOP_SEARCH_SCORE_H
#define BOUCLE_LOOP_SEARCH_SCORE_H

#include "base/err.h"
#include "loop/search.h"

/* Whether `metric` can rank this search's trials (ERR_INVALID, listing the
 * names that can, when not). */
int search_metric_check(const struct search_data *d, const char *metric, struct err *e);

/* The metric of m on the rows whose fold_of is `fold`, each predicted from
 * its raw fields as when serving. */
int search_score_fold(const struct search_data *d, const struct trained_model *m,
                      const int *fold_of, int fold, const char *metric, double *score,
                      struct err *e);

/* Deals the rows into s->folds folds: stratified by label, or iteratively
 * by label set for a multilabel search. */
int search_folds(const struct search_data *d, size_t folds, uint64_t seed, int *fold_of,
                 struct err *e);

#endif
