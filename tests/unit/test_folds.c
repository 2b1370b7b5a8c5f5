/* Stratified k-fold (data/folds.c): every row held out exactly once, each
 * fold keeping the labels' proportions, the same folds for the same seed,
 * and the inputs it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/folds.h"

#include <stdlib.h>
#include <string.h>

/* n rows whose labels come in the proportions of weights[0..L) */
static int *labels_in(size_t n, const size_t *weights, size_t L)
{
    size_t total = 0;
    for (size_t l = 0; l < L; l++)
        total += weights[l];
    int *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        size_t r = (i * 7919) % total, l = 0; /* interleaved, not sorted by label */
        while (r >= weights[l])
            r -= weights[l++];
        y[i] = (int)l;
    }
    return y;
}

static void test_stratified_partition(void **state)
{
    (void)state;
    const size_t weights[] = {70, 20, 10}, n = 1003, L = 3;
    int *y = labels_in(n, weights, L);
    for (size_t k = 2; k <= 10; k++) {
        int *fold = malloc(n * sizeof *fold);
        struct err e;
        err_clear(&e);
        assert_int_equal(folds_stratified(y, n, L, k, 42, NULL, fold, &e), 0);
        size_t size[10] = {0}, per[10][3] = {{0}}, total[3] = {0};
        for (size_t i = 0; i < n; i++) {
            /* a fold number per row: each row is in exactly one test fold */
            assert_true(fold[i] >= 0 && (size_t)fold[i] < k);
            size[fold[i]]++;
            per[fold[i]][y[i]]++;
            total[y[i]]++;
        }
        for (size_t f = 0; f < k; f++) {
            /* sizes within one of each other, and of each label's share */
            assert_true(size[f] == n / k || size[f] == n / k + 1);
            for (size_t l = 0; l < L; l++)
                assert_true(per[f][l] == total[l] / k || per[f][l] == total[l] / k + 1);
        }
        free(fold);
    }
    free(y);
}

static void test_deterministic(void **state)
{
    (void)state;
    const size_t weights[] = {1, 1}, n = 200;
    int *y = labels_in(n, weights, 2);
    int a[200], b[200], c[200];
    struct err e;
    err_clear(&e);
    assert_int_equal(folds_stratified(y, n, 2, 5, 7, NULL, a, &e), 0);
    assert_int_equal(folds_stratified(y, n, 2, 5, 7, NULL, b, &e), 0);
    assert_int_equal(folds_stratified(y, n, 2, 5, 8, NULL, c, &e), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_true(memcmp(a, c, sizeof a) != 0); /* another seed, other folds */
    /* the folds are shuffled, not the rows in order */
    size_t in_order = 0;
    for (size_t i = 0; i + 1 < n; i++)
        in_order += a[i] == a[i + 1];
    assert_true(in_order < n / 2);
    free(y);
}

static void test_errors(void **state)
{
    (void)state;
    int y[] = {0, 0, 0, 0, 0, 1, 1, 0, 0, 0}, fold[10];
    const char *names[] = {"spam", "ham"};
    struct err e;
    err_clear(&e);
    assert_int_equal(folds_stratified(y, 10, 2, 3, 0, names, fold, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "label 'ham' has 2 training rows, fewer than the 3 folds (each fold "
                               "must hold out every label): lower `folds`, or add examples of it");
    err_clear(&e);
    assert_int_equal(folds_stratified(y, 10, 2, 3, 0, NULL, fold, &e), -1);
    assert_non_null(strstr(e.msg, "label '#1' has 2 training rows"));
    err_clear(&e);
    assert_int_equal(folds_stratified(y, 10, 2, 2, 0, names, fold, &e), 0);
    assert_int_equal(folds_stratified(y, 10, 2, 1, 0, names, fold, &e), -1);
    assert_string_equal(e.msg, "cross-validation needs at least 2 folds, got 1");
    assert_int_equal(folds_stratified(y, 10, 2, 11, 0, names, fold, &e), -1);
    assert_string_equal(e.msg, "11 folds need at least 11 training rows, there are 10");
    int bad[] = {0, 1, 2, 0};
    assert_int_equal(folds_stratified(bad, 4, 2, 2, 0, names, fold, &e), -1);
    assert_string_equal(e.msg, "row 2 has label 2, outside [0, 2)");
    /* a label without any row takes no fold */
    int sparse[] = {0, 2, 0, 2};
    err_clear(&e);
    assert_int_equal(folds_stratified(sparse, 4, 3, 2, 0, NULL, fold, &e), 0);
    assert_true(fold[0] != fold[2] && fold[1] != fold[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stratified_partition),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
