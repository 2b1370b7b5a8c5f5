/* bench helper: times boucle's TF-IDF fit + transform (and, with a labels
 * file, the linear fit after it) on texts written by bench/featurize.sh:
 * TEXTS is the texts separated by NUL bytes, LABELS one integer label per
 * line. Prints one JSON line: bytes, seconds per phase (best of REPEAT). */
#include "base/config_internal.h" /* cfg_read_file */
#include "base/timeutil.h"
#include "ml/linear.h"
#include "text/tfidf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: featurize TEXTS [LABELS [REPEAT]]\n");
        return 2;
    }
    size_t len;
    struct err e;
    err_clear(&e);
    char *data = cfg_read_file(argv[1], "texts", &len, &e);
    if (!data) return fprintf(stderr, "%s\n", e.msg), 1;
    size_t n = 0, cap = 1024;
    const char **texts = xmalloc(cap * sizeof *texts);
    size_t *lens = xmalloc(cap * sizeof *lens);
    for (size_t at = 0; at < len;) {
        const char *end = memchr(data + at, '\0', len - at);
        size_t l = end ? (size_t)(end - (data + at)) : len - at;
        if (n == cap) {
            cap *= 2;
            texts = xrealloc(texts, cap * sizeof *texts);
            lens = xrealloc(lens, cap * sizeof *lens);
        }
        texts[n] = data + at;
        lens[n++] = l;
        at += l + 1;
    }
    int *y = NULL;
    size_t n_labels = 0;
    if (argc > 2 && strcmp(argv[2], "-") != 0) {
        FILE *f = fopen(argv[2], "r");
        if (!f) return perror(argv[2]), 1;
        y = xmalloc(n * sizeof *y);
        for (size_t i = 0; i < n; i++) {
            if (fscanf(f, "%d", &y[i]) != 1) return fprintf(stderr, "labels: short\n"), 1;
            if ((size_t)y[i] + 1 > n_labels) n_labels = (size_t)y[i] + 1;
        }
        fclose(f);
    }
    int repeat = argc > 3 ? atoi(argv[3]) : 3;
    struct tfidf_config cfg;
    tfidf_config_defaults(&cfg);
    double best_feat = 1e30, best_fit = 1e30;
    size_t nf = 0;
    unsigned long long sum = 1469598103934665603ULL; /* FNV-1a of the matrix: same features? */
    for (int r = 0; r < repeat; r++) {
        struct tfidf v;
        struct tfidf_matrix x;
        int64_t t0 = time_mono_ns();
        if (tfidf_fit(&v, &cfg, texts, lens, n, &x, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
        double tf = time_elapsed_s(t0);
        if (tf < best_feat) best_feat = tf;
        nf = v.n_features;
        if (r == 0) {
            size_t nnz = x.row_ptr[n];
            const unsigned char *parts[3] = {(const void *)x.row_ptr, (const void *)x.idx,
                                             (const void *)x.val};
            size_t sizes[3] = {(n + 1) * sizeof *x.row_ptr, nnz * sizeof *x.idx,
                               nnz * sizeof *x.val};
            for (int p = 0; p < 3; p++)
                for (size_t i = 0; i < sizes[p]; i++)
                    sum = (sum ^ parts[p][i]) * 1099511628211ULL;
        }
        if (y) {
            struct linear_params p = {.C = 1.0, .eps = 0.01};
            struct linear_weights w;
            t0 = time_mono_ns();
            if (linear_fit(&x, v.n_features, y, n_labels, n_labels == 2, &p, &w, &e))
                return fprintf(stderr, "%s\n", e.msg), 1;
            double tl = time_elapsed_s(t0);
            if (tl < best_fit) best_fit = tl;
            linear_free(&w);
        }
        tfidf_matrix_free(&x);
        tfidf_free(&v);
    }
    printf("{\"texts\": %zu, \"bytes\": %zu, \"features\": %zu, \"matrix_fnv\": \"%016llx\", "
           "\"featurize_seconds\": %.4f",
           n, len - (n ? n - 1 : 0), nf, sum, best_feat);
    if (y) printf(", \"fit_seconds\": %.4f", best_fit);
    printf("}\n");
    free(texts);
    free(lens);
    free(y);
    free(data);
    return 0;
}
