/* The MLflow tracking protocol: one function per endpoint, a table that maps
 * endpoints to them, and the helpers they share (field readers that accept
 * both JSON bodies and query strings, error answers, run shapes). */
#include "track/mlflow.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "track/filter.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEY_LENGTH 250
#define MAX_PARAM_VALUE_LENGTH 6000
#define MAX_TAG_VALUE_LENGTH 8000
#define MAX_BATCH_METRICS 1000
#define MAX_BATCH_PARAMS 100
#define MAX_BATCH_TAGS 100
#define MAX_BATCH_ITEMS 1000
#define SEARCH_RUNS_DEFAULT 1000
#define SEARCH_RUNS_MAX 50000
#define SEARCH_EXPERIMENTS_DEFAULT 1000
#define SEARCH_EXPERIMENTS_MAX 50000

/* One call in progress: the request and, once something failed, the answer. */
struct call {
    struct store *s;
    json_t *req;
    unsigned int status;
    json_t *error; /* set once: the first failure wins */
};

json_t *mlflow_error(unsigned int *status, unsigned int http_status, const char *code,
                     const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *status = http_status;
    return json_pack("{s:s,s:s}", "error_code", code, "message", msg);
}

static int fail(struct call *c, unsigned int http_status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct call *c, unsigned int http_status, const char *code, const char *fmt, ...)
{
    if (c->error) return -1;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->error = mlflow_error(&c->status, http_status, code, "%s", msg);
    return -1;
}

#define INVALID(c, ...) fail(c, 400, "INVALID_PARAMETER_VALUE", __VA_ARGS__)

/* A store error as MLflow names it; `conflict` is the code ERR_CONFLICT
 * means here (RESOURCE_ALREADY_EXISTS for creations, INVALID_PARAMETER_VALUE
 * for a changed param). */
static int fail_store(struct call *c, const struct err *e, const char *conflict)
{
    switch (e->code) {
    case ERR_NOT_FOUND:
        return fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "%s", e->msg);
    case ERR_CONFLICT:
        return fail(c, 400, conflict, "%s", e->msg);
    case ERR_INVALID:
    case ERR_USAGE:
    case ERR_LIMIT:
        return INVALID(c, "%s", e->msg);
    default:
        return fail(c, 500, "INTERNAL_ERROR", "%s", e->msg);
    }
}

/* ---- field readers: JSON values, or strings from a query string ---- */

static int missing(struct call *c, const char *name)
{
    return INVALID(c,
                   "Missing value for required parameter '%s'. See the API docs for more "
                   "information about request parameters.",
                   name);
}

/* A string field; NULL when absent (or JSON null). Fails on another type. */
static const char *get_str(struct call *c, json_t *obj, const char *name, int required)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        if (required) missing(c, name);
        return NULL;
    }
    if (json_is_string(v)) return json_string_value(v);
    INVALID(c, "Invalid value for parameter '%s': expected a string", name);
    return NULL;
}

static int parse_int64(const char *text, int64_t *out)
{
    if (!text || !*text) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

/* An integer field (a JSON integer or a decimal string): 1 when present,
 * 0 when absent, -1 on a bad value. */
static int get_int(struct call *c, json_t *obj, const char *name, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 1;
    }
    if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9e18) {
        *out = (int64_t)json_real_value(v);
        return 1;
    }
    if (json_is_string(v) && parse_int64(json_string_value(v), out) == 0) return 1;
    return INVALID(c, "Invalid value for parameter '%s': expected an integer", name);
}

/* A double: a number, or "NaN", "Infinity", "-Infinity" or a numeric string. */
static int value_double(json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    const char *t = json_string_value(v);
    if (str_eq(t, "NaN")) {
        *out = NAN;
        return 0;
    }
    if (str_eq(t, "Infinity") || str_eq(t, "inf")) {
        *out = INFINITY;
        return 0;
    }
    if (str_eq(t, "-Infinity") || str_eq(t, "-inf")) {
        *out = -INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    *out = strtod(t, &end);
    return (*t && !*end && !errno) ? 0 : -1;
}

/* A list field: a JSON array, or one string (a query string's single value). */
static json_t *get_list(struct call *c, json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return json_array();
    if (json_is_array(v)) return json_incref(v);
    if (json_is_string(v)) return json_pack("[O]", v);
    INVALID(c, "Invalid value for parameter '%s': expected a list", name);
    return NULL;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* MLflow's rules for metric, param and tag names: letters, digits, '_',
 * '-', '.', ' ', '/' (any non-ASCII letter too), at most 250 characters, and
 * a name that stays itself when read as a relative file path. */
static int check_key(struct call *c, const char *what, const char *key)
{
    if (!key || !*key) return missing(c, "key");
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        int ok = *p >= 0x80 || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || strchr("_-. /", *p);
        if (!ok)
            return INVALID(c,
                           "Invalid %s name: '%.250s'. Names may only contain alphanumerics, "
                           "underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).",
                           what, key);
    }
    size_t len = strlen(key);
    int bad_path = key[0] == '/' || key[len - 1] == '/' || strstr(key, "//") || str_eq(key, ".") ||
                   str_eq(key, "..") || str_starts_with(key, "./") || str_starts_with(key, "../") ||
                   strstr(key, "/./") || strstr(key, "/../") || str_ends_with(key, "/.") ||
                   str_ends_with(key, "/..");
    if (bad_path)
        return INVALID(c,
                       "Invalid %s name: '%.250s'. Names may be treated as files in certain "
                       "cases, and must not resolve to other names when treated as such.",
                       what, key);
    if (utf8_chars(key) > MAX_KEY_LENGTH)
        return INVALID(c, "%s name '%.40s...' had length %zu, which exceeds length limit of %d",
                       what, key, utf8_chars(key), MAX_KEY_LENGTH);
    return 0;
}

static int check_value(struct call *c, const char *what, const char *key, const char *value,
                       size_t limit)
{
    if (value && utf8_chars(value) > limit)
        return INVALID(c, "%s '%.100s' had value length %zu, which exceeded length limit of %zu",
                       what, key, utf8_chars(value), limit);
    return 0;
}

/* Reads a [{key, value}] list into kv (pointers into the request). */
static int read_kvs(struct call *c, json_t *list, const char *what, size_t limit,
                    struct store_kv *kv)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (!json_is_object(x)) return INVALID(c, "Invalid %s: each item must be an object", what);
        kv[i].key = get_str(c, x, "key", 1);
        kv[i].value = get_str(c, x, "value", 0);
        if (c->error || check_key(c, what, kv[i].key) ||
            check_value(c, what, kv[i].key, kv[i].value, limit))
            return -1;
    }
    return 0;
}

static int read_metric(struct call *c, json_t *x, struct store_metric *m)
{
    if (!json_is_object(x)) return INVALID(c, "Invalid metric: each item must be an object");
    m->key = get_str(c, x, "key", 1);
    if (c->error || check_key(c, "metric", m->key)) return -1;
    json_t *v = json_object_get(x, "value");
    if (!v || json_is_null(v)) return missing(c, "value");
    if (value_double(v, &m->value))
        return INVALID(c, "Got invalid value for metric '%s': expected a number", m->key);
    m->timestamp = time_now_ms();
    m->step = 0;
    if (get_int(c, x, "timestamp", &m->timestamp) < 0 || get_int(c, x, "step", &m->step) < 0)
        return -1;
    return 0;
}

/* ---- shapes ---- */

static const char *const status_map[][2] = {
    {"running", "RUNNING"}, {"pending", "SCHEDULED"}, {"completed", "FINISHED"},
    {"failed", "FAILED"},   {"cancelled", "KILLED"},
};

static const char *status_to_mlflow(const char *status)
{
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (str_eq(status, status_map[i][0])) return status_map[i][1];
    return "RUNNING";
}

static const char *status_from_mlflow(const char *status)
{
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (str_eq(status, status_map[i][1])) return status_map[i][0];
    return NULL;
}

static json_t *id_string(json_t *id)
{
    if (!json_is_integer(id)) return json_string("");
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)json_integer_value(id));
    return json_string(text);
}

/* A store experiment as MLflow shows it. */
static json_t *experiment_json(json_t *x)
{
    json_t *out = json_object();
    json_object_set_new(out, "experiment_id", id_string(json_object_get(x, "id")));
    static const char *const keys[] = {"name",          "artifact_location", "lifecycle_stage",
                                       "creation_time", "last_update_time",  "tags"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set(out, keys[i], json_object_get(x, keys[i]));
    return out;
}

/* The point MLflow shows as a metric's value: the highest step, then the
 * latest timestamp, then the largest value (NaN below every number). */
static double point_value(json_t *m)
{
    double v = NAN;
    value_double(json_object_get(m, "value"), &v);
    return v;
}

static int point_newer(json_t *a, json_t *b)
{
    int64_t sa = json_integer_value(json_object_get(a, "step"));
    int64_t sb = json_integer_value(json_object_get(b, "step"));
    if (sa != sb) return sa > sb;
    int64_t ta = json_integer_value(json_object_get(a, "timestamp"));
    int64_t tb = json_integer_value(json_object_get(b, "timestamp"));
    if (ta != tb) return ta > tb;
    double va = point_value(a), vb = point_value(b);
    if (isnan(vb)) return !isnan(va);
    return !isnan(va) && va > vb;
}

/* Every point of every key -> the latest point of each key, in key order. */
static json_t *latest_metrics(json_t *points)
{
    json_t *out = json_array();
    json_t *by_key = json_object();
    size_t i;
    json_t *m;
    json_array_foreach(points, i, m)
    {
        const char *key = json_string_value(json_object_get(m, "key"));
        if (!key) continue;
        json_t *best = json_object_get(by_key, key);
        if (!best) {
            json_array_append(out, m);
            json_object_set_new(by_key, key, json_integer((json_int_t)json_array_size(out) - 1));
        } else if (point_newer(m, json_array_get(out, (size_t)json_integer_value(best)))) {
            json_array_set(out, (size_t)json_integer_value(best), m);
        }
    }
    json_decref(by_key);
    return out;
}

static json_t *run_info_json(json_t *r)
{
    json_t *info = json_object();
    json_t *id = json_object_get(r, "run_id");
    json_object_set(info, "run_id", id);
    json_object_set(info, "run_uuid", id);
    const char *name = json_string_value(json_object_get(r, "run_name"));
    json_object_set_new(info, "run_name", json_string(name ? name : ""));
    json_object_set_new(info, "experiment_id", id_string(json_object_get(r, "experiment_id")));
    const char *user = json_string_value(json_object_get(r, "user_id"));
    json_object_set_new(info, "user_id", json_string(user ? user : ""));
    json_object_set_new(
        info, "status",
        json_string(status_to_mlflow(json_string_value(json_object_get(r, "status")))));
    json_object_set(info, "start_time", json_object_get(r, "start_time"));
    json_t *end = json_object_get(r, "end_time");
    if (json_is_integer(end)) json_object_set(info, "end_time", end);
    const char *uri = json_string_value(json_object_get(r, "artifact_uri"));
    json_object_set_new(info, "artifact_uri", json_string(uri ? uri : ""));
    json_object_set(info, "lifecycle_stage", json_object_get(r, "lifecycle_stage"));
    return info;
}

static json_t *run_json(json_t *r)
{
    json_t *data = json_object();
    json_object_set_new(data, "metrics", latest_metrics(json_object_get(r, "metrics")));
    json_object_set(data, "params", json_object_get(r, "params"));
    json_object_set(data, "tags", json_object_get(r, "tags"));
    return json_pack("{s:o,s:o,s:{}}", "info", run_info_json(r), "data", data, "inputs");
}

/* ---- page tokens: base64 of "offset:<n>" ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *mlflow_page_token(size_t offset)
{
    char raw[48];
    int n = snprintf(raw, sizeof raw, "offset:%zu", offset);
    struct buf out;
    buf_init(&out);
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)raw[i] << 16;
        if (i + 1 < n) v |= (unsigned char)raw[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)raw[i + 2];
        buf_append_char(&out, b64[(v >> 18) & 63]);
        buf_append_char(&out, b64[(v >> 12) & 63]);
        buf_append_char(&out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
        buf_append_char(&out, i + 2 < n ? b64[v & 63] : '=');
    }
    return buf_detach(&out);
}

int mlflow_page_offset(const char *token, size_t *offset)
{
    size_t len = token ? strlen(token) : 0;
    if (len == 0 || len % 4 || len > 64) return -1;
    char raw[64];
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (size_t j = 0; j < 4; j++) {
            char ch = token[i + j];
            const char *p = ch ? strchr(b64, ch) : NULL;
            if (ch == '=' && i + 4 == len && j >= 2) {
                pad++;
                v <<= 6;
                continue;
            }
            if (!p || pad) return -1;
            v = (v << 6) | (unsigned)(p - b64);
        }
        raw[n++] = (char)(v >> 16);
        if (pad < 2) raw[n++] = (char)(v >> 8);
        if (pad < 1) raw[n++] = (char)v;
    }
    raw[n] = '\0';
    if (strlen(raw) != n || !str_starts_with(raw, "offset:")) return -1;
    const char *digits = raw + 7;
    if (!*digits || strspn(digits, "0123456789") != strlen(digits) || strlen(digits) > 15)
        return -1;
    *offset = (size_t)strtoull(digits, NULL, 10);
    return 0;
}

/* max_results and page_token: the slice [*offset, *offset + *limit). */
static int read_page(struct call *c, int64_t dflt, int64_t max, size_t *offset, size_t *limit)
{
    int64_t n = dflt;
    if (get_int(c, c->req, "max_results", &n) < 0) return -1;
    if (n < 1 || n > max)
        return INVALID(c,
                       "Invalid value %lld for parameter 'max_results' supplied. It must be "
                       "between 1 and %lld.",
                       (long long)n, (long long)max);
    *limit = (size_t)n;
    *offset = 0;
    const char *token = get_str(c, c->req, "page_token", 0);
    if (c->error) return -1;
    if (token && *token && mlflow_page_offset(token, offset))
        return INVALID(c, "Invalid page token, could not base64-decode");
    return 0;
}

/* Moves items [offset, offset + limit) of `all` into the answer under
 * `key`, with next_page_token when more remain. Steals `all`. */
static json_t *page_answer(json_t *all, const char *key, size_t offset, size_t limit)
{
    json_t *page = json_array();
    size_t n = json_array_size(all);
    for (size_t i = offset; i < n && i < offset + limit; i++)
        json_array_append(page, json_array_get(all, i));
    json_t *out = json_object();
    json_object_set_new(out, key, page);
    if (offset + limit < n) {
        char *token = mlflow_page_token(offset + limit);
        json_object_set_new(out, "next_page_token", json_string(token));
        free(token);
    }
    json_decref(all);
    return out;
}

/* "ACTIVE_ONLY" (default), "DELETED_ONLY", "ALL": the lifecycle stage to
 * load, NULL for all. */
static int read_view(struct call *c, const char *name, const char **stage)
{
    json_t *v = json_object_get(c->req, name);
    *stage = "active";
    if (!v || json_is_null(v)) return 0;
    const char *t = json_string_value(v);
    int64_t num = -1;
    if (json_is_integer(v)) num = json_integer_value(v);
    if (num == 1 || str_eq(t, "ACTIVE_ONLY")) return 0;
    if (num == 2 || str_eq(t, "DELETED_ONLY")) {
        *stage = "deleted";
        return 0;
    }
    if (num == 3 || str_eq(t, "ALL")) {
        *stage = NULL;
        return 0;
    }
    return INVALID(c, "Invalid value for parameter '%s': use ACTIVE_ONLY, DELETED_ONLY or ALL",
                   name);
}

/* ---- experiments ---- */

static int read_experiment_id(struct call *c, const char *name, int64_t *id)
{
    const char *text = NULL;
    json_t *v = json_object_get(c->req, name);
    if (json_is_integer(v)) {
        *id = json_integer_value(v);
        return 0;
    }
    text = get_str(c, c->req, name, 1);
    if (!text) return -1;
    if (parse_int64(text, id) || *id < 0)
        return fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=%.64s exists", text);
    return 0;
}

static json_t *experiments_create(struct call *c)
{
    const char *name = get_str(c, c->req, "name", 1);
    const char *location = get_str(c, c->req, "artifact_location", 0);
    if (!name) return NULL;
    if (!*name) return INVALID(c, "Invalid experiment name: ''"), NULL;
    json_t *list = get_list(c, c->req, "tags");
    if (!list) return NULL;
    struct store_kv *tags = xcalloc(json_array_size(list) + 1, sizeof *tags);
    int64_t id = 0;
    struct err e;
    err_clear(&e);
    json_t *out = NULL;
    if (read_kvs(c, list, "tag", MAX_TAG_VALUE_LENGTH, tags) == 0) {
        if (store_experiment_create(c->s, name, location && *location ? location : NULL, tags,
                                    json_array_size(list), &id, &e))
            fail_store(c, &e, "RESOURCE_ALREADY_EXISTS");
        else
            out = json_pack("{s:o}", "experiment_id", json_sprintf("%lld", (long long)id));
    }
    free(tags);
    json_decref(list);
    return out;
}

static json_t *experiment_answer(struct call *c, json_t *x, struct err *e)
{
    if (!x) return fail_store(c, e, "RESOURCE_ALREADY_EXISTS"), NULL;
    json_t *out = json_pack("{s:o}", "experiment", experiment_json(x));
    json_decref(x);
    return out;
}

static json_t *experiments_get(struct call *c)
{
    int64_t id;
    if (read_experiment_id(c, "experiment_id", &id)) return NULL;
    struct err e;
    err_clear(&e);
    return experiment_answer(c, store_experiment_get(c->s, id, NULL, &e), &e);
}

static json_t *experiments_get_by_name(struct call *c)
{
    const char *name = get_str(c, c->req, "experiment_name", 1);
    if (!name) return NULL;
    struct err e;
    err_clear(&e);
    return experiment_answer(c, store_experiment_get(c->s, 0, name, &e), &e);
}

/* Orders experiments by one "<field> [ASC|DESC]" clause at a time. */
struct exp_order {
    char field[64];
    int desc;
};

static int exp_compare_field(json_t *a, json_t *b, const char *field)
{
    if (str_eq(field, "name")) {
        return strcmp(json_string_value(json_object_get(a, "name")),
                      json_string_value(json_object_get(b, "name")));
    }
    const char *key = str_eq(field, "experiment_id") ? "id" : field;
    int64_t x = json_integer_value(json_object_get(a, key));
    int64_t y = json_integer_value(json_object_get(b, key));
    return (x > y) - (x < y);
}

static _Thread_local const struct exp_order *tl_orders;
static _Thread_local size_t tl_n_orders;

static int exp_compare(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    for (size_t i = 0; i < tl_n_orders; i++) {
        int r = exp_compare_field(a, b, tl_orders[i].field);
        if (r) return tl_orders[i].desc ? -r : r;
    }
    return exp_compare_field(a, b, "experiment_id");
}

/* A simple name filter: name = 'x', name != 'x', name LIKE 'x%', name ILIKE.
 * Other filters are ignored (the answer is then a superset). */
static int exp_filter_match(const char *filter, json_t *x)
{
    if (!filter || !*filter) return 1;
    while (*filter == ' ')
        filter++;
    if (strncmp(filter, "name", 4) != 0 && strncmp(filter, "attribute.name", 14) != 0 &&
        strncmp(filter, "attributes.name", 15) != 0)
        return 1;
    const char *p = strstr(filter, "name") + 4;
    while (*p == ' ')
        p++;
    int op;
    if (strncmp(p, "!=", 2) == 0)
        op = 1, p += 2;
    else if (*p == '=')
        op = 0, p += 1;
    else if (strncasecmp(p, "ILIKE", 5) == 0)
        op = 3, p += 5;
    else if (strncasecmp(p, "LIKE", 4) == 0)
        op = 2, p += 4;
    else
        return 1;
    while (*p == ' ')
        p++;
    char q = *p;
    if (q != '\'' && q != '"') return 1;
    const char *end = strrchr(p + 1, q);
    if (!end) return 1;
    char *lit = xstrndup(p + 1, (size_t)(end - p - 1));
    const char *name = json_string_value(json_object_get(x, "name"));
    int m = op == 0   ? str_eq(name, lit)
            : op == 1 ? !str_eq(name, lit)
                      : filter_like(name, lit, op == 3);
    free(lit);
    return m;
}

static json_t *experiments_search(struct call *c)
{
    size_t offset, limit;
    const char *stage;
    if (read_page(c, SEARCH_EXPERIMENTS_DEFAULT, SEARCH_EXPERIMENTS_MAX, &offset, &limit) ||
        read_view(c, "view_type", &stage))
        return NULL;
    const char *filter = get_str(c, c->req, "filter", 0);
    json_t *order = get_list(c, c->req, "order_by");
    if (c->error || !order) return json_decref(order), NULL;
    struct exp_order orders[8];
    size_t n_orders = 0;
    size_t i;
    json_t *o;
    json_array_foreach(order, i, o)
    {
        const char *t = json_string_value(o);
        char field[64] = "", dir[16] = "";
        if (!t || sscanf(t, "%63s %15s", field, dir) < 1 || n_orders == 8) {
            json_decref(order);
            return INVALID(c, "Invalid order_by clause '%.100s'", t ? t : "?"), NULL;
        }
        const char *f = field;
        if (str_starts_with(f, "attributes.")) f += 11;
        if (str_starts_with(f, "attribute.")) f += 10;
        if (!str_eq(f, "name") && !str_eq(f, "experiment_id") && !str_eq(f, "creation_time") &&
            !str_eq(f, "last_update_time")) {
            json_decref(order);
            return INVALID(c, "Invalid order_by clause '%.100s': cannot order by '%s'", t, f), NULL;
        }
        if (*dir && strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0) {
            json_decref(order);
            return INVALID(c, "Invalid order_by clause '%.100s'", t), NULL;
        }
        snprintf(orders[n_orders].field, sizeof orders[n_orders].field, "%s", f);
        orders[n_orders++].desc = strcasecmp(dir, "DESC") == 0;
    }
    json_decref(order);
    if (n_orders == 0) {
        snprintf(orders[0].field, sizeof orders[0].field, "creation_time");
        orders[n_orders++].desc = 1;
    }
    struct err e;
    err_clear(&e);
    json_t *all = store_experiments_list(c->s, stage, &e);
    if (!all) return fail_store(c, &e, "INTERNAL_ERROR"), NULL;
    size_t n = json_array_size(all);
    json_t **items = xcalloc(n + 1, sizeof *items);
    size_t kept = 0;
    json_array_foreach(all, i, o) if (exp_filter_match(filter, o)) items[kept++] = o;
    tl_orders = orders;
    tl_n_orders = n_orders;
    qsort(items, kept, sizeof *items, exp_compare);
    json_t *sorted = json_array();
    for (i = 0; i < kept; i++)
        json_array_append_new(sorted, experiment_json(items[i]));
    free(items);
    json_decref(all);
    return page_answer(sorted, "experiments", offset, limit);
}

static json_t *experiments_update_stage(struct call *c, const char *stage)
{
    int64_t id;
    if (read_experiment_id(c, "experiment_id", &id)) return NULL;
    if (id == 0 && str_eq(stage, "deleted"))
        return INVALID(c, "Cannot delete the default experiment '0'. This is an internally "
                          "reserved experiment."),
               NULL;
    struct err e;
    err_clear(&e);
    if (store_experiment_update(c->s, id, NULL, stage, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *experiments_delete(struct call *c)
{
    return experiments_update_stage(c, "deleted");
}

static json_t *experiments_restore(struct call *c)
{
    return experiments_update_stage(c, "active");
}

static json_t *experiments_update(struct call *c)
{
    int64_t id;
    if (read_experiment_id(c, "experiment_id", &id)) return NULL;
    const char *name = get_str(c, c->req, "new_name", 0);
    if (c->error) return NULL;
    if (!name || !*name) return json_object(); /* nothing to change */
    struct err e;
    err_clear(&e);
    if (store_experiment_update(c->s, id, name, NULL, &e))
        return fail_store(c, &e, "RESOURCE_ALREADY_EXISTS"), NULL;
    return json_object();
}

static json_t *experiments_set_tag(struct call *c)
{
    int64_t id;
    if (read_experiment_id(c, "experiment_id", &id)) return NULL;
    const char *key = get_str(c, c->req, "key", 1);
    const char *value = get_str(c, c->req, "value", 0);
    if (c->error || check_key(c, "tag", key) ||
        check_value(c, "tag", key, value, MAX_TAG_VALUE_LENGTH))
        return NULL;
    struct err e;
    err_clear(&e);
    if (store_experiment_tag_set(c->s, id, key, value ? value : "", &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

/* ---- runs ---- */

static const char *read_run_id(struct call *c)
{
    const char *id = get_str(c, c->req, "run_id", 0);
    if (!id || !*id) id = get_str(c, c->req, "run_uuid", 0);
    if (c->error) return NULL;
    if (!id || !*id) return missing(c, "run_id"), NULL;
    return id;
}

static json_t *run_answer(struct call *c, const char *run_id)
{
    struct err e;
    err_clear(&e);
    json_t *r = store_mlflow_run_get(c->s, run_id, &e);
    if (!r) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *out = json_pack("{s:o}", "run", run_json(r));
    json_decref(r);
    return out;
}

static json_t *runs_create(struct call *c)
{
    int64_t exp_id = 0;
    if (json_object_get(c->req, "experiment_id") && read_experiment_id(c, "experiment_id", &exp_id))
        return NULL;
    struct store_mlflow_run run = {0};
    run.experiment_id = exp_id;
    run.user_id = get_str(c, c->req, "user_id", 0);
    run.run_name = get_str(c, c->req, "run_name", 0);
    run.start_time = time_now_ms();
    if (c->error || get_int(c, c->req, "start_time", &run.start_time) < 0) return NULL;
    json_t *list = get_list(c, c->req, "tags");
    if (!list) return NULL;
    size_t n = json_array_size(list);
    struct store_kv *tags = xcalloc(n + 1, sizeof *tags);
    json_t *out = NULL;
    if (read_kvs(c, list, "tag", MAX_TAG_VALUE_LENGTH, tags)) goto done;
    /* The run name and the tag mlflow.runName mirror each other. */
    const char *tag_name = NULL;
    for (size_t i = 0; i < n; i++)
        if (str_eq(tags[i].key, "mlflow.runName")) tag_name = tags[i].value;
    if (run.run_name && *run.run_name && tag_name && !str_eq(tag_name, run.run_name)) {
        INVALID(c,
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                "different values (run_name='%.100s', mlflow.runName='%.100s').",
                run.run_name, tag_name);
        goto done;
    }
    if (!run.run_name || !*run.run_name) run.run_name = tag_name;
    char name_buf[64];
    if (!run.run_name || !*run.run_name) {
        char u[UUID_STR_LEN];
        uuid_v4(u);
        snprintf(name_buf, sizeof name_buf, "run-%.8s", u);
        run.run_name = name_buf;
    }
    if (!tag_name) tags[n++] = (struct store_kv){"mlflow.runName", run.run_name};
    char uuid[UUID_STR_LEN], run_id[33];
    uuid_v4(uuid);
    size_t k = 0;
    for (const char *p = uuid; *p; p++)
        if (*p != '-') run_id[k++] = *p;
    run_id[k] = '\0';
    char *uri = xasprintf("mlflow-artifacts:/%lld/%s/artifacts", (long long)exp_id, run_id);
    run.run_id = run_id;
    run.artifact_uri = uri;
    run.tags = tags;
    run.n_tags = n;

    struct err e;
    err_clear(&e);
    json_t *x = store_experiment_get(c->s, exp_id, NULL, &e);
    if (!x) {
        fail_store(c, &e, "INVALID_PARAMETER_VALUE");
    } else if (!str_eq(json_string_value(json_object_get(x, "lifecycle_stage")), "active")) {
        INVALID(c, "The experiment %lld must be in the 'active' state. Current state is deleted.",
                (long long)exp_id);
    } else if (store_mlflow_run_create(c->s, &run, &e)) {
        fail_store(c, &e, "RESOURCE_ALREADY_EXISTS");
    } else {
        out = run_answer(c, run_id);
    }
    json_decref(x);
    free(uri);
done:
    free(tags);
    json_decref(list);
    return out;
}

static json_t *runs_get(struct call *c)
{
    const char *id = read_run_id(c);
    return id ? run_answer(c, id) : NULL;
}

static json_t *runs_update(struct call *c)
{
    const char *id = read_run_id(c);
    if (!id) return NULL;
    struct store_mlflow_run_patch p = {0};
    const char *status = get_str(c, c->req, "status", 0);
    p.run_name = get_str(c, c->req, "run_name", 0);
    int has_end = get_int(c, c->req, "end_time", &p.end_time);
    if (c->error || has_end < 0) return NULL;
    p.has_end_time = has_end;
    if (p.run_name && !*p.run_name) p.run_name = NULL;
    if (status) {
        p.status = status_from_mlflow(status);
        if (!p.status)
            return INVALID(c,
                           "Invalid value '%.40s' for parameter 'status': use RUNNING, "
                           "SCHEDULED, FINISHED, FAILED or KILLED",
                           status),
                   NULL;
    }
    struct err e;
    err_clear(&e);
    if (store_mlflow_run_update(c->s, id, &p, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *r = store_mlflow_run_get(c->s, id, &e);
    if (!r) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *out = json_pack("{s:o}", "run_info", run_info_json(r));
    json_decref(r);
    return out;
}

static json_t *runs_stage(struct call *c, const char *stage)
{
    const char *id = read_run_id(c);
    if (!id) return NULL;
    struct store_mlflow_run_patch p = {.lifecycle_stage = stage};
    struct err e;
    err_clear(&e);
    if (store_mlflow_run_update(c->s, id, &p, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *runs_delete(struct call *c)
{
    return runs_stage(c, "deleted");
}

static json_t *runs_restore(struct call *c)
{
    return runs_stage(c, "active");
}

static json_t *run_log(struct call *c, const char *id, const struct store_metric *m, size_t nm,
                       const struct store_kv *p, size_t np, const struct store_kv *t, size_t nt)
{
    struct err e;
    err_clear(&e);
    if (store_mlflow_run_log(c->s, id, m, nm, p, np, t, nt, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *runs_log_metric(struct call *c)
{
    const char *id = read_run_id(c);
    struct store_metric m;
    if (!id || read_metric(c, c->req, &m)) return NULL;
    return run_log(c, id, &m, 1, NULL, 0, NULL, 0);
}

static json_t *runs_log_parameter(struct call *c)
{
    const char *id = read_run_id(c);
    if (!id) return NULL;
    struct store_kv p = {get_str(c, c->req, "key", 1), get_str(c, c->req, "value", 0)};
    if (c->error || check_key(c, "param", p.key) ||
        check_value(c, "param", p.key, p.value, MAX_PARAM_VALUE_LENGTH))
        return NULL;
    if (!p.value) p.value = "";
    return run_log(c, id, NULL, 0, &p, 1, NULL, 0);
}

static json_t *runs_set_tag(struct call *c)
{
    const char *id = read_run_id(c);
    if (!id) return NULL;
    struct store_kv t = {get_str(c, c->req, "key", 1), get_str(c, c->req, "value", 0)};
    if (c->error || check_key(c, "tag", t.key) ||
        check_value(c, "tag", t.key, t.value, MAX_TAG_VALUE_LENGTH))
        return NULL;
    if (!t.value) t.value = "";
    json_t *out = run_log(c, id, NULL, 0, NULL, 0, &t, 1);
    /* Setting mlflow.runName renames the run, as MLflow does. */
    if (out && str_eq(t.key, "mlflow.runName")) {
        struct store_mlflow_run_patch p = {.run_name = t.value};
        struct err e;
        err_clear(&e);
        if (store_mlflow_run_update(c->s, id, &p, &e)) {
            json_decref(out);
            return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
        }
    }
    return out;
}

static json_t *runs_delete_tag(struct call *c)
{
    const char *id = read_run_id(c);
    const char *key = id ? get_str(c, c->req, "key", 1) : NULL;
    if (!key) return NULL;
    struct err e;
    err_clear(&e);
    if (store_mlflow_tag_delete(c->s, id, key, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *runs_log_batch(struct call *c)
{
    const char *id = read_run_id(c);
    if (!id) return NULL;
    json_t *lm = get_list(c, c->req, "metrics");
    json_t *lp = get_list(c, c->req, "params");
    json_t *lt = get_list(c, c->req, "tags");
    json_t *out = NULL;
    struct store_metric *m = NULL;
    struct store_kv *p = NULL, *t = NULL;
    if (!lm || !lp || !lt) goto done;
    size_t nm = json_array_size(lm), np = json_array_size(lp), nt = json_array_size(lt);
    if (nm > MAX_BATCH_METRICS) {
        INVALID(c, "A batch logging request can contain at most %d metrics. Got %zu metrics.",
                MAX_BATCH_METRICS, nm);
        goto done;
    }
    if (np > MAX_BATCH_PARAMS) {
        INVALID(c, "A batch logging request can contain at most %d params. Got %zu params.",
                MAX_BATCH_PARAMS, np);
        goto done;
    }
    if (nt > MAX_BATCH_TAGS) {
        INVALID(c, "A batch logging request can contain at most %d tags. Got %zu tags.",
                MAX_BATCH_TAGS, nt);
        goto done;
    }
    if (nm + np + nt > MAX_BATCH_ITEMS) {
        INVALID(c,
                "A batch logging request can contain at most %d total metrics, params and tags. "
                "Got %zu items.",
                MAX_BATCH_ITEMS, nm + np + nt);
        goto done;
    }
    m = xcalloc(nm + 1, sizeof *m);
    p = xcalloc(np + 1, sizeof *p);
    t = xcalloc(nt + 1, sizeof *t);
    for (size_t i = 0; i < nm; i++)
        if (read_metric(c, json_array_get(lm, i), &m[i])) goto done;
    if (read_kvs(c, lp, "param", MAX_PARAM_VALUE_LENGTH, p) ||
        read_kvs(c, lt, "tag", MAX_TAG_VALUE_LENGTH, t))
        goto done;
    for (size_t i = 0; i < np; i++) {
        if (!p[i].value) p[i].value = "";
        /* the same key twice in one batch with different values */
        for (size_t j = 0; j < i; j++)
            if (str_eq(p[i].key, p[j].key) && !str_eq(p[i].value, p[j].value)) {
                INVALID(c,
                        "Duplicate parameter keys have been submitted: '%.200s' with values "
                        "'%.100s' and '%.100s'.",
                        p[i].key, p[j].value, p[i].value);
                goto done;
            }
    }
    for (size_t i = 0; i < nt; i++)
        if (!t[i].value) t[i].value = "";
    out = run_log(c, id, m, nm, p, np, t, nt);
done:
    free(m);
    free(p);
    free(t);
    json_decref(lm);
    json_decref(lp);
    json_decref(lt);
    return out;
}

/* ---- search ---- */

/* A loaded run as filter.h sees it: the store's object plus its latest
 * metrics, looked up by key. */
struct search_row {
    struct filter_row row;
    json_t *run;    /* the store's run (borrowed) */
    json_t *latest; /* {key: value} of the latest points */
    json_t *params; /* {key: value} */
    json_t *tags;   /* {key: value} */
};

static int row_metric(const void *ctx, const char *key, double *out)
{
    const struct search_row *r = ctx;
    json_t *v = json_object_get(r->latest, key);
    if (!v) return 0;
    return value_double(v, out) == 0;
}

static int row_param(const void *ctx, const char *key, const char **out)
{
    const struct search_row *r = ctx;
    json_t *v = json_object_get(r->params, key);
    if (!v) return 0;
    *out = json_string_value(v);
    return *out != NULL;
}

static int row_tag(const void *ctx, const char *key, const char **out)
{
    const struct search_row *r = ctx;
    json_t *v = json_object_get(r->tags, key);
    if (!v) return 0;
    *out = json_string_value(v);
    return *out != NULL;
}

static json_t *kv_object(json_t *list, const char *value_key)
{
    json_t *o = json_object();
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *k = json_string_value(json_object_get(x, "key"));
        if (k) json_object_set(o, k, json_object_get(x, value_key));
    }
    return o;
}

static void search_row_init(struct search_row *sr, json_t *run)
{
    memset(sr, 0, sizeof *sr);
    sr->run = run;
    json_t *latest = latest_metrics(json_object_get(run, "metrics"));
    sr->latest = kv_object(latest, "value");
    json_decref(latest);
    sr->params = kv_object(json_object_get(run, "params"), "value");
    sr->tags = kv_object(json_object_get(run, "tags"), "value");
    struct filter_row *f = &sr->row;
    f->run_id = json_string_value(json_object_get(run, "run_id"));
    f->run_name = json_string_value(json_object_get(run, "run_name"));
    f->user_id = json_string_value(json_object_get(run, "user_id"));
    f->status = status_to_mlflow(json_string_value(json_object_get(run, "status")));
    f->artifact_uri = json_string_value(json_object_get(run, "artifact_uri"));
    f->start_time = json_integer_value(json_object_get(run, "start_time"));
    f->end_time = json_integer_value(json_object_get(run, "end_time"));
    f->metric = row_metric;
    f->param = row_param;
    f->tag = row_tag;
    f->ctx = sr;
}

static void search_row_clear(struct search_row *sr)
{
    json_decref(sr->latest);
    json_decref(sr->params);
    json_decref(sr->tags);
}

static _Thread_local const struct order *tl_run_order;

static int run_compare(const void *pa, const void *pb)
{
    const struct search_row *a = *(const struct search_row *const *)pa;
    const struct search_row *b = *(const struct search_row *const *)pb;
    return order_compare(tl_run_order, &a->row, &b->row);
}

static json_t *runs_search(struct call *c)
{
    size_t offset, limit;
    const char *stage;
    if (read_page(c, SEARCH_RUNS_DEFAULT, SEARCH_RUNS_MAX, &offset, &limit) ||
        read_view(c, "run_view_type", &stage))
        return NULL;
    const char *filter_text = get_str(c, c->req, "filter", 0);
    json_t *ids = get_list(c, c->req, "experiment_ids");
    json_t *order_list = ids ? get_list(c, c->req, "order_by") : NULL;
    if (c->error || !ids || !order_list) {
        json_decref(ids);
        json_decref(order_list);
        return NULL;
    }
    json_t *out = NULL;
    struct filter filter = {0};
    struct order order = {0};
    size_t n_ids = json_array_size(ids), n_order = json_array_size(order_list);
    int64_t *exp_ids = xcalloc(n_ids + 1, sizeof *exp_ids);
    const char **clauses = xcalloc(n_order + 1, sizeof *clauses);
    json_t *runs = NULL;
    struct search_row *rows = NULL, **sorted = NULL;
    size_t n_runs = 0;
    for (size_t i = 0; i < n_ids; i++) {
        json_t *v = json_array_get(ids, i);
        if (json_is_integer(v))
            exp_ids[i] = json_integer_value(v);
        else if (!json_is_string(v) || parse_int64(json_string_value(v), &exp_ids[i])) {
            INVALID(c, "Invalid experiment id in 'experiment_ids': expected a decimal string");
            goto done;
        }
    }
    for (size_t i = 0; i < n_order; i++) {
        clauses[i] = json_string_value(json_array_get(order_list, i));
        if (!clauses[i]) {
            INVALID(c, "Invalid order_by clause %zu: expected a string", i + 1);
            goto done;
        }
    }
    struct err e;
    err_clear(&e);
    if (filter_parse(filter_text, &filter, &e) || order_parse(clauses, n_order, &order, &e)) {
        INVALID(c, "%s", e.msg);
        goto done;
    }
    runs = store_mlflow_runs_load(c->s, exp_ids, n_ids, stage, &e);
    if (!runs) {
        fail_store(c, &e, "INVALID_PARAMETER_VALUE");
        goto done;
    }
    n_runs = json_array_size(runs);
    rows = xcalloc(n_runs + 1, sizeof *rows);
    sorted = xcalloc(n_runs + 1, sizeof *sorted);
    size_t kept = 0;
    for (size_t i = 0; i < n_runs; i++) {
        search_row_init(&rows[i], json_array_get(runs, i));
        if (filter_match(&filter, &rows[i].row)) sorted[kept++] = &rows[i];
    }
    tl_run_order = &order;
    qsort(sorted, kept, sizeof *sorted, run_compare);
    json_t *page = json_array();
    for (size_t i = offset; i < kept && i < offset + limit; i++)
        json_array_append_new(page, run_json(sorted[i]->run));
    out = json_object();
    json_object_set_new(out, "runs", page);
    if (offset + limit < kept) {
        char *token = mlflow_page_token(offset + limit);
        json_object_set_new(out, "next_page_token", json_string(token));
        free(token);
    }
done:
    for (size_t i = 0; rows && i < n_runs; i++)
        search_row_clear(&rows[i]);
    free(rows);
    free(sorted);
    json_decref(runs);
    filter_free(&filter);
    order_free(&order);
    free(exp_ids);
    free(clauses);
    json_decref(ids);
    json_decref(order_list);
    return out;
}

static json_t *metrics_get_history(struct call *c)
{
    const char *id = read_run_id(c);
    const char *key = id ? get_str(c, c->req, "metric_key", 1) : NULL;
    if (!key) return NULL;
    size_t offset = 0, limit = 0;
    int paged = json_object_get(c->req, "max_results") || json_object_get(c->req, "page_token");
    if (paged && read_page(c, 25000, 25000, &offset, &limit)) return NULL;
    struct err e;
    err_clear(&e);
    json_t *all = store_mlflow_metric_history(c->s, id, key, &e);
    if (!all) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    if (!paged) return json_pack("{s:o}", "metrics", all);
    return page_answer(all, "metrics", offset, limit);
}

/* ---- dispatch ---- */

struct endpoint {
    const char *path;
    const char *methods; /* space-separated */
    json_t *(*handle)(struct call *c);
};

static const struct endpoint endpoints[] = {
    {"experiments/create", "POST", experiments_create},
    {"experiments/get", "GET", experiments_get},
    {"experiments/get-by-name", "GET", experiments_get_by_name},
    {"experiments/search", "POST GET", experiments_search},
    {"experiments/list", "GET", experiments_search},
    {"experiments/update", "POST", experiments_update},
    {"experiments/delete", "POST", experiments_delete},
    {"experiments/restore", "POST", experiments_restore},
    {"experiments/set-experiment-tag", "POST", experiments_set_tag},
    {"runs/create", "POST", runs_create},
    {"runs/get", "GET", runs_get},
    {"runs/update", "POST", runs_update},
    {"runs/delete", "POST", runs_delete},
    {"runs/restore", "POST", runs_restore},
    {"runs/log-metric", "POST", runs_log_metric},
    {"runs/log-parameter", "POST", runs_log_parameter},
    {"runs/set-tag", "POST", runs_set_tag},
    {"runs/delete-tag", "POST", runs_delete_tag},
    {"runs/log-batch", "POST", runs_log_batch},
    {"runs/search", "POST", runs_search},
    {"metrics/get-history", "GET", metrics_get_history},
};

static int method_allowed(const char *methods, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = methods; (p = strstr(p, method)) != NULL; p += n)
        if ((p == methods || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    return 0;
}

json_t *mlflow_call(struct store *s, const char *method, const char *endpoint, json_t *req,
                    unsigned int *status)
{
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const struct endpoint *ep = &endpoints[i];
        if (!str_eq(ep->path, endpoint)) continue;
        if (!method_allowed(ep->methods, method))
            return mlflow_error(status, 405, "BAD_REQUEST",
                                "Method %.16s is not allowed for %s; use %s", method, ep->path,
                                ep->methods);
        struct call c = {.s = s, .req = req, .status = 200};
        json_t *out = ep->handle(&c);
        if (c.error) {
            json_decref(out);
            *status = c.status;
            return c.error;
        }
        if (!out) return mlflow_error(status, 500, "INTERNAL_ERROR", "%s: no answer", endpoint);
        *status = 200;
        return out;
    }
    return mlflow_error(status, 404, "ENDPOINT_NOT_FOUND",
                        "No API endpoint '%.200s' (method %.16s) in this MLflow server", endpoint,
                        method);
}

char *mlflow_dump(const json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
}

char *mlflow_json_nonfinite(const char *text, size_t len)
{
    if (len == 0) return xstrdup("");
    struct buf out;
    buf_init(&out);
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            buf_append_char(&out, ch);
            if (ch == '\\' && i + 1 < len)
                buf_append_char(&out, text[++i]);
            else if (ch == '"')
                in_string = 0;
            continue;
        }
        if (ch == '"') in_string = 1;
        static const char *const words[] = {"-Infinity", "Infinity", "NaN"};
        int replaced = 0;
        for (size_t w = 0; w < 3 && !replaced; w++) {
            size_t n = strlen(words[w]);
            if (len - i >= n && memcmp(text + i, words[w], n) == 0) {
                buf_printf(&out, "\"%s\"", words[w]);
                i += n - 1;
                replaced = 1;
            }
        }
        if (!replaced) buf_append_char(&out, ch);
    }
    char *result = buf_detach(&out);
    return result ? result : xstrdup("");
}
