/* Training a task from its stored examples: fit on the train split, measure
 * on the fixed test split, register the version with its lineage, and make
 * the task's first version its champion. Every step is logged in a run. */
#ifndef BOUCLE_LOOP_TRAIN_H
#define BOUCLE_LOOP_TRAIN_H

#include "base/config.h"
#include "base/err.h"
#include "data/prepare.h"
#include "store/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct train_result {
    char run_id[37];
    int64_t version;
    int became_champion;
    size_t n_train, n_test, n_labels, n_features; /* rows after cleaning */
    double train_seconds, total_seconds;
    double fit_seconds; /* the learner alone (featurising excluded) */
    char dataset_hash[65];
    char artifact_sha256[65];
    size_t artifact_bytes;
    json_t *metrics;            /* owned; metrics on the test split, or NULL without one */
    json_t *search;             /* owned; with `model: {search:}`, search_record's summary */
    json_t *thresholds;         /* multilabel: {"label": threshold}; owned, else NULL */
    json_t *tuning;             /* multilabel: {"validation_rows", "tuned_labels"}; owned */
    struct clean_config clean;  /* the preparation the model was trained with */
    struct prepare_report prep; /* what each of its steps did, over train and test */
};

struct train_options {
    int champion_if_none; /* the task's first version becomes champion */
    const char *alias;    /* also point this alias at the new version ("challenger") */
    const char *actor;    /* who trains, for the alias history ("cli:alice", "loop") */
};

/* Trains and registers a version as part of an existing run (logs go to it). */
int train_in_run(struct store *st, const struct config *cfg, const struct task_config *task,
                 const char *run_id, const struct train_options *opt, struct train_result *out,
                 struct err *e);
/* {"model_version","n_train","n_test","n_features","train_seconds","fit_seconds","dataset_hash",
 *  "test","cleaning": prepare_report_json} (+ "thresholds", "threshold_tuning" for multilabel,
 *  "search" after a hyper-parameter search) */
json_t *train_result_json(const struct train_result *r);
/* Adds a multilabel result's "thresholds" and "threshold_tuning" to `into`. */
void train_result_multilabel_json(const struct train_result *r, json_t *into);
/* `boucle train`: its own run, first version champion; actor as in train_options. */
int train_task(struct store *st, const struct config *cfg, const struct task_config *task,
               const char *actor, struct train_result *out, struct err *e);
void train_result_free(struct train_result *r);

#endif
