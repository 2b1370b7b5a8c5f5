/* `auth:` — API tokens, stored as SHA-256 hashes, with scopes:
 *   auth:
 *     tokens:
 *       - {name: ci-bot, sha256: 9f86d0..., scopes: [predict, feedback]}
 *       - {name: batch-job, sha256: 5e8848..., scopes: [predict], rate: 5, burst: 20}
 *     public: [healthz, readyz, metrics]
 * `boucle token create` prints a new token and the line to add here. */
#include "base/config_internal.h"

#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const scope_names[] = {"predict", "feedback", "admin"};
static const char *const public_names[] = {"healthz", "readyz", "metrics", "dashboard"};

/* A list of names from `choices`, as bits. */
static int name_bits(struct cfg_ctx *c, yaml_node_t *v, const char *path,
                     const char *const *choices, size_t n_choices, unsigned *out)
{
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    *out = 0;
    int i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        char item_path[PATH_MAX_KEY];
        snprintf(item_path, sizeof item_path, "%s[%d]", path, i);
        size_t k;
        if (cfg_choice(c, cfg_node(c, *it), item_path, choices, n_choices, &k)) return -1;
        *out |= 1u << k;
    }
    return 0;
}

static int token_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                      const char *path, void *user)
{
    struct auth_token *t = user;
    const char *s;
    if (str_eq(key, "name")) {
        if (cfg_string(c, v, path, &s)) return -1;
        free(t->name);
        t->name = xstrdup(s);
        return 0;
    }
    if (str_eq(key, "sha256")) {
        if (cfg_string(c, v, path, &s)) return -1;
        int ok = strlen(s) == 64;
        for (size_t i = 0; ok && i < 64; i++)
            ok = isxdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]);
        if (!ok)
            return cfg_fail(c, v, path,
                            "expected 64 lower-case hex digits (the token's SHA-256, as "
                            "`boucle token create` prints it)");
        memcpy(t->sha256, s, 65);
        return 0;
    }
    if (str_eq(key, "scopes")) {
        if (name_bits(c, v, path, scope_names, 3, &t->scopes)) return -1;
        if (t->scopes & SCOPE_ADMIN) t->scopes |= SCOPE_PREDICT | SCOPE_FEEDBACK;
        return 0;
    }
    /* the token's own request rate, instead of limits.rate (config_serve.c) */
    if (str_eq(key, "rate")) {
        t->has_rate = 1;
        return cfg_serve_rate(c, v, path, &t->rate);
    }
    if (str_eq(key, "burst")) return cfg_serve_burst(c, v, path, &t->burst);
    return cfg_unknown_key(c, k, path);
}

static int tokens_list(struct cfg_ctx *c, yaml_node_t *v, const char *path, struct config *cfg)
{
    if (cfg_want(c, v, YAML_SEQUENCE_NODE, path)) return -1;
    int i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        char item_path[PATH_MAX_KEY];
        snprintf(item_path, sizeof item_path, "%s[%d]", path, i);
        yaml_node_t *item = cfg_node(c, *it);
        cfg->auth.tokens =
            xrealloc(cfg->auth.tokens, (cfg->auth.n_tokens + 1) * sizeof *cfg->auth.tokens);
        struct auth_token *t = &cfg->auth.tokens[cfg->auth.n_tokens++];
        memset(t, 0, sizeof *t);
        t->line = cfg_line(item);
        if (cfg_each_pair(c, item, item_path, token_pair, t)) return -1;
        const char *missing = !t->name        ? "name"
                              : !t->sha256[0] ? "sha256"
                              : !t->scopes    ? "scopes"
                                              : NULL;
        if (missing) return cfg_fail(c, item, item_path, "missing required key '%s'", missing);
        for (size_t j = 0; j + 1 < cfg->auth.n_tokens; j++)
            if (str_eq(cfg->auth.tokens[j].name, t->name) ||
                str_eq(cfg->auth.tokens[j].sha256, t->sha256))
                return cfg_fail(c, item, item_path, "token '%s' repeats an earlier token's %s",
                                t->name,
                                str_eq(cfg->auth.tokens[j].name, t->name) ? "name" : "hash");
    }
    return 0;
}

static int auth_pair(struct cfg_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *v,
                     const char *path, void *user)
{
    struct config *cfg = user;
    if (str_eq(key, "tokens")) return tokens_list(c, v, path, cfg);
    if (str_eq(key, "public"))
        return name_bits(c, v, path, public_names, 4, &cfg->auth.public_routes);
    return cfg_unknown_key(c, k, path);
}

int cfg_auth_top_pair(struct cfg_ctx *c, const char *key, yaml_node_t *v, const char *path,
                      struct config *cfg)
{
    if (!str_eq(key, "auth")) return 1;
    return cfg_each_pair(c, v, path, auth_pair, cfg);
}

void cfg_auth_free(struct config *cfg)
{
    for (size_t i = 0; i < cfg->auth.n_tokens; i++)
        free(cfg->auth.tokens[i].name);
    free(cfg->auth.tokens);
}
