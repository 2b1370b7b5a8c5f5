/* boucle predict --task T [--json] [--explain K] TEXT... — one-shot
 * prediction with the task's champion, read from the store (no server
 * needed); --explain adds the K features that pushed the answer most.
 * A task with numeric or categorical fields takes each argument as a JSON
 * object of input fields instead: '{"tenure": 7, "contract": "One year"}'. */
#include "cli/cli.h"

#include "base/mem.h"
#include "data/input.h"
#include "ml/model.h"
#include "serve/answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One argument read as a JSON object of the task's input fields. */
struct tabular_input {
    json_t *doc;
    const char *values[TASK_MAX_TEXT_FIELDS];
    size_t lens[TASK_MAX_TEXT_FIELDS];
    double num[TASK_MAX_TABULAR_FIELDS];
    const char *cat[TASK_MAX_TABULAR_FIELDS];
    size_t cat_lens[TASK_MAX_TABULAR_FIELDS];
};

static int tabular_input_parse(struct tabular_input *t, const struct task_config *task,
                               const char *arg, struct model_input *in, struct err *e)
{
    json_error_t je;
    t->doc = json_loads(arg, 0, &je);
    if (!t->doc)
        return err_set(e, ERR_INVALID,
                       "task '%s' has numeric or categorical fields: give each input as a JSON "
                       "object of its fields (%s at column %d)",
                       task->name, je.text, je.column);
    if (input_fields_from_json(task, t->doc, 0, t->values, t->lens, NULL, NULL, e) != 0 ||
        input_tabular_from_json(task, t->doc, 0, t->num, t->cat, t->cat_lens, NULL, e) != 0) {
        json_decref(t->doc);
        return -1;
    }
    *in = (struct model_input){t->values,
                               t->lens,
                               task->n_text_fields,
                               {task->n_numeric, task->n_categorical, t->num, t->cat, t->cat_lens}};
    return 0;
}

static void tabular_input_free(struct tabular_input *t)
{
    json_decref(t->doc);
}

int cmd_predict(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"json", 0, "machine-readable output", NULL},
        {"explain", 1, "also show the K features that pushed each answer most (1-50)", NULL},
        {0},
    };
    const char *pos[64];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 64, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (npos == 0) return cli_usage_error(cmd, "predict needs at least one TEXT");
    long top_k = 0;
    const char *explain = cli_opt(opts, "explain");
    if (explain) {
        char *end;
        top_k = strtol(explain, &end, 10);
        if (*end || top_k < 1 || top_k > 50)
            return cli_usage_error(cmd, "--explain takes a number of features from 1 to 50");
    }
    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    const struct task_config *task = env.task;
    struct store *st = env.st;
    struct err e;
    err_clear(&e);
    int64_t version = 0;
    int has = store_alias_get(st, task->name, "champion", &version, &e);
    void *data = NULL;
    size_t len = 0;
    if (has == 0)
        err_set(&e, ERR_NOT_FOUND, "task '%s' has no champion yet: run `boucle train --task %s`",
                task->name, task->name);
    if (has <= 0 || store_model_artifact(st, task->name, version, &data, &len, &e) != 0) {
        store_close(st);
        return cli_fail(&e);
    }
    store_close(st);
    struct trained_model *m = model_load(data, len, &e);
    free(data);
    if (m && model_check_fields(m, task, &e) != 0) {
        model_release(m);
        m = NULL;
    }
    if (!m) return cli_fail(&e);
    size_t nl = model_n_labels(m);
    double *probs = xmalloc(nl * sizeof *probs);
    json_t *all = json_array();
    int tabular = task->n_numeric || task->n_categorical;
    struct buf set;
    buf_init(&set);
    for (int i = 0; i < npos; i++) {
        /* TEXT is the input's one text, prepared as the model's training text was */
        size_t len = strlen(pos[i]);
        struct model_input in = {&pos[i], &len, 1, {0, 0, NULL, NULL, NULL}};
        struct tabular_input tin;
        if (tabular && tabular_input_parse(&tin, task, pos[i], &in, &e) != 0) {
            json_decref(all);
            free(probs);
            buf_free(&set);
            model_release(m);
            return cli_fail(&e);
        }
        size_t best = model_predict_input(m, &in, probs);
        json_t *one = json_pack("{s:s,s:I}", "text", pos[i], "model_version", (json_int_t)version);
        answer_add_labels(one, m, probs, best);
        if (!cli_opt(opts, "json") && model_task_type(m) == TASK_MULTILABEL)
            /* the set, or nothing when no label reached its threshold */
            printf("%s\t%.4f\t%s\n", answer_logged_label(one, &set), probs[best], pos[i]);
        else if (!cli_opt(opts, "json"))
            printf("%s\t%.4f\t%s\n", model_label(m, best), probs[best], pos[i]);
        if (top_k) {
            struct model_contribution c[50];
            size_t k = model_explain_input(m, &in, best, (size_t)top_k, c);
            json_t *why = json_array();
            for (size_t j = 0; j < k; j++) {
                json_array_append_new(
                    why, json_pack("{s:s,s:f}", "feature", c[j].feature, "weight", c[j].weight));
                if (!cli_opt(opts, "json")) printf("\t%+.4f\t%s\n", c[j].weight, c[j].feature);
            }
            json_object_set_new(one, "explanation", why);
        }
        json_array_append_new(all, one);
        if (tabular) tabular_input_free(&tin);
    }
    if (cli_opt(opts, "json"))
        cli_print_json(all);
    else
        json_decref(all);
    free(probs);
    buf_free(&set);
    model_release(m);
    return EXIT_OK;
}
