#include "base/hashmap.h"

#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

uint64_t hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void hashmap_init(struct hashmap *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void hashmap_free(struct hashmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    hashmap_init(m);
}

static struct hashmap_slot *find(const struct hashmap *m, const char *key, size_t len, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct hashmap_slot *s = &m->slots[i];
        if (!s->key) return s;
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) return s;
    }
}

static void rehash(struct hashmap *m, size_t cap)
{
    struct hashmap old = *m;
    m->cap = cap;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    /* keys spread over every page of the table: fault them in at once */
    mem_hint_big(m->slots, m->cap * sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++) {
        struct hashmap_slot *s = &old.slots[i];
        if (s->key) *find(m, s->key, s->key_len, s->hash) = *s;
    }
    free(old.slots);
}

static void grow(struct hashmap *m)
{
    rehash(m, m->cap ? m->cap * 2 : 16);
}

void hashmap_reserve(struct hashmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 16;
    while (n * 4 > cap * 3) /* the load hashmap_upsert grows at */
        cap *= 2;
    if (cap != m->cap) rehash(m, cap);
}

intptr_t *hashmap_upsert(struct hashmap *m, const char *key, size_t len, intptr_t dflt,
                         int *inserted)
{
    if ((m->count + 1) * 4 > m->cap * 3) grow(m);
    uint64_t h = hash_bytes(key, len);
    struct hashmap_slot *s = find(m, key, len, h);
    if (inserted) *inserted = !s->key;
    if (!s->key) {
        s->key = xstrndup(key, len);
        s->key_len = len;
        s->hash = h;
        s->value = dflt;
        m->count++;
    }
    return &s->value;
}

int hashmap_get(const struct hashmap *m, const char *key, size_t len, intptr_t *value)
{
    if (!m->cap) return 0;
    struct hashmap_slot *s = find(m, key, len, hash_bytes(key, len));
    if (!s->key) return 0;
    if (value) *value = s->value;
    return 1;
}

int hashmap_remove(struct hashmap *m, const char *key, size_t len)
{
    if (!m->cap) return 0;
    struct hashmap_slot *s = find(m, key, len, hash_bytes(key, len));
    if (!s->key) return 0;
    free(s->key);
    s->key = NULL;
    m->count--;
    /* re-insert the rest of the probe run so lookups never stop early */
    size_t mask = m->cap - 1;
    for (size_t i = ((size_t)(s - m->slots) + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
        struct hashmap_slot moved = m->slots[i];
        m->slots[i].key = NULL;
        *find(m, moved.key, moved.key_len, moved.hash) = moved;
    }
    return 1;
}
