/* What every kind's `model:` key parsing shares: the error that names the
 * key, its line and the value, and the strict reading of a number. */
#ifndef BOUCLE_ML_MODEL_PARAMS_H
#define BOUCLE_ML_MODEL_PARAMS_H

#include "base/config.h"
#include "base/err.h"

/* ERR_INVALID on field model.KEY: "model.KEY (line N): what, got 'VALUE'". */
int model_param_error(struct err *e, const struct config_param *p, const char *what);

/* A whole decimal integer (integer != 0) or a finite number, spaces after
 * it allowed; -1 for anything else (empty, trailing text, overflow). */
int model_param_number(const char *v, int integer, double *out);

#endif
