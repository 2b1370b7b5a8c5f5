/* The gate decides deployments: a better challenger passes, noise, ties and
 * collapsed classes do not; McNemar p-values are checked by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eval/gate.h"
#include "eval/metrics_multilabel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka's float assertion works in single precision */
#define assert_near(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static const char *const names3[] = {"negative", "neutral", "positive"};

static struct gate_config policy(const char *primary, const char *test)
{
    struct gate_config g = {0};
    g.primary = (char *)primary;
    g.test = (char *)test;
    g.min_delta = 0.0;
    g.confidence = 0.95;
    g.bootstrap_samples = 1000;
    g.max_recall_drop = 0.05;
    return g;
}

/* A small deterministic generator for the test data (not the gate's). */
static uint64_t lcg_state = 1;
static void lcg_seed(uint64_t s)
{
    lcg_state = s;
}
static double uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

/* y uniform over L labels; pred right with probability acc_of_class[y],
 * else a different label. */
static void simulate(int *y, int *pred, size_t n, size_t L, const double *acc_of_class, int fill_y)
{
    for (size_t i = 0; i < n; i++) {
        if (fill_y) y[i] = (int)(uniform() * (double)L) % (int)L;
        if (uniform() < acc_of_class[y[i]])
            pred[i] = y[i];
        else
            pred[i] = (y[i] + 1 + (int)(uniform() * (double)(L - 1)) % (int)(L - 1)) % (int)L;
    }
}

static int has_reason(const struct gate_decision *d, const char *needle)
{
    size_t i;
    json_t *r;
    json_array_foreach(d->reasons, i, r)
    {
        if (strstr(json_string_value(r), needle)) return 1;
    }
    return 0;
}

static void print_reasons(const struct gate_decision *d)
{
    size_t i;
    json_t *r;
    json_array_foreach(d->reasons, i, r) printf("    %s\n", json_string_value(r));
}

static void test_clearly_better_deploys(void **state)
{
    (void)state;
    enum { N = 2000 };
    static int y[N], a[N], b[N];
    const double acc_a[] = {0.70, 0.60, 0.75}, acc_b[] = {0.85, 0.80, 0.88};
    lcg_seed(42);
    simulate(y, a, N, 3, acc_a, 1);
    simulate(y, b, N, 3, acc_b, 0);

    const char *tests[] = {"bootstrap", "mcnemar"};
    for (int t = 0; t < 2; t++) {
        struct gate_config g = policy("f1_macro", tests[t]);
        g.min_delta = 0.02;
        struct gate_decision d;
        struct err e;
        assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 7, &d, &e), 0);
        print_reasons(&d);
        assert_true(d.deploy);
        assert_string_equal(d.primary, "f1_macro");
        assert_int_equal(d.n, N);
        assert_true(d.delta > 0.1);
        assert_true(d.delta == d.challenger_score - d.champion_score);
        if (t == 0) {
            assert_true(d.ci_low > 0 && d.ci_low < d.delta && d.delta < d.ci_high);
            assert_true(isnan(d.p_value));
            assert_true(has_reason(&d, "bootstrap 95% CI of the gain ["));
            assert_true(has_reason(&d, "): significant"));
        } else {
            assert_true(d.p_value < 1e-10);
            assert_true(isnan(d.ci_low) && isnan(d.ci_high));
        }
        assert_true(has_reason(&d, "required: ok"));
        assert_int_equal(json_object_size(d.guards), 3);
        json_t *gn = json_object_get(d.guards, "recall[neutral]");
        assert_non_null(gn);
        assert_true(json_is_true(json_object_get(gn, "ok")));

        json_t *j = gate_decision_to_json(&d);
        assert_true(json_is_true(json_object_get(j, "deploy")));
        assert_string_equal(json_string_value(json_object_get(j, "test")), tests[t]);
        assert_true(json_is_null(json_object_get(j, t == 0 ? "p_value" : "ci_low")));
        assert_true(json_is_real(json_object_get(j, t == 0 ? "ci_high" : "p_value")));
        assert_int_equal(json_integer_value(json_object_get(j, "n")), N);
        assert_int_equal(json_array_size(json_object_get(j, "reasons")),
                         json_array_size(d.reasons));
        assert_non_null(json_object_get(json_object_get(j, "guards"), "recall[positive]"));
        json_decref(j);
        gate_decision_free(&d);
    }
}

static void test_identical_refused(void **state)
{
    (void)state;
    enum { N = 500 };
    static int y[N], a[N];
    const double acc[] = {0.8, 0.7, 0.9};
    lcg_seed(3);
    simulate(y, a, N, 3, acc, 1);
    const char *tests[] = {"bootstrap", "mcnemar"};
    for (int t = 0; t < 2; t++) {
        struct gate_config g = policy("accuracy", tests[t]);
        struct gate_decision d;
        struct err e;
        assert_int_equal(gate_decide(&g, y, a, a, N, 3, names3, 1, &d, &e), 0);
        print_reasons(&d);
        assert_false(d.deploy);
        assert_near(d.delta, 0, 0);
        assert_true(has_reason(&d, "no gain, the champion stays"));
        assert_true(has_reason(&d, "not significant"));
        if (t == 0) {
            assert_near(d.ci_low, 0, 0);
            assert_near(d.ci_high, 0, 0);
        } else {
            assert_near(d.p_value, 1.0, 0);
        }
        gate_decision_free(&d);
    }
}

/* 60 examples, the challenger fixes 2 more than it breaks: a real but
 * unproven gain. */
static void test_tiny_gain_not_significant(void **state)
{
    (void)state;
    enum { N = 60 };
    int y[N], a[N], b[N];
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        a[i] = b[i] = y[i];
    }
    /* champion wrong on 0..9, challenger wrong on 8..15: b = 6, c = 8 */
    for (int i = 0; i < 10; i++)
        a[i] = 1 - y[i];
    for (int i = 8; i < 16; i++)
        b[i] = 1 - y[i];
    const char *tests[] = {"bootstrap", "mcnemar"};
    const char *primaries[] = {"accuracy", "f1_macro"};
    for (int t = 0; t < 2; t++) {
        for (int p = 0; p < 2; p++) {
            struct gate_config g = policy(primaries[p], tests[t]);
            struct gate_decision d;
            struct err e;
            assert_int_equal(gate_decide(&g, y, a, b, N, 2, NULL, 11, &d, &e), 0);
            print_reasons(&d);
            assert_false(d.deploy);
            assert_true(d.delta > 0);
            assert_true(has_reason(&d, "required: ok"));
            assert_true(has_reason(&d, "not significant"));
            if (t == 0) {
                assert_true(d.ci_low < 0 && d.ci_high > 0);
            } else {
                /* exact: 2 * P(X <= 6), X ~ Bin(14, 1/2) = 2 * 6476 / 16384 */
                assert_near(d.p_value, 2.0 * 6476 / 16384, 1e-12);
            }
            gate_decision_free(&d);
        }
    }
}

static void test_min_delta_not_reached(void **state)
{
    (void)state;
    enum { N = 2000 };
    static int y[N], a[N], b[N];
    const double acc_a[] = {0.70, 0.70, 0.70}, acc_b[] = {0.80, 0.80, 0.80};
    lcg_seed(5);
    simulate(y, a, N, 3, acc_a, 1);
    simulate(y, b, N, 3, acc_b, 0);
    struct gate_config g = policy("accuracy", "bootstrap");
    g.min_delta = 0.5;
    struct gate_decision d;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 1, &d, &e), 0);
    assert_false(d.deploy);
    assert_true(has_reason(&d, "at least +0.5000 required: not enough"));
    assert_true(has_reason(&d, ": significant"));
    gate_decision_free(&d);
}

static void test_recall_guard(void **state)
{
    (void)state;
    enum { N = 3000 };
    static int y[N], a[N], b[N];
    /* the challenger is much better overall but gives up on 'neutral' */
    const double acc_a[] = {0.60, 0.80, 0.60}, acc_b[] = {0.97, 0.50, 0.97};
    lcg_seed(9);
    simulate(y, a, N, 3, acc_a, 1);
    simulate(y, b, N, 3, acc_b, 0);
    struct gate_config g = policy("f1_macro", "bootstrap");
    struct gate_decision d;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 1, &d, &e), 0);
    print_reasons(&d);
    assert_false(d.deploy);
    assert_true(d.delta > 0.1 && d.ci_low > 0);
    assert_true(has_reason(&d, "): significant"));
    assert_true(has_reason(&d, "recall of 'neutral' dropped 0."));
    assert_true(has_reason(&d, "more than the 0.050 allowed"));
    assert_false(has_reason(&d, "recall of 'positive'"));
    json_t *gn = json_object_get(d.guards, "recall[neutral]");
    assert_true(json_is_false(json_object_get(gn, "ok")));
    double drop = json_real_value(json_object_get(gn, "drop"));
    assert_true(drop > 0.25 && drop < 0.35);
    assert_true(json_is_true(json_object_get(json_object_get(d.guards, "recall[negative]"), "ok")));
    gate_decision_free(&d);

    /* a looser bound lets it through */
    g.max_recall_drop = 0.5;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 1, &d, &e), 0);
    assert_true(d.deploy);
    gate_decision_free(&d);
}

/* A class of 10 examples: one example more or less moves its recall by 0.1.
 * A drop of 0.1 there is within noise and must not block a better model;
 * the same drop on a large class is real and does. */
static void test_recall_guard_ignores_noise_of_a_small_class(void **state)
{
    (void)state;
    enum { N = 1010 };
    static int y[N], a[N], b[N];
    for (int i = 0; i < N; i++) {
        y[i] = i < 10 ? 2 : i % 2;
        a[i] = y[i];
        b[i] = y[i];
    }
    for (int i = 10; i < 300; i++) /* the champion is often wrong on the big classes */
        a[i] = 1 - y[i];
    b[0] = 0; /* the challenger misses one example of the small class: recall 1.0 -> 0.9 */
    struct gate_config g = policy("f1_macro", "bootstrap");
    struct gate_decision d;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 5, &d, &e), 0);
    print_reasons(&d);
    assert_true(d.deploy);
    assert_true(has_reason(&d, "within noise"));
    json_t *gp = json_object_get(d.guards, "recall[positive]");
    assert_true(json_is_true(json_object_get(gp, "ok")));
    assert_true(json_real_value(json_object_get(gp, "drop")) > 0.09);
    gate_decision_free(&d);
}

static void test_mcnemar_p_values(void **state)
{
    (void)state;
    int exact;
    /* (|10 - 25| - 1)^2 / 35 = 5.6; P(chi2(1) > 5.6) = erfc(sqrt(2.8)) */
    assert_near(gate_mcnemar_p(10, 25, &exact), 0.017960477526078766, 1e-12);
    assert_int_equal(exact, 0);
    assert_near(gate_mcnemar_p(25, 10, NULL), 0.017960477526078766, 1e-12);
    /* 2 * (C(11,0) + C(11,1) + C(11,2)) / 2^11 = 134 / 2048 */
    assert_near(gate_mcnemar_p(2, 9, &exact), 0.0654296875, 1e-12);
    assert_int_equal(exact, 1);
    assert_near(gate_mcnemar_p(0, 0, &exact), 1.0, 0);
    assert_near(gate_mcnemar_p(5, 5, &exact), 1.0, 0);
    assert_near(gate_mcnemar_p(0, 24, &exact), 2.0 / 16777216, 1e-20);
    /* 25 pairs switch to chi-square: (|0-25|-1)^2/25 = 23.04 */
    assert_near(gate_mcnemar_p(0, 25, &exact), erfc(sqrt(23.04 / 2)), 1e-15);
    assert_int_equal(exact, 0);

    /* through gate_decide: 100 examples, b discordant one way, c the other */
    enum { N = 100 };
    int y[N], a[N], bb[N];
    struct {
        int b, c, significant;
        double p;
    } cases[] = {{10, 25, 1, 0.017960477526078766}, {2, 9, 0, 0.0654296875}, {25, 10, 0, 0}};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < N; i++)
            y[i] = a[i] = bb[i] = i % 2;
        for (int i = 0; i < cases[k].b; i++)
            bb[i] = 1 - y[i];
        for (int i = 50; i < 50 + cases[k].c; i++)
            a[i] = 1 - y[i];
        struct gate_config g = policy("accuracy", "mcnemar");
        g.max_recall_drop = 1;
        struct gate_decision d;
        struct err e;
        assert_int_equal(gate_decide(&g, y, a, bb, N, 2, NULL, 0, &d, &e), 0);
        print_reasons(&d);
        assert_int_equal(d.deploy, cases[k].significant);
        if (cases[k].p > 0) assert_near(d.p_value, cases[k].p, 1e-12);
        if (k == 2) {
            /* the champion is the better one: a small p does not help */
            assert_true(d.p_value < 0.05);
            assert_true(has_reason(&d, "not right more often"));
        }
        gate_decision_free(&d);
    }
}

/* McNemar is about accuracy; the delta rule still uses the primary metric. */
static void test_mcnemar_with_f1_primary(void **state)
{
    (void)state;
    enum { N = 2000 };
    static int y[N], a[N], b[N];
    const double acc_a[] = {0.70, 0.70, 0.70}, acc_b[] = {0.80, 0.80, 0.80};
    lcg_seed(77);
    simulate(y, a, N, 3, acc_a, 1);
    simulate(y, b, N, 3, acc_b, 0);
    struct gate_config g = policy("f1_weighted", "mcnemar");
    struct gate_decision d;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 1, &d, &e), 0);
    assert_true(d.deploy);
    assert_true(has_reason(&d, "f1_weighted 0."));
    assert_true(has_reason(&d, "McNemar on"));
    gate_decision_free(&d);
}

static void test_deterministic_for_seed(void **state)
{
    (void)state;
    enum { N = 800 };
    static int y[N], a[N], b[N];
    const double acc_a[] = {0.70, 0.72, 0.74}, acc_b[] = {0.73, 0.74, 0.76};
    lcg_seed(1234);
    simulate(y, a, N, 3, acc_a, 1);
    simulate(y, b, N, 3, acc_b, 0);
    struct gate_config g = policy("f1_macro", "bootstrap");
    struct gate_decision d1, d2, d3;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 99, &d1, &e), 0);
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 99, &d2, &e), 0);
    assert_int_equal(gate_decide(&g, y, a, b, N, 3, names3, 100, &d3, &e), 0);
    assert_memory_equal(&d1.ci_low, &d2.ci_low, sizeof d1.ci_low);
    assert_memory_equal(&d1.ci_high, &d2.ci_high, sizeof d1.ci_high);
    assert_int_equal(d1.deploy, d2.deploy);
    assert_true(json_equal(d1.reasons, d2.reasons));
    assert_true(d1.ci_low != d3.ci_low || d1.ci_high != d3.ci_high);
    /* a different seed moves the bounds only by resampling noise */
    assert_near(d1.ci_low, d3.ci_low, 0.01);
    gate_decision_free(&d1);
    gate_decision_free(&d2);
    gate_decision_free(&d3);
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    int y[] = {0, 1, 1}, a[] = {0, 1, 0}, b[] = {0, 1, 2};
    struct gate_config g = policy("f1_macro", "bootstrap");
    struct gate_decision d;
    struct err e;
    assert_int_equal(gate_decide(&g, y, a, a, 0, 2, NULL, 0, &d, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "no examples"));
    gate_decision_free(&d);
    assert_int_equal(gate_decide(&g, y, a, a, 3, 1, NULL, 0, &d, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    /* label 2 with 2 labels */
    assert_int_equal(gate_decide(&g, y, a, b, 3, 2, NULL, 0, &d, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "challenger"));
    gate_decision_free(&d);

    g = policy("auc", "bootstrap");
    assert_int_equal(gate_decide(&g, y, a, a, 3, 2, NULL, 0, &d, &e), -1);
    assert_string_equal(e.field, "gate.primary");
    g = policy("accuracy", "t-test");
    assert_int_equal(gate_decide(&g, y, a, a, 3, 2, NULL, 0, &d, &e), -1);
    assert_string_equal(e.field, "gate.test");
    g = policy("accuracy", "bootstrap");
    g.confidence = 1.0;
    assert_int_equal(gate_decide(&g, y, a, a, 3, 2, NULL, 0, &d, &e), -1);
    g = policy("accuracy", "bootstrap");
    g.bootstrap_samples = 0;
    assert_int_equal(gate_decide(&g, y, a, a, 3, 2, NULL, 0, &d, &e), -1);
    /* a failed decision frees cleanly and serializes with nulls */
    json_t *j = gate_decision_to_json(&d);
    assert_true(json_is_null(json_object_get(j, "delta")));
    assert_true(json_is_false(json_object_get(j, "deploy")));
    json_decref(j);
    gate_decision_free(&d);
}

static void test_bootstrap_timing(void **state)
{
    (void)state;
    enum { N = 20000, L = 5 };
    int *y = malloc(N * sizeof *y), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    const double acc_a[] = {0.80, 0.75, 0.70, 0.85, 0.60}, acc_b[] = {0.81, 0.77, 0.72, 0.85, 0.62};
    lcg_seed(2024);
    simulate(y, a, N, L, acc_a, 1);
    simulate(y, b, N, L, acc_b, 0);
    struct gate_config g = policy("f1_macro", "bootstrap");
    struct gate_decision d;
    struct err e;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(gate_decide(&g, y, a, b, N, L, NULL, 1, &d, &e), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("    gate bootstrap: n=%d, %d resamples, f1_macro, %d labels: %.1f ms\n", N,
           g.bootstrap_samples, L, ms);
    print_reasons(&d);
    assert_true(d.ci_low <= d.delta && d.delta <= d.ci_high);
    gate_decision_free(&d);
    free(y);
    free(a);
    free(b);
}

/* ---- multilabel ------------------------------------------------------ */

/* truth: each label present with probability 0.3; a model finds a present
 * label with probability hit[label] and adds an absent one with false_pos */
static void simulate_sets(unsigned char *truth, unsigned char *pred, size_t n, size_t L,
                          const double *hit, double false_pos, int fill_truth)
{
    for (size_t i = 0; i < n * L; i++) {
        if (fill_truth) truth[i] = uniform() < 0.3;
        pred[i] = truth[i] ? uniform() < hit[i % L] : uniform() < false_pos;
    }
}

static void test_multilabel_gate(void **state)
{
    (void)state;
    enum { N = 1500, L = 6 };
    static unsigned char t[N * L], a[N * L], b[N * L], c[N * L];
    const double weak[L] = {0.7, 0.7, 0.7, 0.7, 0.7, 0.7};
    const double strong[L] = {0.85, 0.85, 0.85, 0.85, 0.85, 0.85};
    const double collapsed[L] = {0.9, 0.9, 0.9, 0.9, 0.9, 0.2}; /* label 5 lost */
    lcg_seed(77);
    simulate_sets(t, a, N, L, weak, 0.1, 1);
    simulate_sets(t, b, N, L, strong, 0.05, 0);
    simulate_sets(t, c, N, L, collapsed, 0.05, 0);
    const char *const names[L] = {"a", "b", "c", "d", "e", "f"};
    struct gate_decision d;
    struct err e;

    struct gate_config g = policy("f1_micro", "bootstrap");
    assert_int_equal(gate_decide_multilabel(&g, t, a, b, N, L, names, 3, &d, &e), 0);
    assert_true(d.deploy);
    /* the point estimates are the multilabel metrics' */
    struct metrics_multilabel ma, mb;
    assert_int_equal(metrics_multilabel_compute(t, a, NULL, N, L, &ma, &e), 0);
    assert_int_equal(metrics_multilabel_compute(t, b, NULL, N, L, &mb, &e), 0);
    assert_near(d.champion_score, ma.f1_micro, 1e-12);
    assert_near(d.challenger_score, mb.f1_micro, 1e-12);
    assert_true(d.ci_low > 0);
    gate_decision_free(&d);
    const char *other[] = {"f1_macro", "f1_samples", "accuracy", "recall_micro"};
    const double *want_a[] = {&ma.f1_macro, &ma.f1_samples, &ma.subset_accuracy, &ma.recall_micro};
    for (size_t k = 0; k < 4; k++) {
        g = policy(other[k], "bootstrap");
        assert_int_equal(gate_decide_multilabel(&g, t, a, b, N, L, names, 3, &d, &e), 0);
        assert_near(d.champion_score, *want_a[k], 1e-12);
        assert_true(d.deploy);
        gate_decision_free(&d);
    }
    metrics_multilabel_free(&ma);
    metrics_multilabel_free(&mb);

    /* the same model twice: no gain */
    g = policy("f1_micro", "bootstrap");
    assert_int_equal(gate_decide_multilabel(&g, t, a, a, N, L, names, 3, &d, &e), 0);
    assert_false(d.deploy);
    assert_true(has_reason(&d, "no gain"));
    gate_decision_free(&d);

    /* better on average, but label 'f' collapses: the guard refuses */
    assert_int_equal(gate_decide_multilabel(&g, t, a, c, N, L, names, 3, &d, &e), 0);
    assert_true(d.delta > 0);
    assert_false(d.deploy);
    assert_true(has_reason(&d, "recall of 'f' dropped"));
    assert_true(json_is_false(json_object_get(json_object_get(d.guards, "recall[f]"), "ok")));
    gate_decision_free(&d);

    /* McNemar: a document is right when its set is exact */
    g = policy("f1_micro", "mcnemar");
    assert_int_equal(gate_decide_multilabel(&g, t, a, b, N, L, names, 3, &d, &e), 0);
    assert_true(d.p_value < 0.05 && d.deploy);
    gate_decision_free(&d);

    assert_int_equal(gate_decide_multilabel(&g, t, a, b, 0, L, names, 3, &d, &e), -1);
    assert_non_null(strstr(e.msg, "no examples"));
    assert_int_equal(gate_decide_multilabel(&g, t, a, b, N, 0, names, 3, &d, &e), -1);
    assert_non_null(strstr(e.msg, "at least 1 label is needed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clearly_better_deploys),
        cmocka_unit_test(test_identical_refused),
        cmocka_unit_test(test_tiny_gain_not_significant),
        cmocka_unit_test(test_min_delta_not_reached),
        cmocka_unit_test(test_recall_guard),
        cmocka_unit_test(test_mcnemar_p_values),
        cmocka_unit_test(test_mcnemar_with_f1_primary),
        cmocka_unit_test(test_deterministic_for_seed),
        cmocka_unit_test(test_recall_guard_ignores_noise_of_a_small_class),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_bootstrap_timing),
        cmocka_unit_test(test_multilabel_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
