/* The loop from the command line, for cron, CI or any orchestrator:
 *   boucle check-retrain --task T        exit 0 needed (says why), 1 not needed
 *   boucle retrain --task T [--if-needed] the whole pipeline now; 0 deployed, 1 kept, 4 failed
 *   boucle prepare|evaluate|deploy --task T [--run ID]   one step at a time
 *   boucle run PIPELINE.yaml             a standalone pipeline
 *   boucle promote --task T --version V [--force]   champion <- V, previous <- champion
 *   boucle rollback --task T             champion <- previous
 *   boucle worker                        claim and run queued jobs until SIGTERM */
#include "cli/cli.h"

#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "loop/check.h"
#include "loop/pipeline.h"
#include "loop/steps.h"
#include "loop/worker.h"
#include "track/registry.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_task_opts(const struct cli_command *cmd, int argc, char **argv,
                           struct cli_option *opts, const char **pos, int max_pos, int *npos,
                           struct cli_env *env)
{
    int rc = cli_parse(cmd, argc, argv, opts, pos, max_pos, npos);
    if (rc) return rc < 0 ? EXIT_USAGE : -1;
    return cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, env);
}

/* ---- check-retrain ---- */

int cmd_check_retrain(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"task", 1, "the task (optional with one task)", NULL},
                                {"json", 0, "machine-readable output", NULL},
                                {0}};
    const char *pos[1];
    int npos;
    struct cli_env env;
    int rc = parse_task_opts(cmd, argc, argv, opts, pos, 0, &npos, &env);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    struct err e;
    err_clear(&e);
    struct check_result r;
    rc = check_retrain(env.st, env.task, time_now_ms(), 1, &r, &e);
    cli_close(&env);
    if (rc != 0) {
        check_result_free(&r);
        return cli_fail(&e);
    }
    char *summary = check_result_summary(&r);
    if (cli_opt(opts, "json"))
        cli_print_json(json_pack("{s:s,s:b,s:s?,s:b,s:O,s:O}", "task", env.task->name, "needed",
                                 r.needed, "trigger", r.trigger[0] ? r.trigger : NULL,
                                 "in_cooldown", r.in_cooldown, "fired", r.fired, "quiet", r.quiet));
    else
        printf("%s: retrain %s: %s\n", env.task->name, r.needed ? "needed" : "not needed", summary);
    free(summary);
    int needed = r.needed;
    check_result_free(&r);
    return needed ? EXIT_OK : EXIT_NO;
}

/* ---- retrain: queue the job, then see it through ---- */

static json_t *wait_for_run(struct store *st, const struct config *cfg, const char *run_id,
                            struct err *e)
{
    char worker_id[64];
    snprintf(worker_id, sizeof worker_id, "cli-%d", (int)getpid());
    for (;;) {
        json_t *run = store_run_get(st, run_id, e);
        if (!run) return NULL;
        const char *status = json_string_value(json_object_get(run, "status"));
        if (status && strcmp(status, "pending") && strcmp(status, "running")) return run;
        json_decref(run);
        /* run queued jobs here; another worker may have taken ours: then wait for it */
        int ran = worker_run_one(st, cfg, worker_id, e);
        if (ran < 0) return NULL;
        if (ran == 0) time_sleep_ms(200);
    }
}

static int report_run(json_t *run, int as_json)
{
    const char *status = json_string_value(json_object_get(run, "status"));
    json_t *state = json_object_get(run, "state");
    json_t *decision = json_object_get(state, "decision");
    int deployed = json_is_true(json_object_get(state, "deployed")) &&
                   !json_is_true(json_object_get(state, "first_version"));
    int first = json_is_true(json_object_get(state, "first_version"));
    json_t *rollout = json_object_get(state, "rollout"); /* a shadow or canary started */
    if (as_json) {
        cli_print_json(json_incref(run));
    } else {
        printf("run %s: %s\n", json_string_value(json_object_get(run, "id")), status);
        json_t *stop = json_object_get(state, "stop");
        if (stop) printf("  %s\n", json_string_value(stop));
        if (first)
            printf("  version %lld is the task's first model: champion\n",
                   (long long)json_integer_value(json_object_get(state, "challenger_version")));
        size_t i;
        json_t *reason;
        json_array_foreach(json_object_get(decision, "reasons"), i, reason)
            printf("  %s\n", json_string_value(reason));
        if (rollout)
            printf("  version %lld now in %s beside the champion (rollout %lld): `boucle rollout "
                   "status` follows it\n",
                   (long long)json_integer_value(json_object_get(rollout, "version")),
                   json_string_value(json_object_get(rollout, "strategy")),
                   (long long)json_integer_value(json_object_get(rollout, "id")));
        else if (decision && !first)
            printf("  %s\n", deployed ? "deployed: the challenger is now the champion"
                                      : "not deployed: the champion stays");
        json_t *steps = json_object_get(run, "steps");
        json_t *step;
        json_array_foreach(steps, i, step)
        {
            json_t *error = json_object_get(step, "error");
            printf("  step %-8s %s%s%s\n", json_string_value(json_object_get(step, "name")),
                   json_string_value(json_object_get(step, "status")), error ? ": " : "",
                   error ? json_string_value(error) : "");
        }
    }
    if (!status || strcmp(status, "completed") != 0) return EXIT_RUNTIME;
    return deployed || first || rollout ? EXIT_OK : EXIT_NO;
}

int cmd_retrain(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"task", 1, "the task (optional with one task)", NULL},
                                {"if-needed", 0, "stop early unless a trigger fires", NULL},
                                {"json", 0, "machine-readable output (the run)", NULL},
                                {0}};
    const char *pos[1];
    int npos;
    struct cli_env env;
    int rc = parse_task_opts(cmd, argc, argv, opts, pos, 0, &npos, &env);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    struct err e;
    err_clear(&e);
    const char *payload = cli_opt(opts, "if-needed") ? "{\"if_needed\":true}" : "{}";
    char run_id[40];
    if (store_job_enqueue(env.st, env.task->name, "retrain", "manual", payload, run_id, &e) != 0) {
        cli_close(&env);
        return cli_fail(&e);
    }
    fprintf(stderr, "retrain queued as run %s\n", run_id);
    json_t *run = wait_for_run(env.st, env.cfg, run_id, &e);
    cli_close(&env);
    if (!run) return cli_fail(&e);
    rc = report_run(run, cli_opt(opts, "json") != NULL);
    json_decref(run);
    return rc;
}

/* ---- one step at a time ---- */

int cli_step_command(const struct cli_command *cmd, int argc, char **argv, int kind)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"run", 1, "the run to continue (prepare starts a new one when omitted)", NULL},
        {"json", 0, "machine-readable output (the run)", NULL},
        {0}};
    const char *pos[1];
    int npos;
    struct cli_env env;
    int rc = parse_task_opts(cmd, argc, argv, opts, pos, 0, &npos, &env);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    return cli_step_in_run(cmd, &env, cli_opt(opts, "run"), kind, cli_opt(opts, "json") != NULL,
                           NULL);
}

int cli_step_in_run(const struct cli_command *cmd, struct cli_env *envp, const char *given,
                    int kind, int as_json, const struct rollout_request *rollout)
{
    struct cli_env env = *envp;
    int rc;
    struct err e;
    err_clear(&e);
    char run_id[UUID_STR_LEN];
    if (given) {
        snprintf(run_id, sizeof run_id, "%s", given);
    } else if (kind == STEP_PREPARE) {
        uuid_v4(run_id);
        if (store_run_create(env.st, run_id, env.task->name, "steps", NULL, &e) != 0) {
            cli_close(&env);
            return cli_fail(&e);
        }
    } else {
        cli_close(&env);
        return cli_usage_error(cmd, "--run RUN_ID is required (the id `boucle prepare` printed)");
    }
    json_t *run = store_run_get(env.st, run_id, &e);
    if (!run) {
        cli_close(&env);
        return cli_fail(&e);
    }
    json_t *state = json_object_get(run, "state");
    json_t *own = json_is_object(state) ? json_deep_copy(state) : json_object();
    json_decref(run);
    struct step_ctx c = {.st = env.st,
                         .cfg = env.cfg,
                         .task = env.task,
                         .run_id = run_id,
                         .state = own,
                         .actor = cli_actor(),
                         .rollout = rollout};
    rc = step_run_builtin((enum step_kind)kind, &c, &e);
    int negative = 0;
    if (rc == 0 && kind == STEP_EVALUATE)
        negative = !json_is_true(json_object_get(json_object_get(own, "decision"), "deploy"));
    json_decref(own);
    struct err ignored;
    err_clear(&ignored);
    if (rc != 0) {
        store_run_log(env.st, run_id, e.msg, &ignored);
        store_run_finish(env.st, run_id, "failed", NULL, &ignored);
    } else if (kind == STEP_DEPLOY) {
        store_run_finish(env.st, run_id, "completed", NULL, &ignored);
    }
    run = rc == 0 ? store_run_get(env.st, run_id, &e) : NULL;
    cli_close(&env);
    if (rc != 0) return cli_fail(&e);
    if (as_json)
        cli_print_json(run);
    else {
        printf("%s\n", run_id);
        json_decref(run);
    }
    return negative ? EXIT_NO : EXIT_OK;
}

int cmd_prepare(const struct cli_command *cmd, int argc, char **argv)
{
    return cli_step_command(cmd, argc, argv, STEP_PREPARE);
}

int cmd_evaluate(const struct cli_command *cmd, int argc, char **argv)
{
    return cli_step_command(cmd, argc, argv, STEP_EVALUATE);
}

/* ---- run PIPELINE.yaml ---- */

int cmd_run(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"json", 0, "machine-readable output (the run)", NULL}, {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 1, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    if (npos != 1) return cli_usage_error(cmd, "run needs one PIPELINE.yaml");
    struct err e;
    err_clear(&e);
    const struct config *cfg = cli_config(&e);
    if (!cfg) return cli_fail(&e);
    struct pipeline_file pf;
    if (config_load_pipeline(pos[0], cfg, &pf, &e) != 0) return cli_fail(&e);
    struct cli_env env;
    if ((rc = cli_open(pf.task, CLI_NEED_TASK, &env)) != 0) {
        pipeline_file_free(&pf);
        return rc;
    }
    char run_id[UUID_STR_LEN];
    uuid_v4(run_id);
    json_t *run = NULL;
    struct pipeline_result res;
    if (store_run_create(env.st, run_id, env.task->name, "pipeline", NULL, &e) == 0 &&
        pipeline_run(env.st, env.cfg, env.task, &pf.pipeline, run_id, NULL, NULL, &res, &e) == 0)
        run = store_run_get(env.st, run_id, &e);
    cli_close(&env);
    pipeline_file_free(&pf);
    if (!run) return cli_fail(&e);
    rc = report_run(run, cli_opt(opts, "json") != NULL);
    json_decref(run);
    return rc == EXIT_NO ? EXIT_OK : rc; /* a pipeline without deploy is no refusal */
}

/* ---- rollback ---- */

int cmd_rollback(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"task", 1, "the task (optional with one task)", NULL},
                                {"json", 0, "machine-readable output", NULL},
                                {0}};
    const char *pos[1];
    int npos;
    struct cli_env env;
    int rc = parse_task_opts(cmd, argc, argv, opts, pos, 0, &npos, &env);
    if (rc) return rc < 0 ? EXIT_OK : rc;
    struct err e;
    err_clear(&e);
    int64_t serving = 0;
    rc = store_alias_rollback(env.st, env.task->name, "rollback from the command line", cli_actor(),
                              &serving, &e);
    cli_close(&env);
    if (rc != 0) return cli_fail(&e);
    if (cli_opt(opts, "json"))
        cli_print_json(
            json_pack("{s:s,s:I}", "task", env.task->name, "champion", (json_int_t)serving));
    else
        printf("%s: champion is now version %lld (servers switch within a second)\n",
               env.task->name, (long long)serving);
    return EXIT_OK;
}

/* ---- promote ---- */

int cmd_promote(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"task", 1, "the task (optional with one task)", NULL},
        {"version", 1, "the model version to serve", NULL},
        {"force", 0, "promote even an archived version or one that scored below the champion",
         NULL},
        {"reason", 1, "why, kept in the alias history (default: promoted from the command line)",
         NULL},
        {"json", 0, "machine-readable output", NULL},
        {0}};
    const char *pos[1];
    int npos;
    struct cli_env env;
    int rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    int64_t version;
    if (registry_parse_version(cli_opt(opts, "version"), &version) != 0)
        return cli_usage_error(cmd, "--version must be a positive version number");
    if ((rc = cli_open(cli_opt(opts, "task"), CLI_NEED_TASK, &env)) != 0) return rc;
    struct err e;
    err_clear(&e);
    const char *reason = cli_opt(opts, "reason");
    struct registry_promotion p = {
        .primary = env.task->gate.primary,
        .force = cli_opt(opts, "force") != NULL,
        .reason = reason ? reason : "promoted from the command line",
        .actor = cli_actor(),
    };
    int64_t previous = 0;
    rc = registry_promote(env.st, env.task->name, version, &p, &previous, &e);
    cli_close(&env);
    if (rc != 0) return cli_fail(&e);
    if (cli_opt(opts, "json"))
        cli_print_json(json_pack("{s:s,s:I,s:o}", "task", env.task->name, "champion",
                                 (json_int_t)version, "previous",
                                 previous ? json_integer((json_int_t)previous) : json_null()));
    else
        printf("%s: champion is now version %lld (servers switch within a second)\n",
               env.task->name, (long long)version);
    return EXIT_OK;
}

/* ---- worker ---- */

static volatile sig_atomic_t worker_stop;
static void on_stop_signal(int sig)
{
    (void)sig;
    worker_stop = 1;
}

int cmd_worker(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{"id", 1, "this worker's name in the job queue", NULL}, {0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    struct err e;
    err_clear(&e);
    const struct config *cfg = cli_config(&e);
    if (!cfg) return cli_fail(&e);
    char id[128];
    char host[64] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s", cli_opt(opts, "id") ? cli_opt(opts, "id") : "");
    if (!id[0]) snprintf(id, sizeof id, "%s-%d", host, (int)getpid());
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (worker_loop(cfg, id, &worker_stop, &e) != 0) return cli_fail(&e);
    return EXIT_OK;
}
