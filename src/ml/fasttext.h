/* The `fasttext` model kind, written from the published algorithm (Joulin
 * et al., "Bag of Tricks for Efficient Text Classification", 2016): a text
 * is the average of embedding rows — one per known word, one per hashed char
 * n-gram of each word ("<word>" with boundary marks), one per hashed word
 * n-gram, plus one row every text has — and a linear layer over that average
 * scores the classes (softmax, or one-vs-all sigmoids). Training is SGD with
 * a learning rate falling linearly to zero, over threads that share the
 * weights without locks (hogwild).
 *
 * Words come from boucle's tokenizer, so training and serving cut text the
 * same way. Only the rows that training data touched are kept (a bucket no
 * training n-gram hashed to would hold noise), so `bucket` costs no memory:
 * it only sets how often distinct n-grams share a row. */
#ifndef BOUCLE_ML_FASTTEXT_H
#define BOUCLE_ML_FASTTEXT_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "text/tokenize.h"

#include <stddef.h>
#include <stdint.h>

#define FASTTEXT_MAX_DIM 1024
#define FASTTEXT_MAX_WORD_NGRAMS 8
#define FASTTEXT_MAX_CHAR_NGRAM 16
#define FASTTEXT_MAX_THREADS 64

enum fasttext_loss { FASTTEXT_SOFTMAX, FASTTEXT_OVA };

struct fasttext_config {
    int dim;                 /* embedding size, default 100 */
    int epoch;               /* passes over the data, default 5 */
    double lr;               /* starting learning rate, default 0.1 */
    int word_ngrams;         /* longest word n-gram, default 1 (words only) */
    int minn, maxn;          /* char n-gram lengths in code points; maxn 0 = none (default) */
    int bucket;              /* hash buckets shared by word and char n-grams, default 2000000 */
    int min_count;           /* a word seen fewer times has no row of its own, default 1 */
    int thread;              /* training threads, default 0 = one per online core */
    int seed;                /* initial weights and example order, default 0 */
    enum fasttext_loss loss; /* default softmax */
    int keep_punct;          /* '!' and '?' are tokens (artifact format 6), default 1 */
};

void fasttext_config_defaults(struct fasttext_config *c);
/* Reads the `model:` keys of a fasttext model (kind excluded); an unknown key
 * or a bad value is ERR_INVALID naming model.<key> and its line. */
int fasttext_config_parse(struct fasttext_config *c, const struct config_param *params,
                          size_t n_params, struct err *e);
const char *fasttext_loss_name(enum fasttext_loss loss);

struct fasttext;

/* labels[i] in [0, n_labels); at least two distinct labels must occur.
 * With thread 1 the result depends only on the inputs and the seed. */
struct fasttext *fasttext_train(const struct fasttext_config *c, const char *const *texts,
                                const int *labels, size_t n, size_t n_labels, struct err *e);

size_t fasttext_n_rows(const struct fasttext *m); /* embedding rows kept */

/* A predicting thread's reusable buffers (grown, never shrunk). */
struct fasttext_scratch {
    struct tokens toks;
    float *hidden;
    size_t hidden_cap;
    double *scores;
    size_t scores_cap;
    unsigned char *ngram; /* "<token>" for char n-grams */
    size_t ngram_cap;
};

void fasttext_scratch_init(struct fasttext_scratch *s);
void fasttext_scratch_free(struct fasttext_scratch *s);

/* probs[n_labels] sums to 1; returns the argmax. Reads m only: any number of
 * threads may predict at once, each with its own scratch. */
size_t fasttext_predict(const struct fasttext *m, const char *text, size_t len,
                        struct fasttext_scratch *s, double *probs);

/* Per-token contributions to each class score: contrib[t * n_labels + c] is
 * token t's share of class c's score (its word and char n-gram rows, plus an
 * equal part of each word n-gram it is in); contrib[n_tokens * n_labels + c]
 * is the share of the row every text has. Fills s->toks with the tokens and
 * returns their count; contrib must hold (count + 1) * n_labels values, so
 * call with contrib NULL first to learn the count. */
size_t fasttext_explain(const struct fasttext *m, const char *text, size_t len,
                        struct fasttext_scratch *s, double *contrib);

/* The kind's artifact section: settings, vocabulary, kept buckets, weights.
 * fasttext_load reads exactly what fasttext_save wrote (ERR_CORRUPT on
 * anything out of bounds or inconsistent) and must end the section. */
/* extended (artifact format 6): the settings end with keep_punct. */
void fasttext_save(const struct fasttext *m, int extended, struct buf *out);
struct fasttext *fasttext_load(struct reader *r, size_t n_labels, int extended, struct err *e);
/* Whether m needs artifact format 6 (it keeps '!' and '?'). */
int fasttext_is_extended(const struct fasttext *m);

void fasttext_free(struct fasttext *m);

#endif
