#include "serve/ratelimit.h"

#include "base/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

void rate_rule_init(struct rate_rule *rule, double rate, unsigned burst)
{
    if (rate <= 0) {
        rule->interval_ns = 0;
        rule->tolerance_ns = 0;
        return;
    }
    rule->interval_ns = (int64_t)(1e9 / rate);
    if (rule->interval_ns < 1) rule->interval_ns = 1;
    rule->tolerance_ns = (int64_t)(burst ? burst : 1) * rule->interval_ns;
}

int64_t rate_take(_Atomic int64_t *bucket, const struct rate_rule *rule, int64_t now_ns)
{
    if (!rule->interval_ns) return 0;
    int64_t tat = atomic_load_explicit(bucket, memory_order_relaxed);
    for (;;) {
        int64_t next = (tat > now_ns ? tat : now_ns) + rule->interval_ns;
        if (next - now_ns > rule->tolerance_ns) return next - now_ns - rule->tolerance_ns;
        if (atomic_compare_exchange_weak_explicit(bucket, &tat, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return 0;
    }
}

/* ---- buckets by address ---- */

enum { SHARDS = 64, PER_SHARD = RATE_TABLE_SLOTS / SHARDS, PROBES = 16 };

struct entry {
    unsigned char addr[16];
    _Atomic int64_t tat; /* 0: never used; at or before now: as good as free */
};

struct shard {
    pthread_mutex_t mu;
    struct entry entries[PER_SHARD];
};

struct rate_table {
    struct shard shards[SHARDS];
};

struct rate_table *rate_table_new(void)
{
    struct rate_table *t = xcalloc(1, sizeof *t);
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&t->shards[i].mu, NULL);
    return t;
}

void rate_table_free(struct rate_table *t)
{
    if (!t) return;
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_destroy(&t->shards[i].mu);
    free(t);
}

/* 64-bit mix of the address (splitmix64's finaliser over both halves). */
static uint64_t addr_hash(const unsigned char addr[16])
{
    uint64_t a, b;
    memcpy(&a, addr, 8);
    memcpy(&b, addr + 8, 8);
    uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int64_t rate_table_take(struct rate_table *t, const unsigned char addr[16],
                        const struct rate_rule *rule, int64_t now_ns)
{
    if (!rule->interval_ns) return 0;
    uint64_t h = addr_hash(addr);
    struct shard *s = &t->shards[h % SHARDS];
    size_t start = (size_t)(h / SHARDS) % PER_SHARD;
    pthread_mutex_lock(&s->mu);
    struct entry *found = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBES && !found; i++) {
        struct entry *e = &s->entries[(start + i) % PER_SHARD];
        int64_t tat = atomic_load_explicit(&e->tat, memory_order_relaxed);
        if (tat && memcmp(e->addr, addr, 16) == 0)
            found = e;
        else if (!victim || tat < atomic_load_explicit(&victim->tat, memory_order_relaxed))
            victim = e; /* the emptiest bucket nearby: free, refilled, or nearest to it */
    }
    if (!found) {
        found = victim;
        memcpy(found->addr, addr, 16);
        atomic_store_explicit(&found->tat, 0, memory_order_relaxed);
    }
    int64_t wait = rate_take(&found->tat, rule, now_ns);
    pthread_mutex_unlock(&s->mu);
    return wait;
}
