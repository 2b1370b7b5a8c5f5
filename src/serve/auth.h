/* API tokens: `Authorization: Bearer <token>`, compared by SHA-256 in
 * constant time, with scopes per route (predict, feedback, admin). Without
 * any token configured there is no authentication (and serve only listens
 * on loopback). Tokens are never logged. */
#ifndef BOUCLE_SERVE_AUTH_H
#define BOUCLE_SERVE_AUTH_H

#include "base/config.h"
#include "serve/http.h"

/* The scope a request needs: 0 for a public route. */
unsigned auth_required_scope(const struct auth_config *a, const char *method, const char *path);
/* 0 when the request may go on; otherwise it was answered 401 or 403. */
int auth_check(const struct auth_config *a, struct http_request *r);
/* Who made the request, for the records it leaves (the alias history):
 * "token:<name>" when a token authenticated it, else "http:<client address>". */
void auth_actor(const struct http_request *r, char *out, size_t size);
/* Is HOST:PORT on the loopback interface (127.0.0.0/8, ::1, localhost)? */
int auth_listen_is_loopback(const char *listen);

#endif
