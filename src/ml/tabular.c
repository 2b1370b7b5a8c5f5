/* Fitting, applying and storing the tabular block (see tabular.h). */
#include "ml/tabular.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABULAR_MAX_NAME 1024
/* a sanity bound: a value is bounded by the artifact's length anyway */
#define TABULAR_MAX_VALUE (1u << 30)
/* a standardised value beyond this is clamped: an absurd input must not
 * turn a score into inf - inf */
#define TABULAR_MAX_Z 1e9

/* ---- values ----------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Category j of a row, without surrounding whitespace; "" when missing. */
static const char *category(const struct tabular_values *row, size_t j, size_t *len)
{
    const char *s = j < row->n_cat && row->cat ? row->cat[j] : NULL;
    size_t n = s ? row->cat_lens[j] : 0;
    while (n && is_space(s[n - 1]))
        n--;
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    *len = n;
    return n ? s : "";
}

static double number(const struct tabular_values *row, size_t j)
{
    return j < row->n_num && row->num ? row->num[j] : NAN;
}

/* ---- fitting ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Value j of row i of a batch. */
static double number_at(const struct tabular_values *v, size_t i, size_t j)
{
    return v->num ? v->num[i * v->n_num + j] : NAN;
}

/* Median (the mean of the two middle values for an even count, as numpy)
 * and mean of the present values; 0 for both when there are none. */
static void fit_numeric(struct tabular_num *f, const struct tabular_values *v, size_t n, size_t j)
{
    double *present = xmalloc((n ? n : 1) * sizeof *present);
    size_t k = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double x = number_at(v, i, j);
        if (isnan(x)) continue;
        present[k++] = x;
        sum += x;
    }
    double median = 0, mean = k ? sum / (double)k : 0;
    if (k) {
        qsort(present, k, sizeof *present, cmp_double);
        median = k % 2 ? present[k / 2] : (present[k / 2 - 1] + present[k / 2]) / 2;
    }
    free(present);
    f->fill = f->impute == IMPUTE_MEDIAN ? median : f->impute == IMPUTE_MEAN ? mean : 0;
    /* mean and deviation of the column as the model sees it: imputed */
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        double x = number_at(v, i, j);
        s += isnan(x) ? f->fill : x;
    }
    f->mean = n ? s / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        double x = number_at(v, i, j);
        double d = (isnan(x) ? f->fill : x) - f->mean;
        ss += d * d;
    }
    double sd = n ? sqrt(ss / (double)n) : 0;
    f->scale = sd > 0 && isfinite(sd) ? sd : 1; /* a constant column stays 0 */
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Indexes the sorted values; 0, or -1 when one repeats. */
static int index_values(struct tabular_cat *f)
{
    hashmap_init(&f->index);
    for (size_t i = 0; i < f->n_values; i++) {
        int inserted;
        hashmap_upsert(&f->index, f->values[i], strlen(f->values[i]), (intptr_t)i, &inserted);
        if (!inserted) return -1;
    }
    return 0;
}

static void fit_categorical(struct tabular_cat *f, const struct tabular_values *v, size_t n,
                            size_t j)
{
    if (f->hash_bits) {
        f->width = (size_t)1 << f->hash_bits;
        hashmap_init(&f->index);
        return;
    }
    struct hashmap seen;
    hashmap_init(&seen);
    for (size_t i = 0; i < n; i++) {
        struct tabular_values row = tabular_values_row(v, i);
        size_t len;
        const char *s = category(&row, j, &len);
        int inserted;
        hashmap_upsert(&seen, s, len, 0, &inserted);
        if (inserted) {
            f->values = xrealloc(f->values, (f->n_values + 1) * sizeof *f->values);
            f->values[f->n_values++] = xstrndup(s, len);
        }
    }
    hashmap_free(&seen);
    qsort(f->values, f->n_values, sizeof *f->values, cmp_str); /* ids independent of row order */
    index_values(f);                                           /* distinct: cannot repeat */
    f->width = f->n_values + 1;                                /* + the unseen bucket */
}

/* Numbers the features: numeric fields first, then each categorical block. */
static void lay_out(struct tabular *t)
{
    size_t at = t->n_num;
    for (size_t j = 0; j < t->n_cat; j++) {
        t->cat[j].first = at;
        at += t->cat[j].width;
    }
    t->n_features = at;
}

int tabular_fit(struct tabular *t, const struct numeric_field *nf, size_t n_num,
                const struct categorical_field *cf, size_t n_cat, const struct tabular_values *v,
                size_t n, struct err *e)
{
    memset(t, 0, sizeof *t);
    if (n_num + n_cat > TASK_MAX_TABULAR_FIELDS)
        return err_set(e, ERR_INVALID, "%zu numeric and categorical fields, over the limit of %d",
                       n_num + n_cat, TASK_MAX_TABULAR_FIELDS);
    for (size_t j = 0; j < n_num + n_cat; j++) {
        const char *name = j < n_num ? nf[j].name : cf[j - n_num].name;
        if (strlen(name) > TABULAR_MAX_NAME) /* the artifact would not load again */
            return err_set(e, ERR_INVALID, "field name '%.64s...' is over %d bytes", name,
                           TABULAR_MAX_NAME);
    }
    for (size_t j = 0; j < n_cat; j++)
        if (cf[j].hash_bits < 0 || cf[j].hash_bits > TABULAR_MAX_HASH_BITS)
            return err_set(e, ERR_INVALID, "categorical field '%s': hash_bits %d not in 0..%d",
                           cf[j].name, cf[j].hash_bits, TABULAR_MAX_HASH_BITS);
    t->n_num = n_num;
    t->n_cat = n_cat;
    t->num = xcalloc(n_num ? n_num : 1, sizeof *t->num);
    t->cat = xcalloc(n_cat ? n_cat : 1, sizeof *t->cat);
    for (size_t j = 0; j < n_num; j++) {
        t->num[j].name = xstrdup(nf[j].name);
        t->num[j].impute = nf[j].impute;
        fit_numeric(&t->num[j], v, n, j);
    }
    for (size_t j = 0; j < n_cat; j++) {
        t->cat[j].name = xstrdup(cf[j].name);
        t->cat[j].hash_bits = (unsigned)cf[j].hash_bits;
        fit_categorical(&t->cat[j], v, n, j);
    }
    lay_out(t);
    return 0;
}

/* ---- applying --------------------------------------------------------- */

/* Position of a row's category within its field's block. */
static size_t bucket(const struct tabular_cat *f, const char *s, size_t len, int *unseen)
{
    *unseen = 0;
    if (f->hash_bits) return (size_t)(hash_bytes(s, len) & (((uint64_t)1 << f->hash_bits) - 1));
    intptr_t at;
    if (hashmap_get(&f->index, s, len, &at)) return (size_t)at;
    *unseen = 1;
    return f->n_values;
}

static double standardised(const struct tabular_num *f, double x)
{
    double z = ((isnan(x) ? f->fill : x) - f->mean) / f->scale;
    return z > TABULAR_MAX_Z ? TABULAR_MAX_Z : z < -TABULAR_MAX_Z ? -TABULAR_MAX_Z : z;
}

size_t tabular_transform(const struct tabular *t, const struct tabular_values *row, uint32_t offset,
                         uint32_t *idx, double *val)
{
    size_t k = 0;
    for (size_t j = 0; j < t->n_num; j++, k++) {
        idx[k] = offset + (uint32_t)j;
        val[k] = standardised(&t->num[j], number(row, j));
    }
    for (size_t j = 0; j < t->n_cat; j++, k++) {
        size_t len;
        int unseen;
        const char *s = category(row, j, &len);
        idx[k] = offset + (uint32_t)(t->cat[j].first + bucket(&t->cat[j], s, len, &unseen));
        val[k] = 1.0;
    }
    return k;
}

void tabular_append_rows(const struct tabular *t, const struct tfidf_matrix *text,
                         const struct tabular_values *v, size_t n, uint32_t offset,
                         struct tfidf_matrix *out)
{
    size_t width = t->n_num + t->n_cat, text_nnz = text ? text->row_ptr[n] : 0;
    out->n_rows = n;
    out->row_ptr = xmalloc((n + 1) * sizeof *out->row_ptr);
    out->idx = xmalloc((text_nnz + n * width + 1) * sizeof *out->idx);
    out->val = xmalloc((text_nnz + n * width + 1) * sizeof *out->val);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        out->row_ptr[i] = at;
        for (size_t k = text ? text->row_ptr[i] : 0; text && k < text->row_ptr[i + 1]; k++) {
            out->idx[at] = text->idx[k];
            out->val[at++] = text->val[k];
        }
        struct tabular_values row = tabular_values_row(v, i);
        at += tabular_transform(t, &row, offset, out->idx + at, out->val + at);
    }
    out->row_ptr[n] = at;
}

void tabular_feature_name(const struct tabular *t, const struct tabular_values *row, size_t k,
                          char *out, size_t cap)
{
    if (k < t->n_num) {
        snprintf(out, cap, "%s", t->num[k].name);
        return;
    }
    const struct tabular_cat *f = &t->cat[k - t->n_num];
    size_t len;
    int unseen;
    const char *s = category(row, k - t->n_num, &len);
    bucket(f, s, len, &unseen);
    if (!len)
        snprintf(out, cap, "%s=(missing)", f->name);
    else
        snprintf(out, cap, "%s=%.*s%s", f->name, (int)len, s, unseen ? " (unseen)" : "");
}

/* ---- artifact section ------------------------------------------------- */

void tabular_save(const struct tabular *t, struct buf *out)
{
    buf_put_u32(out, (unsigned)t->n_num);
    for (size_t j = 0; j < t->n_num; j++) {
        buf_put_str(out, t->num[j].name);
        buf_put_u32(out, (unsigned)t->num[j].impute);
        buf_put_f64(out, t->num[j].fill);
        buf_put_f64(out, t->num[j].mean);
        buf_put_f64(out, t->num[j].scale);
    }
    buf_put_u32(out, (unsigned)t->n_cat);
    for (size_t j = 0; j < t->n_cat; j++) {
        buf_put_str(out, t->cat[j].name);
        buf_put_u32(out, t->cat[j].hash_bits);
        buf_put_u64(out, t->cat[j].n_values);
        for (size_t i = 0; i < t->cat[j].n_values; i++)
            buf_put_str(out, t->cat[j].values[i]);
    }
}

static int load_numeric(struct tabular_num *f, struct reader *r, size_t j, struct err *e)
{
    f->name = reader_str(r, TABULAR_MAX_NAME);
    unsigned impute = reader_u32(r);
    f->fill = reader_f64(r);
    f->mean = reader_f64(r);
    f->scale = reader_f64(r);
    if (r->failed || !f->name) return err_set(e, ERR_CORRUPT, "numeric field %zu truncated", j);
    if (impute > IMPUTE_ZERO || !isfinite(f->fill) || !isfinite(f->mean) ||
        !(f->scale > 0 && isfinite(f->scale)))
        return err_set(e, ERR_CORRUPT, "numeric field '%s' has invalid statistics", f->name);
    f->impute = (enum impute_kind)impute;
    return 0;
}

static int load_categorical(struct tabular_cat *f, struct reader *r, size_t j, struct err *e)
{
    f->name = reader_str(r, TABULAR_MAX_NAME);
    f->hash_bits = reader_u32(r);
    unsigned long long n = reader_u64(r);
    if (r->failed || !f->name) return err_set(e, ERR_CORRUPT, "categorical field %zu truncated", j);
    /* each value takes at least its 4-byte length: bound the allocation by the input */
    if (f->hash_bits > TABULAR_MAX_HASH_BITS || (f->hash_bits && n) || n > r->left / 4)
        return err_set(e, ERR_CORRUPT, "categorical field '%s' is invalid", f->name);
    f->values = xcalloc(n ? n : 1, sizeof *f->values);
    for (f->n_values = 0; f->n_values < n; f->n_values++) {
        char *s = reader_str(r, TABULAR_MAX_VALUE);
        if (!s) return err_set(e, ERR_CORRUPT, "categorical field '%s' truncated", f->name);
        f->values[f->n_values] = s;
        if (f->n_values && strcmp(f->values[f->n_values - 1], s) >= 0) {
            f->n_values++;
            return err_set(e, ERR_CORRUPT, "categorical field '%s': values out of order", f->name);
        }
    }
    index_values(f); /* strictly increasing: distinct */
    f->width = f->hash_bits ? (size_t)1 << f->hash_bits : f->n_values + 1;
    return 0;
}

int tabular_load(struct tabular *t, struct reader *r, struct err *e)
{
    memset(t, 0, sizeof *t);
    size_t n_num = reader_u32(r);
    if (r->failed || n_num > TASK_MAX_TABULAR_FIELDS)
        return err_set(e, ERR_CORRUPT, "tabular section invalid (%zu numeric fields)", n_num);
    /* each field counts as soon as its reading starts, so that tabular_free
     * frees whatever a failed read left */
    t->num = xcalloc(n_num ? n_num : 1, sizeof *t->num);
    for (size_t j = 0; j < n_num; j++) {
        t->n_num = j + 1;
        if (load_numeric(&t->num[j], r, j, e)) goto fail;
    }
    size_t n_cat = reader_u32(r);
    if (r->failed || n_num + n_cat > TASK_MAX_TABULAR_FIELDS) {
        err_set(e, ERR_CORRUPT, "tabular section invalid (%zu categorical fields)", n_cat);
        goto fail;
    }
    t->cat = xcalloc(n_cat ? n_cat : 1, sizeof *t->cat);
    for (size_t j = 0; j < n_cat; j++) {
        t->n_cat = j + 1;
        if (load_categorical(&t->cat[j], r, j, e)) goto fail;
    }
    lay_out(t);
    return 0;
fail:
    tabular_free(t);
    return -1;
}

void tabular_free(struct tabular *t)
{
    for (size_t j = 0; t->num && j < t->n_num; j++)
        free(t->num[j].name);
    for (size_t j = 0; t->cat && j < t->n_cat; j++) {
        free(t->cat[j].name);
        for (size_t i = 0; i < t->cat[j].n_values; i++)
            free(t->cat[j].values[i]);
        free(t->cat[j].values);
        hashmap_free(&t->cat[j].index);
    }
    free(t->num);
    free(t->cat);
    memset(t, 0, sizeof *t);
}
