/* Comparing two stored profiles under a task's contract: see data_contract.h. */
#include "data/data_contract.h"

#include "base/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static void add(json_t *out, const char *kind, const char *name, int violation, json_t *extra,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(json_t *out, const char *kind, const char *name, int violation, json_t *extra,
                const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *d = json_pack("{s:s,s:s}", "kind", kind, "name", name);
    if (extra) json_object_update(d, extra);
    json_decref(extra);
    json_object_set_new(d, "violation", json_boolean(violation));
    json_object_set_new(d, "message", json_string(msg));
    json_array_append_new(out, d);
}

/* name -> kind of a profile's "columns" (NULL when it has none). */
static json_t *column_kinds(json_t *profile)
{
    json_t *cols = json_object_get(profile, "columns");
    if (!json_is_array(cols)) return NULL;
    json_t *kinds = json_object(), *c;
    size_t i;
    json_array_foreach(cols, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name) json_object_set(kinds, name, json_object_get(c, "kind"));
    }
    return kinds;
}

static void compare_columns(const struct contract_config *r, json_t *before, json_t *after,
                            json_t *out)
{
    json_t *b = column_kinds(before), *a = column_kinds(after), *v;
    const char *name, *rule = contract_columns_name(r->columns);
    if (a && b) {
        json_object_foreach(b, name, v) if (!json_object_get(a, name)) add(
            out, "column_removed", name, 1, NULL, "column '%s' removed (columns: %s)", name, rule);
        json_object_foreach(a, name, v)
        {
            json_t *was = json_object_get(b, name);
            int allowed = r->columns == CONTRACT_COLUMNS_SUPERSET;
            if (!was)
                add(out, "column_added", name, !allowed, NULL, "column '%s' added (%scolumns: %s)",
                    name, allowed ? "allowed by " : "", rule);
            else if (!json_equal(was, v))
                /* a field moved between kinds: its figures no longer compare */
                add(out, "column_kind", name, 1, json_pack("{s:O,s:O}", "before", was, "after", v),
                    "column '%s' was %s, now %s", name, json_string_value(was),
                    json_string_value(v));
        }
    }
    json_decref(a);
    json_decref(b);
}

/* label -> share of a profile's "labels" (multilabel: the share of rows
 * with the label, so a set compares label by label). */
static json_t *label_shares(json_t *profile)
{
    json_t *shares = json_object(), *l;
    size_t i;
    json_array_foreach(json_object_get(profile, "labels"), i, l)
    {
        const char *name = json_string_value(json_object_get(l, "label"));
        if (name) json_object_set(shares, name, json_object_get(l, "share"));
    }
    return shares;
}

static void compare_labels(const struct contract_config *r, json_t *b, json_t *a,
                           enum data_contract_scope scope, json_t *out)
{
    const char *name, *rule = contract_labels_name(r->labels);
    json_t *v;
    /* a batch of feedback naturally holds some of the labels only */
    if (scope == DATA_CONTRACT_ALL) json_object_foreach(b, name, v) if (!json_object_get(a, name))
        {
            int allowed = r->labels == CONTRACT_LABELS_ANY;
            add(out, "label_removed", name, !allowed, NULL, "label '%s' removed (%slabels: %s)",
                name, allowed ? "allowed by " : "", rule);
        }
    json_object_foreach(a, name, v) if (!json_object_get(b, name))
    {
        int allowed = r->labels != CONTRACT_LABELS_SAME;
        add(out, "label_added", name, !allowed, NULL, "label '%s' added (%slabels: %s)", name,
            allowed ? "allowed by " : "", rule);
    }
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* field -> the share of rows where it is missing: null, absent or blank
 * for a text field (a CSV has no nulls: a lost value is an empty cell). */
static json_t *null_rates(json_t *profile)
{
    json_t *rates = json_object(), *f;
    const char *name;
    json_object_foreach(json_object_get(profile, "fields"), name, f)
        json_object_set_new(rates, name, json_real(num(f, "null_rate") + num(f, "empty_rate")));
    json_object_foreach(json_object_get(profile, "numeric"), name, f)
        json_object_set_new(rates, name, json_real(num(f, "missing_rate")));
    json_object_foreach(json_object_get(profile, "categorical"), name, f)
        json_object_set_new(rates, name, json_real(num(f, "missing_rate")));
    return rates;
}

static void compare_null_rates(const struct contract_config *r, json_t *before, json_t *after,
                               json_t *out)
{
    json_t *b = null_rates(before), *a = null_rates(after), *v;
    const char *name;
    double limit = r->max_null_rate_increase;
    json_object_foreach(a, name, v)
    {
        json_t *was = json_object_get(b, name);
        if (!was) continue;
        double x = json_real_value(was), y = json_real_value(v);
        if (y - x <= limit + DATA_CONTRACT_EPSILON) continue;
        add(out, "null_rate", name, 1,
            json_pack("{s:f,s:f,s:f}", "before", x, "after", y, "limit", limit),
            "field '%s': null rate %.3f -> %.3f (+%.3f, over the limit of +%.3f)", name, x, y,
            y - x, limit);
    }
    json_decref(a);
    json_decref(b);
}

static void compare_shares(const struct contract_config *r, json_t *b, json_t *a, json_t *out)
{
    double limit = r->max_label_share_change;
    const char *name;
    json_t *v;
    json_object_foreach(a, name, v)
    {
        json_t *was = json_object_get(b, name);
        if (!was) continue; /* a new label is label_added's business */
        double x = json_number_value(was), y = json_number_value(v);
        if (fabs(y - x) <= limit + DATA_CONTRACT_EPSILON) continue;
        add(out, "label_share", name, 1,
            json_pack("{s:f,s:f,s:f}", "before", x, "after", y, "limit", limit),
            "label '%s': share %.3f -> %.3f (%+.3f, over the limit of %.3f)", name, x, y, y - x,
            limit);
    }
}

json_t *data_contract_compare(const struct contract_config *rules, json_t *before, json_t *after,
                              enum data_contract_scope scope)
{
    json_t *out = json_array();
    if (scope == DATA_CONTRACT_ALL) compare_columns(rules, before, after, out);
    json_t *b = label_shares(before), *a = label_shares(after);
    compare_labels(rules, b, a, scope, out);
    if (scope == DATA_CONTRACT_ALL) {
        compare_null_rates(rules, before, after, out);
        if (rules->max_label_share_change >= 0) compare_shares(rules, b, a, out);
    }
    json_decref(a);
    json_decref(b);
    return out;
}

size_t data_contract_violations(json_t *differences)
{
    size_t n = 0, i;
    json_t *d;
    json_array_foreach(differences, i, d) n += json_is_true(json_object_get(d, "violation"));
    return n;
}

json_t *data_contract_rules_json(const struct contract_config *r)
{
    return json_pack("{s:s,s:f,s:s,s:s,s:o}", "on_violation", contract_action_name(r->on_violation),
                     "max_null_rate_increase", r->max_null_rate_increase, "labels",
                     contract_labels_name(r->labels), "columns", contract_columns_name(r->columns),
                     "max_label_share_change",
                     r->max_label_share_change >= 0 ? json_real(r->max_label_share_change)
                                                    : json_null());
}
