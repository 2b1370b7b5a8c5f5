/* The tabular part of a data profile: see data_profile.h. Value quantiles
 * are nearest-rank, like the lengths: every figure is some row's value. */
#include "data/data_profile.h"

#include "text/clean.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOP_VALUES 5

void data_profile_tabular_init(struct data_profile *p)
{
    p->num = xcalloc(p->task->n_numeric + 1, sizeof *p->num);
    p->cat = xcalloc(p->task->n_categorical + 1, sizeof *p->cat);
    for (size_t i = 0; i < p->task->n_categorical; i++)
        hashmap_init(&p->cat[i].counts);
}

void data_profile_tabular_free(struct data_profile *p)
{
    for (size_t i = 0; i < p->task->n_numeric; i++)
        free(p->num[i].values);
    for (size_t i = 0; i < p->task->n_categorical; i++)
        hashmap_free(&p->cat[i].counts);
    free(p->num);
    free(p->cat);
}

void data_profile_add_tabular(struct data_profile *p, const double *num, const char *const *cat,
                              const size_t *cat_lens)
{
    for (size_t i = 0; i < p->task->n_numeric; i++) {
        struct data_profile_numeric *c = &p->num[i];
        c->rows++;
        if (isnan(num[i])) {
            c->missing++;
            continue;
        }
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 256;
            c->values = xrealloc(c->values, c->cap * sizeof *c->values);
        }
        c->values[c->n++] = num[i];
    }
    for (size_t i = 0; i < p->task->n_categorical; i++) {
        struct data_profile_categorical *c = &p->cat[i];
        c->rows++;
        if (!cat[i] || clean_is_blank(cat[i], cat_lens[i])) {
            c->missing++;
            continue;
        }
        intptr_t *count = hashmap_upsert(&c->counts, cat[i], cat_lens[i], 0, NULL);
        (*count)++;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    return n ? sorted[rank ? rank - 1 : 0] : 0;
}

static double share(size_t k, size_t n)
{
    return n ? (double)k / (double)n : 0.0;
}

static json_t *numeric_json(struct data_profile_numeric *c)
{
    double sum = 0;
    for (size_t i = 0; i < c->n; i++)
        sum += c->values[i];
    if (c->n) qsort(c->values, c->n, sizeof *c->values, cmp_double);
    return json_pack("{s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "rows", (json_int_t)c->rows,
                     "missing", (json_int_t)c->missing, "missing_rate", share(c->missing, c->rows),
                     "min", quantile(c->values, c->n, 0), "p5", quantile(c->values, c->n, 0.05),
                     "p50", quantile(c->values, c->n, 0.5), "p95", quantile(c->values, c->n, 0.95),
                     "max", c->n ? c->values[c->n - 1] : 0, "mean", c->n ? sum / (double)c->n : 0);
}

/* Most frequent first, then by bytes (a stable order for equal counts). */
static int by_count(const void *a, const void *b)
{
    const struct hashmap_slot *x = *(struct hashmap_slot *const *)a,
                              *y = *(struct hashmap_slot *const *)b;
    if (x->value != y->value) return x->value < y->value ? 1 : -1;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static json_t *categorical_json(struct data_profile_categorical *c)
{
    const struct hashmap_slot **slots = xcalloc(c->counts.count + 1, sizeof *slots);
    size_t n = 0;
    for (size_t i = 0; i < c->counts.cap; i++)
        if (c->counts.slots[i].key) slots[n++] = &c->counts.slots[i];
    qsort(slots, n, sizeof *slots, by_count);
    json_t *top = json_array();
    for (size_t i = 0; i < n && i < TOP_VALUES; i++)
        json_array_append_new(top,
                              json_pack("{s:s%,s:I,s:f}", "value", slots[i]->key, slots[i]->key_len,
                                        "count", (json_int_t)slots[i]->value, "share",
                                        share((size_t)slots[i]->value, c->rows)));
    free(slots);
    return json_pack("{s:I,s:I,s:f,s:I,s:o}", "rows", (json_int_t)c->rows, "missing",
                     (json_int_t)c->missing, "missing_rate", share(c->missing, c->rows), "distinct",
                     (json_int_t)n, "top", top);
}

void data_profile_tabular_json(struct data_profile *p, json_t *doc)
{
    const struct task_config *t = p->task;
    if (!t->n_numeric && !t->n_categorical) return; /* a text task's profile stays as it was */
    json_t *num = json_object(), *cat = json_object();
    for (size_t i = 0; i < t->n_numeric; i++)
        json_object_set_new(num, t->numeric[i].name, numeric_json(&p->num[i]));
    for (size_t i = 0; i < t->n_categorical; i++)
        json_object_set_new(cat, t->categorical[i].name, categorical_json(&p->cat[i]));
    json_object_set_new(doc, "numeric", num);
    json_object_set_new(doc, "categorical", cat);
}
