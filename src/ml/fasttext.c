/* fasttext: the features of a text (shared with training), prediction,
 * explanations and the artifact section.
 *
 * Artifact section (after the common header and labels; little-endian):
 *   u32 dim  u32 word_ngrams  u32 minn  u32 maxn  u32 bucket  u32 loss
 *   u32 n_words  str word...          (rows 1..n_words)
 *   u32 n_buckets  u32 bucket_id...   (rows n_words+1..)
 *   f32 input rows (n_rows x dim)  f32 output rows (n_labels x dim)
 * Floats are stored as their IEEE bits, so a loaded model predicts exactly
 * as the trained one. */
#include "ml/fasttext_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv_more(uint32_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* ---- bucket -> row map ------------------------------------------------- */

void ft_rowmap_init(struct ft_rowmap *m)
{
    memset(m, 0, sizeof *m);
}

void ft_rowmap_free(struct ft_rowmap *m)
{
    free(m->keys);
    free(m->rows);
    memset(m, 0, sizeof *m);
}

/* Bucket ids are already hashes; one multiply spreads consecutive ids. */
static size_t slot_of(uint32_t key, size_t cap)
{
    return (size_t)((key * 2654435761u) & (uint32_t)(cap - 1));
}

uint32_t ft_rowmap_get(const struct ft_rowmap *m, uint32_t id)
{
    if (!m->cap) return UINT32_MAX;
    uint32_t key = id + 1;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) return m->rows[i];
        if (!m->keys[i]) return UINT32_MAX;
    }
}

static void rowmap_grow(struct ft_rowmap *m)
{
    struct ft_rowmap g = {.cap = m->cap ? m->cap * 2 : 1024, .count = m->count};
    g.keys = xcalloc(g.cap, sizeof *g.keys);
    g.rows = xmalloc(g.cap * sizeof *g.rows);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(m->keys[i], g.cap);
        while (g.keys[j])
            j = (j + 1) & (g.cap - 1);
        g.keys[j] = m->keys[i];
        g.rows[j] = m->rows[i];
    }
    free(m->keys);
    free(m->rows);
    *m = g;
}

uint32_t ft_rowmap_put(struct ft_rowmap *m, uint32_t id, uint32_t row, int *added)
{
    if (2 * (m->count + 1) > m->cap) rowmap_grow(m);
    uint32_t key = id + 1;
    size_t i = slot_of(key, m->cap);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            *added = 0;
            return m->rows[i];
        }
    }
    m->keys[i] = key;
    m->rows[i] = row;
    m->count++;
    *added = 1;
    return row;
}

/* ---- features ---------------------------------------------------------- */

void ft_char_ngrams(const struct fasttext_config *c, const struct tokens *t, size_t i,
                    unsigned char *buf, ft_emit_fn emit, void *ctx)
{
    if (c->maxn <= 0) return;
    size_t len;
    const char *tok = tokens_at(t, i, &len);
    size_t n = len + 2;
    buf[0] = '<';
    memcpy(buf + 1, tok, len);
    buf[n - 1] = '>';
    int minn = c->minn > 0 ? c->minn : 1;
    for (size_t s = 0; s < n; s++) {
        if ((buf[s] & 0xC0) == 0x80) continue; /* n-grams start on a code point */
        uint32_t h = FNV_OFFSET;
        size_t e = s;
        for (int k = 1; k <= c->maxn && e < n; k++) {
            size_t cp_end = e + 1;
            while (cp_end < n && (buf[cp_end] & 0xC0) == 0x80)
                cp_end++;
            h = fnv_more(h, buf + e, cp_end - e);
            e = cp_end;
            /* the boundary marks alone say nothing about the word */
            if (k >= minn && !(k == 1 && (s == 0 || s == n - 1)))
                emit(ctx, h % (uint32_t)c->bucket, i, 1);
        }
    }
}

void ft_word_ngrams(const struct fasttext_config *c, const struct tokens *t, ft_emit_fn emit,
                    void *ctx)
{
    if (c->word_ngrams < 2) return;
    static const unsigned char space = ' ';
    for (size_t i = 0; i + 1 < t->n; i++) {
        size_t len;
        const char *tok = tokens_at(t, i, &len);
        uint32_t h = fnv_more(FNV_OFFSET, (const unsigned char *)tok, len);
        for (size_t k = 1; k < (size_t)c->word_ngrams && i + k < t->n; k++) {
            tok = tokens_at(t, i + k, &len);
            h = fnv_more(fnv_more(h, &space, 1), (const unsigned char *)tok, len);
            emit(ctx, h % (uint32_t)c->bucket, i, k + 1);
        }
    }
}

void ft_scores(const float *out, const float *h, int dim, size_t n_labels, double *scores)
{
    for (size_t c = 0; c < n_labels; c++) {
        const float *w = out + c * (size_t)dim;
        float s = 0;
        for (int j = 0; j < dim; j++)
            s += w[j] * h[j];
        scores[c] = s;
    }
}

void ft_probabilities(enum fasttext_loss loss, double *scores, size_t n_labels)
{
    double sum = 0;
    if (loss == FASTTEXT_OVA) {
        for (size_t c = 0; c < n_labels; c++)
            sum += scores[c] = 1.0 / (1.0 + exp(-scores[c]));
    } else {
        double max = scores[0];
        for (size_t c = 1; c < n_labels; c++)
            if (scores[c] > max) max = scores[c];
        for (size_t c = 0; c < n_labels; c++)
            sum += scores[c] = exp(scores[c] - max);
    }
    if (!(sum > 0)) { /* every sigmoid underflowed: share evenly */
        for (size_t c = 0; c < n_labels; c++)
            scores[c] = 1.0 / (double)n_labels;
        return;
    }
    for (size_t c = 0; c < n_labels; c++)
        scores[c] /= sum;
}

/* ---- prediction ---------------------------------------------------------- */

void fasttext_scratch_init(struct fasttext_scratch *s)
{
    memset(s, 0, sizeof *s);
    tokens_init(&s->toks);
}

void fasttext_scratch_free(struct fasttext_scratch *s)
{
    tokens_free(&s->toks);
    free(s->hidden);
    free(s->scores);
    free(s->ngram);
    memset(s, 0, sizeof *s);
}

/* Tokenises and sizes the buffers; the only place prediction may allocate,
 * and only for a text, model or token larger than any seen before. */
static void prepare(const struct fasttext *m, const char *text, size_t len,
                    struct fasttext_scratch *s)
{
    tokenize_ex(text ? text : "", text ? len : 0, m->cfg.keep_punct ? TOKENIZE_KEEP_PUNCT : 0,
                &s->toks);
    if (s->hidden_cap < (size_t)m->cfg.dim) {
        s->hidden = xrealloc(s->hidden, (size_t)m->cfg.dim * sizeof *s->hidden);
        s->hidden_cap = (size_t)m->cfg.dim;
    }
    if (s->scores_cap < m->n_labels) {
        s->scores = xrealloc(s->scores, m->n_labels * sizeof *s->scores);
        s->scores_cap = m->n_labels;
    }
    size_t longest = 0;
    for (size_t i = 0; i < s->toks.n; i++)
        if (s->toks.len[i] > longest) longest = s->toks.len[i];
    if (s->ngram_cap < longest + 2) {
        s->ngram = xrealloc(s->ngram, longest + 2);
        s->ngram_cap = longest + 2;
    }
}

/* The embedding row of token i of the vocabulary, or UINT32_MAX. */
static uint32_t word_row(const struct fasttext *m, const struct tokens *t, size_t i)
{
    size_t len;
    const char *tok = tokens_at(t, i, &len);
    intptr_t row;
    return hashmap_get(&m->vocab, tok, len, &row) ? (uint32_t)row : UINT32_MAX;
}

struct sum_ctx {
    const struct fasttext *m;
    float *h;
    size_t n;
};

static void add_row(struct sum_ctx *a, uint32_t row)
{
    const int dim = a->m->cfg.dim;
    const float *v = a->m->in + (size_t)row * (size_t)dim;
    for (int j = 0; j < dim; j++)
        a->h[j] += v[j];
    a->n++;
}

/* An n-gram no training text had has no row: it is left out of the mean. */
static void add_bucket(void *ctx, uint32_t bucket, size_t first, size_t n_tok)
{
    (void)first, (void)n_tok;
    struct sum_ctx *a = ctx;
    uint32_t row = ft_rowmap_get(&a->m->buckets, bucket);
    if (row != UINT32_MAX) add_row(a, row);
}

size_t fasttext_predict(const struct fasttext *m, const char *text, size_t len,
                        struct fasttext_scratch *s, double *probs)
{
    prepare(m, text, len, s);
    struct sum_ctx a = {m, s->hidden, 0};
    memset(a.h, 0, (size_t)m->cfg.dim * sizeof *a.h);
    add_row(&a, 0);
    for (size_t i = 0; i < s->toks.n; i++) {
        uint32_t row = word_row(m, &s->toks, i);
        if (row != UINT32_MAX) add_row(&a, row);
        ft_char_ngrams(&m->cfg, &s->toks, i, s->ngram, add_bucket, &a);
    }
    ft_word_ngrams(&m->cfg, &s->toks, add_bucket, &a);
    float inv = 1.0f / (float)a.n;
    for (int j = 0; j < m->cfg.dim; j++)
        a.h[j] *= inv;
    ft_scores(m->out, a.h, m->cfg.dim, m->n_labels, probs);
    ft_probabilities(m->cfg.loss, probs, m->n_labels);
    size_t best = 0;
    for (size_t c = 1; c < m->n_labels; c++)
        if (probs[c] > probs[best]) best = c;
    return best;
}

/* ---- explanations -------------------------------------------------------- */

struct explain_ctx {
    const struct fasttext *m;
    double *contrib; /* (n_tokens + 1) x n_labels; the last row: the common row */
    double *dots;    /* n_labels */
    size_t n;        /* rows found, the mean's divisor */
};

/* Adds row's unnormalised score share to tokens first .. first + n_tok - 1. */
static void explain_row(struct explain_ctx *x, uint32_t row, size_t first, size_t n_tok)
{
    const struct fasttext *m = x->m;
    ft_scores(m->out, m->in + (size_t)row * (size_t)m->cfg.dim, m->cfg.dim, m->n_labels, x->dots);
    for (size_t t = first; t < first + n_tok; t++)
        for (size_t c = 0; c < m->n_labels; c++)
            x->contrib[t * m->n_labels + c] += x->dots[c] / (double)n_tok;
    x->n++;
}

static void explain_bucket(void *ctx, uint32_t bucket, size_t first, size_t n_tok)
{
    struct explain_ctx *x = ctx;
    uint32_t row = ft_rowmap_get(&x->m->buckets, bucket);
    if (row != UINT32_MAX) explain_row(x, row, first, n_tok);
}

size_t fasttext_explain(const struct fasttext *m, const char *text, size_t len,
                        struct fasttext_scratch *s, double *contrib)
{
    prepare(m, text, len, s);
    size_t nt = s->toks.n;
    if (!contrib) return nt;
    memset(contrib, 0, (nt + 1) * m->n_labels * sizeof *contrib);
    struct explain_ctx x = {m, contrib, s->scores, 0};
    explain_row(&x, 0, nt, 1);
    for (size_t i = 0; i < nt; i++) {
        uint32_t row = word_row(m, &s->toks, i);
        if (row != UINT32_MAX) explain_row(&x, row, i, 1);
        ft_char_ngrams(&m->cfg, &s->toks, i, s->ngram, explain_bucket, &x);
    }
    ft_word_ngrams(&m->cfg, &s->toks, explain_bucket, &x);
    for (size_t k = 0; k < (nt + 1) * m->n_labels; k++)
        contrib[k] /= (double)x.n;
    return nt;
}

/* ---- artifact ------------------------------------------------------------ */

size_t fasttext_n_rows(const struct fasttext *m)
{
    return m->n_rows;
}

static void put_floats(struct buf *out, const float *v, size_t n)
{
    buf_reserve(out, n * 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        buf_put_u32(out, bits);
    }
}

int fasttext_is_extended(const struct fasttext *m)
{
    return m->cfg.keep_punct != 0;
}

void fasttext_save(const struct fasttext *m, int extended, struct buf *out)
{
    const struct fasttext_config *c = &m->cfg;
    unsigned head[] = {(unsigned)c->dim,  (unsigned)c->word_ngrams, (unsigned)c->minn,
                       (unsigned)c->maxn, (unsigned)c->bucket,      (unsigned)c->loss};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++)
        buf_put_u32(out, head[i]);
    if (extended) buf_put_u32(out, (unsigned)c->keep_punct);
    /* the vocabulary in row order, from the map's slots */
    const struct hashmap_slot **by_row = xcalloc(m->n_words + 1, sizeof *by_row);
    for (size_t i = 0; i < m->vocab.cap; i++)
        if (m->vocab.slots[i].key) by_row[m->vocab.slots[i].value] = &m->vocab.slots[i];
    buf_put_u32(out, (unsigned)m->n_words);
    for (size_t r = 1; r <= m->n_words; r++) {
        buf_put_u32(out, (unsigned)by_row[r]->key_len);
        buf_append(out, by_row[r]->key, by_row[r]->key_len);
    }
    free(by_row);
    size_t n_buckets = m->n_rows - 1 - m->n_words;
    buf_put_u32(out, (unsigned)n_buckets);
    for (size_t i = 0; i < n_buckets; i++)
        buf_put_u32(out, m->bucket_ids[i]);
    put_floats(out, m->in, m->n_rows * (size_t)c->dim);
    put_floats(out, m->out, m->n_labels * (size_t)c->dim);
}

static struct fasttext *corrupt(struct fasttext *m, struct err *e, const char *what)
{
    err_set(e, ERR_CORRUPT, "fasttext section: %s", what);
    fasttext_free(m);
    return NULL;
}

static int read_floats(struct reader *r, float *v, size_t n)
{
    const unsigned char *p = reader_bytes(r, n * 4);
    if (!p) return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                        (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        memcpy(&v[i], &bits, 4);
        if (!isfinite(v[i])) return -1;
    }
    return 0;
}

static int settings_ok(const struct fasttext_config *c)
{
    return c->dim >= 1 && c->dim <= FASTTEXT_MAX_DIM && c->word_ngrams >= 1 &&
           c->word_ngrams <= FASTTEXT_MAX_WORD_NGRAMS && c->maxn >= 0 &&
           c->maxn <= FASTTEXT_MAX_CHAR_NGRAM && c->minn >= 0 && c->minn <= c->maxn &&
           c->bucket >= 1 && (c->loss == FASTTEXT_SOFTMAX || c->loss == FASTTEXT_OVA);
}

static int read_vocab(struct fasttext *m, struct reader *r)
{
    for (size_t row = 1; row <= m->n_words; row++) {
        size_t len = reader_u32(r);
        const char *w = len ? reader_bytes(r, len) : NULL;
        int added = 0;
        if (!w) return -1; /* past the end, or an empty word */
        hashmap_upsert(&m->vocab, w, len, (intptr_t)row, &added);
        if (!added) return -1;
    }
    return 0;
}

struct fasttext *fasttext_load(struct reader *r, size_t n_labels, int extended, struct err *e)
{
    struct fasttext *m = xcalloc(1, sizeof *m);
    hashmap_init(&m->vocab);
    ft_rowmap_init(&m->buckets);
    struct fasttext_config *c = &m->cfg;
    fasttext_config_defaults(c);
    int *fields[] = {&c->dim, &c->word_ngrams, &c->minn, &c->maxn, &c->bucket};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        unsigned v = reader_u32(r);
        *fields[i] = v > (unsigned)INT32_MAX ? -1 : (int)v;
    }
    unsigned loss = reader_u32(r);
    c->loss = loss == 1 ? FASTTEXT_OVA : FASTTEXT_SOFTMAX;
    /* absent (an artifact without options): off, as it was trained */
    unsigned keep_punct = extended ? reader_u32(r) : 0;
    c->keep_punct = keep_punct == 1;
    if (r->failed) return corrupt(m, e, "truncated settings");
    if (loss > 1 || keep_punct > 1 || !settings_ok(c))
        return corrupt(m, e, "settings out of range");
    m->n_labels = n_labels;
    m->n_words = reader_u32(r);
    if (m->n_words > r->left / 4) return corrupt(m, e, "vocabulary size out of range");
    if (read_vocab(m, r)) return corrupt(m, e, "vocabulary truncated, empty or repeated word");
    size_t n_buckets = reader_u32(r);
    if (r->failed || n_buckets > r->left / 4) return corrupt(m, e, "bucket count out of range");
    m->n_rows = 1 + m->n_words + n_buckets;
    m->bucket_ids = xmalloc((n_buckets ? n_buckets : 1) * sizeof *m->bucket_ids);
    for (size_t i = 0; i < n_buckets; i++) {
        int added;
        m->bucket_ids[i] = reader_u32(r);
        if (m->bucket_ids[i] >= (uint32_t)c->bucket) return corrupt(m, e, "bucket id out of range");
        ft_rowmap_put(&m->buckets, m->bucket_ids[i], (uint32_t)(1 + m->n_words + i), &added);
        if (!added) return corrupt(m, e, "repeated bucket id");
    }
    size_t n_in = m->n_rows * (size_t)c->dim, n_out = n_labels * (size_t)c->dim;
    if (r->left != (n_in + n_out) * 4) {
        err_set(e, ERR_CORRUPT, "fasttext section: weights take %zu bytes, expected %zu", r->left,
                (n_in + n_out) * 4);
        fasttext_free(m);
        return NULL;
    }
    m->in = xmalloc(n_in * sizeof *m->in);
    m->out = xmalloc(n_out * sizeof *m->out);
    if (read_floats(r, m->in, n_in) || read_floats(r, m->out, n_out))
        return corrupt(m, e, "a weight is not a finite number");
    return m;
}

void fasttext_free(struct fasttext *m)
{
    if (!m) return;
    hashmap_free(&m->vocab);
    ft_rowmap_free(&m->buckets);
    free(m->bucket_ids);
    free(m->in);
    free(m->out);
    free(m);
}
