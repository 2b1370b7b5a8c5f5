/* Every boucle run (train, pipeline, steps) is also an MLflow run: it joins
 * the experiment "boucle/<task>" (created on first use), its params become
 * run params and, when it finishes, the numbers of its summary become
 * metrics, so MLflow clients and the MLflow UI see boucle's runs beside
 * their own. Called by store.c after the run is created or finished; a
 * failure here is logged, never fails the run itself. */
#ifndef BOUCLE_STORE_RUN_MIRROR_H
#define BOUCLE_STORE_RUN_MIRROR_H

#include "store/store.h"

void run_mirror_started(struct store *s, const char *run_id, const char *task, const char *kind,
                        const char *params_json);
void run_mirror_finished(struct store *s, const char *run_id, const char *metrics_json);

/* The id of the experiment a task's runs join, created when missing
 * (child runs, such as a search's trials, join it too). */
int run_mirror_experiment(struct store *s, const char *task, int64_t *id, struct err *e);

/* The experiment a task's runs join. */
#define RUN_MIRROR_EXPERIMENT_PREFIX "boucle/"

#endif
