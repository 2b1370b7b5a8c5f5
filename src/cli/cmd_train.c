/* boucle train --task T [--json] */
#include "cli/cli.h"

#include "loop/train.h"
#include "base/config.h"

#include <string.h>

#include <math.h>
#include <stdio.h>

/* The search's trials, one line each, the chosen one marked. */
static void print_search(const json_t *s)
{
    json_int_t best = json_integer_value(json_object_get(s, "best_trial"));
    printf("search     %lld trials x %lld folds, %s, %.2f s on %lld jobs; best trial %lld: "
           "cross-validated %.4f +- %.4f\n",
           (long long)json_integer_value(json_object_get(s, "n_trials")),
           (long long)json_integer_value(json_object_get(s, "folds")),
           json_string_value(json_object_get(s, "metric")),
           json_number_value(json_object_get(s, "seconds")),
           (long long)json_integer_value(json_object_get(s, "jobs")), (long long)best,
           json_number_value(json_object_get(s, "best_cv_score")),
           json_number_value(json_object_get(s, "best_cv_std")));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(s, "trials"), i, t)
    {
        printf("  %c %3zu  rank %-3lld %.4f +- %.4f ", (json_int_t)i + 1 == best ? '*' : ' ', i + 1,
               (long long)json_integer_value(json_object_get(t, "rank_test_score")),
               json_number_value(json_object_get(t, "mean_test_score")),
               json_number_value(json_object_get(t, "std_test_score")));
        const char *key;
        json_t *v;
        const char *sep = " ";
        json_object_foreach(json_object_get(t, "params"), key, v)
        {
            printf("%s%s=%s", sep, key, json_string_value(v));
            sep = ", ";
        }
        printf("\n");
    }
}

static double metric(json_t *m, const char *key)
{
    json_t *v = json_object_get(m, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A multilabel test: the averages, the tagging figures, then each label
 * with its threshold. */
static void print_multilabel(const struct train_result *r)
{
    json_t *m = r->metrics;
    printf("test       subset accuracy %.4f  Hamming loss %.4f\n", metric(m, "subset_accuracy"),
           metric(m, "hamming_loss"));
    const char *avg[] = {"micro", "macro", "samples"};
    for (size_t i = 0; i < 3; i++) {
        char p[32], rc[32], f[32];
        snprintf(p, sizeof p, "precision_%s", avg[i]);
        snprintf(rc, sizeof rc, "recall_%s", avg[i]);
        snprintf(f, sizeof f, "f1_%s", avg[i]);
        printf("           %-8s  precision %.4f  recall %.4f  F1 %.4f\n", avg[i], metric(m, p),
               metric(m, rc), metric(m, f));
    }
    printf("tagging    documents with a true tag found %.4f, with all found %.4f, with no tag "
           "predicted %.4f; labels found at least once %.4f\n",
           metric(m, "docs_any_found"), metric(m, "docs_all_found"),
           metric(m, "docs_no_prediction"), metric(m, "label_coverage"));
    printf("thresholds %lld of %zu labels tuned on %lld validation rows (the others: 0.5)\n",
           (long long)json_integer_value(json_object_get(r->tuning, "tuned_labels")), r->n_labels,
           (long long)json_integer_value(json_object_get(r->tuning, "validation_rows")));
    printf("  %-28s %9s %9s %9s %8s %9s %9s\n", "label", "precision", "recall", "F1", "support",
           "predicted", "threshold");
    const char *label;
    json_t *c;
    size_t idle = 0;
    json_object_foreach(json_object_get(m, "per_class"), label, c)
    {
        if (!json_integer_value(json_object_get(c, "support")) &&
            !json_integer_value(json_object_get(c, "predicted"))) {
            idle++; /* nothing to say about it on this test split */
            continue;
        }
        printf("  %-28.28s %9.4f %9.4f %9.4f %8lld %9lld %9.4f\n", label, metric(c, "precision"),
               metric(c, "recall"), metric(c, "f1"),
               (long long)json_integer_value(json_object_get(c, "support")),
               (long long)json_integer_value(json_object_get(c, "predicted")),
               metric(r->thresholds, label));
    }
    if (idle) printf("  (%zu labels neither in the test split nor predicted)\n", idle);
}

static void print_report(const struct task_config *task, const struct train_result *r)
{
    printf("run        %s\n", r->run_id);
    printf("task       %s (%s)\n", task->name, task_type_name(task->type));
    printf("version    %lld%s\n", (long long)r->version, r->became_champion ? " (champion)" : "");
    printf("data       %zu train, %zu test, %zu labels, %zu features (dataset sha256 %.12s)\n",
           r->n_train, r->n_test, r->n_labels, r->n_features, r->dataset_hash);
    struct buf cleaning;
    buf_init(&cleaning);
    prepare_report_text(&r->clean, &r->prep, &cleaning);
    printf("cleaning   %s\n", cleaning.data);
    buf_free(&cleaning);
    if (r->search) print_search(r->search);
    printf("time       %.3f s training, %.3f s in all\n", r->train_seconds, r->total_seconds);
    if (!r->metrics) {
        printf("metrics    none: the task has no test examples\n");
        return;
    }
    json_t *m = r->metrics;
    if (task->type == TASK_MULTILABEL) {
        print_multilabel(r);
        return;
    }
    printf("test       accuracy %.4f\n", json_real_value(json_object_get(m, "accuracy")));
    printf("           macro     precision %.4f  recall %.4f  F1 %.4f\n",
           json_real_value(json_object_get(m, "precision_macro")),
           json_real_value(json_object_get(m, "recall_macro")),
           json_real_value(json_object_get(m, "f1_macro")));
    printf("           weighted  precision %.4f  recall %.4f  F1 %.4f\n",
           json_real_value(json_object_get(m, "precision_weighted")),
           json_real_value(json_object_get(m, "recall_weighted")),
           json_real_value(json_object_get(m, "f1_weighted")));
    json_t *auc = json_object_get(m, "roc_auc");
    if (json_is_number(auc))
        printf("           ROC-AUC %.4f  PR-AUC %.4f\n", json_number_value(auc),
               json_number_value(json_object_get(m, "pr_auc")));
    json_t *per = json_object_get(m, "per_class");
    const char *label;
    json_t *c;
    printf("  %-20s %9s %9s %9s %8s\n", "class", "precision", "recall", "F1", "support");
    json_object_foreach(per, label, c)
    {
        printf("  %-20.20s %9.4f %9.4f %9.4f %8lld\n", label,
               json_number_value(json_object_get(c, "precision")),
               json_number_value(json_object_get(c, "recall")),
               json_number_value(json_object_get(c, "f1")),
               (long long)json_integer_value(json_object_get(c, "support")));
    }
    json_t *cm = json_object_get(m, "confusion_matrix");
    json_t *labels = json_object_get(cm, "labels"), *rows = json_object_get(cm, "matrix");
    printf("confusion (rows = true, columns = predicted)\n  %-20s", "");
    size_t i;
    json_t *v;
    json_array_foreach(labels, i, v) printf(" %9.9s", json_string_value(v));
    printf("\n");
    json_array_foreach(rows, i, v)
    {
        printf("  %-20.20s", json_string_value(json_array_get(labels, i)));
        size_t j;
        json_t *cell;
        json_array_foreach(v, j, cell) printf(" %9lld", (long long)json_integer_value(cell));
        printf("\n");
    }
}

int cmd_train(const struct cli_command *cmd, int argc, char **argv)
{
    /* with --run it is the pipeline's train step inside that run */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--run") == 0 || strncmp(argv[i], "--run=", 6) == 0)
            return cli_step_command(cmd, argc, argv, STEP_TRAIN);
    struct cli_option opts[] = {
        {"task", 1, "the task to train (optional with one task)", NULL},
        {"json", 0, "machine-readable output", NULL},
        {0},
    };
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    const struct task_config *task = env.task;
    struct err e;
    err_clear(&e);
    struct train_result r;
    rc = train_task(env.st, env.cfg, task, cli_actor(), &r, &e);
    cli_close(&env);
    if (rc != 0) {
        train_result_free(&r);
        return cli_fail(&e);
    }
    if (cli_opt(opts, "json")) {
        json_t *doc =
            json_pack("{s:s,s:s,s:I,s:b,s:I,s:I,s:I,s:I,s:f,s:f,s:s,s:s,s:I,s:O?,s:o}", "run_id",
                      r.run_id, "task", task->name, "model_version", (json_int_t)r.version,
                      "champion", r.became_champion, "n_train", (json_int_t)r.n_train, "n_test",
                      (json_int_t)r.n_test, "n_labels", (json_int_t)r.n_labels, "n_features",
                      (json_int_t)r.n_features, "train_seconds", r.train_seconds, "total_seconds",
                      r.total_seconds, "dataset_hash", r.dataset_hash, "artifact_sha256",
                      r.artifact_sha256, "artifact_bytes", (json_int_t)r.artifact_bytes, "metrics",
                      r.metrics, "cleaning", prepare_report_json(&r.clean, &r.prep));
        json_object_set_new(doc, "fit_seconds", json_real(r.fit_seconds));
        if (r.search) json_object_set(doc, "search", r.search);
        train_result_multilabel_json(&r, doc);
        cli_print_json(doc);
    } else {
        print_report(task, &r);
    }
    train_result_free(&r);
    return EXIT_OK;
}
