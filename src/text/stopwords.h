/* Stop words: the common function words of English and French (articles,
 * pronouns, auxiliaries, prepositions, conjunctions), lists written for
 * boucle. They are compared with case-folded tokens, after NFKC, as the
 * tokenizer writes them. */
#ifndef BOUCLE_TEXT_STOPWORDS_H
#define BOUCLE_TEXT_STOPWORDS_H

#include <stddef.h>

/* Languages of stop_words and stemming; 0 = none. The numbers are stored in
 * artifacts: never renumber. */
enum text_lang { TEXT_LANG_NONE = 0, TEXT_LANG_ENGLISH = 1, TEXT_LANG_FRENCH = 2 };

/* "english" or "french" (case-insensitive); TEXT_LANG_NONE for "none" or
 * "false"; -1 for anything else. */
int text_lang_parse(const char *s);
const char *text_lang_name(enum text_lang lang);

/* Whether the token w (len bytes) is a stop word of lang. */
int stopword_is(enum text_lang lang, const char *w, size_t len);

/* French elision: the length of a leading "l'", "d'", "qu'"... of w that
 * the word it is glued to should be read without (0 if none), so that
 * "l'avion" is the word "avion" for stop words and stemming. */
size_t stopword_elision(enum text_lang lang, const char *w, size_t len);

#endif
