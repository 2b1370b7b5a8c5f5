/* Does a task need retraining now? Evaluates its configured triggers against
 * the store: shared by the scheduler in `serve`, the pipeline's check step
 * and `boucle check-retrain`. */
#ifndef BOUCLE_LOOP_CHECK_H
#define BOUCLE_LOOP_CHECK_H

#include "base/config.h"
#include "base/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

struct check_result {
    int needed;
    char trigger[32]; /* the first trigger that fired, "" when none */
    json_t *fired;    /* [{"trigger","reason"}] the triggers that fired; owned */
    json_t *quiet;    /* [{"trigger","reason"}] the ones that did not, and why; owned */
    int in_cooldown;  /* a trigger fired but the last retrain is too recent */
};

/* apply_cooldown: automatic triggers respect retrain_cooldown; a person asking does not. */
int check_retrain(struct store *st, const struct task_config *task, int64_t now_ms,
                  int apply_cooldown, struct check_result *out, struct err *e);
void check_result_free(struct check_result *r);
/* "feedback_count: 1203 new gold feedback >= 1000; satisfaction: ..." for logs. */
char *check_result_summary(const struct check_result *r);

#endif
