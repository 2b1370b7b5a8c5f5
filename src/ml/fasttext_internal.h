/* What the fasttext files share among themselves (fasttext.c: features,
 * prediction, artifact; fasttext_train.c: dictionary and SGD;
 * fasttext_config.c: the `model:` keys). Not for other modules. */
#ifndef BOUCLE_ML_FASTTEXT_INTERNAL_H
#define BOUCLE_ML_FASTTEXT_INTERNAL_H

#include "base/hashmap.h"
#include "ml/fasttext.h"

#include <stddef.h>
#include <stdint.h>

/* Bucket id -> embedding row, open addressing over keys id + 1 (0 = empty).
 * Read-only once training is done, so lookups need no lock. */
struct ft_rowmap {
    uint32_t *keys, *rows;
    size_t cap, count; /* cap: a power of two, at most half full */
};

void ft_rowmap_init(struct ft_rowmap *m);
void ft_rowmap_free(struct ft_rowmap *m);
/* The row of bucket id, or UINT32_MAX when absent. */
uint32_t ft_rowmap_get(const struct ft_rowmap *m, uint32_t id);
/* The row of bucket id, giving it `row` when absent; *added says which. */
uint32_t ft_rowmap_put(struct ft_rowmap *m, uint32_t id, uint32_t row, int *added);

/* Rows: 0 is the row every text has (as fastText's end-of-line word), then
 * 1..n_words the vocabulary in training order, then the kept buckets. */
struct fasttext {
    struct fasttext_config cfg; /* only the feature settings and dim matter once trained */
    size_t n_labels, n_words, n_rows;
    struct hashmap vocab; /* token -> row */
    struct ft_rowmap buckets;
    uint32_t *bucket_ids; /* the kept bucket of row 1 + n_words + i */
    float *in;            /* n_rows x dim */
    float *out;           /* n_labels x dim */
};

/* A hashed n-gram: bucket is its hash modulo cfg->bucket; the n-gram spans
 * tokens first .. first + n_tok - 1 (one token for a char n-gram). */
typedef void (*ft_emit_fn)(void *ctx, uint32_t bucket, size_t first, size_t n_tok);

/* The char n-grams of token i of t ("<" token ">", lengths minn..maxn code
 * points, the lone "<" and ">" left out). buf holds len + 2 bytes. */
void ft_char_ngrams(const struct fasttext_config *c, const struct tokens *t, size_t i,
                    unsigned char *buf, ft_emit_fn emit, void *ctx);
/* The word n-grams of t of 2..word_ngrams tokens, hashed over their
 * space-joined bytes. */
void ft_word_ngrams(const struct fasttext_config *c, const struct tokens *t, ft_emit_fn emit,
                    void *ctx);

/* scores[c] = out[c] . h, then probabilities (softmax, or sigmoids scaled
 * to sum 1 for one-vs-all) in place. */
void ft_scores(const float *out, const float *h, int dim, size_t n_labels, double *scores);
void ft_probabilities(enum fasttext_loss loss, double *scores, size_t n_labels);

#endif
