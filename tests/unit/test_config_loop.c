/* Unit tests for the automatic loop's part of base/config (config_loop.c):
 * triggers, pipelines, gate, notify, durations, pipeline files, and that
 * every error names the file, the line and the key path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int load(const char *yaml, struct config *c, struct err *e)
{
    err_clear(e);
    return config_load_string(yaml, strlen(yaml), "boucle.yaml", "/srv/app", c, e);
}

/* Loads yaml expecting failure; checks the message (exactly, or as a substring). */
static void expect_error(const char *yaml, const char *msg, int exact)
{
    struct config c;
    struct err e;
    assert_int_equal(load(yaml, &c, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (exact)
        assert_string_equal(e.msg, msg);
    else if (!strstr(e.msg, msg))
        fail_msg("'%s' not in '%s'", msg, e.msg);
    assert_null(c.tasks);
    config_free(&c);
}

/* 5 lines: the task's own keys start at line 6 */
#define TASK                                                                                       \
    "tasks:\n"                                                                                     \
    "  s:\n"                                                                                       \
    "    type: binary\n"                                                                           \
    "    text: [text]\n"                                                                           \
    "    label: y\n"

static const struct step_config *step(const struct task_config *t, size_t i)
{
    assert_true(i < t->pipeline.n_steps);
    return &t->pipeline.steps[i];
}

static void assert_standard_steps(const struct pipeline_config *p)
{
    static const enum step_kind kinds[] = {STEP_CHECK,    STEP_PREPARE, STEP_TRAIN,
                                           STEP_EVALUATE, STEP_DEPLOY,  STEP_NOTIFY};
    assert_int_equal(p->n_steps, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(p->steps[i].kind, kinds[i]);
        assert_int_equal(p->steps[i].argc, 0);
        assert_null(p->steps[i].argv);
    }
}

static void test_defaults(void **state)
{
    (void)state;
    unsetenv("TZ");
    struct config c;
    struct err e;
    assert_int_equal(load("listen: 0.0.0.0:9000\n" TASK, &c, &e), 0);
    assert_string_equal(c.timezone, "UTC");
    assert_int_equal(c.scheduler_interval_ms, 10000);
    assert_int_equal(c.worker_enabled, 1);
    assert_int_equal(c.worker_lease_ms, 60000);
    assert_string_equal(c.public_url, "http://0.0.0.0:9000");

    const struct task_config *t = &c.tasks[0];
    assert_int_equal(t->n_triggers, 0);
    assert_null(t->triggers);
    assert_standard_steps(&t->pipeline);
    assert_int_equal(t->pipeline.defaults.retries, 0);
    assert_int_equal(t->pipeline.defaults.retry_delay_ms, 5000);
    assert_int_equal(t->pipeline.defaults.timeout_ms, 30 * 60 * 1000);
    assert_int_equal(t->pipeline.defaults.run_if, RUN_IF_SUCCESS);
    for (size_t i = 0; i < 6; i++) {
        const struct step_config *s = step(t, i);
        assert_int_equal(s->opt.retries, 0);
        assert_int_equal(s->opt.retry_delay_ms, 5000);
        assert_int_equal(s->opt.timeout_ms, 1800000);
        assert_int_equal(s->opt.run_if, s->kind == STEP_NOTIFY ? RUN_IF_ALWAYS : RUN_IF_SUCCESS);
        assert_int_equal(s->line, 3); /* the task's line */
    }
    assert_string_equal(t->gate.primary, "f1_macro");
    assert_true(t->gate.min_delta == 0.0);
    assert_true(t->gate.confidence == 0.95);
    assert_string_equal(t->gate.test, "bootstrap");
    assert_int_equal(t->gate.bootstrap_samples, 1000);
    assert_true(t->gate.max_recall_drop == 0.05);
    assert_null(t->notify.webhook_url);
    assert_null(t->notify.smtp_url);
    assert_null(t->notify.email_from);
    assert_int_equal(t->notify.n_email_to, 0);
    assert_int_equal(t->notify.timeout_ms, 10000);
    assert_true(t->feedback_holdout == 0.2);
    assert_int_equal(t->retrain_cooldown_ms, 600000);
    assert_true(t->train_fraction == 1.0);
    assert_int_equal(t->shuffle_labels, 0);
    config_free(&c);

    /* the time zone falls back on TZ (glibc's ':' prefix dropped); listen's default */
    setenv("TZ", ":Europe/Paris", 1);
    assert_int_equal(load(TASK, &c, &e), 0);
    assert_string_equal(c.timezone, "Europe/Paris");
    assert_string_equal(c.public_url, "http://127.0.0.1:8080");
    config_free(&c);
    unsetenv("TZ");
}

static void test_top_level(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml = "timezone: Europe/Paris\n"
                       "scheduler: {interval: 500ms}\n"
                       "worker: {enabled: false, lease: 2m}\n"
                       "public_url: https://boucle.example.com/\n" TASK;
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_string_equal(c.timezone, "Europe/Paris");
    assert_int_equal(c.scheduler_interval_ms, 500);
    assert_int_equal(c.worker_enabled, 0);
    assert_int_equal(c.worker_lease_ms, 120000);
    assert_string_equal(c.public_url, "https://boucle.example.com");
    config_free(&c);
    assert_int_equal(load("timezone: UTC\nworker: {enabled: yes}\n" TASK, &c, &e), 0);
    assert_string_equal(c.timezone, "UTC");
    assert_int_equal(c.worker_enabled, 1);
    config_free(&c);

    expect_error("timezone: Mars/Olympus\n" TASK,
                 "boucle.yaml:1: timezone: unknown time zone 'Mars/Olympus'", 0);
    expect_error("timezone: ../../etc/passwd\n" TASK, "boucle.yaml:1: timezone: unknown time zone",
                 0);
    expect_error("timezone: Europe\n" TASK, "timezone: unknown time zone 'Europe'", 0);
    expect_error("\nscheduler: {interval: 0}\n" TASK,
                 "boucle.yaml:2: scheduler.interval: expected a duration > 0, got '0'", 1);
    expect_error("scheduler: {every: 1s}\n" TASK, "boucle.yaml:1: scheduler.every: unknown key", 1);
    expect_error("worker:\n  enabled: maybe\n" TASK,
                 "boucle.yaml:2: worker.enabled: expected true or false, got 'maybe'", 1);
    expect_error("worker:\n  lease: soon\n" TASK,
                 "boucle.yaml:2: worker.lease: expected a duration like 500ms, 10s, 30m, 2h, 7d "
                 "or a number of seconds, got 'soon'",
                 1);
    expect_error("public_url: ftp://x\n" TASK,
                 "boucle.yaml:1: public_url: expected an http:// or https:// URL, got 'ftp://x'",
                 1);
}

static void test_triggers(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml = TASK "    triggers:\n"
                            "      - feedback_count: 1000\n"
                            "      - satisfaction: {below: 0.80, window: 7d, min_samples: 50}\n"
                            "      - schedule: \"0 2 * * 0\"\n"
                            "      - new_data: true\n"
                            "      - new_data: false\n"
                            "      - satisfaction: {below: 1, window: 3600}\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    const struct task_config *t = &c.tasks[0];
    assert_int_equal(t->n_triggers, 5); /* new_data: false asks for nothing */
    assert_int_equal(t->triggers[0].kind, TRIGGER_FEEDBACK_COUNT);
    assert_int_equal(t->triggers[0].feedback_count, 1000);
    assert_int_equal(t->triggers[0].line, 7);
    assert_int_equal(t->triggers[1].kind, TRIGGER_SATISFACTION);
    assert_true(t->triggers[1].satisfaction_below == 0.80);
    assert_int_equal(t->triggers[1].satisfaction_window_ms, 7LL * 86400 * 1000);
    assert_int_equal(t->triggers[1].satisfaction_min_samples, 50);
    assert_int_equal(t->triggers[1].line, 8);
    assert_int_equal(t->triggers[2].kind, TRIGGER_SCHEDULE);
    assert_string_equal(t->triggers[2].schedule, "0 2 * * 0");
    assert_int_equal(t->triggers[3].kind, TRIGGER_NEW_DATA);
    assert_int_equal(t->triggers[3].line, 10);
    assert_int_equal(t->triggers[4].kind, TRIGGER_SATISFACTION);
    assert_true(t->triggers[4].satisfaction_below == 1.0);
    assert_int_equal(t->triggers[4].satisfaction_window_ms, 3600000);
    assert_int_equal(t->triggers[4].satisfaction_min_samples, 20);
    assert_int_equal(t->triggers[4].line, 12);
    config_free(&c);

    assert_int_equal(load(TASK "    triggers:\n", &c, &e), 0); /* manual only */
    assert_int_equal(c.tasks[0].n_triggers, 0);
    config_free(&c);
    assert_int_equal(load(TASK "    triggers: []\n", &c, &e), 0);
    assert_int_equal(c.tasks[0].n_triggers, 0);
    config_free(&c);

    assert_string_equal(trigger_kind_name(TRIGGER_FEEDBACK_COUNT), "feedback_count");
    assert_string_equal(trigger_kind_name(TRIGGER_SATISFACTION), "satisfaction");
    assert_string_equal(trigger_kind_name(TRIGGER_SCHEDULE), "schedule");
    assert_string_equal(trigger_kind_name(TRIGGER_NEW_DATA), "new_data");
}

static void test_trigger_errors(void **state)
{
    (void)state;
    expect_error(TASK "    triggers:\n      - feedback_count: 10\n"
                      "      - satisfaction: {below: x, window: 7d}\n",
                 "boucle.yaml:8: tasks.s.triggers[1].satisfaction.below: expected a number in (0, "
                 "1], got 'x'",
                 1);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 0, window: 7d}\n",
                 "triggers[0].satisfaction.below: expected a number in (0, 1], got '0'", 0);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 1.01, window: 7d}\n",
                 "triggers[0].satisfaction.below: expected a number in (0, 1]", 0);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 0.5, window: 0s}\n",
                 "boucle.yaml:7: tasks.s.triggers[0].satisfaction.window: expected a duration > "
                 "0, got '0s'",
                 1);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 0.5, window: 1d, "
                      "min_samples: 0}\n",
                 "boucle.yaml:7: tasks.s.triggers[0].satisfaction.min_samples: expected an integer "
                 ">= 1, got '0'",
                 1);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 0.5}\n",
                 "boucle.yaml:7: tasks.s.triggers[0].satisfaction: missing required key 'window'",
                 1);
    expect_error(TASK "    triggers:\n      - satisfaction:\n          window: 1d\n",
                 "boucle.yaml:8: tasks.s.triggers[0].satisfaction: missing required key 'below'",
                 1);
    expect_error(TASK "    triggers:\n      - satisfaction: {below: 0.5, window: 1d, over: 2}\n",
                 "boucle.yaml:7: tasks.s.triggers[0].satisfaction.over: unknown key", 1);
    expect_error(TASK "    triggers:\n      - feedback_count: 0\n",
                 "boucle.yaml:7: tasks.s.triggers[0].feedback_count: expected an integer >= 1, "
                 "got '0'",
                 1);
    expect_error(TASK "    triggers:\n      - feedback_count: -5\n",
                 "tasks.s.triggers[0].feedback_count: expected an integer >= 1, got '-5'", 0);
    expect_error(TASK "    triggers:\n      - schedule: \"0 2 * *\"\n",
                 "boucle.yaml:7: tasks.s.triggers[0].schedule: expected a 5-field cron expression "
                 "(minute hour day month weekday), got '0 2 * *'",
                 1);
    expect_error(TASK "    triggers:\n      - schedule: \"0 2 * * 0 2030\"\n",
                 "triggers[0].schedule: expected a 5-field cron expression", 0);
    expect_error(TASK "    triggers:\n      - schedule: \"\"\n",
                 "triggers[0].schedule: expected a non-empty string", 0);
    expect_error(TASK "    triggers:\n      - new_data: 2\n",
                 "boucle.yaml:7: tasks.s.triggers[0].new_data: expected true or false, got '2'", 1);
    expect_error(TASK "    triggers:\n      - drift: 0.2\n",
                 "boucle.yaml:7: tasks.s.triggers[0]: expected one of feedback_count, "
                 "satisfaction, schedule, new_data, got 'drift'",
                 1);
    expect_error(TASK "    triggers:\n      - new_data\n",
                 "boucle.yaml:7: tasks.s.triggers[0]: expected a one-key mapping like "
                 "'feedback_count: 1000', got a scalar",
                 1);
    expect_error(TASK "    triggers:\n      - {feedback_count: 5, new_data: true}\n",
                 "tasks.s.triggers[0]: expected a one-key mapping like 'feedback_count: 1000', "
                 "got several keys",
                 0);
    expect_error(TASK "    triggers: {feedback_count: 5}\n",
                 "boucle.yaml:6: tasks.s.triggers: expected a list, got a mapping", 1);
}

static void test_pipeline(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml =
        TASK "    pipeline:\n"
             "      steps: [check, prepare, train, evaluate, deploy, {notify: {run_if: always}}, "
             "{command: {argv: [python3, finetune.py, --fast], timeout: 2h, retries: 2}}]\n"
             "      defaults: {retries: 1, retry_delay: 5s, timeout: 30m, run_if: success}\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    const struct task_config *t = &c.tasks[0];
    assert_int_equal(t->pipeline.n_steps, 7);
    assert_int_equal(t->pipeline.defaults.retries, 1);
    assert_int_equal(t->pipeline.defaults.retry_delay_ms, 5000);
    assert_int_equal(t->pipeline.defaults.timeout_ms, 1800000);
    assert_int_equal(t->pipeline.defaults.run_if, RUN_IF_SUCCESS);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(step(t, i)->kind, (enum step_kind)i);
        assert_int_equal(step(t, i)->opt.retries, 1);
        assert_int_equal(step(t, i)->opt.run_if, RUN_IF_SUCCESS);
        assert_int_equal(step(t, i)->line, 7);
    }
    assert_int_equal(step(t, 5)->kind, STEP_NOTIFY);
    assert_int_equal(step(t, 5)->opt.run_if, RUN_IF_ALWAYS);
    assert_int_equal(step(t, 5)->opt.retries, 1);
    const struct step_config *cmd = step(t, 6);
    assert_int_equal(cmd->kind, STEP_COMMAND);
    assert_int_equal(cmd->argc, 3);
    assert_string_equal(cmd->argv[0], "python3");
    assert_string_equal(cmd->argv[1], "finetune.py");
    assert_string_equal(cmd->argv[2], "--fast");
    /* overrides field by field: timeout and retries its own, the rest the defaults' */
    assert_int_equal(cmd->opt.timeout_ms, 2 * 3600 * 1000);
    assert_int_equal(cmd->opt.retries, 2);
    assert_int_equal(cmd->opt.retry_delay_ms, 5000);
    assert_int_equal(cmd->opt.run_if, RUN_IF_SUCCESS);
    config_free(&c);

    /* one step per line, a run string, a failure handler, empty options */
    yaml = TASK "    pipeline:\n"
                "      steps:\n"
                "        - train:\n"
                "            timeout: 0\n"
                "        - command:\n"
                "            run: \"python3 x.py > out.txt\"\n"
                "            retry_delay: 250ms\n"
                "        - notify: {run_if: failure}\n"
                "        - notify\n"
                "        - deploy:\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    t = &c.tasks[0];
    assert_int_equal(t->pipeline.n_steps, 5);
    assert_int_equal(step(t, 0)->kind, STEP_TRAIN);
    assert_int_equal(step(t, 0)->opt.timeout_ms, 0); /* none */
    assert_int_equal(step(t, 0)->line, 8);
    assert_int_equal(step(t, 1)->kind, STEP_COMMAND);
    assert_int_equal(step(t, 1)->line, 10);
    assert_int_equal(step(t, 1)->argc, 3);
    assert_string_equal(step(t, 1)->argv[0], "/bin/sh");
    assert_string_equal(step(t, 1)->argv[1], "-c");
    assert_string_equal(step(t, 1)->argv[2], "python3 x.py > out.txt");
    assert_int_equal(step(t, 1)->opt.retry_delay_ms, 250);
    assert_int_equal(step(t, 1)->opt.timeout_ms, 1800000);
    assert_int_equal(step(t, 2)->opt.run_if, RUN_IF_FAILURE);
    assert_int_equal(step(t, 3)->opt.run_if, RUN_IF_ALWAYS);
    assert_int_equal(step(t, 4)->kind, STEP_DEPLOY);
    assert_int_equal(step(t, 4)->opt.run_if, RUN_IF_SUCCESS);
    config_free(&c);

    /* defaults without steps: the standard steps with those defaults;
     * a run_if in defaults applies to notify too */
    yaml = TASK "    pipeline:\n      defaults: {retries: 3, run_if: always}\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    t = &c.tasks[0];
    assert_standard_steps(&t->pipeline);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(step(t, i)->opt.retries, 3);
        assert_int_equal(step(t, i)->opt.run_if, RUN_IF_ALWAYS);
        assert_int_equal(step(t, i)->opt.timeout_ms, 1800000);
    }
    config_free(&c);
    yaml = TASK "    pipeline:\n      defaults: {run_if: success}\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_int_equal(step(&c.tasks[0], 5)->opt.run_if, RUN_IF_SUCCESS);
    config_free(&c);
    assert_int_equal(load(TASK "    pipeline:\n", &c, &e), 0);
    assert_standard_steps(&c.tasks[0].pipeline);
    assert_int_equal(step(&c.tasks[0], 5)->opt.run_if, RUN_IF_ALWAYS);
    config_free(&c);

    assert_string_equal(step_kind_name(STEP_CHECK), "check");
    assert_string_equal(step_kind_name(STEP_EVALUATE), "evaluate");
    assert_string_equal(step_kind_name(STEP_COMMAND), "command");
    assert_string_equal(run_if_name(RUN_IF_SUCCESS), "success");
    assert_string_equal(run_if_name(RUN_IF_ALWAYS), "always");
    assert_string_equal(run_if_name(RUN_IF_FAILURE), "failure");
}

static void test_pipeline_errors(void **state)
{
    (void)state;
    expect_error(TASK "    pipeline:\n      steps: [check, trian]\n",
                 "boucle.yaml:7: tasks.s.pipeline.steps[1]: expected one of check, prepare, "
                 "train, evaluate, deploy, notify, command, got 'trian'",
                 1);
    expect_error(TASK "    pipeline:\n      steps: [command]\n",
                 "boucle.yaml:7: tasks.s.pipeline.steps[0]: a command step needs 'argv' (a list) "
                 "or 'run' (a shell command)",
                 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - command: {timeout: 1m}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].command: a command step needs 'argv'",
                 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - command: {argv: [a], run: b}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].command.run: give either 'argv' or "
                 "'run', not both",
                 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - command: {argv: []}\n",
                 "tasks.s.pipeline.steps[0].command.argv: expected at least the program to run", 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - command: {argv: [python3, [x]]}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].command.argv[1]: expected a scalar, got "
                 "a list",
                 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - command: {argv: python3}\n",
                 "tasks.s.pipeline.steps[0].command.argv: expected a list, got a scalar", 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: {argv: [x]}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].train.argv: only a command step runs a "
                 "program",
                 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: {retries: -1}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].train.retries: expected an integer >= "
                 "0, got '-1'",
                 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: {timeout: 5y}\n",
                 "tasks.s.pipeline.steps[0].train.timeout: expected a duration", 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: {run_if: never}\n",
                 "tasks.s.pipeline.steps[0].train.run_if: expected one of success, always, "
                 "failure, got 'never'",
                 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: {retry: 1}\n",
                 "boucle.yaml:8: tasks.s.pipeline.steps[0].train.retry: unknown key", 1);
    expect_error(TASK "    pipeline:\n      steps:\n        - train: 3\n",
                 "tasks.s.pipeline.steps[0].train: expected a mapping, got a scalar", 0);
    expect_error(TASK "    pipeline:\n      steps:\n        - {train: {}, deploy: {}}\n",
                 "tasks.s.pipeline.steps[0]: expected a one-key mapping", 0);
    expect_error(TASK "    pipeline:\n      steps: []\n",
                 "boucle.yaml:7: tasks.s.pipeline.steps: expected at least one step", 1);
    expect_error(TASK "    pipeline:\n      defaults: {argv: [x]}\n",
                 "boucle.yaml:7: tasks.s.pipeline.defaults.argv: unknown key", 1);
    expect_error(TASK "    pipeline:\n      defaults:\n        retry_delay: -5s\n",
                 "boucle.yaml:8: tasks.s.pipeline.defaults.retry_delay: expected a duration", 0);
    expect_error(TASK "    pipeline:\n      stages: [train]\n",
                 "boucle.yaml:7: tasks.s.pipeline.stages: unknown key", 1);
    expect_error(TASK "    pipeline: [train]\n",
                 "boucle.yaml:6: tasks.s.pipeline: expected a mapping, got a list", 1);
}

static void test_gate_notify_knobs(void **state)
{
    (void)state;
    struct config c;
    struct err e;
    const char *yaml =
        TASK "    gate: {primary: accuracy, min_delta: 0.01, confidence: 0.99, test: mcnemar, "
             "bootstrap_samples: 100000, max_recall_drop: 0}\n"
             "    notify: {webhook: \"http://127.0.0.1:9999/hook\", smtp: "
             "\"smtp://127.0.0.1:2525\", email_from: boucle@localhost, email_to: "
             "[ops@example.com, dev@example.com], timeout: 3s}\n"
             "    feedback_holdout: 0\n"
             "    retrain_cooldown: 0\n"
             "    train_fraction: 0.01\n"
             "    shuffle_labels: true\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    const struct task_config *t = &c.tasks[0];
    assert_string_equal(t->gate.primary, "accuracy");
    assert_true(t->gate.min_delta == 0.01);
    assert_true(t->gate.confidence == 0.99);
    assert_string_equal(t->gate.test, "mcnemar");
    assert_int_equal(t->gate.bootstrap_samples, 100000);
    assert_true(t->gate.max_recall_drop == 0.0);
    assert_string_equal(t->notify.webhook_url, "http://127.0.0.1:9999/hook");
    assert_string_equal(t->notify.smtp_url, "smtp://127.0.0.1:2525");
    assert_string_equal(t->notify.email_from, "boucle@localhost");
    assert_int_equal(t->notify.n_email_to, 2);
    assert_string_equal(t->notify.email_to[0], "ops@example.com");
    assert_string_equal(t->notify.email_to[1], "dev@example.com");
    assert_int_equal(t->notify.timeout_ms, 3000);
    assert_true(t->feedback_holdout == 0.0);
    assert_int_equal(t->retrain_cooldown_ms, 0);
    assert_true(t->train_fraction == 0.01);
    assert_int_equal(t->shuffle_labels, 1);
    config_free(&c);

    yaml = TASK "    notify:\n"
                "      smtp: smtps://mail.example.com:465\n"
                "      email_from: a@b\n"
                "      email_to: ops@example.com\n"
                "    gate: {primary: recall_macro}\n"
                "    feedback_holdout: 0.9\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    t = &c.tasks[0];
    assert_null(t->notify.webhook_url);
    assert_int_equal(t->notify.n_email_to, 1);
    assert_string_equal(t->notify.email_to[0], "ops@example.com");
    assert_string_equal(t->gate.primary, "recall_macro");
    assert_string_equal(t->gate.test, "bootstrap");
    assert_true(t->feedback_holdout == 0.9);
    config_free(&c);

    expect_error(TASK "    gate: {primary: auc}\n",
                 "boucle.yaml:6: tasks.s.gate.primary: expected one of accuracy, f1_macro, "
                 "f1_weighted, precision_macro, recall_macro, f1_micro, precision_micro, "
                 "recall_micro, f1_samples, got 'auc'",
                 1);
    /* a multilabel task's default is f1_micro, whatever the order of its keys */
    yaml = "tasks:\n  m:\n    text: [text]\n    label: tags\n    type: multilabel\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_string_equal(c.tasks[0].gate.primary, "f1_micro");
    config_free(&c);
    yaml = "tasks:\n  m:\n    gate: {primary: f1_samples}\n    type: multilabel\n"
           "    text: [text]\n    label: tags\n";
    assert_int_equal(load(yaml, &c, &e), 0);
    assert_string_equal(c.tasks[0].gate.primary, "f1_samples");
    config_free(&c);
    expect_error(TASK "    gate: {test: ttest}\n",
                 "tasks.s.gate.test: expected one of bootstrap, mcnemar, got 'ttest'", 0);
    expect_error(TASK "    gate: {confidence: 0.5}\n",
                 "boucle.yaml:6: tasks.s.gate.confidence: expected a number in (0.5, 1), got "
                 "'0.5'",
                 1);
    expect_error(TASK "    gate: {confidence: 1}\n", "tasks.s.gate.confidence", 0);
    expect_error(TASK "    gate: {bootstrap_samples: 99}\n",
                 "boucle.yaml:6: tasks.s.gate.bootstrap_samples: expected an integer from 100 to "
                 "100000, got '99'",
                 1);
    expect_error(TASK "    gate: {bootstrap_samples: 100001}\n", "gate.bootstrap_samples", 0);
    expect_error(TASK "    gate: {max_recall_drop: 1.5}\n",
                 "tasks.s.gate.max_recall_drop: expected a number in [0, 1], got '1.5'", 0);
    expect_error(TASK "    gate: {min_delta: -0.1}\n",
                 "tasks.s.gate.min_delta: expected a number in [0, 1], got '-0.1'", 0);
    expect_error(TASK "    gate: {min_delta: nan}\n", "tasks.s.gate.min_delta", 0);
    expect_error(TASK "    gate: {guard: x}\n", "boucle.yaml:6: tasks.s.gate.guard: unknown key",
                 1);

    expect_error(TASK "    notify: {webhook: \"127.0.0.1:9999\"}\n",
                 "boucle.yaml:6: tasks.s.notify.webhook: expected an http:// or https:// URL, got "
                 "'127.0.0.1:9999'",
                 1);
    expect_error(TASK "    notify: {smtp: \"http://x\", email_from: a@b, email_to: c@d}\n",
                 "tasks.s.notify.smtp: expected an smtp:// or smtps:// URL, got 'http://x'", 0);
    expect_error(TASK "    notify:\n      smtp: smtp://x\n      email_to: [c@d]\n",
                 "boucle.yaml:7: tasks.s.notify: e-mail needs smtp, email_from and email_to; "
                 "missing email_from",
                 1);
    expect_error(TASK "    notify: {email_to: c@d}\n",
                 "tasks.s.notify: e-mail needs smtp, email_from and email_to; missing smtp, "
                 "email_from",
                 0);
    expect_error(TASK "    notify: {smtp: smtp://x, email_from: a@b, email_to: []}\n",
                 "tasks.s.notify.email_to: expected at least one address", 0);
    expect_error(TASK "    notify: {smtp: smtp://x, email_from: a@b, email_to: [c@d, ops]}\n",
                 "boucle.yaml:6: tasks.s.notify.email_to[1]: expected an e-mail address like "
                 "ops@example.com, got 'ops'",
                 1);
    expect_error(TASK "    notify: {timeout: 0}\n",
                 "tasks.s.notify.timeout: expected a duration > 0", 0);
    expect_error(TASK "    notify: {slack: x}\n", "tasks.s.notify.slack: unknown key", 0);

    expect_error(TASK "    feedback_holdout: 0.95\n",
                 "boucle.yaml:6: tasks.s.feedback_holdout: expected a number in [0, 0.9], got "
                 "'0.95'",
                 1);
    expect_error(TASK "    train_fraction: 0\n",
                 "boucle.yaml:6: tasks.s.train_fraction: expected a number in (0, 1], got '0'", 1);
    expect_error(TASK "    train_fraction: 1.0001\n", "tasks.s.train_fraction", 0);
    expect_error(TASK "    retrain_cooldown: -1m\n",
                 "boucle.yaml:6: tasks.s.retrain_cooldown: expected a duration", 0);
    expect_error(TASK "    shuffle_labels: 1\n",
                 "boucle.yaml:6: tasks.s.shuffle_labels: expected true or false, got '1'", 1);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"500ms", 500},
        {"0", 0},
        {"0ms", 0},
        {"10", 10000},
        {"10s", 10000},
        {"30m", 1800000},
        {"2h", 7200000},
        {"7d", 604800000},
        {"007s", 7000},
        {"9223372036854775807ms", INT64_MAX},
        {"9223372036854775s", 9223372036854775000LL},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        if (config_parse_duration(good[i].text, &ms)) fail_msg("'%s' rejected", good[i].text);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {
        "",
        "-1",
        "-5s",
        "+5s",
        " 5s",
        "5s ",
        "5 s",
        "s",
        "ms",
        "1.5h",
        "5sec",
        "5S",
        "5w",
        "1e3",
        "0x10",
        "abc",
        "5ss",
        "9223372036854775808ms",
        "9223372036854776s",
        "106751991167301d",
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        if (!config_parse_duration(bad[i], &ms)) fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(ms, 42); /* untouched on failure */
    }
    int64_t ms;
    assert_int_equal(config_parse_duration(NULL, &ms), -1);
}

/* ---- pipeline files ------------------------------------------------------ */

static char tmp_path[64];

static const char *write_tmp(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/boucle_pipeline_XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static void load_config(struct config *c)
{
    struct err e;
    assert_int_equal(load(TASK "  other:\n    type: binary\n    text: t\n    label: y\n", c, &e),
                     0);
}

static void expect_pipeline_error(const char *yaml, const char *msg, int exact)
{
    struct config c;
    load_config(&c);
    const char *path = write_tmp(yaml);
    struct pipeline_file p;
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load_pipeline(path, &c, &p, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    char want[600];
    snprintf(want, sizeof want, "%s%s", exact ? path : "", msg);
    if (exact)
        assert_string_equal(e.msg, want);
    else if (!strstr(e.msg, msg))
        fail_msg("'%s' not in '%s'", msg, e.msg);
    assert_null(p.task);
    assert_null(p.pipeline.steps);
    pipeline_file_free(&p);
    unlink(path);
    config_free(&c);
}

static void test_pipeline_file(void **state)
{
    (void)state;
    struct config c;
    load_config(&c);
    struct pipeline_file p;
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load_pipeline("fixtures/pipeline_evaluate.yaml", &c, &p, &e), 0);
    assert_string_equal(p.task, "s");
    assert_int_equal(p.pipeline.defaults.retries, 1);
    assert_int_equal(p.pipeline.defaults.timeout_ms, 600000);
    assert_int_equal(p.pipeline.n_steps, 3);
    assert_int_equal(p.pipeline.steps[0].kind, STEP_EVALUATE);
    assert_int_equal(p.pipeline.steps[0].opt.retries, 1);
    assert_int_equal(p.pipeline.steps[0].opt.timeout_ms, 600000);
    assert_int_equal(p.pipeline.steps[0].line, 5);
    assert_int_equal(p.pipeline.steps[1].kind, STEP_NOTIFY);
    assert_int_equal(p.pipeline.steps[1].opt.run_if, RUN_IF_ALWAYS);
    assert_int_equal(p.pipeline.steps[2].kind, STEP_COMMAND);
    assert_int_equal(p.pipeline.steps[2].argc, 2);
    assert_string_equal(p.pipeline.steps[2].argv[0], "python3");
    assert_string_equal(p.pipeline.steps[2].argv[1], "x.py");
    assert_int_equal(p.pipeline.steps[2].opt.run_if, RUN_IF_FAILURE);
    pipeline_file_free(&p);
    pipeline_file_free(&p); /* harmless twice */

    /* no defaults: the built-in ones */
    const char *path = write_tmp("steps: [train]\ntask: other\n");
    assert_int_equal(config_load_pipeline(path, &c, &p, &e), 0);
    assert_string_equal(p.task, "other");
    assert_int_equal(p.pipeline.n_steps, 1);
    assert_int_equal(p.pipeline.steps[0].kind, STEP_TRAIN);
    assert_int_equal(p.pipeline.steps[0].opt.timeout_ms, 1800000);
    assert_int_equal(p.pipeline.steps[0].opt.retry_delay_ms, 5000);
    pipeline_file_free(&p);
    unlink(path);

    assert_int_equal(config_load_pipeline("fixtures/nope.yaml", &c, &p, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_string_equal(e.msg,
                        "cannot read pipeline 'fixtures/nope.yaml': No such file or directory");
    config_free(&c);

    expect_pipeline_error("task: s\n", ":1: missing required key 'steps'", 1);
    expect_pipeline_error("steps: [train]\n", ":1: missing required key 'task'", 1);
    expect_pipeline_error("task: t\nsteps: [train]\n", ":1: task: no task 't' in boucle.yaml", 1);
    expect_pipeline_error("task: s\nsteps:\n  - train\n  - command: {retries: 1}\n",
                          ":4: steps[1].command: a command step needs 'argv' (a list) or 'run' (a "
                          "shell command)",
                          1);
    expect_pipeline_error("task: s\ndefaults: {timeout: forever}\nsteps: [train]\n",
                          ":2: defaults.timeout: expected a duration", 0);
    expect_pipeline_error("task: s\nsteps: [train]\nschedule: x\n", ":3: schedule: unknown key", 1);
    expect_pipeline_error("task: s\nsteps: []\n", ":2: steps: expected at least one step", 1);
    expect_pipeline_error("", ": empty pipeline file; expected 'task' and 'steps'", 1);
    expect_pipeline_error("[train]\n", ":1: expected a mapping at the top, got a list", 1);
    expect_pipeline_error("task: s\nsteps: [train\n", "invalid YAML", 0);
    expect_pipeline_error("task: s\nsteps: [train]\n---\ntask: s\n",
                          ":4: only one YAML document is allowed", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_top_level),
        cmocka_unit_test(test_triggers),          cmocka_unit_test(test_trigger_errors),
        cmocka_unit_test(test_pipeline),          cmocka_unit_test(test_pipeline_errors),
        cmocka_unit_test(test_gate_notify_knobs), cmocka_unit_test(test_durations),
        cmocka_unit_test(test_pipeline_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
