/* Walks code points with the UTF-8 lead byte alone: the input comes from
 * the tokenizer, which only writes valid UTF-8. */
#include "text/char_ngrams.h"

static size_t cp_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

/* Byte offset after k code points from `at`, or len when the word ends first;
 * *got says how many were there. */
static size_t advance(const char *s, size_t len, size_t at, int k, int *got)
{
    int i = 0;
    for (; i < k && at < len; i++)
        at += cp_len((unsigned char)s[at]);
    *got = i;
    return at < len ? at : len;
}

void char_ngrams_wb(const char *padded, size_t len, int nmin, int nmax, char_ngram_fn emit,
                    void *ctx)
{
    for (int n = nmin; n <= nmax; n++) {
        int got;
        size_t start = 0, end = advance(padded, len, 0, n, &got);
        emit(ctx, 0, end);
        if (end >= len) return; /* the whole padded word: counted once, no longer n-grams */
        while (end < len) {
            start += cp_len((unsigned char)padded[start]);
            end += cp_len((unsigned char)padded[end]);
            emit(ctx, start, end - start);
        }
    }
}
