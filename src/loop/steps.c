#include "loop/steps.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "eval/gate.h"
#include "loop/check.h"
#include "loop/contract.h"
#include "loop/corpus.h"
#include "loop/train.h"
#include "loop/train_multilabel.h"
#include "ml/model.h"
#include "monitor/notify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Merges patch into the stored state and the in-memory copy. Steals patch. */
/* Who moves aliases in this step: the CLI user for `boucle deploy`, else the loop. */
static const char *actor_of(const struct step_ctx *c)
{
    return c->actor ? c->actor : "loop";
}

static int publish(struct step_ctx *c, json_t *patch, struct err *e)
{
    int rc = store_run_state_merge(c->st, c->run_id, patch, e);
    if (rc == 0 && c->state) json_object_update(c->state, patch);
    json_decref(patch);
    return rc;
}

/* ---- check ---- */

int step_check(struct step_ctx *c, struct err *e)
{
    struct check_result r;
    if (check_retrain(c->st, c->task, time_now_ms(), 0, &r, e) != 0) {
        check_result_free(&r);
        return -1;
    }
    char *summary = check_result_summary(&r);
    step_log(c, "check: %s", summary);
    json_t *patch = json_pack("{s:{s:b,s:O,s:O}}", "check", "needed", r.needed, "fired", r.fired,
                              "quiet", r.quiet);
    int if_needed = c->payload && json_is_true(json_object_get(c->payload, "if_needed"));
    if (if_needed && !r.needed)
        json_object_set_new(patch, "stop", json_sprintf("no retrain needed: %s", summary));
    free(summary);
    check_result_free(&r);
    return publish(c, patch, e);
}

/* ---- prepare: gold feedback becomes a dataset version ---- */

/* A stable coin per feedback: the same feedback is always held out or not. */
static int held_out(const char *feedback_id, double share)
{
    char hex[SHA256_HEX_LEN];
    sha256_hex(feedback_id, strlen(feedback_id), hex);
    unsigned int v = 0;
    sscanf(hex, "%8x", &v);
    return (double)v / 4294967296.0 < share;
}

/* The gold feedback as a dataset version, with its profile and the check
 * of its labels against the contract (logged; never a refusal). */
static int add_feedback_version(struct step_ctx *c, const char *hash, const char *source,
                                const struct store_example *rows, size_t n, int64_t *id,
                                struct err *e)
{
    struct store_dataset_meta meta;
    json_t *check;
    struct err why;
    err_clear(&why);
    contract_feedback(c->st, c->task, rows, n, &meta, &check, &why);
    if (why.code) step_log(c, "prepare: no profile for the feedback rows: %s", why.msg);
    int rc = store_dataset_add_meta(c->st, c->task->name, hash, source, rows, n, &meta, id, e);
    if (rc == 0 && check && json_integer_value(json_object_get(check, "violations"))) {
        struct buf b;
        buf_init(&b);
        contract_text(check, &b);
        step_log(c,
                 "prepare: the feedback's labels break the data contract of dataset %lld "
                 "(recorded; feedback is never refused):\n%s",
                 (long long)json_integer_value(json_object_get(check, "baseline_dataset_id")),
                 b.data);
        buf_free(&b);
    }
    json_decref(check);
    free((char *)meta.profile_json);
    free((char *)meta.contract_json);
    return rc;
}

int step_prepare(struct step_ctx *c, struct err *e)
{
    json_t *gold = store_feedback_gold_unused(c->st, c->task->name, e);
    if (!gold) return -1;
    size_t n = json_array_size(gold);
    if (n == 0) {
        step_log(c, "prepare: no new gold feedback; training on the existing examples");
        json_decref(gold);
        return publish(
            c, json_pack("{s:{s:i,s:i}}", "prepare", "feedback_train", 0, "feedback_holdout", 0),
            e);
    }
    struct store_example *rows = xcalloc(n, sizeof *rows);
    char **inputs = xcalloc(n, sizeof *inputs);
    const char **train_ids = xcalloc(n, sizeof *train_ids);
    const char **holdout_ids = xcalloc(n, sizeof *holdout_ids);
    size_t n_train = 0, n_holdout = 0;
    struct sha256_ctx h;
    sha256_begin(&h);
    sha256_add(&h, c->run_id, strlen(c->run_id) + 1);
    for (size_t i = 0; i < n; i++) {
        json_t *g = json_array_get(gold, i);
        const char *id = json_string_value(json_object_get(g, "feedback_id"));
        const char *label = json_string_value(json_object_get(g, "label"));
        inputs[i] = json_dumps(json_object_get(g, "input"), JSON_COMPACT);
        int test = held_out(id, c->task->feedback_holdout);
        rows[i] = (struct store_example){.input_json = inputs[i] ? inputs[i] : "{}",
                                         .label = label ? label : "",
                                         .split = test,
                                         .line = (int64_t)i + 1};
        if (test)
            holdout_ids[n_holdout++] = id;
        else
            train_ids[n_train++] = id;
        sha256_add(&h, rows[i].input_json, strlen(rows[i].input_json) + 1);
        sha256_add(&h, rows[i].label, strlen(rows[i].label) + 1);
    }
    char hash[SHA256_HEX_LEN], source[80];
    sha256_end(&h, hash);
    snprintf(source, sizeof source, "feedback:%s", c->run_id);
    int64_t dataset_id = 0;
    /* a retried prepare finds the dataset its first attempt added */
    int found = store_dataset_find(c->st, c->task->name, hash, &dataset_id, e);
    int rc = found < 0 ? -1 : 0;
    if (rc == 0 && !found) rc = add_feedback_version(c, hash, source, rows, n, &dataset_id, e);
    if (rc == 0 && n_train)
        rc = store_feedback_mark_used(c->st, train_ids, n_train, c->run_id, "train", e);
    if (rc == 0 && n_holdout)
        rc = store_feedback_mark_used(c->st, holdout_ids, n_holdout, c->run_id, "holdout", e);
    if (rc == 0) {
        step_log(c,
                 "prepare: %zu gold feedback -> dataset %lld: %zu for training, %zu held out "
                 "for evaluation",
                 n, (long long)dataset_id, n_train, n_holdout);
        rc = publish(c,
                     json_pack("{s:{s:I,s:I,s:I}}", "prepare", "feedback_train",
                               (json_int_t)n_train, "feedback_holdout", (json_int_t)n_holdout,
                               "dataset_id", (json_int_t)dataset_id),
                     e);
    }
    for (size_t i = 0; i < n; i++)
        free(inputs[i]);
    free(inputs);
    free(rows);
    free(train_ids);
    free(holdout_ids);
    json_decref(gold);
    return rc;
}

/* ---- train ---- */

int step_train(struct step_ctx *c, struct err *e)
{
    struct train_options opt = {.champion_if_none = 1, .alias = "challenger", .actor = actor_of(c)};
    struct train_result r;
    if (train_in_run(c->st, c->cfg, c->task, c->run_id, &opt, &r, e) != 0) {
        train_result_free(&r);
        return -1;
    }
    json_t *patch = json_pack("{s:o,s:I,s:b}", "train", train_result_json(&r), "challenger_version",
                              (json_int_t)r.version, "first_version", r.became_champion);
    train_result_free(&r);
    return publish(c, patch, e);
}

/* ---- evaluate: champion and challenger on the same held-out examples ---- */

static struct trained_model *load_version(struct store *st, const struct task_config *task,
                                          int64_t version, struct err *e)
{
    void *data = NULL;
    size_t len = 0;
    if (store_model_artifact(st, task->name, version, &data, &len, e) != 0) return NULL;
    struct trained_model *m = model_load(data, len, e);
    free(data);
    if (!m) err_prefix(e, "model version %lld", (long long)version);
    return m;
}

/* Predicts every test example and maps the answer into the shared label list.
 * Each model prepares the raw fields its own way, as it would when serving. */
static void predict_all(struct trained_model *m, const struct corpus *c, const int *test_rows,
                        size_t n, const char **names, size_t n_names, int *out)
{
    size_t nl = model_n_labels(m);
    double *probs = xmalloc(nl * sizeof *probs);
    for (size_t i = 0; i < n; i++) {
        size_t row = (size_t)test_rows[i];
        struct model_input in = corpus_input(c, row);
        size_t best = model_predict_input(m, &in, probs);
        out[i] = corpus_index(names, n_names, model_label(m, best));
    }
    free(probs);
}

static int gate_models(struct step_ctx *c, struct trained_model *champion,
                       struct trained_model *challenger, json_t **decision, struct err *e)
{
    struct corpus cor;
    if (corpus_load(c->st, c->task, c->cfg->limits.max_field_bytes, &cor, e) != 0) return -1;
    /* the held-out rows the task's cleaning keeps (the challenger's own
     * preparation), the same rows for both models */
    corpus_prepare(&cor, &c->task->clean);
    if (c->task->type == TASK_MULTILABEL) {
        int rc = train_multilabel_compare(&c->task->gate, &cor, champion, challenger, decision, e);
        corpus_free(&cor);
        if (rc != 0) err_prefix(e, "task '%s'", c->task->name);
        return rc;
    }
    /* one label list for the truth and both models: a class may be new */
    size_t n_all = cor.n + model_n_labels(champion) + model_n_labels(challenger);
    char **all = xmalloc((n_all ? n_all : 1) * sizeof *all);
    size_t k = 0, n_test = 0;
    int *rows = xmalloc((cor.n ? cor.n : 1) * sizeof *rows);
    for (size_t i = 0; i < cor.n; i++)
        if (cor.split[i] == 1 && cor.texts[i]) {
            rows[n_test++] = (int)i;
            all[k++] = cor.labels[i];
        }
    for (size_t i = 0; i < model_n_labels(champion); i++)
        all[k++] = (char *)model_label(champion, i);
    for (size_t i = 0; i < model_n_labels(challenger); i++)
        all[k++] = (char *)model_label(challenger, i);
    const char **names = NULL;
    size_t n_names = corpus_distinct(all, k, &names);
    int rc = -1;
    int *y = xmalloc((n_test ? n_test : 1) * sizeof *y);
    int *p_champ = xmalloc((n_test ? n_test : 1) * sizeof *p_champ);
    int *p_chall = xmalloc((n_test ? n_test : 1) * sizeof *p_chall);
    if (n_test == 0) {
        err_set(e, ERR_INVALID, "task '%s' has no held-out examples to compare models on",
                c->task->name);
        goto done;
    }
    for (size_t i = 0; i < n_test; i++)
        y[i] = corpus_index(names, n_names, cor.labels[rows[i]]);
    predict_all(champion, &cor, rows, n_test, names, n_names, p_champ);
    predict_all(challenger, &cor, rows, n_test, names, n_names, p_chall);
    struct gate_decision d;
    memset(&d, 0, sizeof d);
    rc = gate_decide(&c->task->gate, y, p_champ, p_chall, n_test, n_names, names, 42, &d, e);
    if (rc == 0) *decision = gate_decision_to_json(&d);
    gate_decision_free(&d);
done:
    free(y);
    free(p_champ);
    free(p_chall);
    free(rows);
    free(all);
    free(names);
    corpus_free(&cor);
    return rc;
}

int step_evaluate(struct step_ctx *c, struct err *e)
{
    json_t *cv = json_object_get(c->state, "challenger_version");
    int64_t challenger_v = 0;
    if (json_is_integer(cv)) {
        challenger_v = json_integer_value(cv);
    } else if (store_alias_get(c->st, c->task->name, "challenger", &challenger_v, e) <= 0) {
        if (e->code == ERR_OK)
            err_set(e, ERR_INVALID, "no challenger to evaluate: run the train step first");
        return -1;
    }
    int64_t champion_v = 0;
    int has = store_alias_get(c->st, c->task->name, "champion", &champion_v, e);
    if (has < 0) return -1;
    json_t *decision = NULL;
    if (!has || champion_v == challenger_v) {
        const char *why = !has ? "no champion yet: the challenger becomes the first"
                               : "the challenger is already the champion (first version)";
        decision = json_pack("{s:b,s:[s]}", "deploy", 1, "reasons", why);
        step_log(c, "evaluate: %s", why);
    } else {
        struct trained_model *champ = load_version(c->st, c->task, champion_v, e);
        struct trained_model *chall = champ ? load_version(c->st, c->task, challenger_v, e) : NULL;
        struct err other;
        err_clear(&other);
        int rc = champ && chall ? model_check_fields(chall, c->task, e) : -1;
        /* a champion reading other tabular fields than the task now lists
         * cannot score its data (nor be served with this config) */
        if (!rc && model_check_fields(champ, c->task, &other) != 0) {
            decision = json_pack("{s:b,s:[s+]}", "deploy", 1, "reasons",
                                 "the champion cannot be compared on this config: ", other.msg);
        } else if (!rc) {
            rc = gate_models(c, champ, chall, &decision, e);
        }
        model_release(champ);
        model_release(chall);
        if (rc != 0) return -1;
        json_object_set_new(decision, "champion_version", json_integer(champion_v));
        json_object_set_new(decision, "challenger_version", json_integer(challenger_v));
        size_t i;
        json_t *reason;
        step_log(c, "evaluate: version %lld vs champion %lld: %s", (long long)challenger_v,
                 (long long)champion_v,
                 json_is_true(json_object_get(decision, "deploy")) ? "deploy" : "keep champion");
        json_array_foreach(json_object_get(decision, "reasons"), i, reason)
            step_log(c, "  %s", json_string_value(reason));
    }
    return publish(c, json_pack("{s:o}", "decision", decision), e);
}

/* ---- deploy ---- */

/* The challenger goes out as a shadow or canary beside the champion; the
 * automatic decision (loop/rollout.h) or a person ends it. A rollout still
 * running from an earlier run is superseded: this challenger passed the
 * gate against the champion now. */
static int deploy_rollout(struct step_ctx *c, int64_t version, enum rollout_strategy strategy,
                          const char *reason, struct err *e)
{
    struct rollout_request r = {.strategy = strategy};
    if (c->rollout) r = *c->rollout;
    rollout_request_defaults(&r, c->task);
    r.version = version;
    r.reason = reason;
    r.run_id = c->run_id;
    char why[160];
    snprintf(why, sizeof why, "superseded by version %lld of run %s", (long long)version,
             c->run_id);
    struct rollout_outcome ended;
    int rc = rollout_finish(c->st, c->task, "stopped", why, &ended, e);
    if (rc < 0) return -1;
    if (rc == 1) step_log(c, "deploy: %s", ended.reason);
    int64_t id = 0;
    if (rollout_start(c->st, c->task, &r, &id, e) != 0) return -1;
    if (r.strategy == ROLLOUT_CANARY)
        step_log(c,
                 "deploy: version %lld answers %d%% of requests as a canary (rollout %lld); "
                 "promoted or rolled back after %ld judged predictions on each side",
                 (long long)version, r.percent, (long long)id, r.min_feedback);
    else
        step_log(c, "deploy: version %lld scores live traffic in shadow (rollout %lld)",
                 (long long)version, (long long)id);
    return publish(c,
                   json_pack("{s:b,s:{s:I,s:s,s:I,s:i}}", "deployed", 0, "rollout", "id",
                             (json_int_t)id, "strategy", rollout_strategy_name(r.strategy),
                             "version", (json_int_t)version, "percent",
                             r.strategy == ROLLOUT_CANARY ? r.percent : 0),
                   e);
}

int step_deploy(struct step_ctx *c, struct err *e)
{
    json_t *decision = json_object_get(c->state, "decision");
    json_t *cv = json_object_get(c->state, "challenger_version");
    if (!decision || !json_is_integer(cv))
        return err_set(e, ERR_INVALID, "nothing to deploy: the evaluate step has not decided");
    int64_t version = json_integer_value(cv);
    if (!json_is_true(json_object_get(decision, "deploy"))) {
        step_log(c, "deploy: version %lld not deployed, the champion stays", (long long)version);
        return publish(c, json_pack("{s:b}", "deployed", 0), e);
    }
    int64_t previous = 0;
    if (store_alias_get(c->st, c->task->name, "champion", &previous, e) < 0) return -1;
    if (previous == version) {
        step_log(c, "deploy: version %lld is already the champion", (long long)version);
        return publish(
            c, json_pack("{s:b,s:I}", "deployed", 1, "deployed_version", (json_int_t)version), e);
    }
    char reason[160];
    snprintf(reason, sizeof reason, "run %s: the gate passed", c->run_id);
    enum rollout_strategy strategy = c->rollout ? c->rollout->strategy : c->task->rollout.strategy;
    if (strategy != ROLLOUT_DIRECT && previous != 0)
        return deploy_rollout(c, version, strategy, reason, e);
    if (store_alias_deploy(c->st, c->task->name, version, reason, actor_of(c), e) != 0) return -1;
    step_log(c, "deploy: version %lld is now the champion (was %lld)", (long long)version,
             (long long)previous);
    return publish(c,
                   json_pack("{s:b,s:I,s:I}", "deployed", 1, "deployed_version",
                             (json_int_t)version, "previous_version", (json_int_t)previous),
                   e);
}

/* ---- notify ---- */

int step_notify(struct step_ctx *c, struct err *e)
{
    json_t *decision = json_object_get(c->state, "decision");
    json_t *stop = json_object_get(c->state, "stop");
    int deployed = json_is_true(json_object_get(c->state, "deployed"));
    json_int_t version = json_integer_value(json_object_get(c->state, "challenger_version"));
    const char *primary = json_string_value(json_object_get(decision, "primary"));
    char subject[512];
    const char *event;
    if (c->failed_step) {
        event = "failed";
        snprintf(subject, sizeof subject, "%s: retrain failed at step %s: %.300s", c->task->name,
                 c->failed_step, c->failure ? c->failure : "");
    } else if (stop) {
        event = "skipped";
        snprintf(subject, sizeof subject, "%s: %s", c->task->name, json_string_value(stop));
    } else if (json_object_get(c->state, "rollout")) {
        json_t *ro = json_object_get(c->state, "rollout");
        const char *strategy = json_string_value(json_object_get(ro, "strategy"));
        event = "rollout";
        if (strategy && strcmp(strategy, "canary") == 0)
            snprintf(subject, sizeof subject, "%s: version %lld in canary at %lld%%", c->task->name,
                     (long long)version,
                     (long long)json_integer_value(json_object_get(ro, "percent")));
        else
            snprintf(subject, sizeof subject, "%s: version %lld in shadow", c->task->name,
                     (long long)version);
    } else if (deployed) {
        event = "deployed";
        if (primary)
            snprintf(subject, sizeof subject, "%s: version %lld deployed (%s %.4f -> %.4f)",
                     c->task->name, (long long)version, primary,
                     json_number_value(json_object_get(decision, "champion")),
                     json_number_value(json_object_get(decision, "challenger")));
        else
            snprintf(subject, sizeof subject, "%s: version %lld deployed", c->task->name,
                     (long long)version);
    } else if (decision) {
        event = "refused";
        const char *why = json_string_value(json_object_get(decision, "refusal"));
        snprintf(subject, sizeof subject, "%s: version %lld refused: %.300s", c->task->name,
                 (long long)version, why ? why : "");
    } else {
        event = "completed";
        snprintf(subject, sizeof subject, "%s: pipeline completed", c->task->name);
    }
    struct buf body;
    buf_init(&body);
    buf_printf(&body, "%s\n\nrun: %s\ntask: %s\n", subject, c->run_id, c->task->name);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(decision, "reasons"), i, r)
        buf_printf(&body, "- %s\n", json_string_value(r));
    struct notification n = {.task = c->task->name,
                             .event = event,
                             .subject = subject,
                             .body = body.data,
                             .details = c->state};
    int rc = notify_send(&c->task->notify, &n, e);
    buf_free(&body);
    if (rc == 0) rc = publish(c, json_pack("{s:s}", "notified", event), e);
    return rc;
}

int step_run_builtin(enum step_kind kind, struct step_ctx *c, struct err *e)
{
    switch (kind) {
    case STEP_CHECK:
        return step_check(c, e);
    case STEP_PREPARE:
        return step_prepare(c, e);
    case STEP_TRAIN:
        return step_train(c, e);
    case STEP_EVALUATE:
        return step_evaluate(c, e);
    case STEP_DEPLOY:
        return step_deploy(c, e);
    case STEP_NOTIFY:
        return step_notify(c, e);
    case STEP_COMMAND:
        break;
    }
    return err_set(e, ERR_INTERNAL, "step %s is not a built-in step", step_kind_name(kind));
}
