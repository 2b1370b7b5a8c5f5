/* boucle simulate --task T --stream FILE [options] — replays labeled rows as
 * live traffic through a running server's HTTP API: predicts each row, sends
 * the feedback a user would (+1 when right, -1 with the true label when
 * wrong, at the given rates), and reports live accuracy per window, model
 * version changes, and the retrains that fired with their gate decisions.
 *
 * Everything goes through HTTP on one keep-alive connection, so what is
 * measured is what a client sees. Deterministic for a --seed (splitmix64). */
#include "cli/cli.h"

#include "base/version.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "data/examples.h"
#include "data/labelset.h"
#include "data/table.h"
#include "serve/answer.h"

#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    MAX_SHOWN_FAILURES = 5,      /* failed requests printed; the rest are counted */
    MAX_TRANSPORT_IN_A_ROW = 20, /* the server is gone: stop instead of spinning */
    MAX_WINDOW_VERSIONS = 16,
    RUNS_POLL_LIMIT = 20,
};

struct tracked_run {
    char id[64];
    int active_seen; /* seen pending/running */
    int done;        /* finished and reported, or finished before we started */
};

struct sim {
    /* settings */
    const struct task_config *task;
    const char *stream;
    char *url;
    double feedback_rate, correct_rate;
    int json;
    uint64_t rng;

    /* HTTP: one easy handle, so one keep-alive connection */
    CURL *curl;
    struct curl_slist *post_headers, *get_headers;
    char *task_escaped;
    struct buf resp;
    char *last_url;
    char errbuf[CURL_ERROR_SIZE];

    /* counters */
    size_t rows, predicted, correct;
    size_t fb_sent, fb_pos, fb_neg, fb_corrected, fb_label_unknown;
    size_t failures, shown, transport_in_a_row;

    /* the current window */
    size_t win_from, win_rows, win_pred, win_correct, win_fb;
    int64_t win_versions[MAX_WINDOW_VERSIONS];
    size_t win_nv;

    int64_t last_version;
    json_t *versions; /* every version served, in order of first sight */
    json_t *windows, *deploys, *retrains;
    size_t rt_completed, rt_deployed, rt_refused, rt_failed;

    struct tracked_run *runs;
    size_t n_runs, cap_runs;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---- small helpers ---- */

/* splitmix64, as examples_split_stratified: the same on every platform. */
static uint64_t sim_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double sim_uniform(struct sim *s) /* [0, 1) */
{
    return (double)(sim_next(&s->rng) >> 11) * 0x1.0p-53;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_count(const char *s, long long lo, long long *out)
{
    if (!s || !*s) return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < lo) return -1;
    *out = v;
    return 0;
}

static json_t *json_ratio(size_t num, size_t den)
{
    return den ? json_real((double)num / (double)den) : json_null();
}

static void versions_text(const int64_t *v, size_t n, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < n; i++)
        buf_printf(out, "%sv%lld", i ? "," : "", (long long)v[i]);
    if (!n) buf_append_str(out, "-");
}

static void sim_failure(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_failure(struct sim *s, const char *fmt, ...)
{
    s->failures++;
    if (s->shown >= MAX_SHOWN_FAILURES) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "boucle: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (++s->shown == MAX_SHOWN_FAILURES)
        fprintf(stderr, "boucle: (further failed requests are counted, not shown)\n");
}

/* ---- HTTP ---- */

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    buf_append(user, data, size * n);
    return size * n;
}

static int http_init(struct sim *s, const char *token)
{
    s->curl = curl_easy_init();
    if (!s->curl) return -1;
    s->post_headers = curl_slist_append(NULL, "Content-Type: application/json");
    s->post_headers = curl_slist_append(s->post_headers, "Accept: application/json");
    s->post_headers = curl_slist_append(s->post_headers, "Expect:"); /* no 100-continue wait */
    s->get_headers = curl_slist_append(NULL, "Accept: application/json");
    if (token && *token) {
        char *auth = xasprintf("Authorization: Bearer %s", token);
        s->post_headers = curl_slist_append(s->post_headers, auth);
        s->get_headers = curl_slist_append(s->get_headers, auth);
        free(auth);
    }
    s->task_escaped = curl_easy_escape(s->curl, s->task->name, 0);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    char agent[96];
    snprintf(agent, sizeof agent, "boucle-simulate/%s", boucle_version);
    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, agent); /* curl copies it */
    return s->post_headers && s->get_headers && s->task_escaped ? 0 : -1;
}

static void http_free(struct sim *s)
{
    if (s->task_escaped) curl_free(s->task_escaped);
    curl_slist_free_all(s->post_headers);
    curl_slist_free_all(s->get_headers);
    if (s->curl) curl_easy_cleanup(s->curl);
    buf_free(&s->resp);
    free(s->last_url);
}

/* One request to s->url + path; body NULL = GET. Returns the HTTP status, or
 * 0 on a transport failure (s->errbuf says why). The answer is parsed into
 * *doc when it is JSON (else *doc = NULL). */
static long http_call(struct sim *s, const char *path, const char *body, json_t **doc)
{
    *doc = NULL;
    free(s->last_url);
    s->last_url = xasprintf("%s%s", s->url, path);
    buf_reset(&s->resp);
    s->errbuf[0] = 0;
    curl_easy_setopt(s->curl, CURLOPT_URL, s->last_url);
    if (body) {
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->post_headers);
    } else {
        curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->get_headers);
    }
    CURLcode rc = curl_easy_perform(s->curl);
    if (rc != CURLE_OK) {
        if (!s->errbuf[0]) snprintf(s->errbuf, sizeof s->errbuf, "%s", curl_easy_strerror(rc));
        s->transport_in_a_row++;
        return 0;
    }
    s->transport_in_a_row = 0;
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (s->resp.len) *doc = json_loadb(s->resp.data, s->resp.len, 0, NULL);
    return status;
}

static const char *error_part(json_t *doc, const char *key)
{
    return json_string_value(json_object_get(json_object_get(doc, "error"), key));
}

/* "cannot reach URL: reason" or "HTTP 500 from URL: message" */
static void describe_failure(struct sim *s, long status, json_t *doc, struct buf *out)
{
    buf_reset(out);
    if (!status) {
        buf_printf(out, "cannot reach %s: %s", s->last_url, s->errbuf);
        return;
    }
    const char *msg = error_part(doc, "message");
    if (msg)
        buf_printf(out, "HTTP %ld from %s: %s", status, s->last_url, msg);
    else
        buf_printf(out, "HTTP %ld from %s: %.200s", status, s->last_url,
                   s->resp.data ? s->resp.data : "(empty answer)");
}

/* ---- runs: retrains as they fire and finish ---- */

static struct tracked_run *run_find(struct sim *s, const char *id)
{
    for (size_t i = 0; i < s->n_runs; i++)
        if (strcmp(s->runs[i].id, id) == 0) return &s->runs[i];
    return NULL;
}

static struct tracked_run *run_add(struct sim *s, const char *id)
{
    if (s->n_runs == s->cap_runs) {
        s->cap_runs = s->cap_runs ? 2 * s->cap_runs : 16;
        s->runs = xrealloc(s->runs, s->cap_runs * sizeof *s->runs);
    }
    struct tracked_run *r = &s->runs[s->n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    return r;
}

static size_t runs_active(const struct sim *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        n += s->runs[i].active_seen && !s->runs[i].done;
    return n;
}

static int status_active(const char *status)
{
    return str_eq(status, "pending") || str_eq(status, "running") || str_eq(status, "queued");
}

static const char *trigger_text(json_t *run)
{
    json_t *t = json_object_get(run, "trigger");
    if (json_is_string(t)) return json_string_value(t);
    const char *k = json_string_value(json_object_get(t, "kind"));
    if (!k) k = json_string_value(json_object_get(t, "type"));
    return k;
}

/* A score in the decision: a number, or an object holding the primary metric. */
static int decision_score(json_t *dec, const char *who, const char *primary, double *out)
{
    json_t *v = json_object_get(dec, who);
    if (json_is_object(v) && primary) v = json_object_get(v, primary);
    if (!json_is_number(v)) {
        char key[48];
        snprintf(key, sizeof key, "%s_score", who);
        v = json_object_get(dec, key);
    }
    if (!json_is_number(v)) return -1;
    *out = json_number_value(v);
    return 0;
}

static const char *reason_text(json_t *reason)
{
    if (json_is_string(reason)) return json_string_value(reason);
    const char *m = json_string_value(json_object_get(reason, "message"));
    return m ? m : json_string_value(json_object_get(reason, "reason"));
}

/* The gate names the check that refused; a decision without that field
 * (another producer) only lists reasons, the passed ones "...: ok". */
static const char *refusal_reason(json_t *dec)
{
    const char *why = json_string_value(json_object_get(dec, "refusal"));
    if (why) return why;
    json_t *reasons = json_object_get(dec, "reasons");
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r)
    {
        const char *t = reason_text(r);
        if (t && !strstr(t, ": ok") && !strstr(t, ": significant")) return t;
    }
    return reason_text(json_array_get(reasons, 0));
}

static json_t *first_integer(json_t *a, json_t *b, json_t *c)
{
    return json_is_integer(a) ? a : json_is_integer(b) ? b : json_is_integer(c) ? c : NULL;
}

static void failure_reason(json_t *run, json_t *state, struct buf *out)
{
    const char *why = json_string_value(json_object_get(state, "error"));
    if (!why) why = json_string_value(json_object_get(run, "error"));
    if (why) {
        buf_append_str(out, why);
        return;
    }
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(run, "steps"), i, step)
    {
        if (!str_eq(json_string_value(json_object_get(step, "status")), "failed")) continue;
        const char *name = json_string_value(json_object_get(step, "name"));
        const char *err = json_string_value(json_object_get(step, "error"));
        buf_printf(out, "step %s: %s", name ? name : "?", err ? err : "failed");
        return;
    }
    json_t *logs = json_object_get(run, "logs");
    size_t n = json_array_size(logs);
    const char *last = n ? json_string_value(json_array_get(logs, n - 1)) : NULL;
    buf_append_str(out, last ? last : "no reason recorded");
}

static void report_run(struct sim *s, json_t *listed)
{
    const char *id = json_string_value(json_object_get(listed, "id"));
    /* the list has no state: read the whole run */
    char *path = xasprintf("/v1/runs/%s", id);
    json_t *full = NULL;
    long status = http_call(s, path, NULL, &full);
    free(path);
    struct buf msg;
    buf_init(&msg);
    if (status < 200 || status >= 300 || !json_is_object(full)) {
        describe_failure(s, status, full, &msg);
        sim_failure(s, "reading retrain run %s: %s", id, msg.data);
        json_decref(full);
        full = json_incref(listed);
        buf_reset(&msg);
    }
    const char *run_status = json_string_value(json_object_get(full, "status"));
    if (!run_status) run_status = json_string_value(json_object_get(listed, "status"));
    if (!run_status) run_status = "unknown";
    const char *trigger = trigger_text(full);
    if (!trigger) trigger = trigger_text(listed);
    json_t *state = json_object_get(full, "state");
    json_t *parsed_state = NULL;
    if (json_is_string(state)) state = parsed_state = json_loads(json_string_value(state), 0, NULL);
    json_t *dec = json_object_get(state, "decision");
    /* the version the run made: deployed, else its challenger */
    json_t *chv = first_integer(json_object_get(state, "deployed_version"),
                                json_object_get(state, "challenger_version"),
                                json_object_get(dec, "challenger_version"));
    const char *primary = json_string_value(json_object_get(dec, "primary"));
    double champ = NAN, chall = NAN;
    int have_scores = decision_score(dec, "champion", primary, &champ) == 0 &&
                      decision_score(dec, "challenger", primary, &chall) == 0;
    /* the deploy step's word ("deployed") wins over the gate's ("deploy") */
    json_t *deploy = json_object_get(state, "deployed");
    if (!json_is_boolean(deploy)) deploy = json_object_get(dec, "deploy");
    const char *stop = json_string_value(json_object_get(state, "stop"));
    const char *outcome = run_status;
    const char *reason = NULL;
    struct buf why;
    buf_init(&why);

    buf_printf(&msg, "retrain %.8s %s", id, run_status);
    if (str_eq(run_status, "completed")) {
        s->rt_completed++;
        if (json_is_true(deploy)) {
            outcome = "deployed";
            s->rt_deployed++;
            if (chv)
                buf_printf(&msg, ": deployed v%lld", (long long)json_integer_value(chv));
            else
                buf_append_str(&msg, ": deployed");
        } else if (json_is_boolean(deploy)) {
            outcome = "refused";
            s->rt_refused++;
            reason = refusal_reason(dec);
            if (chv) buf_printf(&msg, ": v%lld", (long long)json_integer_value(chv));
            buf_printf(&msg, " refused: %s", reason ? reason : "no reason given");
        } else if (stop) {
            outcome = "skipped";
            reason = stop;
            buf_printf(&msg, ": skipped: %s", stop);
        } else if (chv) {
            buf_printf(&msg, ": v%lld registered, no gate decision recorded",
                       (long long)json_integer_value(chv));
        } else {
            buf_append_str(&msg, ": no gate decision recorded");
        }
        if (have_scores)
            buf_printf(&msg, " (%s %.4f -> %.4f)", primary ? primary : "score", champ, chall);
    } else if (str_eq(run_status, "failed")) {
        s->rt_failed++;
        failure_reason(full, state, &why);
        reason = why.data;
        buf_printf(&msg, ": %s", reason);
    }
    if (trigger) buf_printf(&msg, " [trigger %s]", trigger);
    if (!s->json) {
        printf("%s\n", msg.data);
        fflush(stdout);
    }

    json_t *r = json_pack("{s:s,s:s,s:s}", "run_id", id, "status", run_status, "outcome", outcome);
    json_object_set_new(r, "trigger", trigger ? json_string(trigger) : json_null());
    json_object_set(r, "version", chv ? chv : json_null());
    json_object_set_new(r, "primary", primary ? json_string(primary) : json_null());
    json_object_set_new(r, "champion", have_scores ? json_real(champ) : json_null());
    json_object_set_new(r, "challenger", have_scores ? json_real(chall) : json_null());
    json_object_set_new(r, "reason", reason ? json_string(reason) : json_null());
    json_object_set_new(r, "after_row", json_integer((json_int_t)s->rows));
    json_array_append_new(s->retrains, r);

    buf_free(&why);
    buf_free(&msg);
    json_decref(parsed_state);
    json_decref(full);
}

/* initial: remember what exists so that only retrains of this simulation
 * (or still in progress when it starts) are reported. */
static void poll_runs(struct sim *s, int initial)
{
    char *path = xasprintf("/v1/runs?task=%s&limit=%d", s->task_escaped, RUNS_POLL_LIMIT);
    json_t *doc;
    long status = http_call(s, path, NULL, &doc);
    free(path);
    json_t *list = json_object_get(doc, "runs");
    if (status < 200 || status >= 300 || !json_is_array(list)) {
        struct buf msg;
        buf_init(&msg);
        describe_failure(s, status, doc, &msg);
        sim_failure(s, "polling runs: %s", msg.data);
        buf_free(&msg);
        json_decref(doc);
        return;
    }
    /* newest first: walk backwards to report in the order they started */
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *run = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(run, "id"));
        const char *kind = json_string_value(json_object_get(run, "kind"));
        const char *st = json_string_value(json_object_get(run, "status"));
        if (!id || !str_eq(kind, "retrain")) continue;
        int active = status_active(st);
        struct tracked_run *t = run_find(s, id);
        if (!t) {
            t = run_add(s, id);
            if (initial) {
                t->done = !active;
                t->active_seen = active;
                continue;
            }
        }
        if (t->done) continue;
        if (active) {
            if (!t->active_seen && !s->json) {
                const char *trigger = trigger_text(run);
                printf("retrain %.8s fired after row %zu%s%s\n", id, s->rows,
                       trigger ? ": trigger " : "", trigger ? trigger : "");
                fflush(stdout);
            }
            t->active_seen = 1;
            continue;
        }
        t->done = 1;
        report_run(s, run);
    }
    json_decref(doc);
}

/* ---- rows ---- */

static void window_add_version(struct sim *s, int64_t v)
{
    for (size_t i = 0; i < s->win_nv; i++)
        if (s->win_versions[i] == v) return;
    if (s->win_nv < MAX_WINDOW_VERSIONS) s->win_versions[s->win_nv++] = v;
}

static void note_version(struct sim *s, int64_t v, size_t row)
{
    if (v != s->last_version) {
        if (s->last_version) {
            if (!s->json) {
                printf("deployed: v%lld -> v%lld at row %zu\n", (long long)s->last_version,
                       (long long)v, row);
                fflush(stdout);
            }
            json_array_append_new(s->deploys,
                                  json_pack("{s:I,s:I,s:I}", "from", (json_int_t)s->last_version,
                                            "to", (json_int_t)v, "row", (json_int_t)row));
        }
        s->last_version = v;
        size_t i;
        json_t *seen;
        int known = 0;
        json_array_foreach(s->versions, i, seen) known |= json_integer_value(seen) == v;
        if (!known) json_array_append_new(s->versions, json_integer((json_int_t)v));
    }
    window_add_version(s, v);
}

static void end_window(struct sim *s)
{
    size_t to = s->win_from + s->win_rows - 1;
    json_t *vs = json_array();
    for (size_t i = 0; i < s->win_nv; i++)
        json_array_append_new(vs, json_integer((json_int_t)s->win_versions[i]));
    json_array_append_new(s->windows,
                          json_pack("{s:I,s:I,s:o,s:o,s:I,s:I,s:I}", "from",
                                    (json_int_t)s->win_from, "to", (json_int_t)to, "accuracy",
                                    json_ratio(s->win_correct, s->win_pred), "versions", vs,
                                    "predicted", (json_int_t)s->win_pred, "correct",
                                    (json_int_t)s->win_correct, "feedback", (json_int_t)s->win_fb));
    if (!s->json) {
        struct buf v;
        buf_init(&v);
        versions_text(s->win_versions, s->win_nv, &v);
        if (s->win_pred)
            printf("rows %zu-%zu  accuracy %.4f  model %s  feedback %zu\n", s->win_from, to,
                   (double)s->win_correct / (double)s->win_pred, v.data, s->win_fb);
        else
            printf("rows %zu-%zu  accuracy n/a (no prediction answered)  feedback %zu\n",
                   s->win_from, to, s->win_fb);
        buf_free(&v);
        fflush(stdout);
    }
    s->win_rows = s->win_pred = s->win_correct = s->win_fb = s->win_nv = 0;
}

static json_t *true_label(const struct task_config *task, const char *label)
{
    if (task->type != TASK_MULTILABEL) return json_string(label);
    json_t *set = json_array();
    const char *cur = label, *l;
    size_t len;
    while (labelset_next(&cur, &l, &len))
        json_array_append_new(set, json_stringn(l, len));
    return set;
}

static void send_feedback(struct sim *s, const char *pred_id, const char *predicted,
                          const struct example *ex, size_t row)
{
    int right = str_eq(predicted, ex->label);
    int with_label = !right && sim_uniform(s) < s->correct_rate;
    json_t *body = json_pack("{s:s,s:i}", "prediction_id", pred_id, "score", right ? 1 : -1);
    /* a multilabel row corrects with its whole set */
    const char *key = s->task->type == TASK_MULTILABEL ? "labels" : "label";
    if (with_label) json_object_set_new(body, key, true_label(s->task, ex->label));
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *doc;
    long status = http_call(s, "/v1/feedback", text, &doc);
    if (status == 422 && with_label && str_eq(error_part(doc, "field"), "label")) {
        /* the true label is a class the model has never seen: a user could
         * only say "wrong" (the label cannot be stored), so do that */
        s->fb_label_unknown++;
        with_label = 0;
        json_object_del(body, key);
        free(text);
        text = json_dumps(body, JSON_COMPACT);
        json_decref(doc);
        status = http_call(s, "/v1/feedback", text, &doc);
    }
    if (status >= 200 && status < 300) {
        s->fb_sent++;
        s->win_fb++;
        if (right)
            s->fb_pos++;
        else
            s->fb_neg++;
        s->fb_corrected += (size_t)with_label;
    } else {
        struct buf msg;
        buf_init(&msg);
        describe_failure(s, status, doc, &msg);
        sim_failure(s, "row %zu (line %zu): feedback: %s", row, ex->line, msg.data);
        buf_free(&msg);
    }
    json_decref(doc);
    free(text);
    json_decref(body);
}

static void one_row(struct sim *s, const struct example *ex, size_t row)
{
    char *body = xasprintf("{\"input\":%s}", ex->input_json);
    char *path = xasprintf("/v1/tasks/%s/predict", s->task_escaped);
    json_t *doc;
    long status = http_call(s, path, body, &doc);
    free(path);
    free(body);
    const char *pred_id = json_string_value(json_object_get(doc, "prediction_id"));
    /* a multilabel answer is right when its set is the row's: subset accuracy */
    struct buf set;
    buf_init(&set);
    const char *label = answer_logged_label(doc, &set);
    if (status < 200 || status >= 300 || !pred_id || !label) {
        struct buf msg;
        buf_init(&msg);
        if (status >= 200 && status < 300)
            buf_printf(&msg, "answer from %s has no prediction_id or label: %.200s", s->last_url,
                       s->resp.data ? s->resp.data : "");
        else
            describe_failure(s, status, doc, &msg);
        sim_failure(s, "row %zu (line %zu): predict: %s", row, ex->line, msg.data);
        buf_free(&msg);
        buf_free(&set);
        json_decref(doc);
        return;
    }
    s->predicted++;
    s->win_pred++;
    int right = str_eq(label, ex->label);
    s->correct += (size_t)right;
    s->win_correct += (size_t)right;
    note_version(s, (int64_t)json_integer_value(json_object_get(doc, "model_version")), row);
    if (sim_uniform(s) < s->feedback_rate) send_feedback(s, pred_id, label, ex, row);
    buf_free(&set);
    json_decref(doc);
}

/* ---- the end ---- */

static json_t *window_accuracy(json_t *windows, size_t i)
{
    return json_incref(json_object_get(json_array_get(windows, i), "accuracy"));
}

static void print_summary(struct sim *s, double seconds, const char *stopped)
{
    size_t nw = json_array_size(s->windows);
    json_t *first = nw ? window_accuracy(s->windows, 0) : json_null();
    json_t *last = nw ? window_accuracy(s->windows, nw - 1) : json_null();
    if (s->json) {
        json_t *doc = json_pack(
            "{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:f,s:f},s:O,s:O,s:O,"
            "s:{s:I,s:I,s:I,s:I},s:O,s:I,s:f,s:f,s:s?}",
            "task", s->task->name, "url", s->url, "stream", s->stream, "rows", (json_int_t)s->rows,
            "predicted", (json_int_t)s->predicted, "correct", (json_int_t)s->correct, "accuracy",
            json_ratio(s->correct, s->predicted), "first_window_accuracy", first,
            "last_window_accuracy", last, "feedback", "sent", (json_int_t)s->fb_sent, "positive",
            (json_int_t)s->fb_pos, "negative", (json_int_t)s->fb_neg, "corrected",
            (json_int_t)s->fb_corrected, "label_unknown", (json_int_t)s->fb_label_unknown, "rate",
            s->feedback_rate, "correct_rate", s->correct_rate, "windows", s->windows, "deploys",
            s->deploys, "retrains", s->retrains, "retrain_counts", "completed",
            (json_int_t)s->rt_completed, "deployed", (json_int_t)s->rt_deployed, "refused",
            (json_int_t)s->rt_refused, "failed", (json_int_t)s->rt_failed, "versions", s->versions,
            "failed_requests", (json_int_t)s->failures, "seconds", seconds, "rows_per_second",
            seconds > 0 ? (double)s->rows / seconds : 0.0, "stopped", stopped);
        cli_print_json(doc);
        return;
    }
    printf("\nsummary   %zu rows in %.2f s (%.0f rows/s), %zu predicted\n", s->rows, seconds,
           seconds > 0 ? (double)s->rows / seconds : 0.0, s->predicted);
    printf("accuracy  ");
    const char *names[3] = {"first window", "last window", "overall"};
    json_t *vals[3] = {first, last, json_ratio(s->correct, s->predicted)};
    for (int i = 0; i < 3; i++) {
        if (json_is_number(vals[i]))
            printf("%s%s %.4f", i ? ", " : "", names[i], json_number_value(vals[i]));
        else
            printf("%s%s n/a", i ? ", " : "", names[i]);
        json_decref(vals[i]);
    }
    printf("\nfeedback  %zu sent: %zu +1, %zu -1 (%zu with the true label)", s->fb_sent, s->fb_pos,
           s->fb_neg, s->fb_corrected);
    if (s->fb_label_unknown) printf(", %zu true labels unknown to the model", s->fb_label_unknown);
    printf("\nretrains  %zu completed (%zu deployed, %zu refused), %zu failed\n", s->rt_completed,
           s->rt_deployed, s->rt_refused, s->rt_failed);
    printf("versions  ");
    size_t i;
    json_t *v;
    json_array_foreach(s->versions, i, v)
        printf("%sv%lld", i ? ", " : "", (long long)json_integer_value(v));
    printf("%s\n", json_array_size(s->versions) ? "" : "none");
    if (s->failures)
        printf("errors    %zu request%s failed\n", s->failures, s->failures == 1 ? "" : "s");
    if (stopped) printf("stopped   %s\n", stopped);
}

/* "FILE: message", unless the message already starts with the file's name */
static int fail_on(const char *path, struct err *e)
{
    if (!str_starts_with(e->msg, path)) err_prefix(e, "%s", path);
    return cli_fail(e);
}

static char *default_url(const char *listen)
{
    if (!listen || !*listen) listen = "127.0.0.1:8080";
    if (str_starts_with(listen, "0.0.0.0:")) return xasprintf("http://127.0.0.1:%s", listen + 8);
    if (str_starts_with(listen, "[::]:")) return xasprintf("http://[::1]:%s", listen + 5);
    if (listen[0] == ':') return xasprintf("http://127.0.0.1%s", listen);
    return xasprintf("http://%s", listen);
}

int cmd_simulate(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"stream", 1, "labeled rows to replay: a CSV or JSONL file with the task's columns", NULL},
        {"format", 1, "csv or jsonl (default: by extension)", NULL},
        {"url", 1, "the server (default http:// + the config's listen)", NULL},
        {"feedback-rate", 1, "share of predictions that get feedback, 0..1 (default 0.3)", NULL},
        {"correct-rate", 1, "share of wrong ones whose feedback names the true label (default 1)",
         NULL},
        {"speed", 1, "max (no pauses, default) or realtime (--rate rows per second)", NULL},
        {"rate", 1, "rows per second with --speed realtime (default 50)", NULL},
        {"window", 1, "rows per accuracy window (default 200)", NULL},
        {"limit", 1, "replay at most N rows (default all)", NULL},
        {"seed", 1, "seed of the feedback draws (default 1)", NULL},
        {"wait-for-retrains", 1,
         "at the end, poll up to S seconds until no retrain is pending or running, "
         "giving the scheduler one interval to fire one (default 0)",
         NULL},
        {"token", 1, "API token sent as a bearer (default $BOUCLE_TOKEN)", NULL},
        {"json", 0, "machine-readable summary", NULL},
        {0},
    };
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;

    struct sim s;
    memset(&s, 0, sizeof s);
    s.feedback_rate = 0.3;
    s.correct_rate = 1.0;
    double rate = 50, wait = 0;
    long long window = 200, limit = 0, seed = 1;
    const char *v;
    s.stream = cli_opt(opts, "stream");
    if (!s.stream) return cli_usage_error(cmd, "--stream FILE is required");
    if ((v = cli_opt(opts, "feedback-rate")) && parse_double(v, 0, 1, &s.feedback_rate))
        return cli_usage_error(cmd, "--feedback-rate must be a number in [0, 1], got '%s'", v);
    if ((v = cli_opt(opts, "correct-rate")) && parse_double(v, 0, 1, &s.correct_rate))
        return cli_usage_error(cmd, "--correct-rate must be a number in [0, 1], got '%s'", v);
    if ((v = cli_opt(opts, "rate")) && (parse_double(v, 0, 1e9, &rate) || rate <= 0))
        return cli_usage_error(cmd, "--rate must be a positive number of rows/s, got '%s'", v);
    if ((v = cli_opt(opts, "wait-for-retrains")) && parse_double(v, 0, 1e7, &wait))
        return cli_usage_error(cmd, "--wait-for-retrains must be seconds >= 0, got '%s'", v);
    if ((v = cli_opt(opts, "window")) && parse_count(v, 1, &window))
        return cli_usage_error(cmd, "--window must be an integer >= 1, got '%s'", v);
    if ((v = cli_opt(opts, "limit")) && parse_count(v, 0, &limit))
        return cli_usage_error(cmd, "--limit must be an integer >= 0, got '%s'", v);
    if ((v = cli_opt(opts, "seed")) && parse_count(v, 0, &seed))
        return cli_usage_error(cmd, "--seed must be an integer >= 0, got '%s'", v);
    const char *speed = cli_opt(opts, "speed");
    if (speed && !str_eq(speed, "max") && !str_eq(speed, "realtime"))
        return cli_usage_error(cmd, "--speed must be max or realtime, got '%s'", speed);
    int realtime = str_eq(speed, "realtime");
    enum table_format fmt = TABLE_AUTO;
    if ((v = cli_opt(opts, "format")) && table_parse_format(v, &fmt) != 0)
        return cli_usage_error(cmd, "--format must be csv or jsonl, got '%s'", v);
    s.json = cli_opt(opts, "json") != NULL;
    s.rng = (uint64_t)seed;

    struct err e;
    err_clear(&e);
    const struct config *cfg = cli_config(&e);
    if (!cfg) return cli_fail(&e);
    s.task = cli_task(cfg, cli_opt(opts, "task"), &e);
    if (!s.task) return cli_fail(&e);

    /* the stream, validated as an import would be: errors name line and column */
    struct table_limits lim = {.max_field_bytes = cfg->limits.max_field_bytes,
                               .list_separator = s.task->label_separator};
    struct table t;
    if (table_read_file(s.stream, fmt, &lim, &t, &e) != 0) return fail_on(s.stream, &e);
    struct examples ex;
    rc = examples_from_table(&t, s.task, cfg->limits.max_field_bytes, &ex, &e);
    table_free(&t);
    if (rc != 0) return fail_on(s.stream, &e);
    size_t n = ex.n;
    if (limit > 0 && (size_t)limit < n) n = (size_t)limit;
    if (n == 0) {
        examples_free(&ex);
        err_set(&e, ERR_INVALID, "%s: no data rows", s.stream);
        return cli_fail(&e);
    }

    v = cli_opt(opts, "url");
    s.url = v ? xstrdup(v) : default_url(cfg->listen);
    while (s.url[0] && s.url[strlen(s.url) - 1] == '/')
        s.url[strlen(s.url) - 1] = 0;
    const char *token = cli_opt(opts, "token");
    if (!token) token = getenv("BOUCLE_TOKEN");

    rc = EXIT_OK;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || http_init(&s, token) != 0) {
        fprintf(stderr, "boucle: cannot initialise libcurl\n");
        http_free(&s);
        free(s.url);
        examples_free(&ex);
        return EXIT_RUNTIME;
    }
    s.windows = json_array();
    s.deploys = json_array();
    s.retrains = json_array();
    s.versions = json_array();

    /* is anyone there? */
    json_t *doc;
    long status = http_call(&s, "/healthz", NULL, &doc);
    json_decref(doc);
    if (status < 200 || status >= 300) {
        if (status)
            fprintf(stderr, "boucle: the server at %s answered HTTP %ld on /healthz\n", s.url,
                    status);
        else
            fprintf(stderr,
                    "boucle: cannot reach the server at %s: %s (is `boucle serve` running?)\n",
                    s.url, s.errbuf);
        rc = EXIT_RUNTIME;
        goto out;
    }
    poll_runs(&s, 1);
    if (!s.json) {
        printf("simulating %zu rows of %s against %s (task %s, feedback rate %.2f, correct rate "
               "%.2f, %s)\n",
               n, s.stream, s.url, s.task->name, s.feedback_rate, s.correct_rate,
               realtime ? "realtime" : "max speed");
        fflush(stdout);
    }

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);

    const char *stopped = NULL;
    char stopped_buf[160];
    int64_t t0 = time_mono_ns();
    for (size_t i = 0; i < n; i++) {
        if (interrupted) {
            snprintf(stopped_buf, sizeof stopped_buf, "interrupted after row %zu of %zu", s.rows,
                     n);
            stopped = stopped_buf;
            break;
        }
        if (realtime) {
            int64_t due = t0 + (int64_t)((double)i * 1e9 / rate);
            int64_t now = time_mono_ns();
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1000000000),
                                      (long)((due - now) % 1000000000)};
                nanosleep(&ts, NULL);
            }
        }
        size_t row = i + 1;
        if (!s.win_rows) s.win_from = row;
        s.rows++;
        s.win_rows++;
        one_row(&s, &ex.items[i], row);
        if (s.win_rows == (size_t)window) {
            end_window(&s);
            poll_runs(&s, 0);
        }
        if (s.transport_in_a_row >= MAX_TRANSPORT_IN_A_ROW) {
            snprintf(stopped_buf, sizeof stopped_buf,
                     "gave up after row %zu: %d requests in a row could not reach %s", s.rows,
                     MAX_TRANSPORT_IN_A_ROW, s.url);
            stopped = stopped_buf;
            fprintf(stderr, "boucle: %s\n", stopped);
            break;
        }
    }
    if (s.win_rows) end_window(&s);
    double seconds = time_elapsed_s(t0);
    if (!stopped) poll_runs(&s, 0);

    /* let retrains in progress finish (and give the scheduler a tick to fire
     * one for the last feedback) so that the report includes them */
    if (wait > 0 && !stopped) {
        double grace = (double)cfg->scheduler_interval_ms / 1000.0 + 2.0;
        if (grace > wait) grace = wait;
        int64_t w0 = time_mono_ns();
        while (!interrupted) {
            double waited = time_elapsed_s(w0);
            if (waited >= wait || (waited >= grace && runs_active(&s) == 0)) break;
            time_sleep_ms(500);
            poll_runs(&s, 0);
        }
    }
    sigaction(SIGINT, &old_sa, NULL);
    if (interrupted && !stopped) stopped = "interrupted";

    print_summary(&s, seconds, stopped);
    if (s.failures || stopped) rc = EXIT_RUNTIME;

out:
    json_decref(s.windows);
    json_decref(s.deploys);
    json_decref(s.retrains);
    json_decref(s.versions);
    free(s.runs);
    http_free(&s);
    curl_global_cleanup();
    free(s.url);
    examples_free(&ex);
    return rc;
}
