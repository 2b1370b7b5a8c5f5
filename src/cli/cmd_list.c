/* boucle models list | runs list | runs show ID | datasets list */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

struct listing {
    const struct config *cfg;
    struct store *st;
    const struct task_config *task;
    int json;
    const char *pos[2];
    int npos;
};

/* Parses the shared options and opens config and store. Returns -1 when
 * done (exit code in *rc). */
static int open_listing(const struct cli_command *cmd, int argc, char **argv, int need_task,
                        struct listing *l, int *rc)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"json", 0, "machine-readable output", NULL},
        {0},
    };
    int r = cli_parse(cmd, argc, argv, opts, l->pos, 2, &l->npos);
    if (r) {
        *rc = r < 0 ? EXIT_USAGE : EXIT_OK;
        return -1;
    }
    l->json = cli_opt(opts, "json") != NULL;
    struct err e;
    err_clear(&e);
    l->cfg = cli_config(&e);
    if (l->cfg && (need_task || cli_opt(opts, "task")))
        l->task = cli_task(l->cfg, cli_opt(opts, "task"), &e);
    if (l->cfg && (l->task || !need_task)) l->st = cli_store(l->cfg, &e);
    if (!l->st) {
        *rc = cli_fail(&e);
        return -1;
    }
    return 0;
}

static int finish(struct listing *l, json_t *doc, struct err *e)
{
    store_close(l->st);
    if (!doc) return cli_fail(e);
    cli_print_json(doc);
    return EXIT_OK;
}

int cmd_models(const struct cli_command *cmd, int argc, char **argv)
{
    struct listing l = {0};
    int rc;
    if (open_listing(cmd, argc, argv, 1, &l, &rc) != 0) return rc;
    if (l.npos != 1 || strcmp(l.pos[0], "list") != 0) {
        store_close(l.st);
        return cli_usage_error(cmd, "expected `models list`");
    }
    struct err e;
    err_clear(&e);
    return finish(&l, store_models_list(l.st, l.task->name, &e), &e);
}

int cmd_runs(const struct cli_command *cmd, int argc, char **argv)
{
    struct listing l = {0};
    int rc;
    if (open_listing(cmd, argc, argv, 0, &l, &rc) != 0) return rc;
    struct err e;
    err_clear(&e);
    if (l.npos == 1 && strcmp(l.pos[0], "list") == 0)
        return finish(&l, store_runs_list(l.st, l.task ? l.task->name : NULL, 100, &e), &e);
    if (l.npos == 2 && strcmp(l.pos[0], "show") == 0)
        return finish(&l, store_run_get(l.st, l.pos[1], &e), &e);
    store_close(l.st);
    return cli_usage_error(cmd, "expected `runs list` or `runs show RUN_ID`");
}

int cmd_datasets(const struct cli_command *cmd, int argc, char **argv)
{
    struct listing l = {0};
    int rc;
    if (open_listing(cmd, argc, argv, 0, &l, &rc) != 0) return rc;
    if (l.npos != 1 || strcmp(l.pos[0], "list") != 0) {
        store_close(l.st);
        return cli_usage_error(cmd, "expected `datasets list`");
    }
    struct err e;
    err_clear(&e);
    return finish(&l, store_datasets_list(l.st, l.task ? l.task->name : NULL, &e), &e);
}
