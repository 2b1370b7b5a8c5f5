/* A task's numeric and categorical fields on the way in (data/input_tabular.c
 * and their import in data/examples.c): numeric cells parsed or named as
 * errors by line and column, missing markers, the stored JSON, and request
 * inputs checked by type with the field named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/examples.h"
#include "data/input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *text_fields[] = {"notes"};
static struct numeric_field numeric[] = {{"tenure", IMPUTE_MEDIAN, 0, 1},
                                         {"charges", IMPUTE_MEDIAN, 0, 1}};
static struct categorical_field categorical[] = {{"plan", 0, 1}};
static struct task_config task = {
    .name = "churn",
    .type = TASK_BINARY,
    .text_fields = text_fields,
    .n_text_fields = 1,
    .numeric = numeric,
    .n_numeric = 2,
    .categorical = categorical,
    .n_categorical = 1,
    .label = "churn",
    .model_kind = "linear",
};

static void test_parse_number(void **state)
{
    (void)state;
    double x = 0;
    static const struct {
        const char *s;
        int want;
        double x;
    } cases[] = {{"42", 1, 42},    {" -3.5 ", 1, -3.5}, {"1e6", 1, 1e6}, {"+0.25", 1, 0.25},
                 {"", 0, 0},       {"  ", 0, 0},        {"NA", 0, 0},    {"n/a", 0, 0},
                 {"NaN", 0, 0},    {"NULL", 0, 0},      {"None", 0, 0},  {"abc", -1, 0},
                 {"1,234", -1, 0}, {"0x1A", -1, 0},     {"inf", -1, 0},  {"1e999", -1, 0},
                 {"1.2.3", -1, 0}, {"-", -1, 0},        {"12 34", -1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int got = input_parse_number(cases[i].s, strlen(cases[i].s), &x);
        if (got != cases[i].want) fail_msg("'%s': got %d, want %d", cases[i].s, got, cases[i].want);
        if (got == 1) assert_float_equal(x, cases[i].x, 0);
    }
    char text[40];
    input_format_number(0.1, text, sizeof text);
    assert_string_equal(text, "0.1");
    input_format_number(1864.2, text, sizeof text);
    assert_string_equal(text, "1864.2");
    input_format_number(1.0 / 3, text, sizeof text);
    assert_float_equal(strtod(text, NULL), 1.0 / 3, 0);
}

static void read_table(const char *data, enum table_format fmt, struct table *t)
{
    struct err e;
    err_clear(&e);
    if (table_read_buffer(data, strlen(data), fmt, NULL, t, &e)) fail_msg("table: %s", e.msg);
}

/* Imports `data` for the task and checks each row's stored input JSON. */
static void expect_rows(const char *data, enum table_format fmt, const char *const *want, size_t n)
{
    struct table t;
    struct examples ex;
    struct err e;
    read_table(data, fmt, &t);
    assert_int_equal(examples_from_table(&t, &task, 0, &ex, &e), 0);
    assert_int_equal(ex.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ex.items[i].input_json, want[i]);
    examples_free(&ex);
    table_free(&t);
}

static void test_import_rows(void **state)
{
    (void)state;
    /* text, then numeric, then categorical fields; numbers as numbers, a
     * missing one null; an empty category stays as given */
    const char *csv[] = {"{\"notes\":\"late\",\"tenure\":7,\"charges\":29.8,\"plan\":\"monthly\"}",
                         "{\"notes\":\"\",\"tenure\":null,\"charges\":1864.2,\"plan\":\"\"}"};
    expect_rows("churn,plan,tenure,charges,notes\n"
                "Yes,monthly, 7 ,29.8,late\n"
                "No,,NA,1864.20,\n",
                TABLE_CSV, csv, 2);
    /* JSONL: numbers, nulls and absent keys */
    const char *jsonl[] = {"{\"notes\":\"x\",\"tenure\":3,\"charges\":null,\"plan\":\"a\"}",
                           "{\"notes\":\"y\",\"tenure\":2.5,\"charges\":null,\"plan\":null}"};
    expect_rows("{\"churn\":\"No\",\"tenure\":3,\"charges\":null,\"notes\":\"x\",\"plan\":\"a\"}\n"
                "{\"churn\":\"No\",\"tenure\":2.5,\"notes\":\"y\"}\n",
                TABLE_JSONL, jsonl, 2);
}

static void expect_import_error(const char *csv, size_t max, const char *msg, const char *field)
{
    struct table t;
    struct examples ex;
    struct err e;
    read_table(csv, TABLE_CSV, &t);
    err_clear(&e);
    assert_int_equal(examples_from_table(&t, &task, max, &ex, &e), -1);
    assert_int_equal(e.code, max ? ERR_LIMIT : ERR_INVALID);
    if (strcmp(e.msg, msg)) fail_msg("want '%s', got '%s'", msg, e.msg);
    assert_string_equal(e.field, field);
    assert_int_equal(ex.n, 0);
    table_free(&t);
}

static void test_import_errors(void **state)
{
    (void)state;
    expect_import_error("churn,plan,tenure,charges,notes\n"
                        "Yes,a,1,2,x\n"
                        "No,b,3,twelve,y\n",
                        0,
                        "line 3, column 'charges': 'twelve' is not a number (a missing value is "
                        "empty, NA, N/A, NaN, null or None)",
                        "charges");
    expect_import_error("churn,tenure,charges,notes\nYes,1,2,x\n", 0,
                        "column 'plan' (tasks.churn.categorical) not found in header; columns "
                        "are: churn, tenure, charges, notes",
                        "plan");
    expect_import_error("churn,plan,charges,notes\nYes,a,2,x\n", 0,
                        "column 'tenure' (tasks.churn.numeric) not found in header; columns "
                        "are: churn, plan, charges, notes",
                        "tenure");
    expect_import_error("churn,plan,tenure,charges,notes\nYes,abcdef,1,2,x\n", 4,
                        "line 2, column 'plan': field is 6 bytes, over the limit of 4", "plan");
}

static json_t *parse(const char *s)
{
    json_error_t jerr;
    json_t *v = json_loads(s, 0, &jerr);
    if (!v) fail_msg("bad test JSON: %s", jerr.text);
    return v;
}

static void test_request_values(void **state)
{
    (void)state;
    json_t *in = parse("{\"plan\": \"pro\", \"tenure\": 7, \"charges\": null, \"other\": 1}");
    double num[2];
    const char *cat[1];
    size_t cat_lens[1];
    json_t *norm = json_object();
    struct err e;
    assert_int_equal(input_tabular_from_json(&task, in, 0, num, cat, cat_lens, norm, &e), 0);
    assert_float_equal(num[0], 7, 0);
    assert_true(isnan(num[1]));
    assert_memory_equal(cat[0], "pro", 3);
    assert_int_equal(cat_lens[0], 3);
    char *dumped = json_dumps(norm, JSON_COMPACT);
    assert_string_equal(dumped, "{\"tenure\":7,\"charges\":null,\"plan\":\"pro\"}");
    free(dumped);
    json_decref(norm);
    json_decref(in);

    in = parse("{\"plan\": null, \"tenure\": 0.5, \"charges\": -2}");
    assert_int_equal(input_tabular_from_json(&task, in, 0, num, cat, cat_lens, NULL, &e), 0);
    assert_null(cat[0]);
    assert_float_equal(num[1], -2, 0);
    json_decref(in);
}

static void expect_request_error(const char *json, size_t max, const char *field, const char *msg)
{
    json_t *in = parse(json);
    double num[2];
    const char *cat[1];
    size_t cat_lens[1];
    struct err e;
    err_clear(&e);
    assert_int_equal(input_tabular_from_json(&task, in, max, num, cat, cat_lens, NULL, &e), -1);
    if (strcmp(e.msg, msg)) fail_msg("want '%s', got '%s'", msg, e.msg);
    assert_string_equal(e.field, field);
    json_decref(in);
}

static void test_request_errors(void **state)
{
    (void)state;
    expect_request_error("{\"plan\": \"a\", \"tenure\": \"7\", \"charges\": 1}", 0, "input.tenure",
                         "input.tenure: must be a number or null, got a string");
    expect_request_error("{\"plan\": \"a\", \"tenure\": true, \"charges\": 1}", 0, "input.tenure",
                         "input.tenure: must be a number or null, got another type");
    expect_request_error("{\"plan\": \"a\", \"tenure\": 1}", 0, "input.charges",
                         "input.charges: missing (send null for a missing value)");
    expect_request_error("{\"plan\": 3, \"tenure\": 1, \"charges\": 1}", 0, "input.plan",
                         "input.plan: must be a string or null, got a number");
    expect_request_error("{\"plan\": \"abcdef\", \"tenure\": 1, \"charges\": 1}", 4, "input.plan",
                         "input.plan: 6 bytes, over the limit of 4 bytes (limits.max_field_bytes)");
    expect_request_error("[1]", 0, "input", "input: must be a JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_number),   cmocka_unit_test(test_import_rows),
        cmocka_unit_test(test_import_errors),  cmocka_unit_test(test_request_values),
        cmocka_unit_test(test_request_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
