#include "ml/model_params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int model_param_error(struct err *e, const struct config_param *p, const char *what)
{
    char field[64];
    snprintf(field, sizeof field, "model.%s", p->key);
    return err_set_field(e, ERR_INVALID, field, "model.%s (line %d): %s, got '%s'", p->key, p->line,
                         what, p->value ? p->value : "");
}

int model_param_number(const char *v, int integer, double *out)
{
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    double d = integer ? (double)strtoll(v, &end, 10) : strtod(v, &end);
    while (*end == ' ')
        end++;
    if (errno || *end || !isfinite(d)) return -1;
    *out = d;
    return 0;
}
