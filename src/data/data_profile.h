/* A profile of a task's examples, for `boucle data profile`: rows, the
 * label distribution, and per text field the null, empty and duplicate
 * rates and length quantiles in characters; the same for the model text
 * (the fields joined and cleaned, for the rows training keeps), with what
 * each cleaning step did. Rows are fed one at a time.
 * Numeric fields get missing rates and value quantiles, categorical ones
 * missing rates and their most frequent values.
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

/* A numeric field: its present values; a categorical one: each value's count. */
struct data_profile_numeric {
    size_t rows, missing, n, cap;
    double *values;
};
struct data_profile_categorical {
    size_t rows, missing;
    struct hashmap counts; /* value -> rows */
};

struct data_profile {
    const struct task_config *task;
    size_t rows;
    struct data_profile_column *fields; /* task->n_text_fields */
    struct data_profile_column text;    /* the model text of kept rows */
    struct hashmap labels;              /* label -> count (multilabel: rows with it) */
    size_t unlabeled;                   /* multilabel: rows with an empty set */
    struct preparer prep;
    struct data_profile_numeric *num;     /* task->n_numeric */
    struct data_profile_categorical *cat; /* task->n_categorical */
};

void data_profile_init(struct data_profile *p, const struct task_config *task);
void data_profile_free(struct data_profile *p);
/* One example: its raw field values (bit i of `nulls`: field i was null or
 * absent) and label. */
void data_profile_add(struct data_profile *p, const char *const *values, const size_t *lens,
                      uint32_t nulls, const char *label);
/* The same example's tabular values (data/input.h's forms: NAN and NULL
 * are missing; a blank category too). */
void data_profile_add_tabular(struct data_profile *p, const double *num, const char *const *cat,
                              const size_t *cat_lens);
/* {"rows", "labels": [{"label","count","share"}...] (most frequent first;
 *  multilabel: per label, and "rows_without_label"),
 *  "fields": {name: {"nulls","null_rate","empty","empty_rate","duplicates",
 *  "duplicate_rate","length": {"p5","p50","p95","max"}}}, "text": {... as a
 *  field, over the rows kept}, "cleaning": prepare_report_json}. Sorts the
 *  lengths it holds. */
json_t *data_profile_json(struct data_profile *p);

/* The profile stored with a dataset version (data_profile_version.c):
 * data_profile_json over n rows as stored (inputs[i]: a JSON object of the
 * task's fields; labels[i]) plus "columns": [{"name","kind"}], kind being
 * "text", "numeric", "categorical", "label" or "unused". `columns` names
 * the imported file's columns in order; NULL takes the label and the keys
 * the inputs hold (a version made from feedback has no file). NULL with
 * `e` set ("row 3: ...") when a row does not read as the task's input. */
json_t *data_profile_version(const struct task_config *task, const char *const *columns,
                             size_t n_columns, const char *const *inputs, const char *const *labels,
                             size_t n, struct err *e);

/* For data_profile.c (data_profile_tabular.c): the tabular part's memory,
 * and its JSON added to the profile's when the task has tabular fields:
 * "numeric": {name: {"rows","missing","missing_rate","min","p5","p50",
 * "p95","max","mean"}}, "categorical": {name: {"rows","missing",
 * "missing_rate","distinct","top": [{"value","count","share"}] (the 5 most
 * frequent)}}. */
void data_profile_tabular_init(struct data_profile *p);
void data_profile_tabular_free(struct data_profile *p);
void data_profile_tabular_json(struct data_profile *p, json_t *doc);

/* Nearest-rank quantile (q in [0, 1]) of n sorted values; 0 when n is 0. */
size_t data_profile_quantile(const size_t *sorted, size_t n, double q);

#endif
