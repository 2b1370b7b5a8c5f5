/* Hyper-parameter search: every trial of a task's grid scored by stratified
 * k-fold cross-validation on the training rows (one label or a label set
 * per row), the trials spread over
 * worker processes; the best is the highest mean score (the earlier trial
 * in grid order on a tie). Knows nothing of the store: search_record.h
 * writes the result into a run. */
#ifndef BOUCLE_LOOP_SEARCH_H
#define BOUCLE_LOOP_SEARCH_H

#include "base/config.h"
#include "base/err.h"
#include "loop/corpus.h"
#include "ml/model.h"

#include <jansson.h>
#include <stddef.h>

/* Trains a model on a subset of the training rows: positions in
 * search_data.rows. It runs in a worker process (never touching the store). */
typedef struct trained_model *(*search_fit_fn)(void *ctx, const struct model_config *mc,
                                               const size_t *subset, size_t n, struct err *e);

/* The training rows as the final fit sees them. */
struct search_data {
    const struct corpus *c; /* prepared: each row is predicted from its raw fields */
    const size_t *rows;     /* corpus index of each training row */
    const int *labels;      /* its label in [0, n_labels); NULL for a multilabel search */
    /* a multilabel search: each row's canonical label set (NULL otherwise).
     * Its folds come from iterative stratification (data/labelset.h), its
     * scores from eval/metrics_multilabel.h with each model's thresholds. */
    const char *const *sets;
    size_t n;
    const char *const *names;
    size_t n_labels;
    search_fit_fn fit;
    void *fit_ctx;
};

struct search_result {
    size_t n_trials, folds, best; /* best: a trial index */
    int jobs;                     /* worker processes used */
    char metric[32];
    double *scores;      /* n_trials x folds: the metric on each held-out fold */
    double *mean, *std;  /* per trial (std: population, as scikit-learn's) */
    double *fit_seconds; /* per trial, mean over its folds */
    size_t *rank;        /* per trial, 1 = best; equal means share a rank */
    double seconds;      /* the whole search, wall time */
};

/* Scores trials[s->n_trials] (grid_configs) by s->folds-fold CV on `metric`
 * (metrics_value's names, or metrics_multilabel_value's). s->jobs workers (0: one per online core)
 * each take every jobs-th (trial, fold) pair, so the scores do not depend on the number of jobs; a
 * fasttext trial's threads are capped to the cores left per job. A fold that cannot be trained
 * fails the search, naming the trial and the fold. */
int search_run(const struct search_config *s, const char *metric, const struct model_config *trials,
               const struct search_data *d, struct search_result *out, struct err *e);
void search_result_free(struct search_result *r);

#endif
