/* TF-IDF over word n-grams and/or char n-grams within word bounds, computed
 * as scikit-learn's TfidfVectorizer with norm='l2', smooth_idf=True
 * (idf = ln((1+n)/(1+df)) + 1), optional sublinear tf (1 + ln tf),
 * min_df / max_df / max_features pruning, and feature ids in the byte order
 * of the terms (as sklearn sorts its vocabulary). A word n-gram is its
 * tokens joined by one space; a char n-gram is a run of code points of a
 * token padded with one space each side (analyzer 'char_wb'); with both
 * analyzers a char n-gram is written in brackets ("[ ru]") so that it never
 * equals a word n-gram. Optional: stop words and Snowball stemming of the
 * tokens before either analyzer, '!' and '?' kept as tokens, and the
 * hashing trick (terms hashed into 2^bits buckets, no vocabulary kept). */
#ifndef BOUCLE_TEXT_TFIDF_H
#define BOUCLE_TEXT_TFIDF_H

#include "base/err.h"
#include "base/hashmap.h"
#include "base/mem.h"
#include "text/stopwords.h"
#include "text/tokenize.h"

#include <stddef.h>
#include <stdint.h>

#define TFIDF_MAX_NGRAM 8
#define TFIDF_MAX_CHAR_NGRAM 16
#define TFIDF_MIN_HASH_BITS 8
#define TFIDF_MAX_HASH_BITS 22

/* Stored in artifacts: never renumber. */
enum tfidf_analyzer { TFIDF_WORD = 0, TFIDF_CHAR_WB = 1, TFIDF_BOTH = 2 };

struct tfidf_config {
    int ngram_min, ngram_max; /* 1 <= min <= max <= TFIDF_MAX_NGRAM */
    int min_df;               /* keep terms in at least this many texts */
    double max_df;            /* keep terms in at most this share of texts */
    int sublinear_tf;
    size_t max_features; /* 0 = all; else the most frequent over the corpus */
    /* The options below are artifact format 6; their defaults are what
     * older models did (word n-grams, vocabulary, no stop words...). */
    int analyzer;           /* enum tfidf_analyzer, default TFIDF_WORD */
    int char_min, char_max; /* char_wb n-gram sizes in code points, default 2..5 */
    int hashing_bits;       /* 0: vocabulary (default); else 2^bits hashed buckets */
    int stop_words;         /* enum text_lang: tokens removed before the n-grams */
    int stemming;           /* enum text_lang: Snowball stem of each token */
    int keep_punct;         /* '!' and '?' are tokens (TOKENIZE_KEEP_PUNCT), default 1 */
    int split_urls;         /* URLs read as their words (TOKENIZE_SPLIT_URLS) */
};

/* Whether c uses any option of format 6 (else it is saved as before). */
int tfidf_config_is_extended(const struct tfidf_config *c);

struct tfidf {
    struct tfidf_config cfg;
    size_t n_features;
    struct hashmap vocab; /* term bytes -> feature id */
    char *terms;          /* all terms, each NUL-terminated, in feature order */
    size_t terms_len;
    uint32_t *term_off; /* n_features offsets into terms */
    double *idf;        /* n_features */
    /* hashing (cfg.hashing_bits > 0): no vocab nor terms; feature f is the
     * kept bucket bucket_of[f] (ascending), feature_of[bucket] its feature
     * or UINT32_MAX for a bucket dropped by min_df/max_df/max_features */
    uint32_t *bucket_of, *feature_of;
};

/* The terms of one text, as the featuriser reads it: tokens, stop words
 * and stems applied, then word and/or char n-grams. Reusable scratch: no
 * allocation once its buffers have grown. */
struct tfidf_terms {
    struct tokens toks;         /* the tokenizer's output */
    struct tokens kept;         /* after stop words and stemming (when either is on) */
    struct buf chars;           /* padded words, or bracketed char n-grams */
    struct buf pad;             /* padded words when chars holds brackets */
    uint32_t *off, *len;        /* term i: off[i] into the words' text, or with */
    size_t n, cap;              /* TFIDF_TERM_CHARS set, into chars */
    const struct tokens *words; /* toks or kept */
};
#define TFIDF_TERM_CHARS 0x80000000u

void tfidf_terms_init(struct tfidf_terms *a);
void tfidf_terms_free(struct tfidf_terms *a);
/* Fills a with the terms of text (in order, repeats kept); returns their count. */
size_t tfidf_analyze(const struct tfidf_config *c, const char *text, size_t len,
                     struct tfidf_terms *a);
static inline const char *tfidf_terms_at(const struct tfidf_terms *a, size_t i, size_t *len)
{
    *len = a->len[i];
    uint32_t o = a->off[i];
    return o & TFIDF_TERM_CHARS ? a->chars.data + (o & ~TFIDF_TERM_CHARS) : a->words->text.data + o;
}

/* The hash of a term: the hashing trick's bucket is its low bits. Stored
 * models depend on it: never change it. */
uint64_t tfidf_hash(const char *s, size_t len);

/* One sparse, L2-normalised row: indices ascending. Also the reusable
 * per-caller scratch of tfidf_transform (holds its token buffers). */
struct tfidf_vec {
    uint32_t *idx;
    double *val;
    size_t n, cap;
    uint32_t *tmp; /* cap more: the sort's scratch */
    struct tfidf_terms terms;
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

/* A feature's term, or NULL (always NULL with hashing: see tfidf_name). */
const char *tfidf_term(const struct tfidf *v, size_t feature);
/* A feature's name for an explanation: its term; with hashing, the terms
 * of `text` that fell into its bucket (joined by " | "), or "bucket N"
 * when none did. Writes at most cap bytes (NUL included) to out. */
void tfidf_name(const struct tfidf *v, const char *text, size_t len, size_t feature,
                struct tfidf_terms *scratch, char *out, size_t cap);
/* Feature id of a term, or -1. */
long tfidf_lookup(const struct tfidf *v, const char *term, size_t len);

/* Artifact section: settings, then each term with its idf, in feature
 * order. extended (format 6): the settings are followed by the options of
 * format 6, and with hashing each feature is its bucket and idf. Not
 * extended: the options are their old defaults, keep_punct off included. */
void tfidf_save(const struct tfidf *v, int extended, struct buf *out);
/* Reads what tfidf_save wrote; ERR_CORRUPT on anything inconsistent. */
int tfidf_load(struct tfidf *v, int extended, struct reader *r, struct err *e);

void tfidf_free(struct tfidf *v);
void tfidf_matrix_free(struct tfidf_matrix *x);

#endif
