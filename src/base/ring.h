/* A bounded multi-producer, single-consumer queue of fixed-size items in a
 * ring of preallocated cells (after D. Vyukov's bounded queue). Producers
 * claim a cell with one compare-and-swap and never wait or allocate: when the
 * ring is full, ring_push fails and the caller counts a drop. For records
 * that request threads hand to one writer thread (the access log). */
#ifndef BOUCLE_BASE_RING_H
#define BOUCLE_BASE_RING_H

#include <stdatomic.h>
#include <stddef.h>

struct ring {
    unsigned char *cells; /* capacity cells of `stride` bytes: a sequence number, then the item */
    size_t mask;          /* capacity - 1 */
    size_t item_size;
    size_t stride;
    _Alignas(64) _Atomic size_t head; /* next cell producers claim */
    _Alignas(64) size_t tail;         /* next cell the consumer reads (consumer only) */
};

/* capacity is rounded up to a power of two (at least 2). */
void ring_init(struct ring *q, size_t capacity, size_t item_size);
void ring_free(struct ring *q);
/* Copies item in; 0, or -1 when the ring is full. Any thread. */
int ring_push(struct ring *q, const void *item);
/* Copies the oldest item out; 1, or 0 when none is ready. One thread only. */
int ring_pop(struct ring *q, void *item);
size_t ring_capacity(const struct ring *q);

#endif
