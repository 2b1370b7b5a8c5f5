#include "serve/challenger.h"

#include "base/hashmap.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "data/input.h"
#include "serve/answer.h"
#include "serve/predlog.h"
#include "serve/server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void challenger_init(struct served_challenger *c)
{
    model_slot_init(&c->slot);
    atomic_init(&c->state, 0);
    c->seen_id = 0;
    atomic_init(&c->shadow_scored, 0);
    atomic_init(&c->shadow_agreed, 0);
    atomic_init(&c->canary_answered, 0);
}

void challenger_publish(struct served_challenger *c, enum challenger_mode mode, int percent,
                        int64_t rollout_id)
{
    uint64_t s = mode == CHALLENGER_OFF ? 0
                                        : (uint64_t)mode | (uint64_t)(percent & 0xff) << 8 |
                                              (uint64_t)rollout_id << 16;
    atomic_store_explicit(&c->state, s, memory_order_release);
}

void challenger_view_take(struct served_challenger *c, struct challenger_view *v)
{
    uint64_t s = atomic_load_explicit(&c->state, memory_order_acquire);
    v->mode = (enum challenger_mode)(s & 0xff);
    v->percent = (int)((s >> 8) & 0xff);
    v->rollout_id = (int64_t)(s >> 16);
    v->model = v->mode == CHALLENGER_OFF ? NULL : model_slot_acquire(&c->slot);
}

void challenger_view_release(struct challenger_view *v)
{
    served_model_release(v->model);
    v->model = NULL;
}

/* splitmix64's finaliser: every input bit moves every output bit, so the
 * buckets of FNV-hashed keys are even. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A per-thread generator for requests without a key: no lock, no system
 * call; seeded once per thread from the CSPRNG (through a random id). */
static uint64_t next_random(void)
{
    static _Thread_local uint64_t state;
    if (!state) {
        char id[UUID_STR_LEN];
        uuid_v4(id);
        state = hash_bytes(id, strlen(id)) | 1;
    }
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
}

int challenger_answers(const struct challenger_view *v, const char *key, size_t key_len)
{
    if (v->mode != CHALLENGER_CANARY || !v->model) return 0;
    /* the rollout id salts the key: a key is in one rollout's canary share,
     * not in every rollout's */
    uint64_t h =
        key ? mix64(hash_bytes(key, key_len) ^ mix64((uint64_t)v->rollout_id)) : next_random();
    return (int)(h % 100) < v->percent;
}

/* ---- shadow scoring after the reply ---- */

struct shadow_item {
    char *fields; /* the n_fields values, one after the other */
    size_t lens[TASK_MAX_TEXT_FIELDS];
    size_t n_fields;
    char answered_id[UUID_STR_LEN];
    char *answered_label;
    char *input_json;
};

struct shadow_job {
    const char *task; /* the config's, which outlives the server */
    const struct task_config *cfg;
    struct predlog *log;
    struct served_challenger *counters;
    struct served_model *model;
    int64_t rollout_id;
    size_t n, cap;
    struct shadow_item *items;
};

struct shadow_job *challenger_shadow_begin(struct served_task *t, struct predlog *log,
                                           struct challenger_view *v, size_t n)
{
    struct shadow_job *j = xcalloc(1, sizeof *j);
    j->task = t->cfg->name;
    j->cfg = t->cfg;
    j->log = log;
    j->counters = &t->challenger;
    j->model = v->model;
    v->model = NULL;
    j->rollout_id = v->rollout_id;
    j->cap = n ? n : 1;
    j->items = xcalloc(j->cap, sizeof *j->items);
    return j;
}

void challenger_shadow_add(struct shadow_job *j, const char *const *values, const size_t *lens,
                           size_t n_fields, const char *answered_id, const char *answered_label,
                           const char *input_json)
{
    if (j->n == j->cap || n_fields > TASK_MAX_TEXT_FIELDS) return; /* begin was told how many */
    struct shadow_item *it = &j->items[j->n++];
    size_t total = 0;
    for (size_t f = 0; f < n_fields; f++)
        total += lens[f];
    it->fields = xmalloc(total + 1);
    it->n_fields = n_fields;
    size_t at = 0;
    for (size_t f = 0; f < n_fields; f++) {
        if (lens[f]) memcpy(it->fields + at, values[f], lens[f]);
        it->lens[f] = lens[f];
        at += lens[f];
    }
    snprintf(it->answered_id, sizeof it->answered_id, "%s", answered_id);
    it->answered_label = xstrdup(answered_label);
    it->input_json = xstrdup(input_json);
}

void challenger_shadow_free(struct shadow_job *j)
{
    if (!j) return;
    for (size_t i = 0; i < j->n; i++) {
        free(j->items[i].fields);
        free(j->items[i].answered_label);
        free(j->items[i].input_json);
    }
    free(j->items);
    served_model_release(j->model);
    free(j);
}

/* Scores one item and queues its log record; 1 when it agreed. */
static int shadow_one(struct shadow_job *j, struct shadow_item *it, double *probs)
{
    int64_t t0 = time_mono_ns();
    const struct trained_model *m = j->model->model;
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t at = 0;
    for (size_t f = 0; f < it->n_fields; f++) {
        values[f] = it->fields + at;
        at += it->lens[f];
    }
    struct model_input in = {values, it->lens, it->n_fields, {0, 0, NULL, NULL, NULL}};
    double num[TASK_MAX_TABULAR_FIELDS];
    const char *cat[TASK_MAX_TABULAR_FIELDS];
    size_t cat_lens[TASK_MAX_TABULAR_FIELDS];
    json_t *input = NULL;
    if (j->cfg->n_numeric || j->cfg->n_categorical) {
        /* the logged input holds the tabular values: read again, after the reply */
        struct err e;
        input = json_loads(it->input_json, 0, NULL);
        if (input && !input_tabular_from_json(j->cfg, input, 0, num, cat, cat_lens, NULL, &e))
            in.tab = (struct tabular_values){j->cfg->n_numeric, j->cfg->n_categorical, num, cat,
                                             cat_lens};
    }
    size_t best = model_predict_input(m, &in, probs);
    json_decref(input);
    char id[UUID_STR_LEN];
    uuid_v7(id);
    json_t *answer = json_pack("{s:s,s:s,s:I}", "prediction_id", id, "task", j->task,
                               "model_version", (json_int_t)j->model->version);
    answer_add_labels(answer, m, probs, best);
    json_object_set_new(answer, "shadow_of", json_string(it->answered_id));
    char *output = json_dumps(answer, JSON_COMPACT | JSON_REAL_PRECISION(8));
    /* a multilabel answer is logged, and compared, as its whole set */
    struct buf set;
    buf_init(&set);
    const char *label = answer_logged_label(answer, &set);
    struct store_prediction rec = {
        .id = id,
        .task = j->task,
        .model_version = j->model->version,
        .input_json = it->input_json,
        .label = label,
        .output_json = output,
        .latency_us = (time_mono_ns() - t0) / 1000,
        .created_ms = time_now_ms(),
        .rollout_id = j->rollout_id,
        .shadow_of = it->answered_id,
    };
    predlog_enqueue(j->log, &rec);
    free(output);
    int agreed = strcmp(label, it->answered_label) == 0;
    buf_free(&set);
    json_decref(answer);
    return agreed;
}

void challenger_shadow_run(void *job)
{
    struct shadow_job *j = job;
    size_t n_labels = model_n_labels(j->model->model);
    double *probs = xmalloc((n_labels ? n_labels : 1) * sizeof *probs);
    uint64_t agreed = 0;
    for (size_t i = 0; i < j->n; i++)
        agreed += (uint64_t)shadow_one(j, &j->items[i], probs);
    atomic_fetch_add_explicit(&j->counters->shadow_scored, j->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&j->counters->shadow_agreed, agreed, memory_order_relaxed);
    free(probs);
    challenger_shadow_free(j);
}

/* ---- the watcher ---- */

/* Stops serving the current challenger: requests first stop asking for it,
 * then the slot lets it go (in-flight requests finish with their reference). */
void challenger_clear(struct served_challenger *c)
{
    challenger_publish(c, CHALLENGER_OFF, 0, 0);
    model_slot_clear(&c->slot);
}

static void refresh_task(struct served_task *t, struct store *st)
{
    struct err e;
    err_clear(&e);
    struct store_rollout ro;
    int found = store_rollout_active(st, t->cfg->name, &ro, &e);
    if (found < 0) {
        log_warn("task %s: cannot read the rollout: %s", t->cfg->name, e.msg);
        return; /* keep serving what is served */
    }
    int64_t want = found ? ro.id : 0;
    struct served_challenger *c = &t->challenger;
    if (want == c->seen_id) return;
    /* act once per change: a challenger that fails to load is not retried
     * every poll; the champion keeps all the traffic */
    c->seen_id = want;
    if (atomic_load(&c->state)) {
        challenger_clear(c);
        log_info("task %s: rollout ended, the champion answers all requests", t->cfg->name);
    }
    if (!found) return;
    struct trained_model *m = server_model_load(t, st, ro.challenger_version, &e);
    if (!m) {
        log_error("task %s: rollout %lld: challenger version %lld not served, the champion "
                  "keeps all traffic: %s",
                  t->cfg->name, (long long)ro.id, (long long)ro.challenger_version, e.msg);
        return;
    }
    model_slot_install_with(&c->slot, m, ro.challenger_version, NULL,
                            server_version_counts(t, m, ro.challenger_version));
    int canary = strcmp(ro.strategy, "canary") == 0;
    /* published last: a request that sees the state finds the model loaded */
    challenger_publish(c, canary ? CHALLENGER_CANARY : CHALLENGER_SHADOW, canary ? ro.percent : 0,
                       ro.id);
    if (canary)
        log_info("task %s: rollout %lld: version %lld answers %d%% of requests (canary)",
                 t->cfg->name, (long long)ro.id, (long long)ro.challenger_version, ro.percent);
    else
        log_info("task %s: rollout %lld: version %lld scores every request in shadow", t->cfg->name,
                 (long long)ro.id, (long long)ro.challenger_version);
}

void challenger_refresh(struct server *srv, struct store *st)
{
    for (size_t i = 0; i < srv->n_tasks; i++)
        refresh_task(&srv->tasks[i], st);
}
