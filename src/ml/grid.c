#include "ml/grid.h"

#include <stdlib.h>
#include <string.h>

size_t grid_value_index(const struct search_config *s, size_t trial, size_t key)
{
    /* a mixed-radix number whose last digit is the last key */
    for (size_t i = s->n_grid; i-- > key + 1;)
        trial /= s->grid[i].n_values;
    return trial % s->grid[key].n_values;
}

static int in_grid(const struct search_config *s, const char *key)
{
    for (size_t i = 0; i < s->n_grid; i++)
        if (key && !strcmp(s->grid[i].key, key)) return 1;
    return 0;
}

size_t grid_trial_params(const struct config_param *base, size_t n_base,
                         const struct search_config *s, size_t trial, struct config_param *out)
{
    size_t n = 0;
    for (size_t i = 0; i < n_base; i++)
        if (!in_grid(s, base[i].key)) out[n++] = base[i];
    for (size_t k = 0; k < s->n_grid; k++) {
        size_t v = grid_value_index(s, trial, k);
        out[n++] = (struct config_param){s->grid[k].key, s->grid[k].values[v], s->grid[k].lines[v]};
    }
    return n;
}

void grid_trial_text(const struct search_config *s, size_t trial, struct buf *out)
{
    for (size_t k = 0; k < s->n_grid; k++)
        buf_printf(out, "%s%s=%s", k ? ", " : "", s->grid[k].key,
                   s->grid[k].values[grid_value_index(s, trial, k)]);
}

int grid_configs(const char *kind, const struct config_param *base, size_t n_base,
                 const struct search_config *s, struct model_config *out, struct err *e)
{
    struct config_param *params = xmalloc((n_base + s->n_grid + 1) * sizeof *params);
    int rc = 0;
    for (size_t t = 0; t < s->n_trials && rc == 0; t++) {
        size_t n = grid_trial_params(base, n_base, s, t, params);
        rc = model_config_parse(&out[t], kind, params, n, e);
        if (rc == 0) continue;
        struct buf what;
        buf_init(&what);
        grid_trial_text(s, t, &what);
        err_prefix(e, "search trial %zu of %zu (%s)", t + 1, s->n_trials, what.data);
        buf_free(&what);
    }
    free(params);
    return rc;
}
