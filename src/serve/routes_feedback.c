/* POST /v1/feedback — the durable path: validate, commit, then acknowledge.
 * A 201 means the feedback is on disk and survives kill -9. */
#include "serve/routes.h"

#include "base/ids.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "data/labelset.h"

#include <string.h>

static int optional_string(struct http_request *r, json_t *doc, const char *key, size_t limit,
                           const char **out)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) {
        http_reply_error(r, 422, "invalid", key, "%s: must be a string", key);
        return -1;
    }
    if (json_string_length(v) > limit) {
        http_reply_error(r, 422, "limit_exceeded", key,
                         "%s: %zu bytes exceeds the limit of %zu (limits.max_field_bytes)", key,
                         json_string_length(v), limit);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* A corrected label must be one the served model knows, or training would
 * learn a typo as a class. */
static int check_label(struct server *srv, struct http_request *r, const char *task,
                       const char *label)
{
    struct served_task *t = server_find_task(srv, task, strlen(task));
    if (!t) return 0; /* task removed from the config: keep the feedback anyway */
    struct served_model *sm = model_slot_acquire(&t->slot);
    if (!sm) return 0;
    int ok = 0;
    struct buf known;
    buf_init(&known);
    for (size_t i = 0; i < model_n_labels(sm->model); i++) {
        if (strcmp(model_label(sm->model, i), label) == 0) ok = 1;
        buf_printf(&known, "%s%s", i ? ", " : "", model_label(sm->model, i));
    }
    if (!label[0]) {
        ok = 0;
    }
    if (!ok)
        http_reply_error(r, 422, "invalid", "label",
                         "label: '%.64s' is not a label of task '%s' (known: %s)", label, task,
                         known.data ? known.data : "");
    buf_free(&known);
    served_model_release(sm);
    return ok ? 0 : -1;
}

/* A multilabel task's corrected set, "labels": [...]: each label one the
 * served model knows, stored as the canonical set ("" for none: the
 * document has no tag). 0 and *out set (in `set`), or -1 when answered. */
static int corrected_set(struct server *srv, struct http_request *r, const char *task,
                         json_t *labels, size_t limit, struct buf *set, const char **out)
{
    struct served_task *t = server_find_task(srv, task, strlen(task));
    if (t && t->cfg->type != TASK_MULTILABEL) {
        http_reply_error(r, 422, "invalid", "labels",
                         "labels: task '%s' is %s: send its one corrected \"label\"", task,
                         task_type_name(t->cfg->type));
        return -1;
    }
    size_t n = json_array_size(labels), i;
    const char **items = xcalloc(n ? n : 1, sizeof *items);
    json_t *v;
    int rc = 0;
    json_array_foreach(labels, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) > limit) {
            http_reply_error(r, 422, "invalid", "labels",
                             "labels[%zu]: must be a string of at most %zu bytes", i, limit);
            rc = -1;
            break;
        }
        items[i] = json_string_value(v);
        if (check_label(srv, r, task, items[i]) != 0) {
            rc = -1;
            break;
        }
    }
    struct err e;
    if (rc == 0 && labelset_join(items, NULL, n, set, "labels", &e) != 0) {
        http_reply_error(r, 422, "invalid", "labels", "%s", e.msg);
        rc = -1;
    }
    free(items);
    *out = set->data;
    return rc;
}

static json_t *find_prediction(struct server *srv, const char *id, struct err *e)
{
    json_t *p = store_prediction_get(srv->store, id, e);
    if (p || e->code != ERR_NOT_FOUND) return p;
    /* it may still be in the log writer's queue: have it written, look again */
    predlog_flush(srv->predlog);
    err_clear(e);
    return store_prediction_get(srv->store, id, e);
}

void routes_feedback_post(struct server *srv, struct http_request *r)
{
    json_t *doc = http_body_object(r);
    if (!doc) return;
    size_t limit = srv->cfg->limits.max_field_bytes;
    struct buf set; /* a corrected label set, canonical */
    buf_init(&set);
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "prediction_id") && strcmp(key, "score") && strcmp(key, "label") &&
            strcmp(key, "labels") && strcmp(key, "comment")) {
            http_reply_error(
                r, 422, "invalid", key,
                "unknown key '%.64s' (expected prediction_id, score, label, labels, comment)", key);
            goto out;
        }
    }
    json_t *pid = json_object_get(doc, "prediction_id");
    if (!json_is_string(pid)) {
        http_reply_error(r, 422, "invalid", "prediction_id",
                         pid ? "prediction_id: must be a string" : "prediction_id: missing");
        goto out;
    }
    if (!uuid_is_valid(json_string_value(pid))) {
        http_reply_error(r, 404, "not_found", "prediction_id", "prediction '%.64s' not found",
                         json_string_value(pid));
        goto out;
    }
    json_t *score = json_object_get(doc, "score");
    if (!json_is_integer(score) || json_integer_value(score) < -1 ||
        json_integer_value(score) > 1) {
        http_reply_error(r, 422, "invalid", "score",
                         score ? "score: must be -1, 0 or 1" : "score: missing (-1, 0 or 1)");
        goto out;
    }
    const char *label, *comment;
    if (optional_string(r, doc, "label", limit, &label) != 0 ||
        optional_string(r, doc, "comment", limit, &comment) != 0)
        goto out;
    json_t *labels = json_object_get(doc, "labels");
    if (labels && !json_is_array(labels)) {
        http_reply_error(r, 422, "invalid", "labels", "labels: must be a list of labels");
        goto out;
    }
    if (labels && label) {
        http_reply_error(r, 422, "invalid", "labels",
                         "send \"label\" (one label) or \"labels\" (a label set), not both");
        goto out;
    }

    struct err e;
    err_clear(&e);
    json_t *pred = find_prediction(srv, json_string_value(pid), &e);
    if (!pred) {
        if (e.code == ERR_NOT_FOUND) {
            http_reply_error(r, 404, "not_found", "prediction_id", "prediction '%s' not found",
                             json_string_value(pid));
        } else {
            http_reply_err(r, &e);
        }
        goto out;
    }
    const char *task = json_string_value(json_object_get(pred, "task"));
    const char *twin = json_string_value(json_object_get(pred, "shadow_of"));
    if (twin) { /* feedback judges what a user was shown */
        http_reply_error(r, 422, "invalid", "prediction_id",
                         "prediction '%s' is a shadow answer nobody saw: send feedback on the "
                         "answered prediction '%s'",
                         json_string_value(pid), twin);
        json_decref(pred);
        goto out;
    }
    if (label && check_label(srv, r, task ? task : "", label) != 0) {
        json_decref(pred);
        goto out;
    }
    if (labels && corrected_set(srv, r, task ? task : "", labels, limit, &set, &label) != 0) {
        json_decref(pred);
        goto out;
    }
    char id[UUID_STR_LEN];
    uuid_v7(id);
    struct store_feedback f = {
        .id = id,
        .prediction_id = json_string_value(pid),
        .score = (int)json_integer_value(score),
        .label = label,
        .comment = comment,
        .created_ms = time_now_ms(),
    };
    if (store_feedback_add(srv->store, &f, &e) != 0) {
        http_reply_err(r, &e);
    } else {
        struct served_task *st = task ? server_find_task(srv, task, strlen(task)) : NULL;
        if (st) atomic_fetch_add(&st->feedback_by_score[f.score + 1], 1);
        http_reply_json(r, 201,
                        json_pack("{s:s,s:s,s:s?}", "feedback_id", id, "prediction_id",
                                  f.prediction_id, "task", task));
    }
    json_decref(pred);
out:
    buf_free(&set);
    json_decref(doc);
}

void routes_feedback_get(struct server *srv, struct http_request *r, const char *id)
{
    struct err e;
    err_clear(&e);
    json_t *f = uuid_is_valid(id) ? store_feedback_get(srv->store, id, &e) : NULL;
    if (f)
        http_reply_json(r, 200, f);
    else if (e.code == ERR_OK || e.code == ERR_NOT_FOUND)
        http_reply_error(r, 404, "not_found", NULL, "feedback '%.64s' not found", id);
    else
        http_reply_err(r, &e);
}
