/* The command line: `boucle [--config FILE] COMMAND [options]`. Exit codes:
 * 0 ok, 1 a negative answer, 2 usage, 3 bad input data, 4 runtime failure. */
#ifndef BOUCLE_CLI_CLI_H
#define BOUCLE_CLI_CLI_H

#include "base/config.h"
#include "store/store.h"

enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_RUNTIME = 4 };

int cli_main(int argc, char **argv);

/* ---- shared by the commands (cli.c, args.c) ---- */

struct cli_option {
    const char *name; /* "task" for --task */
    int takes_value;
    const char *help;
    const char *value; /* filled: the value, or "1" for a flag given */
};

struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* after "boucle NAME " */
    int (*run)(const struct cli_command *cmd, int argc, char **argv);
};

/* Parses argv (after the command name) into opts (terminated by a NULL name);
 * positional arguments are collected in order. Unknown flags print usage on
 * stderr and return -1. --help prints the command's help and returns 1. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_option *opts,
              const char **positional, int max_positional, int *n_positional);
const char *cli_opt(const struct cli_option *opts, const char *name);
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "boucle: <message>" and returns the exit code for e. */
int cli_fail(const struct err *e);

/* The config (from --config, $BOUCLE_CONFIG or ./boucle.yaml), loaded once. */
const struct config *cli_config(struct err *e);
/* Resolves --task: required when the config has several tasks. */
const struct task_config *cli_task(const struct config *cfg, const char *name, struct err *e);
/* What most commands start from: the config, the task named by --task
 * (NULL when not asked for) and an open store. */
struct cli_env {
    const struct config *cfg;
    const struct task_config *task;
    struct store *st;
};
enum { CLI_NO_TASK = 0, CLI_NEED_TASK = 1, CLI_TASK_IF_GIVEN = 2 };
/* Returns 0, or the exit code after printing why (nothing is left open). */
int cli_open(const char *task_name, int task_mode, struct cli_env *env);
void cli_close(struct cli_env *env);
/* Prints a JSON document on stdout, pretty. Steals the reference. */
void cli_print_json(json_t *doc);
/* Who runs this command, for the alias history: "cli:<login name>" (the
 * effective user; "cli:uid <n>" when it has no name). */
const char *cli_actor(void);

/* Runs one pipeline step (enum step_kind) inside a run: prepare/train/evaluate/deploy. */
int cli_step_command(const struct cli_command *cmd, int argc, char **argv, int kind);
/* The same once the options are parsed: in run `given` (prepare starts one
 * when NULL), printing the run id or, as_json, the run; a deploy may be a
 * shadow or canary (rollout, NULL: the task's `rollout:`). Closes env. */
struct rollout_request;
int cli_step_in_run(const struct cli_command *cmd, struct cli_env *env, const char *given, int kind,
                    int as_json, const struct rollout_request *rollout);

/* the commands, one file each */
int cmd_version(const struct cli_command *cmd, int argc, char **argv);
int cmd_import(const struct cli_command *cmd, int argc, char **argv);
int cmd_train(const struct cli_command *cmd, int argc, char **argv);
int cmd_serve(const struct cli_command *cmd, int argc, char **argv);
int cmd_predict(const struct cli_command *cmd, int argc, char **argv);
int cmd_models(const struct cli_command *cmd, int argc, char **argv);
int cmd_runs(const struct cli_command *cmd, int argc, char **argv);
int cmd_datasets(const struct cli_command *cmd, int argc, char **argv);
int cmd_data(const struct cli_command *cmd, int argc, char **argv);
/* `data contract` and `data check FILE` (cmd_data_contract.c), after cmd_data's parsing. */
int cmd_data_contract(const struct cli_command *cmd, struct cli_option *opts, const char *sub,
                      const char *file);
int cmd_check_retrain(const struct cli_command *cmd, int argc, char **argv);
int cmd_retrain(const struct cli_command *cmd, int argc, char **argv);
int cmd_prepare(const struct cli_command *cmd, int argc, char **argv);
int cmd_evaluate(const struct cli_command *cmd, int argc, char **argv);
int cmd_deploy(const struct cli_command *cmd, int argc, char **argv);
int cmd_run(const struct cli_command *cmd, int argc, char **argv);
int cmd_rollback(const struct cli_command *cmd, int argc, char **argv);
int cmd_promote(const struct cli_command *cmd, int argc, char **argv);
int cmd_token(const struct cli_command *cmd, int argc, char **argv);
int cmd_worker(const struct cli_command *cmd, int argc, char **argv);
int cmd_export(const struct cli_command *cmd, int argc, char **argv);
/* export --what features: the champion's feature matrix into dir; closes env. */
int cli_export_features(struct cli_env *env, const char *dir);
int cmd_rollout(const struct cli_command *cmd, int argc, char **argv);
int cmd_simulate(const struct cli_command *cmd, int argc, char **argv);

#endif
