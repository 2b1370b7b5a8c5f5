/* boucle serve [--listen HOST:PORT] [--threads N] */
#include "cli/cli.h"

#include "base/log.h"
#include "serve/auth.h"
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
    const char *listen = so.listen ? so.listen : cfg->listen;
    if (cfg->auth.n_tokens == 0) {
        /* no token, no authentication: then nobody but this machine may connect */
        if (!auth_listen_is_loopback(listen)) {
            err_set(&e, ERR_INVALID,
                    "refusing to listen on %s without API tokens: add auth.tokens to %s "
                    "(boucle token create) or listen on 127.0.0.1",
                    listen, cfg->path);
            return cli_fail(&e);
        }
        log_warn("no API tokens configured: serving without authentication, on loopback only");
    }
    if (serve_run(cfg, &so, &e) != 0) return cli_fail(&e);
    return EXIT_OK;
}
