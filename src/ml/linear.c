/* Training through liblinear, prediction without it. */
#include "ml/linear.h"

#include "base/mem.h"

#include <linear.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void quiet(const char *s)
{
    (void)s; /* liblinear prints its iterations to stdout otherwise */
}

/* Copies liblinear's weights into lw, mapping its class order (order of
 * first appearance in the data) to our label indices. */
static void copy_weights(const struct model *lm, size_t n_features, size_t n_labels, int binary,
                         struct linear_weights *lw)
{
    size_t rows = n_features + 1;
    lw->n_rows = rows;
    lw->n_cols = binary ? 1 : n_labels;
    lw->w = xcalloc_dense(rows * lw->n_cols, sizeof *lw->w);
    if (lm->nr_class == 2) {
        /* One vector: a positive decision value means lm->label[0]. */
        int a = lm->label[0], b = lm->label[1];
        if (binary) {
            double sign = a == 1 ? 1.0 : -1.0;
            for (size_t j = 0; j < rows; j++)
                lw->w[j] = sign * lm->w[j];
            return;
        }
        for (size_t j = 0; j < rows; j++) {
            lw->w[j * n_labels + (size_t)a] = lm->w[j];
            lw->w[j * n_labels + (size_t)b] = -lm->w[j];
        }
    } else {
        size_t k = (size_t)lm->nr_class;
        for (size_t i = 0; i < k; i++) {
            size_t c = (size_t)lm->label[i];
            for (size_t j = 0; j < rows; j++)
                lw->w[j * n_labels + c] = lm->w[j * k + i];
        }
    }
    int *present = xcalloc(n_labels, sizeof *present);
    for (int i = 0; i < lm->nr_class; i++)
        present[lm->label[i]] = 1;
    for (size_t c = 0; c < n_labels; c++)
        if (!present[c]) lw->w[n_features * n_labels + c] = LINEAR_ABSENT_BIAS;
    free(present);
}

struct linear_problem {
    struct problem prob;
    struct feature_node *nodes;
    struct feature_node **rows;
    double *y;
    size_t n_features;
};

struct linear_problem *linear_problem_new(const struct tfidf_matrix *x, size_t n_features,
                                          const size_t *rows, size_t n_rows, struct err *e)
{
    if (n_features + 1 >= (size_t)INT32_MAX || n_rows >= (size_t)INT32_MAX) {
        err_set(e, ERR_LIMIT, "training problem too large for liblinear");
        return NULL;
    }
    size_t nnz = 0;
    for (size_t r = 0; r < n_rows; r++) {
        size_t i = rows ? rows[r] : r;
        nnz += x->row_ptr[i + 1] - x->row_ptr[i];
    }
    struct linear_problem *pb = xcalloc(1, sizeof *pb);
    pb->n_features = n_features;
    /* liblinear rows: our features as 1-based indices, then the bias
     * feature (index n_features + 1, value 1), then the -1 terminator. */
    pb->nodes = xmalloc((nnz + 2 * n_rows + 1) * sizeof *pb->nodes);
    mem_hint_big(pb->nodes, (nnz + 2 * n_rows + 1) * sizeof *pb->nodes);
    pb->rows = xmalloc((n_rows ? n_rows : 1) * sizeof *pb->rows);
    pb->y = xcalloc(n_rows ? n_rows : 1, sizeof *pb->y);
    struct feature_node *q = pb->nodes;
    for (size_t r = 0; r < n_rows; r++) {
        size_t i = rows ? rows[r] : r;
        pb->rows[r] = q;
        for (size_t k = x->row_ptr[i]; k < x->row_ptr[i + 1]; k++) {
            q->index = (int)x->idx[k] + 1;
            q->value = x->val[k];
            q++;
        }
        q->index = (int)n_features + 1;
        q->value = 1.0;
        q++;
        q->index = -1;
        q->value = 0;
        q++;
    }
    pb->prob = (struct problem){
        .l = (int)n_rows, .n = (int)n_features + 1, .y = pb->y, .x = pb->rows, .bias = 1.0};
    return pb;
}

void linear_problem_free(struct linear_problem *pb)
{
    if (!pb) return;
    free(pb->nodes);
    free(pb->rows);
    free(pb->y);
    free(pb);
}

/* One-vs-rest on several cores. liblinear trains a multiclass problem's
 * classes one after the other; each is an independent binary problem over
 * the same rows, so threads can each take some classes. The binary problem
 * of class c is the one liblinear would solve for it: labels +1/-1, cost
 * C x weight(c) for +1 and C for -1. Only for solver L2R_LR (the default):
 * it uses no random numbers, so the result does not depend on the threads
 * (the dual solvers draw from rand(), which threads would interleave). */
#define OVR_MAX_THREADS 4

struct ovr_job {
    const struct problem *prob;
    const struct parameter *param;
    const int *y;
    const double *class_weight; /* NULL: none */
    const size_t *count;
    size_t n_labels, n_features;
    atomic_size_t *next; /* the next class to train */
    struct linear_weights *out;
    int failed;
    void *guard; /* from warm_heap */
};

/* A thread's first liblinear fit allocates its solver's arrays (about
 * eight of n_features doubles and four of n_rows) from a fresh malloc
 * arena, and each page faults on first touch (~12 us here; ~200 of them on
 * support tickets). This takes that much from the thread's arena, faults
 * it in with one call and frees it, for liblinear to reuse; the small
 * block allocated after it (returned, freed when the thread is done) keeps
 * the freed block from merging into the arena's top, which free() would
 * hand back to the kernel. Small problems only: malloc may serve a
 * larger block by mmap and unmap it on free (the warming lost), and a
 * larger fit's faults are a small part of its time. */
#define WARM_HEAP_MAX (512u << 10)

static void *warm_heap(size_t bytes)
{
    if (bytes > WARM_HEAP_MAX) return NULL;
    void *warm = xmalloc(bytes), *guard = xmalloc(64);
    mem_hint_big(warm, bytes);
    free(warm);
    return guard;
}

static void *ovr_run(void *arg)
{
    struct ovr_job *j = arg;
    size_t n = (size_t)j->prob->l, rows = j->n_features + 1;
    double *yc = xmalloc(n * sizeof *yc);
    j->guard = warm_heap((8 * rows + 4 * n) * sizeof(double));
    for (;;) {
        size_t c = atomic_fetch_add(j->next, 1);
        if (c >= j->n_labels) break;
        if (!j->count[c]) continue; /* absent: copy_weights' bias, set by the caller */
        for (size_t i = 0; i < n; i++)
            yc[i] = j->y[i] == (int)c ? 1.0 : -1.0;
        struct problem prob = *j->prob;
        prob.y = yc;
        struct parameter param = *j->param;
        int wl[2] = {1, -1};
        double wv[2] = {j->class_weight ? j->class_weight[c] : 1.0, 1.0};
        param.nr_weight = 2;
        param.weight_label = wl;
        param.weight = wv;
        struct model *lm = train(&prob, &param);
        if (!lm || lm->nr_class != 2) {
            j->failed = 1;
        } else {
            double sign = lm->label[0] == 1 ? 1.0 : -1.0;
            for (size_t r = 0; r < rows; r++)
                j->out->w[r * j->n_labels + c] = sign * lm->w[r];
        }
        if (lm) free_and_destroy_model(&lm);
    }
    free(yc);
    free(j->guard);
    return NULL;
}

static int ovr_threads(size_t present)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > OVR_MAX_THREADS) cores = OVR_MAX_THREADS;
    if ((size_t)cores > present) cores = (long)present;
    return cores < 2 ? 1 : (int)cores;
}

/* Trains every present class of a multiclass problem into out; -1 if
 * liblinear failed. */
static int ovr_parallel(const struct problem *prob, const struct parameter *param, const int *y,
                        const double *class_weight, const size_t *count, size_t n_labels,
                        size_t n_features, int threads, struct linear_weights *out)
{
    out->n_rows = n_features + 1;
    out->n_cols = n_labels;
    out->w = xcalloc_dense(out->n_rows * n_labels, sizeof *out->w);
    for (size_t c = 0; c < n_labels; c++)
        if (!count[c]) out->w[n_features * n_labels + c] = LINEAR_ABSENT_BIAS;
    atomic_size_t next;
    atomic_init(&next, 0);
    struct ovr_job job[OVR_MAX_THREADS];
    pthread_t tid[OVR_MAX_THREADS];
    int started[OVR_MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        job[t] = (struct ovr_job){prob,  param, y, class_weight, count, n_labels, n_features,
                                  &next, out,   0, NULL};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, ovr_run, &job[t]) == 0;
    ovr_run(&job[0]);
    int failed = job[0].failed;
    for (int t = 1; t < threads; t++) {
        if (started[t]) pthread_join(tid[t], NULL);
        failed |= job[t].failed;
    }
    if (failed) linear_free(out);
    return failed ? -1 : 0;
}

static int solver_of(const struct linear_params *p)
{
    return p->loss == LINEAR_SVM ? (p->penalty == LINEAR_L1 ? L1R_L2LOSS_SVC : L2R_L2LOSS_SVC_DUAL)
                                 : (p->penalty == LINEAR_L1 ? L1R_LR : L2R_LR);
}

int linear_fit_column(struct linear_problem *pb, const unsigned char *y,
                      const struct linear_params *p, struct linear_weights *out, size_t col,
                      struct err *e)
{
    size_t n = (size_t)pb->prob.l, pos = 0, rows = pb->n_features + 1;
    for (size_t i = 0; i < n; i++) {
        pb->y[i] = y[i] ? 1 : 0;
        pos += y[i] != 0;
    }
    for (size_t j = 0; j < rows; j++)
        out->w[j * out->n_cols + col] = 0;
    if (pos == 0 || pos == n) { /* nothing to tell apart: the intercept says it all */
        out->w[pb->n_features * out->n_cols + col] = pos ? -LINEAR_ABSENT_BIAS : LINEAR_ABSENT_BIAS;
        return 0;
    }
    int wl[2] = {0, 1};
    double wv[2] = {(double)n / (2.0 * (double)(n - pos)), (double)n / (2.0 * (double)pos)};
    struct parameter param = {.solver_type = solver_of(p),
                              .eps = p->eps,
                              .C = p->C,
                              .nr_weight = p->class_weight_balanced ? 2 : 0,
                              .weight_label = p->class_weight_balanced ? wl : NULL,
                              .weight = p->class_weight_balanced ? wv : NULL,
                              .p = 0.1,
                              .init_sol = NULL};
    const char *bad = check_parameter(&pb->prob, &param);
    if (bad) return err_set(e, ERR_INVALID, "liblinear refused the parameters: %s", bad);
    set_print_string_function(quiet);
    struct model *lm = train(&pb->prob, &param);
    if (!lm || lm->nr_feature != (int)pb->n_features || lm->nr_class != 2) {
        if (lm) free_and_destroy_model(&lm);
        return err_set(e, ERR_INTERNAL, "liblinear training failed");
    }
    /* one vector: a positive decision value means lm->label[0] */
    double sign = lm->label[0] == 1 ? 1.0 : -1.0;
    for (size_t j = 0; j < rows; j++)
        out->w[j * out->n_cols + col] = sign * lm->w[j];
    free_and_destroy_model(&lm);
    return 0;
}

int linear_fit(const struct tfidf_matrix *x, size_t n_features, const int *y, size_t n_labels,
               int binary, const struct linear_params *p, struct linear_weights *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    size_t n = x->n_rows;
    if (binary && n_labels != 2)
        return err_set(e, ERR_INVALID, "a binary model needs exactly 2 labels, not %zu", n_labels);
    size_t *count = xcalloc(n_labels, sizeof *count);
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= n_labels) {
            free(count);
            return err_set(e, ERR_INVALID, "example %zu: label index %d out of range", i, y[i]);
        }
        if (!count[y[i]]++) present++;
    }
    if (present < 2) {
        free(count);
        return err_set(e, ERR_INVALID,
                       "training data has %zu distinct label(s); at least 2 are needed", present);
    }

    struct linear_problem *pb = linear_problem_new(x, n_features, NULL, n, e);
    if (!pb) {
        free(count);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        pb->y[i] = y[i];

    int *wl = NULL;
    double *wv = NULL, *by_class = NULL;
    int nw = 0;
    if (p->class_weight_balanced) { /* sklearn: n / (classes * count) */
        wl = xmalloc(n_labels * sizeof *wl);
        wv = xmalloc(n_labels * sizeof *wv);
        by_class = xcalloc(n_labels, sizeof *by_class);
        for (size_t c = 0; c < n_labels; c++) {
            if (!count[c]) continue;
            wl[nw] = (int)c;
            wv[nw] = by_class[c] = (double)n / ((double)present * (double)count[c]);
            nw++;
        }
    }
    struct parameter param = {.solver_type = solver_of(p),
                              .eps = p->eps,
                              .C = p->C,
                              .nr_weight = nw,
                              .weight_label = wl,
                              .weight = wv,
                              .p = 0.1,
                              .init_sol = NULL};
    int rc = 0;
    const char *bad = check_parameter(&pb->prob, &param);
    if (bad) {
        rc = err_set(e, ERR_INVALID, "liblinear refused the parameters: %s", bad);
    } else if (param.solver_type == L2R_LR && !binary && present >= 3 && ovr_threads(present) > 1) {
        set_print_string_function(quiet);
        if (ovr_parallel(&pb->prob, &param, y, by_class, count, n_labels, n_features,
                         ovr_threads(present), out))
            rc = err_set(e, ERR_INTERNAL, "liblinear training failed");
    } else {
        set_print_string_function(quiet);
        struct model *lm = train(&pb->prob, &param);
        if (!lm || lm->nr_feature != (int)n_features) {
            rc = err_set(e, ERR_INTERNAL, "liblinear training failed");
        } else {
            copy_weights(lm, n_features, n_labels, binary, out);
        }
        if (lm) free_and_destroy_model(&lm);
    }
    free(wl);
    free(wv);
    free(by_class);
    free(count);
    linear_problem_free(pb);
    return rc;
}

void linear_scores(const struct linear_weights *lw, const uint32_t *idx, const double *val,
                   size_t nnz, double *scores)
{
    size_t nc = lw->n_cols;
    const double *bias = lw->w + (lw->n_rows - 1) * nc;
    for (size_t c = 0; c < nc; c++)
        scores[c] = bias[c];
    linear_scores_add(lw, idx, val, nnz, scores);
}

void linear_scores_add(const struct linear_weights *lw, const uint32_t *idx, const double *val,
                       size_t nnz, double *scores)
{
    size_t nc = lw->n_cols;
    if (nc == 1) {
        double s = 0;
        for (size_t k = 0; k < nnz; k++)
            s += val[k] * lw->w[idx[k]];
        scores[0] += s;
        return;
    }
    for (size_t k = 0; k < nnz; k++) {
        const double *row = lw->w + (size_t)idx[k] * nc;
        for (size_t c = 0; c < nc; c++)
            scores[c] += val[k] * row[c];
    }
}

static double sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double t = exp(z);
    return t / (1.0 + t);
}

void linear_probabilities(const struct linear_weights *lw, size_t n_labels, const double *scores,
                          double *probs)
{
    if (lw->n_cols == 1) {
        double p = sigmoid(scores[0]);
        probs[0] = 1.0 - p;
        probs[1] = p;
        return;
    }
    double sum = 0;
    for (size_t c = 0; c < n_labels; c++) {
        probs[c] = sigmoid(scores[c]);
        sum += probs[c];
    }
    if (!(sum > 0)) { /* every sigmoid underflowed: all mass on the best score */
        size_t best = 0;
        for (size_t c = 1; c < n_labels; c++)
            if (scores[c] > scores[best]) best = c;
        for (size_t c = 0; c < n_labels; c++)
            probs[c] = c == best;
        return;
    }
    for (size_t c = 0; c < n_labels; c++)
        probs[c] /= sum;
}

void linear_sigmoids(size_t n, const double *scores, double *probs)
{
    for (size_t c = 0; c < n; c++)
        probs[c] = sigmoid(scores[c]);
}

void linear_free(struct linear_weights *lw)
{
    free(lw->w);
    memset(lw, 0, sizeof *lw);
}
