/* A task's `clean:` steps over rows of training data: the text steps on
 * every field (text/clean.h), drop_empty and dedupe at their place in the
 * list, and a count of what each step did, for the import and training
 * reports. Rows are fed one at a time, in order ("keep the first"); the
 * preparer says whether to keep each and what its model text is. */
#ifndef BOUCLE_DATA_PREPARE_H
#define BOUCLE_DATA_PREPARE_H

#include "base/config.h"
#include "base/hashmap.h"
#include "base/mem.h"
#include "text/clean.h"

#include <jansson.h>
#include <stddef.h>

struct prepare_report {
    size_t rows, kept;
    size_t changed[CLEAN_N_STEPS]; /* rows a text step changed (in any field) */
    size_t dropped[CLEAN_N_STEPS]; /* rows drop_empty or dedupe removed */
};

struct preparer {
    const struct clean_config *cfg;
    size_t n_fields;
    struct clean_scratch *scratch; /* one per field: a field's text lives there between steps */
    const char **cur;
    size_t *cur_len;
    struct buf text, key;
    struct hashmap seen; /* dedupe: digests of the texts kept so far */
    struct prepare_report report;
};

void preparer_init(struct preparer *p, const struct clean_config *cfg, size_t n_fields);
void preparer_free(struct preparer *p);
/* One row's raw field values (n_fields of them; a NULL value is ""). Returns
 * 1 and the model text in *text / *len (valid until the next call) when the
 * row is kept, 0 when a row step dropped it. */
int preparer_row(struct preparer *p, const char *const *values, const size_t *lens,
                 const char **text, size_t *len);

/* {"rows", "kept", "steps": [{"step": "strip_html", "changed": 12}, {"step": "dedupe",
 * "dropped": 3}, ...]}, the steps in the config's order. */
json_t *prepare_report_json(const struct clean_config *cfg, const struct prepare_report *r);
/* "strip_html changed 12, dedupe dropped 3: 985 of 1000 rows kept" (or "none"). */
void prepare_report_text(const struct clean_config *cfg, const struct prepare_report *r,
                         struct buf *out);

#endif
