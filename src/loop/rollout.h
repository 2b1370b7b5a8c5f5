/* Shadow and canary rollouts (issue 6), the parts that are not serving:
 * starting one, reporting how the challenger does on live traffic, and the
 * automatic end of a canary once feedback has judged enough of its answers
 * (promoted when it is not worse than the champion, rolled back when it is;
 * eval/live.h says how "worse" is tested). Servers pick up starts and ends
 * through the store (serve/rollout.c); nothing here touches a request. */
#ifndef BOUCLE_LOOP_ROLLOUT_H
#define BOUCLE_LOOP_ROLLOUT_H

#include "base/config.h"
#include "base/err.h"
#include "eval/live.h"
#include "store/store.h"

#include <jansson.h>

struct rollout_request {
    enum rollout_strategy strategy; /* shadow or canary (direct is a plain deploy) */
    int64_t version;                /* the challenger */
    int percent;                    /* canary */
    long min_feedback;              /* canary: judged predictions per side before deciding */
    const char *reason;             /* may be NULL */
    const char *run_id;             /* the run that asked, may be NULL */
};

/* The request with the task's `rollout:` defaults for what it leaves at 0. */
void rollout_request_defaults(struct rollout_request *r, const struct task_config *task);
/* See store_rollout_start for the checks and their errors. */
int rollout_start(struct store *st, const struct task_config *task, const struct rollout_request *r,
                  int64_t *id, struct err *e);

/* A task's rollout now: the active one (if any), its live numbers and, for
 * a canary, what the automatic decision would say. */
struct rollout_report {
    int active;
    struct store_rollout ro;
    struct store_rollout_stats stats;
    struct live_verdict verdict; /* canary only */
};
int rollout_report_get(struct store *st, const struct task_config *task, struct rollout_report *out,
                       struct err *e);
/* {"task","active","rollout" (or null),"champion","challenger" ({"version","predictions",
 *  "judged","correct","accuracy"}),"agreement" (shadow: {"compared","agreed","ratio"}),
 *  "paired" (shadow: {"n","champion_accuracy","challenger_accuracy"}),
 *  "decision" (canary: {"ready","would","reason","drop","drop_lower"}),
 *  "last" (the latest ended rollout, or null)} */
json_t *rollout_report_json(struct store *st, const struct task_config *task,
                            const struct rollout_report *r, struct err *e);

/* What ended a rollout, for the caller to tell. */
struct rollout_outcome {
    int64_t rollout_id;
    char status[16]; /* "promoted" | "rolled_back" | "stopped" */
    char run_id[40]; /* the run that records the decision ("" when none) */
    char reason[400];
};

/* Ends the task's active rollout by hand: status "stopped" (the challenger
 * leaves, the champion keeps all traffic) or "promoted" (the challenger
 * becomes champion). 1 when one was ended, 0 when none was active. */
int rollout_finish(struct store *st, const struct task_config *task, const char *status,
                   const char *why, struct rollout_outcome *out, struct err *e);

/* The automatic decision, for the scheduler and `boucle rollout check`: a
 * canary whose both sides have min_feedback judged predictions is promoted
 * or rolled back; a rollout whose champion moved meanwhile (a promote or
 * rollback by hand) is stopped. A decision is recorded in a run of kind
 * "rollout" (state and logs), in the rollout itself, in the alias history
 * when promoted, and notified (task's notify: events "deployed" and
 * "rolled_back"). 1 when the rollout ended, 0 when there is nothing to
 * decide yet, -1 on error. */
int rollout_tick(struct store *st, const struct task_config *task, struct rollout_outcome *out,
                 struct err *e);

#endif
