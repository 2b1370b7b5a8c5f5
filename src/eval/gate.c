/* The evaluation gate. Point estimates come from metrics_compute; the paired
 * bootstrap recomputes the primary metric from confusion counts accumulated
 * per resample (same conventions as metrics.c: a zero denominator counts as
 * 0, macro averages run over the labels seen in y_true or y_pred), so 1000
 * resamples of 20k examples cost a few tens of milliseconds. */
#include "eval/gate.h"

#include "base/mem.h"
#include "eval/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Differences below this are floating-point noise, not a gain. */
#define GATE_EPS 1e-12

enum primary {
    P_ACCURACY,
    P_F1_MACRO,
    P_F1_WEIGHTED,
    P_PRECISION_MACRO,
    P_RECALL_MACRO,
    P_PRECISION_WEIGHTED,
    P_RECALL_WEIGHTED,
};

static const struct {
    const char *name;
    enum primary id;
} primaries[] = {
    {"accuracy", P_ACCURACY},
    {"f1_macro", P_F1_MACRO},
    {"f1_weighted", P_F1_WEIGHTED},
    {"precision_macro", P_PRECISION_MACRO},
    {"recall_macro", P_RECALL_MACRO},
    {"precision_weighted", P_PRECISION_WEIGHTED},
    {"recall_weighted", P_RECALL_WEIGHTED},
};

static double metric_of(const struct metrics *m, enum primary p)
{
    switch (p) {
    case P_ACCURACY:
        return m->accuracy;
    case P_F1_MACRO:
        return m->f1_macro;
    case P_F1_WEIGHTED:
        return m->f1_weighted;
    case P_PRECISION_MACRO:
        return m->precision_macro;
    case P_RECALL_MACRO:
        return m->recall_macro;
    case P_PRECISION_WEIGHTED:
        return m->precision_weighted;
    case P_RECALL_WEIGHTED:
        return m->recall_weighted;
    }
    return NAN;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0.0;
}

/* The primary metric from per-class counts: tp, row (true count), col
 * (predicted count), over n examples. Mirrors metrics_compute. */
static double metric_from_counts(enum primary p, const size_t *tp, const size_t *row,
                                 const size_t *col, size_t L, size_t n)
{
    double sum = 0;
    size_t seen = 0, correct = 0;
    for (size_t c = 0; c < L; c++) {
        double t = (double)tp[c], r = (double)row[c], k = (double)col[c];
        correct += tp[c];
        double v;
        switch (p) {
        case P_ACCURACY:
            continue;
        case P_F1_MACRO:
        case P_F1_WEIGHTED:
            v = ratio(2.0 * t, r + k);
            break;
        case P_PRECISION_MACRO:
        case P_PRECISION_WEIGHTED:
            v = ratio(t, k);
            break;
        case P_RECALL_MACRO:
        case P_RECALL_WEIGHTED:
        default:
            v = ratio(t, r);
            break;
        }
        if (p == P_F1_WEIGHTED || p == P_PRECISION_WEIGHTED || p == P_RECALL_WEIGHTED) {
            sum += r / (double)n * v;
        } else if (row[c] || col[c]) {
            sum += v;
            seen++;
        }
    }
    if (p == P_ACCURACY) return (double)correct / (double)n;
    if (p == P_F1_WEIGHTED || p == P_PRECISION_WEIGHTED || p == P_RECALL_WEIGHTED) return sum;
    return seen ? sum / (double)seen : 0.0;
}

/* xoshiro256** seeded through splitmix64: fast, and the same stream on
 * every platform for a given seed. */
struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n) without modulo bias: multiply-shift on 32 bits with
 * rejection of the short first interval (n < 2^32 here). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    uint32_t x = (uint32_t)(rng_next(r) >> 32);
    uint64_t m = (uint64_t)x * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            x = (uint32_t)(rng_next(r) >> 32);
            m = (uint64_t)x * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear interpolation between order statistics (numpy's default). */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}

struct boot {
    double lower;  /* one-sided lower bound at the confidence */
    double ci_low; /* two-sided percentile interval */
    double ci_high;
    double *recall_drop_lower; /* per class: one-sided lower bound of the recall drop */
};

/* Paired bootstrap of challenger - champion on the primary metric. */
static void bootstrap(enum primary p, const int *y, const int *a, const int *b, size_t n, size_t L,
                      int samples, double confidence, uint64_t seed, struct boot *out)
{
    size_t *counts = xcalloc(5 * L, sizeof *counts);
    size_t *row = counts, *tp_a = counts + L, *col_a = counts + 2 * L, *tp_b = counts + 3 * L,
           *col_b = counts + 4 * L;
    double *deltas = xmalloc((size_t)samples * sizeof *deltas);
    /* per class recall drops, to tell a real drop from the noise of a small class */
    double *drops = xmalloc((size_t)samples * L * sizeof *drops);
    struct rng r;
    rng_seed(&r, seed);
    for (int s = 0; s < samples; s++) {
        memset(counts, 0, 5 * L * sizeof *counts);
        for (size_t i = 0; i < n; i++) {
            size_t k = rng_below(&r, (uint32_t)n);
            int t = y[k], pa = a[k], pb = b[k];
            row[t]++;
            col_a[pa]++;
            col_b[pb]++;
            tp_a[t] += pa == t;
            tp_b[t] += pb == t;
        }
        deltas[s] = metric_from_counts(p, tp_b, row, col_b, L, n) -
                    metric_from_counts(p, tp_a, row, col_a, L, n);
        for (size_t k = 0; k < L; k++)
            drops[k * (size_t)samples + (size_t)s] =
                row[k] ? ((double)tp_a[k] - (double)tp_b[k]) / (double)row[k] : 0.0;
    }
    out->recall_drop_lower = xcalloc(L, sizeof *out->recall_drop_lower);
    for (size_t k = 0; k < L; k++) {
        double *v = drops + k * (size_t)samples;
        qsort(v, (size_t)samples, sizeof *v, cmp_double);
        out->recall_drop_lower[k] = quantile_sorted(v, (size_t)samples, 1 - confidence);
    }
    free(drops);
    qsort(deltas, (size_t)samples, sizeof *deltas, cmp_double);
    double alpha = 1 - confidence;
    out->lower = quantile_sorted(deltas, (size_t)samples, alpha);
    out->ci_low = quantile_sorted(deltas, (size_t)samples, alpha / 2);
    out->ci_high = quantile_sorted(deltas, (size_t)samples, 1 - alpha / 2);
    free(deltas);
    free(counts);
}

double gate_mcnemar_p(size_t b, size_t c, int *exact)
{
    size_t m = b + c;
    if (exact) *exact = m < 25;
    if (m == 0) return 1.0;
    if (m < 25) {
        /* two-sided exact binomial: twice the smaller tail of Bin(m, 1/2) */
        size_t k = b < c ? b : c;
        double coef = 1, tail = 0;
        for (size_t i = 0; i <= k; i++) {
            tail += coef;
            coef = coef * (double)(m - i) / (double)(i + 1);
        }
        double pv = 2 * tail / ldexp(1.0, (int)m);
        return pv < 1 ? pv : 1.0;
    }
    double d = b > c ? (double)(b - c) : (double)(c - b);
    d = d > 1 ? d - 1 : 0;
    double stat = d * d / (double)m;
    /* survival function of chi-square with one degree of freedom */
    return erfc(sqrt(stat / 2));
}

static void add_reason(struct gate_decision *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_reason(struct gate_decision *d, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    json_array_append_new(d->reasons, json_string(b.data ? b.data : ""));
    buf_free(&b);
}

static void decision_reset(struct gate_decision *d)
{
    memset(d, 0, sizeof *d);
    d->champion_score = d->challenger_score = d->delta = NAN;
    d->ci_low = d->ci_high = d->p_value = NAN;
}

int gate_decide(const struct gate_config *policy, const int *y_true, const int *champion,
                const int *challenger, size_t n, size_t n_labels, const char *const *label_names,
                uint64_t seed, struct gate_decision *out, struct err *e)
{
    decision_reset(out);
    const char *pname = policy->primary ? policy->primary : "f1_macro";
    const char *test = policy->test ? policy->test : "bootstrap";
    snprintf(out->primary, sizeof out->primary, "%s", pname);
    size_t pi = 0;
    while (pi < sizeof primaries / sizeof *primaries && !str_eq(primaries[pi].name, pname))
        pi++;
    if (pi == sizeof primaries / sizeof *primaries)
        return err_set_field(e, ERR_INVALID, "gate.primary",
                             "gate: unknown primary metric '%s' (accuracy, f1_macro, f1_weighted, "
                             "precision_macro, recall_macro, precision_weighted, recall_weighted)",
                             pname);
    enum primary p = primaries[pi].id;
    int use_boot = str_eq(test, "bootstrap");
    if (!use_boot && !str_eq(test, "mcnemar"))
        return err_set_field(e, ERR_INVALID, "gate.test",
                             "gate: unknown test '%s' (bootstrap or mcnemar)", test);
    if (!(policy->confidence > 0 && policy->confidence < 1))
        return err_set_field(e, ERR_INVALID, "gate.confidence",
                             "gate: confidence %g is not between 0 and 1", policy->confidence);
    if (use_boot && policy->bootstrap_samples < 1)
        return err_set_field(e, ERR_INVALID, "gate.bootstrap_samples",
                             "gate: bootstrap_samples must be at least 1, not %d",
                             policy->bootstrap_samples);
    if (!(policy->max_recall_drop >= 0))
        return err_set_field(e, ERR_INVALID, "gate.max_recall_drop",
                             "gate: max_recall_drop must be >= 0");
    if (!(policy->min_delta >= 0) || !isfinite(policy->min_delta))
        return err_set_field(e, ERR_INVALID, "gate.min_delta", "gate: min_delta must be >= 0");
    if (!n) return err_set(e, ERR_INVALID, "gate: no examples to compare the models on");
    if (n_labels < 2) return err_set(e, ERR_INVALID, "gate: at least 2 labels are needed");
    if (n > UINT32_MAX) return err_set(e, ERR_LIMIT, "gate: too many examples (%zu)", n);

    struct metrics ma, mb;
    if (metrics_compute(y_true, champion, NULL, n, n_labels, &ma, e) < 0)
        return err_prefix(e, "gate: champion");
    if (metrics_compute(y_true, challenger, NULL, n, n_labels, &mb, e) < 0) {
        metrics_free(&ma);
        return err_prefix(e, "gate: challenger");
    }

    out->n = n;
    out->reasons = json_array();
    out->guards = json_object();
    out->champion_score = metric_of(&ma, p);
    out->challenger_score = metric_of(&mb, p);
    out->delta = out->challenger_score - out->champion_score;
    double conf_pct = policy->confidence * 100;

    /* a) the gain */
    int gain_ok = out->delta > GATE_EPS && out->delta >= policy->min_delta - GATE_EPS;
    const char *verdict = gain_ok                  ? "ok"
                          : out->delta <= GATE_EPS ? "no gain, the champion stays"
                                                   : "not enough";
    add_reason(out, "%s %.4f -> %.4f (%+.4f), at least %+.4f required: %s", pname,
               out->champion_score, out->challenger_score, out->delta, policy->min_delta, verdict);

    /* b) significance */
    int sig_ok;
    struct boot bt = {0};
    if (use_boot) {
        bootstrap(p, y_true, champion, challenger, n, n_labels, policy->bootstrap_samples,
                  policy->confidence, seed, &bt);
        out->ci_low = bt.ci_low;
        out->ci_high = bt.ci_high;
        sig_ok = bt.lower > GATE_EPS;
        /* the decision rests on the one-sided bound; the two-sided
         * interval is what a reader expects to see */
        add_reason(out,
                   "bootstrap %g%% CI of the gain [%.4f, %.4f] (one-sided %g%% lower bound "
                   "%+.4f, %d resamples of %zu examples): %s",
                   conf_pct, bt.ci_low, bt.ci_high, conf_pct, bt.lower, policy->bootstrap_samples,
                   n, sig_ok ? "significant" : "not significant, the lower bound is not above 0");
    } else {
        size_t b = 0, c = 0;
        for (size_t i = 0; i < n; i++) {
            int ra = champion[i] == y_true[i], rb = challenger[i] == y_true[i];
            b += ra && !rb;
            c += rb && !ra;
        }
        int exact;
        out->p_value = gate_mcnemar_p(b, c, &exact);
        double alpha = 1 - policy->confidence;
        sig_ok = out->p_value < alpha && c > b;
        const char *why = sig_ok   ? "significant"
                          : c <= b ? "not significant (the challenger is not "
                                     "right more often than the champion)"
                                   : "not significant";
        add_reason(out,
                   "McNemar on %zu discordant examples (challenger alone right on %zu, champion "
                   "alone right on %zu): p %s %.4f (%s), below %.4f required: %s",
                   b + c, c, b, out->p_value < 1e-4 ? "<" : "=",
                   out->p_value < 1e-4 ? 1e-4 : out->p_value,
                   exact ? "exact binomial" : "chi-square with continuity correction", alpha, why);
    }

    /* c) guards: no class's recall may collapse */
    int guards_ok = 1, noisy = 0;
    size_t first_guard_reason = 0;
    for (size_t k = 0; k < n_labels; k++) {
        if (!ma.support[k]) continue;
        char fallback[32];
        const char *name = label_names && label_names[k] ? label_names[k] : NULL;
        if (!name) {
            snprintf(fallback, sizeof fallback, "%zu", k);
            name = fallback;
        }
        double ra = ma.recall[k], rb = mb.recall[k], drop = ra - rb;
        /* with the bootstrap, a drop past the bound counts only when it is
         * real: a class of 20 examples moves 0.05 with a single example */
        int real = !bt.recall_drop_lower || bt.recall_drop_lower[k] > GATE_EPS;
        int ok = drop <= policy->max_recall_drop + GATE_EPS || !real;
        char *key = xasprintf("recall[%s]", name);
        json_t *g = json_object();
        json_object_set_new(g, "champion", json_real(ra));
        json_object_set_new(g, "challenger", json_real(rb));
        json_object_set_new(g, "drop", json_real(drop));
        json_object_set_new(g, "bound", json_real(policy->max_recall_drop));
        if (bt.recall_drop_lower)
            json_object_set_new(g, "drop_lower_bound", json_real(bt.recall_drop_lower[k]));
        json_object_set_new(g, "ok", json_boolean(ok));
        json_object_set_new(out->guards, key, g);
        free(key);
        if (!ok) {
            if (guards_ok) first_guard_reason = json_array_size(out->reasons);
            guards_ok = 0;
            add_reason(out,
                       "recall of '%s' dropped %.3f (%.3f -> %.3f), more than the %.3f allowed",
                       name, drop, ra, rb, policy->max_recall_drop);
        } else if (drop > policy->max_recall_drop + GATE_EPS) {
            noisy = 1;
            add_reason(out,
                       "recall of '%s' dropped %.3f (%.3f -> %.3f) on %zu examples, within noise "
                       "(%g%% lower bound of the drop %+.3f): ok",
                       name, drop, ra, rb, ma.support[k], conf_pct, bt.recall_drop_lower[k]);
        }
    }
    if (guards_ok && !noisy)
        add_reason(out, "no class's recall dropped more than %.3f: ok", policy->max_recall_drop);

    out->deploy = gain_ok && sig_ok && guards_ok;
    /* the first check that failed, in the order they were reported */
    size_t failing = !gain_ok ? 0 : !sig_ok ? 1 : first_guard_reason;
    if (!out->deploy)
        snprintf(out->refusal, sizeof out->refusal, "%s",
                 json_string_value(json_array_get(out->reasons, failing)));
    free(bt.recall_drop_lower);
    metrics_free(&ma);
    metrics_free(&mb);
    return 0;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *gate_decision_to_json(const struct gate_decision *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "deploy", json_boolean(d->deploy));
    json_object_set_new(o, "primary", json_string(d->primary));
    json_object_set_new(o, "champion", num(d->champion_score));
    json_object_set_new(o, "challenger", num(d->challenger_score));
    json_object_set_new(o, "delta", num(d->delta));
    json_object_set_new(o, "ci_low", num(d->ci_low));
    json_object_set_new(o, "ci_high", num(d->ci_high));
    json_object_set_new(o, "p_value", num(d->p_value));
    json_object_set_new(o, "n", json_integer((json_int_t)d->n));
    /* the test is known from which of its numbers is set */
    json_object_set_new(o, "test",
                        !isnan(d->p_value)  ? json_string("mcnemar")
                        : !isnan(d->ci_low) ? json_string("bootstrap")
                                            : json_null());
    json_object_set_new(o, "reasons", d->reasons ? json_deep_copy(d->reasons) : json_array());
    if (!d->deploy && d->refusal[0]) json_object_set_new(o, "refusal", json_string(d->refusal));
    json_object_set_new(o, "guards", d->guards ? json_deep_copy(d->guards) : json_object());
    return o;
}

void gate_decision_free(struct gate_decision *d)
{
    if (!d) return;
    json_decref(d->reasons);
    json_decref(d->guards);
    d->reasons = d->guards = NULL;
}
