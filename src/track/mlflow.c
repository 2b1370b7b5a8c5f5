/* The MLflow tracking protocol: one function per endpoint, a table that maps
 * endpoints to them, and the helpers they share (field readers that accept
 * both JSON bodies and query strings, error answers, run shapes). */
#include "track/mlflow.h"

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "track/filter.h"
#include "track/run_search.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    const char *actor; /* who calls, for the alias history (may be NULL) */
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
    struct run_search_page page = {0};
    size_t n_ids = json_array_size(ids), n_order = json_array_size(order_list);
    int64_t *exp_ids = xcalloc(n_ids + 1, sizeof *exp_ids);
    const char **clauses = xcalloc(n_order + 1, sizeof *clauses);
    json_t *runs = NULL, *by_id = NULL;
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
    struct run_search q = {
        .experiment_ids = exp_ids,
        .n_experiments = n_ids,
        .lifecycle_stage = stage,
        .filter = &filter,
        .order = &order,
        .offset = offset,
        .limit = limit,
        .status_name = status_to_mlflow,
    };
    if (run_search(c->s, &q, &page, &e) ||
        !(runs = store_mlflow_runs_get(c->s, (const char *const *)page.run_ids, page.n, &e))) {
        fail_store(c, &e, "INVALID_PARAMETER_VALUE");
        goto done;
    }
    by_id = json_object(); /* borrowed: the page comes back in any order */
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
        json_object_set(by_id, json_string_value(json_object_get(run, "run_id")), run);
    json_t *answer = json_array();
    for (i = 0; i < page.n; i++) {
        run = json_object_get(by_id, page.run_ids[i]);
        if (run) json_array_append_new(answer, run_json(run)); /* gone since the scan */
    }
    out = json_object();
    json_object_set_new(out, "runs", answer);
    if (offset + limit < page.matches) {
        char *token = mlflow_page_token(offset + limit);
        json_object_set_new(out, "next_page_token", json_string(token));
        free(token);
    }
done:
    run_search_page_free(&page);
    json_decref(by_id);
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

/* ---- model registry ---- */

#define SEARCH_MODELS_DEFAULT 100
#define SEARCH_MODELS_MAX 50000
#define SEARCH_VERSIONS_DEFAULT 10000
#define SEARCH_VERSIONS_MAX 200000
#define MAX_MODEL_NAME_LENGTH 256

static const char *const stage_names[] = {"None", "Staging", "Production", "Archived"};

/* A stage in any case ("production") as MLflow spells it, or NULL. */
static const char *canonical_stage(const char *stage)
{
    for (size_t i = 0; stage && i < sizeof stage_names / sizeof stage_names[0]; i++)
        if (strcasecmp(stage, stage_names[i]) == 0) return stage_names[i];
    return NULL;
}

static const char *read_model_name(struct call *c, const char *field)
{
    const char *name = get_str(c, c->req, field, 1);
    if (!name) return NULL;
    if (!*name) return missing(c, field), NULL;
    if (strlen(name) > MAX_MODEL_NAME_LENGTH)
        return INVALID(c, "Registered model name '%.40s...' exceeds %d characters", name,
                       MAX_MODEL_NAME_LENGTH),
               NULL;
    return name;
}

static int read_version(struct call *c, int64_t *version)
{
    json_t *v = json_object_get(c->req, "version");
    if (!v || json_is_null(v)) return missing(c, "version");
    int r = get_int(c, c->req, "version", version);
    if (r < 0) return -1;
    if (*version < 1)
        return INVALID(c, "Model version must be a positive integer, got %lld",
                       (long long)*version);
    return 0;
}

static json_t *version_string(json_t *v)
{
    return json_sprintf("%lld", (long long)json_integer_value(v));
}

/* A store model version as MLflow shows it: the version as a string, status READY. */
static json_t *model_version_json(json_t *x)
{
    json_t *out = json_object();
    static const char *const keys[] = {"name",
                                       "version",
                                       "creation_timestamp",
                                       "last_updated_timestamp",
                                       "user_id",
                                       "current_stage",
                                       "description",
                                       "source",
                                       "run_id",
                                       "run_link",
                                       "tags",
                                       "aliases"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(x, keys[i]);
        if (str_eq(keys[i], "version"))
            json_object_set_new(out, "version", version_string(v));
        else
            json_object_set(out, keys[i], v);
        if (str_eq(keys[i], "current_stage")) {
            json_object_set_new(out, "status", json_string("READY"));
            json_object_set_new(out, "status_message", json_string(""));
        }
    }
    return out;
}

/* The latest version in each stage (all stages, or those in `stages`). */
static json_t *latest_versions(json_t *versions, json_t *stages)
{
    json_t *out = json_array();
    for (size_t s = 0; s < sizeof stage_names / sizeof stage_names[0]; s++) {
        if (json_array_size(stages)) {
            int wanted = 0;
            size_t i;
            json_t *x;
            json_array_foreach(stages, i, x) wanted |=
                canonical_stage(json_string_value(x)) == stage_names[s];
            if (!wanted) continue;
        }
        json_t *best = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(versions, i, v)
        {
            if (!str_eq(json_string_value(json_object_get(v, "current_stage")), stage_names[s]))
                continue;
            if (!best || json_integer_value(json_object_get(v, "version")) >
                             json_integer_value(json_object_get(best, "version")))
                best = v;
        }
        if (best) json_array_append_new(out, model_version_json(best));
    }
    return out;
}

/* A store registered model as MLflow shows it, with its latest versions. */
static json_t *registered_model_json(struct call *c, json_t *x)
{
    const char *name = json_string_value(json_object_get(x, "name"));
    struct err e;
    err_clear(&e);
    json_t *versions = store_model_versions_list(c->s, name, &e);
    if (!versions) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *out = json_object();
    json_object_set(out, "name", json_object_get(x, "name"));
    json_object_set(out, "creation_timestamp", json_object_get(x, "creation_timestamp"));
    json_object_set(out, "last_updated_timestamp", json_object_get(x, "last_updated_timestamp"));
    const char *d = json_string_value(json_object_get(x, "description"));
    json_object_set_new(out, "description", json_string(d ? d : ""));
    json_object_set_new(out, "latest_versions", latest_versions(versions, NULL));
    json_object_set(out, "tags", json_object_get(x, "tags"));
    json_t *aliases = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(x, "aliases"), i, a) json_array_append_new(
        aliases, json_pack("{s:O,s:o}", "alias", json_object_get(a, "alias"), "version",
                           version_string(json_object_get(a, "version"))));
    json_object_set_new(out, "aliases", aliases);
    json_decref(versions);
    return out;
}

static json_t *registered_model_answer(struct call *c, const char *name)
{
    struct err e;
    err_clear(&e);
    json_t *x = store_registered_model_get(c->s, name, &e);
    if (!x) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *rm = registered_model_json(c, x);
    json_decref(x);
    return rm ? json_pack("{s:o}", "registered_model", rm) : NULL;
}

static json_t *model_version_answer(struct call *c, const char *name, int64_t version)
{
    struct err e;
    err_clear(&e);
    json_t *x = store_model_version_get(c->s, name, version, &e);
    if (!x) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *out = json_pack("{s:o}", "model_version", model_version_json(x));
    json_decref(x);
    return out;
}

/* Reads tags[] into a new array of store_kv (pointers into the request). */
static struct store_kv *read_tags(struct call *c, json_t **list)
{
    *list = get_list(c, c->req, "tags");
    if (!*list) return NULL;
    struct store_kv *tags = xcalloc(json_array_size(*list) + 1, sizeof *tags);
    if (read_kvs(c, *list, "tag", MAX_TAG_VALUE_LENGTH, tags)) {
        free(tags);
        json_decref(*list);
        *list = NULL;
        return NULL;
    }
    return tags;
}

static json_t *registered_models_create(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *description = name ? get_str(c, c->req, "description", 0) : NULL;
    if (!name || c->error) return NULL;
    json_t *list;
    struct store_kv *tags = read_tags(c, &list);
    if (!tags) return NULL;
    struct err e;
    err_clear(&e);
    json_t *out = NULL;
    if (store_registered_model_create(c->s, name, description, tags, json_array_size(list), &e))
        fail_store(c, &e, "RESOURCE_ALREADY_EXISTS");
    else
        out = registered_model_answer(c, name);
    free(tags);
    json_decref(list);
    return out;
}

static json_t *registered_models_get(struct call *c)
{
    const char *name = read_model_name(c, "name");
    return name ? registered_model_answer(c, name) : NULL;
}

static json_t *registered_models_rename(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *new_name = name ? read_model_name(c, "new_name") : NULL;
    if (!new_name) return NULL;
    struct err e;
    err_clear(&e);
    if (store_registered_model_update(c->s, name, new_name, NULL, &e))
        return fail_store(c, &e, "RESOURCE_ALREADY_EXISTS"), NULL;
    return registered_model_answer(c, new_name);
}

static json_t *registered_models_update(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *description = name ? get_str(c, c->req, "description", 0) : NULL;
    if (!name || c->error) return NULL;
    struct err e;
    err_clear(&e);
    if (store_registered_model_update(c->s, name, NULL, description ? description : "", &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return registered_model_answer(c, name);
}

static json_t *registered_models_delete(struct call *c)
{
    const char *name = read_model_name(c, "name");
    if (!name) return NULL;
    struct err e;
    err_clear(&e);
    if (store_registered_model_delete(c->s, name, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *registered_models_tag(struct call *c, int set)
{
    const char *name = read_model_name(c, "name");
    const char *key = name ? get_str(c, c->req, "key", 1) : NULL;
    const char *value = key && set ? get_str(c, c->req, "value", 0) : NULL;
    if (!key || c->error || check_key(c, "tag", key) ||
        check_value(c, "tag", key, value, MAX_TAG_VALUE_LENGTH))
        return NULL;
    struct err e;
    err_clear(&e);
    if (store_registered_model_tag(c->s, name, key, set ? (value ? value : "") : NULL, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *registered_models_set_tag(struct call *c)
{
    return registered_models_tag(c, 1);
}

static json_t *registered_models_delete_tag(struct call *c)
{
    return registered_models_tag(c, 0);
}

static json_t *registered_models_get_latest(struct call *c)
{
    const char *name = read_model_name(c, "name");
    json_t *stages = name ? get_list(c, c->req, "stages") : NULL;
    if (!stages) return NULL;
    size_t i;
    json_t *x;
    json_array_foreach(stages, i, x) if (!canonical_stage(json_string_value(x)))
    {
        json_decref(stages);
        return INVALID(c,
                       "Invalid Model Version stage: %.40s. Value must be one of None, "
                       "Staging, Production, Archived.",
                       json_string_value(x) ? json_string_value(x) : "?"),
               NULL;
    }
    struct err e;
    err_clear(&e);
    json_t *rm = store_registered_model_get(c->s, name, &e);
    json_t *versions = rm ? store_model_versions_list(c->s, name, &e) : NULL;
    json_decref(rm);
    json_t *out = NULL;
    if (!versions)
        fail_store(c, &e, "INVALID_PARAMETER_VALUE");
    else
        out = json_pack("{s:o}", "model_versions", latest_versions(versions, stages));
    json_decref(versions);
    json_decref(stages);
    return out;
}

/* MLflow reserves "latest" and version-like names ("v3"). */
static int check_alias(struct call *c, const char *alias)
{
    if (!alias) return -1;
    if (!*alias) return missing(c, "alias");
    size_t n = strlen(alias);
    int version_like =
        (alias[0] == 'v' || alias[0] == 'V') && n > 1 && strspn(alias + 1, "0123456789") == n - 1;
    if (strcasecmp(alias, "latest") == 0 || version_like)
        return INVALID(c,
                       "'%.64s' alias name (case insensitive) is reserved and cannot be used as "
                       "an alias",
                       alias);
    if (n > MAX_KEY_LENGTH || strchr(alias, '/') || strchr(alias, '\\'))
        return INVALID(c, "Invalid alias name '%.64s'", alias);
    return 0;
}

static json_t *registered_models_set_alias(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *alias = name ? get_str(c, c->req, "alias", 1) : NULL;
    int64_t version;
    if (check_alias(c, alias) || read_version(c, &version)) return NULL;
    struct err e;
    err_clear(&e);
    json_t *mv = store_model_version_get(c->s, name, version, &e);
    if (!mv) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    int is_mlflow_only = str_eq(json_string_value(json_object_get(mv, "kind")), "mlflow");
    json_decref(mv);
    const char *reason = "mlflow: set_registered_model_alias";
    int r;
    if (str_eq(alias, "champion")) {
        /* The champion is what `boucle serve` loads: only a version boucle
         * trained has a model it can serve. Moving it keeps `previous` (the
         * rollback target) as a promotion does. */
        if (is_mlflow_only)
            return INVALID(c,
                           "Version %lld of '%.100s' was registered through MLflow and has no "
                           "boucle model to serve; the champion alias must point at a version "
                           "boucle trained",
                           (long long)version, name),
                   NULL;
        int64_t current = 0;
        int has = store_alias_get(c->s, name, "champion", &current, &e);
        if (has < 0) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
        r = has && current == version
                ? 0
                : store_alias_deploy(c->s, name, version, reason, c->actor, &e);
    } else {
        r = store_alias_set_reason(c->s, name, alias, version, reason, c->actor, &e);
    }
    if (r) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *registered_models_delete_alias(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *alias = name ? get_str(c, c->req, "alias", 1) : NULL;
    if (!alias) return NULL;
    struct err e;
    err_clear(&e);
    if (store_model_alias_delete(c->s, name, alias, "mlflow: delete_registered_model_alias",
                                 c->actor, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *registered_models_get_alias(struct call *c)
{
    const char *name = read_model_name(c, "name");
    const char *alias = name ? get_str(c, c->req, "alias", 1) : NULL;
    if (!alias) return NULL;
    if (!*alias) return missing(c, "alias"), NULL;
    struct err e;
    err_clear(&e);
    int64_t version = 0;
    int has = store_alias_get(c->s, name, alias, &version, &e);
    if (has < 0) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    if (!has)
        return fail(c, 404, "RESOURCE_DOES_NOT_EXIST",
                    "Registered model alias %.100s not found for model %.200s.", alias, name),
               NULL;
    return model_version_answer(c, name, version);
}

static json_t *model_versions_create(struct call *c)
{
    const char *name = read_model_name(c, "name");
    struct store_mlflow_version v = {.name = name};
    if (!name) return NULL;
    v.source = get_str(c, c->req, "source", 1);
    v.run_id = get_str(c, c->req, "run_id", 0);
    v.run_link = get_str(c, c->req, "run_link", 0);
    v.description = get_str(c, c->req, "description", 0);
    if (c->error) return NULL;
    json_t *list;
    struct store_kv *tags = read_tags(c, &list);
    if (!tags) return NULL;
    v.tags = tags;
    v.n_tags = json_array_size(list);
    struct err e;
    err_clear(&e);
    int64_t version = 0;
    json_t *out = NULL;
    if (store_model_version_create(c->s, &v, &version, &e))
        fail_store(c, &e, "RESOURCE_ALREADY_EXISTS");
    else
        out = model_version_answer(c, name, version);
    free(tags);
    json_decref(list);
    return out;
}

static json_t *model_versions_get(struct call *c)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    return model_version_answer(c, name, version);
}

static json_t *model_versions_update(struct call *c)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    const char *description = get_str(c, c->req, "description", 0);
    if (c->error) return NULL;
    struct err e;
    err_clear(&e);
    if (store_model_version_update(c->s, name, version, description ? description : "", NULL, 0,
                                   &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return model_version_answer(c, name, version);
}

static json_t *model_versions_delete(struct call *c)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    struct err e;
    err_clear(&e);
    if (store_model_version_delete(c->s, name, version, c->actor, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static int get_bool(struct call *c, const char *name, int *out)
{
    json_t *v = json_object_get(c->req, name);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    const char *t = json_string_value(v);
    if (t && (strcasecmp(t, "true") == 0 || strcasecmp(t, "false") == 0)) {
        *out = strcasecmp(t, "true") == 0;
        return 0;
    }
    return INVALID(c, "Invalid value for parameter '%s': expected a boolean", name);
}

static json_t *model_versions_transition_stage(struct call *c)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    const char *raw = get_str(c, c->req, "stage", 1);
    int archive = 0;
    if (!raw || get_bool(c, "archive_existing_versions", &archive)) return NULL;
    const char *stage = canonical_stage(raw);
    if (!stage)
        return INVALID(c,
                       "Invalid Model Version stage: %.40s. Value must be one of None, Staging, "
                       "Production, Archived.",
                       raw),
               NULL;
    struct err e;
    err_clear(&e);
    if (store_model_version_update(c->s, name, version, NULL, stage, archive, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return model_version_answer(c, name, version);
}

static json_t *model_versions_download_uri(struct call *c)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    struct err e;
    err_clear(&e);
    json_t *x = store_model_version_get(c->s, name, version, &e);
    if (!x) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    json_t *out = json_pack("{s:O}", "artifact_uri", json_object_get(x, "source"));
    json_decref(x);
    return out;
}

static json_t *model_versions_tag(struct call *c, int set)
{
    const char *name = read_model_name(c, "name");
    int64_t version;
    if (!name || read_version(c, &version)) return NULL;
    const char *key = get_str(c, c->req, "key", 1);
    const char *value = key && set ? get_str(c, c->req, "value", 0) : NULL;
    if (!key || c->error || check_key(c, "tag", key) ||
        check_value(c, "tag", key, value, MAX_TAG_VALUE_LENGTH))
        return NULL;
    struct err e;
    err_clear(&e);
    if (store_model_version_tag(c->s, name, version, key, set ? (value ? value : "") : NULL, &e))
        return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return json_object();
}

static json_t *model_versions_set_tag(struct call *c)
{
    return model_versions_tag(c, 1);
}

static json_t *model_versions_delete_tag(struct call *c)
{
    return model_versions_tag(c, 0);
}

/* ---- registry search: a small filter (`field op 'value'` joined by AND)
 * and order_by over the store's objects ---- */

enum reg_op { REG_EQ, REG_NE, REG_LIKE, REG_ILIKE, REG_IN };

struct reg_clause {
    char *field; /* "name", "run_id", "source", "version_number", "tags.<key>" */
    enum reg_op op;
    json_t *values; /* strings */
};

#define REG_MAX_CLAUSES 16

static void reg_clauses_free(struct reg_clause *cl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cl[i].field);
        json_decref(cl[i].values);
    }
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* A quoted string literal at p: the value, and p past it; NULL when not one. */
static char *reg_literal(const char **pp)
{
    const char *p = *pp;
    char q = *p;
    if (q != '\'' && q != '"') {
        size_t n = strspn(p, "0123456789");
        if (!n) return NULL;
        *pp = p + n;
        return xstrndup(p, n);
    }
    const char *end = strchr(p + 1, q);
    if (!end) return NULL;
    *pp = end + 1;
    return xstrndup(p + 1, (size_t)(end - p - 1));
}

static int reg_keyword(const char **pp, const char *word)
{
    size_t n = strlen(word);
    if (strncasecmp(*pp, word, n) != 0) return 0;
    char next = (*pp)[n];
    if (isalnum((unsigned char)next) || next == '_') return 0;
    *pp += n;
    return 1;
}

static int reg_filter_parse(struct call *c, const char *text, const char *const *fields,
                            struct reg_clause *cl, size_t *n)
{
    *n = 0;
    if (!text) return 0;
    const char *p = skip_ws(text);
    while (*p) {
        if (*n == REG_MAX_CLAUSES)
            return INVALID(c, "Invalid filter '%.200s': at most %d conditions", text,
                           REG_MAX_CLAUSES);
        size_t at = (size_t)(p - text);
        /* the field: name, attributes.name, tags.key, tags.`key` */
        const char *start = p;
        if (str_starts_with(p, "attributes."))
            p += 11, start = p;
        else if (str_starts_with(p, "attribute."))
            p += 10, start = p;
        char *field = NULL;
        if (str_starts_with(p, "tags.") || str_starts_with(p, "tag.")) {
            p = strchr(p, '.') + 1;
            char *key = NULL;
            if (*p == '`' || *p == '"') {
                const char *end = strchr(p + 1, *p);
                if (end) {
                    key = xstrndup(p + 1, (size_t)(end - p - 1));
                    p = end + 1;
                }
            } else {
                size_t k = strcspn(p, " \t=!<>");
                if (k) key = xstrndup(p, k);
                p += k;
            }
            if (!key)
                return INVALID(c, "Invalid filter '%.200s': at character %zu: expected a tag key",
                               text, at + 1);
            field = xcalloc(strlen(key) + 6, 1);
            sprintf(field, "tags.%s", key);
            free(key);
        } else {
            size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ");
            field = xstrndup(p, k);
            p += k;
            int known = 0;
            for (size_t i = 0; fields[i]; i++)
                known |= str_eq(field, fields[i]);
            if (!known) {
                int r = INVALID(c,
                                "Invalid filter '%.200s': at character %zu: invalid attribute "
                                "'%.64s'",
                                text, (size_t)(start - text) + 1, field);
                free(field);
                return r;
            }
        }
        cl[*n].field = field;
        cl[*n].values = json_array();
        (*n)++;
        struct reg_clause *x = &cl[*n - 1];
        p = skip_ws(p);
        size_t op_at = (size_t)(p - text);
        if (str_starts_with(p, "!="))
            x->op = REG_NE, p += 2;
        else if (*p == '=')
            x->op = REG_EQ, p += 1;
        else if (reg_keyword(&p, "ILIKE"))
            x->op = REG_ILIKE;
        else if (reg_keyword(&p, "LIKE"))
            x->op = REG_LIKE;
        else if (reg_keyword(&p, "IN"))
            x->op = REG_IN;
        else
            return INVALID(c,
                           "Invalid filter '%.200s': at character %zu: expected a comparator "
                           "(=, !=, LIKE, ILIKE, IN)",
                           text, op_at + 1);
        p = skip_ws(p);
        size_t lit_at = (size_t)(p - text);
        if (x->op == REG_IN) {
            if (*p != '(')
                return INVALID(c, "Invalid filter '%.200s': at character %zu: expected '('", text,
                               lit_at + 1);
            p = skip_ws(p + 1);
            for (;;) {
                char *lit = reg_literal(&p);
                if (!lit)
                    return INVALID(c,
                                   "Invalid filter '%.200s': at character %zu: expected a quoted "
                                   "string",
                                   text, (size_t)(p - text) + 1);
                json_array_append_new(x->values, json_string(lit));
                free(lit);
                p = skip_ws(p);
                if (*p == ',') {
                    p = skip_ws(p + 1);
                    continue;
                }
                if (*p == ')') {
                    p++;
                    break;
                }
                return INVALID(c, "Invalid filter '%.200s': at character %zu: expected ',' or ')'",
                               text, (size_t)(p - text) + 1);
            }
        } else {
            char *lit = reg_literal(&p);
            if (!lit)
                return INVALID(
                    c, "Invalid filter '%.200s': at character %zu: expected a quoted string", text,
                    lit_at + 1);
            json_t *v = json_string(lit);
            free(lit);
            if (!v) return INVALID(c, "Invalid filter '%.200s': not UTF-8", text);
            json_array_append_new(x->values, v);
        }
        p = skip_ws(p);
        if (!*p) break;
        size_t and_at = (size_t)(p - text);
        if (!reg_keyword(&p, "AND"))
            return INVALID(c, "Invalid filter '%.200s': at character %zu: expected AND", text,
                           and_at + 1);
        p = skip_ws(p);
        if (!*p)
            return INVALID(c,
                           "Invalid filter '%.200s': at character %zu: a condition must "
                           "follow AND",
                           text, (size_t)(p - text) + 1);
    }
    return 0;
}

/* The value of a field of a store object as text (NULL: absent). */
static const char *reg_value(json_t *x, const char *field, char *num, size_t size)
{
    if (str_starts_with(field, "tags.")) {
        size_t i;
        json_t *t;
        json_array_foreach(
            json_object_get(x, "tags"), i,
            t) if (str_eq(json_string_value(json_object_get(t, "key")),
                          field + 5)) return json_string_value(json_object_get(t, "value"));
        return NULL;
    }
    const char *key = str_eq(field, "version_number") ? "version" : field;
    json_t *v = json_object_get(x, key);
    if (json_is_integer(v)) {
        snprintf(num, size, "%lld", (long long)json_integer_value(v));
        return num;
    }
    return json_string_value(v);
}

static int reg_match(const struct reg_clause *cl, size_t n, json_t *x)
{
    for (size_t i = 0; i < n; i++) {
        char num[32];
        const char *v = reg_value(x, cl[i].field, num, sizeof num);
        const char *lit = json_string_value(json_array_get(cl[i].values, 0));
        int m;
        switch (cl[i].op) {
        case REG_EQ:
            m = v && str_eq(v, lit);
            break;
        case REG_NE:
            m = v && !str_eq(v, lit);
            break;
        case REG_LIKE:
        case REG_ILIKE:
            m = v && filter_like(v, lit, cl[i].op == REG_ILIKE);
            break;
        default: {
            m = 0;
            size_t j;
            json_t *o;
            json_array_foreach(cl[i].values, j, o) m |= v && str_eq(v, json_string_value(o));
        }
        }
        if (!m) return 0;
    }
    return 1;
}

struct reg_order {
    char field[64];
    int desc;
};
static _Thread_local const struct reg_order *tl_reg_orders;
static _Thread_local size_t tl_reg_n_orders;

static int reg_compare(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    for (size_t i = 0; i < tl_reg_n_orders; i++) {
        const char *f = tl_reg_orders[i].field;
        const char *key = str_eq(f, "version_number") ? "version" : f;
        json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
        int r;
        if (json_is_integer(x) || json_is_integer(y)) {
            int64_t u = json_integer_value(x), v = json_integer_value(y);
            r = (u > v) - (u < v);
        } else {
            const char *u = json_string_value(x), *v = json_string_value(y);
            r = strcmp(u ? u : "", v ? v : "");
        }
        if (r) return tl_reg_orders[i].desc ? -r : r;
    }
    return 0;
}

/* order_by[] into orders (fields from `fields`; "timestamp" means
 * last_updated_timestamp). */
static int reg_order_parse(struct call *c, const char *const *fields, struct reg_order *orders,
                           size_t max, size_t *n)
{
    json_t *list = get_list(c, c->req, "order_by");
    if (!list) return -1;
    *n = 0;
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        const char *t = json_string_value(o);
        char field[64] = "", dir[16] = "", extra[8] = "";
        if (!t || sscanf(t, "%63s %15s %7s", field, dir, extra) < 1 || *extra || *n == max) {
            json_decref(list);
            return INVALID(c, "Invalid order_by clause '%.100s'", t ? t : "?");
        }
        const char *f = field;
        if (str_starts_with(f, "attributes.")) f += 11;
        if (str_eq(f, "timestamp")) f = "last_updated_timestamp";
        int known = 0;
        for (size_t k = 0; fields[k]; k++)
            known |= str_eq(f, fields[k]);
        if (!known || (*dir && strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0)) {
            json_decref(list);
            return INVALID(c, "Invalid order_by clause '%.100s'", t);
        }
        snprintf(orders[*n].field, sizeof orders[*n].field, "%s", f);
        orders[(*n)++].desc = strcasecmp(dir, "DESC") == 0;
    }
    json_decref(list);
    return 0;
}

/* Filters, orders and pages a list of store objects; shape() makes each
 * answer item (NULL with c->error set stops). Steals `all`. */
static json_t *reg_search(struct call *c, json_t *all, const char *key, const char *const *fields,
                          const char *const *order_fields, const struct reg_order *dflt,
                          size_t n_dflt, int64_t page_default, int64_t page_max,
                          json_t *(*shape)(struct call *c, json_t *x))
{
    size_t offset, limit, n_clauses = 0, n_orders = 0;
    struct reg_clause clauses[REG_MAX_CLAUSES];
    struct reg_order orders[8];
    json_t *out = NULL;
    if (read_page(c, page_default, page_max, &offset, &limit)) goto done;
    const char *filter = get_str(c, c->req, "filter", 0);
    if (c->error || reg_filter_parse(c, filter, fields, clauses, &n_clauses) ||
        reg_order_parse(c, order_fields, orders, 8, &n_orders))
        goto done;
    for (size_t i = 0; i < n_dflt && n_orders < 8; i++)
        orders[n_orders++] = dflt[i];
    size_t n = json_array_size(all), kept = 0;
    json_t **items = xcalloc(n + 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        if (reg_match(clauses, n_clauses, json_array_get(all, i)))
            items[kept++] = json_array_get(all, i);
    tl_reg_orders = orders;
    tl_reg_n_orders = n_orders;
    qsort(items, kept, sizeof *items, reg_compare);
    json_t *page = json_array();
    for (size_t i = offset; i < kept && i < offset + limit; i++) {
        json_t *item = shape(c, items[i]);
        if (!item) break;
        json_array_append_new(page, item);
    }
    free(items);
    if (c->error) {
        json_decref(page);
        goto done;
    }
    out = json_object();
    json_object_set_new(out, key, page);
    if (offset + limit < kept) {
        char *token = mlflow_page_token(offset + limit);
        json_object_set_new(out, "next_page_token", json_string(token));
        free(token);
    }
done:
    reg_clauses_free(clauses, n_clauses);
    json_decref(all);
    return out;
}

static json_t *shape_model(struct call *c, json_t *x)
{
    return registered_model_json(c, x);
}

static json_t *shape_version(struct call *c, json_t *x)
{
    (void)c;
    return model_version_json(x);
}

static json_t *registered_models_search(struct call *c)
{
    static const char *const fields[] = {"name", NULL};
    static const char *const order_fields[] = {"name", "creation_timestamp",
                                               "last_updated_timestamp", NULL};
    static const struct reg_order dflt[] = {{"name", 0}};
    struct err e;
    err_clear(&e);
    json_t *all = store_registered_models_list(c->s, NULL, &e);
    if (!all) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return reg_search(c, all, "registered_models", fields, order_fields, dflt, 1,
                      SEARCH_MODELS_DEFAULT, SEARCH_MODELS_MAX, shape_model);
}

static json_t *model_versions_search(struct call *c)
{
    static const char *const fields[] = {"name", "run_id", "source", "version_number", NULL};
    static const char *const order_fields[] = {"name", "version_number", "creation_timestamp",
                                               "last_updated_timestamp", NULL};
    static const struct reg_order dflt[] = {{"name", 0}, {"version_number", 1}};
    struct err e;
    err_clear(&e);
    json_t *all = store_model_versions_list(c->s, NULL, &e);
    if (!all) return fail_store(c, &e, "INVALID_PARAMETER_VALUE"), NULL;
    return reg_search(c, all, "model_versions", fields, order_fields, dflt, 2,
                      SEARCH_VERSIONS_DEFAULT, SEARCH_VERSIONS_MAX, shape_version);
}

/* ---- artifacts ---- */

char *mlflow_artifact_path(const char *raw, size_t len, int allow_empty, const char **why)
{
    *why = NULL;
    if (!raw) raw = "";
    if (memchr(raw, '\0', len) || strlen(raw) != len) return *why = "contains a NUL byte", NULL;
    if (raw[0] == '/') return *why = "is absolute", NULL;
    if (strchr(raw, '\\')) return *why = "contains a backslash", NULL;
    if (strstr(raw, "//")) return *why = "contains an empty segment ('//')", NULL;
    if (len >= 2 && raw[1] == ':' && isalpha((unsigned char)raw[0]))
        return *why = "names a drive", NULL;
    for (const char *p = raw; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return *why = "contains a control character", NULL;
        /* still percent-encoded after the server decoded it once: a double
         * encoding, the classic way past a traversal check */
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]))
            return *why = "contains percent-encoding", NULL;
    }
    struct buf out;
    buf_init(&out);
    const char *p = raw;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            buf_free(&out);
            return *why = "escapes the artifact root ('..')", NULL;
        }
        if (n && !(n == 1 && p[0] == '.')) {
            if (out.len) buf_append_char(&out, '/');
            buf_append(&out, p, n);
        }
        p += n;
        if (*p == '/') p++;
    }
    if (!out.len && !allow_empty) {
        buf_free(&out);
        return *why = "is empty", NULL;
    }
    buf_append_char(&out, '\0');
    return buf_detach(&out);
}

/* The entries directly under `dir` ("" for the root) among the run's
 * artifacts: files with their size, sub-directories once. `full`: paths
 * relative to the run's root (artifacts/list), else to `dir` (the proxy). */
static json_t *artifact_entries(json_t *all, const char *dir, int full)
{
    json_t *files = json_array();
    size_t dlen = strlen(dir);
    const char *last_dir = NULL;
    size_t last_len = 0;
    size_t i;
    json_t *a;
    json_array_foreach(all, i, a)
    {
        const char *p = json_string_value(json_object_get(a, "path"));
        if (!p) continue;
        if (dlen) {
            if (strncmp(p, dir, dlen) != 0 || p[dlen] != '/') continue;
            p += dlen + 1;
        }
        size_t n = strcspn(p, "/");
        int is_dir = p[n] == '/';
        if (is_dir && last_dir && last_len == n && strncmp(last_dir, p, n) == 0) continue;
        char *name = xstrndup(p, n);
        json_t *path = full && dlen ? json_sprintf("%s/%s", dir, name) : json_string(name);
        free(name);
        json_t *entry = json_pack("{s:o,s:b}", "path", path, "is_dir", is_dir);
        if (!is_dir) json_object_set(entry, "file_size", json_object_get(a, "size"));
        json_array_append_new(files, entry);
        if (is_dir) {
            last_dir = p;
            last_len = n;
        }
    }
    return files;
}

/* The run of an artifact request, checked against the experiment id in the
 * URL (a boucle run, without one, is accepted under any). */
static int artifact_run(struct call *c, const char *exp, const char *run_id)
{
    struct err e;
    err_clear(&e);
    json_t *run = store_mlflow_run_get(c->s, run_id, &e);
    if (!run) return fail_store(c, &e, "INVALID_PARAMETER_VALUE");
    json_t *id = json_object_get(run, "experiment_id");
    int ok = !json_is_integer(id);
    if (!ok) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(id));
        ok = str_eq(text, exp);
    }
    json_decref(run);
    if (!ok)
        return fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "Run '%.64s' is not in experiment '%.64s'",
                    run_id, exp);
    return 0;
}

/* "<exp>/<run>/artifacts[/<path>]" (normalised) into its parts; *path
 * points into `norm`. */
static int artifact_split(struct call *c, char *norm, const char **exp, const char **run,
                          const char **path)
{
    char *a = strchr(norm, '/');
    char *b = a ? strchr(a + 1, '/') : NULL;
    if (!a || !b || strncmp(b + 1, "artifacts", 9) != 0 || (b[10] && b[10] != '/'))
        return fail(c, 404, "RESOURCE_DOES_NOT_EXIST",
                    "No artifact root at '%.200s': expected <experiment_id>/<run_id>/artifacts",
                    norm);
    *a = *b = '\0';
    *exp = norm;
    *run = a + 1;
    *path = b[10] ? b + 11 : "";
    return 0;
}

json_t *mlflow_artifacts_call(struct store *s, const char *method, const char *rest,
                              size_t rest_len, const char *query_path, size_t query_len,
                              const void *body, size_t body_len, void **data, size_t *data_len,
                              unsigned int *status)
{
    struct call c = {.s = s, .status = 200};
    *data = NULL;
    *data_len = 0;
    int listing = rest_len == 0;
    const char *raw = listing ? query_path : rest;
    size_t raw_len = listing ? query_len : rest_len;
    if (!listing && !str_eq(method, "GET") && !str_eq(method, "PUT") && !str_eq(method, "DELETE"))
        return mlflow_error(status, 405, "BAD_REQUEST",
                            "Method %.16s is not allowed here; use GET, PUT or DELETE", method);
    if (listing && !str_eq(method, "GET"))
        return mlflow_error(status, 405, "BAD_REQUEST", "Method %.16s is not allowed; use GET",
                            method);
    const char *why;
    char *norm = mlflow_artifact_path(raw, raw ? raw_len : 0, listing, &why);
    if (norm && !listing && raw_len && raw[raw_len - 1] == '/') {
        free(norm);
        norm = NULL;
        why = "names a directory (ends with '/'), not a file";
    }
    if (!norm)
        return mlflow_error(status, 400, "INVALID_PARAMETER_VALUE", "Invalid artifact path: %s",
                            why);
    json_t *out = NULL;
    const char *exp = NULL, *run = NULL, *path = NULL;
    struct err e;
    err_clear(&e);
    if (listing && (!*norm || !strchr(norm, '/') || !strchr(strchr(norm, '/') + 1, '/'))) {
        /* above a run's artifact root: nothing to list here */
        out = json_pack("{s:[]}", "files");
        goto done;
    }
    if (artifact_split(&c, norm, &exp, &run, &path) || artifact_run(&c, exp, run)) goto done;
    if (listing) {
        json_t *all = store_artifacts_list(s, run, &e);
        if (!all) {
            fail_store(&c, &e, "INVALID_PARAMETER_VALUE");
            goto done;
        }
        out = json_pack("{s:o}", "files", artifact_entries(all, path, 0));
        json_decref(all);
        goto done;
    }
    if (!*path) {
        INVALID(&c, "Invalid artifact path: names the artifact root, not a file");
        goto done;
    }
    if (str_eq(method, "PUT")) {
        if (store_artifact_put(s, run, path, body, body_len, &e))
            fail_store(&c, &e, "INVALID_PARAMETER_VALUE");
        else
            out = json_object();
    } else if (str_eq(method, "DELETE")) {
        if (store_artifact_delete(s, run, path, &e))
            fail_store(&c, &e, "INVALID_PARAMETER_VALUE");
        else
            out = json_object();
    } else if (store_artifact_get(s, run, path, data, data_len, NULL, &e)) {
        fail_store(&c, &e, "INVALID_PARAMETER_VALUE");
    } else {
        *status = 200;
    }
done:
    free(norm);
    if (c.error) {
        json_decref(out);
        free(*data);
        *data = NULL;
        *status = c.status;
        return c.error;
    }
    if (out) *status = 200;
    return out;
}

static json_t *artifacts_list(struct call *c)
{
    const char *id = read_run_id(c);
    const char *dir = id ? get_str(c, c->req, "path", 0) : NULL;
    if (!id || c->error) return NULL;
    const char *why;
    size_t dir_len = dir ? json_string_length(json_object_get(c->req, "path")) : 0;
    char *norm = mlflow_artifact_path(dir, dir_len, 1, &why);
    if (!norm) return INVALID(c, "Invalid artifact path: %s", why), NULL;
    struct err e;
    err_clear(&e);
    json_t *run = store_mlflow_run_get(c->s, id, &e);
    json_t *all = run ? store_artifacts_list(c->s, id, &e) : NULL;
    json_t *out = NULL;
    if (!all) {
        fail_store(c, &e, "INVALID_PARAMETER_VALUE");
    } else {
        const char *uri = json_string_value(json_object_get(run, "artifact_uri"));
        out = json_pack("{s:s,s:o}", "root_uri", uri ? uri : "", "files",
                        artifact_entries(all, norm, 1));
    }
    json_decref(all);
    json_decref(run);
    free(norm);
    return out;
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
    {"artifacts/list", "GET", artifacts_list},
    {"registered-models/create", "POST", registered_models_create},
    {"registered-models/get", "GET", registered_models_get},
    {"registered-models/rename", "POST", registered_models_rename},
    {"registered-models/update", "PATCH", registered_models_update},
    {"registered-models/delete", "DELETE", registered_models_delete},
    {"registered-models/search", "GET", registered_models_search},
    {"registered-models/get-latest-versions", "POST GET", registered_models_get_latest},
    {"registered-models/set-tag", "POST", registered_models_set_tag},
    {"registered-models/delete-tag", "DELETE", registered_models_delete_tag},
    {"registered-models/alias", "POST", registered_models_set_alias},
    {"registered-models/alias", "DELETE", registered_models_delete_alias},
    {"registered-models/alias", "GET", registered_models_get_alias},
    {"model-versions/create", "POST", model_versions_create},
    {"model-versions/get", "GET", model_versions_get},
    {"model-versions/update", "PATCH", model_versions_update},
    {"model-versions/delete", "DELETE", model_versions_delete},
    {"model-versions/search", "GET", model_versions_search},
    {"model-versions/transition-stage", "POST", model_versions_transition_stage},
    {"model-versions/get-download-uri", "GET", model_versions_download_uri},
    {"model-versions/set-tag", "POST", model_versions_set_tag},
    {"model-versions/delete-tag", "DELETE", model_versions_delete_tag},
};

static int method_allowed(const char *methods, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = methods; (p = strstr(p, method)) != NULL; p += n)
        if ((p == methods || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
    return 0;
}

json_t *mlflow_call(struct store *s, const char *method, const char *endpoint, json_t *req,
                    const char *actor, unsigned int *status)
{
    const struct endpoint *other = NULL; /* the path's, for another method */
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const struct endpoint *ep = &endpoints[i];
        if (!str_eq(ep->path, endpoint)) continue;
        if (!method_allowed(ep->methods, method)) {
            if (!other) other = ep;
            continue;
        }
        struct call c = {.s = s, .req = req, .actor = actor, .status = 200};
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
    if (other)
        return mlflow_error(status, 405, "BAD_REQUEST", "Method %.16s is not allowed for %s",
                            method, other->path);
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
