#include "data/folds.h"

#include "base/ids.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>

int folds_stratified(const int *labels, size_t n, size_t n_labels, size_t k, uint64_t seed,
                     const char *const *label_names, int *fold_of, struct err *e)
{
    if (k < 2)
        return err_set(e, ERR_INVALID, "cross-validation needs at least 2 folds, got %zu", k);
    if (k > n)
        return err_set(e, ERR_INVALID, "%zu folds need at least %zu training rows, there are %zu",
                       k, k, n);
    size_t *count = xcalloc(n_labels ? n_labels : 1, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= n_labels) {
            free(count);
            return err_set(e, ERR_INVALID, "row %zu has label %d, outside [0, %zu)", i, labels[i],
                           n_labels);
        }
        count[labels[i]]++;
    }
    for (size_t l = 0; l < n_labels; l++) {
        if (count[l] == 0 || count[l] >= k) continue; /* a label without rows costs no fold */
        char number[32];
        snprintf(number, sizeof number, "#%zu", l);
        err_set(e, ERR_INVALID,
                "label '%s' has %zu training rows, fewer than the %zu folds (each fold must hold "
                "out every label): lower `folds`, or add examples of it",
                label_names ? label_names[l] : number, count[l], k);
        free(count);
        return -1;
    }
    /* rows grouped by label (counting sort keeps each group in row order) */
    size_t *start = xcalloc(n_labels + 1, sizeof *start);
    for (size_t l = 0; l < n_labels; l++)
        start[l + 1] = start[l] + count[l];
    size_t *rows = xmalloc(n * sizeof *rows),
           *next = xmalloc((n_labels ? n_labels : 1) * sizeof *next);
    for (size_t l = 0; l < n_labels; l++)
        next[l] = start[l];
    for (size_t i = 0; i < n; i++)
        rows[next[labels[i]]++] = i;
    uint64_t state = seed;
    size_t turn = 0;
    for (size_t l = 0; l < n_labels; l++) {
        size_t *g = rows + start[l], m = count[l];
        for (size_t i = m; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)(ids_splitmix64(&state) % i), tmp = g[i - 1];
            g[i - 1] = g[j];
            g[j] = tmp;
        }
        for (size_t i = 0; i < m; i++)
            fold_of[g[i]] = (int)(turn++ % k);
    }
    free(count);
    free(start);
    free(rows);
    free(next);
    return 0;
}
