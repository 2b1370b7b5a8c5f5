/* The tabular block (ml/tabular.c): imputation and standardisation as
 * scikit-learn's SimpleImputer + StandardScaler, one-hot with an unseen
 * bucket, hashed buckets, explanation names, and an artifact section that
 * round-trips and refuses damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ml/tabular.h"

#include <math.h>
#include <string.h>

/* 4 rows: one numeric field (one value missing), two categorical fields
 * (plan: one missing, one with spaces around it; city: hashed in 8 buckets). */
static const double num[] = {1, NAN, 3, 10};
static const char *cat[] = {"basic", "paris", " pro ", "lyon", NULL, "paris", "basic", "rome"};
static const size_t cat_lens[] = {5, 5, 5, 4, 0, 5, 5, 4};
static const struct tabular_values rows = {1, 2, num, cat, cat_lens};

static struct numeric_field nf[] = {{"tenure", IMPUTE_MEDIAN, 0, 3}};
static struct categorical_field cf[] = {{"plan", 0, 4}, {"city", 3, 5}};

static void fit(struct tabular *t, enum impute_kind impute)
{
    nf[0].impute = impute;
    struct err e;
    assert_int_equal(tabular_fit(t, nf, 1, cf, 2, &rows, 4, &e), 0);
}

/* One row's features. */
struct feats {
    uint32_t idx[3];
    double val[3];
};

static struct feats apply(const struct tabular *t, double x, const char *plan, const char *city)
{
    const char *c[] = {plan, city};
    size_t l[] = {plan ? strlen(plan) : 0, city ? strlen(city) : 0};
    struct tabular_values row = {1, 2, &x, c, l};
    struct feats f;
    assert_int_equal(tabular_transform(t, &row, 100, f.idx, f.val), 3);
    return f;
}

static void test_numeric_imputed_and_standardised(void **state)
{
    (void)state;
    struct tabular t;
    fit(&t, IMPUTE_MEDIAN);
    /* median of 1, 3, 10 is 3; the imputed column is 1, 3, 3, 10 */
    assert_float_equal(t.num[0].fill, 3, 0);
    assert_float_equal(t.num[0].mean, 4.25, 1e-12);
    double sd = sqrt((3.25 * 3.25 + 1.25 * 1.25 * 2 + 5.75 * 5.75) / 4);
    assert_float_equal(t.num[0].scale, sd, 1e-12);
    struct feats f = apply(&t, 10, "basic", "x");
    assert_int_equal(f.idx[0], 100);
    assert_float_equal(f.val[0], 5.75 / sd, 1e-12);
    f = apply(&t, NAN, "basic", "x"); /* missing: the median */
    assert_float_equal(f.val[0], -1.25 / sd, 1e-12);
    f = apply(&t, 1e300, "basic", "x"); /* absurd: clamped, still finite */
    assert_float_equal(f.val[0], 1e9, 0);
    tabular_free(&t);

    fit(&t, IMPUTE_MEAN); /* 14 / 3 */
    assert_float_equal(t.num[0].fill, 14.0 / 3, 1e-12);
    assert_float_equal(t.num[0].mean, (14 + 14.0 / 3) / 4, 1e-12);
    tabular_free(&t);
    fit(&t, IMPUTE_ZERO);
    assert_float_equal(t.num[0].fill, 0, 0);
    assert_float_equal(t.num[0].mean, 3.5, 1e-12);
    tabular_free(&t);

    /* a constant column keeps scale 1 (all zeros), as StandardScaler */
    const double same[] = {2, 2};
    struct tabular_values v = {1, 0, same, NULL, NULL};
    struct err e;
    assert_int_equal(tabular_fit(&t, nf, 1, NULL, 0, &v, 2, &e), 0);
    assert_float_equal(t.num[0].scale, 1, 0);
    assert_int_equal(t.n_features, 1);
    tabular_free(&t);
}

static void test_categorical_one_hot_and_hashed(void **state)
{
    (void)state;
    struct tabular t;
    fit(&t, IMPUTE_MEDIAN);
    /* plan: "" (missing), "basic", "pro" sorted, + unseen; city: 8 buckets */
    assert_int_equal(t.cat[0].n_values, 3);
    assert_string_equal(t.cat[0].values[0], "");
    assert_string_equal(t.cat[0].values[1], "basic");
    assert_string_equal(t.cat[0].values[2], "pro");
    assert_int_equal(t.cat[0].first, 1);
    assert_int_equal(t.cat[0].width, 4);
    assert_int_equal(t.cat[1].first, 5);
    assert_int_equal(t.cat[1].width, 8);
    assert_int_equal(t.n_features, 13);

    struct feats f = apply(&t, 1, "pro", "paris");
    assert_int_equal(f.idx[1], 100 + 1 + 2);
    assert_float_equal(f.val[1], 1, 0);
    struct feats g = apply(&t, 1, "\tpro  ", "paris"); /* spaces do not count */
    assert_int_equal(g.idx[1], f.idx[1]);
    assert_int_equal(apply(&t, 1, NULL, "paris").idx[1], 101);   /* missing */
    assert_int_equal(apply(&t, 1, "  ", "paris").idx[1], 101);   /* blank = missing */
    assert_int_equal(apply(&t, 1, "gold", "paris").idx[1], 104); /* unseen */
    assert_int_equal(apply(&t, 1, "Pro", "paris").idx[1], 104);  /* case counts */
    /* hashed: the same value, the same bucket; any value has one */
    uint32_t paris = f.idx[2];
    assert_true(paris >= 105 && paris < 113);
    assert_int_equal(apply(&t, 1, "pro", "paris").idx[2], paris);
    assert_true(apply(&t, 1, "pro", "nowhere-seen").idx[2] < 113);
    tabular_free(&t);
}

static void test_feature_names(void **state)
{
    (void)state;
    struct tabular t;
    fit(&t, IMPUTE_MEDIAN);
    char name[64];
    const char *c[] = {"gold", "paris"};
    size_t l[] = {4, 5};
    double x = 2;
    struct tabular_values row = {1, 2, &x, c, l};
    tabular_feature_name(&t, &row, 0, name, sizeof name);
    assert_string_equal(name, "tenure");
    tabular_feature_name(&t, &row, 1, name, sizeof name);
    assert_string_equal(name, "plan=gold (unseen)");
    tabular_feature_name(&t, &row, 2, name, sizeof name);
    assert_string_equal(name, "city=paris");
    c[0] = " basic ";
    l[0] = 7;
    tabular_feature_name(&t, &row, 1, name, sizeof name);
    assert_string_equal(name, "plan=basic");
    c[0] = NULL;
    tabular_feature_name(&t, &row, 1, name, sizeof name);
    assert_string_equal(name, "plan=(missing)");
    tabular_feature_name(&t, &row, 1, name, 8); /* cut to fit */
    assert_string_equal(name, "plan=(m");
    tabular_free(&t);
}

static void test_append_rows(void **state)
{
    (void)state;
    struct tabular t;
    fit(&t, IMPUTE_MEDIAN);
    /* two text features on row 0, none on rows 1-3 */
    size_t row_ptr[] = {0, 2, 2, 2, 2};
    uint32_t idx[] = {0, 4};
    double val[] = {0.6, 0.8};
    struct tfidf_matrix text = {4, row_ptr, idx, val};
    struct tfidf_matrix x;
    tabular_append_rows(&t, &text, &rows, 4, 5, &x);
    assert_int_equal(x.n_rows, 4);
    assert_int_equal(x.row_ptr[1], 5);
    assert_int_equal(x.row_ptr[4], 14);
    assert_int_equal(x.idx[1], 4);
    assert_int_equal(x.idx[2], 5); /* the block starts at the offset */
    struct feats f = apply(&t, NAN, "pro", "lyon");
    for (size_t k = 0; k < 3; k++) { /* row 1 is (missing, " pro ", lyon) */
        assert_int_equal(x.idx[5 + k], f.idx[k] - 100 + 5);
        assert_float_equal(x.val[5 + k], f.val[k], 0);
    }
    tfidf_matrix_free(&x);
    tabular_append_rows(&t, NULL, &rows, 4, 0, &x); /* no text at all */
    assert_int_equal(x.row_ptr[4], 12);
    assert_int_equal(x.idx[0], 0);
    tfidf_matrix_free(&x);
    tabular_free(&t);
}

static void test_artifact_section(void **state)
{
    (void)state;
    struct tabular t, u;
    fit(&t, IMPUTE_MEAN);
    struct buf b;
    buf_init(&b);
    tabular_save(&t, &b);
    struct reader r;
    reader_init(&r, b.data, b.len);
    struct err e;
    assert_int_equal(tabular_load(&u, &r, &e), 0);
    assert_int_equal(r.left, 0);
    assert_int_equal(u.n_features, t.n_features);
    assert_int_equal(u.num[0].impute, IMPUTE_MEAN);
    const char *plans[] = {"pro", "gold", NULL};
    for (size_t i = 0; i < 3; i++) {
        struct feats a = apply(&t, (double)i, plans[i], "lyon");
        struct feats c = apply(&u, (double)i, plans[i], "lyon");
        assert_memory_equal(a.idx, c.idx, sizeof a.idx);
        assert_memory_equal(a.val, c.val, sizeof a.val);
    }
    tabular_free(&u);
    /* every truncation is refused (and frees what it read) */
    for (size_t len = 0; len < b.len; len++) {
        reader_init(&r, b.data, len);
        assert_int_equal(tabular_load(&u, &r, &e), -1);
        assert_int_equal(e.code, ERR_CORRUPT);
    }
    /* values out of order: "basic" then "" */
    char *basic = memmem(b.data, b.len, "basic", 5);
    assert_non_null(basic);
    memcpy(basic, "\0\0\0\0\0", 5);
    reader_init(&r, b.data, b.len);
    assert_int_equal(tabular_load(&u, &r, &e), -1);
    assert_non_null(strstr(e.msg, "categorical field 'plan'"));
    buf_free(&b);
    tabular_free(&t);
}

/* What the config already refuses is refused here too: the ml layer may be
 * used alone, and an artifact that could not load again must not be made. */
static void test_fit_limits(void **state)
{
    (void)state;
    struct tabular t;
    struct err e;
    char long_name[1100];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    struct numeric_field n = {long_name, IMPUTE_MEDIAN, 0, 1};
    assert_int_equal(tabular_fit(&t, &n, 1, NULL, 0, &rows, 0, &e), -1);
    assert_non_null(strstr(e.msg, "is over 1024 bytes"));
    struct categorical_field c = {"zip", TABULAR_MAX_HASH_BITS + 1, 1};
    assert_int_equal(tabular_fit(&t, NULL, 0, &c, 1, &rows, 0, &e), -1);
    assert_non_null(strstr(e.msg, "hash_bits 25"));
    assert_int_equal(tabular_fit(&t, nf, TASK_MAX_TABULAR_FIELDS + 1, NULL, 0, &rows, 0, &e), -1);
    assert_non_null(strstr(e.msg, "over the limit of 256"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_imputed_and_standardised),
        cmocka_unit_test(test_categorical_one_hot_and_hashed),
        cmocka_unit_test(test_feature_names),
        cmocka_unit_test(test_append_rows),
        cmocka_unit_test(test_artifact_section),
        cmocka_unit_test(test_fit_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
