/* Unit tests for the data preparation keys of a task (base/config_clean.c):
 * `clean:` and `text_separator:`, their defaults, and errors that name the
 * file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/config.h"
#include "config_expect.h"

#include <stdio.h>
#include <string.h>

#define TASK_HEAD                                                                                  \
    "tasks:\n"                                                                                     \
    "  tickets:\n"                                                                                 \
    "    type: multiclass\n"                                                                       \
    "    text: [subject, body]\n"                                                                  \
    "    label: queue\n"

static void test_defaults(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(TASK_HEAD, &c, &e), 0);
    assert_int_equal(c.tasks[0].clean.n_steps, 0);
    assert_string_equal(c.tasks[0].clean.separator, "\n");
    config_free(&c);
    /* an empty `clean:` is no cleaning */
    assert_int_equal(load(TASK_HEAD "    clean:\n", &c, &e), 0);
    assert_int_equal(c.tasks[0].clean.n_steps, 0);
    config_free(&c);
}

static void test_steps_in_order(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(TASK_HEAD "    clean: [strip_code, strip_html, scrub_pii,\n"
                                    "            normalize_whitespace, drop_empty, dedupe]\n"
                                    "    text_separator: \" | \"\n",
                          &c, &e),
                     0);
    const struct clean_config *cc = &c.tasks[0].clean;
    assert_int_equal(cc->n_steps, 6);
    const enum clean_step want[] = {CLEAN_STRIP_CODE,           CLEAN_STRIP_HTML, CLEAN_SCRUB_PII,
                                    CLEAN_NORMALIZE_WHITESPACE, CLEAN_DROP_EMPTY, CLEAN_DEDUPE};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(cc->steps[i], want[i]);
    assert_string_equal(cc->separator, " | ");
    config_free(&c);

    /* block style, and an empty separator when quoted */
    assert_int_equal(load(TASK_HEAD "    clean:\n      - dedupe\n      - scrub_pii\n"
                                    "    text_separator: ''\n",
                          &c, &e),
                     0);
    assert_int_equal(c.tasks[0].clean.n_steps, 2);
    assert_int_equal(c.tasks[0].clean.steps[0], CLEAN_DEDUPE);
    assert_string_equal(c.tasks[0].clean.separator, "");
    config_free(&c);

    enum clean_step s;
    assert_int_equal(clean_step_parse("normalize_whitespace", &s), 0);
    assert_int_equal(s, CLEAN_NORMALIZE_WHITESPACE);
    assert_int_equal(clean_step_parse("nope", &s), -1);
    assert_string_equal(clean_step_name(CLEAN_DROP_EMPTY), "drop_empty");
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(TASK_HEAD "    clean: [strip_html, strip_htm]\n",
                 "boucle.yaml:6: tasks.tickets.clean[1]: expected one of strip_html, strip_code, "
                 "scrub_pii, normalize_whitespace, drop_empty, dedupe, got 'strip_htm'");
    expect_error(TASK_HEAD "    clean:\n      - dedupe\n      - scrub_pii\n      - dedupe\n",
                 "boucle.yaml:9: tasks.tickets.clean[2]: step 'dedupe' listed twice");
    expect_error(TASK_HEAD "    clean: [strip_html, scrub_pii, strip_code]\n",
                 "boucle.yaml:6: tasks.tickets.clean[2]: strip_code must come before strip_html "
                 "(at tasks.tickets.clean[0]): once the tags are stripped, <pre> and <code> "
                 "blocks can no longer be found");
    expect_error(TASK_HEAD "    clean: strip_html\n",
                 "boucle.yaml:6: tasks.tickets.clean: expected a list, got a scalar");
    expect_error(TASK_HEAD "    clean: [{strip_html: true}]\n",
                 "boucle.yaml:6: tasks.tickets.clean[0]: expected a scalar, got a mapping");
    expect_error(TASK_HEAD "    text_separator:\n",
                 "boucle.yaml:6: tasks.tickets.text_separator: expected a string (quote it: \"\" "
                 "for none, \" \" for a space)");
    expect_error(TASK_HEAD "    text_separator: [a]\n",
                 "boucle.yaml:6: tasks.tickets.text_separator: expected a scalar, got a list");
    expect_error(TASK_HEAD "    text_separator: \"0123456789012345678901234567890123\"\n",
                 "boucle.yaml:6: tasks.tickets.text_separator: expected at most 32 bytes without "
                 "NUL, got 34 bytes");
    expect_error(TASK_HEAD "    text_separator: \"a\\0b\"\n",
                 "boucle.yaml:6: tasks.tickets.text_separator: expected at most 32 bytes without "
                 "NUL, got 3 bytes");
}

static void test_text_field_limit(void **state)
{
    (void)state;
    char yaml[2048];
    int n =
        snprintf(yaml, sizeof yaml, "tasks:\n  t:\n    type: binary\n    label: y\n    text: [");
    for (int i = 0; i <= TASK_MAX_TEXT_FIELDS; i++)
        n += snprintf(yaml + n, sizeof yaml - (size_t)n, "%sf%d", i ? ", " : "", i);
    snprintf(yaml + n, sizeof yaml - (size_t)n, "]\n");
    expect_error(yaml, "boucle.yaml:5: tasks.t.text: at most 32 text fields");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_steps_in_order),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_text_field_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
