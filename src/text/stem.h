/* Snowball stemming (libstemmer) of case-folded UTF-8 tokens, English or
 * French. An sb_stemmer is not thread-safe, so each thread uses its own,
 * created on its first call and freed when the thread ends: no lock and,
 * after that first call, no allocation (libstemmer reuses its buffer). */
#ifndef BOUCLE_TEXT_STEM_H
#define BOUCLE_TEXT_STEM_H

#include "text/stopwords.h"

#include <stddef.h>

/* The stem of w (len bytes) in this thread's buffer, valid until this
 * thread's next stem_word; its length in *out_len. Returns w itself when
 * lang is TEXT_LANG_NONE or the stemmer is unavailable (out of memory). */
const char *stem_word(enum text_lang lang, const char *w, size_t len, size_t *out_len);

/* Frees the calling thread's stemmers now (they are also freed when it
 * exits); the next stem_word creates them again. */
void stem_thread_free(void);

#endif
