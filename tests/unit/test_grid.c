/* Hyper-parameter grids: `model: {search: ...}` as the config reads it
 * (base/config_search.c), the trials a grid expands to and their settings
 * checked by the model kind (ml/grid.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/config.h"
#include "config_expect.h"
#include "ml/grid.h"

#include <stdlib.h>
#include <string.h>

/* 5 lines: `model:` is line 6, `search:` line 8, its first key line 9 */
#define TASK                                                                                       \
    "tasks:\n"                                                                                     \
    "  s:\n"                                                                                       \
    "    type: binary\n"                                                                           \
    "    text: [text]\n"                                                                           \
    "    label: y\n"                                                                               \
    "    model:\n"                                                                                 \
    "      kind: linear\n"                                                                         \
    "      search:\n"

static void test_defaults_and_values(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(TASK "        grid: {C: [0.1, 1, 10], ngram_max: [1, 2]}\n", &c, &e), 0);
    const struct search_config *s = &c.tasks[0].search;
    assert_true(s->enabled);
    assert_int_equal(s->line, 9);
    assert_int_equal(s->n_grid, 2);
    assert_string_equal(s->grid[0].key, "C");
    assert_int_equal(s->grid[0].n_values, 3);
    assert_string_equal(s->grid[0].values[2], "10");
    assert_int_equal(s->grid[0].lines[2], 9);
    assert_int_equal(s->n_trials, 6);
    assert_int_equal(s->folds, 5);
    assert_null(s->metric);
    assert_int_equal(s->jobs, 0);
    assert_int_equal(s->max_trials, 200);
    assert_int_equal(s->seed, 0);
    assert_int_equal(c.tasks[0].n_model_params, 0); /* search is not a model param */
    config_free(&c);

    assert_int_equal(load(TASK "        grid:\n"
                               "          C: [1, 2]\n"
                               "        folds: 3\n"
                               "        metric: accuracy\n"
                               "        jobs: 2\n"
                               "        max_trials: 2\n"
                               "        seed: 9\n"
                               "      C: 5\n",
                          &c, &e),
                     0);
    s = &c.tasks[0].search;
    assert_int_equal(s->grid[0].lines[1], 10);
    assert_int_equal(s->folds, 3);
    assert_string_equal(s->metric, "accuracy");
    assert_int_equal(s->jobs, 2);
    assert_int_equal(s->max_trials, 2);
    assert_int_equal(s->seed, 9);
    assert_int_equal(c.tasks[0].n_model_params, 1);
    config_free(&c);

    assert_int_equal(load(TASK "        grid: {C: [1]}\n", &c, &e), 0);
    assert_int_equal(c.tasks[0].search.n_trials, 1);
    config_free(&c);
    /* without `search:` there is none */
    assert_int_equal(load("tasks:\n  s: {type: binary, text: [t], label: y}\n", &c, &e), 0);
    assert_false(c.tasks[0].search.enabled);
    config_free(&c);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error(TASK "        folds: 3\n",
                 "boucle.yaml:9: tasks.s.model.search: missing required key 'grid'");
    expect_error(TASK "        grid: {C: 1}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid.C: expected a list, got a scalar");
    expect_error(TASK "        grid: {C: []}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid.C: expected at least one value");
    expect_error(TASK "        grid: {C: [1, [2]]}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid.C: expected a list of scalar values, "
                 "got a list in it");
    expect_error(TASK "        grid: {C: [1, 2, 1]}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid.C: value '1' listed twice");
    expect_error(TASK "        grid: {}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid: expected at least one key to search "
                 "over");
    expect_error(TASK "        grid: {kind: [linear, fasttext]}\n",
                 "boucle.yaml:9: tasks.s.model.search.grid.kind: 'kind' cannot be searched over");
    expect_error(TASK "        grid: {C: [1]}\n        folds: 1\n",
                 "boucle.yaml:10: tasks.s.model.search.folds: expected an integer from 2 to 20, "
                 "got '1'");
    expect_error(TASK "        grid: {C: [1]}\n        metric: log_loss\n",
                 "boucle.yaml:10: tasks.s.model.search.metric: expected one of accuracy, "
                 "f1_macro, f1_weighted, precision_macro, recall_macro, roc_auc, f1_micro, "
                 "f1_samples, subset_accuracy, precision_micro, recall_micro, precision_samples, "
                 "recall_samples, pr_auc, got 'log_loss'");
    expect_error(TASK "        grid: {C: [1]}\n        jobs: 0\n",
                 "boucle.yaml:10: tasks.s.model.search.jobs: expected an integer from 1 to 64, "
                 "got '0'");
    expect_error(TASK "        grid: {C: [1]}\n        colds: 3\n",
                 "boucle.yaml:10: tasks.s.model.search.colds: unknown key");
    expect_error(TASK "        grid: {C: [1]}\n        seed: -1\n",
                 "boucle.yaml:10: tasks.s.model.search.seed: expected an integer >= 0, got '-1'");
    expect_error("tasks:\n  s:\n    type: binary\n    text: [t]\n    label: y\n"
                 "    model: {kind: linear, search: [C]}\n",
                 "boucle.yaml:6: tasks.s.model.search: expected a mapping, got a list");
    /* too many trials: refused with the count, whatever the order of the keys */
    expect_error(TASK "        grid: {C: [1, 2, 3], min_df: [1, 2], eps: [0.1, 0.01]}\n"
                      "        max_trials: 10\n",
                 "boucle.yaml:9: tasks.s.model.search: the grid has 12 trials (3 C x 2 min_df x "
                 "2 eps), more than max_trials 10: search fewer values or raise max_trials");
    expect_error(TASK "        grid:\n"
                      "          C: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n"
                      "          min_df: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]\n",
                 "boucle.yaml:9: tasks.s.model.search: the grid has 210 trials (15 C x 14 "
                 "min_df), more than max_trials 200: search fewer values or raise max_trials");
}

/* The grid of a loaded config, for the expansion tests. */
static struct config loaded(const char *yaml)
{
    struct config c;
    struct err e;
    if (load(yaml, &c, &e) != 0) fail_msg("%s", e.msg);
    return c;
}

static void test_expansion_order(void **state)
{
    (void)state;
    struct config c = loaded(TASK "        grid: {C: [0.1, 1, 10], ngram_max: [1, 2]}\n"
                                  "      min_df: 3\n"
                                  "      C: 5\n");
    const struct task_config *t = &c.tasks[0];
    const char *want[6][2] = {{"0.1", "1"}, {"0.1", "2"}, {"1", "1"},
                              {"1", "2"},   {"10", "1"},  {"10", "2"}};
    struct config_param p[8];
    struct buf text;
    buf_init(&text);
    for (size_t trial = 0; trial < 6; trial++) {
        size_t n = grid_trial_params(t->model_params, t->n_model_params, &t->search, trial, p);
        /* the task's own C gives way to the grid's */
        assert_int_equal(n, 3);
        assert_string_equal(p[0].key, "min_df");
        assert_string_equal(p[1].key, "C");
        assert_string_equal(p[1].value, want[trial][0]);
        assert_string_equal(p[2].key, "ngram_max");
        assert_string_equal(p[2].value, want[trial][1]);
        assert_int_equal(p[1].line, 9);
    }
    grid_trial_text(&t->search, 3, &text);
    assert_string_equal(text.data, "C=1, ngram_max=2");
    buf_free(&text);

    struct model_config mc[6];
    struct err e;
    err_clear(&e);
    assert_int_equal(
        grid_configs(t->model_kind, t->model_params, t->n_model_params, &t->search, mc, &e), 0);
    assert_true(mc[0].C == 0.1 && mc[0].text.ngram_max == 1 && mc[0].text.min_df == 3);
    assert_true(mc[5].C == 10 && mc[5].text.ngram_max == 2);
    config_free(&c);
}

static void expect_grid_error(const char *yaml, const char *msg)
{
    struct config c = loaded(yaml);
    const struct task_config *t = &c.tasks[0];
    struct model_config *mc = malloc(t->search.n_trials * sizeof *mc);
    struct err e;
    err_clear(&e);
    assert_int_equal(
        grid_configs(t->model_kind, t->model_params, t->n_model_params, &t->search, mc, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (strcmp(e.msg, msg) != 0) fail_msg("got  '%s'\nwant '%s'", e.msg, msg);
    free(mc);
    config_free(&c);
}

static void test_values_checked_by_kind(void **state)
{
    (void)state;
    /* a bad value: the trial, the key, the value and its line */
    expect_grid_error(TASK "        grid:\n          C: [1, -2]\n",
                      "search trial 2 of 2 (C=-2): model.C (line 10): expected a positive number, "
                      "got '-2'");
    expect_grid_error(TASK "        grid: {penalty: [l2, l3]}\n",
                      "search trial 2 of 2 (penalty=l3): model.penalty (line 9): expected l2 or "
                      "l1, got 'l3'");
    /* a key the kind does not have */
    expect_grid_error(TASK "        grid: {dim: [10]}\n",
                      "search trial 1 of 1 (dim=10): model.dim (line 9): unknown key (known: "
                      "ngram_range, ngram_min, ngram_max, min_df, max_df, sublinear_tf, "
                      "max_features, analyzer, char_ngrams, hashing_bits, stop_words, stemming, "
                      "keep_punct, split_urls, C, eps, class_weight, penalty, loss, threshold, "
                      "validation_fraction)");
    /* values fine alone, not together */
    expect_grid_error(TASK "        grid: {ngram_min: [1, 3]}\n",
                      "search trial 2 of 2 (ngram_min=3): model.ngram_max (line 9): must not be "
                      "below ngram_min (2 < 3)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_expansion_order),
        cmocka_unit_test(test_values_checked_by_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
