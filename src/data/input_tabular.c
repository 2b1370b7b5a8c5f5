/* A task's numeric and categorical fields: parsing imported cells, writing
 * them into the stored input JSON, reading them from an input object (a
 * request, or a stored example). See input.h. */
#include "data/input.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What exporters write for "no value": R (NA), pandas (NaN, None), SQL (null). */
static const char *const missing_marks[] = {"NA", "N/A", "NaN", "null", "None"};

int input_parse_number(const char *s, size_t len, double *out)
{
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    if (!len) return 0;
    for (size_t i = 0; i < sizeof missing_marks / sizeof *missing_marks; i++)
        if (len == strlen(missing_marks[i]) && !strncasecmp(s, missing_marks[i], len)) return 0;
    /* decimal notation only: strtod would also take hex, "inf" and "nan" */
    char tmp[64];
    if (len >= sizeof tmp || strspn(s, "0123456789+-.eE") < len) return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double x = strtod(tmp, &end);
    if (*end || end == tmp || errno == ERANGE || !isfinite(x)) return -1;
    *out = x;
    return 1;
}

void input_format_number(double x, char *out, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, x);
        if (strtod(out, NULL) == x) return;
    }
}

void input_append_json_row(struct buf *out, const struct task_config *task,
                           const char *const *values, const size_t *lens, const double *num,
                           const char *const *cat, const size_t *cat_lens)
{
    input_append_json(out, task, values, lens);
    if (!task->n_numeric && !task->n_categorical) return;
    out->len--; /* reopen the object: its '}' comes after the tabular fields */
    int first = task->n_text_fields == 0;
    for (size_t i = 0; i < task->n_numeric; i++, first = 0) {
        if (!first) buf_append_char(out, ',');
        input_append_json_string(out, task->numeric[i].name, strlen(task->numeric[i].name));
        buf_append_char(out, ':');
        char text[40];
        if (num && !isnan(num[i]))
            input_format_number(num[i], text, sizeof text);
        else
            snprintf(text, sizeof text, "null");
        buf_append_str(out, text);
    }
    for (size_t i = 0; i < task->n_categorical; i++, first = 0) {
        if (!first) buf_append_char(out, ',');
        const char *name = task->categorical[i].name;
        input_append_json_string(out, name, strlen(name));
        buf_append_char(out, ':');
        if (cat && cat[i])
            input_append_json_string(out, cat[i], cat_lens[i]);
        else
            buf_append(out, "null", 4);
    }
    buf_append_char(out, '}');
}

/* One field of the input object: present, and of the right JSON type. */
static json_t *field_value(json_t *input_object, const char *name, int numeric, struct err *e)
{
    char field[80];
    snprintf(field, sizeof field, "input.%.64s", name);
    json_t *v = json_object_get(input_object, name);
    if (!v)
        err_set_field(e, ERR_INVALID, field, "input.%.64s: missing (send null for a missing value)",
                      name);
    else if (numeric && !json_is_number(v) && !json_is_null(v))
        err_set_field(e, ERR_INVALID, field, "input.%.64s: must be a number or null, got %s", name,
                      json_is_string(v) ? "a string" : "another type");
    else if (!numeric && !json_is_string(v) && !json_is_null(v))
        err_set_field(e, ERR_INVALID, field, "input.%.64s: must be a string or null, got %s", name,
                      json_is_number(v) ? "a number" : "another type");
    else
        return v;
    return NULL;
}

int input_tabular_from_json(const struct task_config *task, json_t *input_object,
                            size_t max_field_bytes, double *num, const char **cat, size_t *cat_lens,
                            json_t *normalized, struct err *e)
{
    if (!json_is_object(input_object))
        return err_set_field(e, ERR_INVALID, "input", "input: must be a JSON object");
    for (size_t i = 0; i < task->n_numeric; i++) {
        json_t *v = field_value(input_object, task->numeric[i].name, 1, e);
        if (!v) return -1;
        num[i] = json_is_null(v) ? NAN : json_number_value(v);
        if (normalized) json_object_set(normalized, task->numeric[i].name, v);
    }
    for (size_t i = 0; i < task->n_categorical; i++) {
        const char *name = task->categorical[i].name;
        json_t *v = field_value(input_object, name, 0, e);
        if (!v) return -1;
        cat[i] = json_is_null(v) ? NULL : json_string_value(v);
        cat_lens[i] = json_is_null(v) ? 0 : json_string_length(v);
        if (cat[i] && input_check_string(name, cat[i], cat_lens[i], max_field_bytes, e) != 0)
            return -1;
        if (normalized) json_object_set(normalized, name, v);
    }
    return 0;
}
