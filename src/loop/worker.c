#include "loop/worker.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "loop/pipeline.h"

#include <stdio.h>
#include <string.h>

static void give_up(struct store *st, const struct store_job *job, const char *why)
{
    struct err e;
    err_clear(&e);
    log_error("job %lld (%s, run %.8s): %s", (long long)job->id, job->task, job->run_id, why);
    store_run_log(st, job->run_id, why, &e);
    store_run_finish(st, job->run_id, "failed", NULL, &e);
    store_job_finish(st, job->id, "failed", &e);
}

int worker_run_one(struct store *st, const struct config *cfg, const char *worker_id, struct err *e)
{
    struct store_job job;
    memset(&job, 0, sizeof job);
    int claimed = store_job_claim(st, worker_id, cfg->worker_lease_ms, &job, e);
    if (claimed <= 0) return claimed;
    const struct task_config *task = config_task(cfg, job.task);
    if (!task) {
        give_up(st, &job, "the task is no longer in the configuration");
        store_job_clear(&job);
        return 1;
    }
    if (job.attempts > WORKER_MAX_ATTEMPTS) {
        char why[160];
        snprintf(why, sizeof why, "gave up: the job's worker stopped %d times before finishing",
                 job.attempts - 1);
        give_up(st, &job, why);
        store_job_clear(&job);
        return 1;
    }
    if (job.attempts > 1) {
        char line[160];
        snprintf(line, sizeof line, "attempt %d: the previous worker stopped before finishing",
                 job.attempts);
        store_run_log(st, job.run_id, line, e);
    }
    log_info("job %lld: %s for task %s (run %.8s, attempt %d)", (long long)job.id, job.kind,
             job.task, job.run_id, job.attempts);
    json_t *payload = job.payload_json ? json_loads(job.payload_json, 0, NULL) : NULL;
    struct pipeline_job pj = {
        .job_id = job.id, .worker = worker_id, .lease_ms = cfg->worker_lease_ms};
    struct pipeline_result res;
    struct err pe;
    err_clear(&pe);
    int rc = pipeline_run(st, cfg, task, &task->pipeline, job.run_id, payload, &pj, &res, &pe);
    json_decref(payload);
    if (rc != 0) {
        log_error("job %lld: %s", (long long)job.id, pe.msg);
        snprintf(res.status, sizeof res.status, "failed");
    }
    err_clear(e);
    if (store_job_finish(st, job.id, res.status, e) != 0 && e->code != ERR_CONFLICT)
        log_warn("job %lld: %s", (long long)job.id, e->msg);
    err_clear(e);
    store_job_clear(&job);
    return 1;
}

int worker_loop(const struct config *cfg, const char *worker_id, volatile sig_atomic_t *stop,
                struct err *e)
{
    struct store *st = store_open(cfg->store_url, e);
    if (!st) return -1;
    int64_t reaped = 0;
    if (store_runs_reap(st, &reaped, e) == 0 && reaped)
        log_warn("worker: %lld run(s) left running by a stopped worker marked failed",
                 (long long)reaped);
    err_clear(e);
    log_info("worker %s: waiting for jobs", worker_id);
    while (!*stop) {
        int rc = worker_run_one(st, cfg, worker_id, e);
        if (rc < 0) {
            log_error("worker: %s", e->msg);
            err_clear(e);
        }
        if (rc <= 0)
            for (int i = 0; i < 5 && !*stop; i++)
                time_sleep_ms(100);
    }
    log_info("worker %s: stopped", worker_id);
    store_close(st);
    return 0;
}
