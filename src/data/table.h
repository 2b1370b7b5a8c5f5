/* Reading labeled data files into an in-memory table of UTF-8 strings.
 * CSV per RFC 4180 (quoted fields, embedded newlines and quotes, CRLF, a
 * UTF-8 BOM) with a header row; JSONL with one JSON object per line. Every
 * error names the line (1-based, as an editor shows it) and the column. */
#ifndef BOUCLE_DATA_TABLE_H
#define BOUCLE_DATA_TABLE_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>

enum table_format { TABLE_AUTO, TABLE_CSV, TABLE_JSONL };

struct table_limits {
    size_t max_field_bytes; /* a longer field is ERR_LIMIT naming line and column */
    size_t max_rows;        /* 0 = no limit */
    /* JSONL: a list of strings (a multilabel task's labels) becomes one cell,
     * its items joined by this; NULL = "|" */
    const char *list_separator;
};

struct table {
    size_t n_cols;
    char **col_names;
    size_t n_rows;
    char **cells;       /* n_rows * n_cols; a cell absent from a JSONL object is NULL */
    size_t *lines;      /* source line where each row starts */
    struct arena arena; /* owns everything above */
};

/* TABLE_AUTO picks by extension (.csv, .jsonl/.ndjson); anything else is an error. */
int table_read_file(const char *path, enum table_format fmt, const struct table_limits *lim,
                    struct table *out, struct err *e);
int table_read_buffer(const char *data, size_t len, enum table_format fmt,
                      const struct table_limits *lim, struct table *out, struct err *e);
int table_parse_format(const char *name, enum table_format *out); /* "csv", "jsonl" */
int table_col(const struct table *t, const char *name);           /* -1 when absent */
static inline const char *table_cell(const struct table *t, size_t row, size_t col)
{
    return t->cells[row * t->n_cols + col];
}
void table_free(struct table *t);

#endif
