/* Loading boucle.yaml with libyaml's document API: the whole file becomes a
 * node tree first (so line numbers stay available for every key), then a
 * strict walk turns it into struct config. Unknown keys are errors, not
 * warnings: a typo in a config should never silently fall back to a default. */
#include "base/config.h"

#include "base/config_internal.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

const char *task_type_name(enum task_type t)
{
    switch (t) {
    case TASK_BINARY:
        return "binary";
    case TASK_MULTICLASS:
        return "multiclass";
    case TASK_MULTILABEL:
        return "multilabel";
    }
    return "unknown";
}

int cfg_line(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 1;
}

int cfg_fail(struct cfg_ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set_field(c->e, ERR_INVALID, path, "%s:%d: %s: %s", c->name, cfg_line(n), path,
                         what);
}

const char *cfg_kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

const char *cfg_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

int cfg_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *s = cfg_text(n);
    return !*s || str_eq(s, "~") || str_eq(s, "null") || str_eq(s, "Null") || str_eq(s, "NULL");
}

yaml_node_t *cfg_node(struct cfg_ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

int cfg_want(struct cfg_ctx *c, const yaml_node_t *n, yaml_node_type_t type, const char *path)
{
    if (n->type == type) return 0;
    const char *want = type == YAML_MAPPING_NODE    ? "a mapping"
                       : type == YAML_SEQUENCE_NODE ? "a list"
                                                    : "a scalar";
    return cfg_fail(c, n, path, "expected %s, got %s", want, cfg_kind_name(n));
}

int cfg_string(struct cfg_ctx *c, const yaml_node_t *n, const char *path, const char **out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    if (cfg_is_null(n) || !*cfg_text(n)) return cfg_fail(c, n, path, "expected a non-empty string");
    *out = cfg_text(n);
    return 0;
}

int cfg_uint(struct cfg_ctx *c, const yaml_node_t *n, const char *path, unsigned long long min,
             unsigned long long max, unsigned long long *out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    /* strtoull accepts "-1" (wrapping around): only digits are integers here */
    if (*s < '0' || *s > '9' || *end || errno || v < min || v > max)
        return cfg_fail(c, n, path, "expected an integer >= %llu, got '%s'", min, s);
    *out = v;
    return 0;
}

int cfg_choice(struct cfg_ctx *c, const yaml_node_t *n, const char *path,
               const char *const *choices, size_t n_choices, size_t *out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    for (size_t i = 0; i < n_choices; i++) {
        if (str_eq(s, choices[i])) {
            *out = i;
            return 0;
        }
    }
    char list[320] = ""; /* room for the longest list, the search metrics (about 190) */
    for (size_t i = 0; i < n_choices; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    return cfg_fail(c, n, path, "expected one of %s, got '%s'", list, s);
}

/* Interval notation for range messages: "(0, 1]", "[0, 0.9]". */
static void range_text(char *out, size_t size, double lo, int lo_open, double hi, int hi_open)
{
    snprintf(out, size, "%c%g, %g%c", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
}

int cfg_number(struct cfg_ctx *c, const yaml_node_t *n, const char *path, double lo, int lo_open,
               double hi, int hi_open, double *out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    int ok = *s && !isspace((unsigned char)*s) && !*end && !errno && isfinite(x) &&
             (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
    if (!ok) {
        char range[64];
        range_text(range, sizeof range, lo, lo_open, hi, hi_open);
        return cfg_fail(c, n, path, "expected a number in %s, got '%s'", range, s);
    }
    *out = x;
    return 0;
}

int cfg_bool(struct cfg_ctx *c, const yaml_node_t *n, const char *path, int *out)
{
    /* YAML 1.1 booleans, as libyaml's users write them */
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (str_eq(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (str_eq(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return cfg_fail(c, n, path, "expected true or false, got '%s'", s);
}

int config_parse_duration(const char *text, int64_t *ms)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = {{"", 1000},       {"ms", 1},          {"s", 1000},
                 {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}};
    if (!text || text[0] < '0' || text[0] > '9') return -1; /* no sign, no space, not empty */
    const char *p = text;
    int64_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (INT64_MAX - (*p - '0')) / 10) return -1;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!str_eq(p, units[i].suffix)) continue;
        if (n > INT64_MAX / units[i].ms) return -1;
        *ms = n * units[i].ms;
        return 0;
    }
    return -1;
}

int cfg_duration(struct cfg_ctx *c, const yaml_node_t *n, const char *path, int64_t min_ms,
                 int64_t *out)
{
    if (cfg_want(c, n, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(n);
    int64_t ms;
    if (config_parse_duration(s, &ms))
        return cfg_fail(c, n, path,
                        "expected a duration like 500ms, 10s, 30m, 2h, 7d or a number of "
                        "seconds, got '%s'",
                        s);
    if (ms < min_ms) {
        if (min_ms == 1) return cfg_fail(c, n, path, "expected a duration > 0, got '%s'", s);
        return cfg_fail(c, n, path, "expected a duration of at least %lldms, got '%s'",
                        (long long)min_ms, s);
    }
    *out = ms;
    return 0;
}

int cfg_each_pair(struct cfg_ctx *c, yaml_node_t *map, const char *path, cfg_pair_fn visit,
                  void *user)
{
    if (cfg_want(c, map, YAML_MAPPING_NODE, path)) return -1;
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    yaml_node_pair_t *top = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = start; p < top; p++) {
        yaml_node_t *k = cfg_node(c, p->key), *v = cfg_node(c, p->value);
        if (!k || !v) return cfg_fail(c, map, path, "malformed mapping");
        char kpath[PATH_MAX_KEY];
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail(c, k, path[0] ? path : "(top)", "keys must be scalars, got %s",
                            cfg_kind_name(k));
        snprintf(kpath, sizeof kpath, "%s%s%.64s", path, path[0] ? "." : "", cfg_text(k));
        for (yaml_node_pair_t *q = start; q < p; q++) {
            yaml_node_t *k2 = cfg_node(c, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && str_eq(cfg_text(k2), cfg_text(k)))
                return cfg_fail(c, k, kpath, "duplicate key");
        }
        if (visit(c, cfg_text(k), k, v, kpath, user)) return -1;
    }
    return 0;
}

int cfg_unknown_key(struct cfg_ctx *c, yaml_node_t *k, const char *path)
{
    return cfg_fail(c, k, path, "unknown key");
}

/* ---- store and listen ---------------------------------------------------- */

static int set_store(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *n, const char *url)
{
    free(cfg->store_url);
    cfg->store_url = NULL;
    if (str_starts_with(url, "postgres://") || str_starts_with(url, "postgresql://")) {
        cfg->store_url = xstrdup(url);
        return 0;
    }
    if (!str_starts_with(url, "sqlite:") || !url[7])
        return cfg_fail(c, n, "store", "expected 'sqlite:PATH' or 'postgres://...', got '%s'", url);
    const char *p = url + 7;
    if (p[0] == '/' || str_eq(p, ":memory:"))
        cfg->store_url = xstrdup(url);
    else
        cfg->store_url = xasprintf("sqlite:%s/%s", c->dir, p);
    return 0;
}

static int check_listen(struct cfg_ctx *c, const yaml_node_t *n, const char *s)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon || colon == s || !colon[1]) goto bad;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (*end || errno || port < 0 || port > 65535 || colon[1] < '0' || colon[1] > '9') goto bad;
    return 0;
bad:
    return cfg_fail(c, n, "listen", "expected HOST:PORT, got '%s'", s);
}

/* ---- log and limits ------------------------------------------------------ */

static int log_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                    const char *path, void *user)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    static const char *const formats[] = {"text", "json"};
    struct config *cfg = user;
    size_t i;
    if (str_eq(key, "level")) {
        if (cfg_choice(c, v, path, levels, 4, &i)) return -1;
        free(cfg->log_level);
        cfg->log_level = xstrdup(levels[i]);
    } else if (str_eq(key, "format")) {
        if (cfg_choice(c, v, path, formats, 2, &i)) return -1;
        free(cfg->log_format);
        cfg->log_format = xstrdup(formats[i]);
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

static int limits_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                       const char *path, void *user)
{
    struct config_limits *l = user;
    size_t *slot = str_eq(key, "max_body_bytes")     ? &l->max_body_bytes
                   : str_eq(key, "max_import_bytes") ? &l->max_import_bytes
                   : str_eq(key, "max_batch")        ? &l->max_batch
                   : str_eq(key, "max_field_bytes")  ? &l->max_field_bytes
                                                     : NULL;
    if (!slot) {
        int rc = cfg_serve_limits_pair(c, key, v, path, l);
        return rc == 1 ? cfg_unknown_key(c, k, path) : rc;
    }
    unsigned long long n;
    if (cfg_uint(c, v, path, 1, SIZE_MAX, &n)) return -1;
    *slot = (size_t)n;
    return 0;
}

/* ---- tasks --------------------------------------------------------------- */

static int task_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-';
        if (!ok) return 0;
    }
    return 1;
}

static int add_text_field(struct cfg_ctx *c, struct task_config *t, const yaml_node_t *n,
                          const char *path)
{
    const char *s;
    if (cfg_string(c, n, path, &s)) return -1;
    if (t->n_text_fields == TASK_MAX_TEXT_FIELDS)
        return cfg_fail(c, n, path, "at most %d text fields", TASK_MAX_TEXT_FIELDS);
    for (size_t i = 0; i < t->n_text_fields; i++)
        if (str_eq(t->text_fields[i], s)) return cfg_fail(c, n, path, "field '%s' listed twice", s);
    t->text_fields = xrealloc(t->text_fields, (t->n_text_fields + 1) * sizeof *t->text_fields);
    t->text_fields[t->n_text_fields++] = xstrdup(s);
    return 0;
}

static int parse_text(struct cfg_ctx *c, struct task_config *t, yaml_node_t *v, const char *path)
{
    if (v->type == YAML_SCALAR_NODE) return add_text_field(c, t, v, path);
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = cfg_node(c, *it);
        if (item && add_text_field(c, t, item, path)) return -1;
    }
    if (!t->n_text_fields) return cfg_fail(c, v, path, "expected at least one field name");
    return 0;
}

static int model_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                      const char *path, void *user)
{
    (void)k;
    struct task_config *t = user;
    int rc = cfg_search_model_pair(c, key, v, path, t);
    if (rc != 1) return rc;
    /* a list of scalars (`char_ngrams: [2, 5]`) reaches the model as "2,5" */
    struct buf list;
    buf_init(&list);
    if (v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            yaml_node_t *item = cfg_node(c, *it);
            if (!item || item->type != YAML_SCALAR_NODE) {
                buf_free(&list);
                return cfg_fail(c, v, path, "expected a scalar or a list of scalars");
            }
            buf_printf(&list, "%s%s", list.len ? "," : "", cfg_text(item));
        }
        buf_append(&list, "", 0);
    } else if (v->type != YAML_SCALAR_NODE) {
        return cfg_fail(c, v, path, "expected a scalar value, got %s", cfg_kind_name(v));
    }
    if (str_eq(key, "kind")) {
        const char *s;
        buf_free(&list);
        if (cfg_string(c, v, path, &s)) return -1;
        t->model_kind = xstrdup(s);
        return 0;
    }
    t->model_params = xrealloc(t->model_params, (t->n_model_params + 1) * sizeof *t->model_params);
    struct config_param *p = &t->model_params[t->n_model_params++];
    p->key = xstrdup(key);
    p->value = v->type == YAML_SEQUENCE_NODE ? xstrdup(list.data ? list.data : "")
                                             : xstrdup(cfg_is_null(v) ? "" : cfg_text(v));
    p->line = cfg_line(v);
    buf_free(&list);
    return 0;
}

struct task_seen {
    struct task_config *t;
    int type, text, label, model;
    yaml_node_t *label_separator; /* checked once the type is known */
    char label_separator_path[PATH_MAX_KEY];
};

static int parse_label_separator(struct cfg_ctx *c, yaml_node_t *v, const char *path,
                                 struct task_seen *seen)
{
    if (cfg_want(c, v, YAML_SCALAR_NODE, path)) return -1;
    const char *s = cfg_text(v);
    size_t len = v->data.scalar.length;
    if (cfg_is_null(v) || !len || len > TASK_MAX_LABEL_SEPARATOR || memchr(s, '\0', len))
        return cfg_fail(c, v, path, "expected 1 to %d bytes (quote it: \",\" or \";\")",
                        TASK_MAX_LABEL_SEPARATOR);
    memcpy(seen->t->label_separator, s, len);
    seen->t->label_separator[len] = '\0';
    seen->label_separator = v;
    snprintf(seen->label_separator_path, sizeof seen->label_separator_path, "%s", path);
    return 0;
}

static int task_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    static const char *const types[] = {"binary", "multiclass", "multilabel"};
    struct task_seen *seen = user;
    struct task_config *t = seen->t;
    if (str_eq(key, "type")) {
        size_t i;
        if (cfg_choice(c, v, path, types, 3, &i)) return -1;
        t->type = (enum task_type)i;
        seen->type = 1;
    } else if (str_eq(key, "text")) {
        if (parse_text(c, t, v, path)) return -1;
        seen->text = 1;
    } else if (str_eq(key, "label")) {
        const char *s;
        if (cfg_string(c, v, path, &s)) return -1;
        t->label = xstrdup(s);
        seen->label = 1;
    } else if (str_eq(key, "label_separator")) {
        return parse_label_separator(c, v, path, seen);
    } else if (str_eq(key, "test_fraction")) {
        if (cfg_want(c, v, YAML_SCALAR_NODE, path)) return -1;
        char *end;
        double x = strtod(cfg_text(v), &end);
        if (!*cfg_text(v) || *end || !isfinite(x) || x <= 0 || x >= 1)
            return cfg_fail(c, v, path, "expected a number between 0 and 1 (exclusive), got '%s'",
                            cfg_text(v));
        t->test_fraction = x;
    } else if (str_eq(key, "model")) {
        if (cfg_each_pair(c, v, path, model_pair, t)) return -1;
        if (!t->model_kind) return cfg_fail(c, v, path, "missing required key 'kind'");
        seen->model = 1;
    } else {
        int rc = cfg_clean_task_pair(c, key, v, path, t);
        if (rc == 1) rc = cfg_tabular_task_pair(c, key, v, path, t);
        if (rc == 1) rc = cfg_loop_task_pair(c, key, v, path, t);
        if (rc == 1) rc = cfg_rollout_task_pair(c, key, v, path, t);
        if (rc == 1) rc = cfg_contract_task_pair(c, key, v, path, t);
        return rc == 1 ? cfg_unknown_key(c, k, path) : rc;
    }
    return 0;
}

static int tasks_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                      const char *path, void *user)
{
    struct config *cfg = user;
    if (!task_name_ok(key))
        return cfg_fail(c, k, path, "invalid task name; use 1 to 64 letters, digits, '_' or '-'");
    cfg->tasks = xrealloc(cfg->tasks, (cfg->n_tasks + 1) * sizeof *cfg->tasks);
    struct task_config *t = &cfg->tasks[cfg->n_tasks++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(key);
    t->line = cfg_line(k);
    t->test_fraction = 0.2;
    snprintf(t->label_separator, sizeof t->label_separator, "|");
    clean_config_defaults(&t->clean);
    cfg_loop_task_defaults(t);
    cfg_rollout_task_defaults(t);
    cfg_contract_task_defaults(t);
    cfg_search_task_defaults(t);
    struct task_seen seen = {.t = t};
    if (cfg_each_pair(c, v, path, task_pair, &seen)) return -1;
    /* the inputs may be text, numeric or categorical fields, or any mix */
    int has_input = seen.text || t->n_numeric || t->n_categorical;
    const char *missing = !seen.type ? "type" : !has_input ? "text" : !seen.label ? "label" : NULL;
    if (missing) {
        char fpath[PATH_MAX_KEY];
        snprintf(fpath, sizeof fpath, "%s.%s", path, missing);
        return err_set_field(c->e, ERR_INVALID, fpath, "%s:%d: %s: missing required key '%s'%s",
                             c->name, t->line, path, missing,
                             seen.type && !has_input ? " (or 'numeric', 'categorical')" : "");
    }
    if (seen.label_separator && t->type != TASK_MULTILABEL)
        return cfg_fail(c, seen.label_separator, seen.label_separator_path,
                        "only a multilabel task has label sets to separate (this task is %s)",
                        task_type_name(t->type));
    /* `model:` may be left out: linear is the default and the cheapest kind */
    if (!t->model_kind) t->model_kind = xstrdup("linear");
    for (size_t i = 0; i < t->n_text_fields; i++)
        if (str_eq(t->text_fields[i], t->label))
            return cfg_fail(c, k, path, "column '%s' is both a text field and the label", t->label);
    if (cfg_tabular_task_finish(c, k, path, t)) return -1;
    cfg_loop_task_finish(t);
    return 0;
}

/* ---- top level ----------------------------------------------------------- */

static int top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                    const char *path, void *user)
{
    struct config *cfg = user;
    const char *s;
    unsigned long long n;
    if (str_eq(key, "store")) {
        if (cfg_string(c, v, path, &s) || set_store(c, cfg, v, s)) return -1;
    } else if (str_eq(key, "listen")) {
        if (cfg_string(c, v, path, &s) || check_listen(c, v, s)) return -1;
        free(cfg->listen);
        cfg->listen = xstrdup(s);
    } else if (str_eq(key, "threads")) {
        if (cfg_uint(c, v, path, 0, INT_MAX, &n)) return -1;
        cfg->threads = (int)n;
    } else if (str_eq(key, "log")) {
        return cfg_each_pair(c, v, path, log_pair, cfg);
    } else if (str_eq(key, "limits")) {
        return cfg_each_pair(c, v, path, limits_pair, &cfg->limits);
    } else if (str_eq(key, "tasks")) {
        if (cfg_is_null(v)) return cfg_fail(c, v, path, "at least one task required");
        if (cfg_each_pair(c, v, path, tasks_pair, cfg)) return -1;
        if (!cfg->n_tasks) return cfg_fail(c, v, path, "at least one task required");
    } else {
        int rc = cfg_loop_top_pair(c, key, v, path, cfg);
        if (rc == 1) rc = cfg_auth_top_pair(c, key, v, path, cfg);
        if (rc == 1) rc = cfg_serve_top_pair(c, key, v, path, cfg);
        return rc == 1 ? cfg_unknown_key(c, k, path) : rc;
    }
    return 0;
}

static int cfg_yaml_fail(struct cfg_ctx *c, const yaml_parser_t *p)
{
    int line = (int)p->problem_mark.line + 1;
    if (p->error == YAML_READER_ERROR)
        return err_set(c->e, ERR_INVALID, "%s: invalid YAML: %s at byte %zu", c->name,
                       p->problem ? p->problem : "unreadable input", p->problem_offset);
    if (p->context)
        return err_set(c->e, ERR_INVALID, "%s:%d: invalid YAML: %s (%s at line %d)", c->name, line,
                       p->problem ? p->problem : "syntax error", p->context,
                       (int)p->context_mark.line + 1);
    return err_set(c->e, ERR_INVALID, "%s:%d: invalid YAML: %s", c->name, line,
                   p->problem ? p->problem : "syntax error");
}

static void set_defaults(struct config *cfg)
{
    cfg->listen = xstrdup("127.0.0.1:8080");
    cfg->log_level = xstrdup("info");
    cfg->log_format = xstrdup("text");
    cfg->limits.max_body_bytes = 1024 * 1024;
    cfg->limits.max_import_bytes = 64 * 1024 * 1024;
    cfg->limits.max_batch = 256;
    cfg->limits.max_field_bytes = 64 * 1024;
    cfg_loop_defaults(cfg);
    cfg_serve_defaults(cfg);
    cfg->auth.public_routes = PUBLIC_HEALTHZ | PUBLIC_READYZ | PUBLIC_DASHBOARD;
}

static int load_document(struct cfg_ctx *c, yaml_node_t *root, void *user)
{
    struct config *cfg = user;
    if (!root || cfg_is_null(root))
        return err_set(c->e, ERR_INVALID, "%s: empty configuration; at least one task required",
                       c->name);
    if (root->type != YAML_MAPPING_NODE)
        return err_set(c->e, ERR_INVALID, "%s:%d: expected a mapping at the top, got %s", c->name,
                       cfg_line(root), cfg_kind_name(root));
    if (cfg_each_pair(c, root, "", top_pair, cfg)) return -1;
    if (!cfg->n_tasks)
        return err_set_field(c->e, ERR_INVALID, "tasks",
                             "%s: tasks: missing; at least one task required", c->name);
    if (!cfg->store_url && set_store(c, cfg, root, "sqlite:boucle.db")) return -1;
    if (cfg_serve_finish(c, cfg)) return -1;
    cfg_loop_finish(cfg);
    return 0;
}

int cfg_parse(struct cfg_ctx *c, const char *text, size_t len, cfg_doc_fn fn, void *user)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return err_set(c->e, ERR_INTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = cfg_yaml_fail(c, &parser);
    } else {
        c->doc = &doc;
        rc = fn(c, yaml_document_get_root_node(&doc), user);
        c->doc = NULL;
        yaml_document_delete(&doc);
    }
    if (!rc) {
        /* a second document would be silently ignored: say so instead */
        yaml_document_t next;
        if (!yaml_parser_load(&parser, &next)) {
            rc = cfg_yaml_fail(c, &parser);
        } else {
            yaml_node_t *root = yaml_document_get_root_node(&next);
            if (root)
                rc = err_set(c->e, ERR_INVALID, "%s:%d: only one YAML document is allowed", c->name,
                             cfg_line(root));
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* An absolute form of `dir` (which may be relative to the working folder). */
static char *absolute_dir(const char *dir)
{
    char *real = realpath(dir && *dir ? dir : ".", NULL);
    if (real) {
        char *copy = xstrdup(real); /* realpath's memory comes from malloc, ours from xmalloc */
        free(real);
        return copy;
    }
    if (dir && dir[0] == '/') return xstrdup(dir);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) return xstrdup(dir ? dir : ".");
    return xasprintf("%s/%s", cwd, dir ? dir : ".");
}

int config_load_string(const char *yaml, size_t len, const char *name, const char *base_dir,
                       struct config *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->path = xstrdup(name ? name : "config");
    out->dir = absolute_dir(base_dir);
    set_defaults(out);
    struct cfg_ctx c = {.name = out->path, .dir = out->dir, .e = e};
    int rc = cfg_parse(&c, yaml, len, load_document, out);
    if (rc) config_free(out);
    return rc;
}

char *cfg_read_file(const char *path, const char *what, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, ERR_IO, "cannot read %s '%s': %s", what, path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        buf_free(&b);
        err_set(e, ERR_IO, "cannot read %s '%s': %s", what, path, strerror(saved));
        return NULL;
    }
    *len = b.len;
    if (!b.data) buf_append(&b, "", 0);
    return buf_detach(&b);
}

char *cfg_dirname(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}

int config_load(const char *path, struct config *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *text = cfg_read_file(path, "config", &len, e);
    if (!text) return -1;
    /* relative paths in the file are relative to the file, not to the caller's cwd */
    char *dir = cfg_dirname(path);
    int rc = config_load_string(text, len, path, dir, out, e);
    free(dir);
    free(text);
    return rc;
}

void config_free(struct config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_tasks; i++) {
        struct task_config *t = &c->tasks[i];
        free(t->name);
        for (size_t j = 0; j < t->n_text_fields; j++)
            free(t->text_fields[j]);
        free(t->text_fields);
        free(t->label);
        free(t->model_kind);
        for (size_t j = 0; j < t->n_model_params; j++) {
            free(t->model_params[j].key);
            free(t->model_params[j].value);
        }
        free(t->model_params);
        cfg_loop_task_free(t);
        cfg_tabular_task_free(t);
        cfg_search_task_free(t);
    }
    free(c->tasks);
    free(c->path);
    free(c->dir);
    free(c->store_url);
    free(c->listen);
    free(c->log_level);
    free(c->log_format);
    cfg_loop_free(c);
    cfg_auth_free(c);
    cfg_serve_free(c);
    memset(c, 0, sizeof *c);
}

const struct task_config *config_task(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->n_tasks; i++)
        if (str_eq(c->tasks[i].name, name)) return &c->tasks[i];
    return NULL;
}
