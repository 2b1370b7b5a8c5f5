#include "loop/corpus.h"

#include "base/hashmap.h"
#include "base/mem.h"
#include "data/input.h"
#include "data/labelset.h"

#include <stdlib.h>
#include <string.h>

struct loader {
    const struct task_config *task;
    size_t max_field_bytes, cap;
    struct corpus *c;
    struct sha256_ctx hash;
    struct err *e;
};

static void grow(struct loader *l)
{
    struct corpus *c = l->c;
    l->cap = l->cap ? l->cap * 2 : 1024;
    size_t nf = c->n_fields ? c->n_fields : 1;
    c->values = xrealloc(c->values, l->cap * nf * sizeof *c->values);
    c->num = xrealloc(c->num, l->cap * (c->n_num + 1) * sizeof *c->num);
    c->cat = xrealloc(c->cat, l->cap * (c->n_cat + 1) * sizeof *c->cat);
    c->cat_lens = xrealloc(c->cat_lens, l->cap * (c->n_cat + 1) * sizeof *c->cat_lens);
    c->lens = xrealloc(c->lens, l->cap * nf * sizeof *c->lens);
    c->nulls = xrealloc(c->nulls, l->cap * sizeof *c->nulls);
    c->labels = xrealloc(c->labels, l->cap * sizeof *c->labels);
    c->split = xrealloc(c->split, l->cap * sizeof *c->split);
}

static int collect(void *ctx, const char *input_json, const char *label, int split)
{
    struct loader *l = ctx;
    struct corpus *c = l->c;
    json_error_t je;
    json_t *input = json_loads(input_json, 0, &je);
    if (!input)
        return err_set(l->e, ERR_CORRUPT, "stored example %zu has invalid input JSON: %s", c->n + 1,
                       je.text);
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    uint32_t nulls = 0;
    if (c->n == l->cap) grow(l);
    const char **cat = c->cat + c->n * c->n_cat;
    size_t *cat_lens = c->cat_lens + c->n * c->n_cat;
    int rc = input_fields_from_json(l->task, input, l->max_field_bytes, values, lens, &nulls, NULL,
                                    l->e);
    if (rc == 0)
        rc = input_tabular_from_json(l->task, input, l->max_field_bytes, c->num + c->n * c->n_num,
                                     cat, cat_lens, NULL, l->e);
    if (rc != 0) {
        json_decref(input);
        return err_prefix(l->e, "stored example %zu", c->n + 1);
    }
    for (size_t i = 0; i < c->n_cat; i++) /* views into `input`, freed below */
        if (cat[i]) cat[i] = arena_strndup(&c->arena, cat[i], cat_lens[i]);
    for (size_t i = 0; i < c->n_fields; i++) {
        c->values[c->n * c->n_fields + i] = arena_strndup(&c->arena, values[i], lens[i]);
        c->lens[c->n * c->n_fields + i] = lens[i];
    }
    json_decref(input);
    c->nulls[c->n] = nulls;
    c->labels[c->n] = arena_strdup(&c->arena, label);
    c->split[c->n] = split;
    c->n++;
    sha256_add(&l->hash, input_json, strlen(input_json) + 1);
    sha256_add(&l->hash, label, strlen(label) + 1);
    sha256_add(&l->hash, split ? "T" : "t", 1);
    return 0;
}

int corpus_load(struct store *st, const struct task_config *task, size_t max_field_bytes,
                struct corpus *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    arena_init(&out->arena, 0);
    if (task->n_text_fields > TASK_MAX_TEXT_FIELDS)
        return err_set(e, ERR_INVALID, "task '%s' has more than %d text fields", task->name,
                       TASK_MAX_TEXT_FIELDS);
    out->n_fields = task->n_text_fields;
    out->n_num = task->n_numeric;
    out->n_cat = task->n_categorical;
    struct loader l = {.task = task, .max_field_bytes = max_field_bytes, .c = out, .e = e};
    sha256_begin(&l.hash);
    int rc = store_examples_foreach(st, task->name, collect, &l, e);
    sha256_end(&l.hash, out->hash);
    if (rc != 0) corpus_free(out);
    return rc;
}

void corpus_prepare(struct corpus *c, const struct clean_config *cfg)
{
    struct preparer p;
    preparer_init(&p, cfg, c->n_fields);
    free(c->texts);
    c->texts = xcalloc(c->n ? c->n : 1, sizeof *c->texts);
    for (size_t i = 0; i < c->n; i++) {
        const char *text;
        size_t len;
        if (preparer_row(&p, corpus_values(c, i), corpus_lens(c, i), &text, &len))
            c->texts[i] = arena_strndup(&c->arena, text, len);
    }
    c->prep = p.report;
    preparer_free(&p);
}

void corpus_free(struct corpus *c)
{
    free(c->values);
    free(c->lens);
    free(c->nulls);
    free(c->num);
    free(c->cat);
    free(c->cat_lens);
    free(c->labels);
    free(c->split);
    free(c->texts);
    arena_free(&c->arena);
    memset(c, 0, sizeof *c);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t corpus_distinct(char *const *items, size_t n, const char ***out)
{
    const char **all = xmalloc((n ? n : 1) * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = items[i];
    qsort(all, n, sizeof *all, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
    *out = all;
    return k;
}

int corpus_index(const char *const *sorted, size_t n, const char *s)
{
    const char *const *hit = bsearch(&s, sorted, n, sizeof *sorted, cmp_str);
    return hit ? (int)(hit - sorted) : -1;
}

size_t corpus_label_names(struct corpus *c, enum task_type type, const char ***out)
{
    if (type != TASK_MULTILABEL) return corpus_distinct(c->labels, c->n, out);
    /* each distinct label once: a label is on many rows */
    struct hashmap seen;
    hashmap_init(&seen);
    char **all = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const char *cur = c->labels[i], *l;
        size_t len;
        int inserted;
        while (labelset_next(&cur, &l, &len)) {
            hashmap_upsert(&seen, l, len, 0, &inserted);
            if (!inserted) continue;
            all = xrealloc(all, seen.count * sizeof *all);
            all[seen.count - 1] = arena_strndup(&c->arena, l, len);
        }
    }
    size_t n = corpus_distinct(all, seen.count, out);
    hashmap_free(&seen);
    free(all);
    return n;
}

size_t corpus_label_ids(const char *set, const char *const *names, size_t n_names, uint32_t *ids)
{
    char label[LABELSET_MAX_LABEL + 1];
    const char *cur = set, *l;
    size_t len, k = 0;
    while (labelset_next(&cur, &l, &len)) {
        if (len > LABELSET_MAX_LABEL) continue; /* no name is that long */
        memcpy(label, l, len);
        label[len] = '\0';
        int at = corpus_index(names, n_names, label);
        if (at >= 0 && k < n_names) ids[k++] = (uint32_t)at;
    }
    return k; /* ascending: the set and the names sort the same way */
}
