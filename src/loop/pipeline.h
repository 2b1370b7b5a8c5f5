/* Running a pipeline for a run: steps in order, each in a child process (a
 * crash, an out-of-memory or a timeout in training kills that child, never
 * the caller), with retries, retry delay, timeout and run_if. While a step
 * runs, the job's lease is kept alive; a cancelled job stops the step. A
 * retried job resumes after the steps its earlier attempt completed. */
#ifndef BOUCLE_LOOP_PIPELINE_H
#define BOUCLE_LOOP_PIPELINE_H

#include "base/config.h"
#include "base/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

struct pipeline_job {
    int64_t job_id; /* 0 when the pipeline does not run for a queued job */
    const char *worker;
    int64_t lease_ms;
};

struct pipeline_result {
    char status[16]; /* completed | failed | cancelled */
    int deployed, refused, stopped;
    char failed_step[16];
    char error[512];
};

int pipeline_run(struct store *st, const struct config *cfg, const struct task_config *task,
                 const struct pipeline_config *pl, const char *run_id, json_t *payload,
                 const struct pipeline_job *job, struct pipeline_result *out, struct err *e);

#endif
