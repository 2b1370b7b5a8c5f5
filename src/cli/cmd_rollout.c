/* Deploying with a strategy, and following a rollout (issue 6):
 *   boucle deploy --task T --run ID [--strategy direct|shadow|canary] [--percent P] [--after N]
 *   boucle deploy --task T --strategy shadow|canary [--version V]   (default: the challenger alias)
 *   boucle deploy --task T --version V                              (direct: champion now)
 *   boucle rollout status|check|stop|promote --task T [--json]
 * Exit codes: deploy 0 done; rollout status 0 active, 1 none; check 0 decided,
 * 1 still waiting; stop/promote 0 done, 1 nothing active. */
#include "cli/cli.h"

#include "base/log.h"
#include "loop/rollout.h"
#include "loop/steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole number in [min, max] from an option, or -1. */
static long parse_count(const char *s, long min, long max)
{
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : -1;
    if (!s || !*s || *end || v < min || v > max) return -1;
    return v;
}

/* deploy without a run: a version (or the challenger alias) now */
static int deploy_version(struct cli_env *env, const struct rollout_request *rq, int64_t version,
                          int as_json)
{
    struct err e;
    err_clear(&e);
    const char *task = env->task->name;
    if (rq->strategy == ROLLOUT_DIRECT) {
        int rc = store_alias_deploy(env->st, task, version, "deployed from the command line",
                                    cli_actor(), &e);
        cli_close(env);
        if (rc != 0) return cli_fail(&e);
        if (as_json)
            cli_print_json(json_pack("{s:s,s:s,s:I}", "task", task, "strategy", "direct",
                                     "champion", (json_int_t)version));
        else
            printf("%s: champion is now version %lld (servers switch within a second)\n", task,
                   (long long)version);
        return EXIT_OK;
    }
    if (version == 0) {
        int found = store_alias_get(env->st, task, "challenger", &version, &e);
        if (found <= 0) {
            cli_close(env);
            if (found == 0)
                err_set_field(&e, ERR_NOT_FOUND, "version",
                              "task '%s' has no challenger alias (set by the pipeline's train "
                              "step): give --version V",
                              task);
            return cli_fail(&e);
        }
    }
    struct rollout_request r = *rq;
    r.version = version;
    r.reason = "started from the command line";
    int64_t id = 0;
    int rc = rollout_start(env->st, env->task, &r, &id, &e);
    cli_close(env);
    if (rc != 0) {
        if (e.code == ERR_CONFLICT) err_prefix(&e, "boucle rollout stop --task %s ends it", task);
        return cli_fail(&e);
    }
    const char *strategy = rollout_strategy_name(r.strategy);
    if (as_json)
        cli_print_json(json_pack("{s:s,s:I,s:s,s:I,s:i,s:I}", "task", task, "rollout_id",
                                 (json_int_t)id, "strategy", strategy, "version",
                                 (json_int_t)version, "percent",
                                 r.strategy == ROLLOUT_CANARY ? r.percent : 0, "min_feedback",
                                 (json_int_t)r.min_feedback));
    else if (r.strategy == ROLLOUT_CANARY)
        printf("%s: version %lld answers %d%% of requests as a canary (rollout %lld); promoted "
               "or rolled back after %ld judged predictions on each side\n",
               task, (long long)version, r.percent, (long long)id, r.min_feedback);
    else
        printf("%s: version %lld scores live traffic in shadow (rollout %lld); `boucle rollout "
               "status --task %s` shows how it does\n",
               task, (long long)version, (long long)id, task);
    return EXIT_OK;
}

int cmd_deploy(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"run", 1, "deploy that run's challenger if its gate said so", NULL},
        {"version", 1, "deploy this version (no gate)", NULL},
        {"strategy", 1, "direct (champion now), shadow or canary; default: the task's rollout",
         NULL},
        {"percent", 1, "canary: share of requests the challenger answers (1-99)", NULL},
        {"after", 1, "canary: judged predictions per side before it is decided", NULL},
        {"json", 0, "machine-readable output", NULL},
        {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    const char *strategy = cli_opt(opts, "strategy"), *run = cli_opt(opts, "run");
    const char *version_s = cli_opt(opts, "version");
    struct rollout_request rq = {.strategy = ROLLOUT_DIRECT};
    if (strategy && rollout_strategy_parse(strategy, &rq.strategy) != 0)
        return cli_usage_error(cmd, "--strategy must be direct, shadow or canary, not '%s'",
                               strategy);
    if ((cli_opt(opts, "percent") || cli_opt(opts, "after")) && rq.strategy != ROLLOUT_CANARY)
        return cli_usage_error(cmd, "--percent and --after go with --strategy canary");
    if (cli_opt(opts, "percent") &&
        (rq.percent = (int)parse_count(cli_opt(opts, "percent"), 1, 99)) < 0)
        return cli_usage_error(cmd, "--percent must be a whole number from 1 to 99");
    if (cli_opt(opts, "after") &&
        (rq.min_feedback = parse_count(cli_opt(opts, "after"), 1, 100000000)) < 0)
        return cli_usage_error(cmd, "--after must be a positive whole number");
    long long version = 0;
    if (version_s && (version = parse_count(version_s, 1, 2000000000)) < 0)
        return cli_usage_error(cmd, "--version must be a positive version number");
    if (run && version_s) return cli_usage_error(cmd, "give --run or --version, not both");
    if (!run && !version_s && rq.strategy == ROLLOUT_DIRECT)
        return cli_usage_error(cmd, "--run RUN_ID or --version V is required");
    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    rollout_request_defaults(&rq, env.task);
    int as_json = cli_opt(opts, "json") != NULL;
    if (run) return cli_step_in_run(cmd, &env, run, STEP_DEPLOY, as_json, strategy ? &rq : NULL);
    return deploy_version(&env, &rq, version, as_json);
}

/* ---- rollout status|check|stop|promote ---- */

static void print_arm(const char *role, json_t *arm)
{
    json_t *acc = json_object_get(arm, "accuracy");
    printf("  %-10s v%lld: %lld predictions, %lld judged", role,
           (long long)json_integer_value(json_object_get(arm, "version")),
           (long long)json_integer_value(json_object_get(arm, "predictions")),
           (long long)json_integer_value(json_object_get(arm, "judged")));
    if (json_is_number(acc))
        printf(", live accuracy %.4f\n", json_number_value(acc));
    else
        printf("\n");
}

static void print_status(json_t *doc)
{
    const char *task = json_string_value(json_object_get(doc, "task"));
    json_t *ro = json_object_get(doc, "rollout");
    if (json_is_object(ro)) {
        const char *strategy = json_string_value(json_object_get(ro, "strategy"));
        printf("%s: %s of version %lld beside champion %lld", task, strategy,
               (long long)json_integer_value(json_object_get(ro, "challenger_version")),
               (long long)json_integer_value(json_object_get(ro, "champion_version")));
        if (strcmp(strategy, "canary") == 0)
            printf(", %lld%% of requests",
                   (long long)json_integer_value(json_object_get(ro, "percent")));
        printf(" (rollout %lld, since %s)\n",
               (long long)json_integer_value(json_object_get(ro, "id")),
               json_string_value(json_object_get(ro, "started_at")));
        print_arm("champion", json_object_get(doc, "champion"));
        print_arm(strcmp(strategy, "canary") == 0 ? "canary" : "shadow",
                  json_object_get(doc, "challenger"));
        json_t *ag = json_object_get(doc, "agreement"), *paired = json_object_get(doc, "paired");
        if (ag && json_is_number(json_object_get(ag, "ratio")))
            printf("  agreement %.4f over %lld answers\n",
                   json_number_value(json_object_get(ag, "ratio")),
                   (long long)json_integer_value(json_object_get(ag, "compared")));
        if (paired && json_integer_value(json_object_get(paired, "n")) > 0)
            printf("  on the %lld answers whose truth feedback gave: champion %.4f, shadow %.4f\n",
                   (long long)json_integer_value(json_object_get(paired, "n")),
                   json_number_value(json_object_get(paired, "champion_accuracy")),
                   json_number_value(json_object_get(paired, "challenger_accuracy")));
        json_t *d = json_object_get(doc, "decision");
        if (d) printf("  %s\n", json_string_value(json_object_get(d, "reason")));
    } else {
        printf("%s: no active rollout\n", task);
    }
    json_t *last = json_object_get(doc, "last");
    if (json_is_object(last))
        printf("last: %s\n", json_string_value(json_object_get(last, "outcome")));
}

int cmd_rollout(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"task", 1, "the task (optional with one task)", NULL},
                                {"json", 0, "machine-readable output", NULL},
                                {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 1, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    static const char *const verbs[] = {"status", "check", "stop", "promote"};
    size_t verb = 0;
    while (npos == 1 && verb < 4 && strcmp(pos[0], verbs[verb]) != 0)
        verb++;
    if (npos != 1 || verb == 4) return cli_usage_error(cmd, "say status, check, stop or promote");
    struct cli_env env;
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    int as_json = cli_opt(opts, "json") != NULL;
    struct err e;
    err_clear(&e);
    struct rollout_outcome out;
    memset(&out, 0, sizeof out);
    int ended = 0;
    if (verb == 1)
        ended = rollout_tick(env.st, env.task, &out, &e);
    else if (verb >= 2)
        ended = rollout_finish(env.st, env.task, verb == 2 ? "stopped" : "promoted",
                               verb == 2 ? "stopped from the command line"
                                         : "promoted from the command line",
                               &out, &e);
    struct rollout_report r;
    json_t *doc = NULL;
    if (ended >= 0 && rollout_report_get(env.st, env.task, &r, &e) == 0)
        doc = rollout_report_json(env.st, env.task, &r, &e);
    cli_close(&env);
    if (!doc) return cli_fail(&e);
    if (verb >= 1) {
        json_object_set_new(doc, "ended", json_boolean(ended == 1));
        if (ended == 1) json_object_set_new(doc, "outcome", json_string(out.reason));
    }
    if (!as_json && verb >= 1) {
        if (ended == 1)
            printf("%s: %s%s%s\n", env.task->name, out.reason, out.run_id[0] ? "; run " : "",
                   out.run_id);
        else if (verb > 1 || !r.active)
            printf("%s: no active rollout\n", env.task->name);
        else
            printf("%s: %s\n", env.task->name,
                   r.verdict.reason[0] ? r.verdict.reason : "a shadow is ended by hand");
        json_decref(doc);
    } else if (!as_json) {
        print_status(doc);
        json_decref(doc);
    } else {
        cli_print_json(doc);
    }
    if (verb == 0) return r.active ? EXIT_OK : EXIT_NO;
    return ended == 1 ? EXIT_OK : EXIT_NO;
}
