/* Label sets: parsing into the canonical form and walking it (their
 * iterative stratification is labelset_stratify.c). */
#include "data/labelset.h"

#include <stdlib.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

struct item {
    const char *s;
    size_t len;
};

static int cmp_item(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Trims, checks, sorts and dedupes items[0..n) in place, then joins them. */
static int canonical(struct item *items, size_t n, struct buf *out, const char *where,
                     struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        while (items[i].len && is_space(items[i].s[items[i].len - 1]))
            items[i].len--;
        while (items[i].len && is_space(*items[i].s)) {
            items[i].s++;
            items[i].len--;
        }
        if (!items[i].len)
            return err_set(e, ERR_INVALID, "%s: label %zu of the list is empty", where, i + 1);
        if (memchr(items[i].s, LABELSET_SEP, items[i].len))
            return err_set(e, ERR_INVALID,
                           "%s: label '%.*s' contains '%c', which boucle keeps label sets with",
                           where, (int)(items[i].len > 64 ? 64 : items[i].len), items[i].s,
                           LABELSET_SEP);
        if (items[i].len > LABELSET_MAX_LABEL)
            return err_set(e, ERR_LIMIT, "%s: label %zu is %zu bytes, over the limit of %d", where,
                           i + 1, items[i].len, LABELSET_MAX_LABEL);
    }
    qsort(items, n, sizeof *items, cmp_item);
    for (size_t i = 0; i < n; i++) {
        if (i && !cmp_item(&items[i - 1], &items[i])) continue; /* a label given twice */
        if (out->len) buf_append_char(out, LABELSET_SEP);
        buf_append(out, items[i].s, items[i].len);
    }
    return 0;
}

int labelset_join(const char *const *labels, const size_t *lens, size_t n, struct buf *out,
                  const char *where, struct err *e)
{
    buf_reset(out);
    buf_append(out, "", 0); /* out->data is a string even for the empty set */
    struct item *items = xmalloc((n ? n : 1) * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = (struct item){labels[i], lens ? lens[i] : strlen(labels[i])};
    int rc = canonical(items, n, out, where, e);
    free(items);
    return rc;
}

int labelset_parse(const char *cell, size_t len, const char *sep, struct buf *out,
                   const char *where, struct err *e)
{
    size_t blank = 0;
    while (blank < len && is_space(cell[blank]))
        blank++;
    if (blank == len) return labelset_join(NULL, NULL, 0, out, where, e);
    size_t sep_len = strlen(sep), n = 1;
    for (const char *p = cell; (p = memmem(p, (size_t)(cell + len - p), sep, sep_len)) != NULL;
         p += sep_len)
        n++;
    struct item *items = xmalloc(n * sizeof *items);
    const char *start = cell, *end = cell + len;
    for (size_t i = 0; i < n; i++) {
        const char *next = i + 1 < n ? memmem(start, (size_t)(end - start), sep, sep_len) : end;
        items[i] = (struct item){start, (size_t)(next - start)};
        start = next + sep_len;
    }
    buf_reset(out);
    buf_append(out, "", 0);
    int rc = canonical(items, n, out, where, e);
    free(items);
    return rc;
}

int labelset_next(const char **cursor, const char **label, size_t *len)
{
    const char *s = *cursor;
    if (!s || !*s) return 0;
    const char *bar = strchr(s, LABELSET_SEP);
    *label = s;
    *len = bar ? (size_t)(bar - s) : strlen(s);
    *cursor = bar ? bar + 1 : s + *len;
    return 1;
}

size_t labelset_count(const char *set)
{
    const char *cur = set, *l;
    size_t len, n = 0;
    while (labelset_next(&cur, &l, &len))
        n++;
    return n;
}
