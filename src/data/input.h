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

/* For a prediction request: checks that each of the task's text fields is in
 * `input_object` and is a string within max_field_bytes (0 = no limit), and
 * replaces text_out's contents with the fields joined by "\n". Other keys are
 * ignored. When normalized_out is not NULL it receives a new object holding
 * only the task's fields, in config order (the caller decrefs it).
 * Errors name the field: e->field = "input.<name>", "missing" / "must be a string". */
int input_text_from_json(const struct task_config *task, json_t *input_object,
                         size_t max_field_bytes, struct buf *text_out, json_t **normalized_out,
                         struct err *e);

/* Appends field number `index` (0-based) of an example to its model text:
 * the separator rule lives in one place. */
void input_append_text(struct buf *text, size_t index, const char *value, size_t len);

/* Appends the compact JSON object {"field":"value",...} for the task's text
 * fields, byte for byte what json_dumps(JSON_COMPACT) writes for the
 * normalized object, so stored inputs compare equal whichever path made them. */
void input_append_json(struct buf *out, const struct task_config *task, const char *const *values,
                       const size_t *lens);

/* Appends `s` as a JSON string literal, quoted and escaped like jansson does. */
void input_append_json_string(struct buf *out, const char *s, size_t len);

#endif
