/* The pipeline's built-in steps. Each reads the run's state (what earlier
 * steps found), does its one job, and merges its results into the state:
 *   check    -> "check": {needed, fired, quiet}; "stop" when not needed and asked if_needed
 *   prepare  -> "prepare": {feedback_train, feedback_holdout, dataset_id}
 *   train    -> "train": {...}, "challenger_version"
 *   evaluate -> "decision": the gate's decision
 *   deploy   -> "deployed", "deployed_version", "previous_version"; or, as a shadow
 *               or canary (rollout.strategy), "rollout": {id, strategy, version, percent}
 *   notify   -> "notified": the event sent */
#ifndef BOUCLE_LOOP_STEPS_H
#define BOUCLE_LOOP_STEPS_H

#include "base/config.h"
#include "base/err.h"
#include "loop/rollout.h"
#include "loop/runlog.h"
#include "store/store.h"

#include <jansson.h>

struct step_ctx {
    struct store *st;
    const struct config *cfg;
    const struct task_config *task;
    const char *run_id;
    json_t *state;   /* the run's state when the step starts (borrowed) */
    json_t *payload; /* the job's parameters, e.g. {"if_needed": true} (borrowed, may be NULL) */
    const char *failed_step; /* the step that failed earlier, for notify (NULL if none) */
    const char *failure;     /* its error */
    const char *actor;       /* who runs it, for the alias history; NULL: "loop" */
    /* deploy: a shadow or canary instead of the task's `rollout:` (NULL: the task's) */
    const struct rollout_request *rollout;
};

/* Runs a built-in step (not `command`, which the runner executes itself). */
int step_run_builtin(enum step_kind kind, struct step_ctx *c, struct err *e);

/* The same pieces, for the CLI's step-by-step commands. */
int step_check(struct step_ctx *c, struct err *e);
int step_prepare(struct step_ctx *c, struct err *e);
int step_train(struct step_ctx *c, struct err *e);
int step_evaluate(struct step_ctx *c, struct err *e);
int step_deploy(struct step_ctx *c, struct err *e);
int step_notify(struct step_ctx *c, struct err *e);

/* Appends a line to the run's logs and to the process log. */
#define step_log(c, ...) runlog((c)->st, (c)->run_id, (c)->task->name, __VA_ARGS__)

#endif
