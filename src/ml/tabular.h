/* Tabular features for the `linear` model. Numeric fields: a missing value
 * is imputed (median, mean or zero of the training values), then the value
 * is standardised with the training mean and standard deviation (after
 * imputation, as scikit-learn's SimpleImputer + StandardScaler). Categorical
 * fields: one-hot over the values seen in training, plus one bucket for any
 * other value; or, with hash_bits, 2^hash_bits buckets of the value's hash.
 * The fitted state is all the model needs at serving time: it goes in the
 * artifact. Every row has exactly one active feature per field, so a row's
 * features fit in n_num + n_cat slots. */
#ifndef BOUCLE_ML_TABULAR_H
#define BOUCLE_ML_TABULAR_H

#include "base/config.h"
#include "base/err.h"
#include "base/hashmap.h"
#include "base/mem.h"
#include "text/tfidf.h"

#include <stddef.h>
#include <stdint.h>

/* Tabular values of one row, or of many rows one after the other (row i's
 * numbers start at num + i * n_num): views, in the task's field order. A
 * missing number is NAN; a missing category is NULL (or only whitespace). */
struct tabular_values {
    size_t n_num, n_cat;
    const double *num;
    const char *const *cat;
    const size_t *cat_lens;
};

static inline struct tabular_values tabular_values_row(const struct tabular_values *v, size_t i)
{
    struct tabular_values r = *v;
    r.num = v->num ? v->num + i * v->n_num : NULL;
    r.cat = v->cat ? v->cat + i * v->n_cat : NULL;
    r.cat_lens = v->cat_lens ? v->cat_lens + i * v->n_cat : NULL;
    return r;
}

struct tabular_num {
    char *name;
    enum impute_kind impute;
    double fill;  /* what a missing value becomes */
    double mean;  /* of the imputed training values */
    double scale; /* their standard deviation (1 when it is 0) */
};

struct tabular_cat {
    char *name;
    unsigned hash_bits; /* 0: one-hot over `values` + the unseen bucket */
    size_t n_values;
    char **values;        /* sorted by bytes; "" is the missing value */
    struct hashmap index; /* value -> position in values */
    size_t first, width;  /* its features: [first, first + width) of the block */
};

struct tabular {
    size_t n_num, n_cat;
    struct tabular_num *num;
    struct tabular_cat *cat;
    size_t n_features; /* the block's width */
};

/* Learns the block from n training rows (v holds n rows). Fails
 * (ERR_INVALID) only when the specs exceed the limits. */
int tabular_fit(struct tabular *t, const struct numeric_field *nf, size_t n_num,
                const struct categorical_field *cf, size_t n_cat, const struct tabular_values *v,
                size_t n, struct err *e);

/* The features of one row, numbered from `offset`: writes n_num + n_cat
 * entries, indices ascending, and returns that count. A value v lacks
 * (fewer fields than the model's) reads as missing. Allocation-free. */
size_t tabular_transform(const struct tabular *t, const struct tabular_values *row, uint32_t offset,
                         uint32_t *idx, double *val);

/* Appends the block to each row of a CSR matrix (text: may be NULL, then
 * the rows hold the block only), its features numbered from `offset`. */
void tabular_append_rows(const struct tabular *t, const struct tfidf_matrix *text,
                         const struct tabular_values *v, size_t n, uint32_t offset,
                         struct tfidf_matrix *out);

/* The name an explanation gives entry k (0 <= k < n_num + n_cat) of a
 * row's features: "tenure" for a number; "contract=One year" for a
 * category, "contract=(missing)" when absent, "contract=Weekly (unseen)"
 * for a value training never saw. Written into out (cut to fit cap). */
void tabular_feature_name(const struct tabular *t, const struct tabular_values *row, size_t k,
                          char *out, size_t cap);

/* Artifact section: each numeric field (name, impute, fill, mean, scale),
 * then each categorical one (name, hash_bits, its sorted values). */
void tabular_save(const struct tabular *t, struct buf *out);
/* Reads what tabular_save wrote; ERR_CORRUPT on anything inconsistent. */
int tabular_load(struct tabular *t, struct reader *r, struct err *e);

void tabular_free(struct tabular *t);

#endif
