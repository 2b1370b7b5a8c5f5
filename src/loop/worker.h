/* `boucle worker`: claims jobs from the store's queue and runs their
 * pipelines. `serve` runs one as a supervised child process; with a shared
 * database, any number can run anywhere. */
#ifndef BOUCLE_LOOP_WORKER_H
#define BOUCLE_LOOP_WORKER_H

#include "base/config.h"
#include "base/err.h"
#include "store/store.h"

#include <signal.h>

enum { WORKER_MAX_ATTEMPTS = 3 }; /* a job whose worker died this often fails */

/* Claims and runs one job if there is one: 1 ran one, 0 none waiting, -1 error. */
int worker_run_one(struct store *st, const struct config *cfg, const char *worker_id,
                   struct err *e);
/* Loops until *stop becomes non-zero (a signal handler sets it). */
int worker_loop(const struct config *cfg, const char *worker_id, volatile sig_atomic_t *stop,
                struct err *e);

#endif
