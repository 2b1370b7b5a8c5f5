/* Label sets: parsing into the canonical form, walking it, and the
 * iterative stratified split. */
#include "data/labelset.h"

#include "base/hashmap.h"
#include "base/ids.h"

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

/* ---- the split ---------------------------------------------------------- */

struct strat {
    size_t n, n_labels;
    size_t *start, *label;     /* row i's label ids: label[start[i]..start[i+1]) */
    size_t *rows_start, *rows; /* label c's rows, in shuffled order */
    size_t *unplaced;          /* per label: its rows not placed yet */
    double *want;              /* per label, [2c] train and [2c+1] test: rows still wanted */
    double want_total[2];
};

/* Label ids by first appearance, and each row's ids. */
static void index_labels(struct strat *s, const char *const *sets)
{
    struct hashmap ids;
    hashmap_init(&ids);
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++)
        total += labelset_count(sets[i]);
    s->start = xcalloc(s->n + 1, sizeof *s->start);
    s->label = xmalloc((total ? total : 1) * sizeof *s->label);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const char *cur = sets[i], *l;
        size_t len;
        while (labelset_next(&cur, &l, &len)) {
            intptr_t *id = hashmap_upsert(&ids, l, len, (intptr_t)s->n_labels, NULL);
            if ((size_t)*id == s->n_labels) s->n_labels++;
            s->label[k++] = (size_t)*id;
        }
        s->start[i + 1] = k;
    }
    hashmap_free(&ids);
}

/* Each label's rows, listed in the order of `order` (a shuffle). */
static void invert(struct strat *s, const size_t *order)
{
    size_t L = s->n_labels;
    s->rows_start = xcalloc(L + 1, sizeof *s->rows_start);
    for (size_t k = 0; k < s->start[s->n]; k++)
        s->rows_start[s->label[k] + 1]++;
    for (size_t c = 0; c < L; c++)
        s->rows_start[c + 1] += s->rows_start[c];
    s->rows = xmalloc((s->start[s->n] ? s->start[s->n] : 1) * sizeof *s->rows);
    size_t *fill = xcalloc(L ? L : 1, sizeof *fill);
    for (size_t j = 0; j < s->n; j++) {
        size_t i = order[j];
        for (size_t k = s->start[i]; k < s->start[i + 1]; k++) {
            size_t c = s->label[k];
            s->rows[s->rows_start[c] + fill[c]++] = i;
        }
    }
    free(fill);
}

static void place(struct strat *s, size_t row, int side, unsigned char *is_test,
                  unsigned char *placed)
{
    placed[row] = 1;
    is_test[row] = (unsigned char)side;
    s->want_total[side] -= 1;
    for (size_t k = s->start[row]; k < s->start[row + 1]; k++) {
        size_t c = s->label[k];
        s->want[2 * c + (size_t)side] -= 1;
        s->unplaced[c]--;
    }
}

void labelset_split_stratified(const char *const *sets, size_t n, double test_fraction,
                               uint64_t seed, unsigned char *is_test)
{
    memset(is_test, 0, n);
    if (!n || !(test_fraction > 0)) return;
    struct strat s = {.n = n};
    index_labels(&s, sets);
    size_t L = s.n_labels;
    size_t *order = xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    uint64_t state = seed;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)(ids_splitmix64(&state) % i), tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    invert(&s, order);
    s.unplaced = xcalloc(L ? L : 1, sizeof *s.unplaced);
    s.want = xcalloc(2 * (L ? L : 1), sizeof *s.want);
    for (size_t c = 0; c < L; c++) {
        s.unplaced[c] = s.rows_start[c + 1] - s.rows_start[c];
        s.want[2 * c + 1] = test_fraction * (double)s.unplaced[c];
        s.want[2 * c] = (double)s.unplaced[c] - s.want[2 * c + 1];
    }
    s.want_total[1] = test_fraction * (double)n;
    s.want_total[0] = (double)n - s.want_total[1];
    unsigned char *placed = xcalloc(n, 1);
    for (;;) {
        /* the label with the fewest rows left to place */
        size_t best = L;
        for (size_t c = 0; c < L; c++)
            if (s.unplaced[c] && (best == L || s.unplaced[c] < s.unplaced[best])) best = c;
        if (best == L) break;
        int lone = s.rows_start[best + 1] - s.rows_start[best] == 1;
        for (size_t k = s.rows_start[best]; k < s.rows_start[best + 1]; k++) {
            size_t row = s.rows[k];
            if (placed[row]) continue;
            double tr = s.want[2 * best], te = s.want[2 * best + 1];
            int side = lone ? 0 : te != tr ? te > tr : s.want_total[1] > s.want_total[0];
            place(&s, row, side, is_test, placed);
        }
    }
    /* rows without a label: wherever rows are still wanted */
    for (size_t j = 0; j < n; j++)
        if (!placed[order[j]])
            place(&s, order[j], s.want_total[1] > s.want_total[0], is_test, placed);
    free(placed);
    free(order);
    free(s.start);
    free(s.label);
    free(s.rows_start);
    free(s.rows);
    free(s.unplaced);
    free(s.want);
}
