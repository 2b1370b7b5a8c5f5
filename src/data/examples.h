/* Turning a table into a task's labeled examples: validation against the
 * task config, stratified split and the content hash that identifies a
 * dataset version. */
#ifndef BOUCLE_DATA_EXAMPLES_H
#define BOUCLE_DATA_EXAMPLES_H

#include "base/arena.h"
#include "base/config.h"
#include "base/err.h"
#include "data/table.h"

#include <stddef.h>
#include <stdint.h>

enum split { SPLIT_TRAIN = 0, SPLIT_TEST = 1 };

struct example {
    const char *input_json; /* {"field": "value", ...}: the task's text fields, compact JSON;
                               null for a cell the file left out */
    const char *text;       /* the text fields joined by "\n", before cleaning */
    const char *label;      /* multilabel: the canonical label set (data/labelset.h) */
    size_t line;            /* source line */
    enum split split;
};

struct examples {
    size_t n;
    struct example *items;
    struct arena arena;
};

/* Checks every row: a text or label column missing from the header, an empty
 * label, invalid UTF-8, a field over max_field_bytes. The first error names
 * the line and column ("line 12, column 'airline_sentiment': empty label").
 * All-or-nothing: on error `out` holds nothing. */
int examples_from_table(const struct table *t, const struct task_config *task,
                        size_t max_field_bytes, struct examples *out, struct err *e);
/* Stratified by label with a fixed seed: about `test_fraction` of each
 * label's rows (at least one when a label has 2+ rows) get SPLIT_TEST. */
void examples_split_stratified(struct examples *ex, double test_fraction, uint64_t seed);
/* The same for a multilabel task's label sets (data/labelset.h): each
 * label keeps about its share of rows on both sides. */
void examples_split_multilabel(struct examples *ex, double test_fraction, uint64_t seed);
void examples_set_split(struct examples *ex, enum split split);
/* SHA-256 over the rows' input and label, in order (not the split: importing the
 * same file again is recognised whatever split it would get): the dataset's identity. */
void examples_content_hash(const struct examples *ex, char out[65]);
void examples_free(struct examples *ex);

#endif
