/* PostgreSQL backend: the job queue and the loop's bookkeeping. Workers
 * anywhere claim jobs with SELECT ... FOR UPDATE SKIP LOCKED: a job another
 * worker is claiming right now is skipped rather than waited for, so any
 * number of workers share the queue and never get the same job. */
#include "store/pg_store.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVE "IN ('queued', 'running')"
#define JOBS_LOCK "jobs"

struct job_row {
    int64_t id;
    char status[16];
    char worker[128];
    char run_id[40];
};
#define JOB_ROW "SELECT id, status, worker, run_id FROM jobs WHERE "

static int job_row(struct pg_store *s, const char *sql, const struct pg_arg *args, size_t n,
                   struct job_row *out, struct err *e)
{
    PGresult *r = pg_store_query(s, sql, "reading job", args, n, 0, e);
    if (!r) return -1;
    int found = PQntuples(r) > 0;
    if (found) {
        out->id = pg_store_int(r, 0, 0);
        pg_store_copy(r, 0, 1, out->status, sizeof out->status);
        pg_store_copy(r, 0, 2, out->worker, sizeof out->worker);
        pg_store_copy(r, 0, 3, out->run_id, sizeof out->run_id);
    }
    PQclear(r);
    return found;
}

static int active_job(struct pg_store *s, const char *task, const char *kind, struct job_row *out,
                      struct err *e)
{
    return job_row(s, JOB_ROW "task = $1 AND kind = $2 AND status " ACTIVE " ORDER BY id LIMIT 1",
                   PG_ARGS(PG_TEXT(task), PG_TEXT(kind)), out, e);
}

static int enqueue(struct pg_store *s, const char *task, const char *kind, const char *trigger,
                   const char *payload_json, char run_id[UUID_STR_LEN], struct err *e)
{
    int64_t now = time_now_ms();
    struct job_row busy;
    /* the check and the insert under the task's lock: two enqueuers at
     * once, the second names the first's run */
    if (pg_store_lock(s, JOBS_LOCK, task, e)) return -1;
    int found = active_job(s, task, kind, &busy, e);
    if (found == 1)
        return err_set_field(e, ERR_CONFLICT, "task", "task '%s' already has a %s job %s (run %s)",
                             task, kind, busy.status, busy.run_id);
    if (found < 0) return -1;
    uuid_v4(run_id);
    if (pg_store_update(s,
                        "INSERT INTO runs(id, task, kind, status, params_json, started_ms,"
                        " triggered_by) VALUES($1, $2, $3, 'pending', $4, $5, $6)",
                        "creating the job's run",
                        PG_ARGS(PG_TEXT(run_id), PG_TEXT(task), PG_TEXT(kind),
                                PG_TEXT(payload_json), PG_INT(now), PG_TEXT(trigger)),
                        NULL, e))
        return -1;
    return pg_store_update(
        s,
        "INSERT INTO jobs(task, kind, status, payload_json, created_ms,"
        " updated_ms, run_id) VALUES($1, $2, 'queued', $3, $4, $4, $5)",
        "queueing job",
        PG_ARGS(PG_TEXT(task), PG_TEXT(kind), PG_TEXT(payload_json), PG_INT(now), PG_TEXT(run_id)),
        NULL, e);
}

int pg_store_job_enqueue(void *conn, const char *task, const char *kind, const char *trigger,
                         const char *payload_json, char run_id_out[40], struct err *e)
{
    struct pg_store *s = conn;
    char run_id[UUID_STR_LEN];
    if (pg_store_begin(s, e) ||
        pg_store_end(s, enqueue(s, task, kind, trigger, payload_json, run_id, e), e) < 0)
        return -1;
    memcpy(run_id_out, run_id, sizeof run_id);
    return 0;
}

static int claim_next(struct pg_store *s, const char *worker, int64_t lease_ms,
                      struct store_job *out, struct err *e)
{
    int64_t now = time_now_ms();
    PGresult *r = pg_store_query(
        s,
        "UPDATE jobs SET status = 'running', worker = $1, lease_until_ms = $2 + $3,"
        " attempts = attempts + 1, updated_ms = $2"
        " WHERE id = (SELECT id FROM jobs WHERE status = 'queued'"
        "   OR (status = 'running' AND lease_until_ms < $2) ORDER BY created_ms, id LIMIT 1"
        "   FOR UPDATE SKIP LOCKED)"
        " RETURNING id, task, kind, run_id, payload_json, attempts, lease_until_ms",
        "claiming a job", PG_ARGS(PG_TEXT(worker), PG_INT(now), PG_INT(lease_ms)), 0, e);
    if (!r) return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    out->id = pg_store_int(r, 0, 0);
    pg_store_copy(r, 0, 1, out->task, sizeof out->task);
    pg_store_copy(r, 0, 2, out->kind, sizeof out->kind);
    pg_store_copy(r, 0, 3, out->run_id, sizeof out->run_id);
    out->payload_json = PQgetisnull(r, 0, 4) ? NULL : xstrdup(PQgetvalue(r, 0, 4));
    out->attempts = (int)pg_store_int(r, 0, 5);
    out->lease_until_ms = pg_store_int(r, 0, 6);
    PQclear(r);
    if (!out->run_id[0]) return 1;
    if (pg_store_update(s,
                        "UPDATE runs SET status = 'running' WHERE id = $1 AND status = 'pending'",
                        "starting the job's run", PG_ARGS(PG_TEXT(out->run_id)), NULL, e))
        return -1;
    return 1;
}

int pg_store_job_claim(void *conn, const char *worker, int64_t lease_ms, struct store_job *out,
                       struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    int r = pg_store_end(s, claim_next(s, worker, lease_ms, out, e), e);
    if (r < 0) {
        free(out->payload_json);
        memset(out, 0, sizeof *out);
    }
    return r;
}

static int update_job(struct pg_store *s, const char *sql, const char *what,
                      const struct pg_arg *args, size_t n, struct job_row *job, struct err *e)
{
    int64_t changed = 0;
    if (pg_store_update(s, sql, what, args, n, &changed, e)) return -1;
    if (changed) return 0;
    int found = job_row(s, JOB_ROW "id = $1", args, 1, job, e);
    return found < 0 ? -1 : 2 - found;
}

int pg_store_job_heartbeat(void *conn, int64_t job_id, const char *worker, int64_t lease_ms,
                           struct err *e)
{
    struct job_row job;
    int r = update_job(
        conn,
        "UPDATE jobs SET lease_until_ms = $3 + $4, updated_ms = $3"
        " WHERE id = $1 AND worker = $2 AND status = 'running'",
        "extending job lease",
        PG_ARGS(PG_INT(job_id), PG_TEXT(worker), PG_INT(time_now_ms()), PG_INT(lease_ms)), &job, e);
    if (r <= 0) return r;
    if (r == 1 && str_eq(job.status, "running"))
        return err_set_field(e, ERR_CONFLICT, "job_id",
                             "job %lld is no longer held by worker %s: lease lost to worker %s",
                             (long long)job_id, worker, job.worker);
    return err_set_field(e, ERR_CONFLICT, "job_id", "job %lld is no longer held by worker %s: %s",
                         (long long)job_id, worker, r == 2 ? "it no longer exists" : job.status);
}

int pg_store_job_finish(void *conn, int64_t job_id, const char *status, struct err *e)
{
    struct job_row job;
    int r = update_job(conn,
                       "UPDATE jobs SET status = $2, lease_until_ms = NULL, updated_ms = $3"
                       " WHERE id = $1 AND status " ACTIVE,
                       "finishing job",
                       PG_ARGS(PG_INT(job_id), PG_TEXT(status), PG_INT(time_now_ms())), &job, e);
    if (r <= 0) return r;
    if (r == 2)
        return err_set_field(e, ERR_NOT_FOUND, "job_id", "job %lld not found", (long long)job_id);
    return err_set_field(e, ERR_CONFLICT, "status", "job %lld is already %s", (long long)job_id,
                         job.status);
}

static int cancel(struct pg_store *s, const char *task, const char *kind, struct err *e)
{
    int64_t now = time_now_ms(), ended = 0;
    struct job_row job;
    char line[64];
    if (pg_store_lock(s, JOBS_LOCK, task, e)) return -1;
    int found = active_job(s, task, kind, &job, e);
    if (found <= 0) return found;
    snprintf(line, sizeof line, "cancelled while its job was %s", job.status);
    if (pg_store_update(s,
                        "UPDATE jobs SET status = 'cancelled', lease_until_ms = NULL,"
                        " updated_ms = $2 WHERE id = $1",
                        "cancelling job", PG_ARGS(PG_INT(job.id), PG_INT(now)), NULL, e) ||
        pg_store_update(s,
                        "UPDATE runs SET status = 'cancelled', ended_ms = $2"
                        " WHERE id = $1 AND ended_ms IS NULL",
                        "cancelling the job's run", PG_ARGS(PG_TEXT(job.run_id), PG_INT(now)),
                        &ended, e) ||
        (ended && pg_store_run_log(s, job.run_id, line, e)))
        return -1;
    return 1;
}

int pg_store_job_cancel(void *conn, const char *task, const char *kind, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, cancel(s, task, kind, e), e);
}

json_t *pg_store_jobs_list(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_INT},      {"task", PGC_TEXT},        {"kind", PGC_TEXT},
        {"run_id", PGC_TEXT}, {"status", PGC_TEXT},      {"attempts", PGC_INT},
        {"worker", PGC_TEXT}, {"lease_until", PGC_TIME}, {"created_at", PGC_TIME},
    };
    return pg_store_query_list(conn,
                               "SELECT id, task, kind, run_id, status, attempts, worker,"
                               " lease_until_ms, created_ms FROM jobs"
                               " WHERE $1::text IS NULL OR task = $1"
                               " ORDER BY created_ms DESC, id DESC",
                               "listing jobs", task, PG_COLS(cols), e);
}

#define REAPABLE                                                                                   \
    "status IN ('pending', 'running')"                                                             \
    " AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = runs.id)"                                  \
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = runs.id AND j.status " ACTIVE ")"

static int reap(struct pg_store *s, int64_t now, int64_t *n_reaped, struct err *e)
{
    /* one reaper at a time, so a run is logged as reaped once */
    if (pg_store_lock(s, JOBS_LOCK, "reaper", e) ||
        pg_store_update(
            s,
            "INSERT INTO run_logs(run_id, ts_ms, line)"
            " SELECT id, $1, $2 FROM runs WHERE " REAPABLE,
            "logging reaped runs",
            PG_ARGS(PG_INT(now), PG_TEXT("reaped: its job ended without finishing the run")), NULL,
            e))
        return -1;
    return pg_store_update(s, "UPDATE runs SET status = 'failed', ended_ms = $1 WHERE " REAPABLE,
                           "reaping runs", PG_ARGS(PG_INT(now)), n_reaped, e);
}

int pg_store_runs_reap(void *conn, int64_t *n_reaped, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, reap(s, time_now_ms(), n_reaped, e), e);
}

int pg_store_task_times(void *conn, const char *task, int64_t *last_retrain_ms,
                        int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e)
{
    int64_t t[3] = {0, 0, 0};
    if (pg_store_query_ints(
            conn,
            "SELECT"
            " (SELECT coalesce(max(started_ms), 0) FROM runs WHERE task = $1 AND kind = 'retrain'),"
            " (SELECT coalesce(max(ts_ms), 0) FROM alias_history"
            "   WHERE task = $1 AND alias = 'champion'),"
            " (SELECT coalesce(max(created_ms), 0) FROM datasets"
            "   WHERE task = $1 AND (source IS NULL OR source NOT LIKE 'feedback:%'))",
            "reading the task's loop times", PG_ARGS(PG_TEXT(task)), t, 3, e) < 0)
        return -1;
    *last_retrain_ms = t[0];
    *last_deploy_ms = t[1];
    *last_import_ms = t[2];
    return 0;
}
