#include "base/ring.h"

#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A cell's sequence number says whose turn it is: equal to the position a
 * producer wants, the cell is free for it; one more, the item is ready for
 * the consumer; the consumer then sets it a lap ahead. */
static _Atomic size_t *cell_seq(const struct ring *q, size_t pos)
{
    return (_Atomic size_t *)(q->cells + (pos & q->mask) * q->stride);
}

static unsigned char *cell_item(const struct ring *q, size_t pos)
{
    return q->cells + (pos & q->mask) * q->stride + sizeof(_Atomic size_t);
}

void ring_init(struct ring *q, size_t capacity, size_t item_size)
{
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    q->mask = cap - 1;
    q->item_size = item_size;
    /* keep every cell's sequence number aligned */
    q->stride = (sizeof(_Atomic size_t) + item_size + 7) & ~(size_t)7;
    q->cells = xmalloc(cap * q->stride);
    for (size_t i = 0; i < cap; i++)
        atomic_init(cell_seq(q, i), i);
    atomic_init(&q->head, 0);
    q->tail = 0;
}

void ring_free(struct ring *q)
{
    free(q->cells);
    q->cells = NULL;
}

size_t ring_capacity(const struct ring *q)
{
    return q->mask + 1;
}

int ring_push(struct ring *q, const void *item)
{
    size_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        size_t seq = atomic_load_explicit(cell_seq(q, pos), memory_order_acquire);
        intptr_t diff = (intptr_t)seq - (intptr_t)pos;
        if (diff == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed))
                break;
        } else if (diff < 0) {
            return -1; /* the consumer has not freed this cell yet: full */
        } else {
            pos = atomic_load_explicit(&q->head, memory_order_relaxed); /* another producer won */
        }
    }
    memcpy(cell_item(q, pos), item, q->item_size);
    atomic_store_explicit(cell_seq(q, pos), pos + 1, memory_order_release);
    return 0;
}

int ring_pop(struct ring *q, void *item)
{
    size_t pos = q->tail;
    size_t seq = atomic_load_explicit(cell_seq(q, pos), memory_order_acquire);
    if (seq != pos + 1) return 0; /* empty, or its producer is still copying */
    memcpy(item, cell_item(q, pos), q->item_size);
    atomic_store_explicit(cell_seq(q, pos), pos + q->mask + 1, memory_order_release);
    q->tail = pos + 1;
    return 1;
}
