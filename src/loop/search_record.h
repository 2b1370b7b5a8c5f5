/* A finished search, written into the training run that ran it, the way
 * MLflow's own tools record a scikit-learn GridSearchCV: one child run per
 * trial in the task's experiment (tag mlflow.parentRunId = the training
 * run; the trial's params; metrics mean_test_score, std_test_score,
 * rank_test_score, split<k>_test_score, mean_fit_time), the best trial's
 * params as the training run's own, and a summary for its results. */
#ifndef BOUCLE_LOOP_SEARCH_RECORD_H
#define BOUCLE_LOOP_SEARCH_RECORD_H

#include "base/config.h"
#include "loop/search.h"
#include "store/store.h"

#include <jansson.h>

/* A trial's params are its grid values, "model.<key>" as written in the
 * config; the best trial's are logged on run_id too (the caller leaves the
 * grid's keys out of the run's first params). Tracking failures
 * are logged in the run, never fail it: the model is what matters.
 * Returns the summary (new reference):
 *   {"metric","folds","jobs","seed","n_trials","seconds","best_trial" (from 1),
 *    "best_cv_score","best_cv_std","best_params": {key: value as written},
 *    "trials": [{"trial","run_id","params","mean_test_score","std_test_score",
 *                "rank_test_score","split_test_scores": [..],"mean_fit_time"}]} */
json_t *search_record(struct store *st, const char *task, const char *run_id,
                      const struct search_config *s, const struct search_result *r);

#endif
