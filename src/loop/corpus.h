/* A task's stored examples in memory, as the model sees them (text fields
 * joined), with their labels and splits, and the hash of that content. */
#ifndef BOUCLE_LOOP_CORPUS_H
#define BOUCLE_LOOP_CORPUS_H

#include "base/config.h"
#include "base/err.h"
#include "base/ids.h"
#include "store/store.h"

#include <stddef.h>

struct corpus {
    size_t n;
    char **texts;
    char **labels;
    int *split;                /* 0 train, 1 test */
    char hash[SHA256_HEX_LEN]; /* lineage: what a model was trained and measured on */
};

int corpus_load(struct store *st, const struct task_config *task, size_t max_field_bytes,
                struct corpus *out, struct err *e);
void corpus_free(struct corpus *c);

/* Sorted distinct strings of `items` (borrowed pointers); returns how many. */
size_t corpus_distinct(char *const *items, size_t n, const char ***out);
/* Index of s in a sorted array, -1 when absent. */
int corpus_index(const char *const *sorted, size_t n, const char *s);

#endif
