/* Unit tests for data/data_contract (each kind of difference, the limits at
 * their boundary, nothing on identical data, the labels-only scope) and for
 * the stored profile data_profile_version builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/data_contract.h"
#include "data/data_profile.h"

#include <stdlib.h>
#include <string.h>

static char *text_fields[] = {"text"};
static struct numeric_field numeric[] = {{.name = "age"}};

static struct task_config task(void)
{
    struct task_config t = {.name = "t",
                            .type = TASK_MULTICLASS,
                            .text_fields = text_fields,
                            .n_text_fields = 1,
                            .numeric = numeric,
                            .n_numeric = 1,
                            .label = "y"};
    clean_config_defaults(&t.clean);
    return t;
}

static struct contract_config rules(void)
{
    return (struct contract_config){.on_violation = CONTRACT_WARN,
                                    .max_null_rate_increase = 0.05,
                                    .labels = CONTRACT_LABELS_SAME,
                                    .columns = CONTRACT_COLUMNS_SAME,
                                    .max_label_share_change = -1};
}

/* A profile of n rows with the given file columns: the first `nulls` rows
 * with a null text, labels cycling through `labels` (comma separated). */
static json_t *profile(const char *const *columns, size_t n_columns, size_t n, size_t nulls,
                       const char *labels)
{
    struct task_config t = task();
    char **inputs = calloc(n, sizeof *inputs);
    const char **lab = calloc(n, sizeof *lab);
    char *list = strdup(labels), *names[16];
    size_t k = 0;
    for (char *s = strtok(list, ","); s && k < 16; s = strtok(NULL, ","))
        names[k++] = s;
    for (size_t i = 0; i < n; i++) {
        inputs[i] = malloc(64);
        if (i < nulls)
            snprintf(inputs[i], 64, "{\"text\":null,\"age\":%zu}", i);
        else
            snprintf(inputs[i], 64, "{\"text\":\"row %zu\",\"age\":%zu}", i, i);
        lab[i] = names[i % k];
    }
    struct err e = {0};
    json_t *p =
        data_profile_version(&t, columns, n_columns, (const char *const *)inputs, lab, n, &e);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        free(inputs[i]);
    free(inputs);
    free(lab);
    free(list);
    return p;
}

static const char *const cols3[] = {"id", "y", "text", "age"};

/* The differences' kinds, names and violation flags as one string. */
static void expect(json_t *diffs, const char *want)
{
    char got[1024] = "";
    size_t i;
    json_t *d;
    json_array_foreach(diffs, i, d)
    {
        size_t used = strlen(got);
        snprintf(got + used, sizeof got - used, "%s%s %s%s", i ? "; " : "",
                 json_string_value(json_object_get(d, "kind")),
                 json_string_value(json_object_get(d, "name")),
                 json_is_true(json_object_get(d, "violation")) ? "" : " (allowed)");
    }
    if (strcmp(got, want) != 0) fail_msg("got  '%s'\nwant '%s'", got, want);
    json_decref(diffs);
}

static void test_identical(void **state)
{
    (void)state;
    struct contract_config r = rules();
    r.max_label_share_change = 0;
    json_t *a = profile(cols3, 4, 40, 2, "pos,neg"), *b = profile(cols3, 4, 40, 2, "pos,neg");
    json_t *d = data_contract_compare(&r, a, b, DATA_CONTRACT_ALL);
    assert_int_equal(json_array_size(d), 0);
    assert_int_equal(data_contract_violations(d), 0);
    json_decref(d);
    json_decref(a);
    json_decref(b);
}

static void test_columns(void **state)
{
    (void)state;
    struct contract_config r = rules();
    static const char *const fewer[] = {"y", "text", "age"};
    static const char *const more[] = {"id", "y", "text", "age", "country"};
    json_t *base = profile(cols3, 4, 10, 0, "a,b");
    json_t *p1 = profile(fewer, 3, 10, 0, "a,b"), *p2 = profile(more, 5, 10, 0, "a,b");
    expect(data_contract_compare(&r, base, p1, DATA_CONTRACT_ALL), "column_removed id");
    expect(data_contract_compare(&r, base, p2, DATA_CONTRACT_ALL), "column_added country");
    r.columns = CONTRACT_COLUMNS_SUPERSET;
    expect(data_contract_compare(&r, base, p1, DATA_CONTRACT_ALL), "column_removed id");
    json_t *d = data_contract_compare(&r, base, p2, DATA_CONTRACT_ALL);
    assert_int_equal(data_contract_violations(d), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "message")),
                        "column 'country' added (allowed by columns: superset)");
    expect(d, "column_added country (allowed)");
    /* only the label set is checked for a version made from feedback */
    expect(data_contract_compare(&r, base, p1, DATA_CONTRACT_LABELS), "");
    json_decref(base);
    json_decref(p1);
    json_decref(p2);

    /* a field that changed kind (the config moved it) */
    json_t *x = json_pack("{s:[{s:s,s:s}]}", "columns", "name", "zip", "kind", "numeric");
    json_t *y = json_pack("{s:[{s:s,s:s}]}", "columns", "name", "zip", "kind", "categorical");
    d = data_contract_compare(&r, x, y, DATA_CONTRACT_ALL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "message")),
                        "column 'zip' was numeric, now categorical");
    expect(d, "column_kind zip");
    /* a profile without columns (none to compare) */
    json_t *none = json_object();
    expect(data_contract_compare(&r, x, none, DATA_CONTRACT_ALL), "");
    json_decref(none);
    json_decref(x);
    json_decref(y);
}

static void test_labels(void **state)
{
    (void)state;
    struct contract_config r = rules();
    json_t *base = profile(cols3, 4, 30, 0, "pos,neg,neutral");
    json_t *added = profile(cols3, 4, 30, 0, "pos,neg,neutral,angry");
    json_t *removed = profile(cols3, 4, 30, 0, "pos,neg");
    expect(data_contract_compare(&r, base, added, DATA_CONTRACT_ALL), "label_added angry");
    expect(data_contract_compare(&r, base, removed, DATA_CONTRACT_ALL), "label_removed neutral");
    /* a feedback batch: labels it lacks are no news, new ones are */
    expect(data_contract_compare(&r, base, removed, DATA_CONTRACT_LABELS), "");
    expect(data_contract_compare(&r, base, added, DATA_CONTRACT_LABELS), "label_added angry");
    r.labels = CONTRACT_LABELS_SUPERSET;
    expect(data_contract_compare(&r, base, added, DATA_CONTRACT_ALL),
           "label_added angry (allowed)");
    expect(data_contract_compare(&r, base, removed, DATA_CONTRACT_ALL), "label_removed neutral");
    r.labels = CONTRACT_LABELS_ANY;
    expect(data_contract_compare(&r, base, added, DATA_CONTRACT_ALL),
           "label_added angry (allowed)");
    json_t *d = data_contract_compare(&r, base, removed, DATA_CONTRACT_ALL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "message")),
                        "label 'neutral' removed (allowed by labels: any)");
    expect(d, "label_removed neutral (allowed)");
    json_decref(base);
    json_decref(added);
    json_decref(removed);
}

/* Multilabel: labels are '|'-joined sets; each label is compared on its
 * own, its share being the share of rows that have it. */
static json_t *multilabel_profile(const char *const *labels, size_t n)
{
    struct task_config t = task();
    t.type = TASK_MULTILABEL;
    const char *inputs[8];
    for (size_t i = 0; i < n; i++)
        inputs[i] = "{\"text\":\"x\",\"age\":1}";
    struct err e = {0};
    json_t *p = data_profile_version(&t, NULL, 0, inputs, labels, n, &e);
    assert_non_null(p);
    return p;
}

static void test_multilabel(void **state)
{
    (void)state;
    struct contract_config r = rules();
    r.max_label_share_change = 0.3;
    const char *before[] = {"billing|refund", "billing", "login", ""};
    const char *same_set[] = {"billing", "billing|refund", "", "login"};
    const char *after[] = {"billing|vip", "billing|vip", "billing|vip", "login"};
    json_t *a = multilabel_profile(before, 4), *b = multilabel_profile(same_set, 4),
           *c = multilabel_profile(after, 4);
    expect(data_contract_compare(&r, a, b, DATA_CONTRACT_ALL), "");
    /* billing on 2 of 4 rows, then 3 of 4: +0.25 is within 0.3 */
    expect(data_contract_compare(&r, a, c, DATA_CONTRACT_ALL),
           "label_removed refund; label_added vip");
    expect(data_contract_compare(&r, a, c, DATA_CONTRACT_LABELS), "label_added vip");
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static json_t *rates(double text, double age)
{
    return json_pack("{s:{s:{s:f,s:f}},s:{s:{s:f}}}", "fields", "text", "null_rate", text,
                     "empty_rate", 0.0, "numeric", "age", "missing_rate", age);
}

static void test_null_rates(void **state)
{
    (void)state;
    struct contract_config r = rules();
    /* from real rows: 0 of 20 null, then 1 of 20 (+0.05: at the limit), then 2 of 20 */
    json_t *base = profile(cols3, 4, 20, 0, "a,b"), *one = profile(cols3, 4, 20, 1, "a,b"),
           *two = profile(cols3, 4, 20, 2, "a,b");
    expect(data_contract_compare(&r, base, one, DATA_CONTRACT_ALL), "");
    json_t *d = data_contract_compare(&r, base, two, DATA_CONTRACT_ALL);
    json_t *first = json_array_get(d, 0);
    assert_string_equal(
        json_string_value(json_object_get(first, "message")),
        "field 'text': null rate 0.000 -> 0.100 (+0.100, over the limit of +0.050)");
    assert_true(json_real_value(json_object_get(first, "after")) == 0.1);
    assert_true(json_real_value(json_object_get(first, "limit")) == 0.05);
    expect(d, "null_rate text");
    /* a fall is no violation; feedback versions are not checked on rates */
    expect(data_contract_compare(&r, two, base, DATA_CONTRACT_ALL), "");
    expect(data_contract_compare(&r, base, two, DATA_CONTRACT_LABELS), "");
    json_decref(base);
    json_decref(one);
    json_decref(two);

    /* 0.70 -> 0.75 is 0.05000000000000004 in doubles: still at the limit */
    json_t *x = rates(0.70, 0.0), *y = rates(0.75, 0.0501), *z = rates(0.70, 0.0);
    expect(data_contract_compare(&r, x, y, DATA_CONTRACT_ALL), "null_rate age");
    r.max_null_rate_increase = 0;
    expect(data_contract_compare(&r, x, z, DATA_CONTRACT_ALL), "");
    expect(data_contract_compare(&r, x, y, DATA_CONTRACT_ALL), "null_rate text; null_rate age");
    json_decref(x);
    json_decref(y);
    json_decref(z);

    /* a blank text counts as missing, as a CSV's lost value is an empty cell */
    json_t *blank =
        json_pack("{s:{s:{s:f,s:f}}}", "fields", "text", "null_rate", 0.0, "empty_rate", 0.2);
    r.max_null_rate_increase = 0.05;
    x = rates(0, 0);
    expect(data_contract_compare(&r, x, blank, DATA_CONTRACT_ALL), "null_rate text");
    json_decref(x);
    json_decref(blank);
}

static json_t *shares(double a, double b)
{
    return json_pack("{s:[{s:s,s:f},{s:s,s:f}]}", "labels", "label", "a", "share", a, "label", "b",
                     "share", b);
}

static void test_label_shares(void **state)
{
    (void)state;
    struct contract_config r = rules();
    json_t *base = shares(0.5, 0.5), *at = shares(0.7, 0.3), *over = shares(0.25, 0.75);
    expect(data_contract_compare(&r, base, over, DATA_CONTRACT_ALL), ""); /* not set: unchecked */
    r.max_label_share_change = 0.2;
    expect(data_contract_compare(&r, base, at, DATA_CONTRACT_ALL), "");
    json_t *d = data_contract_compare(&r, base, over, DATA_CONTRACT_ALL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "message")),
                        "label 'a': share 0.500 -> 0.250 (-0.250, over the limit of 0.200)");
    expect(d, "label_share a; label_share b");
    expect(data_contract_compare(&r, base, over, DATA_CONTRACT_LABELS), "");
    json_decref(base);
    json_decref(at);
    json_decref(over);
}

static void test_profile_version(void **state)
{
    (void)state;
    struct task_config t = task();
    const char *inputs[] = {"{\"text\":\"hi\",\"age\":3}", "{\"text\":null,\"age\":null}"};
    const char *labels[] = {"a", "b"};
    struct err e = {0};
    /* columns from the inputs (a feedback version): the label first */
    json_t *p = data_profile_version(&t, NULL, 0, inputs, labels, 2, &e);
    assert_non_null(p);
    char *cols = json_dumps(json_object_get(p, "columns"), JSON_COMPACT);
    assert_string_equal(cols, "[{\"name\":\"y\",\"kind\":\"label\"},{\"name\":\"text\",\"kind\":"
                              "\"text\"},{\"name\":\"age\",\"kind\":\"numeric\"}]");
    free(cols);
    assert_int_equal(json_integer_value(json_object_get(p, "rows")), 2);
    assert_true(json_real_value(json_object_get(
                    json_object_get(json_object_get(p, "numeric"), "age"), "missing_rate")) == 0.5);
    json_decref(p);
    /* a file's columns in its order, an unused one said so */
    p = data_profile_version(&t, cols3, 4, inputs, labels, 2, &e);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(p, "columns"), 0), "kind")),
                        "unused");
    json_decref(p);
    const char *bad[] = {"{\"text\":\"hi\",\"age\":3}", "{\"text\":1,\"age\":3}"};
    assert_null(data_profile_version(&t, NULL, 0, bad, labels, 2, &e));
    assert_non_null(strstr(e.msg, "row 2: "));
    const char *broken[] = {"[1]"};
    assert_null(data_profile_version(&t, NULL, 0, broken, labels, 1, &e));
    assert_int_equal(e.code, ERR_CORRUPT);
}

static void test_rules_json(void **state)
{
    (void)state;
    struct contract_config r = rules();
    json_t *j = data_contract_rules_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "on_violation")), "warn");
    assert_true(json_real_value(json_object_get(j, "max_null_rate_increase")) == 0.05);
    assert_string_equal(json_string_value(json_object_get(j, "labels")), "same");
    assert_string_equal(json_string_value(json_object_get(j, "columns")), "same");
    assert_true(json_is_null(json_object_get(j, "max_label_share_change")));
    json_decref(j);
    r.max_label_share_change = 0.2;
    r.on_violation = CONTRACT_REFUSE;
    j = data_contract_rules_json(&r);
    assert_true(json_real_value(json_object_get(j, "max_label_share_change")) == 0.2);
    assert_string_equal(json_string_value(json_object_get(j, "on_violation")), "refuse");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),    cmocka_unit_test(test_columns),
        cmocka_unit_test(test_labels),       cmocka_unit_test(test_null_rates),
        cmocka_unit_test(test_label_shares), cmocka_unit_test(test_profile_version),
        cmocka_unit_test(test_rules_json),   cmocka_unit_test(test_multilabel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
