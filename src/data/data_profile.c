/* Accumulating a data profile: see data_profile.h. Quantiles are nearest-rank,
 * so every figure is a length some row really has. */
#include "data/data_profile.h"

#include "data/labelset.h"

#include "base/ids.h"
#include "text/clean.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void column_init(struct data_profile_column *c)
{
    memset(c, 0, sizeof *c);
    hashmap_init(&c->seen);
}

static void column_free(struct data_profile_column *c)
{
    free(c->lengths);
    hashmap_free(&c->seen);
}

void data_profile_init(struct data_profile *p, const struct task_config *task)
{
    memset(p, 0, sizeof *p);
    p->task = task;
    p->fields = xcalloc(task->n_text_fields ? task->n_text_fields : 1, sizeof *p->fields);
    for (size_t i = 0; i < task->n_text_fields; i++)
        column_init(&p->fields[i]);
    column_init(&p->text);
    hashmap_init(&p->labels);
    preparer_init(&p->prep, &task->clean, task->n_text_fields);
    data_profile_tabular_init(p);
}

void data_profile_free(struct data_profile *p)
{
    for (size_t i = 0; i < p->task->n_text_fields; i++)
        column_free(&p->fields[i]);
    free(p->fields);
    column_free(&p->text);
    hashmap_free(&p->labels);
    preparer_free(&p->prep);
    data_profile_tabular_free(p);
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* An empty value is one with nothing but whitespace; a duplicate, a
 * non-empty value some earlier row has byte for byte. */
static void column_add(struct data_profile_column *c, const char *s, size_t len, int is_null)
{
    if (c->rows == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->lengths = xrealloc(c->lengths, c->cap * sizeof *c->lengths);
    }
    c->lengths[c->rows++] = utf8_chars(s, len);
    if (is_null) {
        c->nulls++;
        return;
    }
    if (clean_is_blank(s, len)) {
        c->empties++;
        return;
    }
    char digest[SHA256_HEX_LEN];
    sha256_hex(s, len, digest);
    int inserted = 0;
    hashmap_upsert(&c->seen, digest, 32, 1, &inserted);
    if (!inserted) c->duplicates++;
}

void data_profile_add(struct data_profile *p, const char *const *values, const size_t *lens,
                      uint32_t nulls, const char *label)
{
    p->rows++;
    for (size_t i = 0; i < p->task->n_text_fields; i++)
        column_add(&p->fields[i], values[i] ? values[i] : "", values[i] ? lens[i] : 0,
                   (nulls >> i) & 1);
    const char *text;
    size_t len;
    if (preparer_row(&p->prep, values, lens, &text, &len)) column_add(&p->text, text, len, 0);
    if (p->task->type != TASK_MULTILABEL) {
        (*hashmap_upsert(&p->labels, label, strlen(label), 0, NULL))++;
        return;
    }
    /* a set counts for each of its labels: the share is of rows with it */
    const char *cur = label, *l;
    size_t n = 0;
    while (labelset_next(&cur, &l, &len)) {
        (*hashmap_upsert(&p->labels, l, len, 0, NULL))++;
        n++;
    }
    p->unlabeled += n == 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

size_t data_profile_quantile(const size_t *sorted, size_t n, double q)
{
    if (!n) return 0;
    size_t rank = (size_t)ceil(q * (double)n);
    return sorted[rank ? rank - 1 : 0];
}

static double rate(size_t k, size_t n)
{
    return n ? (double)k / (double)n : 0.0;
}

static json_t *column_json(struct data_profile_column *c)
{
    if (c->rows) qsort(c->lengths, c->rows, sizeof *c->lengths, cmp_size);
    return json_pack("{s:I,s:I,s:f,s:I,s:f,s:I,s:f,s:{s:I,s:I,s:I,s:I}}", "rows",
                     (json_int_t)c->rows, "nulls", (json_int_t)c->nulls, "null_rate",
                     rate(c->nulls, c->rows), "empty", (json_int_t)c->empties, "empty_rate",
                     rate(c->empties, c->rows), "duplicates", (json_int_t)c->duplicates,
                     "duplicate_rate", rate(c->duplicates, c->rows), "length", "p5",
                     (json_int_t)data_profile_quantile(c->lengths, c->rows, 0.05), "p50",
                     (json_int_t)data_profile_quantile(c->lengths, c->rows, 0.50), "p95",
                     (json_int_t)data_profile_quantile(c->lengths, c->rows, 0.95), "max",
                     (json_int_t)(c->rows ? c->lengths[c->rows - 1] : 0));
}

struct label_count {
    const char *label;
    size_t count;
};

static int cmp_label(const void *a, const void *b)
{
    const struct label_count *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->label, y->label);
}

json_t *data_profile_json(struct data_profile *p)
{
    struct label_count *lc = xcalloc(p->labels.count + 1, sizeof *lc);
    size_t n = 0;
    for (size_t i = 0; i < p->labels.cap; i++)
        if (p->labels.slots[i].key)
            lc[n++] =
                (struct label_count){p->labels.slots[i].key, (size_t)p->labels.slots[i].value};
    qsort(lc, n, sizeof *lc, cmp_label);
    json_t *labels = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(labels, json_pack("{s:s,s:I,s:f}", "label", lc[i].label, "count",
                                                (json_int_t)lc[i].count, "share",
                                                rate(lc[i].count, p->rows)));
    free(lc);
    json_t *fields = json_object();
    for (size_t i = 0; i < p->task->n_text_fields; i++)
        json_object_set_new(fields, p->task->text_fields[i], column_json(&p->fields[i]));
    json_t *doc = json_pack("{s:I,s:o,s:o,s:o,s:o}", "rows", (json_int_t)p->rows, "labels", labels,
                            "fields", fields, "text", column_json(&p->text), "cleaning",
                            prepare_report_json(&p->task->clean, &p->prep.report));
    data_profile_tabular_json(p, doc);
    if (p->task->type == TASK_MULTILABEL)
        json_object_set_new(doc, "rows_without_label", json_integer((json_int_t)p->unlabeled));
    return doc;
}
