#include "serve/request_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A thread serves a few connections at a time; a record kept per
 * connection is enough. A buffer over KEEP_BYTES (a large upload) is not
 * kept: a request thread should not pin the largest body it ever read. */
enum { POOL_MAX = 16, KEEP_BYTES = 64 * 1024 };

struct pool {
    size_t n;
    struct http_request *free[POOL_MAX];
};

static _Thread_local struct pool *pool;
static pthread_key_t pool_key; /* its destructor frees an ending thread's pool */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void record_free(struct http_request *r)
{
    buf_free(&r->body);
    buf_free(&r->out);
    free(r);
}

static void pool_free(void *p)
{
    struct pool *pl = p;
    for (size_t i = 0; i < pl->n; i++)
        record_free(pl->free[i]);
    free(pl);
}

static void pool_key_create(void)
{
    pthread_key_create(&pool_key, pool_free);
}

struct http_request *request_pool_take(void)
{
    struct http_request *r;
    if (pool && pool->n) {
        r = pool->free[--pool->n];
        struct buf body = r->body, out = r->out;
        memset(r, 0, sizeof *r);
        r->body = body;
        r->out = out;
        buf_reset(&r->body);
        buf_reset(&r->out);
        return r;
    }
    r = xcalloc(1, sizeof *r);
    buf_init(&r->body);
    buf_init(&r->out);
    return r;
}

void request_pool_give(struct http_request *r)
{
    if (!pool) {
        pthread_once(&pool_once, pool_key_create);
        pool = xcalloc(1, sizeof *pool);
        pthread_setspecific(pool_key, pool);
    }
    if (pool->n == POOL_MAX) {
        record_free(r);
        return;
    }
    if (r->body.cap > KEEP_BYTES) buf_free(&r->body);
    if (r->out.cap > KEEP_BYTES) buf_free(&r->out);
    pool->free[pool->n++] = r;
}
