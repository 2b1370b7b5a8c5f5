/* A task's `contract:` keys (base/config_contract.c): defaults, values, and
 * errors that name the file, the line and the key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/config.h"
#include "config_expect.h"

#include <string.h>

static void test_defaults_and_values(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    assert_int_equal(load(TASK_S, &c, &e), 0);
    const struct contract_config *k = &c.tasks[0].contract;
    assert_int_equal(k->on_violation, CONTRACT_WARN);
    assert_true(k->max_null_rate_increase == 0.05);
    assert_int_equal(k->labels, CONTRACT_LABELS_SAME);
    assert_int_equal(k->columns, CONTRACT_COLUMNS_SAME);
    assert_true(k->max_label_share_change < 0);
    config_free(&c);

    assert_int_equal(load(TASK_S "    contract:\n"
                                 "      on_violation: refuse\n"
                                 "      max_null_rate_increase: 0.1\n"
                                 "      labels: superset\n"
                                 "      columns: superset\n"
                                 "      max_label_share_change: 0.2\n",
                          &c, &e),
                     0);
    k = &c.tasks[0].contract;
    assert_int_equal(k->on_violation, CONTRACT_REFUSE);
    assert_true(k->max_null_rate_increase == 0.1);
    assert_int_equal(k->labels, CONTRACT_LABELS_SUPERSET);
    assert_int_equal(k->columns, CONTRACT_COLUMNS_SUPERSET);
    assert_true(k->max_label_share_change == 0.2);
    config_free(&c);

    assert_int_equal(load(TASK_S "    contract: {on_violation: off, labels: any,"
                                 " max_null_rate_increase: 0}\n",
                          &c, &e),
                     0);
    assert_int_equal(c.tasks[0].contract.on_violation, CONTRACT_OFF);
    assert_int_equal(c.tasks[0].contract.labels, CONTRACT_LABELS_ANY);
    assert_true(c.tasks[0].contract.max_null_rate_increase == 0);
    config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(TASK_S "    contract: {on_violation: block}\n",
                 "boucle.yaml:6: tasks.s.contract.on_violation: expected one of warn, refuse, off, "
                 "got 'block'");
    expect_error(TASK_S "    contract:\n      labels: subset\n",
                 "boucle.yaml:7: tasks.s.contract.labels: expected one of same, superset, any, got "
                 "'subset'");
    expect_error(TASK_S "    contract:\n      on_violation: warn\n      columns: any\n",
                 "boucle.yaml:8: tasks.s.contract.columns: expected one of same, superset, got "
                 "'any'");
    expect_error(TASK_S "    contract: {max_null_rate_increase: 1.5}\n",
                 "boucle.yaml:6: tasks.s.contract.max_null_rate_increase: expected a number in "
                 "[0, 1], got '1.5'");
    expect_error(TASK_S "    contract: {max_label_share_change: -0.1}\n",
                 "boucle.yaml:6: tasks.s.contract.max_label_share_change: expected a number in "
                 "[0, 1], got '-0.1'");
    expect_error(TASK_S "    contract: {max_null_rate: 0.1}\n",
                 "boucle.yaml:6: tasks.s.contract.max_null_rate: unknown key");
    expect_error(TASK_S "    contract: refuse\n",
                 "boucle.yaml:6: tasks.s.contract: expected a mapping, got a scalar");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(contract_action_name(CONTRACT_REFUSE), "refuse");
    assert_string_equal(contract_labels_name(CONTRACT_LABELS_SUPERSET), "superset");
    assert_string_equal(contract_columns_name(CONTRACT_COLUMNS_SAME), "same");
    assert_string_equal(contract_action_name((enum contract_action)9), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
