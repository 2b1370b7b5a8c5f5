/* Request rates, by the generic cell rate algorithm (GCRA, the token bucket
 * kept as one number): a bucket is the "theoretical arrival time" of its next
 * request; each request moves it one interval on, and is refused when that
 * would put it more than `burst` intervals ahead of now. One number per
 * client means one compare-and-swap per request: API tokens get a bucket
 * each (an array made at start, lock-free); client addresses share a
 * sharded table (a small mutex per shard, so no lock is global). */
#ifndef BOUCLE_SERVE_RATELIMIT_H
#define BOUCLE_SERVE_RATELIMIT_H

#include <stdatomic.h>
#include <stdint.h>

struct rate_rule {
    int64_t interval_ns;  /* between two requests at the steady rate; 0 = unlimited */
    int64_t tolerance_ns; /* burst * interval: how far ahead a bucket may run */
};

/* rate in requests per second (0 = unlimited), burst >= 1. */
void rate_rule_init(struct rate_rule *rule, double rate, unsigned burst);

/* Counts one request against the bucket: 0 when allowed, otherwise the
 * nanoseconds until one would be (nothing is counted then). */
int64_t rate_take(_Atomic int64_t *bucket, const struct rate_rule *rule, int64_t now_ns);

/* Buckets by client address (16 bytes: IPv6, or IPv4 mapped into it). The
 * table holds RATE_TABLE_SLOTS addresses; when it is full of clients still
 * within their window, the one closest to its refill makes room, so a flood
 * of distinct addresses can cost memory no more than a fixed table. */
enum { RATE_TABLE_SLOTS = 64 * 256 };
struct rate_table;
struct rate_table *rate_table_new(void);
void rate_table_free(struct rate_table *t);
int64_t rate_table_take(struct rate_table *t, const unsigned char addr[16],
                        const struct rate_rule *rule, int64_t now_ns);

#endif
