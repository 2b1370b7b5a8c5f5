#include "serve/conns.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { REAP_EVERY_MS = 100 };

/* An idle keep-alive connection is libmicrohttpd's to close, silently, after
 * the same timeout (counted in whole seconds, so up to a second late). The
 * reaper waits this much longer for connections between requests, so it only
 * catches clients that keep sending without ever finishing a request: a 408
 * sent on a merely idle connection would be read as the answer to the
 * client's next request. */
#define IDLE_SLACK_NS (2 * 1000000000LL)

struct conns {
    size_t max_open, cap;
    _Atomic size_t open;
    _Atomic size_t hint; /* where to look for a free slot */
    struct conn_slot *slots;
    int64_t timeout_ns;
    char timeout_answer[512]; /* the 408, whole */
    size_t timeout_answer_len;
    _Atomic uint64_t timeouts;
    conns_lost_fn lost;
    void *lost_cls;

    pthread_t reaper;
    int reaper_started;
    _Atomic int stopping;
};

/* Moves a slot's deadline unless the reaper has taken the connection. */
static int set_deadline(struct conn_slot *s, int64_t deadline)
{
    int64_t d = atomic_load(&s->deadline_ns);
    while (d != CONN_REAPING)
        if (atomic_compare_exchange_weak(&s->deadline_ns, &d, deadline)) return 0;
    return -1;
}

static void reap(struct conns *c, struct conn_slot *s, int64_t now)
{
    int64_t d = atomic_load(&s->deadline_ns);
    if (d <= 0 || d > now) return;
    pthread_mutex_lock(&s->mu);
    if (s->fd >= 0 && atomic_compare_exchange_strong(&s->deadline_ns, &d, CONN_REAPING)) {
        atomic_store(&s->timed_out, 1);
        atomic_fetch_add(&c->timeouts, 1);
        /* the connection is between reads: nothing else writes to it now */
        ssize_t sent =
            send(s->fd, c->timeout_answer, c->timeout_answer_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)sent; /* a client that cannot take even this is closed all the same */
        shutdown(s->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *reaper_main(void *arg)
{
    struct conns *c = arg;
    while (!atomic_load(&c->stopping)) {
        int64_t now = time_mono_ns();
        for (size_t i = 0; i < c->cap; i++)
            if (atomic_load_explicit(&c->slots[i].used, memory_order_relaxed))
                reap(c, &c->slots[i], now);
        time_sleep_ms(REAP_EVERY_MS);
    }
    return NULL;
}

struct conns *conns_start(size_t max_open, size_t cap, int64_t timeout_ms, conns_lost_fn lost,
                          void *lost_cls, struct err *e)
{
    struct conns *c = xcalloc(1, sizeof *c);
    c->max_open = max_open;
    c->cap = cap;
    c->timeout_ns = timeout_ms * 1000000LL;
    c->lost = lost;
    c->lost_cls = lost_cls;
    c->slots = xcalloc(cap, sizeof *c->slots);
    for (size_t i = 0; i < cap; i++) {
        pthread_mutex_init(&c->slots[i].mu, NULL);
        c->slots[i].fd = -1;
    }
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"error\":{\"code\":\"request_timeout\",\"message\":\"the request was not "
                     "received within %lld ms (limits.request_timeout)\"}}\n",
                     (long long)timeout_ms);
    c->timeout_answer_len = (size_t)snprintf(
        c->timeout_answer, sizeof c->timeout_answer,
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: "
        "close\r\nContent-Length: %d\r\n\r\n%s",
        n, body);
    int rc = pthread_create(&c->reaper, NULL, reaper_main, c);
    if (rc != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the request timeout thread: %s", strerror(rc));
        conns_stop(c);
        return NULL;
    }
    c->reaper_started = 1;
    return c;
}

void conns_stop(struct conns *c)
{
    if (!c) return;
    atomic_store(&c->stopping, 1);
    if (c->reaper_started) pthread_join(c->reaper, NULL);
    for (size_t i = 0; i < c->cap; i++)
        pthread_mutex_destroy(&c->slots[i].mu);
    free(c->slots);
    free(c);
}

static struct conn_slot *claim(struct conns *c)
{
    size_t start = atomic_load_explicit(&c->hint, memory_order_relaxed);
    for (size_t i = 0; i < c->cap; i++) {
        size_t k = (start + i) % c->cap;
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&c->slots[k].used, &free_slot, 1)) {
            atomic_store_explicit(&c->hint, k + 1, memory_order_relaxed);
            return &c->slots[k];
        }
    }
    return NULL;
}

static void copy_address(struct conn_slot *s, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    s->has_addr = 0;
    memset(s->addr, 0, 16);
    if (sa && sa->sa_family == AF_INET) {
        s->addr[10] = s->addr[11] = 0xff;
        memcpy(s->addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        s->has_addr = 1;
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(s->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        s->has_addr = 1;
    }
}

static void on_open(struct conns *c, struct MHD_Connection *conn, void **socket_context)
{
    size_t n = atomic_fetch_add(&c->open, 1) + 1;
    struct conn_slot *s = claim(c);
    *socket_context = s;
    if (!s) return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    copy_address(s, conn);
    s->over = n > c->max_open;
    s->request_logged = 0;
    atomic_store(&s->timed_out, 0);
    pthread_mutex_lock(&s->mu);
    s->fd = ci ? ci->connect_fd : -1;
    atomic_store(&s->deadline_ns, time_mono_ns() + c->timeout_ns + IDLE_SLACK_NS);
    pthread_mutex_unlock(&s->mu);
}

static void on_close(struct conns *c, struct conn_slot *s)
{
    atomic_fetch_sub(&c->open, 1);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->fd = -1;
    atomic_store(&s->deadline_ns, 0);
    pthread_mutex_unlock(&s->mu);
    if (atomic_load(&s->timed_out) && !s->request_logged && c->lost) c->lost(c->lost_cls, s);
    atomic_store(&s->used, 0);
}

void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
    struct conns *c = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        on_open(c, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        on_close(c, *socket_context);
}

void *conns_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct conns *c = cls;
    (void)uri;
    /* the request line is in: from now the whole request has the timeout, no slack */
    struct conn_slot *s = conns_slot(conn);
    if (s) set_deadline(s, time_mono_ns() + c->timeout_ns);
    return NULL; /* *con_cls stays NULL: server.c makes the request on its first call */
}

struct conn_slot *conns_slot(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

int conns_request_arrived(struct conn_slot *s)
{
    return s ? set_deadline(s, 0) : 0;
}

void conns_request_done(struct conns *c, struct conn_slot *s)
{
    if (s) set_deadline(s, time_mono_ns() + c->timeout_ns + IDLE_SLACK_NS);
}

size_t conns_open(struct conns *c)
{
    return atomic_load(&c->open);
}

size_t conns_max_open(struct conns *c)
{
    return c->max_open;
}

uint64_t conns_timeouts(struct conns *c)
{
    return atomic_load(&c->timeouts);
}
