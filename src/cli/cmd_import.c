/* boucle import --task T FILE [--split train|test] [--format csv|jsonl] [--force] [--json]
 * The file's profile is checked against the task's data contract first: the
 * differences from the previous import are listed, and with
 * contract.on_violation: refuse a violation stops the import (exit 3). */
#include "cli/cli.h"

#include "loop/contract.h"
#include "loop/import.h"

#include <stdio.h>
#include <string.h>

/* After a stored import: what changed since the previous one. */
static void print_contract(json_t *check)
{
    if (!check || !json_array_size(json_object_get(check, "differences"))) return;
    json_int_t n = json_integer_value(json_object_get(check, "violations"));
    struct buf b;
    buf_init(&b);
    contract_text(check, &b);
    printf("contract: %lld violation%s of dataset %lld's profile%s\n%s", (long long)n,
           n == 1 ? "" : "s",
           (long long)json_integer_value(json_object_get(check, "baseline_dataset_id")),
           json_is_true(json_object_get(check, "forced")) ? " (imported with --force)"
           : n ? " (contract.on_violation: warn: imported, recorded with the version)"
               : "",
           b.data);
    buf_free(&b);
}

int cmd_import(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task to import into (optional with one task)", NULL},
        {"split", 1, "train or test (default: 20% stratified test on the first import)", NULL},
        {"format", 1, "csv or jsonl (default: by extension)", NULL},
        {"force", 0, "import even when the data contract refuses the file (recorded)", NULL},
        {"json", 0, "machine-readable output", NULL},
        {0},
    };
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 1, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (npos != 1) return cli_usage_error(cmd, "import needs one FILE");
    enum import_split split = IMPORT_SPLIT_AUTO;
    const char *split_s = cli_opt(opts, "split");
    if (split_s && strcmp(split_s, "train") == 0)
        split = IMPORT_SPLIT_TRAIN;
    else if (split_s && strcmp(split_s, "test") == 0)
        split = IMPORT_SPLIT_TEST;
    else if (split_s)
        return cli_usage_error(cmd, "--split must be train or test, got '%s'", split_s);
    enum table_format fmt = TABLE_AUTO;
    const char *fmt_s = cli_opt(opts, "format");
    if (fmt_s && table_parse_format(fmt_s, &fmt) != 0)
        return cli_usage_error(cmd, "--format must be csv or jsonl, got '%s'", fmt_s);

    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    const struct task_config *task = env.task;
    struct err e;
    err_clear(&e);
    struct import_result res;
    rc = import_file(env.st, env.cfg, task, pos[0], fmt, split,
                     cli_opt(opts, "force") ? IMPORT_FORCE : 0, &res, &e);
    cli_close(&env);
    if (rc != 0 && !res.refused) {
        import_result_free(&res);
        return cli_fail(&e);
    }
    if (cli_opt(opts, "json")) {
        json_t *doc = import_result_json(task, &res, rc, &e);
        cli_print_json(doc);
        import_result_free(&res);
        return rc != 0 ? cli_fail(&e) : EXIT_OK;
    }
    if (rc != 0) { /* refused: the differences, then the error */
        struct buf b;
        buf_init(&b);
        contract_text(res.contract, &b);
        fprintf(stderr, "%s", b.len ? b.data : "");
        buf_free(&b);
        import_result_free(&res);
        return cli_fail(&e);
    }
    if (res.already_imported) {
        printf("%s: already imported into task '%s' as dataset %lld (sha256 %.12s): nothing to "
               "do\n",
               pos[0], task->name, (long long)res.dataset_id, res.hash);
    } else {
        printf("imported %zu rows into task '%s' as dataset %lld (sha256 %.12s): %zu train, %zu "
               "test, in %.2f s\n",
               res.rows, task->name, (long long)res.dataset_id, res.hash, res.train_rows,
               res.test_rows, res.seconds);
    }
    if (task->clean.n_steps && !res.already_imported) {
        struct buf b;
        buf_init(&b);
        prepare_report_text(&task->clean, &res.cleaning, &b);
        printf("cleaning: %s (rows are stored as given; training applies the cleaning)\n", b.data);
        buf_free(&b);
    }
    print_contract(res.contract);
    import_result_free(&res);
    return EXIT_OK;
}
