/* The word tokenizer shared by training and prediction: NFKC normalisation
 * and Unicode case folding, then tokens = runs of letters, digits, marks, '_'
 * and in-word apostrophes; @mentions and #hashtags keep their sigil; each
 * symbol/emoji is its own token; http(s) URLs collapse to "<url>"; the
 * placeholders of scrub_pii ("<EMAIL>", "<PHONE>"...) are one token each.
 * It writes into a caller-owned, reusable struct tokens so the hot path does
 * not allocate once the buffers have grown to the largest text seen. */
#ifndef BOUCLE_TEXT_TOKENIZE_H
#define BOUCLE_TEXT_TOKENIZE_H

#include "base/mem.h"

#include <stddef.h>
#include <stdint.h>

/* The token every http:// or https:// URL becomes. */
#define TOKENIZE_URL "<url>"

struct tokens {
    /* Folded UTF-8 of all tokens, separated by one space and NUL-terminated,
     * so tokens i..j (j >= i) are the contiguous bytes text.data + off[i]
     * up to off[j] + len[j]: that is exactly their space-joined n-gram. */
    struct buf text;
    uint32_t *off, *len;
    size_t n, cap;
    /* scratch: the normalised code points of the current input */
    int32_t *cps;
    size_t cps_cap;
};

void tokens_init(struct tokens *t);
void tokens_free(struct tokens *t);

/* Tokenises len bytes of s (need not be NUL-terminated, need not be valid
 * UTF-8: invalid bytes act as separators). Replaces t's previous content;
 * returns the token count. */
size_t tokenize(const char *s, size_t len, struct tokens *t);

/* Options of tokenize_ex (or-ed). TOKENIZE_KEEP_PUNCT: each '!' and '?'
 * (and the fullwidth and inverted forms NFKC leaves) is a token of its own
 * instead of a separator: they carry sentiment ("late again!!") that a
 * model otherwise never sees. */
#define TOKENIZE_KEEP_PUNCT 1u
/* TOKENIZE_SPLIT_URLS: a URL is read as the words it is made of ("http",
 * "example", "com", "offer"...) instead of the one token "<url>": on raw
 * e-mail the hosts and paths are what tells spam apart. */
#define TOKENIZE_SPLIT_URLS 2u
size_t tokenize_ex(const char *s, size_t len, unsigned flags, struct tokens *t);

/* Appends the token w (len bytes) to t, as tokenize writes one: for the
 * steps that rewrite tokens (stop words, stemming). */
void tokens_append(struct tokens *t, const char *w, size_t len);

/* Token i as a pointer and length into t->text. */
static inline const char *tokens_at(const struct tokens *t, size_t i, size_t *len)
{
    *len = t->len[i];
    return t->text.data + t->off[i];
}

#endif
