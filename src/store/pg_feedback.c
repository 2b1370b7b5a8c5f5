/* PostgreSQL backend: the prediction log, feedback, and feedback as
 * training signal. A feedback is acknowledged once its transaction commits
 * (synchronous_commit is the server's: on by default). */
#include "store/pg_store.h"

#include "base/timeutil.h"

static int insert_predictions(struct pg_store *s, const struct store_prediction *rows, size_t n,
                              struct err *e)
{
    int64_t now = time_now_ms();
    for (size_t i = 0; i < n; i++) {
        const struct store_prediction *p = &rows[i];
        if (pg_store_write(s,
                           "INSERT INTO predictions(id, task, model_version, input_json, label,"
                           " output_json, latency_us, created_ms, rollout_id, shadow_of)"
                           " VALUES($1, $2, $3, $4, $5, $6, $7, $8, nullif($9::bigint, 0), $10)",
                           "inserting predictions",
                           PG_ARGS(PG_TEXT(p->id), PG_TEXT(p->task), PG_INT(p->model_version),
                                   PG_TEXT(p->input_json), PG_TEXT(p->label),
                                   PG_TEXT(p->output_json), PG_INT(p->latency_us),
                                   PG_INT(p->created_ms > 0 ? p->created_ms : now),
                                   PG_INT(p->rollout_id), PG_TEXT(p->shadow_of)),
                           "23505", ERR_CONFLICT, "id", e, "prediction '%s' already exists", p->id))
            return -1;
    }
    return 0;
}

int pg_store_predictions_add(void *conn, const struct store_prediction *rows, size_t n,
                             struct err *e)
{
    struct pg_store *s = conn;
    /* losing the last few ms of log to a crash is acceptable: no wait for
     * the WAL flush (SET LOCAL ends with the transaction) */
    if (pg_store_begin(s, e)) return -1;
    int r = pg_store_exec(s, "SET LOCAL synchronous_commit = off", "synchronous_commit=off", e);
    if (r == 0) r = insert_predictions(s, rows, n, e);
    return pg_store_end(s, r, e) < 0 ? -1 : 0;
}

json_t *pg_store_prediction_get(void *conn, const char *id, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_TEXT},        {"task", PGC_TEXT},       {"model_version", PGC_INT},
        {"input", PGC_JSON},     {"label", PGC_TEXT},      {"output", PGC_JSON},
        {"latency_us", PGC_INT}, {"created_at", PGC_TIME}, {"rollout_id", PGC_INT},
        {"shadow_of", PGC_TEXT},
    };
    return pg_store_query_one(conn,
                              "SELECT id, task, model_version, input_json, label,"
                              " output_json, latency_us, created_ms, rollout_id, shadow_of"
                              " FROM predictions WHERE id = $1",
                              "reading prediction", id, PG_COLS(cols), "id", "prediction", e);
}

int pg_store_feedback_add(void *conn, const struct store_feedback *f, struct err *e)
{
    struct pg_store *s = conn;
    int64_t added = 0;
    /* One statement: the task is copied from the prediction, and no row
     * inserted means there is no such prediction. */
    if (pg_store_update(s,
                        "INSERT INTO feedback(id, prediction_id, task, score, label, comment,"
                        " created_ms) SELECT $1, p.id, p.task, $3, $4, $5, $6"
                        " FROM predictions p WHERE p.id = $2",
                        "inserting feedback",
                        PG_ARGS(PG_TEXT(f->id), PG_TEXT(f->prediction_id), PG_INT(f->score),
                                PG_TEXT(f->label), PG_TEXT(f->comment),
                                PG_INT(f->created_ms > 0 ? f->created_ms : time_now_ms())),
                        &added, e)) {
        if (pg_store_violated(s, "23505"))
            err_set_field(e, ERR_CONFLICT, "id", "feedback '%s' already exists", f->id);
        return -1;
    }
    if (added == 0)
        return err_set_field(e, ERR_NOT_FOUND, "prediction_id", "prediction '%s' not found",
                             f->prediction_id);
    return 0;
}

json_t *pg_store_feedback_get(void *conn, const char *id, struct err *e)
{
    static const struct pg_col cols[] = {
        {"id", PGC_TEXT},
        {"prediction_id", PGC_TEXT},
        {"task", PGC_TEXT},
        {"score", PGC_INT},
        {"label", PGC_TEXT},
        {"comment", PGC_TEXT},
        {"used_for_training_run", PGC_TEXT},
        {"created_at", PGC_TIME},
    };
    return pg_store_query_one(conn,
                              "SELECT id, prediction_id, task, score, label, comment,"
                              " used_for_training_run, created_ms"
                              " FROM feedback WHERE id = $1",
                              "reading feedback", id, PG_COLS(cols), "id", "feedback", e);
}

json_t *pg_store_feedback_stats(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"total", PGC_INT},   {"positive", PGC_INT},  {"negative", PGC_INT},
        {"neutral", PGC_INT}, {"corrected", PGC_INT},
    };
    return pg_store_query_one(conn,
                              "SELECT count(*),"
                              " count(*) FILTER (WHERE score = 1),"
                              " count(*) FILTER (WHERE score = -1),"
                              " count(*) FILTER (WHERE score = 0),"
                              " count(label)"
                              " FROM feedback WHERE task = $1",
                              "counting feedback", task, PG_COLS(cols), "task", "feedback for task",
                              e);
}

/* ---- feedback as training signal (as the SQLite backend; seq stands for
 * its rowid) ---- */
#define LATEST_WITH                                                                                \
    "WITH latest AS (SELECT id, prediction_id, score, label, comment,"                             \
    " used_for_training_run AS used, created_ms, seq,"                                             \
    " row_number() OVER (PARTITION BY prediction_id ORDER BY created_ms DESC, seq DESC) AS rn"     \
    " FROM feedback WHERE task = $1) "
#define LATEST_FROM " FROM latest l JOIN predictions p ON p.id = l.prediction_id WHERE l.rn = 1"
#define GOLD_UNUSED                                                                                \
    " AND l.used IS NULL AND (l.label IS NOT NULL OR (l.score = 1 AND p.label IS NOT NULL))"

json_t *pg_store_feedback_gold_unused(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"feedback_id", PGC_TEXT}, {"prediction_id", PGC_TEXT}, {"input", PGC_JSON},
        {"label", PGC_TEXT},       {"created_at", PGC_TIME},
    };
    return pg_store_query_list(conn,
                               LATEST_WITH
                               "SELECT l.id, l.prediction_id, p.input_json,"
                               " coalesce(l.label, p.label), l.created_ms" LATEST_FROM GOLD_UNUSED
                               " ORDER BY l.created_ms, l.seq",
                               "reading gold feedback", task, PG_COLS(cols), e);
}

int pg_store_feedback_gold_unused_count(void *conn, const char *task, int64_t *n, struct err *e)
{
    int r = pg_store_query_int(conn, LATEST_WITH "SELECT count(*)" LATEST_FROM GOLD_UNUSED,
                               "counting gold feedback", task, NULL, n, e);
    return r < 0 ? -1 : 0;
}

static int mark_used(struct pg_store *s, const char *const *feedback_ids, size_t n,
                     const char *run_id, const char *role, struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        int64_t changed = 0;
        if (pg_store_update(s,
                            "UPDATE feedback SET used_for_training_run = $2, used_role = $3"
                            " WHERE id = $1",
                            "marking feedback used",
                            PG_ARGS(PG_TEXT(feedback_ids[i]), PG_TEXT(run_id), PG_TEXT(role)),
                            &changed, e)) {
            if (pg_store_violated(s, "23503"))
                err_set_field(e, ERR_NOT_FOUND, "run_id", "run '%s' not found", run_id);
            return -1;
        }
        if (changed == 0)
            return err_set_field(e, ERR_NOT_FOUND, "feedback_id", "feedback '%s' not found",
                                 feedback_ids[i]);
    }
    return 0;
}

int pg_store_feedback_mark_used(void *conn, const char *const *feedback_ids, size_t n,
                                const char *run_id, const char *role, struct err *e)
{
    struct pg_store *s = conn;
    if (pg_store_begin(s, e)) return -1;
    return pg_store_end(s, mark_used(s, feedback_ids, n, run_id, role, e), e);
}

int pg_store_feedback_satisfaction(void *conn, const char *task, int64_t since_ms,
                                   int64_t *n_scored, int64_t *n_positive, struct err *e)
{
    int64_t counts[2] = {0, 0};
    if (pg_store_query_ints(conn,
                            "SELECT count(*), count(*) FILTER (WHERE score = 1) FROM feedback"
                            " WHERE task = $1 AND created_ms >= $2 AND score <> 0",
                            "measuring satisfaction", PG_ARGS(PG_TEXT(task), PG_INT(since_ms)),
                            counts, 2, e) < 0)
        return -1;
    *n_scored = counts[0];
    *n_positive = counts[1];
    return 0;
}

json_t *pg_store_review_queue(void *conn, const char *task, size_t limit, struct err *e)
{
    static const struct pg_col cols[] = {
        {"prediction_id", PGC_TEXT}, {"input", PGC_JSON},   {"label", PGC_TEXT},
        {"score", PGC_INT},          {"comment", PGC_TEXT}, {"created_at", PGC_TIME},
    };
    return pg_store_query_rows(conn,
                               LATEST_WITH
                               "SELECT l.prediction_id, p.input_json, p.label, l.score, l.comment,"
                               " l.created_ms" LATEST_FROM " AND l.score = -1 AND l.label IS NULL"
                               " ORDER BY l.created_ms DESC, l.seq DESC LIMIT nullif($2, 0)",
                               "reading the review queue",
                               PG_ARGS(PG_TEXT(task), PG_INT((int64_t)limit)), PG_COLS(cols), e);
}

json_t *pg_store_feedback_export(void *conn, const char *task, struct err *e)
{
    static const struct pg_col cols[] = {
        {"input", PGC_JSON}, {"predicted", PGC_TEXT},  {"label", PGC_TEXT},
        {"score", PGC_INT},  {"created_at", PGC_TIME},
    };
    return pg_store_query_list(conn,
                               "SELECT p.input_json, p.label, f.label, f.score, f.created_ms"
                               " FROM feedback f JOIN predictions p ON p.id = f.prediction_id"
                               " WHERE f.task = $1 ORDER BY f.created_ms, f.seq",
                               "exporting feedback", task, PG_COLS(cols), e);
}
