/* boucle data profile --task T [--split train|test] [--json]
 * What a task's stored examples look like before training on them: rows,
 * the label distribution, and per text field the null, empty and duplicate
 * rates and length quantiles (characters); the same for the model text
 * after the task's cleaning, with what each cleaning step did; per numeric
 * field the missing rate and value quantiles, per categorical field the
 * missing rate and the most frequent values. */
#include "cli/cli.h"

#include "data/data_profile.h"
#include "loop/contract.h"
#include "loop/corpus.h"

#include <stdio.h>
#include <string.h>

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void print_column(const char *name, json_t *c)
{
    json_t *len = json_object_get(c, "length");
    printf("  %-20.20s %7lld %6.1f%% %6.1f%% %6.1f%% %7lld %7lld %7lld %7lld\n", name,
           (long long)num(c, "rows"), 100 * num(c, "null_rate"), 100 * num(c, "empty_rate"),
           100 * num(c, "duplicate_rate"), (long long)num(len, "p5"), (long long)num(len, "p50"),
           (long long)num(len, "p95"), (long long)num(len, "max"));
}

static void print_tabular(json_t *doc)
{
    const char *name;
    json_t *c, *top;
    size_t i;
    if (json_object_size(json_object_get(doc, "numeric")))
        printf("numeric\n  %-20s %7s %7s %9s %9s %9s %9s %9s\n", "", "rows", "missing", "min", "p5",
               "p50", "p95", "max");
    json_object_foreach(json_object_get(doc, "numeric"), name, c)
    {
        printf("  %-20.20s %7lld %6.1f%% %9.4g %9.4g %9.4g %9.4g %9.4g\n", name,
               (long long)num(c, "rows"), 100 * num(c, "missing_rate"), num(c, "min"), num(c, "p5"),
               num(c, "p50"), num(c, "p95"), num(c, "max"));
    }
    if (json_object_size(json_object_get(doc, "categorical")))
        printf("categorical\n  %-20s %7s %7s %8s  %s\n", "", "rows", "missing", "distinct",
               "most frequent");
    json_object_foreach(json_object_get(doc, "categorical"), name, c)
    {
        printf("  %-20.20s %7lld %6.1f%% %8lld  ", name, (long long)num(c, "rows"),
               100 * num(c, "missing_rate"), (long long)num(c, "distinct"));
        json_array_foreach(json_object_get(c, "top"), i, top)
        {
            printf("%s%.30s %.1f%%", i ? ", " : "",
                   json_string_value(json_object_get(top, "value")), 100 * num(top, "share"));
        }
        printf("\n");
    }
}

static void print_profile(const struct task_config *task, const char *split, json_t *doc)
{
    printf("task       %s, %s: %lld rows\n", task->name, split ? split : "train and test",
           (long long)num(doc, "rows"));
    size_t i;
    json_t *l;
    printf("labels\n");
    json_array_foreach(json_object_get(doc, "labels"), i, l)
    {
        printf("  %-36.36s %7lld %6.1f%%\n", json_string_value(json_object_get(l, "label")),
               (long long)num(l, "count"), 100 * num(l, "share"));
    }
    json_t *unlabeled = json_object_get(doc, "rows_without_label");
    if (unlabeled) /* multilabel: the counts above are rows with each label */
        printf("  %-36s %7lld %6.1f%%\n", "(no label)", (long long)json_integer_value(unlabeled),
               100 * (double)json_integer_value(unlabeled) / (double)num(doc, "rows"));
    if (task->n_text_fields) {
        printf("fields (length in characters)\n  %-20s %7s %7s %7s %7s %7s %7s %7s %7s\n", "",
               "rows", "null", "empty", "dup", "p5", "p50", "p95", "max");
        const char *name;
        json_t *c;
        json_object_foreach(json_object_get(doc, "fields"), name, c) print_column(name, c);
        print_column("(model text)", json_object_get(doc, "text"));
    }
    print_tabular(doc);
    json_t *cleaning = json_object_get(doc, "cleaning");
    printf("cleaning  ");
    if (!json_array_size(json_object_get(cleaning, "steps"))) printf(" none");
    json_array_foreach(json_object_get(cleaning, "steps"), i, l)
    {
        json_t *changed = json_object_get(l, "changed");
        printf("%s %s %s %lld", i ? "," : "", json_string_value(json_object_get(l, "step")),
               changed ? "changed" : "dropped",
               (long long)json_integer_value(changed ? changed : json_object_get(l, "dropped")));
    }
    printf(": %lld of %lld rows kept for training\n", (long long)num(cleaning, "kept"),
           (long long)num(cleaning, "rows"));
}

/* The latest import's contract check, when it found something. */
static void print_check(json_t *check)
{
    json_int_t n = json_integer_value(json_object_get(check, "violations"));
    if (!json_array_size(json_object_get(check, "differences"))) return;
    printf("contract   the latest import had %lld violation%s against dataset %lld (boucle data "
           "contract):\n",
           (long long)n, n == 1 ? "" : "s",
           (long long)json_integer_value(json_object_get(check, "baseline_dataset_id")));
    struct buf b;
    buf_init(&b);
    contract_text(check, &b);
    printf("%s", b.data);
    buf_free(&b);
}

static int profile(const struct cli_command *cmd, struct cli_option *opts)
{
    const char *split = cli_opt(opts, "split");
    int want = -1;
    if (split && strcmp(split, "train") == 0)
        want = 0;
    else if (split && strcmp(split, "test") == 0)
        want = 1;
    else if (split)
        return cli_usage_error(cmd, "--split must be train or test, got '%s'", split);
    struct cli_env env;
    int rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env);
    if (rc != 0) return rc;
    struct err e;
    err_clear(&e);
    struct corpus c;
    rc = corpus_load(env.st, env.task, env.cfg->limits.max_field_bytes, &c, &e);
    /* what the contract said of the latest import (null: none, or not checked) */
    json_t *latest = rc == 0 ? store_dataset_get(env.st, env.task->name, 0, 0, &e) : NULL;
    json_t *check = json_incref(json_object_get(latest, "contract"));
    if (!check) check = json_null();
    json_decref(latest);
    cli_close(&env);
    if (rc != 0) return cli_fail(&e);
    struct data_profile p;
    data_profile_init(&p, env.task);
    for (size_t i = 0; i < c.n; i++)
        if (want < 0 || c.split[i] == want) {
            data_profile_add(&p, corpus_values(&c, i), corpus_lens(&c, i), c.nulls[i], c.labels[i]);
            data_profile_add_tabular(&p, c.num + i * c.n_num, c.cat + i * c.n_cat,
                                     c.cat_lens + i * c.n_cat);
        }
    json_t *doc = data_profile_json(&p);
    data_profile_free(&p);
    corpus_free(&c);
    if (cli_opt(opts, "json")) {
        json_t *head =
            json_pack("{s:s,s:s}", "task", env.task->name, "split", split ? split : "all");
        json_object_update(head, doc);
        json_decref(doc);
        json_object_set(head, "contract", check);
        cli_print_json(head);
    } else {
        print_profile(env.task, split, doc);
        print_check(check);
        json_decref(doc);
    }
    json_decref(check);
    return EXIT_OK;
}

int cmd_data(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"split", 1, "profile: train or test (default: both)", NULL},
        {"format", 1, "check: csv or jsonl (default: by extension)", NULL},
        {"json", 0, "machine-readable output", NULL},
        {0},
    };
    const char *pos[2];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 2, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (npos == 1 && strcmp(pos[0], "profile") == 0) return profile(cmd, opts);
    if (npos >= 1 && (strcmp(pos[0], "contract") == 0 || strcmp(pos[0], "check") == 0))
        return cmd_data_contract(cmd, opts, pos[0], npos == 2 ? pos[1] : NULL);
    if (npos == 0) return cli_usage_error(cmd, "data needs a subcommand: profile, contract, check");
    return cli_usage_error(cmd, "unknown subcommand '%s' (available: profile, contract, check)",
                           pos[0]);
}
