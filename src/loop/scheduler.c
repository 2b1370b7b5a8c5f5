#include "loop/scheduler.h"

#include "base/log.h"
#include "base/mem.h"
#include "loop/check.h"
#include "loop/rollout.h"

#include <stdlib.h>
#include <string.h>

static int tick_task(struct store *st, const struct task_config *task, int64_t now_ms,
                     struct err *e)
{
    struct check_result r;
    int rc = check_retrain(st, task, now_ms, 1, &r, e);
    if (rc != 0 || !r.needed) {
        check_result_free(&r);
        return rc;
    }
    json_t *payload = json_pack("{s:s,s:O}", "trigger", r.trigger, "fired", r.fired);
    char *payload_text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    char run_id[40];
    rc = store_job_enqueue(st, task->name, "retrain", r.trigger, payload_text, run_id, e);
    free(payload_text);
    if (rc == 0) {
        char *summary = check_result_summary(&r);
        log_info("task %s: retrain queued as run %.8s: %s", task->name, run_id, summary);
        struct err ignored;
        err_clear(&ignored);
        char line[1100];
        snprintf(line, sizeof line, "queued by trigger %s: %.1000s", r.trigger, summary);
        store_run_log(st, run_id, line, &ignored);
        free(summary);
        rc = 1;
    } else if (e->code == ERR_CONFLICT) { /* one is already queued or running */
        err_clear(e);
        rc = 0;
    }
    check_result_free(&r);
    return rc;
}

int scheduler_tick(struct store *st, const struct config *cfg, int64_t now_ms, struct err *e)
{
    int queued = 0, failed = 0;
    for (size_t i = 0; i < cfg->n_tasks; i++) {
        /* a canary with enough feedback is promoted or rolled back */
        struct err re;
        err_clear(&re);
        struct rollout_outcome outcome;
        if (rollout_tick(st, &cfg->tasks[i], &outcome, &re) < 0)
            log_warn("task %s: deciding the rollout: %s", cfg->tasks[i].name, re.msg);
    }
    for (size_t i = 0; i < cfg->n_tasks; i++) {
        if (cfg->tasks[i].n_triggers == 0) continue;
        struct err te;
        err_clear(&te);
        int rc = tick_task(st, &cfg->tasks[i], now_ms, &te);
        if (rc < 0) {
            log_warn("task %s: checking triggers: %s", cfg->tasks[i].name, te.msg);
            if (!failed) *e = te;
            failed = 1;
        } else {
            queued += rc;
        }
    }
    return failed ? -1 : queued;
}
