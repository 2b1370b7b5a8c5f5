/* A task's stored examples in memory: their raw text fields (as stored:
 * cleaning is a property of each model, applied when training and when
 * predicting), labels and splits, and the hash of that content. */
#ifndef BOUCLE_LOOP_CORPUS_H
#define BOUCLE_LOOP_CORPUS_H

#include "base/arena.h"
#include "base/config.h"
#include "base/err.h"
#include "base/ids.h"
#include "data/prepare.h"
#include "ml/model.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct corpus {
    size_t n, n_fields;
    const char **values; /* n * n_fields raw field values; a stored null reads as "" */
    size_t *lens;
    uint32_t *nulls; /* per example: bit i set when field i was null or absent */
    /* the task's tabular fields: n * n_num numbers (NAN = null) and n * n_cat
     * categories (NULL = null), example after example */
    size_t n_num, n_cat;
    double *num;
    const char **cat;
    size_t *cat_lens;
    char **labels;
    int *split;                /* 0 train, 1 test */
    char hash[SHA256_HEX_LEN]; /* lineage: what a model was trained and measured on */
    /* after corpus_prepare: the model text of each example, NULL for a row
     * the task's drop_empty or dedupe removes, and what each step did */
    const char **texts;
    struct prepare_report prep;
    struct arena arena; /* owns the strings */
};

int corpus_load(struct store *st, const struct task_config *task, size_t max_field_bytes,
                struct corpus *out, struct err *e);
/* Runs the preparation over every example in order (train and test alike:
 * a test row repeating a training row is dropped, so no text is in both). */
void corpus_prepare(struct corpus *c, const struct clean_config *cfg);
void corpus_free(struct corpus *c);

static inline const char *const *corpus_values(const struct corpus *c, size_t i)
{
    return c->values + i * c->n_fields;
}
static inline const size_t *corpus_lens(const struct corpus *c, size_t i)
{
    return c->lens + i * c->n_fields;
}

/* Example i as a model reads it: raw text fields and tabular values. */
static inline struct model_input corpus_input(const struct corpus *c, size_t i)
{
    struct tabular_values all = {c->n_num, c->n_cat, c->num, c->cat, c->cat_lens};
    struct model_input in = {corpus_values(c, i), corpus_lens(c, i), c->n_fields,
                             tabular_values_row(&all, i)};
    return in;
}
/* The sorted distinct labels of the examples: their labels, or for a
 * multilabel task every label of their sets (then copied into the
 * corpus's arena). *out is freed by the caller; returns how many. */
size_t corpus_label_names(struct corpus *c, enum task_type type, const char ***out);
/* Multilabel: the indices in the sorted names of the labels of `set`
 * (canonical, data/labelset.h), ascending, into ids (room for n_names);
 * labels not among the names are left out. Returns how many were written. */
size_t corpus_label_ids(const char *set, const char *const *names, size_t n_names, uint32_t *ids);

/* Sorted distinct strings of `items` (borrowed pointers); returns how many. */
size_t corpus_distinct(char *const *items, size_t n, const char ***out);
/* Index of s in a sorted array, -1 when absent. */
int corpus_index(const char *const *sorted, size_t n, const char *s);

#endif
