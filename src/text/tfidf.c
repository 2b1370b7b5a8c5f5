/* TF-IDF settings, transform, names and the artifact section (the fit is
 * tfidf_fit.c). */
#include "text/tfidf.h"

#include "text/tfidf_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tfidf_config_defaults(struct tfidf_config *c)
{
    c->ngram_min = 1;
    c->ngram_max = 2;
    c->min_df = 2;
    c->max_df = 1.0;
    c->sublinear_tf = 1;
    c->max_features = 0;
    c->analyzer = TFIDF_WORD;
    c->char_min = 2;
    c->char_max = 5;
    c->hashing_bits = 0;
    c->stop_words = TEXT_LANG_NONE;
    c->stemming = TEXT_LANG_NONE;
    c->keep_punct = 1; /* on since issue 5's measures; `keep_punct: false` for the old tokens */
    c->split_urls = 0;
}

int tfidf_config_check(const struct tfidf_config *c, struct err *e)
{
    if (c->ngram_min < 1 || c->ngram_min > TFIDF_MAX_NGRAM)
        return err_set_field(e, ERR_INVALID, "ngram_min", "ngram_min must be between 1 and %d",
                             TFIDF_MAX_NGRAM);
    if (c->ngram_max < c->ngram_min || c->ngram_max > TFIDF_MAX_NGRAM)
        return err_set_field(e, ERR_INVALID, "ngram_max",
                             "ngram_max must be between ngram_min (%d) and %d", c->ngram_min,
                             TFIDF_MAX_NGRAM);
    if (c->min_df < 1) return err_set_field(e, ERR_INVALID, "min_df", "min_df must be at least 1");
    if (!(c->max_df > 0 && c->max_df <= 1))
        return err_set_field(e, ERR_INVALID, "max_df", "max_df must be in (0, 1]");
    if (c->analyzer < TFIDF_WORD || c->analyzer > TFIDF_BOTH)
        return err_set_field(e, ERR_INVALID, "analyzer", "analyzer must be word, char_wb or both");
    if (c->char_min < 1 || c->char_max < c->char_min || c->char_max > TFIDF_MAX_CHAR_NGRAM)
        return err_set_field(e, ERR_INVALID, "char_ngrams",
                             "char_ngrams must be two sizes from 1 to %d, the first not above "
                             "the second",
                             TFIDF_MAX_CHAR_NGRAM);
    if (c->hashing_bits &&
        (c->hashing_bits < TFIDF_MIN_HASH_BITS || c->hashing_bits > TFIDF_MAX_HASH_BITS))
        return err_set_field(e, ERR_INVALID, "hashing_bits",
                             "hashing_bits must be 0 (a vocabulary) or from %d to %d",
                             TFIDF_MIN_HASH_BITS, TFIDF_MAX_HASH_BITS);
    if (c->stop_words < TEXT_LANG_NONE || c->stop_words > TEXT_LANG_FRENCH)
        return err_set_field(e, ERR_INVALID, "stop_words", "stop_words must be english or french");
    if (c->stemming < TEXT_LANG_NONE || c->stemming > TEXT_LANG_FRENCH)
        return err_set_field(e, ERR_INVALID, "stemming", "stemming must be english or french");
    if (c->keep_punct != 0 && c->keep_punct != 1)
        return err_set_field(e, ERR_INVALID, "keep_punct", "keep_punct must be true or false");
    if (c->split_urls != 0 && c->split_urls != 1)
        return err_set_field(e, ERR_INVALID, "split_urls", "split_urls must be true or false");
    return 0;
}

int tfidf_config_is_extended(const struct tfidf_config *c)
{
    return c->analyzer != TFIDF_WORD || c->hashing_bits || c->stop_words || c->stemming ||
           c->keep_punct || c->split_urls;
}

/* ---- rows ------------------------------------------------------------- */

static void insertion_sort(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

void tfidf_sort_ids(uint32_t *a, size_t n, uint32_t *tmp)
{
    if (n <= 64) {
        insertion_sort(a, n); /* texts are short: insertion sort wins */
        return;
    }
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] > max) max = a[i];
    uint32_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 32 && (max >> shift); shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 0xFF) + 1]++;
        for (size_t b = 1; b < 257; b++)
            count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

size_t tfidf_weigh_row(const struct tfidf *v, uint32_t *ids, size_t m, uint32_t *tmp, uint32_t *idx,
                       double *val)
{
    tfidf_sort_ids(ids, m, tmp);
    size_t k = 0;
    double norm2 = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && ids[j] == ids[i])
            j++;
        double tf = (double)(j - i);
        if (v->cfg.sublinear_tf && j - i > 1) tf = 1.0 + log(tf);
        double w = tf * v->idf[ids[i]];
        idx[k] = ids[i];
        val[k] = w;
        norm2 += w * w;
        k++;
        i = j;
    }
    if (norm2 > 0) {
        double inv = 1.0 / sqrt(norm2);
        for (size_t i = 0; i < k; i++)
            val[i] *= inv;
    }
    return k;
}

/* ---- transform -------------------------------------------------------- */

void tfidf_vec_init(struct tfidf_vec *out)
{
    memset(out, 0, sizeof *out);
    tfidf_terms_init(&out->terms);
}

void tfidf_vec_free(struct tfidf_vec *out)
{
    free(out->idx);
    free(out->val);
    free(out->tmp);
    tfidf_terms_free(&out->terms);
    memset(out, 0, sizeof *out);
}

/* The feature of term i of a, or -1. */
static inline long feature_at(const struct tfidf *v, const struct tfidf_terms *a, size_t i)
{
    size_t glen;
    const char *g = tfidf_terms_at(a, i, &glen);
    if (v->feature_of) {
        uint32_t f = v->feature_of[tfidf_hash(g, glen) & (((size_t)1 << v->cfg.hashing_bits) - 1)];
        return f == UINT32_MAX ? -1 : (long)f;
    }
    intptr_t f;
    return hashmap_get(&v->vocab, g, glen, &f) ? (long)f : -1;
}

void tfidf_transform(const struct tfidf *v, const char *text, size_t len, struct tfidf_vec *out)
{
    size_t nt = tfidf_analyze(&v->cfg, text, len, &out->terms);
    if (nt + 1 > out->cap) {
        out->cap = (nt + 1) * 2;
        out->idx = xrealloc(out->idx, out->cap * sizeof *out->idx);
        out->val = xrealloc(out->val, out->cap * sizeof *out->val);
        out->tmp = xrealloc(out->tmp, out->cap * sizeof *out->tmp);
    }
    size_t m = 0;
    for (size_t i = 0; i < nt; i++) {
        long f = feature_at(v, &out->terms, i);
        if (f >= 0) out->idx[m++] = (uint32_t)f;
    }
    out->n = tfidf_weigh_row(v, out->idx, m, out->tmp, out->idx, out->val);
}

const char *tfidf_term(const struct tfidf *v, size_t feature)
{
    return feature < v->n_features && v->terms ? v->terms + v->term_off[feature] : NULL;
}

long tfidf_lookup(const struct tfidf *v, const char *term, size_t len)
{
    if (v->feature_of) {
        uint32_t f =
            v->feature_of[tfidf_hash(term, len) & (((size_t)1 << v->cfg.hashing_bits) - 1)];
        return f == UINT32_MAX ? -1 : (long)f;
    }
    intptr_t f;
    return hashmap_get(&v->vocab, term, len, &f) ? (long)f : -1;
}

void tfidf_name(const struct tfidf *v, const char *text, size_t len, size_t feature,
                struct tfidf_terms *scratch, char *out, size_t cap)
{
    if (!cap) return;
    const char *term = tfidf_term(v, feature);
    if (term) {
        snprintf(out, cap, "%s", term);
        return;
    }
    /* hashing: the input's distinct terms that fell into the bucket */
    size_t nt = tfidf_analyze(&v->cfg, text, len, scratch), at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nt; i++) {
        if (feature_at(v, scratch, i) != (long)feature) continue;
        size_t glen;
        const char *g = tfidf_terms_at(scratch, i, &glen);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            size_t hl;
            const char *h = tfidf_terms_at(scratch, j, &hl);
            seen = hl == glen && !memcmp(h, g, glen);
        }
        if (seen) continue;
        int k = snprintf(out + at, cap - at, "%s%.*s", at ? " | " : "", (int)glen, g);
        if (k < 0 || (size_t)k >= cap - at) break;
        at += (size_t)k;
    }
    if (!at && feature < v->n_features)
        snprintf(out, cap, "bucket %u", (unsigned)v->bucket_of[feature]);
}

/* ---- artifact section ------------------------------------------------- */

void tfidf_save(const struct tfidf *v, int extended, struct buf *out)
{
    buf_put_u32(out, (unsigned)v->cfg.ngram_min);
    buf_put_u32(out, (unsigned)v->cfg.ngram_max);
    buf_put_u32(out, (unsigned)v->cfg.min_df);
    buf_put_f64(out, v->cfg.max_df);
    buf_put_u32(out, (unsigned)v->cfg.sublinear_tf);
    buf_put_u64(out, v->cfg.max_features);
    if (extended) {
        buf_put_u32(out, (unsigned)v->cfg.analyzer);
        buf_put_u32(out, (unsigned)v->cfg.char_min);
        buf_put_u32(out, (unsigned)v->cfg.char_max);
        buf_put_u32(out, (unsigned)v->cfg.hashing_bits);
        buf_put_u32(out, (unsigned)v->cfg.stop_words);
        buf_put_u32(out, (unsigned)v->cfg.stemming);
        buf_put_u32(out, (unsigned)v->cfg.keep_punct);
        buf_put_u32(out, (unsigned)v->cfg.split_urls);
    }
    buf_put_u64(out, v->n_features);
    for (size_t f = 0; f < v->n_features; f++) {
        if (v->feature_of)
            buf_put_u32(out, v->bucket_of[f]);
        else
            buf_put_str(out, v->terms + v->term_off[f]);
        buf_put_f64(out, v->idf[f]);
    }
}

static int load_fail(struct tfidf *v, struct buf *terms, struct err *e, const char *what, size_t f)
{
    buf_free(terms);
    tfidf_free(v);
    return err_set(e, ERR_CORRUPT, "featuriser term %zu %s", f, what);
}

/* Hashing: bucket ids strictly ascending and inside 2^bits. */
static int load_buckets(struct tfidf *v, struct reader *r, struct err *e)
{
    size_t nb = (size_t)1 << v->cfg.hashing_bits;
    v->bucket_of = xmalloc(v->n_features * sizeof *v->bucket_of);
    v->feature_of = xmalloc(nb * sizeof *v->feature_of);
    memset(v->feature_of, 0xFF, nb * sizeof *v->feature_of);
    struct buf none;
    buf_init(&none);
    for (size_t f = 0; f < v->n_features; f++) {
        uint32_t b = reader_u32(r);
        double idf = reader_f64(r);
        if (r->failed) return load_fail(v, &none, e, "truncated", f);
        if (b >= nb || (f && b <= v->bucket_of[f - 1]) || !(idf >= 1.0 && isfinite(idf)))
            return load_fail(v, &none, e, "is invalid", f);
        v->bucket_of[f] = b;
        v->feature_of[b] = (uint32_t)f;
        v->idf[f] = idf;
    }
    return 0;
}

int tfidf_load(struct tfidf *v, int extended, struct reader *r, struct err *e)
{
    memset(v, 0, sizeof *v);
    hashmap_init(&v->vocab);
    tfidf_config_defaults(&v->cfg);
    v->cfg.ngram_min = (int)reader_u32(r);
    v->cfg.ngram_max = (int)reader_u32(r);
    v->cfg.min_df = (int)reader_u32(r);
    v->cfg.max_df = reader_f64(r);
    v->cfg.sublinear_tf = reader_u32(r) != 0;
    v->cfg.max_features = (size_t)reader_u64(r);
    /* an artifact without the options (formats 1-5, 7) kept no '!' or '?' */
    v->cfg.keep_punct = 0;
    if (extended) {
        /* as int via unsigned: a huge value reads as negative and fails the check */
        v->cfg.analyzer = (int)reader_u32(r);
        v->cfg.char_min = (int)reader_u32(r);
        v->cfg.char_max = (int)reader_u32(r);
        v->cfg.hashing_bits = (int)reader_u32(r);
        v->cfg.stop_words = (int)reader_u32(r);
        v->cfg.stemming = (int)reader_u32(r);
        v->cfg.keep_punct = (int)reader_u32(r);
        v->cfg.split_urls = (int)reader_u32(r);
    }
    unsigned long long nf = reader_u64(r);
    if (r->failed) return err_set(e, ERR_CORRUPT, "featuriser section truncated");
    struct err ce;
    err_clear(&ce);
    if (tfidf_config_check(&v->cfg, &ce))
        return err_set(e, ERR_CORRUPT, "featuriser settings invalid: %s", ce.msg);
    /* each term takes at least 12 bytes: bound the allocation by the input */
    if (nf == 0 || nf > r->left / 12 || nf >= UINT32_MAX)
        return err_set(e, ERR_CORRUPT,
                       "featuriser claims %llu terms, which the artifact cannot hold", nf);
    v->n_features = (size_t)nf;
    v->idf = xmalloc(v->n_features * sizeof *v->idf);
    if (v->cfg.hashing_bits) return load_buckets(v, r, e);
    v->term_off = xmalloc(v->n_features * sizeof *v->term_off);
    struct buf terms;
    buf_init(&terms);
    for (size_t f = 0; f < v->n_features; f++) {
        size_t len = reader_u32(r);
        const char *s = reader_bytes(r, len);
        double idf = reader_f64(r);
        if (r->failed) return load_fail(v, &terms, e, "truncated", f);
        if (!(idf >= 1.0 && isfinite(idf)) || memchr(s, '\0', len))
            return load_fail(v, &terms, e, "is invalid", f);
        v->term_off[f] = (uint32_t)terms.len;
        buf_append(&terms, s, len);
        buf_append_char(&terms, '\0');
        v->idf[f] = idf;
    }
    v->terms_len = terms.len;
    v->terms = buf_detach(&terms);
    hashmap_reserve(&v->vocab, v->n_features);
    for (size_t f = 0; f < v->n_features; f++) {
        const char *t = v->terms + v->term_off[f];
        int inserted;
        hashmap_upsert(&v->vocab, t, strlen(t), (intptr_t)f, &inserted);
        if (!inserted) {
            tfidf_free(v);
            return err_set(e, ERR_CORRUPT, "featuriser term %zu is a duplicate", f);
        }
    }
    return 0;
}

void tfidf_free(struct tfidf *v)
{
    hashmap_free(&v->vocab);
    free(v->terms);
    free(v->term_off);
    free(v->idf);
    free(v->bucket_of);
    free(v->feature_of);
    v->terms = NULL;
    v->term_off = NULL;
    v->idf = NULL;
    v->bucket_of = NULL;
    v->feature_of = NULL;
    v->n_features = 0;
}

void tfidf_matrix_free(struct tfidf_matrix *x)
{
    free(x->row_ptr);
    free(x->idx);
    free(x->val);
    memset(x, 0, sizeof *x);
}
