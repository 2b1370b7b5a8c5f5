/* Iterative stratification of label sets (Sechidis, Tsoumakas and
 * Vlahavas, 2011) over any number of sides: the train/test split is two
 * sides asking (1 - f, f) of every label, the k folds of a search k sides
 * asking 1/k each. One algorithm for both, so a search's folds balance
 * the labels the way the stored split does. */
#include "data/labelset.h"

#include "base/hashmap.h"
#include "base/ids.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

struct strat {
    size_t n, n_labels, sides;
    size_t *start, *label;     /* row i's label ids: label[start[i]..start[i+1]) */
    size_t *rows_start, *rows; /* label c's rows, in shuffled order */
    size_t *unplaced;          /* per label: its rows not placed yet */
    double *want;              /* label c's rows still wanted by side j: [c * sides + j] */
    double *want_total;        /* per side: rows still wanted */
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

/* The side that still wants the most of label c (c == n_labels: of rows
 * at all), a tie going to the side wanting the most rows overall, then to
 * the lower side: with the rows shuffled first, that is as fair as the
 * paper's random tie-break and needs no second random stream. */
static size_t pick(const struct strat *s, size_t c)
{
    size_t best = 0;
    for (size_t j = 1; j < s->sides; j++) {
        if (c < s->n_labels) {
            double a = s->want[c * s->sides + j], b = s->want[c * s->sides + best];
            if (a != b) {
                if (a > b) best = j;
                continue;
            }
        }
        if (s->want_total[j] > s->want_total[best]) best = j;
    }
    return best;
}

static void place(struct strat *s, size_t row, size_t side, int *side_of, unsigned char *placed)
{
    placed[row] = 1;
    side_of[row] = (int)side;
    s->want_total[side] -= 1;
    for (size_t k = s->start[row]; k < s->start[row + 1]; k++) {
        size_t c = s->label[k];
        s->want[c * s->sides + side] -= 1;
        s->unplaced[c]--;
    }
}

/* share[sides] sums to 1. lone_first: a label's only row goes to side 0
 * (the split keeps it for training: a test row alone cannot be learnt). */
static void stratify(const char *const *sets, size_t n, const double *share, size_t sides,
                     int lone_first, uint64_t seed, int *side_of)
{
    struct strat s = {.n = n, .sides = sides};
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
    s.want = xcalloc((L ? L : 1) * sides, sizeof *s.want);
    s.want_total = xcalloc(sides, sizeof *s.want_total);
    for (size_t c = 0; c < L; c++) {
        s.unplaced[c] = s.rows_start[c + 1] - s.rows_start[c];
        /* side 0 takes the remainder, so the wants add up exactly */
        double rest = (double)s.unplaced[c];
        for (size_t j = sides; j-- > 1;) {
            s.want[c * sides + j] = share[j] * (double)s.unplaced[c];
            rest -= s.want[c * sides + j];
        }
        s.want[c * sides] = rest;
    }
    double rest = (double)n;
    for (size_t j = sides; j-- > 1;) {
        s.want_total[j] = share[j] * (double)n;
        rest -= s.want_total[j];
    }
    s.want_total[0] = rest;
    unsigned char *placed = xcalloc(n, 1);
    for (;;) {
        /* the label with the fewest rows left to place */
        size_t best = L;
        for (size_t c = 0; c < L; c++)
            if (s.unplaced[c] && (best == L || s.unplaced[c] < s.unplaced[best])) best = c;
        if (best == L) break;
        int lone = lone_first && s.rows_start[best + 1] - s.rows_start[best] == 1;
        for (size_t k = s.rows_start[best]; k < s.rows_start[best + 1]; k++) {
            size_t row = s.rows[k];
            if (!placed[row]) place(&s, row, lone ? 0 : pick(&s, best), side_of, placed);
        }
    }
    /* rows without a label: wherever rows are still wanted */
    for (size_t j = 0; j < n; j++)
        if (!placed[order[j]]) place(&s, order[j], pick(&s, L), side_of, placed);
    free(placed);
    free(order);
    free(s.start);
    free(s.label);
    free(s.rows_start);
    free(s.rows);
    free(s.unplaced);
    free(s.want);
    free(s.want_total);
}

void labelset_split_stratified(const char *const *sets, size_t n, double test_fraction,
                               uint64_t seed, unsigned char *is_test)
{
    memset(is_test, 0, n);
    if (!n || !(test_fraction > 0)) return;
    int *side = xmalloc(n * sizeof *side);
    const double share[2] = {1 - test_fraction, test_fraction};
    stratify(sets, n, share, 2, 1, seed, side);
    for (size_t i = 0; i < n; i++)
        is_test[i] = (unsigned char)side[i];
    free(side);
}

int labelset_folds_stratified(const char *const *sets, size_t n, size_t k, uint64_t seed,
                              int *fold_of, struct err *e)
{
    if (k < 2 || k > n)
        return err_set(e, ERR_INVALID,
                       "cannot make %zu folds of %zu rows: folds must be at least 2 and at most "
                       "the number of rows",
                       k, n);
    double *share = xmalloc(k * sizeof *share);
    for (size_t j = 0; j < k; j++)
        share[j] = 1.0 / (double)k;
    stratify(sets, n, share, k, 0, seed, fold_of);
    free(share);
    return 0;
}
