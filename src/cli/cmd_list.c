/* boucle models list | models show VERSION | models history | runs list |
 * runs show ID | datasets list — JSON views of the store. */
#include "cli/cli.h"

#include "track/registry.h"

#include <stdio.h>
#include <string.h>

/* Parses --task and the positional words, opens the store; -1 when done
 * (the exit code is in *rc). */
static int open_listing(const struct cli_command *cmd, int argc, char **argv, int task_mode,
                        struct cli_env *env, const char **pos, int *npos, int *rc)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"json", 0, "machine-readable output (the default for listings)", NULL},
        {0},
    };
    int r = cli_parse(cmd, argc, argv, opts, pos, 2, npos);
    if (r) {
        *rc = r < 0 ? EXIT_USAGE : EXIT_OK;
        return -1;
    }
    if ((*rc = cli_open(cli_opt(opts, "task"), task_mode, env)) != 0) return -1;
    return 0;
}

static int print_or_fail(struct cli_env *env, json_t *doc, struct err *e)
{
    cli_close(env);
    if (!doc) return cli_fail(e);
    cli_print_json(doc);
    return EXIT_OK;
}

static int wrong_words(const struct cli_command *cmd, struct cli_env *env)
{
    cli_close(env);
    return cli_usage_error(cmd, "expected: %s", cmd->usage);
}

int cmd_models(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_env env;
    const char *pos[2];
    int npos, rc;
    if (open_listing(cmd, argc, argv, CLI_NEED_TASK, &env, pos, &npos, &rc) != 0) return rc;
    struct err e;
    err_clear(&e);
    const char *task = env.task->name;
    if (npos == 1 && strcmp(pos[0], "list") == 0)
        return print_or_fail(&env, store_models_list(env.st, task, &e), &e);
    if (npos == 1 && strcmp(pos[0], "history") == 0)
        return print_or_fail(&env, store_alias_history(env.st, task, &e), &e);
    if (npos != 2 || strcmp(pos[0], "show") != 0) return wrong_words(cmd, &env);
    int64_t version;
    if (registry_parse_version(pos[1], &version) != 0) {
        cli_close(&env);
        return cli_usage_error(cmd, "VERSION must be a positive version number, got '%s'", pos[1]);
    }
    return print_or_fail(&env, registry_version_show(env.st, task, version, &e), &e);
}

int cmd_runs(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_env env;
    const char *pos[2];
    int npos, rc;
    if (open_listing(cmd, argc, argv, CLI_TASK_IF_GIVEN, &env, pos, &npos, &rc) != 0) return rc;
    struct err e;
    err_clear(&e);
    const char *task = env.task ? env.task->name : NULL;
    if (npos == 1 && strcmp(pos[0], "list") == 0)
        return print_or_fail(&env, store_runs_list(env.st, task, 100, &e), &e);
    if (npos == 2 && strcmp(pos[0], "show") == 0)
        return print_or_fail(&env, store_run_get(env.st, pos[1], &e), &e);
    return wrong_words(cmd, &env);
}

int cmd_datasets(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_env env;
    const char *pos[2];
    int npos, rc;
    if (open_listing(cmd, argc, argv, CLI_TASK_IF_GIVEN, &env, pos, &npos, &rc) != 0) return rc;
    if (npos != 1 || strcmp(pos[0], "list") != 0) return wrong_words(cmd, &env);
    struct err e;
    err_clear(&e);
    const char *task = env.task ? env.task->name : NULL;
    return print_or_fail(&env, store_datasets_list(env.st, task, &e), &e);
}
