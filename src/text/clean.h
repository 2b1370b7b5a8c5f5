/* Data preparation of text: the `clean:` steps of a task (base/config.h,
 * struct clean_config) applied to one input's text fields, and the join of
 * those fields into the one text a model sees.
 *
 * The same code prepares training rows and served requests, so both see the
 * same text. It is built for the predict path: no locks, no global state,
 * no disk; the caller owns reusable buffers (struct clean_scratch), so once
 * they have grown to the largest text seen, cleaning allocates nothing.
 * Only the text steps (strip_html, strip_code, scrub_pii,
 * normalize_whitespace) rewrite text; drop_empty and dedupe are decisions
 * about rows of training data (data/prepare.h) and are skipped here. */
#ifndef BOUCLE_TEXT_CLEAN_H
#define BOUCLE_TEXT_CLEAN_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"

#include <stddef.h>

/* What scrub_pii puts in place of what it finds; the tokenizer keeps each
 * one as a single token ("<email>"), apart from the word "email". */
#define CLEAN_TOKEN_EMAIL "<EMAIL>"
#define CLEAN_TOKEN_PHONE "<PHONE>"
#define CLEAN_TOKEN_IBAN "<IBAN>"
#define CLEAN_TOKEN_CARD "<CARD>"
#define CLEAN_TOKEN_IP "<IP>"

/* Two buffers the text steps write into in turn. */
struct clean_scratch {
    struct buf a, b;
};
void clean_scratch_init(struct clean_scratch *s);
void clean_scratch_free(struct clean_scratch *s);

/* 1 for the steps that rewrite text, 0 for the row filters. */
int clean_step_rewrites(enum clean_step step);

/* Appends the result of one text step over s[0, len) to out (a row filter
 * appends s unchanged). Input must be valid UTF-8; so is the output. */
void clean_step_apply(enum clean_step step, const char *s, size_t len, struct buf *out);

/* Runs the text steps among c->steps[from, to) over one field, in order.
 * Returns the result (s itself when nothing ran, else inside sc, valid
 * until sc is used again) and its length in *out_len; ORs (1u << step) into
 * *changed for every step that changed the text. */
const char *clean_field(const struct clean_config *c, size_t from, size_t to, const char *s,
                        size_t len, struct clean_scratch *sc, size_t *out_len, unsigned *changed);

/* The model text of one input: every field through all text steps, the
 * results joined with c->separator, replacing out's contents. `changed` as
 * above (may be NULL). */
void clean_input(const struct clean_config *c, const char *const *values, const size_t *lens,
                 size_t n, struct clean_scratch *sc, struct buf *out, unsigned *changed);

/* Nothing but whitespace (as normalize_whitespace counts it): what drop_empty drops. */
int clean_is_blank(const char *s, size_t len);

/* The artifact form (ml/model.c): u32 step count, u32 per step, str separator. */
void clean_config_save(const struct clean_config *c, struct buf *out);
/* Checks what it reads (known steps, none twice, separator size); ERR_CORRUPT otherwise. */
int clean_config_load(struct clean_config *c, struct reader *r, struct err *e);
/* No steps and the "\n" separator: what every model before cleaning existed did. */
int clean_config_is_default(const struct clean_config *c);

#endif
