/* The canary's live comparison (eval/live.c): the normal quantile, when a
 * decision is ready, and the noise-aware "is it worse?" test, including the
 * edge counts (0% and 100%) where a plain Wald interval has zero width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "eval/live.h"

#include <math.h>
#include <string.h>

static struct rollout_config policy(long min_feedback, double max_drop)
{
    return (struct rollout_config){ROLLOUT_CANARY, 10, min_feedback, 0.95, max_drop};
}

static struct live_verdict decide(const struct rollout_config *p, int64_t champion_judged,
                                  int64_t champion_correct, int64_t canary_judged,
                                  int64_t canary_correct)
{
    struct live_arm a = {champion_judged, champion_correct}, b = {canary_judged, canary_correct};
    struct live_verdict v;
    live_compare(p, &a, &b, &v);
    return v;
}

static void test_normal_quantile(void **state)
{
    (void)state;
    assert_true(fabs(live_normal_quantile(0.5)) < 1e-12);
    assert_true(fabs(live_normal_quantile(0.975) - 1.959963985) < 1e-8);
    assert_true(fabs(live_normal_quantile(0.95) - 1.644853627) < 1e-8);
    assert_true(fabs(live_normal_quantile(0.05) + 1.644853627) < 1e-8);
    assert_true(fabs(live_normal_quantile(0.999) - 3.090232306) < 1e-8);
    assert_true(isnan(live_normal_quantile(0)));
    assert_true(isnan(live_normal_quantile(1)));
    assert_true(isnan(live_normal_quantile(NAN)));
}

static void test_waits_for_both_sides(void **state)
{
    (void)state;
    struct rollout_config p = policy(200, 0);
    struct live_verdict v = decide(&p, 500, 400, 199, 10);
    assert_false(v.ready);
    assert_false(v.promote);
    assert_string_equal(v.reason, "waiting for 200 judged predictions on each side: champion has "
                                  "500, canary 199");
    v = decide(&p, 150, 120, 300, 290);
    assert_false(v.ready);
    v = decide(&p, 0, 0, 0, 0);
    assert_false(v.ready);
    assert_true(isnan(v.champion_accuracy) && isnan(v.challenger_accuracy) && isnan(v.drop));
}

static void test_worse_is_rolled_back(void **state)
{
    (void)state;
    struct rollout_config p = policy(200, 0);
    /* 0.80 vs 0.60 over 200 each: a real drop */
    struct live_verdict v = decide(&p, 200, 160, 200, 120);
    assert_true(v.ready);
    assert_false(v.promote);
    assert_true(fabs(v.drop - 0.2) < 1e-12);
    assert_true(v.drop_lower > 0.12 && v.drop_lower < 0.2);
    assert_non_null(strstr(v.reason, "canary is worse: live accuracy 0.6000 vs champion 0.8000"));
    /* all wrong against all right: Agresti-Caffo keeps a finite, positive bound */
    v = decide(&p, 200, 200, 200, 0);
    assert_false(v.promote);
    assert_true(isfinite(v.drop_lower) && v.drop_lower > 0.9);
}

static void test_noise_is_not_worse(void **state)
{
    (void)state;
    struct rollout_config p = policy(200, 0);
    /* 0.80 vs 0.77 over 200 each: within the noise, promoted */
    struct live_verdict v = decide(&p, 200, 160, 200, 154);
    assert_true(v.ready);
    assert_true(v.promote);
    assert_true(v.drop > 0 && v.drop_lower < 0);
    assert_non_null(strstr(v.reason, "canary is not worse"));
    /* the same drop over 20,000 each is real */
    v = decide(&p, 20000, 16000, 20000, 15400);
    assert_false(v.promote);
    /* better is promoted, and so is a tie at 100% */
    v = decide(&p, 200, 150, 200, 190);
    assert_true(v.promote);
    v = decide(&p, 200, 200, 200, 200);
    assert_true(v.promote);
    assert_true(v.drop_lower < 0);
}

static void test_tolerated_drop(void **state)
{
    (void)state;
    /* a real drop of 0.03 (20,000 each) is tolerated with max_drop 0.05, not without */
    struct rollout_config strict = policy(200, 0), lenient = policy(200, 0.05);
    assert_false(decide(&strict, 20000, 16000, 20000, 15400).promote);
    assert_true(decide(&lenient, 20000, 16000, 20000, 15400).promote);
    /* past the tolerance and real: rolled back */
    assert_false(decide(&lenient, 20000, 16000, 20000, 14000).promote);
    /* a higher confidence needs more evidence */
    struct rollout_config sure = policy(200, 0);
    sure.confidence = 0.999;
    assert_true(decide(&sure, 200, 160, 200, 140).promote);
    assert_false(decide(&strict, 200, 160, 200, 140).promote);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_quantile),      cmocka_unit_test(test_waits_for_both_sides),
        cmocka_unit_test(test_worse_is_rolled_back), cmocka_unit_test(test_noise_is_not_worse),
        cmocka_unit_test(test_tolerated_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
