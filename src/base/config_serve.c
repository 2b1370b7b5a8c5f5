/* The serving keys of issue 6, beside config.c's body and batch limits:
 *   limits:
 *     max_connections: 1024   # open at once; more are answered 503
 *     rate: 50                # requests/s per API token (per client address without one)
 *     burst: 100              # requests at once; default: the rate rounded up
 *     request_timeout: 30s    # to send a whole request; idle keep-alive closes after it too
 *   access_log: stderr        # or a file (relative to this config), or off (the default)
 * Tokens may carry their own rate and burst (config_auth.c). */
#include "base/config_internal.h"

#include "base/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A rate above this is no limit worth enforcing, and keeps 1e9/rate a usable interval. */
#define RATE_MAX 1e6
#define RATE_MIN 0.001
#define BURST_MAX 1000000u

void cfg_serve_defaults(struct config *cfg)
{
    cfg->limits.max_connections = 0; /* chosen at start from the file descriptor limit */
    cfg->limits.rate = 0;
    cfg->limits.burst = 0;
    cfg->limits.request_timeout_ms = 30 * 1000;
    cfg->access_log = NULL;
}

int cfg_serve_rate(struct cfg_ctx *c, yaml_node_t *v, const char *path, double *out)
{
    if (cfg_number(c, v, path, 0, 0, RATE_MAX, 0, out)) return -1;
    /* slower than one request in 1000 s is a typo, and would overflow a bucket's clock */
    if (*out > 0 && *out < RATE_MIN)
        return cfg_fail(c, v, path, "expected 0 (no limit) or at least %g requests/s, got '%s'",
                        RATE_MIN, cfg_text(v));
    return 0;
}

int cfg_serve_burst(struct cfg_ctx *c, yaml_node_t *v, const char *path, unsigned *out)
{
    unsigned long long n;
    if (cfg_uint(c, v, path, 1, BURST_MAX, &n)) return -1;
    *out = (unsigned)n;
    return 0;
}

int cfg_serve_limits_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                          struct config_limits *l)
{
    unsigned long long n;
    if (str_eq(key, "max_connections")) {
        if (cfg_uint(c, v, path, 1, 1000000, &n)) return -1;
        l->max_connections = (size_t)n;
        return 0;
    }
    if (str_eq(key, "rate")) return cfg_serve_rate(c, v, path, &l->rate);
    if (str_eq(key, "burst")) return cfg_serve_burst(c, v, path, &l->burst);
    if (str_eq(key, "request_timeout"))
        /* libmicrohttpd counts idle time in whole seconds: less than one cannot be kept */
        return cfg_duration(c, v, path, 1000, &l->request_timeout_ms);
    return 1;
}

int cfg_serve_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                       struct config *cfg)
{
    if (!str_eq(key, "access_log")) return 1;
    const char *s;
    int on = 1;
    /* `access_log: off` (or false) reads as a YAML boolean: accept both spellings */
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        cfg_bool(c, v, path, &on) == 0) {
        if (on)
            return cfg_fail(c, v, path,
                            "expected stderr, a file path or off, got '%s' (the log needs a "
                            "destination)",
                            cfg_text(v));
        free(cfg->access_log);
        cfg->access_log = NULL;
        return 0;
    }
    err_clear(c->e); /* cfg_bool's complaint does not apply to a path */
    if (cfg_string(c, v, path, &s)) return -1;
    free(cfg->access_log);
    if (str_eq(s, "stderr"))
        cfg->access_log = xstrdup("stderr");
    else if (s[0] == '/')
        cfg->access_log = xstrdup(s);
    else
        cfg->access_log = xasprintf("%s/%s", c->dir, s);
    return 0;
}

/* A burst left out is the rate rounded up: one second's worth of requests at once. */
static unsigned default_burst(double rate)
{
    double b = ceil(rate);
    return b < 1 ? 1 : (unsigned)b;
}

int cfg_serve_finish(struct cfg_ctx *c, struct config *cfg)
{
    struct config_limits *l = &cfg->limits;
    if (l->burst && l->rate == 0)
        return err_set_field(c->e, ERR_INVALID, "limits.burst",
                             "%s: limits.burst: set limits.rate too (a burst without a rate "
                             "limits nothing)",
                             c->name);
    if (!l->burst && l->rate > 0) l->burst = default_burst(l->rate);
    for (size_t i = 0; i < cfg->auth.n_tokens; i++) {
        struct auth_token *t = &cfg->auth.tokens[i];
        if (t->burst && !t->has_rate)
            return err_set_field(c->e, ERR_INVALID, "auth.tokens",
                                 "%s:%d: auth.tokens[%zu].burst: set its rate too (a burst "
                                 "without a rate limits nothing)",
                                 c->name, t->line, i);
        if (t->has_rate && !t->burst && t->rate > 0) t->burst = default_burst(t->rate);
    }
    return 0;
}

void cfg_serve_free(struct config *cfg)
{
    free(cfg->access_log);
    cfg->access_log = NULL;
}
