#include "serve/auth.h"

#include "base/ids.h"

#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int is_public(const struct auth_config *a, const char *path)
{
    unsigned p = a->public_routes;
    if (strcmp(path, "/healthz") == 0) return (p & PUBLIC_HEALTHZ) != 0;
    if (strcmp(path, "/readyz") == 0) return (p & PUBLIC_READYZ) != 0;
    if (strcmp(path, "/metrics") == 0) return (p & PUBLIC_METRICS) != 0;
    /* the dashboard's page shell; the data it shows comes from the API, with a token */
    if (strcmp(path, "/") == 0 || strcmp(path, "/app.js") == 0 || strcmp(path, "/style.css") == 0)
        return (p & PUBLIC_DASHBOARD) != 0;
    return 0;
}

unsigned auth_required_scope(const struct auth_config *a, const char *method, const char *path)
{
    if (is_public(a, path)) return 0;
    if (strcmp(method, "POST") == 0) {
        if (strcmp(path, "/v1/feedback") == 0) return SCOPE_FEEDBACK;
        size_t n = strlen(path);
        if (strncmp(path, "/v1/tasks/", 10) == 0 && n > 18 &&
            strcmp(path + n - 8, "/predict") == 0 && !memchr(path + 10, '/', n - 18))
            return SCOPE_PREDICT;
    }
    return SCOPE_ADMIN; /* runs, registry, retrain, rollback, imports, MLflow, metrics */
}

static const char *scope_name(unsigned s)
{
    return s == SCOPE_PREDICT ? "predict" : s == SCOPE_FEEDBACK ? "feedback" : "admin";
}

int auth_check(const struct auth_config *a, struct http_request *r)
{
    if (a->n_tokens == 0) return 0;
    unsigned need = auth_required_scope(a, r->method, r->path);
    if (!need) return 0;
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        r->www_authenticate = "Bearer realm=\"boucle\"";
        http_reply_error(r, 401, "unauthorized", NULL,
                         "this route needs a token with scope '%s': send Authorization: Bearer "
                         "<token>",
                         scope_name(need));
        return -1;
    }
    char digest[SHA256_HEX_LEN];
    sha256_hex(h + 7, strlen(h + 7), digest);
    const struct auth_token *match = NULL;
    /* every configured hash is compared, in constant time, whatever matches */
    for (size_t i = 0; i < a->n_tokens; i++)
        if (secret_equal(digest, a->tokens[i].sha256)) match = &a->tokens[i];
    if (!match) {
        r->www_authenticate = "Bearer realm=\"boucle\", error=\"invalid_token\"";
        http_reply_error(r, 401, "unauthorized", NULL, "the token is not valid");
        return -1;
    }
    r->token = match; /* its name goes to the access log, its rate to the limiter */
    if (!(match->scopes & need)) {
        http_reply_error(r, 403, "forbidden", NULL, "token '%s' does not have the scope '%s'",
                         match->name, scope_name(need));
        return -1;
    }
    return 0;
}

void auth_actor(const struct http_request *r, char *out, size_t size)
{
    if (r->token) {
        snprintf(out, size, "token:%s", r->token->name);
        return;
    }
    /* no authentication configured: the peer's address is all there is */
    const union MHD_ConnectionInfo *ci =
        r->conn ? MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    char host[NI_MAXHOST];
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    socklen_t len =
        sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (!sa || getnameinfo(sa, len, host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(host, sizeof host, "unknown");
    snprintf(out, size, "http:%s", host);
}

int auth_listen_is_loopback(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
    char host[256];
    if (n >= sizeof host) return 0;
    memcpy(host, listen, n);
    host[n] = '\0';
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}
