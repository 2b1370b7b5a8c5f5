/* Unit tests for data/labelset: one canonical spelling per set, errors that
 * say where, and a split that keeps every label on both sides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/labelset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void expect_set(const char *cell, const char *sep, const char *want)
{
    struct buf b;
    buf_init(&b);
    struct err e;
    err_clear(&e);
    if (labelset_parse(cell, strlen(cell), sep, &b, "here", &e) != 0)
        fail_msg("'%s': %s", cell, e.msg);
    if (strcmp(b.data, want)) fail_msg("'%s' gave '%s', want '%s'", cell, b.data, want);
    buf_free(&b);
}

static void expect_error(const char *cell, const char *sep, enum err_code code, const char *msg)
{
    struct buf b;
    buf_init(&b);
    struct err e;
    err_clear(&e);
    assert_int_equal(labelset_parse(cell, strlen(cell), sep, &b, "line 3, column 'tags'", &e), -1);
    assert_int_equal(e.code, code);
    if (strcmp(e.msg, msg)) fail_msg("'%s' gave '%s', want '%s'", cell, e.msg, msg);
    buf_free(&b);
}

static void test_parse_canonical(void **state)
{
    (void)state;
    expect_set("b|a|c", "|", "a|b|c");
    expect_set(" Billing Issue | Account  |Billing Issue", "|", "Account|Billing Issue");
    expect_set("solo", "|", "solo");
    expect_set("", "|", "");
    expect_set("  \t ", "|", ""); /* no label: a negative for every label */
    expect_set("z, y, x", ", ", "x|y|z");
    expect_set("a;b", ";", "a|b");
    /* byte order, so the set does not depend on a locale; a prefix sorts first */
    expect_set("ab|a|B", "|", "B|a|ab");
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("a||b", "|", ERR_INVALID, "line 3, column 'tags': label 2 of the list is empty");
    expect_error("a|", "|", ERR_INVALID, "line 3, column 'tags': label 2 of the list is empty");
    expect_error("x|y;z", ";", ERR_INVALID,
                 "line 3, column 'tags': label 'x|y' contains '|', which boucle keeps label sets "
                 "with");
    char *big = malloc(LABELSET_MAX_LABEL + 4);
    memset(big, 'a', LABELSET_MAX_LABEL + 1);
    strcpy(big + LABELSET_MAX_LABEL + 1, "|b");
    expect_error(big, "|", ERR_LIMIT,
                 "line 3, column 'tags': label 1 is 1025 bytes, over the limit of 1024");
    free(big);
}

static void test_join_and_walk(void **state)
{
    (void)state;
    const char *labels[] = {"urgent", " bug", "urgent", "api"};
    struct buf b;
    buf_init(&b);
    struct err e;
    assert_int_equal(labelset_join(labels, NULL, 4, &b, "labels", &e), 0);
    assert_string_equal(b.data, "api|bug|urgent");
    assert_int_equal(labelset_count(b.data), 3);
    const char *cur = b.data, *l;
    size_t len;
    assert_true(labelset_next(&cur, &l, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(l, "api", 3);
    assert_true(labelset_next(&cur, &l, &len));
    assert_memory_equal(l, "bug", 3);
    assert_true(labelset_next(&cur, &l, &len));
    assert_int_equal(len, 6);
    assert_false(labelset_next(&cur, &l, &len));
    assert_int_equal(labelset_count(""), 0);
    assert_int_equal(labelset_join(NULL, NULL, 0, &b, "labels", &e), 0);
    assert_string_equal(b.data, "");
    const char *bad[] = {"ok", ""};
    assert_int_equal(labelset_join(bad, NULL, 2, &b, "labels", &e), -1);
    assert_string_equal(e.msg, "labels: label 2 of the list is empty");
    buf_free(&b);
}

/* 1000 rows: a common label, a rare one (10 rows), a pair (2 rows), a lone
 * label, and untagged rows. Each label keeps ~its share of test rows, the
 * rare one is on both sides, the lone one is trained on. */
static void test_split_keeps_shares(void **state)
{
    (void)state;
    enum { N = 1000 };
    const char *sets[N];
    for (size_t i = 0; i < N; i++) {
        sets[i] = i % 2 ? "common" : "";
        if (i % 100 == 7) sets[i] = "common|rare";
        if (i == 500 || i == 501) sets[i] = "pair";
        if (i == 999) sets[i] = "alone|common";
    }
    unsigned char is_test[N];
    labelset_split_stratified(sets, N, 0.2, 42, is_test);
    size_t test = 0, common = 0, common_test = 0, rare_test = 0, empty = 0, empty_test = 0;
    for (size_t i = 0; i < N; i++) {
        test += is_test[i];
        if (strstr(sets[i], "common")) common++, common_test += is_test[i];
        if (strstr(sets[i], "rare")) rare_test += is_test[i];
        if (!*sets[i]) empty++, empty_test += is_test[i];
    }
    assert_int_equal(test, 200);
    assert_int_equal(rare_test, 2); /* 20% of 10 */
    assert_true(common_test >= common / 5 - 1 && common_test <= common / 5 + 1);
    assert_true(empty_test >= empty / 5 - 1 && empty_test <= empty / 5 + 1);
    assert_int_equal(is_test[999], 0); /* the only row of 'alone' */
    /* deterministic for a seed, different for another */
    unsigned char again[N], other[N];
    labelset_split_stratified(sets, N, 0.2, 42, again);
    assert_memory_equal(is_test, again, N);
    labelset_split_stratified(sets, N, 0.2, 7, other);
    assert_memory_not_equal(is_test, other, N);
    labelset_split_stratified(sets, N, 0, 42, other); /* no test share: all train */
    for (size_t i = 0; i < N; i++)
        assert_int_equal(other[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_canonical),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_join_and_walk),
        cmocka_unit_test(test_split_keeps_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
