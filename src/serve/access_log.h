/* The access log: one JSON line per request (time, request id, client,
 * method, route template and path, task, status, latency, bytes, token name,
 * error code). Request threads copy a fixed-size record into a ring (one
 * compare-and-swap, no lock, no allocation) and go on; a writer thread formats
 * and writes the lines. When the ring is full the record is dropped and
 * counted, never waited for. Tokens' secrets and request bodies never reach
 * this log: a record has no room for either. */
#ifndef BOUCLE_SERVE_ACCESS_LOG_H
#define BOUCLE_SERVE_ACCESS_LOG_H

#include "base/err.h"
#include "base/mem.h"
#include "serve/request_id.h"

#include <stdint.h>

#define ACCESS_PATH_MAX 256 /* bytes of the path kept; longer ones are cut and flagged */

struct access_record {
    int64_t time_ms;        /* wall clock when the request began */
    int64_t latency_us;     /* until its answer was sent (or the connection ended) */
    uint64_t bytes_in;      /* request body */
    uint64_t bytes_out;     /* response body */
    unsigned status;        /* 0: no answer was sent */
    const char *route;      /* a route template (static), or NULL */
    const char *task;       /* a configured task's name, or NULL */
    const char *token;      /* the token's configured name, or NULL */
    const char *outcome;    /* static: "ok", "client_closed", "timeout", ... */
    unsigned char addr[16]; /* client, IPv4 mapped into IPv6 */
    unsigned char has_addr;
    unsigned char path_cut; /* the path was longer than ACCESS_PATH_MAX */
    char method[12];
    char error[32]; /* the error code answered, or "" */
    char request_id[REQUEST_ID_MAX + 1];
    char path[ACCESS_PATH_MAX + 1];
};

/* Copies path into the record, cut at ACCESS_PATH_MAX on a UTF-8 boundary. */
void access_record_set_path(struct access_record *rec, const char *path);
/* An address as text: "127.0.0.1" for a mapped IPv4 one, else IPv6. */
void access_addr_text(const unsigned char addr[16], char *out, size_t size);
/* The record as one JSON line, newline included. */
void access_record_format(const struct access_record *rec, struct buf *out);

struct access_log;
/* dest: "stderr" or a file path (appended to, created 0640, reopened when
 * moved away, as log rotation does). queue: records the ring holds. */
struct access_log *access_log_start(const char *dest, size_t queue, struct err *e);
/* Never blocks: drops (and counts) the record when the ring is full. */
void access_log_write(struct access_log *a, const struct access_record *rec);
void access_log_stats(struct access_log *a, uint64_t *written, uint64_t *dropped);
/* Writes what is queued, stops the writer, closes the file. */
void access_log_stop(struct access_log *a);

#endif
