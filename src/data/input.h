/* A task's input: the text fields of one example, as a JSON object and as the
 * single text a model sees. Imports (examples.c) and prediction requests both
 * go through here, so training and serving build the text the same way. */
#ifndef BOUCLE_DATA_INPUT_H
#define BOUCLE_DATA_INPUT_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The task's text fields of an input object, as views into it: values[i]
 * and lens[i] for each of the task's fields, in config order (the arrays
 * hold at least task->n_text_fields entries). A field set to null reads as
 * an empty text, as an empty or absent cell of an imported file does, and
 * sets bit i of *nulls (when nulls is not NULL). Each field must be present,
 * a string or null, within max_field_bytes (0 = no limit), valid UTF-8
 * without NUL. Other keys are ignored. When normalized_out is not NULL it
 * receives a new object holding only the task's fields, in config order
 * (the caller decrefs it). Errors name the field: e->field = "input.<name>",
 * "missing" / "must be a string or null". */
int input_fields_from_json(const struct task_config *task, json_t *input_object,
                           size_t max_field_bytes, const char **values, size_t *lens,
                           uint32_t *nulls, json_t **normalized_out, struct err *e);

/* A string value of input field `name`: within max_field_bytes (0 = no
 * limit; else ERR_LIMIT), valid UTF-8 without NUL (else ERR_INVALID), the
 * error's field "input.<name>". */
int input_check_string(const char *name, const char *s, size_t len, size_t max_field_bytes,
                       struct err *e);

/* The same fields joined by "\n" into text_out (replacing its contents):
 * the input as text, before any cleaning (exports). */
int input_text_from_json(const struct task_config *task, json_t *input_object,
                         size_t max_field_bytes, struct buf *text_out, json_t **normalized_out,
                         struct err *e);

/* Appends field number `index` (0-based) of an example to its model text:
 * the separator rule lives in one place. */
void input_append_text(struct buf *text, size_t index, const char *value, size_t len);

/* Appends the compact JSON object {"field":"value",...} for the task's text
 * fields, byte for byte what json_dumps(JSON_COMPACT) writes for the
 * normalized object, so stored inputs compare equal whichever path made them.
 * A NULL value (a cell the file left out) is written as null. */
void input_append_json(struct buf *out, const struct task_config *task, const char *const *values,
                       const size_t *lens);

/* Appends `s` as a JSON string literal, quoted and escaped like jansson does. */
void input_append_json_string(struct buf *out, const char *s, size_t len);

/* ---- tabular fields (input_tabular.c) ----
 * A task's numeric and categorical fields, after its text fields in the
 * input object. Numbers travel as JSON numbers, categories as strings, a
 * missing value of either as null. */

/* A numeric cell of an imported file: 1 and *out for a decimal number
 * ("42", "-3.5", "1e6", spaces around allowed), 0 for a missing value (an
 * empty cell, NA, N/A, NaN, null or None, in any case), -1 for anything
 * else (text, "1,234", hex, infinities). */
int input_parse_number(const char *s, size_t len, double *out);
/* The shortest text that reads back as the same double, so 0.1 stays "0.1". */
void input_format_number(double x, char *out, size_t size);

/* input_append_json with the tabular values as well: num[i] for numeric
 * field i (NAN = missing), cat[i] / cat_lens[i] for categorical field i
 * (NULL = missing). num and cat may be NULL: all missing. */
void input_append_json_row(struct buf *out, const struct task_config *task,
                           const char *const *values, const size_t *lens, const double *num,
                           const char *const *cat, const size_t *cat_lens);

/* The task's tabular fields of an input object, in config order: num[i]
 * (NAN for null) and cat[i] / cat_lens[i] (views into the object, NULL
 * for null). Each field must be present (null for a missing value): a
 * numeric one a JSON number, a categorical one a string within
 * max_field_bytes, valid UTF-8 without NUL. Errors name the field
 * ("input.tenure: must be a number or null"). When normalized is not NULL
 * the fields are added to it, after whatever it holds. */
int input_tabular_from_json(const struct task_config *task, json_t *input_object,
                            size_t max_field_bytes, double *num, const char **cat, size_t *cat_lens,
                            json_t *normalized, struct err *e);

#endif
