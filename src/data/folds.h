/* Stratified k-fold cross-validation: which of k folds each training row is
 * held out in, so that every fold keeps the labels' proportions. */
#ifndef BOUCLE_DATA_FOLDS_H
#define BOUCLE_DATA_FOLDS_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

/* labels[i] in [0, n_labels) for each of n rows; fills fold_of[n] with a
 * fold in [0, k). Each label's rows are shuffled (seeded) and dealt to the
 * folds in turn, the turn carrying on from one label to the next, so a
 * label's count differs by at most one between folds and so do the folds'
 * sizes. The same inputs and seed give the same folds on every platform.
 * ERR_INVALID when k < 2, k > n, a label is out of range, or a label has
 * fewer than k rows (some fold would lack it: its message names the label,
 * from label_names when not NULL, and says what to do). */
int folds_stratified(const int *labels, size_t n, size_t n_labels, size_t k, uint64_t seed,
                     const char *const *label_names, int *fold_of, struct err *e);

#endif
