/* What the featuriser reads of a text: tokens, then stop words and stems,
 * then word and/or char n-grams. Word n-grams point into the tokens' text
 * (tokens i..j are contiguous there), so the default analyzer copies no
 * bytes; char n-grams point into the padded copy of each word. */
#include "text/char_ngrams.h"
#include "text/stem.h"
#include "text/tfidf.h"

#include <stdlib.h>
#include <string.h>

void tfidf_terms_init(struct tfidf_terms *a)
{
    memset(a, 0, sizeof *a);
    tokens_init(&a->toks);
    tokens_init(&a->kept);
    buf_init(&a->chars);
    buf_init(&a->pad);
    a->words = &a->toks;
}

void tfidf_terms_free(struct tfidf_terms *a)
{
    tokens_free(&a->toks);
    tokens_free(&a->kept);
    buf_free(&a->chars);
    buf_free(&a->pad);
    free(a->off);
    free(a->len);
    memset(a, 0, sizeof *a);
}

static void reserve(struct tfidf_terms *a, size_t more)
{
    if (a->n + more <= a->cap) return;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->n + more)
        cap *= 2;
    a->off = xrealloc(a->off, cap * sizeof *a->off);
    a->len = xrealloc(a->len, cap * sizeof *a->len);
    a->cap = cap;
}

static inline void push(struct tfidf_terms *a, uint32_t off, size_t len)
{
    a->off[a->n] = off;
    a->len[a->n] = (uint32_t)len;
    a->n++;
}

/* The tokens without stop words, each stemmed, written to a->kept. */
static void filter_tokens(const struct tfidf_config *c, struct tfidf_terms *a)
{
    struct tokens *k = &a->kept;
    buf_reset(&k->text);
    buf_reserve(&k->text, a->toks.text.len + 1);
    k->text.data[0] = '\0';
    k->n = 0;
    enum text_lang elide = c->stop_words == TEXT_LANG_FRENCH || c->stemming == TEXT_LANG_FRENCH
                               ? TEXT_LANG_FRENCH
                               : TEXT_LANG_NONE;
    for (size_t i = 0; i < a->toks.n; i++) {
        size_t len;
        const char *w = tokens_at(&a->toks, i, &len);
        size_t cut = stopword_elision(elide, w, len);
        w += cut;
        len -= cut;
        if (stopword_is((enum text_lang)c->stop_words, w, len)) continue;
        if (c->stemming) w = stem_word((enum text_lang)c->stemming, w, len, &len);
        if (len) tokens_append(k, w, len);
    }
}

struct char_ctx {
    struct tfidf_terms *a;
    const char *src; /* the padded words */
    size_t base;     /* the current padded word's offset in src */
    int brackets;    /* both analyzers: copy "[ngram]" into a->chars */
};

static void on_char_ngram(void *p, size_t from, size_t len)
{
    struct char_ctx *x = p;
    struct tfidf_terms *a = x->a;
    reserve(a, 1);
    if (!x->brackets) {
        push(a, (uint32_t)(x->base + from) | TFIDF_TERM_CHARS, len);
        return;
    }
    size_t at = a->chars.len;
    buf_reserve(&a->chars, len + 2);
    buf_append_char(&a->chars, '[');
    buf_append(&a->chars, x->src + x->base + from, len);
    buf_append_char(&a->chars, ']');
    push(a, (uint32_t)at | TFIDF_TERM_CHARS, len + 2);
}

/* The padded words go to a->chars, where the terms point, or with
 * brackets to a->pad, which does not move while a->chars grows. */
static void char_terms(const struct tfidf_config *c, struct tfidf_terms *a)
{
    const struct tokens *t = a->words;
    int brackets = c->analyzer == TFIDF_BOTH;
    struct buf *pad = brackets ? &a->pad : &a->chars;
    buf_reset(&a->chars);
    buf_reset(pad);
    buf_reserve(pad, t->text.len + 2 * t->n + 1);
    for (size_t i = 0; i < t->n; i++) {
        size_t len;
        const char *w = tokens_at(t, i, &len);
        buf_append_char(pad, ' ');
        buf_append(pad, w, len);
        buf_append_char(pad, ' ');
    }
    struct char_ctx x = {a, pad->data, 0, brackets};
    for (size_t i = 0; i < t->n; i++) {
        size_t plen = t->len[i] + 2;
        char_ngrams_wb(pad->data + x.base, plen, c->char_min, c->char_max, on_char_ngram, &x);
        x.base += plen;
    }
}

size_t tfidf_analyze(const struct tfidf_config *c, const char *text, size_t len,
                     struct tfidf_terms *a)
{
    unsigned flags =
        (c->keep_punct ? TOKENIZE_KEEP_PUNCT : 0u) | (c->split_urls ? TOKENIZE_SPLIT_URLS : 0u);
    tokenize_ex(text, len, flags, &a->toks);
    a->words = &a->toks;
    if (c->stop_words || c->stemming) {
        filter_tokens(c, a);
        a->words = &a->kept;
    }
    const struct tokens *t = a->words;
    size_t nt = t->n;
    a->n = 0;
    if (c->analyzer != TFIDF_CHAR_WB) {
        size_t kmax = (size_t)c->ngram_max;
        reserve(a, nt * (kmax - (size_t)c->ngram_min + 1) + 1);
        for (size_t k = (size_t)c->ngram_min; k <= kmax && k <= nt; k++)
            for (size_t i = 0; i + k <= nt; i++)
                push(a, t->off[i], t->off[i + k - 1] + t->len[i + k - 1] - t->off[i]);
    }
    if (c->analyzer != TFIDF_WORD) char_terms(c, a);
    return a->n;
}
