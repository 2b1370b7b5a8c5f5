/* The model's part of a served answer, shared by the predict route, the
 * shadow challenger and `boucle predict`: "label" (the most probable),
 * "probabilities", and for a multilabel model "labels", every label at or
 * over its threshold, in label order (possibly none). */
#ifndef BOUCLE_SERVE_ANSWER_H
#define BOUCLE_SERVE_ANSWER_H

#include "base/mem.h"
#include "ml/model.h"

#include <jansson.h>
#include <stddef.h>

/* Adds the fields to `answer` from probs[model_n_labels(m)] and the index
 * of the most probable label. */
void answer_add_labels(json_t *answer, const struct trained_model *m, const double *probs,
                       size_t best);

/* What the prediction log keeps as an answer's label: its "label", or for a
 * multilabel answer its "labels" as a canonical set (data/labelset.h:
 * joined by '|', "" for none) built in `scratch`, so a +1 feedback confirms
 * the whole set and the shadow's agreement compares sets. */
const char *answer_logged_label(json_t *answer, struct buf *scratch);

#endif
