/* Imports run off the HTTP threads. An import takes seconds (100,000 rows:
 * 3-4 s); on a libmicrohttpd pool thread it would stall every other
 * connection that thread serves, predicts included. So the import route
 * suspends its connection and hands the work to one import thread through
 * a small bounded queue; the job fills the request's answer, the
 * connection is resumed, and server.c sends the answer as for any request.
 *
 * Only the import route and the import thread take the queue's mutex: the
 * predict path takes nothing here. */
#ifndef BOUCLE_SERVE_IMPORT_QUEUE_H
#define BOUCLE_SERVE_IMPORT_QUEUE_H

#include "base/err.h"

#include <microhttpd.h>

/* Imports held at once, the running one included: imports are rare admin
 * operations, and each holds its body (up to limits.max_import_bytes). */
#define IMPORT_QUEUE_MAX 4

struct import_job {
    struct MHD_Connection *conn; /* suspended from submit until its answer is in */
    /* On the import thread: does the work and fills the request's answer.
     * Both callbacks may free the job; the queue resumes conn afterwards. */
    void (*run)(struct import_job *job);
    /* At shutdown, for a job not started: fills a refusal instead. */
    void (*refuse)(struct import_job *job);
};

struct import_queue;

struct import_queue *import_queue_start(struct err *e);
enum import_submit { IMPORT_QUEUED, IMPORT_QUEUE_FULL, IMPORT_STOPPING };
/* From the access handler only (libmicrohttpd's rule for suspending): on
 * IMPORT_QUEUED the connection is suspended and the job belongs to the
 * queue; otherwise nothing happened and the caller answers 503. */
enum import_submit import_queue_submit(struct import_queue *q, struct import_job *job);
/* The request-completed callback of a request that was queued: its
 * connection is done with (answered, or dropped by a client that left). */
void import_queue_completed(struct import_queue *q);
/* Before MHD_stop_daemon, which must not find a suspended connection:
 * refuses new jobs, answers the waiting ones (refuse), lets the running
 * one finish (an import cannot be abandoned half way), stops the thread,
 * then waits up to wait_ms for those answers to be sent. */
void import_queue_stop(struct import_queue *q, int wait_ms);
/* After MHD_stop_daemon (its last request-completed callbacks use q). */
void import_queue_free(struct import_queue *q);

#endif
