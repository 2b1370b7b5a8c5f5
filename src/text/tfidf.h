/* TF-IDF over word n-grams, computed as scikit-learn's TfidfVectorizer with
 * norm='l2', smooth_idf=True (idf = ln((1+n)/(1+df)) + 1), optional sublinear
 * tf (1 + ln tf), min_df / max_df / max_features pruning, and feature ids in
 * the byte order of the terms (as sklearn sorts its vocabulary). An n-gram is
 * its tokens joined by one space. */
#ifndef BOUCLE_TEXT_TFIDF_H
#define BOUCLE_TEXT_TFIDF_H

#include "base/err.h"
#include "base/hashmap.h"
#include "base/mem.h"
#include "text/tokenize.h"

#include <stddef.h>
#include <stdint.h>

#define TFIDF_MAX_NGRAM 8

struct tfidf_config {
    int ngram_min, ngram_max; /* 1 <= min <= max <= TFIDF_MAX_NGRAM */
    int min_df;               /* keep terms in at least this many texts */
    double max_df;            /* keep terms in at most this share of texts */
    int sublinear_tf;
    size_t max_features; /* 0 = all; else the most frequent over the corpus */
};

struct tfidf {
    struct tfidf_config cfg;
    size_t n_features;
    struct hashmap vocab; /* term bytes -> feature id */
    char *terms;          /* all terms, each NUL-terminated, in feature order */
    size_t terms_len;
    uint32_t *term_off; /* n_features offsets into terms */
    double *idf;        /* n_features */
};

/* One sparse, L2-normalised row: indices ascending. Also the reusable
 * per-caller scratch of tfidf_transform (holds its token buffers). */
struct tfidf_vec {
    uint32_t *idx;
    double *val;
    size_t n, cap;
    struct tokens toks;
};

/* The training texts as a CSR matrix (row i = idx/val[row_ptr[i], row_ptr[i+1])). */
struct tfidf_matrix {
    size_t n_rows;
    size_t *row_ptr; /* n_rows + 1 */
    uint32_t *idx;
    double *val;
};

void tfidf_config_defaults(struct tfidf_config *c); /* 1..2, min_df 2, max_df 1, sublinear */
/* Checks the ranges above; errors name the offending setting. */
int tfidf_config_check(const struct tfidf_config *c, struct err *e);

/* Learns vocabulary and idf from n texts (lens may be NULL: NUL-terminated).
 * When x is not NULL it also receives the transformed training texts, which
 * costs no second tokenisation. Fails (ERR_INVALID) when pruning leaves no
 * term or max_df and min_df contradict each other. */
int tfidf_fit(struct tfidf *v, const struct tfidf_config *cfg, const char *const *texts,
              const size_t *lens, size_t n, struct tfidf_matrix *x, struct err *e);

void tfidf_vec_init(struct tfidf_vec *out);
void tfidf_vec_free(struct tfidf_vec *out);
/* Featurises one text into out (reused: no allocation once grown). */
void tfidf_transform(const struct tfidf *v, const char *text, size_t len, struct tfidf_vec *out);

const char *tfidf_term(const struct tfidf *v, size_t feature);
/* Feature id of a term, or -1. */
long tfidf_lookup(const struct tfidf *v, const char *term, size_t len);

/* Artifact section: settings, then each term with its idf, in feature order. */
void tfidf_save(const struct tfidf *v, struct buf *out);
/* Reads what tfidf_save wrote; ERR_CORRUPT on anything inconsistent. */
int tfidf_load(struct tfidf *v, struct reader *r, struct err *e);

void tfidf_free(struct tfidf *v);
void tfidf_matrix_free(struct tfidf_matrix *x);

#endif
