/* boucle serve [--listen HOST:PORT] [--threads N] */
#include "cli/cli.h"

#include "serve/server.h"

#include <stdlib.h>

int cmd_serve(const struct cli_command *cmd, int argc, char **argv)
{
    struct cli_option opts[] = {
        {"listen", 1, "address to listen on (default: the config's listen, 127.0.0.1:8080)", NULL},
        {"threads", 1, "HTTP worker threads (default: the number of cores)", NULL},
        {0},
    };
    const char *pos[1];
    int npos, rc = cli_parse(cmd, argc, argv, opts, pos, 0, &npos);
    if (rc) return rc < 0 ? EXIT_USAGE : EXIT_OK;
    struct serve_options so = {.listen = cli_opt(opts, "listen")};
    const char *threads = cli_opt(opts, "threads");
    if (threads) {
        char *end;
        long n = strtol(threads, &end, 10);
        if (*end || n < 1 || n > 256)
            return cli_usage_error(cmd, "--threads must be between 1 and 256, got '%s'", threads);
        so.threads = (int)n;
    }
    struct err e;
    err_clear(&e);
    const struct config *cfg = cli_config(&e);
    if (!cfg) return cli_fail(&e);
    if (serve_run(cfg, &so, &e) != 0) return cli_fail(&e);
    return EXIT_OK;
}
