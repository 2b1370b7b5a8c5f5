/* A profile of a task's examples, for `boucle data profile`: rows, the
 * label distribution, and per text field the null, empty and duplicate
 * rates and length quantiles in characters; the same for the model text
 * (the fields joined and cleaned, for the rows training keeps), with what
 * each cleaning step did. Rows are fed one at a time. */
#ifndef BOUCLE_DATA_PROFILE_H
#define BOUCLE_DATA_PROFILE_H

#include "base/config.h"
#include "base/hashmap.h"
#include "data/prepare.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct profile_column {
    size_t rows, nulls, empties, duplicates;
    size_t *lengths; /* characters (code points), one per row */
    size_t cap;
    struct hashmap seen; /* digests of the values met so far */
};

struct profile {
    const struct task_config *task;
    size_t rows;
    struct profile_column *fields; /* task->n_text_fields */
    struct profile_column text;    /* the model text of kept rows */
    struct hashmap labels;         /* label -> count */
    struct preparer prep;
};

void profile_init(struct profile *p, const struct task_config *task);
void profile_free(struct profile *p);
/* One example: its raw field values (bit i of `nulls`: field i was null or
 * absent) and label. */
void profile_add(struct profile *p, const char *const *values, const size_t *lens, uint32_t nulls,
                 const char *label);
/* {"rows", "labels": [{"label","count","share"}...] (most frequent first),
 *  "fields": {name: {"nulls","null_rate","empty","empty_rate","duplicates",
 *  "duplicate_rate","length": {"p5","p50","p95","max"}}}, "text": {... as a
 *  field, over the rows kept}, "cleaning": prepare_report_json}. Sorts the
 *  lengths it holds. */
json_t *profile_json(struct profile *p);

/* Nearest-rank quantile (q in [0, 1]) of n sorted values; 0 when n is 0. */
size_t profile_quantile(const size_t *sorted, size_t n, double q);

#endif
