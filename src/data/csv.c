/* CSV per RFC 4180, parsed in one pass and in place: an unquoted field's
 * delimiter becomes its terminating NUL, and a quoted field is unescaped
 * over its own bytes (the result is never longer than the source), so cells
 * point into the buffer and nothing is copied per cell.
 * Leniencies, on purpose: a quote inside an unquoted field is kept as data,
 * a lone CR is data, and empty lines are skipped anywhere (not only at the end),
 * as spreadsheet exports often carry them. */
#include "base/mem.h"
#include "data/table_formats.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct csv {
    char *s;
    size_t n, pos, line;
    size_t bad, bad_line; /* first byte that cannot be in a cell, and its line */
    int bad_is_nul;
    const struct table_limits *lim;
    struct table_ptrs names, cells;
    struct table_lines lines;
    struct err *e;
};

/* Bytes that end an unquoted run; everything else is copied through. */
static const unsigned char stop[256] = {[0] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1};

static const char *col_label(const struct csv *p, size_t col, char *tmp, size_t size)
{
    /* data rows name the column by its header; the header row by position */
    if (col < p->names.n)
        snprintf(tmp, size, "column '%.64s'", (const char *)p->names.items[col]);
    else
        snprintf(tmp, size, "column %zu", col + 1);
    return tmp;
}

static size_t count_newlines(const char *s, size_t n)
{
    size_t count = 0;
    const char *end = s + n;
    while ((s = memchr(s, '\n', (size_t)(end - s))) != NULL) {
        count++;
        s++;
    }
    return count;
}

/* Scans a quoted field starting at its opening quote; returns the unescaped
 * length or SIZE_MAX when the quote is never closed. */
static size_t scan_quoted(struct csv *p)
{
    char *s = p->s;
    size_t r = p->pos + 1, w = p->pos;
    for (;;) {
        char *q = memchr(s + r, '"', p->n - r);
        if (!q) return SIZE_MAX;
        size_t seg = (size_t)(q - (s + r));
        p->line += count_newlines(s + r, seg);
        memmove(s + w, s + r, seg);
        w += seg;
        r += seg + 1;
        if (r < p->n && s[r] == '"') { /* "" stands for one quote */
            s[w++] = '"';
            r++;
            continue;
        }
        break;
    }
    size_t len = w - p->pos;
    p->pos = r;
    return len;
}

static size_t scan_plain(struct csv *p)
{
    const char *s = p->s;
    size_t r = p->pos;
    for (;;) {
        while (!stop[(unsigned char)s[r]])
            r++;
        if (r < p->n && s[r] == '\r' && r + 1 < p->n && s[r + 1] != '\n') {
            r++; /* a lone CR is data */
            continue;
        }
        if (r < p->n && s[r] == '\0') {
            r++; /* a NUL inside the data: reported by the bad-byte check */
            continue;
        }
        break;
    }
    size_t len = r - p->pos;
    p->pos = r;
    return len;
}

/* Parses one field at p->pos and consumes its delimiter; *last tells whether
 * it ended the record. */
static int field(struct csv *p, size_t col, char **cell, int *last)
{
    char *s = p->s, tmp[96];
    size_t start = p->pos, line0 = p->line, len;
    int quoted = s[start] == '"';
    if (quoted) {
        len = scan_quoted(p);
        if (len == SIZE_MAX)
            return err_set_field(p->e, ERR_INVALID, col_label(p, col, tmp, sizeof tmp),
                                 "line %zu, %s: quoted field is never closed", line0, tmp);
    } else {
        len = scan_plain(p);
    }
    size_t raw_end = p->pos, d = p->pos;
    if (d >= p->n) {
        *last = 1;
    } else if (s[d] == ',') {
        p->pos = d + 1;
        *last = 0;
    } else if (s[d] == '\n' || (s[d] == '\r' && (d + 1 >= p->n || s[d + 1] == '\n'))) {
        p->pos = d + (s[d] == '\r' && d + 1 < p->n ? 2 : 1);
        p->line++;
        *last = 1;
    } else {
        return err_set_field(p->e, ERR_INVALID, col_label(p, col, tmp, sizeof tmp),
                             "line %zu, %s: unexpected text after a closing quote "
                             "(a quote inside a quoted field is written \"\")",
                             p->line, tmp);
    }
    if (p->bad >= start && p->bad < raw_end) {
        const char *what = p->bad_is_nul ? "a NUL byte" : "invalid UTF-8";
        return err_set_field(p->e, ERR_INVALID, col_label(p, col, tmp, sizeof tmp),
                             "line %zu, %s: %s", p->bad_line, tmp, what);
    }
    if (p->lim->max_field_bytes && len > p->lim->max_field_bytes)
        return err_set_field(p->e, ERR_LIMIT, col_label(p, col, tmp, sizeof tmp),
                             "line %zu, %s: field is %zu bytes, over the limit of %zu", line0, tmp,
                             len, p->lim->max_field_bytes);
    s[start + len] = '\0'; /* the delimiter or the closing quote: both consumed */
    *cell = s + start;
    return 0;
}

static void skip_blank_lines(struct csv *p)
{
    const char *s = p->s;
    while (p->pos < p->n) {
        if (s[p->pos] == '\n')
            p->pos++;
        else if (s[p->pos] == '\r' && s[p->pos + 1] == '\n')
            p->pos += 2;
        else
            break;
        p->line++;
    }
}

static int record(struct csv *p, struct table_ptrs *into, size_t *n_fields)
{
    size_t col = 0;
    int last = 0;
    while (!last) {
        char *cell = NULL;
        if (field(p, col, &cell, &last)) return -1;
        table_ptrs_push(into, cell);
        col++;
    }
    *n_fields = col;
    return 0;
}

static int header(struct csv *p)
{
    skip_blank_lines(p);
    if (p->pos >= p->n) return err_set(p->e, ERR_INVALID, "no header row: the file is empty");
    size_t line = p->line, n;
    if (record(p, &p->names, &n)) return -1;
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->names.items[i], p->names.items[j]))
                return err_set(p->e, ERR_INVALID, "line %zu: column name '%.64s' appears twice",
                               line, (const char *)p->names.items[i]);
    return 0;
}

static int rows(struct csv *p)
{
    size_t n_cols = p->names.n;
    for (;;) {
        skip_blank_lines(p);
        if (p->pos >= p->n) return 0;
        size_t line = p->line, n;
        if (record(p, &p->cells, &n)) return -1;
        if (n != n_cols)
            return err_set(p->e, ERR_INVALID,
                           "line %zu: %zu field%s, but the header has %zu columns", line, n,
                           n == 1 ? "" : "s", n_cols);
        table_lines_push(&p->lines, line);
        if (p->lim->max_rows && p->lines.n > p->lim->max_rows)
            return err_set(p->e, ERR_LIMIT, "line %zu: more than %zu rows", line, p->lim->max_rows);
    }
}

int table_parse_csv(char *data, size_t len, const struct table_limits *lim, struct table *out,
                    struct err *e)
{
    struct csv p = {.s = data, .n = len, .line = 1, .lim = lim, .e = e};
    data[len] = '\0';
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) p.pos = 3;
    p.bad = table_first_bad_byte(data, len);
    /* lines are counted before parsing rewrites delimiters */
    p.bad_line = p.bad < len ? table_line_of(data, p.bad) : 0;
    p.bad_is_nul = p.bad < len && data[p.bad] == '\0';
    int rc = header(&p);
    if (!rc) rc = rows(&p);
    if (!rc) table_fill(out, &p.names, &p.cells, &p.lines);
    table_ptrs_free(&p.names);
    table_ptrs_free(&p.cells);
    table_lines_free(&p.lines);
    return rc;
}
