/* Store tests for the automatic loop (issue 3): the job queue with leases,
 * run state, gold feedback selection, the review queue, the loop's times,
 * deploy/rollback, and migration 2 over a populated version-1 database.
 * Each test gets a fresh database: a SQLite file in its own temporary
 * directory, or a PostgreSQL database when BOUCLE_TEST_PG_URL is set
 * (store_test_backend.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "store/store.h"
#include "store_test_backend.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs SQL on the database through a separate raw connection (as another
 * process or an older binary would) and returns column 0 of the last row
 * it produced, or -1 when it produced none. */
static int64_t raw(struct test_store *d, const char *sql)
{
    return test_db_int(&d->db, sql);
}

static json_t *at(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_non_null(v);
    return v;
}

static const char *text(json_t *obj, const char *key)
{
    return json_string_value(at(obj, key));
}

static json_int_t num(json_t *obj, const char *key)
{
    assert_true(json_is_integer(at(obj, key)));
    return json_integer_value(at(obj, key));
}

/* The object's keys are exactly `expected` (comma-separated), in order. */
static void expect_keys(json_t *obj, const char *expected)
{
    char keys[512] = "";
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        (void)value;
        size_t len = strlen(keys);
        snprintf(keys + len, sizeof keys - len, "%s%s", len ? "," : "", key);
    }
    assert_string_equal(keys, expected);
}

/* Row i of a list of n rows, whose keys are `keys`. */
static json_t *row_of(json_t *list, size_t n, size_t i, const char *keys)
{
    assert_int_equal(json_array_size(list), n);
    json_t *row = json_array_get(list, i);
    expect_keys(row, keys);
    return row;
}

static const char *run_status(struct store *s, const char *run_id, char out[32])
{
    struct err e = {0};
    json_t *run = store_run_get(s, run_id, &e);
    assert_non_null(run);
    snprintf(out, 32, "%s", text(run, "status"));
    json_decref(run);
    return out;
}

static void predict(struct store *s, const char *id, const char *label, const char *input)
{
    struct store_prediction p = {id, "tickets", 1, input, label, "{}", 50, 0, 0, NULL};
    struct err e = {0};
    assert_int_equal(store_predictions_add(s, &p, 1, &e), 0);
}

static void feedback(struct store *s, const char *id, const char *prediction, int score,
                     const char *label, int64_t created_ms)
{
    struct store_feedback fb = {id, prediction, score, label, NULL, created_ms};
    struct err e = {0};
    assert_int_equal(store_feedback_add(s, &fb, &e), 0);
}

/* The task's unused gold feedback count and review queue length. */
static void expect_signal(struct store *s, const char *task, int64_t gold, size_t review)
{
    struct err e = {0};
    int64_t n = -1;
    assert_int_equal(store_feedback_gold_unused_count(s, task, &n, &e), 0);
    assert_int_equal(n, gold);
    json_t *queue = store_review_queue(s, task, 0, &e);
    assert_int_equal(json_array_size(queue), review);
    json_decref(queue);
}

/* ---- jobs ---- */

static void test_enqueue_claim_finish(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    char run[40], other[40];
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", "manual: cli",
                                       "{\"reason\":\"test\"}", run, &e),
                     0);
    assert_true(uuid_is_valid(run));
    json_t *r = store_run_get(d->s, run, &e);
    assert_string_equal(text(r, "status"), "pending");
    assert_string_equal(text(r, "kind"), "retrain");
    assert_string_equal(text(r, "trigger"), "manual: cli");
    assert_string_equal(text(at(r, "params"), "reason"), "test");
    json_decref(r);

    /* one queued-or-running job of a kind per task */
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, other, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, run));
    assert_non_null(strstr(e.msg, "queued"));
    assert_int_equal(store_job_enqueue(d->s, "spam", "retrain", NULL, NULL, other, &e), 0);
    assert_int_equal(store_job_enqueue(d->s, "tickets", "export", NULL, NULL, other, &e), 0);
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, "{bad", other, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);

    struct store_job job = {0};
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &job, &e), 1);
    assert_string_equal(job.task, "tickets"); /* the oldest first */
    assert_string_equal(job.kind, "retrain");
    assert_string_equal(job.run_id, run);
    assert_string_equal(job.payload_json, "{\"reason\":\"test\"}");
    assert_int_equal(job.attempts, 1);
    assert_true(job.lease_until_ms > time_now_ms() + 50000);
    char status[32];
    assert_string_equal(run_status(d->s, run, status), "running");
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, other, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "running"));

    assert_int_equal(store_job_heartbeat(d->s, job.id, "w1", 60000, &e), 0);
    assert_int_equal(store_job_heartbeat(d->s, job.id, "w2", 60000, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);

    json_t *jobs = store_jobs_list(d->s, "tickets", &e);
    json_t *mine =
        row_of(jobs, 2, 1, "id,task,kind,run_id,status,attempts,worker,lease_until,created_at");
    assert_string_equal(text(mine, "status"), "running");
    assert_string_equal(text(mine, "worker"), "w1");
    assert_true(json_is_string(at(mine, "lease_until")));
    json_decref(jobs);

    struct store_job more[2] = {{0}};
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &more[0], &e), 1);
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &more[1], &e), 1);
    struct store_job none = {0};
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &none, &e), 0);
    assert_int_equal(none.id, 0);
    assert_null(none.payload_json);

    assert_int_equal(store_job_finish(d->s, job.id, "completed", &e), 0);
    assert_int_equal(store_job_finish(d->s, job.id, "failed", &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_job_finish(d->s, 999, "failed", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_job_finish(d->s, more[0].id, "done", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_job_heartbeat(d->s, job.id, "w1", 60000, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "no longer held by worker w1: completed"));
    /* finished: the task may queue a retrain again */
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, other, &e), 0);
    assert_string_not_equal(other, run);

    store_job_clear(&job);
    store_job_clear(&more[0]);
    store_job_clear(&more[1]);
    assert_null(job.payload_json);
}

static void test_expired_lease_reclaimed(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    char run[40], status[32];
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", "schedule", NULL, run, &e), 0);
    struct store_job a = {0}, b = {0};
    assert_int_equal(store_job_claim(d->s, "worker-a", 1, &a, &e), 1);
    assert_null(a.payload_json);
    time_sleep_ms(5); /* worker-a dies: no heartbeat */
    assert_int_equal(store_job_claim(d->s, "worker-b", 60000, &b, &e), 1);
    assert_int_equal(b.id, a.id);
    assert_int_equal(b.attempts, 2);
    assert_string_equal(b.run_id, run);
    assert_int_equal(store_job_heartbeat(d->s, a.id, "worker-a", 60000, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "lease lost"));
    assert_int_equal(store_job_heartbeat(d->s, b.id, "worker-b", 60000, &e), 0);
    assert_string_equal(run_status(d->s, run, status), "running");
    /* a live lease is not taken */
    struct store_job c = {0};
    assert_int_equal(store_job_claim(d->s, "worker-c", 60000, &c, &e), 0);

    store_job_clear(&a);
    store_job_clear(&b);
}

static void test_cancel(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    char run[40], queued_run[40], status[32];
    assert_int_equal(store_job_cancel(d->s, "tickets", "retrain", &e), 0);
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, run, &e), 0);
    struct store_job job = {0};
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &job, &e), 1);
    assert_int_equal(store_job_cancel(d->s, "tickets", "retrain", &e), 1);
    assert_int_equal(store_job_heartbeat(d->s, job.id, "w1", 60000, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_non_null(strstr(e.msg, "cancelled"));
    json_t *r = store_run_get(d->s, run, &e);
    assert_string_equal(text(r, "status"), "cancelled");
    assert_true(json_is_string(at(r, "ended_at")));
    json_decref(r);
    /* the worker finds out and ends its job: it stays cancelled */
    assert_int_equal(store_job_finish(d->s, job.id, "failed", &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_job_cancel(d->s, "tickets", "retrain", &e), 0);

    /* a queued job too */
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, queued_run, &e), 0);
    assert_int_equal(store_job_cancel(d->s, "tickets", "retrain", &e), 1);
    assert_string_equal(run_status(d->s, queued_run, status), "cancelled");
    struct store_job none = {0};
    assert_int_equal(store_job_claim(d->s, "w1", 60000, &none, &e), 0);
    store_job_clear(&job);
}

static void test_reap(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    char dead[40], live[40], queued[40], status[32];
    int64_t n = -1;
    assert_int_equal(store_runs_reap(d->s, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_job_enqueue(d->s, "a", "retrain", NULL, NULL, dead, &e), 0);
    assert_int_equal(store_job_enqueue(d->s, "b", "retrain", NULL, NULL, live, &e), 0);
    struct store_job j1 = {0}, j2 = {0};
    assert_int_equal(store_job_claim(d->s, "w", 60000, &j1, &e), 1);
    assert_int_equal(store_job_claim(d->s, "w", 60000, &j2, &e), 1);
    assert_int_equal(store_job_enqueue(d->s, "c", "retrain", NULL, NULL, queued, &e), 0);
    /* the worker ended the job of `dead` but died before finishing its run */
    assert_int_equal(store_job_finish(d->s, j1.id, "failed", &e), 0);
    /* a one-shot CLI training has no job: it may be in progress */
    assert_int_equal(store_run_create(d->s, "cli-run", "a", "train", NULL, &e), 0);

    assert_int_equal(store_runs_reap(d->s, &n, &e), 0);
    assert_int_equal(n, 1);
    json_t *r = store_run_get(d->s, dead, &e);
    assert_string_equal(text(r, "status"), "failed");
    assert_true(json_is_string(at(r, "ended_at")));
    assert_string_equal(json_string_value(json_array_get(at(r, "logs"), 0)),
                        "reaped: its job ended without finishing the run");
    json_decref(r);
    assert_string_equal(run_status(d->s, live, status), "running");
    assert_string_equal(run_status(d->s, queued, status), "pending");
    assert_string_equal(run_status(d->s, "cli-run", status), "running");
    assert_int_equal(store_runs_reap(d->s, NULL, &e), 0);
    assert_int_equal(store_runs_reap(d->s, &n, &e), 0);
    assert_int_equal(n, 0);
    store_job_clear(&j1);
    store_job_clear(&j2);
}

/* ---- run state ---- */

static void test_run_state(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    char run[40];
    assert_int_equal(
        store_job_enqueue(d->s, "tickets", "retrain", "feedback_count: 12 >= 10", NULL, run, &e),
        0);
    json_t *r = store_run_get(d->s, run, &e);
    /* the keys run_get always had, in their order; the new ones after */
    expect_keys(r, "id,task,kind,status,params,metrics,started_at,ended_at,logs,state,"
                   "steps,trigger");
    assert_int_equal(json_object_size(at(r, "state")), 0);
    assert_int_equal(json_array_size(at(r, "steps")), 0);
    json_decref(r);

    json_t *patch = json_pack("{s:i,s:s}", "challenger", 3, "dataset", "abc");
    assert_int_equal(store_run_state_merge(d->s, run, patch, &e), 0);
    json_decref(patch);
    patch = json_pack("{s:s,s:{s:b}}", "dataset", "def", "decision", "deploy", 1);
    assert_int_equal(store_run_state_merge(d->s, run, patch, &e), 0);
    json_decref(patch);
    json_t *steps =
        json_pack("[{s:s,s:s,s:i}]", "name", "prepare", "status", "completed", "attempts", 1);
    assert_int_equal(store_run_steps_set(d->s, run, steps, &e), 0);
    assert_int_equal(store_run_steps_set(d->s, "nope", steps, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_int_equal(store_run_state_merge(d->s, "nope", steps, &e), -1);
    assert_int_equal(e.code, ERR_INVALID); /* not an object */
    json_decref(steps);
    patch = json_object();
    assert_int_equal(store_run_state_merge(d->s, "nope", patch, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    json_decref(patch);

    r = store_run_get(d->s, run, &e);
    json_t *st = at(r, "state");
    assert_int_equal(num(st, "challenger"), 3);
    assert_string_equal(text(st, "dataset"), "def");
    assert_true(json_is_true(at(at(st, "decision"), "deploy")));
    assert_string_equal(text(json_array_get(at(r, "steps"), 0), "name"), "prepare");
    assert_string_equal(text(r, "trigger"), "feedback_count: 12 >= 10");
    json_decref(r);

    json_t *list = store_runs_list(d->s, "tickets", 0, &e);
    row_of(list, 1, 0, "id,task,kind,status,params,metrics,started_at,ended_at,trigger");
    json_decref(list);

    char status[32];
    assert_int_equal(store_run_status_set(d->s, run, "running", &e), 0);
    assert_string_equal(run_status(d->s, run, status), "running");
    assert_int_equal(store_run_status_set(d->s, run, "completed", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_int_equal(store_run_finish(d->s, run, "completed", NULL, &e), 0);
    assert_int_equal(store_run_status_set(d->s, run, "running", &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_run_status_set(d->s, "nope", "running", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
}

/* ---- feedback as training signal ---- */

static void test_gold_and_review(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    predict(d->s, "p1", "bug", "{\"text\":\"one\"}");
    predict(d->s, "p2", "bug", "{\"text\":\"two\"}");
    predict(d->s, "p3", "bug", "{\"text\":\"three\"}");
    predict(d->s, "p4", "bug", "{\"text\":\"four\"}");
    predict(d->s, "p5", "bug", "{\"text\":\"five\"}");
    predict(d->s, "p6", "bug", "{\"text\":\"six\"}");
    feedback(d->s, "f1a", "p1", -1, NULL, 1000);
    feedback(d->s, "f1b", "p1", -1, "feature", 2000); /* the correction wins */
    feedback(d->s, "f2", "p2", 1, NULL, 1500);        /* confirms "bug" */
    feedback(d->s, "f3", "p3", -1, NULL, 3000);       /* review, not gold */
    feedback(d->s, "f4a", "p4", 0, "question", 1000);
    feedback(d->s, "f4b", "p4", -1, NULL, 4000); /* the later complaint wins */
    feedback(d->s, "f5", "p5", 0, NULL, 1000);   /* neither */
    feedback(d->s, "f6a", "p6", 1, NULL, 5000);
    feedback(d->s, "f6b", "p6", -1, NULL, 5000); /* same time: inserted later wins */

    json_t *gold = store_feedback_gold_unused(d->s, "tickets", &e);
    json_t *g = row_of(gold, 2, 0, "feedback_id,prediction_id,input,label,created_at");
    assert_string_equal(text(g, "feedback_id"), "f2");
    assert_string_equal(text(g, "label"), "bug");
    assert_string_equal(text(at(g, "input"), "text"), "two");
    g = json_array_get(gold, 1);
    assert_string_equal(text(g, "feedback_id"), "f1b");
    assert_string_equal(text(g, "prediction_id"), "p1");
    assert_string_equal(text(g, "label"), "feature");
    json_decref(gold);
    expect_signal(d->s, "tickets", 2, 3);
    expect_signal(d->s, "spam", 0, 0);

    json_t *review = store_review_queue(d->s, "tickets", 0, &e);
    json_t *first = row_of(review, 3, 0, "prediction_id,input,label,score,comment,created_at");
    assert_string_equal(text(first, "prediction_id"), "p6");
    assert_string_equal(text(json_array_get(review, 1), "prediction_id"), "p4");
    assert_string_equal(text(json_array_get(review, 2), "prediction_id"), "p3");
    assert_string_equal(text(first, "label"), "bug");
    assert_int_equal(num(first, "score"), -1);
    json_decref(review);
    review = store_review_queue(d->s, "tickets", 1, &e);
    assert_int_equal(json_array_size(review), 1);
    json_decref(review);

    /* a reviewer answers p3: out of review, into gold */
    feedback(d->s, "f3b", "p3", 0, "feature", 6000);
    expect_signal(d->s, "tickets", 3, 2);

    /* marking: all or nothing */
    assert_int_equal(store_run_create(d->s, "r1", "tickets", "retrain", NULL, &e), 0);
    const char *bad[] = {"f2", "no-such-feedback"};
    assert_int_equal(store_feedback_mark_used(d->s, bad, 2, "r1", "train", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "feedback_id");
    const char *ids[] = {"f2", "f1b"};
    assert_int_equal(store_feedback_mark_used(d->s, ids, 2, "no-run", "train", &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "run_id");
    assert_int_equal(store_feedback_mark_used(d->s, ids, 2, "r1", "test", &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    expect_signal(d->s, "tickets", 3, 2);
    assert_int_equal(store_feedback_mark_used(d->s, ids, 1, "r1", "train", &e), 0);
    assert_int_equal(store_feedback_mark_used(d->s, ids + 1, 1, "r1", "holdout", &e), 0);
    assert_int_equal(store_feedback_mark_used(d->s, NULL, 0, "r1", "train", &e), 0);
    expect_signal(d->s, "tickets", 1, 2);
    json_t *fb = store_feedback_get(d->s, "f1b", &e);
    assert_string_equal(text(fb, "used_for_training_run"), "r1");
    json_decref(fb);
    assert_int_equal(raw(d, "SELECT count(*) FROM feedback WHERE used_role = 'holdout'"
                            " AND id = 'f1b'"),
                     1);
    /* a new correction of a used prediction is new gold */
    feedback(d->s, "f2b", "p2", -1, "feature", 7000);
    expect_signal(d->s, "tickets", 2, 2);
}

static void test_satisfaction_and_export(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    predict(d->s, "p1", "bug", "{\"text\":\"one\"}");
    predict(d->s, "p2", "feature", "{\"text\":\"two\"}");
    feedback(d->s, "f1", "p1", 1, NULL, 1000);
    feedback(d->s, "f2", "p1", -1, "feature", 2000);
    feedback(d->s, "f3", "p2", 0, NULL, 3000);
    feedback(d->s, "f4", "p2", 1, NULL, 4000);
    feedback(d->s, "f5", "p2", 1, NULL, 5000);

    int64_t scored = -1, positive = -1;
    assert_int_equal(store_feedback_satisfaction(d->s, "tickets", 0, &scored, &positive, &e), 0);
    assert_int_equal(scored, 4); /* score 0 is not a score */
    assert_int_equal(positive, 3);
    assert_int_equal(store_feedback_satisfaction(d->s, "tickets", 2000, &scored, &positive, &e), 0);
    assert_int_equal(scored, 3);
    assert_int_equal(positive, 2);
    assert_int_equal(store_feedback_satisfaction(d->s, "tickets", 9000, &scored, &positive, &e), 0);
    assert_int_equal(scored, 0);
    assert_int_equal(positive, 0);

    json_t *rows = store_feedback_export(d->s, "tickets", &e);
    json_t *row = row_of(rows, 5, 1, "input,predicted,label,score,created_at");
    assert_string_equal(text(at(row, "input"), "text"), "one");
    assert_string_equal(text(row, "predicted"), "bug");
    assert_string_equal(text(row, "label"), "feature");
    assert_int_equal(num(row, "score"), -1);
    assert_true(json_is_null(at(json_array_get(rows, 0), "label")));
    assert_int_equal(num(json_array_get(rows, 4), "score"), 1);
    assert_string_equal(text(json_array_get(rows, 4), "predicted"), "feature");
    json_decref(rows);
    rows = store_feedback_export(d->s, "spam", &e);
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

/* ---- loop times, deploy and rollback ---- */

static void add_versions(struct store *s, const char *task, int n)
{
    struct store_model_version v = {task, NULL, "dh", "ch", "linear", "model", 5, NULL, NULL, NULL};
    struct err e = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(store_model_add(s, &v, NULL, &e), 0);
}

static void test_task_times(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    int64_t retrain = -1, deploy = -1, import = -1;
    assert_int_equal(store_task_times(d->s, "tickets", &retrain, &deploy, &import, &e), 0);
    assert_int_equal(retrain + deploy + import, 0);

    struct store_example ex = {"{\"text\":\"a\"}", "bug", 0, 1};
    assert_int_equal(store_dataset_add(d->s, "tickets", "h1", "data/tickets.csv", &ex, 1, NULL, &e),
                     0);
    assert_int_equal(store_dataset_add(d->s, "tickets", "h2", "feedback:run-1", &ex, 1, NULL, &e),
                     0);
    assert_int_equal(store_dataset_add(d->s, "spam", "h3", "x.csv", &ex, 1, NULL, &e), 0);
    raw(d, "UPDATE datasets SET created_ms = 1000 WHERE hash = 'h1';"
           "UPDATE datasets SET created_ms = 9000 WHERE hash IN ('h2', 'h3')");
    assert_int_equal(store_run_create(d->s, "train-1", "tickets", "train", NULL, &e), 0);
    char run[40];
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", NULL, NULL, run, &e), 0);
    raw(d, "UPDATE runs SET started_ms = 2000 WHERE kind = 'retrain';"
           "UPDATE runs SET started_ms = 8000 WHERE kind = 'train'");
    add_versions(d->s, "tickets", 2);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 2, NULL, NULL, &e), 0);
    /* moves of `previous` are not deploys */
    raw(d, "UPDATE alias_history SET ts_ms = CASE alias WHEN 'champion' THEN 3000 + id"
           " ELSE 7000 END");

    assert_int_equal(store_task_times(d->s, "tickets", &retrain, &deploy, &import, &e), 0);
    assert_int_equal(retrain, 2000);
    assert_int_equal(import, 1000);
    assert_int_equal(deploy, 3003); /* the second deploy's champion move */
}

static void test_deploy_rollback(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    add_versions(d->s, "tickets", 3);
    int64_t v = 0;
    assert_int_equal(store_alias_rollback(d->s, "tickets", NULL, NULL, &v, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.msg, "task 'tickets' has no previous version to roll back to");

    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, "first", NULL, &e), 0);
    assert_int_equal(store_alias_get(d->s, "tickets", "previous", &v, &e), 0);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 2, "gate passed: f1 +0.03", "loop", &e),
                     0);
    assert_int_equal(store_alias_get(d->s, "tickets", "champion", &v, &e), 1);
    assert_int_equal(v, 2);
    assert_int_equal(store_alias_get(d->s, "tickets", "previous", &v, &e), 1);
    assert_int_equal(v, 1);

    assert_int_equal(store_alias_deploy(d->s, "tickets", 9, NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.field, "version");
    assert_int_equal(store_alias_deploy(d->s, "tickets", 2, NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 0, NULL, NULL, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);

    int64_t serving = 0;
    assert_int_equal(
        store_alias_rollback(d->s, "tickets", "bad answers", "token:ops", &serving, &e), 0);
    assert_int_equal(serving, 1);
    assert_int_equal(store_alias_get(d->s, "tickets", "champion", &v, &e), 1);
    assert_int_equal(v, 1);
    assert_int_equal(store_alias_get(d->s, "tickets", "previous", &v, &e), 1);
    assert_int_equal(v, 2);
    /* rolling back again goes forward again */
    assert_int_equal(store_alias_rollback(d->s, "tickets", NULL, NULL, &serving, &e), 0);
    assert_int_equal(serving, 2);

    json_t *h = store_alias_history(d->s, "tickets", &e);
    /* deploy 1: champion; deploy 2: previous + champion; two rollbacks: 2 each */
    assert_int_equal(json_array_size(h), 7);
    json_t *last = json_array_get(h, 0);
    assert_string_equal(text(last, "alias"), "previous");
    assert_string_equal(text(last, "reason"), "rollback");
    json_t *rb = json_array_get(h, 3);
    assert_string_equal(text(rb, "alias"), "champion");
    assert_string_equal(text(rb, "reason"), "bad answers");
    assert_string_equal(text(rb, "actor"), "token:ops");
    assert_int_equal(num(rb, "from_version"), 2);
    assert_int_equal(num(rb, "to_version"), 1);
    json_t *dep = json_array_get(h, 4);
    assert_string_equal(text(dep, "alias"), "champion");
    assert_string_equal(text(dep, "reason"), "gate passed: f1 +0.03");
    assert_string_equal(text(dep, "actor"), "loop");
    json_t *moved = json_array_get(h, 5);
    assert_string_equal(text(moved, "alias"), "previous");
    assert_string_equal(text(moved, "actor"), "loop"); /* the deploy moved both */
    assert_int_equal(num(moved, "to_version"), 1);
    assert_true(json_is_null(at(json_array_get(h, 6), "from_version")));
    json_decref(h);
}

/* Champion moves are announced (PostgreSQL: LISTEN/NOTIFY) to a watcher on
 * another handle; SQLite has no notifications: waiting sleeps and says 0. */
static void test_alias_notify(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    const int moved = d->db.pg ? 1 : 0;
    add_versions(d->s, "tickets", 2);
    struct store *watcher = store_open(d->db.url, &e);
    assert_non_null(watcher);
    assert_int_equal(store_listen_aliases(watcher, &e), 0);
    assert_int_equal(store_listen_aliases(watcher, &e), 0); /* once is enough */
    int64_t t0 = time_now_ms();
    assert_int_equal(store_wait_alias_change(watcher, 60, &e), 0);
    assert_true(time_now_ms() - t0 >= 50);

    assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 2, NULL, NULL, &e), 0);
    int64_t serving = 0;
    assert_int_equal(store_alias_rollback(d->s, "tickets", NULL, NULL, &serving, &e), 0);
    time_sleep_ms(100); /* all three delivered: one wait drains them all */
    t0 = time_now_ms();
    assert_int_equal(store_wait_alias_change(watcher, 2000, &e), moved);
    assert_true(time_now_ms() - t0 < (moved ? 500 : 2500));
    assert_int_equal(store_wait_alias_change(watcher, 50, &e), 0);

    /* other aliases, and moves that fail (rolled back), announce nothing */
    assert_int_equal(store_alias_set(d->s, "tickets", "challenger", 2, &e), 0);
    assert_int_equal(store_alias_deploy(d->s, "tickets", 9, NULL, NULL, &e), -1);
    assert_int_equal(store_wait_alias_change(watcher, 100, &e), 0);
    /* a champion set by hand does, to a watcher blocked in the wait */
    assert_int_equal(store_alias_set(d->s, "tickets", "champion", 2, &e), 0);
    assert_int_equal(store_wait_alias_change(watcher, 2000, &e), moved);

    if (d->db.pg) {
        /* the server drops every connection: both handles reconnect by
         * themselves, the watcher says "changed" (moves may have been
         * missed) and listens again */
        raw(d, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
               " WHERE datname = current_database() AND pid <> pg_backend_pid()");
        time_sleep_ms(100);
        assert_int_equal(store_wait_alias_change(watcher, 2000, &e), 1);
        assert_int_equal(store_wait_alias_change(watcher, 50, &e), 0);
        int64_t v = 0;
        assert_int_equal(store_alias_deploy(d->s, "tickets", 1, NULL, NULL, &e), 0);
        assert_int_equal(store_wait_alias_change(watcher, 2000, &e), 1);
        assert_int_equal(store_alias_get(d->s, "tickets", "champion", &v, &e), 1);
        assert_int_equal(v, 1);
    }
    store_close(watcher);
}

/* ---- migration 2 over a version-1 database ---- */

/* Turns the file back into what migration 1 alone made: drops what
 * migration 2 added. jobs.run_id has a foreign key, which DROP COLUMN
 * refuses, so its declaration is cut from the schema text (the table is
 * empty). */
static const char downgrade_to_1[] =
    /* migration 8 (data contract) */
    "ALTER TABLE datasets DROP COLUMN profile_json;"
    "ALTER TABLE datasets DROP COLUMN contract_json;"
    "DELETE FROM schema_migrations WHERE version = 8;"
    /* migration 7 (rollouts) */
    "DROP TABLE rollouts; DROP INDEX predictions_rollout;"
    "ALTER TABLE predictions DROP COLUMN rollout_id;"
    "ALTER TABLE predictions DROP COLUMN shadow_of;"
    "DELETE FROM schema_migrations WHERE version = 7;"
    /* migration 6 (lineage, alias history actor; to_version stays nullable) */
    "ALTER TABLE model_versions DROP COLUMN boucle_version;"
    "ALTER TABLE alias_history DROP COLUMN actor;"
    "DELETE FROM schema_migrations WHERE version = 6;"
    /* migration 5 (latest metrics) */
    "DROP TRIGGER metrics_keep_latest; DROP TABLE latest_metrics;"
    "DELETE FROM schema_migrations WHERE version = 5;"
    /* migration 4 (MLflow registry and artifacts) */
    "DROP TRIGGER model_versions_registered;"
    "DROP TABLE artifacts; DROP TABLE model_version_tags; DROP TABLE registered_model_tags;"
    "DROP TABLE registered_models;"
    "ALTER TABLE model_versions DROP COLUMN description;"
    "ALTER TABLE model_versions DROP COLUMN source;"
    "ALTER TABLE model_versions DROP COLUMN run_link;"
    "ALTER TABLE model_versions DROP COLUMN user_id;"
    "ALTER TABLE model_versions DROP COLUMN stage;"
    "ALTER TABLE model_versions DROP COLUMN updated_ms;"
    "DELETE FROM schema_migrations WHERE version = 4;"
    /* migration 3 (MLflow tracking) */
    "DROP TABLE run_tags; DROP TABLE run_params; DROP TABLE experiment_tags;"
    "DROP INDEX runs_experiment;"
    "ALTER TABLE runs DROP COLUMN run_name;"
    "ALTER TABLE runs DROP COLUMN user_id;"
    "ALTER TABLE runs DROP COLUMN lifecycle_stage;"
    "ALTER TABLE runs DROP COLUMN artifact_uri;"
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(sql, ', experiment_id INTEGER REFERENCES"
    " experiments(id)', '') WHERE name = 'runs';"
    "PRAGMA writable_schema = OFF;"
    "DROP TABLE experiments;"
    "DELETE FROM schema_migrations WHERE version = 3;"
    /* migration 2 */
    "DROP INDEX jobs_one_active; DROP INDEX jobs_run; DROP INDEX runs_open;"
    "ALTER TABLE runs DROP COLUMN state_json;"
    "ALTER TABLE runs DROP COLUMN steps_json;"
    "ALTER TABLE runs DROP COLUMN triggered_by;"
    "ALTER TABLE feedback DROP COLUMN used_role;"
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_master SET sql = replace(sql, ', run_id TEXT REFERENCES runs(id)', '')"
    " WHERE name = 'jobs';"
    "PRAGMA writable_schema = OFF;"
    "DELETE FROM schema_migrations WHERE version = 2;";

static void test_migration_1_to_2(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    if (d->db.pg) skip(); /* rewrites SQLite's schema text */
    /* data written the way a version-1 binary writes it */
    struct store_example ex[2] = {{"{\"text\":\"a\"}", "bug", 0, 1},
                                  {"{\"text\":\"b\"}", "feature", 1, 2}};
    assert_int_equal(store_dataset_add(d->s, "tickets", "h1", "t.csv", ex, 2, NULL, &e), 0);
    assert_int_equal(store_run_create(d->s, "old-run", "tickets", "train", "{\"C\":1}", &e), 0);
    assert_int_equal(store_run_log(d->s, "old-run", "trained", &e), 0);
    assert_int_equal(store_run_finish(d->s, "old-run", "completed", "{\"f1\":0.8}", &e), 0);
    assert_int_equal(store_run_create(d->s, "cli-run", "tickets", "train", NULL, &e), 0);
    add_versions(d->s, "tickets", 2);
    assert_int_equal(store_alias_set(d->s, "tickets", "champion", 1, &e), 0);
    predict(d->s, "p1", "bug", "{\"text\":\"x\"}");
    predict(d->s, "p2", "bug", "{\"text\":\"y\"}");
    feedback(d->s, "f1", "p1", -1, "feature", 1000);
    feedback(d->s, "f2", "p2", -1, NULL, 2000);
    store_close(d->s);
    d->s = NULL;

    raw(d, downgrade_to_1);
    assert_int_equal(raw(d, "SELECT max(version) FROM schema_migrations"), 1);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_table_info('runs')"), 8);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_table_info('jobs')"), 10);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_table_info('feedback')"), 8);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_integrity_check"
                            " WHERE integrity_check <> 'ok'"),
                     0);

    d->s = store_open(d->db.url, &e);
    assert_non_null(d->s);
    assert_int_equal(store_schema_version(d->s), TEST_SCHEMA_VERSION);
    /* migration 8: a version imported before it has no profile */
    assert_int_equal(raw(d, "SELECT count(*) FROM datasets WHERE profile_json IS NULL"), 1);
    /* migration 4 registered the task that already had versions */
    assert_int_equal(raw(d, "SELECT count(*) FROM registered_models WHERE name = 'tickets'"), 1);
    /* migration 6 rebuilt the alias history with its rows and ids */
    assert_int_equal(raw(d, "SELECT count(*) FROM alias_history WHERE id = 1 AND alias = 'champion'"
                            " AND to_version = 1 AND actor IS NULL"),
                     1);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_table_info('alias_history')"
                            " WHERE name = 'to_version' AND \"notnull\" = 0"),
                     1);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_table_info('jobs')"), 11);
    assert_int_equal(raw(d, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

    /* old rows read as before, with the new keys empty */
    json_t *r = store_run_get(d->s, "old-run", &e);
    assert_non_null(r);
    assert_string_equal(text(r, "status"), "completed");
    assert_int_equal(num(at(r, "params"), "C"), 1);
    assert_string_equal(json_string_value(json_array_get(at(r, "logs"), 0)), "trained");
    assert_int_equal(json_object_size(at(r, "state")), 0);
    assert_true(json_is_null(at(r, "trigger")));
    json_decref(r);
    int64_t n = 0;
    assert_int_equal(store_example_count(d->s, "tickets", &n, &e), 0);
    assert_int_equal(n, 2);
    expect_signal(d->s, "tickets", 1, 1);

    /* and the loop works on them */
    assert_int_equal(store_alias_deploy(d->s, "tickets", 2, NULL, NULL, &e), 0);
    int64_t v = 0;
    assert_int_equal(store_alias_get(d->s, "tickets", "previous", &v, &e), 1);
    assert_int_equal(v, 1);
    char run[40];
    assert_int_equal(store_job_enqueue(d->s, "tickets", "retrain", "new_data", NULL, run, &e), 0);
    struct store_job job = {0};
    assert_int_equal(store_job_claim(d->s, "w", 60000, &job, &e), 1);
    assert_string_equal(job.run_id, run);
    assert_int_equal(store_runs_reap(d->s, &n, &e), 0);
    assert_int_equal(n, 0); /* neither the claimed run nor the old CLI run */
    store_job_clear(&job);
}

/* ---- concurrency ---- */

#define QUEUED 50

struct claimer {
    struct store *s;
    const char *name;
    int64_t ids[QUEUED];
    int n;
    int failures;
};

static void *claim_all(void *arg)
{
    struct claimer *c = arg;
    for (;;) {
        struct store_job job;
        struct err e = {0};
        int r = store_job_claim(c->s, c->name, 60000, &job, &e);
        if (r < 0) {
            fprintf(stderr, "claim: %s\n", e.msg);
            c->failures++;
            break;
        }
        if (r == 0) break;
        if (c->n < QUEUED) c->ids[c->n] = job.id;
        c->n++;
        if (store_job_finish(c->s, job.id, "completed", &e)) c->failures++;
        store_job_clear(&job);
    }
    return NULL;
}

static void test_concurrent_claims(void **state)
{
    struct test_store *d = *state;
    struct err e = {0};
    for (int i = 0; i < QUEUED; i++) {
        char task[24], run[40];
        snprintf(task, sizeof task, "task-%d", i);
        assert_int_equal(store_job_enqueue(d->s, task, "retrain", NULL, NULL, run, &e), 0);
    }
    struct claimer c[2] = {{.s = store_open(d->db.url, &e), .name = "worker-a"},
                           {.s = store_open(d->db.url, &e), .name = "worker-b"}};
    assert_non_null(c[0].s);
    assert_non_null(c[1].s);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, claim_all, &c[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    store_close(c[0].s);
    store_close(c[1].s);
    assert_int_equal(c[0].failures + c[1].failures, 0);
    assert_int_equal(c[0].n + c[1].n, QUEUED);
    char seen[QUEUED + 1] = {0};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < c[k].n; i++) {
            assert_in_range(c[k].ids[i], 1, QUEUED);
            assert_int_equal(seen[c[k].ids[i]], 0);
            seen[c[k].ids[i]] = 1;
        }
    assert_int_equal(raw(d, "SELECT count(*) FROM jobs WHERE attempts = 1"
                            " AND status = 'completed'"),
                     QUEUED);
}

int main(void)
{
    ids_init();
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue_claim_finish, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_expired_lease_reclaimed, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_reap, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_run_state, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_gold_and_review, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_satisfaction_and_export, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_task_times, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_deploy_rollback, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_alias_notify, test_store_setup, test_store_teardown),
        cmocka_unit_test_setup_teardown(test_migration_1_to_2, test_store_setup,
                                        test_store_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_claims, test_store_setup,
                                        test_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
