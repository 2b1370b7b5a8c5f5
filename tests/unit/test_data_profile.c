/* Unit tests for data/data_profile: counts, rates and nearest-rank quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "data/data_profile.h"

#include <stdlib.h>
#include <string.h>

static char *fields[] = {"subject", "body"};

static json_t *path(json_t *doc, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(doc, a);
    if (b) v = json_object_get(v, b);
    if (c) v = json_object_get(v, c);
    assert_non_null(v);
    return v;
}

static void test_quantiles(void **state)
{
    (void)state;
    size_t v[20];
    for (size_t i = 0; i < 20; i++)
        v[i] = i + 1;
    assert_int_equal(data_profile_quantile(v, 20, 0.05), 1);
    assert_int_equal(data_profile_quantile(v, 20, 0.5), 10);
    assert_int_equal(data_profile_quantile(v, 20, 0.95), 19);
    assert_int_equal(data_profile_quantile(v, 20, 1.0), 20);
    assert_int_equal(data_profile_quantile(v, 1, 0.05), 1);
    assert_int_equal(data_profile_quantile(v, 0, 0.5), 0);
}

static void add(struct data_profile *p, const char *subject, const char *body, const char *label)
{
    const char *v[] = {subject, body};
    size_t l[] = {subject ? strlen(subject) : 0, body ? strlen(body) : 0};
    p->task->n_text_fields == 2 ? (void)0 : fail();
    data_profile_add(p, v, l, (uint32_t)(!subject) | (uint32_t)(!body) << 1, label);
}

static void test_profile(void **state)
{
    (void)state;
    struct task_config task = {
        .name = "t", .text_fields = fields, .n_text_fields = 2, .label = "queue"};
    clean_config_defaults(&task.clean);
    task.clean.steps[0] = CLEAN_NORMALIZE_WHITESPACE;
    task.clean.steps[1] = CLEAN_DROP_EMPTY;
    task.clean.steps[2] = CLEAN_DEDUPE;
    task.clean.n_steps = 3;
    strcpy(task.clean.separator, " ");
    struct data_profile p;
    data_profile_init(&p, &task);
    add(&p, "Refund", "I want my money back", "billing");
    add(&p, "Refund", "I want  my money back", "billing"); /* a duplicate once cleaned */
    add(&p, NULL, "crash on start", "tech");
    add(&p, "  ", "crash on start", "tech");
    add(&p, "Café", NULL, "tech");
    json_t *doc = data_profile_json(&p);
    assert_int_equal(json_integer_value(path(doc, "rows", NULL, NULL)), 5);
    json_t *labels = path(doc, "labels", NULL, NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(labels, 0), "label")),
                        "tech");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(labels, 0), "count")), 3);
    assert_float_equal(json_real_value(json_object_get(json_array_get(labels, 1), "share")), 0.4,
                       1e-12);
    json_t *subject = path(doc, "fields", "subject", NULL);
    assert_int_equal(json_integer_value(json_object_get(subject, "nulls")), 1);
    assert_float_equal(json_real_value(json_object_get(subject, "null_rate")), 0.2, 1e-12);
    assert_int_equal(json_integer_value(json_object_get(subject, "empty")), 1);
    assert_int_equal(json_integer_value(json_object_get(subject, "duplicates")), 1);
    /* lengths in characters: 6, 6, 0, 2, 4 ("Café" is 5 bytes) */
    assert_int_equal(json_integer_value(path(subject, "length", "p5", NULL)), 0);
    assert_int_equal(json_integer_value(path(subject, "length", "p50", NULL)), 4);
    assert_int_equal(json_integer_value(path(subject, "length", "max", NULL)), 6);
    json_t *body = path(doc, "fields", "body", NULL);
    assert_int_equal(json_integer_value(json_object_get(body, "duplicates")),
                     1); /* bytes differ once */
    assert_int_equal(json_integer_value(json_object_get(body, "nulls")), 1);
    /* the model text: the second row is a duplicate once whitespace is normalised,
     * "  crash on start" and " crash on start" too */
    json_t *text = path(doc, "text", NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(text, "rows")), 3);
    assert_int_equal(json_integer_value(path(doc, "cleaning", "kept", NULL)), 3);
    json_decref(doc);
    data_profile_free(&p);
}

/* No rows (an empty split) is a profile of nothing, not an error. */
static void test_empty(void **state)
{
    (void)state;
    struct task_config task = {
        .name = "t", .text_fields = fields, .n_text_fields = 2, .label = "queue"};
    clean_config_defaults(&task.clean);
    struct data_profile p;
    data_profile_init(&p, &task);
    json_t *doc = data_profile_json(&p);
    assert_int_equal(json_integer_value(path(doc, "rows", NULL, NULL)), 0);
    assert_int_equal(json_array_size(path(doc, "labels", NULL, NULL)), 0);
    assert_int_equal(json_integer_value(path(doc, "fields", "body", "rows")), 0);
    assert_int_equal(json_integer_value(json_object_get(path(doc, "text", "length", NULL), "max")),
                     0);
    assert_float_equal(json_real_value(path(doc, "fields", "subject", "null_rate")), 0, 0);
    json_decref(doc);
    data_profile_free(&p);
}

/* A multilabel task counts each label of a set: shares are of rows with
 * the label (they add up to more than 1), and rows with no label apart. */
static void test_multilabel(void **state)
{
    (void)state;
    struct task_config task = {.name = "t",
                               .type = TASK_MULTILABEL,
                               .text_fields = fields,
                               .n_text_fields = 2,
                               .label = "tags"};
    clean_config_defaults(&task.clean);
    struct data_profile p;
    data_profile_init(&p, &task);
    add(&p, "a", "b", "bug|urgent");
    add(&p, "c", "d", "bug");
    add(&p, "e", "f", "");
    add(&p, "g", "h", "billing|bug");
    json_t *doc = data_profile_json(&p);
    json_t *labels = path(doc, "labels", NULL, NULL);
    assert_int_equal(json_array_size(labels), 3);
    json_t *first = json_array_get(labels, 0);
    assert_string_equal(json_string_value(json_object_get(first, "label")), "bug");
    assert_int_equal(json_integer_value(json_object_get(first, "count")), 3);
    assert_float_equal(json_real_value(json_object_get(first, "share")), 0.75, 1e-12);
    assert_int_equal(json_integer_value(path(doc, "rows_without_label", NULL, NULL)), 1);
    json_decref(doc);
    data_profile_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_multilabel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
