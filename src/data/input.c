/* Building a task's input text and JSON: see input.h for why one module. */
#include "data/input.h"

#include "base/utf8.h"

#include <stdio.h>
#include <string.h>

void input_append_text(struct buf *text, size_t index, const char *value, size_t len)
{
    if (index) buf_append_char(text, '\n');
    buf_append(text, value, len);
}

void input_append_json_string(struct buf *out, const char *s, size_t len)
{
    buf_reserve(out, len + 2);
    buf_append_char(out, '"');
    size_t run = 0; /* bytes copied through unchanged, flushed in one append */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        buf_append(out, s + i - run, run);
        run = 0;
        char esc[8];
        switch (c) {
        case '"':
            buf_append(out, "\\\"", 2);
            break;
        case '\\':
            buf_append(out, "\\\\", 2);
            break;
        case '\b':
            buf_append(out, "\\b", 2);
            break;
        case '\f':
            buf_append(out, "\\f", 2);
            break;
        case '\n':
            buf_append(out, "\\n", 2);
            break;
        case '\r':
            buf_append(out, "\\r", 2);
            break;
        case '\t':
            buf_append(out, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c); /* jansson writes upper-case hex */
            buf_append(out, esc, 6);
        }
    }
    buf_append(out, s + len - run, run);
    buf_append_char(out, '"');
}

void input_append_json(struct buf *out, const struct task_config *task, const char *const *values,
                       const size_t *lens)
{
    buf_append_char(out, '{');
    for (size_t i = 0; i < task->n_text_fields; i++) {
        if (i) buf_append_char(out, ',');
        input_append_json_string(out, task->text_fields[i], strlen(task->text_fields[i]));
        buf_append_char(out, ':');
        if (values[i])
            input_append_json_string(out, values[i], lens[i]);
        else
            buf_append(out, "null", 4);
    }
    buf_append_char(out, '}');
}

int input_check_string(const char *name, const char *s, size_t len, size_t max_field_bytes,
                       struct err *e)
{
    char field[80];
    snprintf(field, sizeof field, "input.%.64s", name);
    if (max_field_bytes && len > max_field_bytes)
        return err_set_field(
            e, ERR_LIMIT, field,
            "input.%.64s: %zu bytes, over the limit of %zu bytes (limits.max_field_bytes)", name,
            len, max_field_bytes);
    /* parsed JSON is valid UTF-8 already; objects built in code may not be */
    if (memchr(s, '\0', len) || !utf8_is_valid(s, len))
        return err_set_field(e, ERR_INVALID, field,
                             "input.%.64s: must be valid UTF-8 without NUL characters", name);
    return 0;
}

int input_fields_from_json(const struct task_config *task, json_t *input_object,
                           size_t max_field_bytes, const char **values, size_t *lens,
                           uint32_t *nulls, json_t **normalized_out, struct err *e)
{
    if (normalized_out) *normalized_out = NULL;
    if (nulls) *nulls = 0;
    if (!json_is_object(input_object))
        return err_set_field(e, ERR_INVALID, "input", "input: must be a JSON object");
    json_t *norm = normalized_out ? json_object() : NULL;
    for (size_t i = 0; i < task->n_text_fields; i++) {
        const char *name = task->text_fields[i];
        char field[64];
        snprintf(field, sizeof field, "input.%s", name);
        json_t *v = json_object_get(input_object, name);
        const char *problem = !v                                       ? "missing"
                              : !json_is_string(v) && !json_is_null(v) ? "must be a string or null"
                                                                       : NULL;
        if (problem) {
            json_decref(norm);
            return err_set_field(e, ERR_INVALID, field, "input.%.64s: %s", name, problem);
        }
        const char *s = json_is_null(v) ? "" : json_string_value(v);
        size_t len = json_is_null(v) ? 0 : json_string_length(v);
        if (json_is_null(v) && nulls) *nulls |= (uint32_t)1 << i;
        if (input_check_string(name, s, len, max_field_bytes, e) != 0) {
            json_decref(norm);
            return -1;
        }
        values[i] = s;
        lens[i] = len;
        if (norm) json_object_set(norm, name, v);
    }
    if (normalized_out) *normalized_out = norm;
    return 0;
}

int input_text_from_json(const struct task_config *task, json_t *input_object,
                         size_t max_field_bytes, struct buf *text_out, json_t **normalized_out,
                         struct err *e)
{
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    if (task->n_text_fields > TASK_MAX_TEXT_FIELDS)
        return err_set(e, ERR_INVALID, "task '%s' has more than %d text fields", task->name,
                       TASK_MAX_TEXT_FIELDS);
    if (input_fields_from_json(task, input_object, max_field_bytes, values, lens, NULL,
                               normalized_out, e) != 0)
        return -1;
    buf_reset(text_out);
    buf_append(text_out, "", 0); /* data is a valid string even with no fields */
    for (size_t i = 0; i < task->n_text_fields; i++)
        input_append_text(text_out, i, values[i], lens[i]);
    return 0;
}
