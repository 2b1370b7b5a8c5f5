/* A line in a run's logs (kept in the store, shown by `runs show` and the
 * API) and in the process log at once. Failures to store it are ignored:
 * a log line must never fail the step that writes it. */
#ifndef BOUCLE_LOOP_RUNLOG_H
#define BOUCLE_LOOP_RUNLOG_H

#include "store/store.h"

void runlog(struct store *st, const char *run_id, const char *task, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
