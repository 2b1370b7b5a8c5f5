/* The prediction log writer. Request threads hand it records through a
 * lock-free queue (one atomic exchange per record); a writer thread
 * group-commits them to the store every few milliseconds or every batch of
 * records, so the predict path never touches SQL or disk. */
#ifndef BOUCLE_SERVE_PREDLOG_H
#define BOUCLE_SERVE_PREDLOG_H

#include "base/err.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

struct predlog;

struct predlog_stats {
    uint64_t enqueued, written, dropped, failed_batches;
    uint64_t pending;
    double last_flush_seconds;
};

/* The writer opens its own store connection from store_url. */
struct predlog *predlog_start(const char *store_url, size_t max_pending, struct err *e);
/* Copies the record's strings. Never blocks; drops (and counts) the record
 * when max_pending records are already waiting. */
void predlog_enqueue(struct predlog *p, const struct store_prediction *rec);
/* Blocks until everything enqueued before the call is committed (or failed). */
void predlog_flush(struct predlog *p);
void predlog_get_stats(struct predlog *p, struct predlog_stats *out);
/* Writes what is queued, stops the thread, frees everything. */
void predlog_stop(struct predlog *p);

#endif
