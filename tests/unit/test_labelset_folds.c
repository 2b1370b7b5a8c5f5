/* Iterative stratified k-fold of label sets (data/labelset_stratify.c):
 * every row held out exactly once, every label's rows spread evenly over
 * the folds, rare labels and unlabelled rows tolerated, the same folds for
 * the same seed, and the inputs it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "data/labelset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 900
#define L 12
#define MAX_K 10

static char *sets[N];
static size_t support[L];

/* Label t is on about one row in t + 2 (a common head, a long tail);
 * "rare" on 2 rows, "lone" on 1, and every 9th row has no label at all.
 * A fixed generator, so the test reads the same data everywhere. */
static void make_sets(void)
{
    uint32_t s = 12345;
    memset(support, 0, sizeof support);
    for (size_t i = 0; i < N; i++) {
        char buf[256] = "";
        if (i % 9 != 0)
            for (size_t t = 0; t < L; t++) {
                s = s * 1103515245u + 12345u;
                if ((s >> 16) % (t + 2) != 0) continue;
                char name[16];
                snprintf(name, sizeof name, "%s%02zu", *buf ? "|t" : "t", t);
                strcat(buf, name);
                support[t]++;
            }
        if (i == 100 || i == 200) strcat(buf, *buf ? "|zrare" : "zrare");
        if (i == 300) strcat(buf, *buf ? "|zzlone" : "zzlone");
        sets[i] = strdup(buf);
    }
}

static int setup(void **state)
{
    (void)state;
    make_sets();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < N; i++)
        free(sets[i]);
    return 0;
}

static int has(const char *set, const char *label)
{
    const char *cur = set, *l;
    size_t len;
    while (labelset_next(&cur, &l, &len))
        if (len == strlen(label) && !memcmp(l, label, len)) return 1;
    return 0;
}

static void test_every_row_in_one_fold(void **state)
{
    (void)state;
    int fold[N];
    for (size_t k = 2; k <= MAX_K; k++) {
        struct err e;
        err_clear(&e);
        assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, k, 42, fold, &e),
                         0);
        size_t size[MAX_K] = {0};
        for (size_t i = 0; i < N; i++) {
            assert_true(fold[i] >= 0 && (size_t)fold[i] < k);
            size[fold[i]]++;
        }
        /* the folds' sizes within 2% of the rows of each other's share */
        for (size_t f = 0; f < k; f++)
            assert_true(abs((int)size[f] - (int)(N / k)) <= N / 50);
    }
}

static void test_labels_balanced(void **state)
{
    (void)state;
    int fold[N];
    for (size_t k = 2; k <= 5; k++) {
        struct err e;
        err_clear(&e);
        assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, k, 7, fold, &e),
                         0);
        for (size_t t = 0; t < L; t++) {
            char name[16];
            snprintf(name, sizeof name, "t%02zu", t);
            size_t per[MAX_K] = {0};
            for (size_t i = 0; i < N; i++)
                per[fold[i]] += has(sets[i], name);
            /* each fold holds its 1/k of the label, give or take one row
             * and 10%: the rarest labels are placed exactly, the common
             * ones absorb what the rarer ones' rows brought along */
            double want = (double)support[t] / (double)k;
            for (size_t f = 0; f < k; f++)
                assert_true(fabs((double)per[f] - want) <= 1 + 0.1 * want);
        }
        /* a label with fewer rows than folds: its rows in different folds */
        int rare[2], n_rare = 0;
        for (size_t i = 0; i < N; i++)
            if (has(sets[i], "zrare")) rare[n_rare++] = fold[i];
        assert_int_equal(n_rare, 2);
        assert_int_not_equal(rare[0], rare[1]);
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    int a[N], b[N];
    struct err e;
    err_clear(&e);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, 5, 3, a, &e), 0);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, 5, 3, b, &e), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, 5, 4, b, &e), 0);
    assert_memory_not_equal(a, b, sizeof a);
}

static void test_refused(void **state)
{
    (void)state;
    int fold[N];
    struct err e;
    err_clear(&e);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, N, 1, 0, fold, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_non_null(strstr(e.msg, "1 folds of 900 rows"));
    err_clear(&e);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, 3, 4, 0, fold, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    /* as many folds as rows: one row each */
    err_clear(&e);
    assert_int_equal(labelset_folds_stratified((const char *const *)sets, 4, 4, 0, fold, &e), 0);
    int seen[4] = {0};
    for (size_t i = 0; i < 4; i++)
        seen[fold[i]]++;
    for (size_t f = 0; f < 4; f++)
        assert_int_equal(seen[f], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_in_one_fold),
        cmocka_unit_test(test_labels_balanced),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
