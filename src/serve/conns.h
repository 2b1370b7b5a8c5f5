/* Open connections: how many there are (more than limits.max_connections are
 * answered 503 instead of being dropped), and how long a client may take to
 * send a request (limits.request_timeout). libmicrohttpd's own timeout only
 * counts idle time, so a client trickling one byte at a time would hold its
 * connection forever: a reaper thread answers those 408 and shuts the socket,
 * which libmicrohttpd then closes as it would any other.
 *
 * Each connection has a slot, taken when libmicrohttpd reports it open and
 * given back when it reports it closed (always before it closes the socket,
 * so the reaper never touches a reused descriptor). Request threads only do
 * atomic operations on their slot; the slot's own small mutex is taken at
 * open, at close and by the reaper, never by a request. */
#ifndef BOUCLE_SERVE_CONNS_H
#define BOUCLE_SERVE_CONNS_H

#include "base/err.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct conn_slot {
    pthread_mutex_t mu; /* between the reaper and the close */
    _Atomic int used;
    int fd;                      /* under mu; -1 once closed */
    _Atomic int64_t deadline_ns; /* monotonic; 0 = none; CONN_REAPING once the reaper took it */
    _Atomic int timed_out;       /* the reaper answered 408 */
    /* owned by the connection's thread (open, requests and close run on it) */
    int over;               /* opened beyond limits.max_connections: its requests get 503 */
    int request_logged;     /* a request on it was logged since the timeout */
    unsigned char addr[16]; /* client address, IPv4 mapped into IPv6 */
    int has_addr;
};
#define CONN_REAPING INT64_MIN

struct conns;
/* Called on the connection's thread when a connection the reaper timed out
 * closes before any request of it was answered or logged (its headers never
 * arrived): the access log still gets its 408. */
typedef void (*conns_lost_fn)(void *cls, const struct conn_slot *slot);

/* max_open: connections served; cap: connections held at all (the rest wait
 * in the kernel's backlog), cap - max_open of them to be answered 503. */
struct conns *conns_start(size_t max_open, size_t cap, int64_t timeout_ms, conns_lost_fn lost,
                          void *lost_cls, struct err *e);
void conns_stop(struct conns *c);

/* libmicrohttpd callbacks (MHD_OPTION_NOTIFY_CONNECTION, MHD_OPTION_URI_LOG_CALLBACK). */
void conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);
void *conns_uri_log(void *cls, const char *uri, struct MHD_Connection *conn);

/* The connection's slot (NULL only if none was free, which the cap prevents). */
struct conn_slot *conns_slot(struct MHD_Connection *conn);
/* The request has arrived whole: its time limit stops. -1 when the reaper
 * already took the connection (answer nothing, let it close). */
int conns_request_arrived(struct conn_slot *s);
/* An answer was sent: the time limit starts again for the next request. */
void conns_request_done(struct conns *c, struct conn_slot *s);

size_t conns_open(struct conns *c);
size_t conns_max_open(struct conns *c);
uint64_t conns_timeouts(struct conns *c);

#endif
