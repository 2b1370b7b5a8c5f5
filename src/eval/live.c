#include "eval/live.h"

#include <math.h>
#include <stdio.h>

/* Bisection on the normal CDF (0.5 * erfc(-z / sqrt 2)), which is monotone:
 * 80 halvings of [-40, 40] are far below double precision, and this runs
 * once per decision, not per request. */
double live_normal_quantile(double p)
{
    if (!(p > 0 && p < 1)) return NAN;
    double lo = -40, hi = 40;
    for (int i = 0; i < 80; i++) {
        double mid = (lo + hi) / 2;
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

static double accuracy(const struct live_arm *a)
{
    return a->judged > 0 ? (double)a->correct / (double)a->judged : NAN;
}

void live_compare(const struct rollout_config *policy, const struct live_arm *champion,
                  const struct live_arm *challenger, struct live_verdict *out)
{
    out->champion_accuracy = accuracy(champion);
    out->challenger_accuracy = accuracy(challenger);
    out->drop = out->champion_accuracy - out->challenger_accuracy;
    /* Agresti-Caffo: each side as if it had one more right and one more wrong */
    double n1 = (double)champion->judged + 2, n2 = (double)challenger->judged + 2;
    double p1 = ((double)champion->correct + 1) / n1, p2 = ((double)challenger->correct + 1) / n2;
    double se = sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2);
    out->drop_lower = (p1 - p2) - live_normal_quantile(policy->confidence) * se;
    long need = policy->min_feedback;
    out->ready = champion->judged >= need && challenger->judged >= need;
    out->promote = 0;
    if (!out->ready) {
        snprintf(out->reason, sizeof out->reason,
                 "waiting for %ld judged predictions on each side: champion has %lld, canary "
                 "%lld",
                 need, (long long)champion->judged, (long long)challenger->judged);
        return;
    }
    int worse = out->drop > policy->max_drop && out->drop_lower > 0;
    out->promote = !worse;
    if (worse)
        snprintf(out->reason, sizeof out->reason,
                 "canary is worse: live accuracy %.4f vs champion %.4f (drop %.4f > %.4f, and "
                 "its %.0f%% lower bound %.4f > 0 over %lld and %lld judged predictions)",
                 out->challenger_accuracy, out->champion_accuracy, out->drop, policy->max_drop,
                 policy->confidence * 100, out->drop_lower, (long long)challenger->judged,
                 (long long)champion->judged);
    else
        snprintf(out->reason, sizeof out->reason,
                 "canary is not worse: live accuracy %.4f vs champion %.4f (drop %.4f, %.0f%% "
                 "lower bound %.4f; rolled back only past %.4f and above 0) over %lld and %lld "
                 "judged predictions",
                 out->challenger_accuracy, out->champion_accuracy, out->drop,
                 policy->confidence * 100, out->drop_lower, policy->max_drop,
                 (long long)challenger->judged, (long long)champion->judged);
}
