/* Training, prediction, explanations and the artifact section of the
 * `xgboost` kind, through libxgboost's C API. Data reaches XGBoost as
 * __array_interface__ JSON descriptions of our own buffers (its preferred
 * entry points since 1.4): no copy on its side for in-place prediction. */
#include "ml/xgboost_model.h"

#include "base/log.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

struct xgb_model {
    BoosterHandle booster;
    size_t n_labels, n_groups, n_features;
    int rounds_kept, rounds_trained;
};

/* Normal prediction with a fixed shape (rows x groups) whatever the
 * objective; NaN is XGBoost's missing value, so every stored entry counts
 * (a standardised number may be exactly 0). */
static const char predict_config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                     "\"iteration_end\": 0, \"strict_shape\": true, "
                                     "\"missing\": NaN, \"cache_id\": 0}";
static const char contrib_config[] = "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, "
                                     "\"iteration_end\": 0, \"strict_shape\": true}";

/* ---- XGBoost's log and errors ----------------------------------------- */

static void xgb_log(const char *msg)
{
    log_warn("xgboost: %s", msg); /* verbosity 1: only its warnings reach here */
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_setup(void)
{
    XGBRegisterLogCallback(xgb_log);
}

/* XGBoost's last error on this thread, its first line only (a stack
 * trace follows it). */
static int last_error_len(void)
{
    const char *msg = XGBGetLastError();
    size_t n = strcspn(msg, "\n");
    return n > 400 ? 400 : (int)n;
}

static int xgb_fail(struct err *e, enum err_code code, const char *what)
{
    return err_set(e, code, "xgboost: %s: %.*s", what, last_error_len(), XGBGetLastError());
}

/* ---- data as XGBoost reads it ----------------------------------------- */

/* A __array_interface__ description of n values of typestr at p. An empty
 * array still gets a valid address: XGBoost checks it whatever the length. */
static void array_json(char *out, size_t cap, const void *p, size_t n, const char *typestr)
{
    static const float empty;
    snprintf(out, cap,
             "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu], \"typestr\": \"%s\", "
             "\"version\": 3}",
             (uintptr_t)(p ? p : &empty), n, typestr);
}

#define ARRAY_JSON_MAX 128

/* A CSR matrix with float values, built from ours (XGBoost's data are
 * 32-bit floats: converting here is what its Python package does too). */
struct csr32 {
    size_t n_rows;
    size_t *indptr;
    uint32_t *idx;
    float *val;
};

static int dmatrix_from_csr(const struct csr32 *x, size_t n_features, int nthread,
                            DMatrixHandle *out, struct err *e)
{
    char ip[ARRAY_JSON_MAX], ix[ARRAY_JSON_MAX], vx[ARRAY_JSON_MAX], cfg[64];
    size_t nnz = x->indptr[x->n_rows];
    array_json(ip, sizeof ip, x->indptr, x->n_rows + 1, sizeof(size_t) == 8 ? "<u8" : "<u4");
    array_json(ix, sizeof ix, x->idx, nnz, "<u4");
    array_json(vx, sizeof vx, x->val, nnz, "<f4");
    snprintf(cfg, sizeof cfg, "{\"missing\": NaN, \"nthread\": %d}", nthread);
    if (XGDMatrixCreateFromCSR(ip, ix, vx, (bst_ulong)n_features, cfg, out) != 0)
        return xgb_fail(e, ERR_INTERNAL, "creating the training matrix");
    return 0;
}

/* Rows of x where keep[i] == want (keep NULL: all rows), as floats. */
static void csr32_select(const struct tfidf_matrix *x, const unsigned char *keep, int want,
                         struct csr32 *out)
{
    size_t n = 0, nnz = 0;
    for (size_t i = 0; i < x->n_rows; i++)
        if (!keep || keep[i] == want) n++, nnz += x->row_ptr[i + 1] - x->row_ptr[i];
    out->n_rows = n;
    out->indptr = xmalloc((n + 1) * sizeof *out->indptr);
    out->idx = xmalloc((nnz + 1) * sizeof *out->idx);
    out->val = xmalloc((nnz + 1) * sizeof *out->val);
    size_t r = 0, at = 0;
    out->indptr[0] = 0;
    for (size_t i = 0; i < x->n_rows; i++) {
        if (keep && keep[i] != want) continue;
        for (size_t k = x->row_ptr[i]; k < x->row_ptr[i + 1]; k++, at++) {
            out->idx[at] = x->idx[k];
            out->val[at] = (float)x->val[k];
        }
        out->indptr[++r] = at;
    }
}

static void csr32_free(struct csr32 *x)
{
    free(x->indptr);
    free(x->idx);
    free(x->val);
}

/* ---- the validation share --------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct keyed_row {
    int label;
    uint64_t key;
    size_t row;
};

static int by_label_then_key(const void *a, const void *b)
{
    const struct keyed_row *x = a, *y = b;
    if (x->label != y->label) return x->label < y->label ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

void xgb_validation_split(const int *labels, size_t n, size_t n_labels, double fraction,
                          uint64_t seed, unsigned char *is_valid)
{
    (void)n_labels;
    /* each row's place in its label's shuffled order: a hash of seed and row */
    struct keyed_row *rows = xmalloc((n ? n : 1) * sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[i] = (struct keyed_row){labels[i], mix(seed * 0x100000001b3ULL ^ mix(i)), i};
        is_valid[i] = 0;
    }
    qsort(rows, n, sizeof *rows, by_label_then_key);
    for (size_t start = 0; start < n;) {
        size_t end = start;
        while (end < n && rows[end].label == rows[start].label)
            end++;
        size_t count = end - start, take = 0;
        if (count >= 2) {
            take = (size_t)llround(fraction * (double)count);
            if (take < 1) take = 1;
            if (take > count - 1) take = count - 1; /* the label keeps a training row */
        }
        for (size_t k = 0; k < take; k++)
            is_valid[rows[start + k].row] = 1;
        start = end;
    }
    free(rows);
}

/* ---- training --------------------------------------------------------- */

static int set_param(BoosterHandle b, const char *name, const char *value, struct err *e)
{
    if (XGBoosterSetParam(b, name, value) == 0) return 0;
    return err_set_field(e, ERR_INVALID, "model", "xgboost refused %s=%s: %.*s", name, value,
                         last_error_len(), XGBGetLastError());
}

static int configure(BoosterHandle b, const struct xgb_params *p, size_t n_labels, struct err *e)
{
    char v[32];
    int rc = set_param(b, "verbosity", "1", e);
    if (!rc && n_labels == 2) {
        rc = set_param(b, "objective", "binary:logistic", e);
        if (!rc) rc = set_param(b, "eval_metric", "logloss", e);
        snprintf(v, sizeof v, "%.17g", p->scale_pos_weight);
        if (!rc) rc = set_param(b, "scale_pos_weight", v, e);
    } else if (!rc) {
        rc = set_param(b, "objective", "multi:softprob", e);
        snprintf(v, sizeof v, "%zu", n_labels);
        if (!rc) rc = set_param(b, "num_class", v, e);
        if (!rc) rc = set_param(b, "eval_metric", "mlogloss", e);
    }
    const struct {
        const char *name;
        double value;
        int integer;
    } num[] = {{"max_depth", p->max_depth, 1},
               {"eta", p->learning_rate, 0},
               {"subsample", p->subsample, 0},
               {"colsample_bytree", p->colsample_bytree, 0},
               {"min_child_weight", p->min_child_weight, 0},
               {"lambda", p->reg_lambda, 0},
               {"alpha", p->reg_alpha, 0},
               {"nthread", p->nthread, 1},
               {"seed", p->seed, 1}};
    for (size_t i = 0; !rc && i < sizeof num / sizeof *num; i++) {
        if (num[i].integer)
            snprintf(v, sizeof v, "%d", (int)num[i].value);
        else
            snprintf(v, sizeof v, "%.17g", num[i].value);
        rc = set_param(b, num[i].name, v, e);
    }
    if (!rc) rc = set_param(b, "tree_method", xgb_tree_method_name(p->tree), e);
    return rc;
}

/* The metric in XGBoost's evaluation line "[3]\tvalid-logloss:0.4321" (the
 * line Python's early stopping reads too, so both stop at the same round). */
static double eval_score(const char *line)
{
    const char *colon = line ? strrchr(line, ':') : NULL;
    return colon ? strtod(colon + 1, NULL) : NAN;
}

/* Predicts once with no features and checks the output has n_groups
 * values: this also configures the booster, so the serving threads never
 * take XGBoost's configuration lock. */
static int warm_up(struct xgb_model *m, struct err *e)
{
    if (XGBoosterSetParam(m->booster, "nthread", "1") != 0)
        return xgb_fail(e, ERR_CORRUPT, "setting nthread");
    size_t indptr[2] = {0, 0};
    char ip[ARRAY_JSON_MAX], ix[ARRAY_JSON_MAX], vx[ARRAY_JSON_MAX];
    array_json(ip, sizeof ip, indptr, 2, sizeof(size_t) == 8 ? "<u8" : "<u4");
    array_json(ix, sizeof ix, NULL, 0, "<u4");
    array_json(vx, sizeof vx, NULL, 0, "<f4");
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    if (XGBoosterPredictFromCSR(m->booster, ip, ix, vx, (bst_ulong)m->n_features, predict_config,
                                NULL, &shape, &dim, &out) != 0)
        return xgb_fail(e, ERR_CORRUPT, "predicting with the booster");
    if (dim != 2 || shape[0] != 1 || shape[1] != m->n_groups)
        return err_set(e, ERR_CORRUPT, "xgboost booster has %llu outputs, expected %zu",
                       dim == 2 ? (unsigned long long)shape[1] : 0ULL, m->n_groups);
    return 0;
}

static struct xgb_model *model_alloc(size_t n_labels, size_t n_features)
{
    pthread_once(&log_once, log_setup);
    struct xgb_model *m = xcalloc(1, sizeof *m);
    m->n_labels = n_labels;
    m->n_groups = n_labels == 2 ? 1 : n_labels;
    m->n_features = n_features;
    return m;
}

/* Boosts rounds on dtrain; with dvalid, stops after `patience` rounds
 * without a lower validation loss and keeps the best round's trees. */
static int boost(struct xgb_model *m, const struct xgb_params *p, DMatrixHandle dtrain,
                 DMatrixHandle dvalid, struct err *e)
{
    double best = INFINITY;
    int best_round = -1, stale = 0;
    for (int i = 0; i < p->n_estimators; i++) {
        if (XGBoosterUpdateOneIter(m->booster, i, dtrain) != 0)
            return xgb_fail(e, ERR_INTERNAL, "boosting");
        m->rounds_trained = i + 1;
        if (!dvalid) continue;
        const char *names[] = {"valid"}, *line = NULL;
        DMatrixHandle sets[] = {dvalid};
        if (XGBoosterEvalOneIter(m->booster, i, sets, names, 1, &line) != 0)
            return xgb_fail(e, ERR_INTERNAL, "evaluating the validation rows");
        double score = eval_score(line);
        if (score < best) {
            best = score;
            best_round = i;
            stale = 0;
        } else if (++stale >= p->early_stopping_rounds) {
            break;
        }
    }
    m->rounds_kept = m->rounds_trained;
    if (!dvalid || best_round < 0 || best_round + 1 == m->rounds_trained) return 0;
    BoosterHandle kept;
    if (XGBoosterSlice(m->booster, 0, best_round + 1, 1, &kept) != 0)
        return xgb_fail(e, ERR_INTERNAL, "keeping the best iteration");
    XGBoosterFree(m->booster);
    m->booster = kept;
    m->rounds_kept = best_round + 1;
    return 0;
}

static int set_labels(DMatrixHandle d, const int *labels, const unsigned char *keep, int want,
                      size_t n, struct err *e)
{
    float *y = xmalloc((n ? n : 1) * sizeof *y);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep[i] == want) y[k++] = (float)labels[i];
    int rc = XGDMatrixSetFloatInfo(d, "label", y, (bst_ulong)k);
    free(y);
    return rc ? xgb_fail(e, ERR_INTERNAL, "setting the labels") : 0;
}

struct xgb_model *xgb_train(const struct xgb_params *p, const struct tfidf_matrix *x,
                            size_t n_features, const int *labels, size_t n_labels, struct err *e)
{
    size_t n = x->n_rows;
    if (n_labels < 2) {
        err_set(e, ERR_INVALID, "xgboost needs at least 2 labels, not %zu", n_labels);
        return NULL;
    }
    if (n_labels > 2 && p->scale_pos_weight != 1) {
        err_set_field(e, ERR_INVALID, "model.scale_pos_weight",
                      "model.scale_pos_weight: applies to a binary task (label 1's weight); this "
                      "task has %zu labels",
                      n_labels);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= n_labels) {
            err_set(e, ERR_INVALID, "example %zu: label index %d out of range", i, labels[i]);
            return NULL;
        }
    }
    unsigned char *valid = NULL;
    size_t n_valid = 0;
    if (p->early_stopping_rounds > 0) {
        valid = xmalloc(n ? n : 1);
        xgb_validation_split(labels, n, n_labels, p->validation_fraction, (uint64_t)p->seed, valid);
        for (size_t i = 0; i < n; i++)
            n_valid += valid[i];
        if (!n_valid) {
            free(valid);
            err_set_field(e, ERR_INVALID, "model.early_stopping_rounds",
                          "model.early_stopping_rounds: no validation rows (%zu training rows, "
                          "validation_fraction %g): a label needs 2 rows to lend one",
                          n, p->validation_fraction);
            return NULL;
        }
    }
    struct xgb_model *m = model_alloc(n_labels, n_features);
    struct csr32 xt = {0}, xv = {0};
    DMatrixHandle dtrain = NULL, dvalid = NULL;
    csr32_select(x, valid, 0, &xt);
    int rc = dmatrix_from_csr(&xt, n_features, p->nthread, &dtrain, e);
    if (!rc) rc = set_labels(dtrain, labels, valid, 0, n, e);
    if (!rc && valid) {
        csr32_select(x, valid, 1, &xv);
        rc = dmatrix_from_csr(&xv, n_features, p->nthread, &dvalid, e);
        if (!rc) rc = set_labels(dvalid, labels, valid, 1, n, e);
    }
    DMatrixHandle cache[2] = {dtrain, dvalid};
    if (!rc && XGBoosterCreate(cache, dvalid ? 2 : 1, &m->booster) != 0)
        rc = xgb_fail(e, ERR_INTERNAL, "creating the booster");
    if (!rc) rc = configure(m->booster, p, n_labels, e);
    if (!rc) rc = boost(m, p, dtrain, dvalid, e);
    if (!rc) rc = warm_up(m, e);
    if (dtrain) XGDMatrixFree(dtrain);
    if (dvalid) XGDMatrixFree(dvalid);
    csr32_free(&xt);
    csr32_free(&xv);
    free(valid);
    if (rc) {
        xgb_free(m);
        return NULL;
    }
    return m;
}

/* ---- prediction ------------------------------------------------------- */

/* The row in s as XGBoost reads it; returns its entry count. */
static size_t row_to_scratch(const struct xgb_row *row, struct xgb_scratch *s)
{
    size_t nnz = row->nnz[0] + row->nnz[1];
    if (s->cap < nnz) {
        size_t cap = nnz < 64 ? 64 : nnz;
        s->idx = xrealloc(s->idx, cap * sizeof *s->idx);
        s->val = xrealloc(s->val, cap * sizeof *s->val);
        s->cap = cap;
    }
    size_t at = 0;
    for (int b = 0; b < 2; b++) {
        for (size_t k = 0; k < row->nnz[b]; k++, at++) {
            s->idx[at] = row->idx[b][k];
            s->val[at] = (float)row->val[b][k];
        }
    }
    return nnz;
}

void xgb_scratch_free(struct xgb_scratch *s)
{
    if (s->proxy) XGDMatrixFree(s->proxy);
    free(s->idx);
    free(s->val);
    memset(s, 0, sizeof *s);
}

size_t xgb_predict(const struct xgb_model *m, const struct xgb_row *row, struct xgb_scratch *s,
                   double *probs)
{
    size_t nnz = row_to_scratch(row, s), indptr[2] = {0, nnz};
    char ip[ARRAY_JSON_MAX], ix[ARRAY_JSON_MAX], vx[ARRAY_JSON_MAX];
    array_json(ip, sizeof ip, indptr, 2, sizeof(size_t) == 8 ? "<u8" : "<u4");
    array_json(ix, sizeof ix, s->idx, nnz, "<u4");
    array_json(vx, sizeof vx, s->val, nnz, "<f4");
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    if (!s->proxy && XGProxyDMatrixCreate(&s->proxy) != 0) s->proxy = NULL;
    if (XGBoosterPredictFromCSR(m->booster, ip, ix, vx, (bst_ulong)m->n_features, predict_config,
                                s->proxy, &shape, &dim, &out) != 0 ||
        dim != 2 || shape[1] != m->n_groups) {
        log_error("xgboost prediction failed: %.*s", last_error_len(), XGBGetLastError());
        for (size_t c = 0; c < m->n_labels; c++)
            probs[c] = 1.0 / (double)m->n_labels;
        return 0;
    }
    if (m->n_groups == 1) {
        probs[1] = out[0];
        probs[0] = 1.0 - probs[1];
        return probs[1] > probs[0];
    }
    /* softprob sums to 1 in floats; in doubles it is made to sum to 1 again */
    double sum = 0;
    size_t best = 0;
    for (size_t c = 0; c < m->n_labels; c++) {
        probs[c] = out[c];
        sum += probs[c];
        if (probs[c] > probs[best]) best = c;
    }
    for (size_t c = 0; sum > 0 && c < m->n_labels; c++)
        probs[c] /= sum;
    return best;
}

int xgb_contributions(const struct xgb_model *m, const struct xgb_row *row, size_t group,
                      double *contrib, struct err *e)
{
    struct xgb_scratch s = {0};
    size_t nnz = row_to_scratch(row, &s), indptr[2] = {0, nnz};
    struct csr32 x = {1, indptr, s.idx, s.val};
    DMatrixHandle d = NULL;
    int rc = dmatrix_from_csr(&x, m->n_features, 1, &d, e);
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    size_t width = m->n_features + 1;
    if (!rc && XGBoosterPredictFromDMatrix(m->booster, d, contrib_config, &shape, &dim, &out) != 0)
        rc = xgb_fail(e, ERR_INTERNAL, "computing contributions");
    /* strict shape: rows x groups x (features + bias) */
    if (!rc && (dim != 3 || shape[1] != m->n_groups || shape[2] != width || group >= shape[1]))
        rc = err_set(e, ERR_INTERNAL, "xgboost contributions have an unexpected shape");
    for (size_t f = 0; !rc && f < width; f++)
        contrib[f] = out[group * width + f];
    if (d) XGDMatrixFree(d);
    xgb_scratch_free(&s);
    return rc;
}

size_t xgb_n_groups(const struct xgb_model *m)
{
    return m->n_groups;
}

int xgb_rounds_kept(const struct xgb_model *m)
{
    return m->rounds_kept;
}

int xgb_rounds_trained(const struct xgb_model *m)
{
    return m->rounds_trained;
}

/* ---- artifact --------------------------------------------------------- */

int xgb_save(const struct xgb_model *m, struct buf *out, struct err *e)
{
    bst_ulong len;
    const char *bytes;
    if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"ubj\"}", &len, &bytes) != 0)
        return xgb_fail(e, ERR_INTERNAL, "saving the booster");
    buf_put_u32(out, (unsigned)m->rounds_kept);
    buf_put_u64(out, (unsigned long long)len);
    buf_append(out, bytes, (size_t)len);
    return 0;
}

struct xgb_model *xgb_load(struct reader *r, size_t n_labels, size_t n_features, struct err *e)
{
    unsigned rounds = reader_u32(r);
    unsigned long long len = reader_u64(r);
    if (r->failed || len > r->left) {
        err_set(e, ERR_CORRUPT, "xgboost section: booster length %llu, %zu bytes left", len,
                r->failed ? (size_t)0 : r->left);
        return NULL;
    }
    const void *bytes = reader_bytes(r, (size_t)len);
    struct xgb_model *m = model_alloc(n_labels, n_features);
    int rc = 0, boosted = 0;
    bst_ulong n_feat = 0;
    if (XGBoosterCreate(NULL, 0, &m->booster) != 0 ||
        XGBoosterLoadModelFromBuffer(m->booster, bytes, (bst_ulong)len) != 0)
        rc = xgb_fail(e, ERR_CORRUPT, "loading the booster");
    if (!rc && (XGBoosterBoostedRounds(m->booster, &boosted) != 0 ||
                XGBoosterGetNumFeature(m->booster, &n_feat) != 0))
        rc = xgb_fail(e, ERR_CORRUPT, "reading the booster");
    if (!rc && ((unsigned)boosted != rounds || n_feat != n_features))
        rc = err_set(e, ERR_CORRUPT,
                     "xgboost booster has %d rounds and %llu features, the artifact says %u and "
                     "%zu",
                     boosted, (unsigned long long)n_feat, rounds, n_features);
    m->rounds_kept = m->rounds_trained = boosted;
    if (!rc) rc = warm_up(m, e);
    if (rc) {
        xgb_free(m);
        return NULL;
    }
    return m;
}

void xgb_free(struct xgb_model *m)
{
    if (!m) return;
    if (m->booster) XGBoosterFree(m->booster);
    free(m);
}
