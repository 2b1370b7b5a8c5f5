/* Request records kept by each request thread for its next requests: a
 * record with its body and answer buffers is taken when a request begins
 * and given back when libmicrohttpd says it is complete, so a request in
 * steady state allocates neither (nor the answer's copy: the response is
 * handed to libmicrohttpd as a view of the record's buffer, which lives
 * until the request is complete). */
#ifndef BOUCLE_SERVE_REQUEST_POOL_H
#define BOUCLE_SERVE_REQUEST_POOL_H

#include "serve/http.h"

/* A zeroed record whose buffers are empty (they may keep memory). */
struct http_request *request_pool_take(void);
/* Gives r back to the calling thread's pool (or frees it, past the pool's
 * size or when its buffers grew big). */
void request_pool_give(struct http_request *r);

#endif
