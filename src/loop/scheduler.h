/* The scheduler: checks every task's triggers and queues a retrain when
 * one fires (at most one queued or running per task), and ends a canary
 * rollout that has enough feedback to decide (loop/rollout.h). `serve`
 * calls it every scheduler.interval; it records which trigger fired and why. */
#ifndef BOUCLE_LOOP_SCHEDULER_H
#define BOUCLE_LOOP_SCHEDULER_H

#include "base/config.h"
#include "base/err.h"
#include "store/store.h"

#include <stdint.h>

/* Returns how many retrains were queued, or -1 (e says why; other tasks were still checked). */
int scheduler_tick(struct store *st, const struct config *cfg, int64_t now_ms, struct err *e);

#endif
