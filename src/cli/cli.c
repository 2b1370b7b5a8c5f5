#include "cli/cli.h"

#include "base/version.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct cli_command commands[] = {
    {"import", "import labeled examples from a CSV or JSONL file",
     "--task T FILE [--split train|test] [--format csv|jsonl] [--force] [--json]", cmd_import},
    {"train", "train a model version on the task's examples and measure it", "--task T [--json]",
     cmd_train},
    {"serve", "serve predictions and feedback over HTTP", "[--listen HOST:PORT] [--threads N]",
     cmd_serve},
    {"predict", "predict with the task's champion from the command line",
     "--task T [--json] [--explain K] TEXT... (or JSON objects of fields)", cmd_predict},
    {"models", "list the task's model versions, show one, or the alias history",
     "list | show VERSION | history  --task T [--json]", cmd_models},
    {"runs", "list runs, or show one with its logs", "list [--task T] [--json] | show RUN_ID",
     cmd_runs},
    {"datasets", "list imported dataset versions", "list [--task T] [--json]", cmd_datasets},
    {"data",
     "profile a task's examples (labels, lengths, empty, duplicate and null rates); its data "
     "contract; check a file against it",
     "profile [--task T] [--split train|test] [--json] | contract [--task T] [--json] | "
     "check FILE [--task T] [--format csv|jsonl] [--json]",
     cmd_data},
    {"simulate", "replay labeled rows as live traffic with feedback through the HTTP API",
     "--task T --stream FILE [--feedback-rate R] [--correct-rate R] [--speed max|realtime] "
     "[--window N] [--json]",
     cmd_simulate},
    {"check-retrain", "say whether a trigger calls for a retrain (exit 0 yes, 1 no)",
     "--task T [--json]", cmd_check_retrain},
    {"retrain", "run the whole pipeline now: prepare, train, evaluate, deploy, notify",
     "--task T [--if-needed] [--json]", cmd_retrain},
    {"prepare", "step: turn new gold feedback into a dataset version (starts a run)",
     "--task T [--run ID] [--json]", cmd_prepare},
    {"evaluate", "step: gate the run's challenger against the champion (exit 1 = keep)",
     "--task T --run ID [--json]", cmd_evaluate},
    {"deploy", "step: deploy the run's challenger if the gate said so, or a version",
     "--task T (--run ID | --version V) [--strategy direct|shadow|canary] [--percent P] "
     "[--after N] [--json]",
     cmd_deploy},
    {"rollout", "follow, decide, stop or promote a task's shadow or canary",
     "status|check|stop|promote --task T [--json]", cmd_rollout},
    {"run", "run a standalone pipeline file", "PIPELINE.yaml [--json]", cmd_run},
    {"promote", "make a version champion (the old one becomes previous)",
     "--task T --version V [--force] [--reason TEXT] [--json]", cmd_promote},
    {"rollback", "make the previous version champion again", "--task T [--json]", cmd_rollback},
    {"export", "write training data for external trainers",
     "--task T --what preferences [--out FILE]", cmd_export},
    {"token", "create an API token (printed once) and the config line for it",
     "create --name NAME --scopes predict,feedback,admin [--json]", cmd_token},
    {"worker", "claim and run queued pipeline jobs until stopped", "[--id NAME]", cmd_worker},
    {"version", "print the version", "", cmd_version},
};
static const size_t n_commands = sizeof commands / sizeof commands[0];

static const char *config_path;
static struct config loaded_config;
static int config_loaded;

static void print_usage(FILE *out)
{
    fprintf(out, "boucle — a classifier that learns from its users, in one binary.\n\n"
                 "usage: boucle [--config FILE] COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglobal options:\n"
                 "  --config FILE   configuration (default $BOUCLE_CONFIG, else ./boucle.yaml)\n"
                 "  --help          this help; `boucle COMMAND --help` for a command's\n"
                 "\nexit codes: 0 ok, 1 negative answer, 2 usage, 3 bad input data, 4 runtime "
                 "failure\n");
}

static void print_command_help(const struct cli_command *cmd, const struct cli_option *opts,
                               FILE *out)
{
    fprintf(out, "usage: boucle %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (opts && opts[0].name) fprintf(out, "\noptions:\n");
    for (const struct cli_option *o = opts; o && o->name; o++)
        fprintf(out, "  --%-12s %s\n", o->name, o->help);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "boucle: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (cmd)
        fprintf(stderr, "usage: boucle %s %s\n", cmd->name, cmd->usage);
    else
        print_usage(stderr);
    return EXIT_USAGE;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_option *opts,
              const char **positional, int max_positional, int *n_positional)
{
    *n_positional = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_command_help(cmd, opts, stdout);
            return 1;
        }
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (*n_positional >= max_positional)
                    return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]), -1;
                positional[(*n_positional)++] = argv[i];
            }
            break;
        }
        if (a[0] == '-' && a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            struct cli_option *o = opts;
            while (o && o->name && !(strlen(o->name) == len && strncmp(o->name, name, len) == 0))
                o++;
            if (!o || !o->name) return cli_usage_error(cmd, "unknown option '%s'", a), -1;
            if (o->takes_value) {
                if (eq)
                    o->value = eq + 1;
                else if (i + 1 < argc)
                    o->value = argv[++i];
                else
                    return cli_usage_error(cmd, "option --%s needs a value", o->name), -1;
            } else {
                if (eq) return cli_usage_error(cmd, "option --%s takes no value", o->name), -1;
                o->value = "1";
            }
            continue;
        }
        if (a[0] == '-' && a[1]) return cli_usage_error(cmd, "unknown option '%s'", a), -1;
        if (*n_positional >= max_positional)
            return cli_usage_error(cmd, "unexpected argument '%s'", a), -1;
        positional[(*n_positional)++] = a;
    }
    return 0;
}

const char *cli_opt(const struct cli_option *opts, const char *name)
{
    for (const struct cli_option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0) return o->value;
    return NULL;
}

int cli_fail(const struct err *e)
{
    fprintf(stderr, "boucle: %s\n", e->msg[0] ? e->msg : err_code_name(e->code));
    return err_exit_code(e->code);
}

const struct config *cli_config(struct err *e)
{
    if (config_loaded) return &loaded_config;
    const char *path = config_path;
    if (!path) path = getenv("BOUCLE_CONFIG");
    if (!path || !*path) path = "boucle.yaml";
    if (config_load(path, &loaded_config, e) != 0) return NULL;
    config_loaded = 1;
    /* schedules are read in the configured zone; set it before any thread starts */
    if (loaded_config.timezone && *loaded_config.timezone) {
        setenv("TZ", loaded_config.timezone, 1);
        tzset();
    }
    enum log_level level;
    if (loaded_config.log_level && log_parse_level(loaded_config.log_level, &level) == 0)
        log_set_level(level);
    log_set_json(str_eq(loaded_config.log_format, "json"));
    return &loaded_config;
}

const struct task_config *cli_task(const struct config *cfg, const char *name, struct err *e)
{
    if (!name) {
        if (cfg->n_tasks == 1) return &cfg->tasks[0];
        err_set_field(e, ERR_USAGE, "task", "--task is required: %s has %zu tasks", cfg->path,
                      cfg->n_tasks);
        return NULL;
    }
    const struct task_config *t = config_task(cfg, name);
    if (!t) {
        struct buf known;
        buf_init(&known);
        for (size_t i = 0; i < cfg->n_tasks; i++)
            buf_printf(&known, "%s%s", i ? ", " : "", cfg->tasks[i].name);
        err_set_field(e, ERR_NOT_FOUND, "task", "unknown task '%s' (in %s: %s)", name, cfg->path,
                      known.data ? known.data : "none");
        buf_free(&known);
    }
    return t;
}

int cli_open(const char *task_name, int task_mode, struct cli_env *env)
{
    struct err e;
    err_clear(&e);
    memset(env, 0, sizeof *env);
    env->cfg = cli_config(&e);
    if (!env->cfg) return cli_fail(&e);
    if (task_mode == CLI_NEED_TASK || (task_mode == CLI_TASK_IF_GIVEN && task_name)) {
        env->task = cli_task(env->cfg, task_name, &e);
        if (!env->task) return cli_fail(&e);
    }
    env->st = store_open(env->cfg->store_url, &e);
    if (!env->st) return cli_fail(&e);
    return 0;
}

void cli_close(struct cli_env *env)
{
    store_close(env->st);
    env->st = NULL;
}

void cli_print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text) printf("%s\n", text);
    free(text);
    json_decref(doc);
}

const char *cli_actor(void)
{
    static char actor[96];
    if (!actor[0]) {
        struct passwd *pw = getpwuid(geteuid());
        if (pw && pw->pw_name && *pw->pw_name)
            snprintf(actor, sizeof actor, "cli:%s", pw->pw_name);
        else
            snprintf(actor, sizeof actor, "cli:uid %d", (int)geteuid());
    }
    return actor;
}

int cmd_version(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {{0}};
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    printf("boucle %s\n", boucle_version);
    return EXIT_OK;
}

int cli_main(int argc, char **argv)
{
    if (ids_init() != 0) {
        fprintf(stderr, "boucle: cannot initialise libsodium\n");
        return EXIT_RUNTIME;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("boucle %s\n", boucle_version);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        } else {
            return cli_usage_error(NULL, "unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc) return cli_usage_error(NULL, "missing command");
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    int rc = -1;
    for (size_t k = 0; k < n_commands; k++) {
        if (strcmp(commands[k].name, name) == 0) {
            /* --config is also accepted after the command */
            int n = argc - i - 1;
            char **rest = xcalloc((size_t)n + 1, sizeof *rest);
            int m = 0;
            for (int j = i + 1; j < argc; j++) {
                if (strcmp(argv[j], "--config") == 0 && j + 1 < argc) {
                    config_path = argv[++j];
                } else if (strncmp(argv[j], "--config=", 9) == 0) {
                    config_path = argv[j] + 9;
                } else {
                    rest[m++] = argv[j];
                }
            }
            rc = commands[k].run(&commands[k], m, rest);
            free(rest);
            break;
        }
    }
    if (config_loaded) config_free(&loaded_config);
    if (rc < 0) return cli_usage_error(NULL, "unknown command '%s'", name);
    return rc;
}
