/* A hyper-parameter grid (a task's `model: {search: {grid: ...}}`): the
 * trials it expands to, each the task's `model:` keys with the grid's keys
 * set to one combination of their values, and their settings checked as the
 * plain keys are. Trials are numbered in the grid's order, its last key
 * varying fastest: {C: [0.1, 1], ngram_max: [1, 2]} is (0.1, 1), (0.1, 2),
 * (1, 1), (1, 2). */
#ifndef BOUCLE_ML_GRID_H
#define BOUCLE_ML_GRID_H

#include "base/config.h"
#include "base/err.h"
#include "base/mem.h"
#include "ml/model.h"

#include <stddef.h>

/* Which value of grid key `key` trial `trial` takes. */
size_t grid_value_index(const struct search_config *s, size_t trial, size_t key);
/* The trial's `model:` params: base without the grid's keys, then the
 * grid's keys with the trial's values (and those values' lines, so an
 * error points at the grid). `out` has room for n_base + s->n_grid; the
 * strings are borrowed. Returns how many. */
size_t grid_trial_params(const struct config_param *base, size_t n_base,
                         const struct search_config *s, size_t trial, struct config_param *out);
/* "C=0.1, ngram_max=2", appended to out. */
void grid_trial_text(const struct search_config *s, size_t trial, struct buf *out);
/* Parses every trial's settings into out[s->n_trials] (model_config_parse
 * of grid_trial_params): a bad value is an error naming the trial, the key,
 * the value and its line. */
int grid_configs(const char *kind, const struct config_param *base, size_t n_base,
                 const struct search_config *s, struct model_config *out, struct err *e);

#endif
