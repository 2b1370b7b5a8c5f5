/* A profile of a task's examples, for `boucle data profile`: rows, the
 * label distribution, and per text field the null, empty and duplicate
 * rates and length quantiles in characters; the same for the model text
 * (the fields joined and cleaned, for the rows training keeps), with what
 * each cleaning step did. Rows are fed one at a time.
 * (The prefix is data_profile_, not profile_: MIT Kerberos, which libpq
 * loads, exports a profile_init that ours would interpose.) */
#ifndef BOUCLE_DATA_DATA_PROFILE_H
#define BOUCLE_DATA_DATA_PROFILE_H

#include "base/config.h"
#include "base/hashmap.h"
#include "data/prepare.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct data_profile_column {
    size_t rows, nulls, empties, duplicates;
    size_t *lengths; /* characters (code points), one per row */
    size_t cap;
    struct hashmap seen; /* digests of the values met so far */
};

struct data_profile {
    const struct task_config *task;
    size_t rows;
    struct data_profile_column *fields; /* task->n_text_fields */
    struct data_profile_column text;    /* the model text of kept rows */
    struct hashmap labels;              /* label -> count (multilabel: rows with it) */
    size_t unlabeled;                   /* multilabel: rows with an empty set */
    struct preparer prep;
};

void data_profile_init(struct data_profile *p, const struct task_config *task);
void data_profile_free(struct data_profile *p);
/* One example: its raw field values (bit i of `nulls`: field i was null or
 * absent) and label. */
void data_profile_add(struct data_profile *p, const char *const *values, const size_t *lens,
                      uint32_t nulls, const char *label);
/* {"rows", "labels": [{"label","count","share"}...] (most frequent first;
 *  multilabel: per label, and "rows_without_label"),
 *  "fields": {name: {"nulls","null_rate","empty","empty_rate","duplicates",
 *  "duplicate_rate","length": {"p5","p50","p95","max"}}}, "text": {... as a
 *  field, over the rows kept}, "cleaning": prepare_report_json}. Sorts the
 *  lengths it holds. */
json_t *data_profile_json(struct data_profile *p);

/* Nearest-rank quantile (q in [0, 1]) of n sorted values; 0 when n is 0. */
size_t data_profile_quantile(const size_t *sorted, size_t n, double q);

#endif
