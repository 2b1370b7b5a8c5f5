/* TF-IDF fit. Every candidate term is counted once in a table, each text
 * remembers its candidates' ids, and only then is the vocabulary chosen, so
 * the training matrix is built without analysing the texts twice.
 *
 * On several cores the candidates are split into shards by their hash:
 * each thread reads every text but counts only its shard's terms, in its
 * own table, so no table is shared and nothing is merged (a term's counts
 * all live in one shard). Reading the texts twice costs far less than the
 * table's cache misses that it halves. (Analysing each text once into
 * records of hash and bytes, then counting the records by shard, took 15%
 * less CPU but touched twice the memory: in a fresh training process the
 * page faults made it slower.) With the hashing trick the texts
 * are split instead (a bucket's counts are plain sums). The result does
 * not depend on the thread count: feature ids follow the terms' byte order
 * (or bucket order). */
#include "text/tfidf.h"

#include "text/tfidf_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIT_MAX_THREADS 4

uint64_t tfidf_hash(const char *s, size_t len)
{
    /* 8 bytes per step, then a final avalanche: good spread, not security */
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

/* ---- candidate table -------------------------------------------------- */

/* One candidate's statistics, together in 32 bytes so counting an
 * occurrence touches a single cache line. A candidate is known by its
 * 64-bit hash alone: most candidates occur once and are pruned, so their
 * bytes are never stored nor compared — a term's bytes are copied once,
 * when it reaches min_df texts. (Two terms of one corpus sharing a 64-bit
 * hash would be counted as one: at 10 million distinct terms the odds are
 * about 3 in a million.) */
struct cand_stat {
    uint64_t hash;
    uint64_t off; /* its bytes in the blob, once df >= min_df */
    uint32_t len, df, last_doc, tf;
};

/* An index slot: 8 bytes, so the table stays small (fewer cache misses and
 * page faults); the high hash bits next to the id reject most mismatches
 * without touching the candidate. */
struct cand_slot {
    uint32_t id;  /* UINT32_MAX = empty */
    uint32_t tag; /* hash >> 32 */
};

/* A half-empty open-addressing index over the candidates, which keeps
 * probes short; the bytes of the kept ones, back to back in blob. */
struct cand {
    struct cand_slot *slot;
    size_t slot_cap; /* power of two */
    struct buf blob;
    struct cand_stat *st;
    size_t n, cap;
    uint32_t min_df;
};

static void cand_rehash(struct cand *c, size_t cap)
{
    free(c->slot);
    c->slot = xmalloc(cap * sizeof *c->slot);
    mem_hint_big(c->slot, cap * sizeof *c->slot);
    memset(c->slot, 0xFF, cap * sizeof *c->slot); /* all ids UINT32_MAX */
    c->slot_cap = cap;
    for (uint32_t id = 0; id < c->n; id++) {
        uint64_t h = c->st[id].hash;
        size_t i = h & (cap - 1);
        while (c->slot[i].id != UINT32_MAX)
            i = (i + 1) & (cap - 1);
        c->slot[i] = (struct cand_slot){id, (uint32_t)(h >> 32)};
    }
}

static uint32_t cand_add(struct cand *c, const char *s, size_t len, uint64_t h, uint32_t doc)
{
    if ((c->n + 1) * 2 > c->slot_cap) cand_rehash(c, c->slot_cap ? c->slot_cap * 2 : 1 << 14);
    size_t mask = c->slot_cap - 1, i = h & mask;
    uint32_t id;
    for (;; i = (i + 1) & mask) {
        const struct cand_slot *sl = &c->slot[i];
        id = sl->id;
        if (id == UINT32_MAX) break;
        if (sl->tag == (uint32_t)(h >> 32) && c->st[id].hash == h) goto found;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1 << 13;
        c->st = xrealloc(c->st, c->cap * sizeof *c->st);
        mem_hint_big(c->st, c->cap * sizeof *c->st);
    }
    id = (uint32_t)c->n++;
    c->slot[i] = (struct cand_slot){id, (uint32_t)(h >> 32)};
    c->st[id] = (struct cand_stat){.hash = h, .len = (uint32_t)len};
found:;
    struct cand_stat *t = &c->st[id];
    t->tf++;
    if (t->last_doc != doc + 1) {
        t->last_doc = doc + 1;
        if (++t->df == c->min_df) { /* now a vocabulary candidate: keep its bytes */
            t->off = c->blob.len;
            buf_append(&c->blob, s, len);
        }
    }
    return id;
}

static void cand_free(struct cand *c)
{
    free(c->slot);
    buf_free(&c->blob);
    free(c->st);
}

/* ---- counting, one thread per shard ------------------------------------ */

struct shard {
    const struct tfidf_config *cfg;
    const char *const *texts;
    const size_t *lens;
    size_t n;
    unsigned index, count;        /* this shard among count */
    size_t d0, d1;                /* hashing: the texts this thread reads */
    struct cand c;                /* vocabulary: the shard's candidates */
    uint32_t *df, *tf, *last_doc; /* hashing: per bucket */
    uint32_t *doc_terms;          /* each text's candidate ids (or buckets), in text order */
    size_t dlen, dcap;
    size_t *doc_ptr; /* n + 1 */
};

static void doc_terms_reserve(struct shard *s, size_t more)
{
    if (s->dlen + more <= s->dcap) return;
    while (s->dlen + more > s->dcap)
        s->dcap = s->dcap ? s->dcap * 2 : 1 << 14;
    s->doc_terms = xrealloc(s->doc_terms, s->dcap * sizeof *s->doc_terms);
    mem_hint_big(s->doc_terms, s->dcap * sizeof *s->doc_terms);
}

/* Analyses text d into a, with room for its terms in s->doc_terms;
 * returns the term count. */
static size_t analyse_text(struct shard *s, size_t d, struct tfidf_terms *a)
{
    const char *t = s->texts[d] ? s->texts[d] : "";
    size_t len = s->texts[d] ? (s->lens ? s->lens[d] : strlen(t)) : 0;
    size_t nt = tfidf_analyze(s->cfg, t, len, a);
    doc_terms_reserve(s, nt);
    return nt;
}

static void *count_vocab(void *p)
{
    struct shard *s = p;
    struct tfidf_terms a;
    tfidf_terms_init(&a);
    s->doc_ptr[0] = 0;
    for (size_t d = 0; d < s->n; d++) {
        size_t nt = analyse_text(s, d, &a);
        for (size_t i = 0; i < nt; i++) {
            size_t glen;
            const char *g = tfidf_terms_at(&a, i, &glen);
            uint64_t h = tfidf_hash(g, glen);
            if (s->count > 1 && (unsigned)(h >> 56) % s->count != s->index) continue;
            s->doc_terms[s->dlen++] = cand_add(&s->c, g, glen, h, (uint32_t)d);
        }
        s->doc_ptr[d + 1] = s->dlen;
    }
    tfidf_terms_free(&a);
    return NULL;
}

static void *count_buckets(void *p)
{
    struct shard *s = p;
    size_t nb = (size_t)1 << s->cfg->hashing_bits;
    s->df = xcalloc(nb, sizeof *s->df);
    s->tf = xcalloc(nb, sizeof *s->tf);
    s->last_doc = xcalloc(nb, sizeof *s->last_doc);
    struct tfidf_terms a;
    tfidf_terms_init(&a);
    for (size_t d = 0; d <= s->d0; d++)
        s->doc_ptr[d] = 0;
    for (size_t d = s->d0; d < s->d1; d++) {
        size_t nt = analyse_text(s, d, &a);
        for (size_t i = 0; i < nt; i++) {
            size_t glen;
            const char *g = tfidf_terms_at(&a, i, &glen);
            uint32_t b = (uint32_t)(tfidf_hash(g, glen) & (nb - 1));
            s->doc_terms[s->dlen++] = b;
            s->tf[b]++;
            if (s->last_doc[b] != d + 1) {
                s->last_doc[b] = (uint32_t)d + 1;
                s->df[b]++;
            }
        }
        s->doc_ptr[d + 1] = s->dlen;
    }
    for (size_t d = s->d1; d < s->n; d++)
        s->doc_ptr[d + 1] = s->dlen;
    tfidf_terms_free(&a);
    return NULL;
}

/* Runs fn on each shard, the first on the calling thread. */
static void run_all(void *(*fn)(void *), struct shard *sh, unsigned count)
{
    pthread_t tid[FIT_MAX_THREADS];
    int started[FIT_MAX_THREADS] = {0};
    for (unsigned t = 1; t < count; t++)
        started[t] = pthread_create(&tid[t], NULL, fn, &sh[t]) == 0;
    fn(&sh[0]);
    for (unsigned t = 1; t < count; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(&sh[t]); /* no thread to be had: do it here */
    }
}

/* ---- choosing the vocabulary ------------------------------------------ */

/* A kept candidate while sorting: the first 8 bytes of its term, big-endian,
 * decide most comparisons without touching the term's bytes. */
struct kept {
    uint64_t prefix;
    uint32_t shard, id;
};

static _Thread_local const struct shard *sort_shards; /* qsort has no context */

static int cmp_kept(const void *pa, const void *pb)
{
    const struct kept *a = pa, *b = pb;
    if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
    const struct cand *ca = &sort_shards[a->shard].c, *cb = &sort_shards[b->shard].c;
    size_t la = ca->st[a->id].len, lb = cb->st[b->id].len;
    int r = memcmp(ca->blob.data + ca->st[a->id].off, cb->blob.data + cb->st[b->id].off,
                   la < lb ? la : lb);
    if (r) return r;
    return (la > lb) - (la < lb);
}

static uint64_t prefix_of(const char *s, size_t len)
{
    uint64_t p = 0;
    for (size_t i = 0; i < 8; i++)
        p = (p << 8) | (i < len ? (unsigned char)s[i] : 0);
    return p;
}

/* Most frequent first; ties keep the order they are in (term order), as
 * sklearn's stable argsort does. */
static int cmp_freq(const void *pa, const void *pb)
{
    const uint64_t *a = pa, *b = pb; /* (tf << 32) | rank */
    uint64_t fa = a[0] >> 32, fb = b[0] >> 32;
    if (fa != fb) return fa > fb ? -1 : 1;
    return (a[0] > b[0]) - (a[0] < b[0]);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Keeps the max_features most frequent of order[0..nk) (tf[i] their counts),
 * in the same relative order; returns the new count. */
static size_t cap_features(size_t *order_idx, const uint64_t *tf, size_t nk, size_t max)
{
    if (!max || nk <= max) return nk;
    uint64_t *r = xmalloc(nk * sizeof *r);
    for (size_t i = 0; i < nk; i++)
        r[i] = (tf[i] << 32) | (uint64_t)i;
    qsort(r, nk, sizeof *r, cmp_freq);
    uint32_t *pick = xmalloc(max * sizeof *pick);
    for (size_t i = 0; i < max; i++)
        pick[i] = (uint32_t)r[i];
    qsort(pick, max, sizeof *pick, cmp_u32);
    for (size_t i = 0; i < max; i++)
        order_idx[i] = pick[i];
    free(pick);
    free(r);
    return max;
}

static int check_df(const struct tfidf_config *cfg, size_t n_docs, double *max_count, struct err *e)
{
    *max_count = cfg->max_df * (double)n_docs;
    if (*max_count < (double)cfg->min_df)
        return err_set_field(e, ERR_INVALID, "max_df",
                             "max_df (%g of %zu texts) keeps fewer texts than min_df (%d) requires",
                             cfg->max_df, n_docs, cfg->min_df);
    return 0;
}

static int none_left(const struct tfidf_config *cfg, size_t n_docs, struct err *e)
{
    return err_set_field(e, ERR_INVALID, "min_df",
                         "no term is left after pruning (%zu texts, min_df %d, max_df %g): lower "
                         "min_df or add training data",
                         n_docs, cfg->min_df, cfg->max_df);
}

static int kept_df(uint32_t df, uint32_t min_df, double max_count)
{
    return df >= min_df && (double)df <= max_count;
}

/* Chooses the kept candidates and fills v's vocabulary; map[s] receives
 * shard s's candidate -> feature map (UINT32_MAX = dropped). */
static int choose_vocab(struct tfidf *v, struct shard *sh, unsigned count, size_t n_docs,
                        uint32_t **map, struct err *e)
{
    double max_count;
    if (check_df(&v->cfg, n_docs, &max_count, e)) return -1;
    /* counted first: most candidates are pruned, and an array sized for
     * all of them would be mostly untouched, fresh pages */
    size_t total = 0;
    for (unsigned s = 0; s < count; s++)
        for (uint32_t i = 0; i < sh[s].c.n; i++)
            total += kept_df(sh[s].c.st[i].df, (uint32_t)v->cfg.min_df, max_count);
    struct kept *keep = xmalloc((total + 1) * sizeof *keep);
    size_t nk = 0;
    for (unsigned s = 0; s < count; s++) {
        const struct cand *c = &sh[s].c;
        for (uint32_t i = 0; i < c->n; i++)
            if (kept_df(c->st[i].df, (uint32_t)v->cfg.min_df, max_count))
                keep[nk++] =
                    (struct kept){prefix_of(c->blob.data + c->st[i].off, c->st[i].len), s, i};
    }
    if (!nk) {
        free(keep);
        return none_left(&v->cfg, n_docs, e);
    }
    sort_shards = sh;
    qsort(keep, nk, sizeof *keep, cmp_kept);
    size_t *order = xmalloc(nk * sizeof *order);
    uint64_t *tf = xmalloc(nk * sizeof *tf);
    for (size_t i = 0; i < nk; i++) {
        order[i] = i;
        tf[i] = sh[keep[i].shard].c.st[keep[i].id].tf;
    }
    nk = cap_features(order, tf, nk, v->cfg.max_features);
    free(tf);

    for (unsigned s = 0; s < count; s++) {
        map[s] = xmalloc((sh[s].c.n + 1) * sizeof **map);
        memset(map[s], 0xFF, (sh[s].c.n + 1) * sizeof **map);
    }
    v->n_features = nk;
    v->term_off = xmalloc(nk * sizeof *v->term_off);
    v->idf = xmalloc(nk * sizeof *v->idf);
    struct buf terms;
    buf_init(&terms);
    for (size_t f = 0; f < nk; f++) {
        const struct kept *k = &keep[order[f]];
        const struct cand *c = &sh[k->shard].c;
        const struct cand_stat *st = &c->st[k->id];
        map[k->shard][k->id] = (uint32_t)f;
        v->term_off[f] = (uint32_t)terms.len;
        buf_append(&terms, c->blob.data + st->off, st->len);
        buf_append_char(&terms, '\0');
        v->idf[f] = log((1.0 + (double)n_docs) / (1.0 + (double)st->df)) + 1.0;
    }
    v->terms_len = terms.len;
    v->terms = buf_detach(&terms);
    hashmap_reserve(&v->vocab, nk);
    for (size_t f = 0; f < nk; f++) {
        const char *t = v->terms + v->term_off[f];
        hashmap_upsert(&v->vocab, t, strlen(t), (intptr_t)f, NULL);
    }
    free(order);
    free(keep);
    return 0;
}

/* The hashing trick's "vocabulary": the buckets that pass min_df, max_df
 * and max_features, in bucket order; every shard shares the one map. */
static int choose_buckets(struct tfidf *v, struct shard *sh, unsigned count, size_t n_docs,
                          uint32_t **map, struct err *e)
{
    double max_count;
    if (check_df(&v->cfg, n_docs, &max_count, e)) return -1;
    size_t nb = (size_t)1 << v->cfg.hashing_bits;
    for (unsigned s = 1; s < count; s++)
        for (size_t b = 0; b < nb; b++) {
            sh[0].df[b] += sh[s].df[b];
            sh[0].tf[b] += sh[s].tf[b];
        }
    size_t *order = xmalloc(nb * sizeof *order);
    uint64_t *tf = xmalloc(nb * sizeof *tf);
    size_t nk = 0;
    for (size_t b = 0; b < nb; b++)
        if (sh[0].df[b] >= (uint32_t)v->cfg.min_df && (double)sh[0].df[b] <= max_count) {
            order[nk] = b;
            tf[nk++] = sh[0].tf[b];
        }
    if (!nk) {
        free(order);
        free(tf);
        return none_left(&v->cfg, n_docs, e);
    }
    size_t *pos = xmalloc(nk * sizeof *pos);
    for (size_t i = 0; i < nk; i++)
        pos[i] = i;
    nk = cap_features(pos, tf, nk, v->cfg.max_features);
    v->n_features = nk;
    v->idf = xmalloc(nk * sizeof *v->idf);
    v->bucket_of = xmalloc(nk * sizeof *v->bucket_of);
    v->feature_of = xmalloc(nb * sizeof *v->feature_of);
    memset(v->feature_of, 0xFF, nb * sizeof *v->feature_of);
    for (size_t f = 0; f < nk; f++) {
        uint32_t b = (uint32_t)order[pos[f]];
        v->bucket_of[f] = b;
        v->feature_of[b] = (uint32_t)f;
        v->idf[f] = log((1.0 + (double)n_docs) / (1.0 + (double)sh[0].df[b])) + 1.0;
    }
    for (unsigned s = 0; s < count; s++)
        map[s] = v->feature_of;
    free(pos);
    free(order);
    free(tf);
    return 0;
}

/* ---- the training matrix, texts split between threads ----------------- */

struct build {
    const struct tfidf *v;
    const struct shard *sh;
    unsigned count;
    uint32_t *const *map;
    struct tfidf_matrix *x;
    size_t d0, d1;   /* texts of this part */
    size_t start, k; /* its first slot in x (an upper bound), and its end */
};

static void *build_rows(void *p)
{
    struct build *b = p;
    size_t most = 0;
    for (size_t d = b->d0; d < b->d1; d++) {
        size_t m = 0;
        for (unsigned s = 0; s < b->count; s++)
            m += b->sh[s].doc_ptr[d + 1] - b->sh[s].doc_ptr[d];
        if (m > most) most = m;
    }
    uint32_t *tmp = xmalloc((most + 1) * sizeof *tmp);
    size_t k = b->start;
    for (size_t d = b->d0; d < b->d1; d++) {
        uint32_t *ids = b->x->idx + k; /* gather in place, then weigh in place */
        size_t m = 0;
        for (unsigned s = 0; s < b->count; s++) {
            const struct shard *sh = &b->sh[s];
            const uint32_t *map = b->map[s];
            for (size_t j = sh->doc_ptr[d]; j < sh->doc_ptr[d + 1]; j++)
                if (map[sh->doc_terms[j]] != UINT32_MAX) ids[m++] = map[sh->doc_terms[j]];
        }
        k += tfidf_weigh_row(b->v, ids, m, tmp, ids, b->x->val + k);
        b->x->row_ptr[d + 1] = k;
    }
    b->k = k;
    free(tmp);
    return NULL;
}

static void build_matrix(const struct tfidf *v, const struct shard *sh, unsigned count,
                         uint32_t *const *map, size_t n_docs, unsigned threads,
                         struct tfidf_matrix *x)
{
    size_t total = 0;
    for (unsigned s = 0; s < count; s++)
        total += sh[s].dlen;
    x->n_rows = n_docs;
    x->row_ptr = xmalloc((n_docs + 1) * sizeof *x->row_ptr);
    x->idx = xmalloc((total + 1) * sizeof *x->idx);
    x->val = xmalloc((total + 1) * sizeof *x->val);
    mem_hint_big(x->idx, (total + 1) * sizeof *x->idx);
    mem_hint_big(x->val, (total + 1) * sizeof *x->val);
    x->row_ptr[0] = 0;
    struct build part[FIT_MAX_THREADS];
    pthread_t tid[FIT_MAX_THREADS];
    int started[FIT_MAX_THREADS] = {0};
    for (unsigned t = 0; t < threads; t++) {
        size_t d0 = n_docs * t / threads, start = 0;
        for (unsigned s = 0; s < count; s++)
            start += sh[s].doc_ptr[d0];
        part[t] = (struct build){v, sh, count, map, x, d0, n_docs * (t + 1) / threads, start, 0};
    }
    for (unsigned t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, build_rows, &part[t]) == 0;
    build_rows(&part[0]);
    /* each part wrote from its upper-bound start: close the gaps */
    size_t end = part[0].k;
    for (unsigned t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            build_rows(&part[t]);
        size_t gap = part[t].start - end, len = part[t].k - part[t].start;
        memmove(x->idx + end, x->idx + part[t].start, len * sizeof *x->idx);
        memmove(x->val + end, x->val + part[t].start, len * sizeof *x->val);
        for (size_t d = part[t].d0; d < part[t].d1; d++)
            x->row_ptr[d + 1] -= gap;
        end += len;
    }
}

/* ---- fit -------------------------------------------------------------- */

/* Below this much text a second thread costs more than it saves: each
 * thread reads every text (measured on the shared sets: 176 KB of support
 * tickets fit faster on one thread, 1.2 MB of tweets twice as fast on two). */
#define FIT_THREAD_MIN_BYTES (512u << 10)

static unsigned fit_threads(const char *const *texts, const size_t *lens, size_t n)
{
    size_t bytes = 0;
    for (size_t d = 0; d < n && bytes < FIT_THREAD_MIN_BYTES; d++)
        bytes += texts[d] ? (lens ? lens[d] : strlen(texts[d])) : 0;
    if (bytes < FIT_THREAD_MIN_BYTES) return 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 2 ? 1 : cores > FIT_MAX_THREADS ? FIT_MAX_THREADS : (unsigned)cores;
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

    unsigned threads = fit_threads(texts, lens, n);
    struct shard sh[FIT_MAX_THREADS];
    for (unsigned t = 0; t < threads; t++) {
        memset(&sh[t], 0, sizeof sh[t]);
        sh[t] = (struct shard){.cfg = cfg,
                               .texts = texts,
                               .lens = lens,
                               .n = n,
                               .index = t,
                               .count = threads,
                               .d0 = n * t / threads,
                               .d1 = n * (t + 1) / threads};
        buf_init(&sh[t].c.blob);
        sh[t].c.min_df = (uint32_t)cfg->min_df;
        sh[t].doc_ptr = xmalloc((n + 1) * sizeof *sh[t].doc_ptr);
    }
    uint32_t *map[FIT_MAX_THREADS] = {0};
    int rc;
    if (cfg->hashing_bits) {
        run_all(count_buckets, sh, threads);
        rc = choose_buckets(v, sh, threads, n, map, e);
    } else {
        run_all(count_vocab, sh, threads);
        rc = choose_vocab(v, sh, threads, n, map, e);
    }
    if (!rc && x) build_matrix(v, sh, threads, map, n, threads, x);
    for (unsigned t = 0; t < threads; t++) {
        cand_free(&sh[t].c);
        free(sh[t].df);
        free(sh[t].tf);
        free(sh[t].last_doc);
        free(sh[t].doc_terms);
        free(sh[t].doc_ptr);
        if (!cfg->hashing_bits) free(map[t]);
    }
    if (rc) tfidf_free(v);
    return rc;
}
