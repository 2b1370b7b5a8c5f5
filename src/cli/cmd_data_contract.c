/* boucle data contract --task T [--json]
 *   the task's contract: its rules, the version the next import is checked
 *   against (its columns and labels), and what the latest import's check found;
 * boucle data check FILE --task T [--format csv|jsonl] [--json]
 *   a file checked against the contract without importing it: exit 0 when it
 *   keeps the contract, 1 when it breaks it (whatever on_violation says), 3
 *   when it is not valid data for the task. */
#include "cli/cli.h"

#include "loop/contract.h"
#include "loop/import.h"

#include <stdio.h>
#include <string.h>

static void print_rules(const struct contract_config *r)
{
    printf("rules      on_violation: %s, columns: %s, labels: %s, max_null_rate_increase: %g",
           contract_action_name(r->on_violation), contract_columns_name(r->columns),
           contract_labels_name(r->labels), r->max_null_rate_increase);
    if (r->max_label_share_change >= 0)
        printf(", max_label_share_change: %g", r->max_label_share_change);
    printf("\n");
}

static void print_differences(json_t *check)
{
    struct buf b;
    buf_init(&b);
    contract_text(check, &b);
    printf("%s", b.len ? b.data : "  no differences\n");
    buf_free(&b);
}

/* The baseline's columns (name:kind) and labels (name share), on two lines. */
static void print_baseline(json_t *version)
{
    json_t *profile = json_object_get(version, "profile"), *x;
    size_t i;
    printf("baseline   dataset %lld (%s, %s): %lld rows\n",
           (long long)json_integer_value(json_object_get(version, "id")),
           json_string_value(json_object_get(version, "source")),
           json_string_value(json_object_get(version, "created_at")),
           (long long)json_integer_value(json_object_get(profile, "rows")));
    printf("columns   ");
    json_array_foreach(json_object_get(profile, "columns"), i, x)
    {
        printf("%s %s (%s)", i ? "," : "", json_string_value(json_object_get(x, "name")),
               json_string_value(json_object_get(x, "kind")));
    }
    printf("\nlabels    ");
    json_array_foreach(json_object_get(profile, "labels"), i, x)
    {
        printf("%s %s %.1f%%", i ? "," : "", json_string_value(json_object_get(x, "label")),
               100 * json_number_value(json_object_get(x, "share")));
    }
    printf("\n");
}

static int show_contract(struct cli_option *opts)
{
    struct cli_env env;
    int rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env);
    if (rc != 0) return rc;
    struct err e;
    err_clear(&e);
    json_t *base = store_dataset_get(env.st, env.task->name, 0, 1, &e);
    int failed = !base && e.code != ERR_NOT_FOUND;
    json_t *latest = failed ? NULL : store_dataset_get(env.st, env.task->name, 0, 0, &e);
    failed = failed || (!latest && e.code != ERR_NOT_FOUND);
    cli_close(&env);
    if (failed) {
        json_decref(base);
        return cli_fail(&e);
    }
    json_t *last_check = latest ? json_object_get(latest, "contract") : NULL;
    if (cli_opt(opts, "json")) {
        cli_print_json(json_pack("{s:s,s:o,s:O,s:O,s:O}", "task", env.task->name, "rules",
                                 data_contract_rules_json(&env.task->contract), "baseline",
                                 base ? base : json_null(), "latest_dataset_id",
                                 latest ? json_object_get(latest, "id") : json_null(),
                                 "latest_check", last_check ? last_check : json_null()));
    } else {
        printf("task       %s\n", env.task->name);
        print_rules(&env.task->contract);
        if (base)
            print_baseline(base);
        else
            printf("baseline   none: the next import starts the contract (versions imported "
                   "before it keep no profile)\n");
        if (json_is_object(last_check)) {
            json_int_t n = json_integer_value(json_object_get(last_check, "violations"));
            printf(
                "latest     dataset %lld, checked against dataset %lld: %lld violation%s\n",
                (long long)json_integer_value(json_object_get(latest, "id")),
                (long long)json_integer_value(json_object_get(last_check, "baseline_dataset_id")),
                (long long)n, n == 1 ? "" : "s");
            print_differences(last_check);
        }
    }
    json_decref(base);
    json_decref(latest);
    return EXIT_OK;
}

static int check_file(const struct cli_command *cmd, struct cli_option *opts, const char *path)
{
    enum table_format fmt = TABLE_AUTO;
    const char *fmt_s = cli_opt(opts, "format");
    if (fmt_s && table_parse_format(fmt_s, &fmt) != 0)
        return cli_usage_error(cmd, "--format must be csv or jsonl, got '%s'", fmt_s);
    struct cli_env env;
    int rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env);
    if (rc != 0) return rc;
    struct err e;
    err_clear(&e);
    struct import_result res;
    rc = import_check_file(env.st, env.cfg, env.task, path, fmt, &res, &e);
    cli_close(&env);
    if (rc != 0) {
        import_result_free(&res);
        return cli_fail(&e);
    }
    json_int_t n =
        res.contract ? json_integer_value(json_object_get(res.contract, "violations")) : 0;
    if (cli_opt(opts, "json")) {
        cli_print_json(json_pack("{s:s,s:s,s:I,s:s,s:b,s:O,s:O}", "task", env.task->name, "file",
                                 path, "rows", (json_int_t)res.rows, "hash", res.hash, "keeps",
                                 n == 0, "contract", res.contract ? res.contract : json_null(),
                                 "profile", res.profile));
    } else if (!res.contract) {
        printf("%s: %zu rows; task '%s' has no baseline yet: importing it starts the contract\n",
               path, res.rows, env.task->name);
    } else {
        printf("%s: %zu rows against dataset %lld: %lld violation%s (on_violation: %s: an import "
               "would be %s)\n",
               path, res.rows,
               (long long)json_integer_value(json_object_get(res.contract, "baseline_dataset_id")),
               (long long)n, n == 1 ? "" : "s",
               contract_action_name(env.task->contract.on_violation),
               !n || env.task->contract.on_violation == CONTRACT_OFF ? "stored"
               : env.task->contract.on_violation == CONTRACT_REFUSE  ? "refused"
                                                                     : "stored with a warning");
        print_differences(res.contract);
    }
    import_result_free(&res);
    return n ? EXIT_NO : EXIT_OK;
}

int cmd_data_contract(const struct cli_command *cmd, struct cli_option *opts, const char *sub,
                      const char *file)
{
    if (strcmp(sub, "contract") == 0) {
        if (file) return cli_usage_error(cmd, "data contract takes no FILE");
        return show_contract(opts);
    }
    if (!file) return cli_usage_error(cmd, "data check needs a FILE");
    return check_file(cmd, opts, file);
}
