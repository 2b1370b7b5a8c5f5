/* The text steps of text/clean, one file each; only clean.c calls them.
 * Each appends its result over s[0, len) (valid UTF-8) to out. */
#ifndef BOUCLE_TEXT_CLEAN_INTERNAL_H
#define BOUCLE_TEXT_CLEAN_INTERNAL_H

#include "base/mem.h"

#include <stddef.h>
#include <stdint.h>

void clean_strip_html(const char *s, size_t len, struct buf *out);      /* clean_html.c */
void clean_strip_code(const char *s, size_t len, struct buf *out);      /* clean_code.c */
void clean_scrub_pii(const char *s, size_t len, struct buf *out);       /* clean_pii.c */
void clean_normalize_space(const char *s, size_t len, struct buf *out); /* clean_space.c */

/* Bytes of the whitespace or invisible character at s[i], 0 when it is neither (clean_space.c). */
size_t clean_space_at(const char *s, size_t len, size_t i);

/* Shared helpers (clean_util.c). */
/* Appends code point cp as UTF-8; an invalid one (surrogate, > U+10FFFF) as U+FFFD. */
void clean_put_utf8(struct buf *out, uint32_t cp);
/* ASCII case-insensitive prefix test of s[i, len) against lower-case `word`. */
int clean_has_word_ci(const char *s, size_t len, size_t i, const char *word);
/* First i >= from where clean_has_word_ci holds; `word` starts with a
 * character that has no case ('<'). Returns len when there is none. */
size_t clean_find_ci(const char *s, size_t len, size_t from, const char *word);

/* Lookup tables for strip_html: element names and entities (clean_html_names.c). */
/* What a tag of an element leaves in the text. */
enum html_kind {
    HTML_INLINE, /* nothing: "<b>bold</b>er" reads "bolder" */
    HTML_SPACE,  /* a space: images, cells, form controls */
    HTML_BLOCK,  /* a line break: paragraphs, list items, rows, headings */
    HTML_RAW     /* the element's content is not text: script, style */
};

struct html_element {
    const char *name;
    unsigned char kind;
};

/* enum html_kind of a known element (any case), or -1. */
int html_element_kind(const char *name, size_t len);
/* The code point of a named entity (without '&' and ';'), or -1. */
long html_entity(const char *name, size_t len);
/* The character a numeric reference &#v; stands for, as browsers decode it. */
uint32_t html_numeric_cp(uint32_t v);

#endif
