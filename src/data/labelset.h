/* Label sets, the labels of a multilabel task's example: reading them from
 * a cell or a list, their canonical form, and splitting rows into train and
 * test so that every label keeps its share on both sides.
 *
 * The canonical form is what the store keeps: the labels sorted by bytes,
 * each once, joined by '|' ("" is the empty set, a row tagged with nothing:
 * a valid negative for every label). One spelling per set means the content
 * hash and the comparisons (a +1 feedback confirming a predicted set) see
 * the set, not how a file happened to write it; and a fixed separator keeps
 * stored rows readable when a task's `label_separator:` changes. */
#ifndef BOUCLE_DATA_LABELSET_H
#define BOUCLE_DATA_LABELSET_H

#include "base/err.h"
#include "base/mem.h"

#include <stddef.h>
#include <stdint.h>

#define LABELSET_SEP '|'
#define LABELSET_MAX_LABEL 1024 /* bytes of one label, as a model's label names */

/* Splits `cell` (len bytes) at each `sep`, trims each label, and writes the
 * canonical set to out (reset first; out->data is always a string). A cell
 * of only whitespace is the empty set. Refused with ERR_INVALID, prefixed
 * with `where` ("line 12, column 'tags'"): an empty label between two
 * separators, a label holding '|' or over LABELSET_MAX_LABEL bytes. */
int labelset_parse(const char *cell, size_t len, const char *sep, struct buf *out,
                   const char *where, struct err *e);

/* The same from separate labels (a JSON list, a feedback's "labels"). */
int labelset_join(const char *const *labels, const size_t *lens, size_t n, struct buf *out,
                  const char *where, struct err *e);

/* Walks a canonical set: `*cursor` starts at the set; each call gives the
 * next label (not NUL-terminated) and returns 0 when there is none left. */
int labelset_next(const char **cursor, const char **label, size_t *len);
size_t labelset_count(const char *set);

/* Iterative stratification (Sechidis, Tsoumakas and Vlahavas, "On the
 * stratification of multi-label data", 2011): the rarest label's rows are
 * placed first, each on the side that still lacks the most of that label,
 * so a label with a handful of rows still lands in both splits. A label
 * with a single row stays in training, as in the single-label split. Sets
 * are canonical; is_test[i] receives 1 for the test rows. Seeded: the same
 * rows and seed give the same split. */
void labelset_split_stratified(const char *const *sets, size_t n, double test_fraction,
                               uint64_t seed, unsigned char *is_test);

/* The same algorithm dealing the rows into k folds (a search's
 * cross-validation), each fold asking for 1/k of every label's rows:
 * fold_of[n] receives a fold in [0, k). A label with fewer than k rows is
 * tolerated, as in the paper: its rows land in different folds and the
 * other folds hold none of it out (a label's only row is then missing from
 * the training side of its own fold). Rows with no label fill the folds
 * still short of rows. Seeded like the split. ERR_INVALID when k < 2 or
 * k > n. */
int labelset_folds_stratified(const char *const *sets, size_t n, size_t k, uint64_t seed,
                              int *fold_of, struct err *e);

#endif
