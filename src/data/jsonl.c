/* JSON Lines: one object per line, parsed with jansson. The columns are the
 * union of the keys in first-seen order, so rows are collected as (column,
 * value) pairs first and laid out as a matrix once every key is known. */
#include "base/hashmap.h"
#include "base/mem.h"
#include "data/input.h"
#include "data/table_formats.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jsonl {
    const struct table_limits *lim;
    struct arena *arena;
    struct hashmap cols; /* key -> column index */
    struct table_ptrs names;
    struct table_ptrs pairs;             /* per row: column index (as a pointer-sized int), value */
    struct table_lines row_start, lines; /* index of each row's first pair, source line */
    struct buf tmp;
    struct err *e;
};

static int value_text(struct jsonl *p, size_t line, const char *key, json_t *v, char **out)
{
    char num[40];
    const char *text = NULL;
    size_t len = 0;
    buf_reset(&p->tmp);
    switch (json_typeof(v)) {
    case JSON_NULL:
        *out = NULL;
        return 0;
    case JSON_STRING:
        text = json_string_value(v);
        len = json_string_length(v);
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        text = num;
        len = strlen(num);
        break;
    case JSON_REAL:
        input_format_number(json_real_value(v), num, sizeof num);
        text = num;
        len = strlen(num);
        break;
    case JSON_TRUE:
        text = "true";
        len = 4;
        break;
    case JSON_FALSE:
        text = "false";
        len = 5;
        break;
    case JSON_ARRAY: {
        /* a list of labels (multilabel) travels as "a|b|c", with the
         * separator the task splits its label cells at */
        const char *sep = p->lim->list_separator ? p->lim->list_separator : "|";
        size_t i, sep_len = strlen(sep);
        json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item))
                return err_set_field(p->e, ERR_INVALID, key,
                                     "line %zu, column '%.64s': a list may hold only strings", line,
                                     key);
            if (memmem(json_string_value(item), json_string_length(item), sep, sep_len))
                return err_set_field(p->e, ERR_INVALID, key,
                                     "line %zu, column '%.64s': list item %zu contains '%s', which "
                                     "separates items",
                                     line, key, i + 1, sep);
            if (i) buf_append(&p->tmp, sep, sep_len);
            buf_append(&p->tmp, json_string_value(item), json_string_length(item));
        }
        text = p->tmp.data ? p->tmp.data : "";
        len = p->tmp.len;
        break;
    }
    case JSON_OBJECT:
        return err_set_field(p->e, ERR_INVALID, key,
                             "line %zu, column '%.64s': nested objects are not supported", line,
                             key);
    }
    if (p->lim->max_field_bytes && len > p->lim->max_field_bytes)
        return err_set_field(p->e, ERR_LIMIT, key,
                             "line %zu, column '%.64s': field is %zu bytes, over the limit of %zu",
                             line, key, len, p->lim->max_field_bytes);
    *out = arena_strndup(p->arena, text, len);
    return 0;
}

static size_t column(struct jsonl *p, const char *key)
{
    int inserted;
    intptr_t *slot = hashmap_upsert(&p->cols, key, strlen(key), (intptr_t)p->names.n, &inserted);
    if (inserted) table_ptrs_push(&p->names, arena_strdup(p->arena, key));
    return (size_t)*slot;
}

static int object_line(struct jsonl *p, const char *s, size_t len, size_t line)
{
    json_error_t jerr;
    json_t *obj = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!obj) return err_set(p->e, ERR_INVALID, "line %zu: invalid JSON: %s", line, jerr.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return err_set(p->e, ERR_INVALID, "line %zu: not a JSON object", line);
    }
    table_lines_push(&p->row_start, p->pairs.n / 2);
    table_lines_push(&p->lines, line);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char *cell = NULL;
        if (value_text(p, line, key, v, &cell)) {
            json_decref(obj);
            return -1;
        }
        table_ptrs_push(&p->pairs, (void *)(uintptr_t)column(p, key));
        table_ptrs_push(&p->pairs, cell);
    }
    json_decref(obj);
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int parse_lines(struct jsonl *p, const char *data, size_t len)
{
    size_t bad = table_first_bad_byte(data, len);
    size_t pos = 0, line = 1;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) pos = 3;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t a = pos, b = end;
        while (a < b && is_space(data[a]))
            a++;
        while (b > a && is_space(data[b - 1]))
            b--;
        if (bad >= pos && bad < end)
            return err_set(p->e, ERR_INVALID, "line %zu, byte %zu: %s", line, bad - pos + 1,
                           data[bad] ? "invalid UTF-8" : "a NUL byte");
        if (a < b) {
            if (object_line(p, data + a, b - a, line)) return -1;
            if (p->lim->max_rows && p->lines.n > p->lim->max_rows)
                return err_set(p->e, ERR_LIMIT, "line %zu: more than %zu rows", line,
                               p->lim->max_rows);
        }
        pos = end + 1;
        line++;
    }
    return 0;
}

/* Lays the pairs out as n_rows x n_cols; keys a row lacks stay NULL. */
static void layout(struct jsonl *p, struct table *out)
{
    size_t n_cols = p->names.n, n_rows = p->lines.n, n_pairs = p->pairs.n / 2;
    struct table_ptrs cells = {0};
    cells.cap = cells.n = n_rows * n_cols;
    cells.items = xcalloc(cells.n ? cells.n : 1, sizeof *cells.items);
    for (size_t r = 0; r < n_rows; r++) {
        size_t from = p->row_start.items[r];
        size_t to = r + 1 < n_rows ? p->row_start.items[r + 1] : n_pairs;
        for (size_t i = from; i < to; i++) {
            size_t col = (size_t)(uintptr_t)p->pairs.items[2 * i];
            cells.items[r * n_cols + col] = p->pairs.items[2 * i + 1];
        }
    }
    table_fill(out, &p->names, &cells, &p->lines);
    table_ptrs_free(&cells);
}

int table_parse_jsonl(char *data, size_t len, const struct table_limits *lim, struct table *out,
                      struct err *e)
{
    struct jsonl p = {.lim = lim, .arena = &out->arena, .e = e};
    hashmap_init(&p.cols);
    buf_init(&p.tmp);
    int rc = parse_lines(&p, data, len);
    if (!rc) layout(&p, out);
    hashmap_free(&p.cols);
    buf_free(&p.tmp);
    table_ptrs_free(&p.names);
    table_ptrs_free(&p.pairs);
    table_lines_free(&p.row_start);
    table_lines_free(&p.lines);
    return rc;
}
