/* The serving limits of `limits:` that protect the server as a whole, and the
 * access log, wired into the request lifecycle (server.c):
 *   - more than max_connections open connections: 503 + Retry-After;
 *   - over a token's (or, without one, a client address's) rate: 429 + Retry-After;
 *   - a request not received within request_timeout: 408 (serve/conns.c);
 *   - every request gets an id (X-Request-Id) and, when asked, an access log line;
 *   - rejections are counted for /metrics by reason.
 * Nothing here takes a lock shared by requests, does SQL or touches the disk
 * on a request thread. */
#ifndef BOUCLE_SERVE_LIMITS_H
#define BOUCLE_SERVE_LIMITS_H

#include "base/err.h"
#include "base/mem.h"
#include "serve/http.h"

#include <microhttpd.h>

struct server;
struct limits;

/* threads: the HTTP thread pool's size (each thread holds some connections). */
struct limits *limits_start(struct server *srv, unsigned threads, struct err *e);
void limits_stop(struct limits *l);
/* The libmicrohttpd options that apply them, for MHD_OPTION_ARRAY. */
const struct MHD_OptionItem *limits_mhd_options(struct limits *l);

/* On a request's first call: its id and client; 503 when its connection is
 * over the limit, 400 for a bad X-Request-Id. Nonzero when it was answered. */
int limits_request_begin(struct limits *l, struct http_request *r);
/* The request is whole: -1 when the timeout already took its connection. */
int limits_request_arrived(struct limits *l, struct http_request *r);
/* The answer is about to be queued: counts a refusal by its reason. -1 when
 * the timeout already took the connection (its 408 was the answer). */
int limits_request_answering(struct limits *l, struct http_request *r);
/* After authentication: 429 when the caller is over its rate. Nonzero when answered. */
int limits_check_rate(struct limits *l, struct http_request *r);
/* When libmicrohttpd is done with the request: the access log line, and the
 * time limit for the connection's next request. */
void limits_request_end(struct limits *l, struct http_request *r,
                        enum MHD_RequestTerminationCode toe);

/* boucle_http_rejected_total, open connections, the access log's counters. */
void limits_render_metrics(struct limits *l, struct buf *out);

#endif
