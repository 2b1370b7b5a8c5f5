/* A task's `model: {search: ...}`: the grid of a hyper-parameter search and
 * how its trials are scored.
 *
 *   model:
 *     kind: linear
 *     search:
 *       grid: {C: [0.1, 1, 10], ngram_max: [1, 2]}
 *       folds: 5, metric: f1_macro, jobs: 2, max_trials: 200, seed: 0
 *
 * Only the shape is checked here (lists of scalars, counts, ranges): what a
 * value means belongs to the model kind (ml/), which checks every value of
 * the grid as it checks the plain `model:` keys, with the value's line. */
#include "base/config.h"

#include "base/config_internal.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metrics a search may rank by: those where higher is better, of
 * either task type (which of them fits the task is checked at training,
 * by eval/metrics.h or eval/metrics_multilabel.h). */
static const char *const search_metrics[] = {
    "accuracy",     "f1_macro",          "f1_weighted",    "precision_macro", "recall_macro",
    "roc_auc",      "f1_micro",          "f1_samples",     "subset_accuracy", "precision_micro",
    "recall_micro", "precision_samples", "recall_samples", "pr_auc"};

void cfg_search_task_defaults(struct task_config *t)
{
    memset(&t->search, 0, sizeof t->search);
    t->search.folds = 5;
    t->search.max_trials = 200;
}

static int grid_values(struct cfg_ctx *c, yaml_node_t *k, yaml_node_t *v, const char *path,
                       struct search_param *p)
{
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = cfg_node(c, *it);
        if (!item) continue;
        if (item->type != YAML_SCALAR_NODE)
            return cfg_fail(c, item, path, "expected a list of scalar values, got %s in it",
                            cfg_kind_name(item));
        const char *s = cfg_is_null(item) ? "" : cfg_text(item);
        for (size_t i = 0; i < p->n_values; i++)
            if (str_eq(p->values[i], s))
                return cfg_fail(c, item, path, "value '%s' listed twice", s);
        p->values = xrealloc(p->values, (p->n_values + 1) * sizeof *p->values);
        p->lines = xrealloc(p->lines, (p->n_values + 1) * sizeof *p->lines);
        p->values[p->n_values] = xstrdup(s);
        p->lines[p->n_values] = cfg_line(item);
        p->n_values++;
    }
    if (!p->n_values) return cfg_fail(c, v, path, "expected at least one value");
    (void)k;
    return 0;
}

static int grid_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    struct search_config *s = user;
    /* a search tunes one kind: comparing kinds is comparing two tasks' runs */
    if (str_eq(key, "kind") || str_eq(key, "search"))
        return cfg_fail(c, k, path, "'%s' cannot be searched over", key);
    s->grid = xrealloc(s->grid, (s->n_grid + 1) * sizeof *s->grid);
    struct search_param *p = &s->grid[s->n_grid++];
    memset(p, 0, sizeof *p);
    p->key = xstrdup(key);
    p->line = cfg_line(k);
    return grid_values(c, k, v, path, p);
}

static int search_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                       const char *path, void *user)
{
    struct search_config *s = user;
    long n;
    if (str_eq(key, "grid")) {
        if (cfg_want(c, v, YAML_MAPPING_NODE, path)) return -1;
        if (cfg_each_pair(c, v, path, grid_pair, s)) return -1;
        if (!s->n_grid) return cfg_fail(c, v, path, "expected at least one key to search over");
    } else if (str_eq(key, "folds")) {
        if (cfg_int_in_range(c, v, path, 2, SEARCH_MAX_FOLDS, &n)) return -1;
        s->folds = (int)n;
    } else if (str_eq(key, "metric")) {
        size_t i;
        if (cfg_choice(c, v, path, search_metrics, sizeof search_metrics / sizeof search_metrics[0],
                       &i))
            return -1;
        free(s->metric);
        s->metric = xstrdup(search_metrics[i]);
    } else if (str_eq(key, "jobs")) {
        if (cfg_int_in_range(c, v, path, 1, SEARCH_MAX_JOBS, &n)) return -1;
        s->jobs = (int)n;
    } else if (str_eq(key, "max_trials")) {
        if (cfg_int_in_range(c, v, path, 1, 100000, &n)) return -1;
        s->max_trials = n;
    } else if (str_eq(key, "seed")) {
        unsigned long long seed;
        if (cfg_uint(c, v, path, 0, INT64_MAX, &seed)) return -1;
        s->seed = seed;
    } else {
        return cfg_unknown_key(c, k, path);
    }
    return 0;
}

int cfg_search_model_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct task_config *t)
{
    if (!str_eq(key, "search")) return 1;
    struct search_config *s = &t->search;
    if (cfg_want(c, v, YAML_MAPPING_NODE, path)) return -1;
    s->enabled = 1;
    s->line = cfg_line(v);
    if (cfg_each_pair(c, v, path, search_pair, s)) return -1;
    if (!s->n_grid) return cfg_fail(c, v, path, "missing required key 'grid'");
    /* counted here, with max_trials known whatever the order of the keys;
     * in a double, so a huge grid cannot wrap around */
    double trials = 1;
    for (size_t i = 0; i < s->n_grid; i++)
        trials *= (double)s->grid[i].n_values;
    if (trials > (double)s->max_trials) {
        char counts[256] = "";
        for (size_t i = 0; i < s->n_grid; i++) {
            size_t used = strlen(counts);
            snprintf(counts + used, sizeof counts - used, "%s%zu %s", i ? " x " : "",
                     s->grid[i].n_values, s->grid[i].key);
        }
        return cfg_fail(c, v, path,
                        "the grid has %.0f trials (%s), more than max_trials %ld: search fewer "
                        "values or raise max_trials",
                        trials, counts, s->max_trials);
    }
    s->n_trials = (size_t)trials;
    return 0;
}

void cfg_search_task_free(struct task_config *t)
{
    struct search_config *s = &t->search;
    for (size_t i = 0; i < s->n_grid; i++) {
        for (size_t j = 0; j < s->grid[i].n_values; j++)
            free(s->grid[i].values[j]);
        free(s->grid[i].values);
        free(s->grid[i].lines);
        free(s->grid[i].key);
    }
    free(s->grid);
    free(s->metric);
    memset(s, 0, sizeof *s);
}
