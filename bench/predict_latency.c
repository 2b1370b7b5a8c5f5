/* Per-prediction latency of a task's champion, one thread, no server:
 * every test row predicted through model_predict_input (clean, featurise,
 * predict, as the predict route does) for about a second; prints the mean
 * microseconds per prediction, in wall time and in this thread's CPU time
 * (the steadier figure on a shared machine). Usage: predict_latency CONFIG TASK.
 * Built and run by bench/xgboost_vs_python.sh against libboucle.a. */
#include "base/config.h"
#include "base/timeutil.h"
#include "loop/corpus.h"
#include "ml/model.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct err e;
    if (argc != 3 || config_load(argv[1], &cfg, &e) != 0) {
        fprintf(stderr, "usage: predict_latency CONFIG TASK (%s)\n", argc == 3 ? e.msg : "");
        return 2;
    }
    const struct task_config *task = config_task(&cfg, argv[2]);
    struct store *st = task ? store_open(cfg.store_url, &e) : NULL;
    int64_t version;
    void *data = NULL;
    size_t len = 0;
    struct corpus c;
    if (!st || store_alias_get(st, task->name, "champion", &version, &e) != 1 ||
        store_model_artifact(st, task->name, version, &data, &len, &e) != 0 ||
        corpus_load(st, task, cfg.limits.max_field_bytes, &c, &e) != 0) {
        fprintf(stderr, "predict_latency: %s\n", e.msg);
        return 1;
    }
    struct trained_model *m = model_load(data, len, &e);
    if (!m) {
        fprintf(stderr, "predict_latency: %s\n", e.msg);
        return 1;
    }
    double probs[64], sink = 0;
    size_t n = 0;
    int64_t t0 = time_mono_ns();
    double c0 = cpu_seconds();
    while (time_elapsed_s(t0) < 1.0) {
        for (size_t i = 0; i < c.n; i++) {
            if (c.split[i] != 1) continue;
            struct model_input in = corpus_input(&c, i);
            sink += probs[model_predict_input(m, &in, probs)];
            n++;
        }
    }
    double wall = time_elapsed_s(t0), cpu = cpu_seconds() - c0;
    printf("%s %.2f us per prediction wall, %.2f us CPU (%zu predictions, checksum %.3f)\n",
           model_kind(m), 1e6 * wall / (double)n, 1e6 * cpu / (double)n, n, sink);
    model_release(m);
    corpus_free(&c);
    store_close(st);
    free(data);
    config_free(&cfg);
    return 0;
}
