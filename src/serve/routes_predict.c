/* POST /v1/tasks/{task}/predict — the hot path: parse, take a reference to
 * the served model, featurise and score, hand the log record to the writer
 * queue, answer. No SQL, no disk, no lock shared by requests. During a
 * rollout (serve/challenger.h) a canary may answer instead of the champion,
 * or a shadow scores the same inputs after the reply.
 *
 * It runs inside the thread's JSON scope (base/json_scope.h, opened by
 * routes_dispatch): every jansson value here and the route's scratch come
 * from the thread's arena and are forgotten when it returns; what must live
 * on (the log record, a shadow's inputs) is copied by predlog_enqueue and
 * challenger_shadow_add. */
#include "serve/routes.h"

#include "base/ids.h"
#include "base/json_scope.h"
#include "base/timeutil.h"
#include "data/input.h"
#include "serve/answer.h"
#include "serve/challenger.h"

#include <string.h>

/* Builds the instance's input object from one of the accepted forms:
 * {"text": "..."} or an object of input fields. Returns a new reference. */
static json_t *instance_input(const struct task_config *task, json_t *item, const char *where,
                              struct err *e)
{
    if (json_is_string(item)) {
        if (task->n_text_fields != 1) {
            err_set_field(e, ERR_INVALID, where,
                          "%s: a bare string needs a task with one text field; task '%s' has %zu: "
                          "send an object of fields",
                          where, task->name, task->n_text_fields);
            return NULL;
        }
        return json_pack("{s:O}", task->text_fields[0], item);
    }
    if (!json_is_object(item)) {
        err_set_field(e, ERR_INVALID, where, "%s: must be an object of input fields", where);
        return NULL;
    }
    return json_incref(item);
}

struct scored {
    json_t *answer;
    json_t *input;
    /* the raw text fields, kept for a shadow only (they live in `input`,
     * which is freed before the shadow runs) */
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    size_t n_fields;
};

/* ?explain=true[&explain_top=K]: the K features (default 10, at most 50)
 * that pushed each answer; 0 when not asked, -1 (answered) when malformed. */
enum { EXPLAIN_DEFAULT = 10, EXPLAIN_MAX = 50 };

static int explain_top(struct http_request *r, size_t *k)
{
    const char *on = http_query(r, "explain"), *top = http_query(r, "explain_top");
    *k = 0;
    if (!on || strcmp(on, "false") == 0) return 0;
    if (strcmp(on, "true") != 0) {
        http_reply_error(r, 400, "invalid", "explain", "explain: must be true or false");
        return -1;
    }
    *k = EXPLAIN_DEFAULT;
    if (top) {
        char *end;
        long v = strtol(top, &end, 10);
        if (*end || end == top || v < 1 || v > EXPLAIN_MAX) {
            http_reply_error(r, 400, "invalid", "explain_top",
                             "explain_top: a number of features from 1 to %d", EXPLAIN_MAX);
            return -1;
        }
        *k = (size_t)v;
    }
    return 0;
}

static json_t *explanation(const struct trained_model *m, const struct model_input *in,
                           size_t label, size_t top_k)
{
    struct model_contribution c[EXPLAIN_MAX];
    size_t k = model_explain_input(m, in, label, top_k, c);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(
            out, json_pack("{s:s,s:f}", "feature", c[i].feature, "weight", c[i].weight));
    return out;
}

/* The predictions counter: the answer's label, or each label of a
 * multilabel answer's set. */
static void count_labels(struct served_model *sm, const double *probs, size_t best)
{
    struct version_counts *vc = sm->counters;
    if (!vc) return;
    if (model_task_type(sm->model) != TASK_MULTILABEL) {
        if (best < vc->n_labels)
            atomic_fetch_add_explicit(&vc->by_label[best], 1, memory_order_relaxed);
        return;
    }
    for (size_t i = 0; i < vc->n_labels && i < model_n_labels(sm->model); i++)
        if (probs[i] >= model_threshold(sm->model, i))
            atomic_fetch_add_explicit(&vc->by_label[i], 1, memory_order_relaxed);
}

static int score_one(struct server *srv, struct http_request *r, struct served_task *t,
                     struct served_model *sm, json_t *input, double *probs, size_t explain_k,
                     struct scored *out, struct err *e)
{
    json_t *normalized = NULL;
    const char **values = out->values;
    size_t *lens = out->lens;
    /* the tabular values, as views into `input` (on the stack: no allocation) */
    double num[TASK_MAX_TABULAR_FIELDS];
    const char *cat[TASK_MAX_TABULAR_FIELDS];
    size_t cat_lens[TASK_MAX_TABULAR_FIELDS];
    size_t max = srv->cfg->limits.max_field_bytes;
    if (input_fields_from_json(t->cfg, input, max, values, lens, NULL, &normalized, e) != 0)
        return -1;
    if (input_tabular_from_json(t->cfg, input, max, num, cat, cat_lens, normalized, e) != 0) {
        json_decref(normalized);
        return -1;
    }
    out->n_fields = t->cfg->n_text_fields;
    struct model_input in = {values,
                             lens,
                             out->n_fields,
                             {t->cfg->n_numeric, t->cfg->n_categorical, num, cat, cat_lens}};
    /* the model cleans and joins the fields as its training text was */
    size_t best = model_predict_input(sm->model, &in, probs);
    count_labels(sm, probs, best);
    char id[UUID_STR_LEN];
    uuid_v7(id);
    out->answer = json_pack("{s:s,s:s,s:I}", "prediction_id", id, "task", t->cfg->name,
                            "model_version", (json_int_t)sm->version);
    answer_add_labels(out->answer, sm->model, probs, best);
    if (explain_k) /* only when asked: it allocates */
        json_object_set_new(out->answer, "explanation",
                            explanation(sm->model, &in, best, explain_k));
    out->input = normalized;
    (void)r;
    return 0;
}

/* The thread's buffers this route serialises into (base/json_scope.h):
 * kept from one request to the next, so none is allocated in steady state. */
enum { BUF_ANSWER, BUF_INPUT, BUF_LABELS, BUF_BODY };

/* The answer is serialised once: it is both the response and the log's
 * output. A shadow job gets the same record's input and id. */
static void log_prediction(struct server *srv, struct served_task *t, struct served_model *sm,
                           struct scored *s, const char *output_json, int64_t latency_us,
                           int64_t rollout_id, struct shadow_job *shadow)
{
    struct buf *in = json_scope_buf(BUF_INPUT);
    buf_reset(in);
    const char *input_json = http_json_append(in, s->input, JSON_COMPACT) == 0 ? in->data : NULL;
    /* a multilabel answer's set, joined for the log */
    const char *label = answer_logged_label(s->answer, json_scope_buf(BUF_LABELS));
    struct store_prediction rec = {
        .id = json_string_value(json_object_get(s->answer, "prediction_id")),
        .task = t->cfg->name,
        .model_version = sm->version,
        .input_json = input_json,
        .label = label,
        .output_json = output_json,
        .latency_us = latency_us,
        .created_ms = time_now_ms(),
        .rollout_id = rollout_id,
    };
    predlog_enqueue(srv->predlog, &rec);
    if (shadow)
        challenger_shadow_add(shadow, s->values, s->lens, s->n_fields, rec.id, label, input_json);
}

static int check_keys(struct http_request *r, json_t *doc)
{
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (strcmp(key, "text") && strcmp(key, "input") && strcmp(key, "inputs") &&
            strcmp(key, "instances") && strcmp(key, "key")) {
            http_reply_error(r, 422, "invalid", key,
                             "unknown key '%.64s': send {\"text\": ...}, {\"input\": {...}} or "
                             "{\"inputs\": [...]}, and optionally \"key\"",
                             key);
            return -1;
        }
    }
    return 0;
}

/* The request key a canary sticks by: the body's "key", else the
 * X-Request-Key header; NULL when neither. -1 (answered) when malformed. */
static int request_key(struct server *srv, struct http_request *r, json_t *doc, const char **key,
                       size_t *len)
{
    json_t *k = json_object_get(doc, "key");
    *key = k ? json_string_value(k) : http_header(r, "X-Request-Key");
    if (k && !json_is_string(k)) {
        http_reply_error(r, 422, "invalid", "key", "key: must be a string");
        return -1;
    }
    *len = *key ? strlen(*key) : 0;
    if (*len > srv->cfg->limits.max_field_bytes) {
        http_reply_error(r, 422, "limit_exceeded", "key",
                         "key: %zu bytes exceeds the limit of %zu (limits.max_field_bytes)", *len,
                         srv->cfg->limits.max_field_bytes);
        return -1;
    }
    return 0;
}

void routes_predict(struct server *srv, struct http_request *r, struct served_task *t)
{
    size_t explain_k;
    if (explain_top(r, &explain_k) != 0) return;
    json_t *doc = http_body_object(r);
    if (!doc) return;
    if (check_keys(r, doc) != 0) {
        json_decref(doc);
        return;
    }
    json_t *batch = json_object_get(doc, "inputs");
    if (!batch) batch = json_object_get(doc, "instances");
    json_t *single = json_object_get(doc, "input");
    json_t *text = json_object_get(doc, "text");
    struct err e;
    err_clear(&e);
    int forms = (batch != NULL) + (single != NULL) + (text != NULL);
    if (forms != 1) {
        http_reply_error(r, 422, "invalid", NULL,
                         "send exactly one of \"text\", \"input\" or \"inputs\"");
        json_decref(doc);
        return;
    }
    if (text && !json_is_string(text)) {
        http_reply_error(r, 422, "invalid", "text", "text: must be a string");
        json_decref(doc);
        return;
    }
    if (batch && !json_is_array(batch)) {
        http_reply_error(r, 422, "invalid", "inputs", "inputs: must be an array");
        json_decref(doc);
        return;
    }
    size_t n = batch ? json_array_size(batch) : 1;
    if (batch && n == 0) {
        http_reply_error(r, 422, "invalid", "inputs", "inputs: empty batch");
        json_decref(doc);
        return;
    }
    if (n > srv->cfg->limits.max_batch) {
        http_reply_error(r, 422, "limit_exceeded", "inputs",
                         "inputs: batch of %zu exceeds the limit of %zu (limits.max_batch)", n,
                         srv->cfg->limits.max_batch);
        json_decref(doc);
        return;
    }

    const char *key;
    size_t key_len;
    if (request_key(srv, r, doc, &key, &key_len) != 0) {
        json_decref(doc);
        return;
    }

    struct served_model *sm = model_slot_acquire(&t->slot);
    if (!sm) {
        http_reply_error(r, 503, "not_ready", NULL,
                         "task '%s' has no model yet: import data and run `boucle train --task %s`",
                         t->cfg->name, t->cfg->name);
        json_decref(doc);
        return;
    }
    /* a rollout: the canary may answer; a shadow is handed what was asked */
    struct challenger_view cv;
    challenger_view_take(&t->challenger, &cv);
    struct shadow_job *shadow = NULL;
    if (challenger_answers(&cv, key, key_len)) {
        served_model_release(sm);
        sm = cv.model;
        cv.model = NULL;
        atomic_fetch_add_explicit(&t->challenger.canary_answered, 1, memory_order_relaxed);
    } else if (cv.mode == CHALLENGER_SHADOW && cv.model) {
        shadow = challenger_shadow_begin(t, srv->predlog, &cv, n);
    }
    challenger_view_release(&cv);
    size_t n_labels = model_n_labels(sm->model);
    double probs_stack[32];
    double *probs = n_labels <= 32 ? probs_stack : json_scope_calloc(n_labels, sizeof *probs);
    struct scored *scored = json_scope_calloc(n, sizeof *scored);
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++) {
        char where[32];
        json_t *item = batch ? json_array_get(batch, i) : single ? single : text;
        if (batch)
            snprintf(where, sizeof where, "inputs[%zu]", i);
        else
            snprintf(where, sizeof where, "%s", single ? "input" : "text");
        json_t *input = instance_input(t->cfg, item, where, &e);
        if (!input || score_one(srv, r, t, sm, input, probs, explain_k, &scored[i], &e) != 0) {
            if (batch && e.code != ERR_OK) err_prefix(&e, "%s", where);
            failed = 1;
        }
        json_decref(input);
    }
    if (failed) {
        http_reply_err(r, &e);
        challenger_shadow_free(shadow);
    } else {
        int64_t latency_us = (time_mono_ns() - r->start_ns) / 1000;
        struct buf *body = json_scope_buf(BUF_BODY), *one = json_scope_buf(BUF_ANSWER);
        if (batch) buf_append_str(body, "{\"predictions\":[");
        for (size_t i = 0; i < n; i++) {
            buf_reset(one);
            http_json_append(one, scored[i].answer, HTTP_JSON_FLAGS);
            log_prediction(srv, t, sm, &scored[i], one->data, latency_us, cv.rollout_id, shadow);
            if (i) buf_append_char(body, ',');
            buf_append(body, one->data, one->len);
        }
        if (batch) buf_append_str(body, "]}");
        http_reply_raw_json(r, 200, body->data, body->len);
        if (shadow) {
            r->after_reply = challenger_shadow_run;
            r->after_ctx = shadow;
        }
    }
    for (size_t i = 0; i < n; i++) {
        json_decref(scored[i].answer);
        json_decref(scored[i].input);
    }
    served_model_release(sm);
    json_decref(doc);
}
