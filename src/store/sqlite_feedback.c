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
        if (sqlite3_step(st) != SQLITE_DONE) {
            if (sqlite_store_violated(s, SQLITE_CONSTRAINT_PRIMARYKEY))
                err_set_field(e, ERR_CONFLICT, "id", "prediction '%s' already exists", p->id);
            else
                sqlite_store_fail(s, e, what);
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
    struct sqlite_store *s = conn;
    const char *what = "reading prediction";
    sqlite3_stmt *st = sqlite_store_prepare(s,
                                            "SELECT id, task, model_version, input_json, label,"
                                            " output_json, latency_us, created_ms"
                                            " FROM predictions WHERE id = ?1",
                                            what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, id);
    json_t *p = NULL;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        p = json_object();
        json_object_set_new(p, "id", sqlite_store_col_text(st, 0));
        json_object_set_new(p, "task", sqlite_store_col_text(st, 1));
        json_object_set_new(p, "model_version", sqlite_store_col_int(st, 2));
        json_object_set_new(p, "input", sqlite_store_col_json(st, 3));
        json_object_set_new(p, "label", sqlite_store_col_text(st, 4));
        json_object_set_new(p, "output", sqlite_store_col_json(st, 5));
        json_object_set_new(p, "latency_us", sqlite_store_col_int(st, 6));
        json_object_set_new(p, "created_at", sqlite_store_col_time(st, 7));
    } else if (r == 0) {
        err_set_field(e, ERR_NOT_FOUND, "id", "prediction '%s' not found", id);
    }
    sqlite3_finalize(st);
    return p;
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
    int r = 0;
    if (sqlite3_step(st) != SQLITE_DONE) {
        if (sqlite_store_violated(s, SQLITE_CONSTRAINT_PRIMARYKEY))
            r = err_set_field(e, ERR_CONFLICT, "id", "feedback '%s' already exists", f->id);
        else
            r = sqlite_store_fail(s, e, what);
    }
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
    struct sqlite_store *s = conn;
    const char *what = "reading feedback";
    sqlite3_stmt *st = sqlite_store_prepare(s,
                                            "SELECT id, prediction_id, task, score, label, comment,"
                                            " used_for_training_run, created_ms"
                                            " FROM feedback WHERE id = ?1",
                                            what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, id);
    json_t *f = NULL;
    int r = sqlite_store_next(s, st, what, e);
    if (r == 1) {
        f = json_object();
        json_object_set_new(f, "id", sqlite_store_col_text(st, 0));
        json_object_set_new(f, "prediction_id", sqlite_store_col_text(st, 1));
        json_object_set_new(f, "task", sqlite_store_col_text(st, 2));
        json_object_set_new(f, "score", sqlite_store_col_int(st, 3));
        json_object_set_new(f, "label", sqlite_store_col_text(st, 4));
        json_object_set_new(f, "comment", sqlite_store_col_text(st, 5));
        json_object_set_new(f, "used_for_training_run", sqlite_store_col_text(st, 6));
        json_object_set_new(f, "created_at", sqlite_store_col_time(st, 7));
    } else if (r == 0) {
        err_set_field(e, ERR_NOT_FOUND, "id", "feedback '%s' not found", id);
    }
    sqlite3_finalize(st);
    return f;
}

json_t *sqlite_store_feedback_stats(void *conn, const char *task, struct err *e)
{
    struct sqlite_store *s = conn;
    const char *what = "counting feedback";
    /* count() and a filtered count() never return NULL, unlike sum(). */
    sqlite3_stmt *st = sqlite_store_prepare(s,
                                            "SELECT count(*),"
                                            " count(*) FILTER (WHERE score = 1),"
                                            " count(*) FILTER (WHERE score = -1),"
                                            " count(*) FILTER (WHERE score = 0),"
                                            " count(label)"
                                            " FROM feedback WHERE task = ?1",
                                            what, e);
    if (!st) return NULL;
    sqlite_store_bind_text(st, 1, task);
    json_t *stats = NULL;
    if (sqlite_store_next(s, st, what, e) == 1) {
        stats = json_object();
        json_object_set_new(stats, "total", sqlite_store_col_int(st, 0));
        json_object_set_new(stats, "positive", sqlite_store_col_int(st, 1));
        json_object_set_new(stats, "negative", sqlite_store_col_int(st, 2));
        json_object_set_new(stats, "neutral", sqlite_store_col_int(st, 3));
        json_object_set_new(stats, "corrected", sqlite_store_col_int(st, 4));
    }
    sqlite3_finalize(st);
    return stats;
}
