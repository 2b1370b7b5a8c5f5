/* Shared by tfidf.c (transform) and tfidf_fit.c (training matrix): how a
 * row of feature ids becomes a sorted, weighted, L2-normalised row. */
#ifndef BOUCLE_TEXT_TFIDF_INTERNAL_H
#define BOUCLE_TEXT_TFIDF_INTERNAL_H

#include "text/tfidf.h"

/* Sorts a[0..n) ascending; tmp holds n more (used when n > 64: long texts
 * have thousands of ids, where an LSD radix sort beats qsort several times). */
void tfidf_sort_ids(uint32_t *a, size_t n, uint32_t *tmp);

/* Turns m feature ids (any order, repeats = counts) into a sorted,
 * weighted, L2-normalised row written to idx/val (idx may alias ids).
 * Returns the number of distinct features. */
size_t tfidf_weigh_row(const struct tfidf *v, uint32_t *ids, size_t m, uint32_t *tmp, uint32_t *idx,
                       double *val);

#endif
