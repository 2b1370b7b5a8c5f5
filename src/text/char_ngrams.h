/* Character n-grams within word bounds, as scikit-learn's analyzer='char_wb':
 * the word padded with one space each side, then every run of n code points
 * of it for each n in [nmin, nmax]; a padded word no longer than n is one
 * n-gram by itself and ends the series (sklearn counts a short word once,
 * not once per n). */
#ifndef BOUCLE_TEXT_CHAR_NGRAMS_H
#define BOUCLE_TEXT_CHAR_NGRAMS_H

#include <stddef.h>

/* Called with each n-gram as a byte range [from, from + len) of the padded word. */
typedef void (*char_ngram_fn)(void *ctx, size_t from, size_t len);

/* padded: " word " in valid UTF-8 (the tokenizer's output), len bytes. */
void char_ngrams_wb(const char *padded, size_t len, int nmin, int nmax, char_ngram_fn emit,
                    void *ctx);

#endif
