#include "serve/import_queue.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct import_queue {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the thread: a job, or the stop */
    pthread_cond_t idle; /* the stop: every queued request completed */
    struct import_job *waiting[IMPORT_QUEUE_MAX];
    size_t head, n_waiting;
    int running;    /* a job is on the import thread */
    int stopping;   /* no more jobs */
    size_t pending; /* queued requests not yet completed (suspended or answering) */
    pthread_t thread;
    int joined; /* the stop is done (serve_run may call it twice) */
};

static struct import_job *pop(struct import_queue *q)
{
    struct import_job *job = q->waiting[q->head];
    q->head = (q->head + 1) % IMPORT_QUEUE_MAX;
    q->n_waiting--;
    return job;
}

static void *import_main(void *arg)
{
    struct import_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->n_waiting && !q->stopping)
            pthread_cond_wait(&q->wake, &q->mu);
        if (!q->n_waiting) break; /* stopping, and the stop took the waiting ones */
        struct import_job *job = pop(q);
        q->running = 1;
        pthread_mutex_unlock(&q->mu);
        struct MHD_Connection *conn = job->conn; /* run may free the job */
        job->run(job);
        /* the request is the MHD thread's again from here: not touched after */
        MHD_resume_connection(conn);
        pthread_mutex_lock(&q->mu);
        q->running = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct import_queue *import_queue_start(struct err *e)
{
    struct import_queue *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_cond_init(&q->idle, NULL);
    int rc = pthread_create(&q->thread, NULL, import_main, q);
    if (rc != 0) {
        pthread_cond_destroy(&q->idle);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->mu);
        free(q);
        err_set(e, ERR_INTERNAL, "cannot start the import thread: %s", strerror(rc));
        return NULL;
    }
    return q;
}

enum import_submit import_queue_submit(struct import_queue *q, struct import_job *job)
{
    pthread_mutex_lock(&q->mu);
    enum import_submit rc = IMPORT_QUEUED;
    if (q->stopping)
        rc = IMPORT_STOPPING;
    else if (q->n_waiting + (size_t)q->running >= IMPORT_QUEUE_MAX)
        rc = IMPORT_QUEUE_FULL;
    else {
        /* suspended before the thread can see the job, so its resume can
         * never come first */
        MHD_suspend_connection(job->conn);
        q->waiting[(q->head + q->n_waiting) % IMPORT_QUEUE_MAX] = job;
        q->n_waiting++;
        q->pending++;
        pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void import_queue_completed(struct import_queue *q)
{
    pthread_mutex_lock(&q->mu);
    if (q->pending) q->pending--;
    if (!q->pending) pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
}

void import_queue_stop(struct import_queue *q, int wait_ms)
{
    if (!q || q->joined) return;
    struct import_job *refused[IMPORT_QUEUE_MAX];
    size_t n = 0;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    while (q->n_waiting)
        refused[n++] = pop(q);
    int running = q->running;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    if (n) log_info("stopping: %zu waiting import(s) answered 503, nothing of them stored", n);
    if (running) log_info("stopping: waiting for the running import to finish");
    for (size_t i = 0; i < n; i++) {
        struct MHD_Connection *conn = refused[i]->conn;
        refused[i]->refuse(refused[i]);
        MHD_resume_connection(conn); /* allowed from any thread */
    }
    pthread_join(q->thread, NULL); /* after the running import, if any */
    q->joined = 1;

    /* the answers go out on the MHD threads, which MHD_stop_daemon would
     * stop; a client that does not read its answer does not hold us long */
    struct timespec until = time_deadline_ms(wait_ms);
    pthread_mutex_lock(&q->mu);
    while (q->pending)
        if (pthread_cond_timedwait(&q->idle, &q->mu, &until) != 0) break;
    pthread_mutex_unlock(&q->mu);
}

void import_queue_free(struct import_queue *q)
{
    if (!q) return;
    pthread_cond_destroy(&q->idle);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
