/* The HTTP glue between libmicrohttpd and boucle's handlers: one request
 * (method, path, body, status, JSON response), and helpers to answer. */
#ifndef BOUCLE_SERVE_HTTP_H
#define BOUCLE_SERVE_HTTP_H

#include "base/err.h"
#include "base/mem.h"
#include "serve/request_id.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

struct server;
struct auth_token;
struct conn_slot;

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct buf body;
    size_t body_limit;          /* limits.max_body_bytes, or max_import_bytes for an import */
    const char *body_limit_key; /* its name, for the 413 */
    int too_large;              /* the body went past the limit: answer 413 */
    int replied;                /* a response is queued */
    /* The answer comes from the import thread (serve/import_queue.h): the
     * connection is suspended until it is in, then server.c sends it. */
    int deferred;
    int64_t start_ns;
    /* the handler's answer */
    unsigned int status;
    struct buf out;
    const char *content_type;
    const char *allow;            /* for 405 */
    const char *www_authenticate; /* for 401 */
    const char *error_code;       /* the error answered, if any (for counters and the access log) */
    /* serving limits and the access log (serve/limits.c) */
    unsigned retry_after;                /* seconds, for 429 and 503: the Retry-After header */
    int close_connection;                /* answer with Connection: close */
    const struct auth_token *token;      /* the caller's token, once auth_check matched one */
    struct conn_slot *slot;              /* the connection's entry (serve/conns.h) */
    char request_id[REQUEST_ID_MAX + 1]; /* returned as X-Request-Id */
    /* Work to run once the response has been sent (shadow scoring): called
     * from libmicrohttpd's request-completed callback, then forgotten. */
    void (*after_reply)(void *ctx);
    void *after_ctx;
};

const char *http_query(struct http_request *r, const char *key);
const char *http_header(struct http_request *r, const char *key);

/* Answers with a JSON document (stolen reference). */
void http_reply_json(struct http_request *r, unsigned int status, json_t *doc);
/* Answers with JSON text already serialised (copied). */
void http_reply_raw_json(struct http_request *r, unsigned int status, const char *text, size_t len);
/* The serialisation used for answers: compact, floats with 8 significant
 * digits (a probability needs no more, and it halves the formatting cost). */
#define HTTP_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(8))
/* Appends doc serialised with `flags` (json_dumps's) to out, written straight
 * into it (no string of its own to allocate and free: this is also what
 * the predict route uses inside its JSON scope, base/json_scope.h);
 * -1 and nothing appended when it cannot be serialised. */
int http_json_append(struct buf *out, const json_t *doc, size_t flags);
/* {"error": {"code", "message", "field"?}} */
void http_reply_error(struct http_request *r, unsigned int status, const char *code,
                      const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Maps an err code to its HTTP status and answers. */
void http_reply_err(struct http_request *r, const struct err *e);
unsigned int http_status_for(enum err_code code);

/* Parses the body as a JSON object; on failure answers 400/415 and returns NULL. */
json_t *http_body_object(struct http_request *r);

#endif
