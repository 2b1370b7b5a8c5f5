/* TF-IDF fit and transform. Fitting counts every candidate n-gram once in a
 * hashmap, remembers each text's candidate ids, and only then decides the
 * vocabulary, so the training matrix is built without tokenising twice. */
#include "text/tfidf.h"

#include <math.h>
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
    return 0;
}

/* ---- small helpers ---------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void sort_u32(uint32_t *a, size_t n)
{
    if (n > 64) {
        qsort(a, n, sizeof *a, cmp_u32);
        return;
    }
    for (size_t i = 1; i < n; i++) { /* texts are short: insertion sort wins */
        uint32_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Turns m feature ids (any order, repeats = counts) into a sorted,
 * weighted, L2-normalised row written to idx/val (idx may alias ids).
 * Returns the number of distinct features. */
static size_t weigh_row(const struct tfidf *v, uint32_t *ids, size_t m, uint32_t *idx, double *val)
{
    sort_u32(ids, m);
    size_t k = 0;
    double norm2 = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && ids[j] == ids[i])
            j++;
        double tf = (double)(j - i);
        if (v->cfg.sublinear_tf) tf = 1.0 + log(tf);
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

/* The bytes of the n-gram of tokens [i, i+k) (joined by single spaces). */
static inline const char *ngram_at(const struct tokens *t, size_t i, size_t k, size_t *len)
{
    *len = t->off[i + k - 1] + t->len[i + k - 1] - t->off[i];
    return t->text.data + t->off[i];
}

/* ---- fit -------------------------------------------------------------- */

/* Candidate n-grams of the training texts. There are many more of them
 * than kept terms (most occur once), so they get their own table: keys in
 * one byte blob instead of a malloc each, and a half-empty index of
 * (hash, id) pairs, which keeps probes short and cache-friendly. */
/* One candidate's statistics, together in 32 bytes so counting an
 * occurrence touches a single cache line. */
struct cand_stat {
    uint64_t off; /* key bytes in the blob */
    uint64_t tf;  /* occurrences over the corpus (for max_features) */
    uint32_t len, df, last_doc, pad;
};

/* An index slot: 8 bytes, so the table stays small (fewer cache misses and
 * page faults); the high hash bits next to the id reject most mismatches
 * without touching the candidate or its bytes. */
struct cand_slot {
    uint32_t id;  /* UINT32_MAX = empty */
    uint32_t tag; /* hash >> 32 */
};

struct cand {
    struct cand_slot *slot;
    size_t slot_cap; /* power of two */
    struct buf blob; /* all candidate keys, back to back */
    struct cand_stat *st;
    size_t n, cap;
};

/* A fast 64-bit hash of a short byte string (8 bytes per step, then a
 * final avalanche); the table only needs good spread, not security. */
static uint64_t cand_hash(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (len * 0xFF51AFD7ED558CCDULL);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    memcpy(&w, s + i, len - i);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

static void cand_rehash(struct cand *c, size_t cap)
{
    free(c->slot);
    c->slot = xmalloc(cap * sizeof *c->slot);
    memset(c->slot, 0xFF, cap * sizeof *c->slot); /* all ids UINT32_MAX */
    c->slot_cap = cap;
    for (uint32_t id = 0; id < c->n; id++) {
        const struct cand_stat *t = &c->st[id];
        uint64_t h = cand_hash(c->blob.data + t->off, t->len);
        size_t i = h & (cap - 1);
        while (c->slot[i].id != UINT32_MAX)
            i = (i + 1) & (cap - 1);
        c->slot[i] = (struct cand_slot){id, (uint32_t)(h >> 32)};
    }
}

static uint32_t cand_add(struct cand *c, const char *s, size_t len, uint32_t doc)
{
    if ((c->n + 1) * 2 > c->slot_cap) cand_rehash(c, c->slot_cap ? c->slot_cap * 2 : 1 << 16);
    uint64_t h = cand_hash(s, len);
    size_t mask = c->slot_cap - 1, i = h & mask;
    uint32_t id;
    for (;; i = (i + 1) & mask) {
        const struct cand_slot *sl = &c->slot[i];
        id = sl->id;
        if (id == UINT32_MAX) break;
        if (sl->tag == (uint32_t)(h >> 32) && c->st[id].len == len &&
            memcmp(c->blob.data + c->st[id].off, s, len) == 0)
            goto found;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1 << 15;
        c->st = xrealloc(c->st, c->cap * sizeof *c->st);
    }
    id = (uint32_t)c->n++;
    c->slot[i] = (struct cand_slot){id, (uint32_t)(h >> 32)};
    c->st[id] = (struct cand_stat){.off = c->blob.len, .len = (uint32_t)len};
    buf_append(&c->blob, s, len);
found:;
    struct cand_stat *t = &c->st[id];
    t->tf++;
    if (t->last_doc != doc + 1) {
        t->last_doc = doc + 1;
        t->df++;
    }
    return id;
}

static inline const char *cand_key(const struct cand *c, uint32_t id)
{
    return c->blob.data + c->st[id].off;
}

static void cand_free(struct cand *c)
{
    free(c->slot);
    buf_free(&c->blob);
    free(c->st);
}

/* qsort has no context argument: the candidate table being sorted. */
static _Thread_local const struct cand *sort_cand;

static int cmp_term(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = sort_cand->st[x].len, ly = sort_cand->st[y].len;
    int r = memcmp(cand_key(sort_cand, x), cand_key(sort_cand, y), lx < ly ? lx : ly);
    if (r) return r;
    return (lx > ly) - (lx < ly);
}

/* Most frequent first; ties keep byte order (ids are pre-sorted by term and
 * `rank` holds that order), as sklearn's stable argsort does. */
static _Thread_local const uint32_t *sort_rank;

static int cmp_freq(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t fx = sort_cand->st[x].tf, fy = sort_cand->st[y].tf;
    if (fx != fy) return fx > fy ? -1 : 1;
    return (sort_rank[x] > sort_rank[y]) - (sort_rank[x] < sort_rank[y]);
}

/* Chooses the kept candidates and fills v's vocabulary; returns the
 * candidate -> feature map (UINT32_MAX = dropped). */
static uint32_t *choose_vocab(struct tfidf *v, struct cand *c, size_t n_docs, struct err *e)
{
    double max_count = v->cfg.max_df * (double)n_docs;
    if (max_count < (double)v->cfg.min_df) {
        err_set_field(e, ERR_INVALID, "max_df",
                      "max_df (%g of %zu texts) keeps fewer texts than min_df (%d) requires",
                      v->cfg.max_df, n_docs, v->cfg.min_df);
        return NULL;
    }
    uint32_t *keep = xmalloc((c->n + 1) * sizeof *keep);
    size_t nk = 0;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->st[i].df >= (uint32_t)v->cfg.min_df && (double)c->st[i].df <= max_count)
            keep[nk++] = i;
    if (!nk) {
        free(keep);
        err_set_field(e, ERR_INVALID, "min_df",
                      "no term is left after pruning (%zu texts, min_df %d, max_df %g): lower "
                      "min_df or add training data",
                      n_docs, v->cfg.min_df, v->cfg.max_df);
        return NULL;
    }
    sort_cand = c;
    qsort(keep, nk, sizeof *keep, cmp_term);
    if (v->cfg.max_features && nk > v->cfg.max_features) {
        uint32_t *rank = xmalloc(c->n * sizeof *rank);
        for (size_t i = 0; i < nk; i++)
            rank[keep[i]] = (uint32_t)i;
        sort_rank = rank;
        qsort(keep, nk, sizeof *keep, cmp_freq);
        nk = v->cfg.max_features;
        qsort(keep, nk, sizeof *keep, cmp_term);
        free(rank);
    }

    uint32_t *map = xmalloc((c->n + 1) * sizeof *map);
    for (size_t i = 0; i < c->n; i++)
        map[i] = UINT32_MAX;
    v->n_features = nk;
    v->term_off = xmalloc(nk * sizeof *v->term_off);
    v->idf = xmalloc(nk * sizeof *v->idf);
    struct buf terms;
    buf_init(&terms);
    for (size_t f = 0; f < nk; f++) {
        uint32_t id = keep[f];
        map[id] = (uint32_t)f;
        v->term_off[f] = (uint32_t)terms.len;
        buf_append(&terms, cand_key(c, id), c->st[id].len);
        buf_append_char(&terms, '\0');
        v->idf[f] = log((1.0 + (double)n_docs) / (1.0 + (double)c->st[id].df)) + 1.0;
    }
    v->terms_len = terms.len;
    v->terms = buf_detach(&terms);
    for (size_t f = 0; f < nk; f++)
        hashmap_upsert(&v->vocab, v->terms + v->term_off[f], strlen(v->terms + v->term_off[f]),
                       (intptr_t)f, NULL);
    free(keep);
    return map;
}

static void build_matrix(const struct tfidf *v, const uint32_t *doc_terms, const size_t *doc_ptr,
                         size_t n_docs, const uint32_t *map, struct tfidf_matrix *x)
{
    size_t total = doc_ptr[n_docs];
    x->n_rows = n_docs;
    x->row_ptr = xmalloc((n_docs + 1) * sizeof *x->row_ptr);
    x->idx = xmalloc((total + 1) * sizeof *x->idx);
    x->val = xmalloc((total + 1) * sizeof *x->val);
    size_t k = 0;
    x->row_ptr[0] = 0;
    for (size_t d = 0; d < n_docs; d++) {
        size_t m = 0;
        uint32_t *ids = x->idx + k; /* gather in place, then weigh in place */
        for (size_t j = doc_ptr[d]; j < doc_ptr[d + 1]; j++)
            if (map[doc_terms[j]] != UINT32_MAX) ids[m++] = map[doc_terms[j]];
        k += weigh_row(v, ids, m, ids, x->val + k);
        x->row_ptr[d + 1] = k;
    }
}

int tfidf_fit(struct tfidf *v, const struct tfidf_config *cfg, const char *const *texts,
              const size_t *lens, size_t n, struct tfidf_matrix *x, struct err *e)
{
    memset(v, 0, sizeof *v);
    hashmap_init(&v->vocab);
    if (x) memset(x, 0, sizeof *x);
    if (tfidf_config_check(cfg, e)) return -1;
    if (!n) return err_set(e, ERR_INVALID, "no training texts");
    if (n >= UINT32_MAX) return err_set(e, ERR_LIMIT, "too many training texts (%zu)", n);
    v->cfg = *cfg;

    struct cand c;
    memset(&c, 0, sizeof c);
    buf_init(&c.blob);
    struct tokens toks;
    tokens_init(&toks);
    size_t dcap = 1 << 16, dlen = 0;
    uint32_t *doc_terms = xmalloc(dcap * sizeof *doc_terms);
    size_t *doc_ptr = xmalloc((n + 1) * sizeof *doc_ptr);
    doc_ptr[0] = 0;
    for (size_t d = 0; d < n; d++) {
        const char *s = texts[d] ? texts[d] : "";
        size_t nt = tokenize(s, lens ? lens[d] : strlen(s), &toks);
        for (int k = cfg->ngram_min; k <= cfg->ngram_max && (size_t)k <= nt; k++) {
            if (dlen + nt > dcap) {
                while (dlen + nt > dcap)
                    dcap *= 2;
                doc_terms = xrealloc(doc_terms, dcap * sizeof *doc_terms);
            }
            for (size_t i = 0; i + (size_t)k <= nt; i++) {
                size_t len;
                const char *g = ngram_at(&toks, i, (size_t)k, &len);
                doc_terms[dlen++] = cand_add(&c, g, len, (uint32_t)d);
            }
        }
        doc_ptr[d + 1] = dlen;
    }
    tokens_free(&toks);

    int rc = -1;
    uint32_t *map = choose_vocab(v, &c, n, e);
    if (map) {
        if (x) build_matrix(v, doc_terms, doc_ptr, n, map, x);
        rc = 0;
        free(map);
    }
    cand_free(&c);
    free(doc_terms);
    free(doc_ptr);
    if (rc) tfidf_free(v);
    return rc;
}

/* ---- transform -------------------------------------------------------- */

void tfidf_vec_init(struct tfidf_vec *out)
{
    memset(out, 0, sizeof *out);
    tokens_init(&out->toks);
}

void tfidf_vec_free(struct tfidf_vec *out)
{
    free(out->idx);
    free(out->val);
    tokens_free(&out->toks);
    memset(out, 0, sizeof *out);
}

void tfidf_transform(const struct tfidf *v, const char *text, size_t len, struct tfidf_vec *out)
{
    size_t nt = tokenize(text, len, &out->toks);
    int kmin = v->cfg.ngram_min, kmax = v->cfg.ngram_max;
    size_t most = nt * (size_t)(kmax - kmin + 1) + 1;
    if (most > out->cap) {
        out->cap = most * 2;
        out->idx = xrealloc(out->idx, out->cap * sizeof *out->idx);
        out->val = xrealloc(out->val, out->cap * sizeof *out->val);
    }
    size_t m = 0;
    for (int k = kmin; k <= kmax && (size_t)k <= nt; k++) {
        for (size_t i = 0; i + (size_t)k <= nt; i++) {
            size_t glen;
            const char *g = ngram_at(&out->toks, i, (size_t)k, &glen);
            intptr_t f;
            if (hashmap_get(&v->vocab, g, glen, &f)) out->idx[m++] = (uint32_t)f;
        }
    }
    out->n = weigh_row(v, out->idx, m, out->idx, out->val);
}

const char *tfidf_term(const struct tfidf *v, size_t feature)
{
    return feature < v->n_features ? v->terms + v->term_off[feature] : NULL;
}

long tfidf_lookup(const struct tfidf *v, const char *term, size_t len)
{
    intptr_t f;
    return hashmap_get(&v->vocab, term, len, &f) ? (long)f : -1;
}

/* ---- artifact section ------------------------------------------------- */

void tfidf_save(const struct tfidf *v, struct buf *out)
{
    buf_put_u32(out, (unsigned)v->cfg.ngram_min);
    buf_put_u32(out, (unsigned)v->cfg.ngram_max);
    buf_put_u32(out, (unsigned)v->cfg.min_df);
    buf_put_f64(out, v->cfg.max_df);
    buf_put_u32(out, (unsigned)v->cfg.sublinear_tf);
    buf_put_u64(out, v->cfg.max_features);
    buf_put_u64(out, v->n_features);
    for (size_t f = 0; f < v->n_features; f++) {
        buf_put_str(out, v->terms + v->term_off[f]);
        buf_put_f64(out, v->idf[f]);
    }
}

int tfidf_load(struct tfidf *v, struct reader *r, struct err *e)
{
    memset(v, 0, sizeof *v);
    hashmap_init(&v->vocab);
    v->cfg.ngram_min = (int)reader_u32(r);
    v->cfg.ngram_max = (int)reader_u32(r);
    v->cfg.min_df = (int)reader_u32(r);
    v->cfg.max_df = reader_f64(r);
    v->cfg.sublinear_tf = reader_u32(r) != 0;
    v->cfg.max_features = (size_t)reader_u64(r);
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
    v->term_off = xmalloc(v->n_features * sizeof *v->term_off);
    v->idf = xmalloc(v->n_features * sizeof *v->idf);
    struct buf terms;
    buf_init(&terms);
    for (size_t f = 0; f < v->n_features; f++) {
        size_t len = reader_u32(r);
        const char *s = reader_bytes(r, len);
        double idf = reader_f64(r);
        if (r->failed) {
            buf_free(&terms);
            tfidf_free(v);
            return err_set(e, ERR_CORRUPT, "featuriser term %zu truncated", f);
        }
        if (!(idf >= 1.0 && isfinite(idf)) || memchr(s, '\0', len)) {
            buf_free(&terms);
            tfidf_free(v);
            return err_set(e, ERR_CORRUPT, "featuriser term %zu is invalid", f);
        }
        v->term_off[f] = (uint32_t)terms.len;
        buf_append(&terms, s, len);
        buf_append_char(&terms, '\0');
        v->idf[f] = idf;
    }
    v->terms_len = terms.len;
    v->terms = buf_detach(&terms);
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
    v->terms = NULL;
    v->term_off = NULL;
    v->idf = NULL;
    v->n_features = 0;
}

void tfidf_matrix_free(struct tfidf_matrix *x)
{
    free(x->row_ptr);
    free(x->idx);
    free(x->val);
    memset(x, 0, sizeof *x);
}
