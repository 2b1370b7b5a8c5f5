/* SQLite backend: the prediction log and feedback. Predictions arrive in
 * batches from the log writer (one transaction each, synchronous=NORMAL:
 * losing the last few ms of log to a power cut is acceptable); feedback is
 * acknowledged to a human, so its commit is fsynced (synchronous=FULL). */
#include "store/sqlite_store.h"

#include "base/log.h"
#include "base/timeutil.h"

int sqlite_store_predictions_add(void *conn, const struct store_prediction *rows, size_t n,
                                 struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "inserting predictions";
    sqlite3_stmt *st = s->prediction_insert;
    int64_t now = time_now_ms();
    if (sqlite_store_begin(s, e)) return -1;
    for (size_t i = 0; i < n; i++) {
        const struct store_prediction *p = &rows[i];
        sqlite_store_bind_text(st, 1, p->id);
        sqlite_store_bind_text(st, 2, p->task);
        sqlite3_bind_int64(st, 3, p->model_version);
        sqlite_store_bind_text(st, 4, p->input_json);
        sqlite_store_bind_text(st, 5, p->label);
        sqlite_store_bind_text(st, 6, p->output_json);
        sqlite3_bind_int64(st, 7, p->latency_us);
        sqlite3_bind_int64(st, 8, p->created_ms > 0 ? p->created_ms : now);
        if (p->rollout_id > 0)
            sqlite3_bind_int64(st, 9, p->rollout_id);
        else
            sqlite3_bind_null(st, 9);
        sqlite_store_bind_text(st, 10, p->shadow_of);
        if (sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_PRIMARYKEY, ERR_CONFLICT, "id", e,
                               "prediction '%s' already exists", p->id)) {
            sqlite_store_release(st);
            sqlite_store_rollback(s);
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite_store_release(st);
    return sqlite_store_commit(s, e);
}

json_t *sqlite_store_prediction_get(void *conn, const char *id, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_TEXT},        {"task", COL_TEXT},       {"model_version", COL_INT},
        {"input", COL_JSON},     {"label", COL_TEXT},      {"output", COL_JSON},
        {"latency_us", COL_INT}, {"created_at", COL_TIME}, {"rollout_id", COL_INT},
        {"shadow_of", COL_TEXT},
    };
    return sqlite_store_query_one(conn,
                                  "SELECT id, task, model_version, input_json, label,"
                                  " output_json, latency_us, created_ms, rollout_id, shadow_of"
                                  " FROM predictions WHERE id = ?1",
                                  "reading prediction", id, SQLITE_COLS(cols), "id", "prediction",
                                  e);
}

/* The transaction proper: look the prediction up, insert with its task. */
static int insert_feedback(struct sqlite_store *s, const struct store_feedback *f, struct err *e)
{
    const char *what = "inserting feedback";
    if (sqlite_store_begin(s, e)) return -1;
    sqlite3_stmt *find = s->prediction_task;
    sqlite_store_bind_text(find, 1, f->prediction_id);
    int found = sqlite_store_next(s, find, "looking up the prediction", e);
    if (found == 0)
        err_set_field(e, ERR_NOT_FOUND, "prediction_id", "prediction '%s' not found",
                      f->prediction_id);
    if (found != 1) {
        sqlite_store_release(find);
        sqlite_store_rollback(s);
        return -1;
    }
    sqlite3_stmt *st = s->feedback_insert;
    sqlite_store_bind_text(st, 1, f->id);
    sqlite_store_bind_text(st, 2, f->prediction_id);
    /* Copied: the lookup's row goes away when `find` is reset below. */
    sqlite3_bind_text(st, 3, (const char *)sqlite3_column_text(find, 0), -1, SQLITE_TRANSIENT);
    sqlite_store_release(find);
    sqlite3_bind_int(st, 4, f->score);
    sqlite_store_bind_text(st, 5, f->label);
    sqlite_store_bind_text(st, 6, f->comment);
    sqlite3_bind_int64(st, 7, f->created_ms > 0 ? f->created_ms : time_now_ms());
    int r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_PRIMARYKEY, ERR_CONFLICT, "id", e,
                               "feedback '%s' already exists", f->id);
    sqlite_store_release(st);
    if (r) {
        sqlite_store_rollback(s);
        return -1;
    }
    return sqlite_store_commit(s, e);
}

int sqlite_store_feedback_add(void *conn, const struct store_feedback *f, struct err *e)
{
    struct sqlite_store *s = conn;
    /* synchronous can only change outside a transaction; FULL makes this
     * commit fsync the WAL before it returns, NORMAL keeps the other writes
     * (prediction batches, run logs) cheap. */
    if (sqlite_store_step_done(s, s->sync_full, "synchronous=FULL", e)) return -1;
    int r = insert_feedback(s, f, e);
    struct err ignored;
    if (sqlite_store_step_done(s, s->sync_normal, "synchronous=NORMAL", &ignored))
        log_warn("store: %s; this connection stays fully synchronous", ignored.msg);
    return r;
}

json_t *sqlite_store_feedback_get(void *conn, const char *id, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"id", COL_TEXT},
        {"prediction_id", COL_TEXT},
        {"task", COL_TEXT},
        {"score", COL_INT},
        {"label", COL_TEXT},
        {"comment", COL_TEXT},
        {"used_for_training_run", COL_TEXT},
        {"created_at", COL_TIME},
    };
    return sqlite_store_query_one(conn,
                                  "SELECT id, prediction_id, task, score, label, comment,"
                                  " used_for_training_run, created_ms"
                                  " FROM feedback WHERE id = ?1",
                                  "reading feedback", id, SQLITE_COLS(cols), "id", "feedback", e);
}

json_t *sqlite_store_feedback_stats(void *conn, const char *task, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"total", COL_INT},   {"positive", COL_INT},  {"negative", COL_INT},
        {"neutral", COL_INT}, {"corrected", COL_INT},
    };
    /* count() and a filtered count() never return NULL, unlike sum(); and an
     * aggregate without GROUP BY always yields its one row, so the
     * not-found case cannot happen. */
    return sqlite_store_query_one(conn,
                                  "SELECT count(*),"
                                  " count(*) FILTER (WHERE score = 1),"
                                  " count(*) FILTER (WHERE score = -1),"
                                  " count(*) FILTER (WHERE score = 0),"
                                  " count(label)"
                                  " FROM feedback WHERE task = ?1",
                                  "counting feedback", task, SQLITE_COLS(cols), "task",
                                  "feedback for task", e);
}

/* ---- feedback as training signal ---- */

/* Only the latest feedback of a prediction counts (by time, then insertion
 * order): a correction after a thumbs-down replaces it. `latest` holds it for
 * every prediction of task ?1, joined below to its prediction (`p`). */
#define LATEST_WITH                                                                                \
    "WITH latest AS (SELECT id, prediction_id, score, label, comment,"                             \
    " used_for_training_run AS used, created_ms, rowid AS seq,"                                    \
    " row_number() OVER (PARTITION BY prediction_id ORDER BY created_ms DESC, rowid DESC) AS rn"   \
    " FROM feedback WHERE task = ?1) "
#define LATEST_FROM " FROM latest l JOIN predictions p ON p.id = l.prediction_id WHERE l.rn = 1"
/* Gold: a corrected label, or a +1 confirming a predicted label; unused:
 * no run trained or evaluated on it yet. */
#define GOLD_UNUSED                                                                                \
    " AND l.used IS NULL AND (l.label IS NOT NULL OR (l.score = 1 AND p.label IS NOT NULL))"

json_t *sqlite_store_feedback_gold_unused(void *conn, const char *task, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"feedback_id", COL_TEXT}, {"prediction_id", COL_TEXT}, {"input", COL_JSON},
        {"label", COL_TEXT},       {"created_at", COL_TIME},
    };
    return sqlite_store_query_list(
        conn,
        LATEST_WITH "SELECT l.id, l.prediction_id, p.input_json,"
                    " coalesce(l.label, p.label), l.created_ms" LATEST_FROM GOLD_UNUSED
                    " ORDER BY l.created_ms, l.seq",
        "reading gold feedback", task, SQLITE_COLS(cols), e);
}

int sqlite_store_feedback_gold_unused_count(void *conn, const char *task, int64_t *n, struct err *e)
{
    int r = sqlite_store_query_int(conn, LATEST_WITH "SELECT count(*)" LATEST_FROM GOLD_UNUSED,
                                   "counting gold feedback", task, NULL, n, e);
    return r < 0 ? -1 : 0;
}

/* The marking inside the caller's transaction: every id, or an error. */
static int mark_used(struct sqlite_store *s, const char *const *feedback_ids, size_t n,
                     const char *run_id, const char *role, struct err *e)
{
    const char *what = "marking feedback used";
    sqlite3_stmt *st = sqlite_store_prepare_args(
        s, "UPDATE feedback SET used_for_training_run = ?2, used_role = ?3 WHERE id = ?1", what,
        SQLITE_ARGS(SQL_TEXT(NULL), SQL_TEXT(run_id), SQL_TEXT(role)), e);
    if (!st) return -1;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        sqlite_store_bind_text(st, 1, feedback_ids[i]);
        r = sqlite_store_write(s, st, what, SQLITE_CONSTRAINT_FOREIGNKEY, ERR_NOT_FOUND, "run_id",
                               e, "run '%s' not found", run_id);
        sqlite3_reset(st);
        if (r == 0 && sqlite3_changes64(s->db) == 0)
            r = err_set_field(e, ERR_NOT_FOUND, "feedback_id", "feedback '%s' not found",
                              feedback_ids[i]);
    }
    sqlite3_finalize(st);
    return r;
}

int sqlite_store_feedback_mark_used(void *conn, const char *const *feedback_ids, size_t n,
                                    const char *run_id, const char *role, struct err *e)
{
    struct sqlite_store *s = conn;
    if (sqlite_store_begin(s, e)) return -1;
    return sqlite_store_end(s, mark_used(s, feedback_ids, n, run_id, role, e), e);
}

int sqlite_store_feedback_satisfaction(void *conn, const char *task, int64_t since_ms,
                                       int64_t *n_scored, int64_t *n_positive, struct err *e)
{
    int64_t counts[2] = {0, 0};
    /* An aggregate without GROUP BY always yields its one row. */
    if (sqlite_store_query_ints(conn,
                                "SELECT count(*), count(*) FILTER (WHERE score = 1) FROM feedback"
                                " WHERE task = ?1 AND created_ms >= ?2 AND score <> 0",
                                "measuring satisfaction",
                                SQLITE_ARGS(SQL_TEXT(task), SQL_INT(since_ms)), counts, 2, e) < 0)
        return -1;
    *n_scored = counts[0];
    *n_positive = counts[1];
    return 0;
}

json_t *sqlite_store_review_queue(void *conn, const char *task, size_t limit, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"prediction_id", COL_TEXT}, {"input", COL_JSON},   {"label", COL_TEXT},
        {"score", COL_INT},          {"comment", COL_TEXT}, {"created_at", COL_TIME},
    };
    /* limit 0 means no limit (SQLite reads a negative LIMIT that way). */
    return sqlite_store_query_rows(
        conn,
        LATEST_WITH "SELECT l.prediction_id, p.input_json, p.label, l.score, l.comment,"
                    " l.created_ms" LATEST_FROM " AND l.score = -1 AND l.label IS NULL"
                    " ORDER BY l.created_ms DESC, l.seq DESC LIMIT ?2",
        "reading the review queue",
        SQLITE_ARGS(SQL_TEXT(task), SQL_INT(limit ? (int64_t)limit : -1)), SQLITE_COLS(cols), e);
}

json_t *sqlite_store_feedback_export(void *conn, const char *task, struct err *e)
{
    static const struct sqlite_col cols[] = {
        {"input", COL_JSON}, {"predicted", COL_TEXT},  {"label", COL_TEXT},
        {"score", COL_INT},  {"created_at", COL_TIME},
    };
    return sqlite_store_query_list(conn,
                                   "SELECT p.input_json, p.label, f.label, f.score, f.created_ms"
                                   " FROM feedback f JOIN predictions p ON p.id = f.prediction_id"
                                   " WHERE f.task = ?1 ORDER BY f.created_ms, f.rowid",
                                   "exporting feedback", task, SQLITE_COLS(cols), e);
}
