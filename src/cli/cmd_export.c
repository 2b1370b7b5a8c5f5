/* boucle export --task T --what preferences [--out FILE]
 * (--what features --out DIR: the champion's feature matrix, see
 * cmd_export_features.c)
 * The feedback as the data an external RLHF/DPO trainer reads, JSONL:
 *   a correction -> {"prompt", "chosen": corrected label, "rejected": predicted label}
 *   a score      -> {"prompt", "response": predicted label, "reward": -1|0|1}
 * The prompt is the input as the model saw it (text fields joined). */
#include "cli/cli.h"

#include "base/mem.h"
#include "data/input.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int write_preferences(FILE *out, const struct task_config *task, json_t *rows,
                             size_t max_field_bytes, size_t *n_pairs, size_t *n_rewards,
                             struct err *e)
{
    size_t i;
    json_t *row;
    struct buf prompt;
    buf_init(&prompt);
    json_array_foreach(rows, i, row)
    {
        buf_reset(&prompt);
        if (input_text_from_json(task, json_object_get(row, "input"), max_field_bytes, &prompt,
                                 NULL, e) != 0) {
            buf_free(&prompt);
            return err_prefix(e, "feedback %zu", i + 1);
        }
        const char *predicted = json_string_value(json_object_get(row, "predicted"));
        const char *label = json_string_value(json_object_get(row, "label"));
        json_t *line;
        if (label && predicted && strcmp(label, predicted) != 0) {
            line = json_pack("{s:s,s:s,s:s}", "prompt", prompt.data ? prompt.data : "", "chosen",
                             label, "rejected", predicted);
            (*n_pairs)++;
        } else {
            line = json_pack("{s:s,s:s?,s:O}", "prompt", prompt.data ? prompt.data : "", "response",
                             predicted, "reward", json_object_get(row, "score"));
            (*n_rewards)++;
        }
        char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(line);
        if (!text || fprintf(out, "%s\n", text) < 0) {
            free(text);
            buf_free(&prompt);
            return err_set(e, ERR_IO, "cannot write the export: %s", strerror(errno));
        }
        free(text);
    }
    buf_free(&prompt);
    return 0;
}

int cmd_export(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"task", 1, "the task (optional with one task)", NULL},
                                {"what", 1, "what to export: preferences (or features)", NULL},
                                {"out", 1,
                                 "file to write (default: standard output); a directory for "
                                 "features",
                                 NULL},
                                {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    const char *what = cli_opt(opts, "what");
    int features = what && !strcmp(what, "features");
    if (!what || (strcmp(what, "preferences") != 0 && !features))
        return cli_usage_error(cmd, "--what must be 'preferences' or 'features'");
    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    if (features) return cli_export_features(&env, cli_opt(opts, "out"));
    struct err e;
    err_clear(&e);
    json_t *rows = store_feedback_export(env.st, env.task->name, &e);
    cli_close(&env);
    if (!rows) return cli_fail(&e);
    const char *path = cli_opt(opts, "out");
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        json_decref(rows);
        err_set(&e, ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        return cli_fail(&e);
    }
    size_t pairs = 0, rewards = 0;
    rc = write_preferences(out, env.task, rows, env.cfg->limits.max_field_bytes, &pairs, &rewards,
                           &e);
    if (path && fclose(out) != 0 && rc == 0)
        rc = err_set(&e, ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    json_decref(rows);
    if (rc != 0) return cli_fail(&e);
    fprintf(stderr, "exported %zu preference pairs and %zu rewards\n", pairs, rewards);
    return EXIT_OK;
}
