/* Runs `boucle worker` as a child process of `serve` and restarts it when
 * it dies, so training never runs inside the serving process: a crash or an
 * out-of-memory there cannot take predictions down. */
#ifndef BOUCLE_SERVE_SUPERVISOR_H
#define BOUCLE_SERVE_SUPERVISOR_H

#include "base/err.h"

struct supervisor;

/* config_path: passed to the worker as --config. */
struct supervisor *supervisor_start(const char *config_path, struct err *e);
/* SIGTERM to the worker, SIGKILL after grace_ms, then waits for it. */
void supervisor_stop(struct supervisor *s, int grace_ms);
int supervisor_worker_pid(struct supervisor *s); /* 0 when none is running */

#endif
