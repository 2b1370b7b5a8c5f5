/* The model interface: configuration of the `model:` section, training
 * dispatch, thread-safe prediction, the artifact format and refcounting.
 *
 * Artifact layout (all integers little-endian):
 *   "BOUCLEMD"  u32 format version  u64 total length (checksum included)
 *   str kind  u32 task type  u32 n_labels  str label...
 *   (format 2 and 3) preparation: u32 n_steps  u32 step...  str separator
 *   (format 4, and 6 when multilabel) f64 threshold per label
 *   (format 3 and up) u32 has_text: whether the featuriser section follows
 *   featuriser section (tfidf_save; format 6: with the text options —
 *   analyzer, char n-grams, hashing, stop words, stemming, keep_punct,
 *   split_urls)
 *   (format 3 and up) tabular section (tabular_save)
 *   u32 n_cols  u64 n_rows  f64 weight...   (linear_weights, feature-major;
 *   rows: the text's features, then the tabular block's, then the bias)
 *   -- or, for kind "fasttext", the section of fasttext_save instead of
 *   the featuriser and weights (same format version: linear artifacts
 *   read as before, and an older build names the kind it does not know)
 *   -- or, for kind "xgboost" (format 5), the section of xgb_save in place
 *   of the weights, after the tabular section
 *   -- or, for kind "xgboost" on a multilabel task (format 7: format 4's
 *   sections, thresholds included), the section of xgb_ovr_save (a booster
 *   count, then one xgb_save section per label) in place of the weights
 *   64 hex chars: SHA-256 of every byte before them
 * The length field lets a truncated file be told from an altered one. */
#include "ml/model.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "ml/linear.h"
#include "ml/model_params.h"
#include "ml/xgboost_multilabel.h"
#include "text/tfidf.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MODEL_MAGIC "BOUCLEMD"
/* 1: no preparation section (no cleaning, "\n"); 2: with it, no tabular
 * section; 3: with the tabular section; 4: multilabel, with its thresholds
 * (and everything format 3 has); 5: xgboost (format 3's sections, then the
 * booster instead of weights); 6: any model whose featuriser uses the text
 * options of tfidf_config_is_extended (or a fasttext keeping '!'/'?'): the
 * sections of the others as the model has them (thresholds when multilabel,
 * the booster or one booster per label for xgboost), the options in its
 * featuriser's settings; 7: multilabel xgboost (format 4's sections, then
 * one booster per label) */
#define MODEL_FORMAT_VERSION 7u
#define MODEL_FORMAT_TABULAR 3u
#define MODEL_FORMAT_MULTILABEL 4u
#define MODEL_FORMAT_XGBOOST 5u
#define MODEL_FORMAT_TEXT_OPTIONS 6u
#define MODEL_FORMAT_XGBOOST_MULTILABEL 7u
#define MODEL_HEADER_LEN 20 /* magic + version + length */
#define MODEL_SUM_LEN 64
#define MODEL_MAX_LABELS 100000
#define MODEL_MAX_LABEL_LEN 1024

struct trained_model {
    atomic_int refs;
    char kind[16];
    enum task_type type;
    size_t n_labels;
    char **labels;
    struct clean_config prep;
    int has_text; /* a task without text fields has no featuriser state */
    struct tfidf feat;
    struct tabular tab; /* its features follow feat's */
    struct linear_weights lin;
    struct fasttext *ft;   /* kind fasttext (then feat and lin are unused) */
    struct xgb_model *xgb; /* kind xgboost (then lin is unused) */
    struct xgb_ovr ovr;    /* kind xgboost on a multilabel task (then xgb is NULL) */
    double fit_seconds;    /* the learner's time; not saved */
    double *thresholds;    /* multilabel: one per label; NULL otherwise */
};

/* ---- configuration ---------------------------------------------------- */

void model_config_defaults(struct model_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->kind, sizeof c->kind, "linear");
    tfidf_config_defaults(&c->text);
    c->C = 1.0;
    c->eps = 0.01;
    c->class_weight_balanced = 0;
    c->penalty = LINEAR_L2;
    c->loss = LINEAR_LOGISTIC;
    clean_config_defaults(&c->prep);
    fasttext_config_defaults(&c->ft);
    xgb_params_defaults(&c->xgb);
    multilabel_config_defaults(&c->ml);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; s && i < 4; i++) {
        if (!strcasecmp(s, yes[i])) return *out = 1, 0;
        if (!strcasecmp(s, no[i])) return *out = 0, 0;
    }
    return -1;
}

/* "1,2", "1-2", "[1, 2]" or "(1, 2)" */
static int parse_range(const char *s, long max, int *lo, int *hi)
{
    if (!s) return -1;
    char tmp[64];
    size_t k = 0;
    for (; *s && k + 1 < sizeof tmp; s++)
        if (!strchr(" []()", *s)) tmp[k++] = *s == '-' ? ',' : *s;
    tmp[k] = '\0';
    char *comma = strchr(tmp, ',');
    if (!comma) return -1;
    *comma = '\0';
    long a, b;
    if (parse_long(tmp, 1, max, &a) || parse_long(comma + 1, 1, max, &b) || b < a) return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

/* A key of the TF-IDF featuriser (shared by linear and xgboost): 1 when
 * p is not one, else 0 or -1 (a bad value, e set). */
static int parse_text_key(struct model_config *c, const struct config_param *p, int lines[2],
                          struct err *e)
{
    const char *k = p->key ? p->key : "", *v = p->value;
    long l;
    double d;
    if (!strcmp(k, "ngram_range")) {
        if (parse_range(v, TFIDF_MAX_NGRAM, &c->text.ngram_min, &c->text.ngram_max))
            return model_param_error(e, p, "expected two n-gram sizes like \"1,2\" (from 1 to 8)");
        lines[0] = p->line;
    } else if (!strcmp(k, "ngram_min") || !strcmp(k, "ngram_max")) {
        if (parse_long(v, 1, TFIDF_MAX_NGRAM, &l))
            return model_param_error(e, p, "expected an integer from 1 to 8");
        *(!strcmp(k, "ngram_min") ? &c->text.ngram_min : &c->text.ngram_max) = (int)l;
        lines[0] = p->line;
    } else if (!strcmp(k, "min_df")) {
        if (parse_long(v, 1, 1000000000L, &l))
            return model_param_error(e, p, "expected a positive integer");
        c->text.min_df = (int)l;
    } else if (!strcmp(k, "max_df")) {
        if (parse_double(v, &d) || !(d > 0 && d <= 1))
            return model_param_error(e, p, "expected a share of texts in (0, 1]");
        c->text.max_df = d;
    } else if (!strcmp(k, "sublinear_tf")) {
        if (parse_bool(v, &c->text.sublinear_tf))
            return model_param_error(e, p, "expected true or false");
    } else if (!strcmp(k, "max_features")) {
        if (parse_long(v, 0, 1000000000L, &l))
            return model_param_error(e, p, "expected a non-negative integer (0 = no limit)");
        c->text.max_features = (size_t)l;
    } else if (!strcmp(k, "analyzer")) {
        if (v && !strcmp(v, "word"))
            c->text.analyzer = TFIDF_WORD;
        else if (v && !strcmp(v, "char_wb"))
            c->text.analyzer = TFIDF_CHAR_WB;
        else if (v && !strcmp(v, "both"))
            c->text.analyzer = TFIDF_BOTH;
        else
            return model_param_error(e, p, "expected word, char_wb or both");
    } else if (!strcmp(k, "char_ngrams")) {
        if (parse_range(v, TFIDF_MAX_CHAR_NGRAM, &c->text.char_min, &c->text.char_max))
            return model_param_error(e, p,
                                     "expected two char n-gram sizes like [2, 5] (from 1 to 16)");
        lines[1] = p->line;
    } else if (!strcmp(k, "hashing_bits")) {
        if (parse_long(v, 0, TFIDF_MAX_HASH_BITS, &l) || (l && l < TFIDF_MIN_HASH_BITS))
            return model_param_error(e, p,
                                     "expected 0 (a vocabulary) or a number of bits from 8 to 22");
        c->text.hashing_bits = (int)l;
    } else if (!strcmp(k, "stop_words") || !strcmp(k, "stemming")) {
        int lang = text_lang_parse(v);
        if (lang < 0) return model_param_error(e, p, "expected english, french or none");
        *(!strcmp(k, "stemming") ? &c->text.stemming : &c->text.stop_words) = lang;
    } else if (!strcmp(k, "keep_punct") || !strcmp(k, "split_urls")) {
        if (parse_bool(v, !strcmp(k, "keep_punct") ? &c->text.keep_punct : &c->text.split_urls))
            return model_param_error(e, p, "expected true or false");
    } else {
        return 1;
    }
    return 0;
}

/* A key of the linear model's own: 1 when p is not one, else 0 or -1. */
static int parse_linear_key(struct model_config *c, const struct config_param *p, struct err *e)
{
    const char *k = p->key ? p->key : "", *v = p->value;
    double d;
    if (!strcmp(k, "C")) {
        if (parse_double(v, &d) || !(d > 0))
            return model_param_error(e, p, "expected a positive number");
        c->C = d;
    } else if (!strcmp(k, "eps")) {
        if (parse_double(v, &d) || !(d > 0))
            return model_param_error(e, p, "expected a positive number");
        c->eps = d;
    } else if (!strcmp(k, "penalty")) {
        if (v && (!strcmp(v, "l2") || !strcmp(v, "l1")))
            c->penalty = !strcmp(v, "l1") ? LINEAR_L1 : LINEAR_L2;
        else
            return model_param_error(e, p, "expected l2 or l1");
    } else if (!strcmp(k, "loss")) {
        if (v && (!strcmp(v, "logistic") || !strcmp(v, "svm")))
            c->loss = !strcmp(v, "svm") ? LINEAR_SVM : LINEAR_LOGISTIC;
        else
            return model_param_error(e, p, "expected logistic or svm");
    } else if (!strcmp(k, "threshold")) {
        if (v && !strcmp(v, "tune"))
            c->ml.threshold = -1;
        else if (parse_double(v, &d) || !(d > 0 && d < 1))
            return model_param_error(e, p, "expected tune or a probability in (0, 1)");
        else
            c->ml.threshold = d;
        if (!c->multilabel_line) c->multilabel_line = p->line;
    } else if (!strcmp(k, "validation_fraction")) {
        if (parse_double(v, &d) || !(d >= 0 && d < 1))
            return model_param_error(e, p, "expected a share of the training rows in [0, 1)");
        c->ml.validation_fraction = d;
        if (!c->multilabel_line) c->multilabel_line = p->line;
    } else if (!strcmp(k, "class_weight")) {
        if (v && !strcmp(v, "balanced"))
            c->class_weight_balanced = 1;
        else if (v && (!strcmp(v, "none") || !strcmp(v, "null") || !*v))
            c->class_weight_balanced = 0;
        else
            return model_param_error(e, p, "expected 'balanced' or 'none'");
    } else {
        return 1;
    }
    return 0;
}

int model_config_parse(struct model_config *c, const char *kind, const struct config_param *params,
                       size_t n_params, struct err *e)
{
    model_config_defaults(c);
    if (kind && !strcmp(kind, "fasttext")) {
        snprintf(c->kind, sizeof c->kind, "fasttext");
        return fasttext_config_parse(&c->ft, params, n_params, e);
    }
    int xgboost = kind && !strcmp(kind, "xgboost");
    if (kind && *kind && strcmp(kind, "linear") != 0 && !xgboost)
        return err_set_field(e, ERR_INVALID, "model.kind",
                             "model.kind: unknown model kind '%s' (available: linear, fasttext, "
                             "xgboost)",
                             kind);
    if (xgboost) snprintf(c->kind, sizeof c->kind, "xgboost");
    /* xgboost: the featuriser's keys here, its own in xgb_params_parse */
    struct config_param *rest = xmalloc((n_params ? n_params : 1) * sizeof *rest);
    size_t n_rest = 0;
    int lines[2] = {0, 0}, rc = 0; /* of ngram_*, char_ngrams */
    for (size_t i = 0; i < n_params && !rc; i++) {
        const struct config_param *p = &params[i];
        rc = parse_text_key(c, p, lines, e);
        /* `threshold:` is a multilabel key of every kind that trains one */
        if (rc == 1 && xgboost && strcmp(p->key ? p->key : "", "threshold") != 0) {
            rest[n_rest++] = *p;
            rc = 0;
        } else if (rc == 1) {
            rc = parse_linear_key(c, p, e);
        }
        if (rc == 1) {
            char field[64];
            snprintf(field, sizeof field, "model.%s", p->key ? p->key : "");
            rc = err_set_field(e, ERR_INVALID, field,
                               "model.%s (line %d): unknown key (known: ngram_range, ngram_min, "
                               "ngram_max, min_df, max_df, sublinear_tf, max_features, analyzer, "
                               "char_ngrams, hashing_bits, stop_words, stemming, keep_punct, "
                               "split_urls, C, eps, class_weight, penalty, loss, threshold, "
                               "validation_fraction)",
                               p->key ? p->key : "", p->line);
        }
    }
    if (!rc && xgboost) rc = xgb_params_parse(&c->xgb, rest, n_rest, e);
    free(rest);
    if (rc) return -1;
    if (c->text.ngram_max < c->text.ngram_min)
        return err_set_field(e, ERR_INVALID, "model.ngram_max",
                             "model.ngram_max (line %d): must not be below ngram_min (%d < %d)",
                             lines[0], c->text.ngram_max, c->text.ngram_min);
    if (lines[1] && c->text.analyzer == TFIDF_WORD)
        return err_set_field(e, ERR_INVALID, "model.char_ngrams",
                             "model.char_ngrams (line %d): char n-grams need analyzer: char_wb "
                             "or both (the analyzer is word)",
                             lines[1]);
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

static struct trained_model *model_new(const char *kind, enum task_type type,
                                       const char *const *names, size_t n)
{
    struct trained_model *m = xcalloc(1, sizeof *m);
    atomic_init(&m->refs, 1);
    snprintf(m->kind, sizeof m->kind, "%s", kind);
    m->type = type;
    m->n_labels = n;
    m->labels = xcalloc(n, sizeof *m->labels);
    clean_config_defaults(&m->prep);
    m->has_text = 1;
    for (size_t i = 0; names && i < n; i++)
        m->labels[i] = xstrdup(names[i]);
    return m;
}

static void model_destroy(struct trained_model *m)
{
    for (size_t i = 0; i < m->n_labels; i++)
        free(m->labels[i]);
    free(m->labels);
    tfidf_free(&m->feat);
    tabular_free(&m->tab);
    linear_free(&m->lin);
    fasttext_free(m->ft);
    xgb_free(m->xgb);
    xgb_ovr_free(&m->ovr);
    free(m->thresholds);
    free(m);
}

void model_retain(struct trained_model *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void model_release(struct trained_model *m)
{
    if (!m) return;
    /* acq_rel: the last releaser must see every other thread's use done */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) model_destroy(m);
}

size_t model_n_labels(const struct trained_model *m)
{
    return m->n_labels;
}

enum task_type model_task_type(const struct trained_model *m)
{
    return m->type;
}

double model_threshold(const struct trained_model *m, size_t i)
{
    return m->thresholds && i < m->n_labels ? m->thresholds[i] : NAN;
}

const char *model_label(const struct trained_model *m, size_t i)
{
    return i < m->n_labels ? m->labels[i] : NULL;
}

const char *model_kind(const struct trained_model *m)
{
    return m->kind;
}

double model_fit_seconds(const struct trained_model *m)
{
    return m->fit_seconds;
}

void model_summary(const struct trained_model *m, char *out, size_t cap)
{
    if (!cap) return;
    out[0] = '\0';
    if (m->ovr.n) {
        int lo, hi, trained;
        xgb_ovr_rounds(&m->ovr, &lo, &hi, &trained);
        snprintf(out, cap, "xgboost: %zu boosters (one per label), %d to %d of %d rounds kept%s",
                 m->ovr.n, lo, hi, trained, lo < trained ? " (early stopping, per label)" : "");
        return;
    }
    if (!m->xgb) return;
    int kept = xgb_rounds_kept(m->xgb), trained = xgb_rounds_trained(m->xgb);
    snprintf(out, cap, "xgboost: %d of %d rounds kept%s", kept, trained,
             kept < trained ? " (early stopping: the best validation loss)" : "");
}

size_t model_n_features(const struct trained_model *m)
{
    return m->ft ? fasttext_n_rows(m->ft) : m->feat.n_features + m->tab.n_features;
}

const struct clean_config *model_prep(const struct trained_model *m)
{
    return &m->prep;
}

/* ---- training --------------------------------------------------------- */

static int check_names(const char *const *label_names, size_t n_labels, struct err *e)
{
    for (size_t i = 0; i < n_labels; i++)
        if (!label_names || !label_names[i] || strlen(label_names[i]) > MODEL_MAX_LABEL_LEN)
            return err_set(e, ERR_INVALID, "label %zu has no name or a name over %d bytes", i,
                           MODEL_MAX_LABEL_LEN);
    return 0;
}

/* The linear model's features into x: the text's TF-IDF (when the task
 * has text), then the tabular block (when it has tabular fields). */
static int featurise(struct trained_model *m, const struct model_config *cfg,
                     const char *const *texts, const struct tabular_values *tab, size_t n,
                     struct tfidf_matrix *x, struct err *e)
{
    int tabular = cfg->n_numeric || cfg->n_categorical;
    memset(x, 0, sizeof *x);
    if (!texts && !tabular)
        return err_set(e, ERR_INVALID,
                       "no input fields: a task needs text, numeric or categorical fields");
    if (tabular && !tab)
        return err_set(e, ERR_USAGE, "the config names tabular fields but no values were given");
    m->has_text = texts != NULL;
    struct tfidf_matrix text;
    memset(&text, 0, sizeof text);
    if (texts && tfidf_fit(&m->feat, &cfg->text, texts, NULL, n, tabular ? &text : x, e))
        return err_prefix(e, "featurising");
    if (!tabular) return 0;
    int rc = tabular_fit(&m->tab, cfg->numeric, cfg->n_numeric, cfg->categorical,
                         cfg->n_categorical, tab, n, e);
    /* feature ids are 32-bit (and liblinear's are ints) */
    if (!rc && m->feat.n_features + m->tab.n_features >= (size_t)INT32_MAX)
        rc = err_set(e, ERR_LIMIT, "%zu features are too many: lower hash_bits",
                     m->feat.n_features + m->tab.n_features);
    if (!rc)
        tabular_append_rows(&m->tab, texts ? &text : NULL, tab, n, (uint32_t)m->feat.n_features, x);
    tfidf_matrix_free(&text);
    return rc ? err_prefix(e, "featurising") : 0;
}

/* Frees the training matrix and returns m, or destroys m when the fit
 * failed. */
static struct trained_model *linear_done(struct trained_model *m, struct tfidf_matrix *x, int rc,
                                         struct err *e)
{
    tfidf_matrix_free(x);
    if (rc == 0) return m;
    err_prefix(e, "training");
    model_destroy(m);
    return NULL;
}

static struct linear_params linear_params_of(const struct model_config *cfg)
{
    return (struct linear_params){.C = cfg->C,
                                  .eps = cfg->eps,
                                  .class_weight_balanced = cfg->class_weight_balanced,
                                  .penalty = (enum linear_penalty)cfg->penalty,
                                  .loss = (enum linear_loss)cfg->loss};
}

struct trained_model *model_train_rows(const struct model_config *cfg, enum task_type type,
                                       const char *const *texts, const struct tabular_values *tab,
                                       const int *labels, size_t n, const char *const *label_names,
                                       size_t n_labels, struct err *e)
{
    int fasttext = !strcmp(cfg->kind, "fasttext"), xgboost = !strcmp(cfg->kind, "xgboost");
    if (strcmp(cfg->kind, "linear") != 0 && !fasttext && !xgboost) {
        err_set_field(e, ERR_INVALID, "model.kind",
                      "unknown model kind '%s' (available: linear, fasttext, xgboost)", cfg->kind);
        return NULL;
    }
    if (fasttext && (cfg->n_numeric || cfg->n_categorical || !texts)) {
        err_set_field(e, ERR_INVALID, "model.kind",
                      "model.kind: fasttext reads text fields only; a task with numeric or "
                      "categorical fields needs kind: linear or xgboost");
        return NULL;
    }
    if (type == TASK_MULTILABEL) {
        err_set(e, ERR_USAGE,
                "model_train takes one label per text; a multilabel task trains with "
                "model_train_multilabel");
        return NULL;
    }
    if (n_labels < 2 || n_labels > MODEL_MAX_LABELS || (type == TASK_BINARY && n_labels != 2)) {
        err_set(e, ERR_INVALID, "a %s task needs %s labels, not %zu",
                type == TASK_BINARY ? "binary" : "multiclass",
                type == TASK_BINARY ? "exactly 2" : "at least 2", n_labels);
        return NULL;
    }
    if (check_names(label_names, n_labels, e)) return NULL;
    struct trained_model *m = model_new(cfg->kind, type, label_names, n_labels);
    m->prep = cfg->prep;
    int64_t t0 = time_mono_ns();
    if (fasttext) {
        m->ft = fasttext_train(&cfg->ft, texts, labels, n, n_labels, e);
        m->fit_seconds = time_elapsed_s(t0);
        if (!m->ft) {
            err_prefix(e, "training");
            model_destroy(m);
            return NULL;
        }
        return m;
    }
    struct tfidf_matrix x;
    if (featurise(m, cfg, texts, tab, n, &x, e)) {
        model_destroy(m);
        return NULL;
    }
    if (xgboost) {
        t0 = time_mono_ns();
        m->xgb =
            xgb_train(&cfg->xgb, &x, m->feat.n_features + m->tab.n_features, labels, n_labels, e);
        m->fit_seconds = time_elapsed_s(t0);
        tfidf_matrix_free(&x);
        if (!m->xgb) {
            err_prefix(e, "training");
            model_destroy(m);
            return NULL;
        }
        return m;
    }
    struct linear_params lp = linear_params_of(cfg);
    t0 = time_mono_ns();
    int rc = linear_fit(&x, m->feat.n_features + m->tab.n_features, labels, n_labels,
                        type == TASK_BINARY, &lp, &m->lin, e);
    m->fit_seconds = time_elapsed_s(t0);
    return linear_done(m, &x, rc, e);
}

struct trained_model *model_train_multilabel(const struct model_config *cfg,
                                             const char *const *texts,
                                             const struct multilabel_sets *y, size_t n,
                                             const char *const *label_names, size_t n_labels,
                                             struct multilabel_report *report, struct err *e)
{
    int xgboost = !strcmp(cfg->kind, "xgboost");
    if (strcmp(cfg->kind, "linear") != 0 && !xgboost) {
        err_set_field(e, ERR_INVALID, "model.kind",
                      "model kind '%s' cannot train a multilabel task yet: use kind linear or "
                      "xgboost (one-vs-rest)",
                      cfg->kind);
        return NULL;
    }
    if (cfg->n_numeric || cfg->n_categorical || !texts) {
        err_set(e, ERR_INVALID,
                "a multilabel task reads text fields only (numeric and categorical fields are "
                "for binary and multiclass tasks)");
        return NULL;
    }
    if (n_labels < 1 || n_labels > MODEL_MAX_LABELS) {
        err_set(e, ERR_INVALID, "a multilabel task needs 1 to %d labels, not %zu", MODEL_MAX_LABELS,
                n_labels);
        return NULL;
    }
    if (check_names(label_names, n_labels, e)) return NULL;
    struct trained_model *m = model_new(cfg->kind, TASK_MULTILABEL, label_names, n_labels);
    m->prep = cfg->prep;
    m->thresholds = xcalloc(n_labels, sizeof *m->thresholds);
    struct tfidf_matrix x;
    if (featurise(m, cfg, texts, NULL, n, &x, e)) {
        model_destroy(m);
        return NULL;
    }
    struct linear_params lp = linear_params_of(cfg);
    struct multilabel_report ignored;
    int64_t t0 = time_mono_ns();
    int rc = xgboost ? xgb_ovr_train(&cfg->xgb, &x, m->feat.n_features, y, n_labels, &cfg->ml,
                                     &m->ovr, m->thresholds, report ? report : &ignored, e)
                     : multilabel_fit(&x, m->feat.n_features, y, n_labels, &lp, &cfg->ml, &m->lin,
                                      m->thresholds, report ? report : &ignored, e);
    m->fit_seconds = time_elapsed_s(t0);
    return linear_done(m, &x, rc, e);
}

struct trained_model *model_train(const struct model_config *cfg, enum task_type type,
                                  const char *const *texts, const int *labels, size_t n,
                                  const char *const *label_names, size_t n_labels, struct err *e)
{
    return model_train_rows(cfg, type, texts, NULL, labels, n, label_names, n_labels, e);
}

/* ---- prediction ------------------------------------------------------- */

/* Per-thread scratch, grown to the largest text and label count seen, so
 * a serving thread stops allocating after its first few requests. A
 * pthread key frees it when the thread ends: an HTTP server may run one
 * thread per connection, and a scratch per finished thread would leak. */
struct predict_scratch {
    struct tfidf_vec vec;
    double *scores;
    size_t scores_cap;
    struct clean_scratch clean; /* model_predict_fields: the cleaning steps */
    struct buf text;            /* and the prepared text */
    struct fasttext_scratch ft;
    struct xgb_scratch xgb;
    /* a row's tabular features: one per field */
    uint32_t tab_idx[TASK_MAX_TABULAR_FIELDS];
    double tab_val[TASK_MAX_TABULAR_FIELDS];
    /* model_row_features: both blocks in one row */
    uint32_t *row_idx;
    double *row_val;
    size_t row_cap;
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local struct predict_scratch *tl_scratch;

static void scratch_free(void *p)
{
    struct predict_scratch *s = p;
    tfidf_vec_free(&s->vec);
    fasttext_scratch_free(&s->ft);
    xgb_scratch_free(&s->xgb);
    free(s->row_idx);
    free(s->row_val);
    free(s->scores);
    clean_scratch_free(&s->clean);
    buf_free(&s->text);
    free(s);
}

static void scratch_key_create(void)
{
    if (pthread_key_create(&scratch_key, scratch_free) != 0) abort(); /* EAGAIN: out of keys */
}

static struct predict_scratch *scratch_get(size_t n_scores)
{
    struct predict_scratch *s = tl_scratch;
    if (!s) {
        pthread_once(&scratch_once, scratch_key_create);
        s = xcalloc(1, sizeof *s);
        tfidf_vec_init(&s->vec);
        clean_scratch_init(&s->clean);
        buf_init(&s->text);
        fasttext_scratch_init(&s->ft);
        pthread_setspecific(scratch_key, s);
        tl_scratch = s;
    }
    if (s->scores_cap < n_scores) {
        s->scores = xrealloc(s->scores, n_scores * sizeof *s->scores);
        s->scores_cap = n_scores;
    }
    return s;
}

/* The features of a prepared text and tabular values (NULL: all
 * missing): the text's in s->vec, the tabular block's in s->tab_idx and
 * s->tab_val (their count returned). */
static size_t row_features(const struct trained_model *m, struct predict_scratch *s,
                           const char *text, size_t len, const struct tabular_values *tab)
{
    s->vec.n = 0;
    if (m->has_text) tfidf_transform(&m->feat, text ? text : "", text ? len : 0, &s->vec);
    if (!m->tab.n_features) return 0;
    static const struct tabular_values none = {0, 0, NULL, NULL, NULL};
    return tabular_transform(&m->tab, tab ? tab : &none, (uint32_t)m->feat.n_features, s->tab_idx,
                             s->tab_val);
}

/* Scores a prepared text and tabular values into s->scores; the features
 * are left as row_features leaves them. */
static size_t linear_score(const struct trained_model *m, struct predict_scratch *s,
                           const char *text, size_t len, const struct tabular_values *tab)
{
    size_t k = row_features(m, s, text, len, tab);
    linear_scores(&m->lin, s->vec.idx, s->vec.val, s->vec.n, s->scores);
    linear_scores_add(&m->lin, s->tab_idx, s->tab_val, k, s->scores);
    return k;
}

/* The row row_features left in s, as the two blocks xgboost reads. */
static struct xgb_row xgb_row_of(const struct predict_scratch *s, size_t n_tab)
{
    return (struct xgb_row){{s->vec.idx, s->tab_idx}, {s->vec.val, s->tab_val}, {s->vec.n, n_tab}};
}

static size_t predict_prepared(const struct trained_model *m, struct predict_scratch *s,
                               const char *text, size_t len, const struct tabular_values *tab,
                               double *probs)
{
    if (m->ft) return fasttext_predict(m->ft, text, len, &s->ft, probs);
    if (m->xgb || m->ovr.n) {
        struct xgb_row row = xgb_row_of(s, row_features(m, s, text, len, tab));
        return m->xgb ? xgb_predict(m->xgb, &row, &s->xgb, probs)
                      : xgb_ovr_predict(&m->ovr, &row, &s->xgb, probs);
    }
    linear_score(m, s, text, len, tab);
    if (m->type == TASK_MULTILABEL)
        linear_sigmoids(m->n_labels, s->scores, probs);
    else
        linear_probabilities(&m->lin, m->n_labels, s->scores, probs);
    size_t best = 0;
    for (size_t c = 1; c < m->n_labels; c++)
        if (probs[c] > probs[best]) best = c;
    return best;
}

size_t model_predict(const struct trained_model *m, const char *text, size_t len, double *probs)
{
    return predict_prepared(m, scratch_get(m->lin.n_cols), text, len, NULL, probs);
}

size_t model_predict_input(const struct trained_model *m, const struct model_input *in,
                           double *probs)
{
    struct predict_scratch *s = scratch_get(m->lin.n_cols);
    clean_input(&m->prep, in->text, in->text_lens, in->n_text, &s->clean, &s->text, NULL);
    return predict_prepared(m, s, s->text.data, s->text.len, &in->tab, probs);
}

size_t model_predict_fields(const struct trained_model *m, const char *const *values,
                            const size_t *lens, size_t n, double *probs)
{
    struct model_input in = {.text = values, .text_lens = lens, .n_text = n};
    return model_predict_input(m, &in, probs);
}

size_t model_row_features(const struct trained_model *m, const struct model_input *in,
                          const uint32_t **idx, const double **val)
{
    struct predict_scratch *s = scratch_get(m->lin.n_cols);
    *idx = s->row_idx;
    *val = s->row_val;
    if (m->ft) return 0;
    clean_input(&m->prep, in->text, in->text_lens, in->n_text, &s->clean, &s->text, NULL);
    size_t k = row_features(m, s, s->text.data, s->text.len, &in->tab), n = s->vec.n + k;
    if (s->row_cap < n) {
        s->row_idx = xrealloc(s->row_idx, n * sizeof *s->row_idx);
        s->row_val = xrealloc(s->row_val, n * sizeof *s->row_val);
        s->row_cap = n;
    }
    if (s->vec.n) {
        memcpy(s->row_idx, s->vec.idx, s->vec.n * sizeof *s->row_idx);
        memcpy(s->row_val, s->vec.val, s->vec.n * sizeof *s->row_val);
    }
    if (k) {
        memcpy(s->row_idx + s->vec.n, s->tab_idx, k * sizeof *s->row_idx);
        memcpy(s->row_val + s->vec.n, s->tab_val, k * sizeof *s->row_val);
    }
    *idx = s->row_idx;
    *val = s->row_val;
    return n;
}

int model_check_fields(const struct trained_model *m, const struct task_config *task, struct err *e)
{
    const struct tabular *t = &m->tab;
    int same = t->n_num == task->n_numeric && t->n_cat == task->n_categorical;
    for (size_t i = 0; same && i < t->n_num; i++)
        same = str_eq(t->num[i].name, task->numeric[i].name);
    for (size_t i = 0; same && i < t->n_cat; i++)
        same = str_eq(t->cat[i].name, task->categorical[i].name);
    if (same) return 0;
    struct buf model, config;
    buf_init(&model);
    buf_init(&config);
    buf_append(&model, "", 0);
    buf_append(&config, "", 0);
    for (size_t i = 0; i < t->n_num + t->n_cat; i++)
        buf_printf(&model, "%s%s", i ? ", " : "",
                   i < t->n_num ? t->num[i].name : t->cat[i - t->n_num].name);
    for (size_t i = 0; i < task->n_numeric + task->n_categorical; i++)
        buf_printf(&config, "%s%s", i ? ", " : "",
                   i < task->n_numeric ? task->numeric[i].name
                                       : task->categorical[i - task->n_numeric].name);
    err_set(e, ERR_INVALID,
            "the model reads the tabular fields [%.400s] (%zu numeric, %zu categorical) but "
            "task '%s' lists [%.400s] (%zu numeric, %zu categorical): train a model for this "
            "config",
            model.data, t->n_num, t->n_cat, task->name, config.data, task->n_numeric,
            task->n_categorical);
    buf_free(&model);
    buf_free(&config);
    return -1;
}

/* ---- artifact --------------------------------------------------------- */

static void put_u64_at(struct buf *b, size_t at, unsigned long long v)
{
    for (int i = 0; i < 8; i++)
        b->data[at + (size_t)i] = (char)(v >> (8 * i));
}

int model_save(const struct trained_model *m, struct buf *out, struct err *e)
{
    size_t start = out->len;
    /* the oldest format that holds the model, so older builds read it */
    /* 6 holds every other format's sections, with the text options */
    int options =
        m->ft ? fasttext_is_extended(m->ft) : m->has_text && tfidf_config_is_extended(&m->feat.cfg);
    unsigned version = options                              ? MODEL_FORMAT_TEXT_OPTIONS
                       : m->ovr.n                           ? MODEL_FORMAT_XGBOOST_MULTILABEL
                       : m->xgb                             ? MODEL_FORMAT_XGBOOST
                       : m->type == TASK_MULTILABEL         ? MODEL_FORMAT_MULTILABEL
                       : m->tab.n_num + m->tab.n_cat        ? MODEL_FORMAT_TABULAR
                       : !clean_config_is_default(&m->prep) ? 2u
                                                            : 1u;
    int text_options = version == MODEL_FORMAT_TEXT_OPTIONS;
    buf_append(out, MODEL_MAGIC, 8);
    buf_put_u32(out, version);
    buf_put_u64(out, 0); /* total length, patched below */
    buf_put_str(out, m->kind);
    buf_put_u32(out, (unsigned)m->type);
    buf_put_u32(out, (unsigned)m->n_labels);
    for (size_t i = 0; i < m->n_labels; i++)
        buf_put_str(out, m->labels[i]);
    if (version >= 2) clean_config_save(&m->prep, out);
    for (size_t i = 0; m->type == TASK_MULTILABEL && i < m->n_labels; i++)
        buf_put_f64(out, m->thresholds[i]); /* formats 4, 7, or 6 */
    if (m->ft) {
        fasttext_save(m->ft, text_options, out);
    } else {
        if (version >= MODEL_FORMAT_TABULAR) buf_put_u32(out, (unsigned)m->has_text);
        if (m->has_text) tfidf_save(&m->feat, text_options, out);
        if (version >= MODEL_FORMAT_TABULAR) tabular_save(&m->tab, out);
    }
    if (m->xgb || m->ovr.n) {
        if ((m->xgb ? xgb_save(m->xgb, out, e) : xgb_ovr_save(&m->ovr, out, e)) != 0) {
            out->len = start; /* nothing half-written is left behind */
            return err_prefix(e, "saving the model");
        }
    } else if (!m->ft) {
        buf_put_u32(out, (unsigned)m->lin.n_cols);
        buf_put_u64(out, m->lin.n_rows);
        buf_reserve(out, m->lin.n_rows * m->lin.n_cols * 8 + MODEL_SUM_LEN);
        for (size_t i = 0; i < m->lin.n_rows * m->lin.n_cols; i++)
            buf_put_f64(out, m->lin.w[i]);
    }
    put_u64_at(out, start + 12, (unsigned long long)(out->len - start + MODEL_SUM_LEN));
    char sum[SHA256_HEX_LEN];
    sha256_hex(out->data + start, out->len - start, sum);
    buf_append(out, sum, MODEL_SUM_LEN);
    return 0;
}

static int truncated(struct err *e, const struct reader *r, size_t body_start, size_t body_len)
{
    return err_set(e, ERR_CORRUPT, "artifact truncated at byte %zu",
                   body_start + body_len - r->left);
}

static int load_thresholds(struct trained_model *m, struct reader *r, struct err *e)
{
    m->thresholds = xcalloc(m->n_labels, sizeof *m->thresholds);
    for (size_t i = 0; i < m->n_labels; i++) {
        m->thresholds[i] = reader_f64(r);
        if (r->failed) return err_set(e, ERR_CORRUPT, "artifact truncated in its thresholds");
        if (!(m->thresholds[i] > 0 && m->thresholds[i] < 1))
            return err_set(e, ERR_CORRUPT, "artifact threshold %zu is not a probability in (0, 1)",
                           i);
    }
    return 0;
}

/* Parses the checksummed body; the checksum already matched, so failures
 * here mean a writer bug or a deliberately forged file. */
static struct trained_model *parse_body(const unsigned char *d, size_t total, unsigned version,
                                        struct err *e)
{
    struct reader r;
    size_t body_len = total - MODEL_HEADER_LEN - MODEL_SUM_LEN;
    reader_init(&r, d + MODEL_HEADER_LEN, body_len);
    char *kind = reader_str(&r, 15);
    unsigned type = reader_u32(&r);
    unsigned n_labels = reader_u32(&r);
    if (r.failed) {
        free(kind);
        truncated(e, &r, MODEL_HEADER_LEN, body_len);
        return NULL;
    }
    if (strcmp(kind, "linear") != 0 && strcmp(kind, "fasttext") != 0 &&
        strcmp(kind, "xgboost") != 0) {
        err_set(e, ERR_CORRUPT, "artifact holds an unknown model kind '%s'", kind);
        free(kind);
        return NULL;
    }
    int options = version == MODEL_FORMAT_TEXT_OPTIONS; /* any kind, any task type */
    int xgb_format = version == MODEL_FORMAT_XGBOOST ||
                     version == MODEL_FORMAT_XGBOOST_MULTILABEL ||
                     (options && !strcmp(kind, "xgboost"));
    if ((strcmp(kind, "xgboost") == 0) != xgb_format) {
        err_set(e, ERR_CORRUPT, "artifact format %u cannot hold a model of kind '%s'", version,
                kind);
        free(kind);
        return NULL;
    }
    /* a multilabel model has a format of its own, and may have one label */
    int multilabel = type == TASK_MULTILABEL;
    int multilabel_format = version == MODEL_FORMAT_MULTILABEL ||
                            version == MODEL_FORMAT_XGBOOST_MULTILABEL || (options && multilabel);
    if (type > TASK_MULTILABEL || multilabel != multilabel_format ||
        n_labels < (multilabel ? 1u : 2u) || n_labels > MODEL_MAX_LABELS || n_labels > r.left / 4 ||
        (type == TASK_BINARY && n_labels != 2)) {
        err_set(e, ERR_CORRUPT, "artifact header invalid (task type %u, %u labels)", type,
                n_labels);
        free(kind);
        return NULL;
    }
    struct trained_model *m = model_new(kind, (enum task_type)type, NULL, n_labels);
    free(kind);
    for (size_t i = 0; i < n_labels; i++) {
        m->labels[i] = reader_str(&r, MODEL_MAX_LABEL_LEN);
        if (!m->labels[i]) {
            truncated(e, &r, MODEL_HEADER_LEN, body_len);
            goto fail;
        }
    }
    if (version >= 2 && clean_config_load(&m->prep, &r, e)) {
        err_prefix(e, "artifact");
        goto fail;
    }
    if (multilabel && load_thresholds(m, &r, e)) goto fail;
    if (!strcmp(m->kind, "fasttext") && multilabel) {
        err_set(e, ERR_CORRUPT,
                "artifact holds a multilabel fasttext model, which no build writes");
        goto fail;
    }
    if (!strcmp(m->kind, "fasttext")) { /* its section ends the body */
        m->ft = fasttext_load(&r, n_labels, version == MODEL_FORMAT_TEXT_OPTIONS, e);
        if (!m->ft) {
            err_prefix(e, "artifact");
            goto fail;
        }
        return m;
    }
    if (version >= MODEL_FORMAT_TABULAR) {
        unsigned has_text = reader_u32(&r);
        if (r.failed || has_text > 1) {
            err_set(e, ERR_CORRUPT, "artifact text flag invalid");
            goto fail;
        }
        m->has_text = (int)has_text;
    }
    if (m->has_text && tfidf_load(&m->feat, version == MODEL_FORMAT_TEXT_OPTIONS, &r, e)) {
        err_prefix(e, "artifact featuriser");
        goto fail;
    }
    if (version >= MODEL_FORMAT_TABULAR && tabular_load(&m->tab, &r, e)) {
        err_prefix(e, "artifact tabular features");
        goto fail;
    }
    size_t n_features = m->feat.n_features + m->tab.n_features;
    if (!n_features) {
        err_set(e, ERR_CORRUPT, "artifact has no features");
        goto fail;
    }
    if (xgb_format) { /* its section ends the body */
        int rc = !multilabel ? ((m->xgb = xgb_load(&r, n_labels, n_features, e)) ? 0 : -1)
                             : xgb_ovr_load(&m->ovr, &r, n_labels, n_features, e);
        if (rc) {
            err_prefix(e, "artifact");
            goto fail;
        }
        if (r.left) {
            err_set(e, ERR_CORRUPT, "artifact has %zu unexpected bytes after the xgboost section",
                    r.left);
            goto fail;
        }
        return m;
    }
    size_t cols = reader_u32(&r);
    unsigned long long rows = reader_u64(&r);
    if (r.failed) {
        truncated(e, &r, MODEL_HEADER_LEN, body_len);
        goto fail;
    }
    size_t want_cols = type == TASK_BINARY ? 1 : n_labels;
    if (cols != want_cols || rows != n_features + 1) {
        err_set(e, ERR_CORRUPT, "artifact weights are %llu x %zu, expected %zu x %zu", rows, cols,
                n_features + 1, want_cols);
        goto fail;
    }
    if (r.left != rows * cols * 8) {
        if (r.left < rows * cols * 8) {
            r.left = 0; /* the read would run past the body's end */
            truncated(e, &r, MODEL_HEADER_LEN, body_len);
        } else {
            err_set(e, ERR_CORRUPT, "artifact has %zu unexpected bytes after the weights",
                    r.left - (size_t)(rows * cols * 8));
        }
        goto fail;
    }
    m->lin.n_rows = (size_t)rows;
    m->lin.n_cols = cols;
    m->lin.w = xmalloc(rows * cols * sizeof *m->lin.w);
    for (size_t i = 0; i < rows * cols; i++) {
        m->lin.w[i] = reader_f64(&r);
        if (!isfinite(m->lin.w[i])) {
            err_set(e, ERR_CORRUPT, "artifact weight %zu is not a finite number", i);
            goto fail;
        }
    }
    return m;
fail:
    model_destroy(m);
    return NULL;
}

struct trained_model *model_load(const void *data, size_t len, struct err *e)
{
    const unsigned char *d = data;
    size_t k = len < 8 ? len : 8;
    if (!d || memcmp(d, MODEL_MAGIC, k) != 0 || len == 0) {
        err_set(e, ERR_CORRUPT, "not a boucle model (bad magic)");
        return NULL;
    }
    if (len < MODEL_HEADER_LEN) {
        err_set(e, ERR_CORRUPT, "artifact truncated at byte %zu", len);
        return NULL;
    }
    struct reader r;
    reader_init(&r, d + 8, MODEL_HEADER_LEN - 8);
    unsigned version = reader_u32(&r);
    unsigned long long total = reader_u64(&r);
    if (version < 1 || version > MODEL_FORMAT_VERSION) {
        err_set(e, ERR_CORRUPT, "unsupported artifact format version %u (this build reads 1 to %u)",
                version, MODEL_FORMAT_VERSION);
        return NULL;
    }
    if (total < MODEL_HEADER_LEN + MODEL_SUM_LEN) {
        err_set(e, ERR_CORRUPT, "artifact length field is invalid (%llu)", total);
        return NULL;
    }
    if (len < total) {
        err_set(e, ERR_CORRUPT, "artifact truncated at byte %zu (expected %llu bytes)", len, total);
        return NULL;
    }
    if (len > total) {
        err_set(e, ERR_CORRUPT, "artifact has %llu unexpected trailing bytes",
                (unsigned long long)len - total);
        return NULL;
    }
    char sum[SHA256_HEX_LEN];
    sha256_hex(d, (size_t)total - MODEL_SUM_LEN, sum);
    if (memcmp(sum, d + total - MODEL_SUM_LEN, MODEL_SUM_LEN) != 0) {
        err_set(e, ERR_CORRUPT, "artifact checksum mismatch");
        return NULL;
    }
    return parse_body(d, (size_t)total, version, e);
}

/* ---- explanations ----------------------------------------------------- */

/* Keeps the top_k largest magnitudes seen so far in out[0..*k). */
static void keep_top(struct model_contribution *out, size_t top_k, size_t *k, const char *feature,
                     size_t len, double weight)
{
    size_t at = *k;
    if (*k == top_k) {
        at = 0;
        for (size_t i = 1; i < *k; i++)
            if (fabs(out[i].weight) < fabs(out[at].weight)) at = i;
        if (fabs(weight) <= fabs(out[at].weight)) return;
    } else {
        (*k)++;
    }
    if (len > MODEL_EXPLAIN_FEATURE_MAX) len = MODEL_EXPLAIN_FEATURE_MAX;
    memcpy(out[at].feature, feature, len);
    out[at].feature[len] = '\0';
    out[at].weight = weight;
}

static int by_magnitude(const void *a, const void *b)
{
    double x = fabs(((const struct model_contribution *)a)->weight);
    double y = fabs(((const struct model_contribution *)b)->weight);
    return (x < y) - (x > y);
}

/* The weight feature f has for `label` (a binary model's one column is
 * label 1's score: label 0 gets its opposite; a one-label multilabel
 * model's one column is label 0's). */
static double label_weight(const struct trained_model *m, size_t f, size_t label)
{
    if (m->type == TASK_BINARY) return (label == 1 ? 1 : -1) * m->lin.w[f];
    return m->lin.w[f * m->lin.n_cols + label];
}

/* xgboost's TreeSHAP contributions to label's margin, by the names the
 * linear model uses: a term (or "term (absent)": trees also learn from
 * what a text lacks), a numeric field, a categorical field's value (its
 * one-hot columns summed: SHAP values add up, so the sum is the field's
 * share). */
static size_t explain_xgboost(const struct trained_model *m, struct predict_scratch *s,
                              const char *text, size_t len, const struct tabular_values *tab,
                              size_t label, size_t top_k, struct model_contribution *out)
{
    size_t n_tab = row_features(m, s, text, len, tab), k = 0;
    struct xgb_row row = xgb_row_of(s, n_tab);
    /* a multilabel model: the label's own booster, whose one output is its */
    const struct xgb_model *booster = m->xgb ? m->xgb : m->ovr.label[label];
    size_t n_text = m->feat.n_features, binary = xgb_n_groups(booster) == 1;
    double *c = xmalloc((n_text + m->tab.n_features + 1) * sizeof *c);
    double sign = m->xgb && binary && label == 0 ? -1 : 1; /* the one output is label 1's */
    struct err e;
    if (xgb_contributions(booster, &row, binary ? 0 : label, c, &e) != 0) {
        log_warn("explanation left empty: %s", e.msg);
        free(c);
        return 0;
    }
    char name[MODEL_EXPLAIN_FEATURE_MAX + 1];
    for (size_t f = 0, at = 0; f < n_text; f++) {
        while (at < s->vec.n && s->vec.idx[at] < f)
            at++;
        if (c[f] == 0) continue;
        const char *term = tfidf_term(&m->feat, f);
        if (at < s->vec.n && s->vec.idx[at] == f)
            snprintf(name, sizeof name, "%s", term);
        else
            snprintf(name, sizeof name, "%.*s (absent)", MODEL_EXPLAIN_FEATURE_MAX - 9, term);
        keep_top(out, top_k, &k, name, strlen(name), sign * c[f]);
    }
    for (size_t j = 0; j < n_tab; j++) {
        const double *block = c + n_text;
        double sum = 0;
        if (j < m->tab.n_num) {
            sum = block[j];
        } else {
            const struct tabular_cat *f = &m->tab.cat[j - m->tab.n_num];
            for (size_t b = 0; b < f->width; b++)
                sum += block[f->first + b];
        }
        tabular_feature_name(&m->tab, tab, j, name, sizeof name);
        keep_top(out, top_k, &k, name, strlen(name), sign * sum);
    }
    free(c);
    return k;
}

size_t model_explain_input(const struct trained_model *m, const struct model_input *in,
                           size_t label, size_t top_k, struct model_contribution *out)
{
    if (!top_k || label >= m->n_labels) return 0;
    struct predict_scratch *s = scratch_get(m->lin.n_cols);
    clean_input(&m->prep, in->text, in->text_lens, in->n_text, &s->clean, &s->text, NULL);
    const char *text = s->text.data ? s->text.data : "";
    size_t k = 0;
    if (m->ft) {
        size_t n_tokens = fasttext_explain(m->ft, text, s->text.len, &s->ft, NULL);
        double *contrib = xmalloc((n_tokens + 1) * m->n_labels * sizeof *contrib);
        fasttext_explain(m->ft, text, s->text.len, &s->ft, contrib);
        const struct tokens *t = &s->ft.toks;
        for (size_t i = 0; i < n_tokens; i++)
            keep_top(out, top_k, &k, t->text.data + t->off[i], t->len[i],
                     contrib[i * m->n_labels + label]);
        free(contrib);
    } else if (m->xgb || m->ovr.n) {
        k = explain_xgboost(m, s, text, s->text.len, &in->tab, label, top_k, out);
    } else {
        size_t n_tab = linear_score(m, s, text, s->text.len, &in->tab);
        struct tfidf_terms names; /* hashing: the input's terms name a bucket */
        tfidf_terms_init(&names);
        for (size_t i = 0; i < s->vec.n; i++) {
            char term[MODEL_EXPLAIN_FEATURE_MAX + 1];
            tfidf_name(&m->feat, text, s->text.len, s->vec.idx[i], &names, term, sizeof term);
            keep_top(out, top_k, &k, term, strlen(term),
                     s->vec.val[i] * label_weight(m, s->vec.idx[i], label));
        }
        tfidf_terms_free(&names);
        for (size_t i = 0; i < n_tab; i++) {
            char name[MODEL_EXPLAIN_FEATURE_MAX + 1];
            tabular_feature_name(&m->tab, &in->tab, i, name, sizeof name);
            keep_top(out, top_k, &k, name, strlen(name),
                     s->tab_val[i] * label_weight(m, s->tab_idx[i], label));
        }
    }
    qsort(out, k, sizeof *out, by_magnitude);
    return k;
}

size_t model_explain(const struct trained_model *m, const char *const *values, const size_t *lens,
                     size_t n, size_t label, size_t top_k, struct model_contribution *out)
{
    struct model_input in = {.text = values, .text_lens = lens, .n_text = n};
    return model_explain_input(m, &in, label, top_k, out);
}
