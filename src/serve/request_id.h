/* The id of one request, returned as X-Request-Id and written to the access
 * log: the client's own (a proxy's trace id, say) when it sends a valid one,
 * else a new random UUID. */
#ifndef BOUCLE_SERVE_REQUEST_ID_H
#define BOUCLE_SERVE_REQUEST_ID_H

#include <stddef.h>

#define REQUEST_ID_MAX 128 /* bytes of a client's X-Request-Id */

/* Fills out (REQUEST_ID_MAX + 1 bytes) from `given` (NULL: none sent).
 * Returns 0, or -1 with the reason in `why` when the client's id is not 1 to
 * REQUEST_ID_MAX visible ASCII characters; out then holds a new id. */
int request_id_take(const char *given, char *out, char *why, size_t why_size);

#endif
