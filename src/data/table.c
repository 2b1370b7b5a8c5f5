/* The table module's entry points: reading a file or buffer into the arena,
 * picking the format, and the helpers the CSV and JSONL parsers share. */
#include "data/table.h"

#include "base/mem.h"
#include "base/utf8.h"
#include "data/table_formats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void table_ptrs_push(struct table_ptrs *v, void *p)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->items = xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = p;
}

void table_ptrs_free(struct table_ptrs *v)
{
    free(v->items);
    memset(v, 0, sizeof *v);
}

void table_lines_push(struct table_lines *v, size_t line)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 256;
        v->items = xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = line;
}

void table_lines_free(struct table_lines *v)
{
    free(v->items);
    memset(v, 0, sizeof *v);
}

void table_fill(struct table *t, struct table_ptrs *names, struct table_ptrs *cells,
                struct table_lines *lines)
{
    t->n_cols = names->n;
    t->n_rows = lines->n;
    t->col_names = arena_alloc(&t->arena, (names->n + 1) * sizeof *t->col_names);
    if (names->n) memcpy(t->col_names, names->items, names->n * sizeof *t->col_names);
    t->cells = arena_alloc(&t->arena, (cells->n + 1) * sizeof *t->cells);
    if (cells->n) memcpy(t->cells, cells->items, cells->n * sizeof *t->cells);
    t->lines = arena_alloc(&t->arena, (lines->n + 1) * sizeof *t->lines);
    if (lines->n) memcpy(t->lines, lines->items, lines->n * sizeof *t->lines);
}

size_t table_first_bad_byte(const char *data, size_t len)
{
    size_t bad = utf8_invalid_offset(data, len);
    const char *nul = memchr(data, '\0', bad);
    return nul ? (size_t)(nul - data) : bad;
}

size_t table_line_of(const char *data, size_t off)
{
    size_t line = 1;
    const char *p = data, *end = data + off;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        line++;
        p++;
    }
    return line;
}

int table_parse_format(const char *name, enum table_format *out)
{
    if (!strcasecmp(name, "csv"))
        *out = TABLE_CSV;
    else if (!strcasecmp(name, "jsonl") || !strcasecmp(name, "ndjson"))
        *out = TABLE_JSONL;
    else if (!strcasecmp(name, "auto"))
        *out = TABLE_AUTO;
    else
        return -1;
    return 0;
}

static int format_from_path(const char *path, enum table_format *out, struct err *e)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash) && !table_parse_format(dot + 1, out) && *out != TABLE_AUTO)
        return 0;
    return err_set(e, ERR_USAGE,
                   "cannot tell the format of '%s' from its name; use .csv, .jsonl or .ndjson "
                   "or name the format",
                   path);
}

/* Buffers given without a format: JSON Lines start with '{', anything else is CSV. */
static enum table_format sniff(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && data[i] == '{' ? TABLE_JSONL : TABLE_CSV;
}

static int parse(char *data, size_t len, enum table_format fmt, const struct table_limits *lim,
                 struct table *out, struct err *e)
{
    static const struct table_limits none = {0};
    if (!lim) lim = &none;
    if (fmt == TABLE_AUTO) fmt = sniff(data, len);
    int rc = fmt == TABLE_JSONL ? table_parse_jsonl(data, len, lim, out, e)
                                : table_parse_csv(data, len, lim, out, e);
    if (rc) table_free(out);
    return rc;
}

static void table_start(struct table *t)
{
    memset(t, 0, sizeof *t);
    arena_init(&t->arena, 0);
}

int table_read_buffer(const char *data, size_t len, enum table_format fmt,
                      const struct table_limits *lim, struct table *out, struct err *e)
{
    table_start(out);
    /* parsers work in place: copy once into memory the table owns */
    char *copy = arena_alloc(&out->arena, len + 1);
    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
    return parse(copy, len, fmt, lim, out, e);
}

/* Reads a regular file straight into the arena: its size is known, so the
 * bytes are copied once. Sets errno and returns NULL on failure. */
static char *read_regular(int fd, size_t size, struct arena *a, size_t *len)
{
    char *data = arena_alloc(a, size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n == 0) break; /* shrank meanwhile: take what is there */
        if (n < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        got += (size_t)n;
    }
    data[got] = '\0';
    *len = got;
    return data;
}

/* Pipes and other files without a size: grow a buffer, then move it. */
static char *read_stream(int fd, struct arena *a, size_t *len)
{
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            buf_free(&b);
            errno = saved;
            return NULL;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    char *data = arena_alloc(a, b.len + 1);
    if (b.len) memcpy(data, b.data, b.len);
    data[b.len] = '\0';
    *len = b.len;
    buf_free(&b);
    return data;
}

int table_read_file(const char *path, enum table_format fmt, const struct table_limits *lim,
                    struct table *out, struct err *e)
{
    table_start(out);
    if (fmt == TABLE_AUTO && format_from_path(path, &fmt, e)) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int saved = errno;
        if (fd >= 0) close(fd);
        return err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(saved));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(EISDIR));
    }
    size_t len;
    char *owned = S_ISREG(st.st_mode) ? read_regular(fd, (size_t)st.st_size, &out->arena, &len)
                                      : read_stream(fd, &out->arena, &len);
    int saved = errno;
    close(fd);
    if (!owned) {
        table_free(out);
        return err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(saved));
    }
    if (parse(owned, len, fmt, lim, out, e)) return err_prefix(e, "%s", path);
    return 0;
}

int table_col(const struct table *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (!strcmp(t->col_names[i], name)) return (int)i;
    return -1;
}

void table_free(struct table *t)
{
    if (!t) return;
    arena_free(&t->arena);
    memset(t, 0, sizeof *t);
}
