/* Live comparison of a canary with the champion (issue 6): each side's
 * accuracy over its own predictions that feedback judged, in the same
 * rollout window. The two samples are independent (a request went to one
 * model or the other), so the test is on a difference of two proportions,
 * not a paired one like the offline gate's.
 *
 * The canary has already passed the offline gate, so the question asked of
 * live traffic is "is it worse?", the way gate.c guards a class's recall:
 * it is rolled back when its accuracy is below the champion's by more than
 * max_drop AND the drop is real at `confidence` (the one-sided lower bound
 * of the drop is above 0); otherwise it is promoted. The bound is the
 * Agresti-Caffo interval (one success and one failure added to each side),
 * which keeps sensible coverage at small counts and at 0% or 100%, where
 * the plain Wald interval collapses to a width of zero. */
#ifndef BOUCLE_EVAL_LIVE_H
#define BOUCLE_EVAL_LIVE_H

#include "base/config.h"

#include <stdint.h>

struct live_arm {
    int64_t judged, correct;
};

struct live_verdict {
    int ready;   /* both sides have policy->min_feedback judged predictions */
    int promote; /* when ready: 1 promote the canary, 0 roll it back */
    double champion_accuracy, challenger_accuracy; /* NAN when nothing was judged */
    double drop;       /* champion - challenger accuracy (NAN when either is) */
    double drop_lower; /* one-sided lower confidence bound of the drop */
    char reason[320];  /* one sentence: why, or what it waits for */
};

void live_compare(const struct rollout_config *policy, const struct live_arm *champion,
                  const struct live_arm *challenger, struct live_verdict *out);

/* The standard normal quantile: z with P(Z <= z) = p, for p in (0, 1). */
double live_normal_quantile(double p);

#endif
