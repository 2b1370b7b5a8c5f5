/* Internal to the table module: the format parsers and the helpers they share.
 * Parsers work in place on a buffer owned by the table's arena (cells point
 * into it), which keeps reading a large file to one pass and one copy. */
#ifndef BOUCLE_DATA_TABLE_FORMATS_H
#define BOUCLE_DATA_TABLE_FORMATS_H

#include "data/table.h"

#include <stddef.h>

/* `data` has len bytes plus a writable NUL at data[len]; the parser may
 * overwrite it. On success `out` is complete except its arena, which the
 * caller set up. */
int table_parse_csv(char *data, size_t len, const struct table_limits *lim, struct table *out,
                    struct err *e);
int table_parse_jsonl(char *data, size_t len, const struct table_limits *lim, struct table *out,
                      struct err *e);

/* A growable array of pointers, for cells while the row count is unknown. */
struct table_ptrs {
    void **items;
    size_t n, cap;
};
void table_ptrs_push(struct table_ptrs *v, void *p);
void table_ptrs_free(struct table_ptrs *v);

/* The same for the source line of each row. */
struct table_lines {
    size_t *items;
    size_t n, cap;
};
void table_lines_push(struct table_lines *v, size_t line);
void table_lines_free(struct table_lines *v);

/* Moves the collected names, cells and lines into the table's arena. */
void table_fill(struct table *t, struct table_ptrs *names, struct table_ptrs *cells,
                struct table_lines *lines);

/* The offset of the first byte that cannot be in a cell (invalid UTF-8 or
 * NUL), or len when there is none. */
size_t table_first_bad_byte(const char *data, size_t len);
/* 1-based line of byte `off` (counts '\n' before it). */
size_t table_line_of(const char *data, size_t off);

#endif
