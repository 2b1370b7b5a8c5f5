#include "serve/predlog.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH_MAX = 512, FLUSH_INTERVAL_MS = 5 };

/* An intrusive multi-producer single-consumer queue (D. Vyukov's design):
 * producers exchange the head; the single consumer walks from the tail. */
struct node {
    _Atomic(struct node *) next;
};

/* One allocation per record, its strings after it: the request thread
 * mallocs once and the writer frees once (each free of a block from the
 * request thread's arena takes that arena's lock, which the request
 * threads' own mallocs wait on). */
struct record {
    struct node link; /* first member: a node pointer is a record pointer */
    struct store_prediction row;
    char id[40];
    char shadow_of[40]; /* a shadow answer's answered twin, "" otherwise */
    char strings[];     /* task, input, label, output, each NUL-terminated */
};

struct predlog {
    _Atomic(struct node *) head;
    struct node *tail;
    struct node stub;

    struct store *store;
    pthread_t thread;
    size_t max_pending;
    _Atomic int stopping;
    _Atomic uint64_t enqueued, written, dropped, failed_batches;
    _Atomic uint64_t pending; /* accepted and not yet written or lost */
    _Atomic uint64_t last_flush_ns;

    /* flush requests: only feedback and shutdown wait here, never predict */
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t flush_requested, flush_completed;
    size_t since_trim; /* records written since the last malloc_trim (writer only) */
};

static void push(struct predlog *p, struct node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    struct node *prev = atomic_exchange_explicit(&p->head, n, memory_order_acq_rel);
    atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Returns the oldest node, or NULL when the queue is empty. A producer caught
 * between its exchange and its link makes us spin briefly: every record
 * pushed before this call is returned before it reports empty. */
static struct node *pop(struct predlog *p)
{
    for (;;) {
        struct node *tail = p->tail;
        struct node *next = atomic_load_explicit(&tail->next, memory_order_acquire);
        if (tail == &p->stub) {
            if (!next) {
                if (atomic_load(&p->head) == &p->stub) return NULL;
                sched_yield();
                continue;
            }
            p->tail = next;
            tail = next;
            next = atomic_load_explicit(&tail->next, memory_order_acquire);
        }
        if (next) {
            p->tail = next;
            return tail;
        }
        if (tail != atomic_load(&p->head)) {
            sched_yield(); /* a push is half done */
            continue;
        }
        push(p, &p->stub);
        next = atomic_load_explicit(&tail->next, memory_order_acquire);
        if (next) {
            p->tail = next;
            return tail;
        }
        sched_yield();
    }
}

static void free_record(struct record *r)
{
    free(r);
}

/* Writes every queued record; returns how many were taken off the queue. */
static size_t drain(struct predlog *p)
{
    struct record *batch[BATCH_MAX];
    struct store_prediction rows[BATCH_MAX];
    size_t total = 0;
    for (;;) {
        size_t n = 0;
        struct node *nd;
        while (n < BATCH_MAX && (nd = pop(p)) != NULL) {
            batch[n] = (struct record *)nd;
            rows[n] = batch[n]->row;
            n++;
        }
        if (n == 0) return total;
        int64_t t0 = time_mono_ns();
        struct err e;
        err_clear(&e);
        int rc = -1;
        for (int attempt = 0; attempt < 3 && rc != 0; attempt++) {
            rc = store_predictions_add(p->store, rows, n, &e);
            if (rc != 0) time_sleep_ms(20 << attempt);
        }
        if (rc != 0) {
            log_error("prediction log: %zu records lost: %s", n, e.msg);
            atomic_fetch_add(&p->failed_batches, 1);
            atomic_fetch_add(&p->dropped, n);
        } else {
            atomic_fetch_add(&p->written, n);
        }
        atomic_fetch_sub(&p->pending, n);
        atomic_store(&p->last_flush_ns, (uint64_t)(time_mono_ns() - t0));
        for (size_t i = 0; i < n; i++)
            free_record(batch[i]);
        total += n;
    }
}

static void *writer_main(void *arg)
{
    struct predlog *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (p->flush_requested == p->flush_completed && !atomic_load(&p->stopping)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += FLUSH_INTERVAL_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->wake, &p->mu, &until);
        }
        uint64_t serving = p->flush_requested;
        int stopping = atomic_load(&p->stopping);
        pthread_mutex_unlock(&p->mu);

        size_t written = drain(p);
        /* after a burst, give the freed record memory back to the system:
         * otherwise RSS stays at the burst's peak */
        p->since_trim += written;
        if (written == 0 && p->since_trim >= 10000) {
            malloc_trim(0);
            p->since_trim = 0;
        }

        pthread_mutex_lock(&p->mu);
        p->flush_completed = serving;
        pthread_cond_broadcast(&p->done);
        pthread_mutex_unlock(&p->mu);
        if (stopping) break;
    }
    drain(p);
    return NULL;
}

struct predlog *predlog_start(const char *store_url, size_t max_pending, struct err *e)
{
    struct store *st = store_open(store_url, e);
    if (!st) return NULL;
    struct predlog *p = xcalloc(1, sizeof *p);
    atomic_init(&p->stub.next, NULL);
    atomic_init(&p->head, &p->stub);
    p->tail = &p->stub;
    p->store = st;
    p->max_pending = max_pending ? max_pending : 100000;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    int rc = pthread_create(&p->thread, NULL, writer_main, p);
    if (rc != 0) {
        store_close(st);
        free(p);
        err_set(e, ERR_INTERNAL, "cannot start the prediction log writer: %s", strerror(rc));
        return NULL;
    }
    return p;
}

static size_t size_or_0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s (with its NUL) to *at and advances it; NULL stays NULL. */
static const char *place(char **at, const char *s, size_t size)
{
    if (!s) return NULL;
    char *out = *at;
    memcpy(out, s, size);
    *at += size;
    return out;
}

void predlog_enqueue(struct predlog *p, const struct store_prediction *rec)
{
    atomic_fetch_add(&p->enqueued, 1);
    /* one counter, so the check cannot see a wrapped difference of three */
    if (atomic_fetch_add(&p->pending, 1) >= p->max_pending) {
        atomic_fetch_sub(&p->pending, 1);
        atomic_fetch_add(&p->dropped, 1);
        return;
    }
    size_t task = size_or_0(rec->task), input = size_or_0(rec->input_json),
           label = size_or_0(rec->label), output = size_or_0(rec->output_json);
    struct record *r = xmalloc(sizeof *r + task + input + label + output);
    snprintf(r->id, sizeof r->id, "%s", rec->id);
    snprintf(r->shadow_of, sizeof r->shadow_of, "%s", rec->shadow_of ? rec->shadow_of : "");
    r->row = *rec;
    r->row.id = r->id;
    r->row.shadow_of = r->shadow_of[0] ? r->shadow_of : NULL;
    char *at = r->strings;
    r->row.task = place(&at, rec->task, task);
    r->row.input_json = place(&at, rec->input_json, input);
    r->row.label = place(&at, rec->label, label);
    r->row.output_json = place(&at, rec->output_json, output);
    push(p, &r->link);
}

void predlog_flush(struct predlog *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t ticket = ++p->flush_requested;
    pthread_cond_signal(&p->wake);
    while (p->flush_completed < ticket)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void predlog_get_stats(struct predlog *p, struct predlog_stats *out)
{
    out->enqueued = atomic_load(&p->enqueued);
    out->written = atomic_load(&p->written);
    out->dropped = atomic_load(&p->dropped);
    out->failed_batches = atomic_load(&p->failed_batches);
    out->pending = atomic_load(&p->pending);
    out->last_flush_seconds = (double)atomic_load(&p->last_flush_ns) / 1e9;
}

void predlog_stop(struct predlog *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, 1);
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    store_close(p->store);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}
