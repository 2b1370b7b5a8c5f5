/* SQLite backend: the job queue and the retrain loop's bookkeeping. A job
 * executes one run; a worker claims it with a lease and keeps the lease with
 * heartbeats, and a lease that expires (its worker died) makes the job
 * claimable again. Every claim is one BEGIN IMMEDIATE transaction, so two
 * workers, in one process or several, never get the same job. */
#include "store/sqlite_store.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

/* The statuses of a job that holds its task's slot: "status " ACTIVE. */
#define ACTIVE "IN ('queued', 'running')"

/* A job as the checks below read it. */
struct job_row {
    int64_t id;
    char status[16];
    char worker[128];
    char run_id[40];
};
#define JOB_ROW "SELECT id, status, worker, run_id FROM jobs WHERE "

/* 1 with the first job `sql` (a JOB_ROW query) selects, 0 when there is
 * none, -1 on error. */
static int job_row(struct sqlite_store *s, const char *sql, const struct sqlite_arg *args, size_t n,
                   struct job_row *out, struct err *e)
{
    const char *what = "reading job";
    sqlite3_stmt *st = sqlite_store_prepare_args(s, sql, what, args, n, e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        out->id = sqlite3_column_int64(st, 0);
        sqlite_store_col_copy(st, 1, out->status, sizeof out->status);
        sqlite_store_col_copy(st, 2, out->worker, sizeof out->worker);
        sqlite_store_col_copy(st, 3, out->run_id, sizeof out->run_id);
    }
    sqlite3_finalize(st);
    return r;
}

/* The task's queued or running job of `kind` (1), or none (0). The caller
 * holds the transaction. */
static int active_job(struct sqlite_store *s, const char *task, const char *kind,
                      struct job_row *out, struct err *e)
{
    return job_row(s, JOB_ROW "task = ?1 AND kind = ?2 AND status " ACTIVE " ORDER BY id LIMIT 1",
                   SQLITE_ARGS(SQL_TEXT(task), SQL_TEXT(kind)), out, e);
}

/* The enqueue inside the caller's transaction. */
static int enqueue(struct sqlite_store *s, const char *task, const char *kind, const char *trigger,
                   const char *payload_json, char run_id[UUID_STR_LEN], struct err *e)
{
    int64_t now = time_now_ms();
    struct job_row busy;
    int found = active_job(s, task, kind, &busy, e);
    if (found == 1)
        return err_set_field(e, ERR_CONFLICT, "task", "task '%s' already has a %s job %s (run %s)",
                             task, kind, busy.status, busy.run_id);
    if (found < 0) return -1;
    uuid_v4(run_id);
    if (sqlite_store_update(s,
                            "INSERT INTO runs(id, task, kind, status, params_json, started_ms,"
                            " triggered_by) VALUES(?1, ?2, ?3, 'pending', ?4, ?5, ?6)",
                            "creating the job's run",
                            SQLITE_ARGS(SQL_TEXT(run_id), SQL_TEXT(task), SQL_TEXT(kind),
                                        SQL_TEXT(payload_json), SQL_INT(now), SQL_TEXT(trigger)),
                            NULL, e))
        return -1;
    return sqlite_store_update(s,
                               "INSERT INTO jobs(task, kind, status, payload_json, created_ms,"
                               " updated_ms, run_id) VALUES(?1, ?2, 'queued', ?3, ?4, ?4, ?5)",
                               "queueing job",
                               SQLITE_ARGS(SQL_TEXT(task), SQL_TEXT(kind), SQL_TEXT(payload_json),
                                           SQL_INT(now), SQL_TEXT(run_id)),
                               NULL, e);
}

int sqlite_store_job_enqueue(void *conn, const char *task, const char *kind, const char *trigger,
                             const char *payload_json, char run_id_out[40], struct err *e)
{
    struct sqlite_store *s = conn;
    char run_id[UUID_STR_LEN];
    if (sqlite_store_begin(s, e) ||
        sqlite_store_end(s, enqueue(s, task, kind, trigger, payload_json, run_id, e), e))
        return -1;
    memcpy(run_id_out, run_id, sizeof run_id);
    return 0;
}

/* Fills `out` from the claim's RETURNING row. */
static void read_job(sqlite3_stmt *st, struct store_job *out)
{
    out->id = sqlite3_column_int64(st, 0);
    sqlite_store_col_copy(st, 1, out->task, sizeof out->task);
    sqlite_store_col_copy(st, 2, out->kind, sizeof out->kind);
    sqlite_store_col_copy(st, 3, out->run_id, sizeof out->run_id);
    const char *payload = (const char *)sqlite3_column_text(st, 4);
    out->payload_json = payload ? xstrdup(payload) : NULL;
    out->attempts = sqlite3_column_int(st, 5);
    out->lease_until_ms = sqlite3_column_int64(st, 6);
}

/* The claim proper, inside the caller's transaction: 1 claimed, 0 none. */
static int claim_next(struct sqlite_store *s, const char *worker, int64_t lease_ms,
                      struct store_job *out, struct err *e)
{
    const char *what = "claiming a job";
    int64_t now = time_now_ms();
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s,
        "UPDATE jobs SET status = 'running', worker = ?1, lease_until_ms = ?2 + ?3,"
        " attempts = attempts + 1, updated_ms = ?2"
        " WHERE id = (SELECT id FROM jobs WHERE status = 'queued'"
        "   OR (status = 'running' AND lease_until_ms < ?2) ORDER BY created_ms, id LIMIT 1)"
        " RETURNING id, task, kind, run_id, payload_json, attempts, lease_until_ms",
        what, SQLITE_ARGS(SQL_TEXT(worker), SQL_INT(now), SQL_INT(lease_ms)), e);
    if (!st) return -1;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) read_job(st, out);
    /* RETURNING rows are computed before the statement ends: step to done. */
    if (r == 1 && sqlite_store_next(s, st, what, e) != 0) r = -1;
    sqlite3_finalize(st);
    if (r != 1 || !out->run_id[0]) return r;
    if (sqlite_store_update(
            s, "UPDATE runs SET status = 'running' WHERE id = ?1 AND status = 'pending'",
            "starting the job's run", SQLITE_ARGS(SQL_TEXT(out->run_id)), NULL, e))
        return -1;
    return 1;
}

int sqlite_store_job_claim(void *conn, const char *worker, int64_t lease_ms, struct store_job *out,
                           struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    int r = sqlite_store_end(s, claim_next(s, worker, lease_ms, out, e), e);
    if (r < 0) { /* claimed, then the commit failed: nothing was */
        free(out->payload_json);
        memset(out, 0, sizeof *out);
    }
    return r;
}

/* A guarded UPDATE of job ?1 (the guard says who may change it, and from
 * which status). 0 when it changed the job; else, to say why not, 1 with the
 * job as it stands in *job, or 2 when there is no such job; -1 on error. */
static int update_job(struct sqlite_store *s, const char *sql, const char *what,
                      const struct sqlite_arg *args, size_t n, struct job_row *job, struct err *e)
{
    int64_t changed = 0;
    if (sqlite_store_update(s, sql, what, args, n, &changed, e)) return -1;
    if (changed) return 0;
    int found = job_row(s, JOB_ROW "id = ?1", args, 1, job, e);
    return found < 0 ? -1 : 2 - found;
}

int sqlite_store_job_heartbeat(void *conn, int64_t job_id, const char *worker, int64_t lease_ms,
                               struct err *e)
{
    struct job_row job;
    int r = update_job(
        conn,
        "UPDATE jobs SET lease_until_ms = ?3 + ?4, updated_ms = ?3"
        " WHERE id = ?1 AND worker = ?2 AND status = 'running'",
        "extending job lease",
        SQLITE_ARGS(SQL_INT(job_id), SQL_TEXT(worker), SQL_INT(time_now_ms()), SQL_INT(lease_ms)),
        &job, e);
    if (r <= 0) return r;
    /* Say why, so the worker's log tells a cancel from a lost lease. */
    if (r == 1 && str_eq(job.status, "running"))
        return err_set_field(e, ERR_CONFLICT, "job_id",
                             "job %lld is no longer held by worker %s: lease lost to worker %s",
                             (long long)job_id, worker, job.worker);
    return err_set_field(e, ERR_CONFLICT, "job_id", "job %lld is no longer held by worker %s: %s",
                         (long long)job_id, worker, r == 2 ? "it no longer exists" : job.status);
}

int sqlite_store_job_finish(void *conn, int64_t job_id, const char *status, struct err *e)
{
    struct job_row job;
    /* A job ends once: a worker finishing a job cancelled under it must not
     * turn "cancelled" into "failed". */
    int r =
        update_job(conn,
                   "UPDATE jobs SET status = ?2, lease_until_ms = NULL, updated_ms = ?3"
                   " WHERE id = ?1 AND status " ACTIVE,
                   "finishing job",
                   SQLITE_ARGS(SQL_INT(job_id), SQL_TEXT(status), SQL_INT(time_now_ms())), &job, e);
    if (r <= 0) return r;
    if (r == 2)
        return err_set_field(e, ERR_NOT_FOUND, "job_id", "job %lld not found", (long long)job_id);
    return err_set_field(e, ERR_CONFLICT, "status", "job %lld is already %s", (long long)job_id,
                         job.status);
}

/* The cancel inside the caller's transaction: 1 cancelled, 0 none. */
static int cancel(struct sqlite_store *s, const char *task, const char *kind, struct err *e)
{
    int64_t now = time_now_ms(), ended = 0;
    struct job_row job;
    char line[64];
    int found = active_job(s, task, kind, &job, e);
    if (found <= 0) return found;
    snprintf(line, sizeof line, "cancelled while its job was %s", job.status);
    if (sqlite_store_update(s,
                            "UPDATE jobs SET status = 'cancelled', lease_until_ms = NULL,"
                            " updated_ms = ?2 WHERE id = ?1",
                            "cancelling job", SQLITE_ARGS(SQL_INT(job.id), SQL_INT(now)), NULL,
                            e) ||
        sqlite_store_update(s,
                            "UPDATE runs SET status = 'cancelled', ended_ms = ?2"
                            " WHERE id = ?1 AND ended_ms IS NULL",
                            "cancelling the job's run",
                            SQLITE_ARGS(SQL_TEXT(job.run_id), SQL_INT(now)), &ended, e) ||
        (ended && sqlite_store_run_log(s, job.run_id, line, e)))
        return -1;
    return 1;
}

int sqlite_store_job_cancel(void *conn, const char *task, const char *kind, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, cancel(s, task, kind, e), e);
}

json_t *sqlite_store_jobs_list(void *conn, const char *task, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_INT},      {"task", COL_TEXT},        {"kind", COL_TEXT},
        {"run_id", COL_TEXT}, {"status", COL_TEXT},      {"attempts", COL_INT},
        {"worker", COL_TEXT}, {"lease_until", COL_TIME}, {"created_at", COL_TIME},
    };
    return sqlite_store_query_list(
        conn,
        "SELECT id, task, kind, run_id, status, attempts, worker,"
        " lease_until_ms, created_ms FROM jobs"
        " WHERE ?1 IS NULL OR task = ?1 ORDER BY created_ms DESC, id DESC",
        "listing jobs", task, SQLITE_COLS(cols), e);
}

/* Runs the queue started (they have a job) that are still open although no
 * job of theirs is queued or running. Runs without any job (a one-shot
 * `boucle train` from the CLI) are left alone: they may be in progress. */
#define REAPABLE                                                                                   \
    "status IN ('pending', 'running')"                                                             \
    " AND EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = runs.id)"                                  \
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run_id = runs.id AND j.status " ACTIVE ")"

int sqlite_store_runs_reap(void *conn, int64_t *n_reaped, struct err *e)
{
    struct sqlite_store *s = conn;
    int64_t now = time_now_ms();
    if (sqlite_store_begin(s, e)) return -1;
    int r = sqlite_store_update(s,
                                "INSERT INTO run_logs(run_id, ts_ms, line)"
                                " SELECT id, ?1, ?2 FROM runs WHERE " REAPABLE,
                                "logging reaped runs",
                                SQLITE_ARGS(SQL_INT(now), SQL_TEXT("reaped: its job ended without "
                                                                   "finishing the run")),
                                NULL, e);
    if (r == 0)
        r = sqlite_store_update(s,
                                "UPDATE runs SET status = 'failed', ended_ms = ?1 WHERE " REAPABLE,
                                "reaping runs", SQLITE_ARGS(SQL_INT(now)), n_reaped, e);
    return sqlite_store_end(s, r, e);
}

int sqlite_store_task_times(void *conn, const char *task, int64_t *last_retrain_ms,
                            int64_t *last_deploy_ms, int64_t *last_import_ms, struct err *e)
{
    int64_t t[3] = {0, 0, 0};
    /* Datasets built from feedback (source "feedback:...") are the loop's
     * own output, not imports: they must not re-fire the new_data trigger. */
    if (sqlite_store_query_ints(
            conn,
            "SELECT"
            " (SELECT coalesce(max(started_ms), 0) FROM runs WHERE task = ?1 AND kind = 'retrain'),"
            " (SELECT coalesce(max(ts_ms), 0) FROM alias_history"
            "   WHERE task = ?1 AND alias = 'champion'),"
            " (SELECT coalesce(max(created_ms), 0) FROM datasets"
            "   WHERE task = ?1 AND (source IS NULL OR source NOT GLOB 'feedback:*'))",
            "reading the task's loop times", SQLITE_ARGS(SQL_TEXT(task)), t, 3, e) < 0)
        return -1;
    *last_retrain_ms = t[0];
    *last_deploy_ms = t[1];
    *last_import_ms = t[2];
    return 0;
}
