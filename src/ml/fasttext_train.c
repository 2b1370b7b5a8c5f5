/* fasttext training: one pass over the texts builds the dictionary (every
 * distinct token with its count and char n-gram buckets, every text's tokens
 * and word n-gram buckets), rows are given to the kept words and to the
 * buckets the data touched, then SGD runs over threads.
 *
 * The threads share the weights with no lock (hogwild, Recht et al. 2011):
 * each example touches a few rows, collisions are rare and cost a little
 * noise, never a crash — the floats are plain memory, written whole. Each
 * thread walks its own slice of one seeded shuffle of the examples, taking
 * epoch * n / threads steps while its learning rate falls linearly to zero,
 * so with one thread a seed fixes every weight. */
#include "ml/fasttext_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a growable u32 array ------------------------------------------------ */

struct u32vec {
    uint32_t *v;
    size_t n, cap;
};

static void u32_push(struct u32vec *a, uint32_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

/* Sets (*ptr)[n], growing the array to the next power of two whenever n
 * reaches one: the caller pushes n = 0, 1, 2... in turn. */
static void size_push(size_t **ptr, size_t n, size_t value)
{
    if ((n & (n - 1)) == 0) *ptr = xrealloc(*ptr, (n ? 2 * n : 1) * sizeof **ptr);
    (*ptr)[n] = value;
}

/* ---- the dictionary pass --------------------------------------------------- */

/* Lists are CSR: item i is v[ptr[i] .. ptr[i + 1]). */
struct dict {
    struct hashmap index; /* token -> entry */
    struct u32vec count;  /* per entry */
    size_t *sub_ptr;      /* per entry: its char n-gram buckets, then rows */
    struct u32vec sub;
    size_t *tok_ptr, *ng_ptr; /* per text: its entries; its word n-gram buckets, then rows */
    struct u32vec tok, ng;
};

static void emit_push(void *ctx, uint32_t bucket, size_t first, size_t n_tok)
{
    (void)first, (void)n_tok;
    u32_push(ctx, bucket);
}

static void dict_scan(struct dict *d, const struct fasttext_config *c, const char *const *texts,
                      size_t n)
{
    struct tokens t;
    tokens_init(&t);
    unsigned char *ngram = NULL;
    size_t ngram_cap = 0;
    hashmap_init(&d->index);
    size_push(&d->sub_ptr, 0, 0);
    d->tok_ptr = xmalloc((n + 1) * sizeof *d->tok_ptr);
    d->ng_ptr = xmalloc((n + 1) * sizeof *d->ng_ptr);
    d->tok_ptr[0] = d->ng_ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        tokenize_ex(texts[i] ? texts[i] : "", texts[i] ? strlen(texts[i]) : 0,
                    c->keep_punct ? TOKENIZE_KEEP_PUNCT : 0, &t);
        for (size_t k = 0; k < t.n; k++) {
            size_t len;
            const char *tok = tokens_at(&t, k, &len);
            int added;
            intptr_t *entry = hashmap_upsert(&d->index, tok, len, (intptr_t)d->count.n, &added);
            if (added) {
                u32_push(&d->count, 0);
                if (ngram_cap < len + 2) ngram = xrealloc(ngram, ngram_cap = 2 * len + 2);
                ft_char_ngrams(c, &t, k, ngram, emit_push, &d->sub);
                size_push(&d->sub_ptr, d->count.n, d->sub.n);
            }
            d->count.v[*entry]++;
            u32_push(&d->tok, (uint32_t)*entry);
        }
        ft_word_ngrams(c, &t, emit_push, &d->ng);
        d->tok_ptr[i + 1] = d->tok.n;
        d->ng_ptr[i + 1] = d->ng.n;
    }
    free(ngram);
    tokens_free(&t);
}

static void dict_free(struct dict *d)
{
    hashmap_free(&d->index);
    free(d->count.v);
    free(d->sub_ptr);
    free(d->sub.v);
    free(d->tok_ptr);
    free(d->ng_ptr);
    free(d->tok.v);
    free(d->ng.v);
}

/* Rows for the kept words (row 1.. in order of first appearance), then for
 * each bucket at its first use; d->sub and d->ng are rewritten from buckets
 * to rows and each entry's list gains its word row in front. */
static void assign_rows(struct fasttext *m, struct dict *d, int min_count)
{
    size_t n_entries = d->count.n;
    uint32_t *word = xmalloc((n_entries ? n_entries : 1) * sizeof *word);
    m->n_words = 0;
    for (size_t i = 0; i < n_entries; i++)
        word[i] = d->count.v[i] >= (uint32_t)min_count ? (uint32_t)++m->n_words : UINT32_MAX;
    for (size_t i = 0; i < d->index.cap; i++) {
        const struct hashmap_slot *s = &d->index.slots[i];
        if (s->key && word[s->value] != UINT32_MAX)
            hashmap_upsert(&m->vocab, s->key, s->key_len, (intptr_t)word[s->value], NULL);
    }
    struct u32vec ids = {0};
    uint32_t next = (uint32_t)(1 + m->n_words);
    struct u32vec *lists[] = {&d->sub, &d->ng};
    for (size_t l = 0; l < 2; l++) {
        for (size_t k = 0; k < lists[l]->n; k++) {
            int added;
            uint32_t b = lists[l]->v[k];
            lists[l]->v[k] = ft_rowmap_put(&m->buckets, b, next, &added);
            if (added) u32_push(&ids, b), next++;
        }
    }
    m->bucket_ids = ids.v;
    m->n_rows = next;
    /* each entry's rows: its word row (when kept), then its char n-grams */
    struct u32vec rows = {0};
    size_t *ptr = xmalloc((n_entries + 1) * sizeof *ptr);
    ptr[0] = 0;
    for (size_t i = 0; i < n_entries; i++) {
        if (word[i] != UINT32_MAX) u32_push(&rows, word[i]);
        for (size_t k = d->sub_ptr[i]; k < d->sub_ptr[i + 1]; k++)
            u32_push(&rows, d->sub.v[k]);
        ptr[i + 1] = rows.n;
    }
    free(d->sub.v);
    free(d->sub_ptr);
    d->sub = rows;
    d->sub_ptr = ptr;
    free(word);
}

/* ---- SGD ------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct sgd {
    const struct fasttext_config *c;
    struct fasttext *m;
    const struct dict *d;
    const int *labels;
    const uint32_t *order;
    size_t n, max_rows;
};

struct sgd_thread {
    const struct sgd *g;
    size_t start, steps;
    pthread_t th;
};

/* The rows of text i: each token's list, its word n-grams, the common row. */
static size_t gather(const struct dict *d, size_t i, uint32_t *rows)
{
    size_t n = 0;
    for (size_t k = d->tok_ptr[i]; k < d->tok_ptr[i + 1]; k++) {
        uint32_t e = d->tok.v[k];
        for (size_t r = d->sub_ptr[e]; r < d->sub_ptr[e + 1]; r++)
            rows[n++] = d->sub.v[r];
    }
    for (size_t r = d->ng_ptr[i]; r < d->ng_ptr[i + 1]; r++)
        rows[n++] = d->ng.v[r];
    rows[n++] = 0;
    return n;
}

/* One example: mean of its rows, class probabilities, then the gradient of
 * the log loss pushed into the output rows and, shared out, the input rows. */
static void sgd_step(const struct sgd *g, size_t ex, float lr, uint32_t *rows, float *h,
                     float *grad, double *p)
{
    struct fasttext *m = g->m;
    const size_t dim = (size_t)g->c->dim;
    size_t nr = gather(g->d, ex, rows);
    memset(h, 0, dim * sizeof *h);
    for (size_t k = 0; k < nr; k++) {
        const float *v = m->in + rows[k] * dim;
        for (size_t j = 0; j < dim; j++)
            h[j] += v[j];
    }
    const float inv = 1.0f / (float)nr;
    for (size_t j = 0; j < dim; j++)
        h[j] *= inv;
    ft_scores(m->out, h, (int)dim, m->n_labels, p);
    if (g->c->loss == FASTTEXT_SOFTMAX) {
        ft_probabilities(FASTTEXT_SOFTMAX, p, m->n_labels);
    } else { /* one-vs-all: each class its own logistic regression */
        for (size_t c = 0; c < m->n_labels; c++)
            p[c] = 1.0 / (1.0 + exp(-p[c]));
    }
    memset(grad, 0, dim * sizeof *grad);
    for (size_t c = 0; c < m->n_labels; c++) {
        float alpha = lr * (float)(((int)c == g->labels[ex]) - p[c]);
        float *w = m->out + c * dim;
        for (size_t j = 0; j < dim; j++) {
            grad[j] += alpha * w[j];
            w[j] += alpha * h[j];
        }
    }
    for (size_t j = 0; j < dim; j++)
        grad[j] *= inv;
    for (size_t k = 0; k < nr; k++) {
        float *v = m->in + rows[k] * dim;
        for (size_t j = 0; j < dim; j++)
            v[j] += grad[j];
    }
}

static void *sgd_run(void *arg)
{
    const struct sgd_thread *t = arg;
    const struct sgd *g = t->g;
    const size_t dim = (size_t)g->c->dim;
    uint32_t *rows = xmalloc(g->max_rows * sizeof *rows);
    float *h = xmalloc(2 * dim * sizeof *h);
    double *p = xmalloc(g->m->n_labels * sizeof *p);
    for (size_t s = 0; s < t->steps; s++) {
        float lr = (float)(g->c->lr * (1.0 - (double)s / (double)t->steps));
        sgd_step(g, g->order[(t->start + s) % g->n], lr, rows, h, h + dim, p);
    }
    free(rows);
    free(h);
    free(p);
    return NULL;
}

static size_t thread_count(const struct fasttext_config *c, size_t n)
{
    long k = c->thread;
    if (k <= 0) k = sysconf(_SC_NPROCESSORS_ONLN);
    if (k < 1) k = 1;
    if (k > FASTTEXT_MAX_THREADS) k = FASTTEXT_MAX_THREADS;
    return (size_t)k < n ? (size_t)k : n;
}

static int sgd_train(const struct sgd *g, struct err *e)
{
    size_t k = thread_count(g->c, g->n), total = (size_t)g->c->epoch * g->n;
    struct sgd_thread *ts = xcalloc(k, sizeof *ts);
    size_t started = 0;
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        ts[i] = (struct sgd_thread){
            .g = g, .start = i * g->n / k, .steps = total / k + (i < total % k)};
        if (i == 0) continue; /* the calling thread runs slice 0 */
        if (pthread_create(&ts[i].th, NULL, sgd_run, &ts[i]) != 0) {
            rc = err_set(e, ERR_INTERNAL, "cannot start training thread %zu of %zu", i + 1, k);
            break;
        }
        started++;
    }
    if (rc == 0) sgd_run(&ts[0]);
    for (size_t i = 1; i <= started; i++)
        pthread_join(ts[i].th, NULL);
    free(ts);
    return rc;
}

/* ---- entry point ----------------------------------------------------------- */

static int check_labels(const int *labels, size_t n, size_t n_labels, struct err *e)
{
    int first = n ? labels[0] : -1, other = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= n_labels)
            return err_set(e, ERR_INVALID, "example %zu: label index %d out of range", i,
                           labels[i]);
        other |= labels[i] != first;
    }
    if (!other)
        return err_set(e, ERR_INVALID,
                       "training data has %d distinct label(s); at least 2 are needed", n ? 1 : 0);
    return 0;
}

struct fasttext *fasttext_train(const struct fasttext_config *c, const char *const *texts,
                                const int *labels, size_t n, size_t n_labels, struct err *e)
{
    if (check_labels(labels, n, n_labels, e)) return NULL;
    if (n > UINT32_MAX) {
        err_set(e, ERR_LIMIT, "%zu examples: fasttext trains on at most %u", n, UINT32_MAX);
        return NULL;
    }
    struct fasttext *m = xcalloc(1, sizeof *m);
    m->cfg = *c;
    m->n_labels = n_labels;
    hashmap_init(&m->vocab);
    ft_rowmap_init(&m->buckets);
    struct dict d;
    memset(&d, 0, sizeof d);
    dict_scan(&d, c, texts, n);
    if (d.count.n + d.sub.n + d.ng.n + 1 >= UINT32_MAX) {
        err_set(e, ERR_LIMIT, "too many distinct words and n-grams for one fasttext model");
        dict_free(&d);
        fasttext_free(m);
        return NULL;
    }
    assign_rows(m, &d, c->min_count);

    const size_t dim = (size_t)c->dim;
    m->in = xmalloc(m->n_rows * dim * sizeof *m->in);
    m->out = xcalloc(n_labels * dim, sizeof *m->out);
    uint64_t rng = (uint64_t)c->seed;
    for (size_t i = 0; i < m->n_rows * dim; i++) /* uniform in (-1/dim, 1/dim) */
        m->in[i] = (float)(((double)(splitmix(&rng) >> 11) * 0x1p-53 * 2.0 - 1.0) / (double)dim);
    uint32_t *order = xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates, so sorted input trains as well */
        size_t j = (size_t)(splitmix(&rng) % i);
        uint32_t tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    size_t max_rows = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = d.ng_ptr[i + 1] - d.ng_ptr[i] + 1;
        for (size_t k = d.tok_ptr[i]; k < d.tok_ptr[i + 1]; k++)
            r += d.sub_ptr[d.tok.v[k] + 1] - d.sub_ptr[d.tok.v[k]];
        if (r > max_rows) max_rows = r;
    }
    struct sgd g = {c, m, &d, labels, order, n, max_rows};
    int rc = sgd_train(&g, e);
    free(order);
    dict_free(&d);
    if (rc) {
        fasttext_free(m);
        return NULL;
    }
    return m;
}
