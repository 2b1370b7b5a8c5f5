/* A task's `rollout:` keys (base/config_rollout.c): defaults, values, and
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
    const struct rollout_config *r = &c.tasks[0].rollout;
    assert_int_equal(r->strategy, ROLLOUT_DIRECT);
    assert_int_equal(r->percent, 10);
    assert_int_equal(r->min_feedback, 200);
    assert_true(r->confidence == 0.95 && r->max_drop == 0.0);
    config_free(&c);

    assert_int_equal(load(TASK_S "    rollout: {strategy: canary, percent: 25, min_feedback: 50,"
                                 " confidence: 0.99, max_drop: 0.02}\n",
                          &c, &e),
                     0);
    r = &c.tasks[0].rollout;
    assert_int_equal(r->strategy, ROLLOUT_CANARY);
    assert_int_equal(r->percent, 25);
    assert_int_equal(r->min_feedback, 50);
    assert_true(r->confidence == 0.99 && r->max_drop == 0.02);
    config_free(&c);

    assert_int_equal(load(TASK_S "    rollout: {strategy: shadow}\n", &c, &e), 0);
    assert_int_equal(c.tasks[0].rollout.strategy, ROLLOUT_SHADOW);
    config_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(TASK_S "    rollout: {strategy: blue}\n",
                 "boucle.yaml:6: tasks.s.rollout.strategy: expected one of direct, shadow, "
                 "canary, got 'blue'");
    expect_error(TASK_S "    rollout:\n      percent: 100\n",
                 "boucle.yaml:7: tasks.s.rollout.percent: expected an integer from 1 to 99, got "
                 "'100'");
    expect_error(TASK_S "    rollout: {min_feedback: 0}\n",
                 "boucle.yaml:6: tasks.s.rollout.min_feedback: expected an integer from 1 to "
                 "100000000, got '0'");
    expect_error(TASK_S "    rollout: {confidence: 1}\n",
                 "boucle.yaml:6: tasks.s.rollout.confidence: expected a number in (0.5, 1), got "
                 "'1'");
    expect_error(TASK_S "    rollout: {after: 3}\n",
                 "boucle.yaml:6: tasks.s.rollout.after: unknown key");
    expect_error(TASK_S "    rollout: canary\n",
                 "boucle.yaml:6: tasks.s.rollout: expected a mapping, got a scalar");
}

static void test_strategy_names(void **state)
{
    (void)state;
    enum rollout_strategy s;
    assert_int_equal(rollout_strategy_parse("canary", &s), 0);
    assert_int_equal(s, ROLLOUT_CANARY);
    assert_string_equal(rollout_strategy_name(s), "canary");
    assert_int_equal(rollout_strategy_parse("Canary", &s), -1);
    assert_int_equal(rollout_strategy_parse(NULL, &s), -1);
    assert_string_equal(rollout_strategy_name((enum rollout_strategy)9), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_strategy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
