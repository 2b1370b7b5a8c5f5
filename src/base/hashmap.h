/* A string-keyed hash map (open addressing, linear probing) holding a
 * pointer-sized value. Keys are copied. Used for vocabularies and lookups. */
#ifndef BOUCLE_BASE_HASHMAP_H
#define BOUCLE_BASE_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

struct hashmap_slot {
    char *key; /* NULL = empty */
    size_t key_len;
    uint64_t hash;
    intptr_t value;
};

struct hashmap {
    struct hashmap_slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

uint64_t hash_bytes(const void *data, size_t len); /* FNV-1a 64 */

void hashmap_init(struct hashmap *m);
void hashmap_free(struct hashmap *m);
/* Makes room for n keys in all, so inserting up to n never regrows the
 * table (one allocation instead of a chain of doublings, each a rehash
 * over freshly faulted pages). */
void hashmap_reserve(struct hashmap *m, size_t n);
/* Returns the value slot for key (len bytes), inserting it with value `dflt`
 * when absent; *inserted tells which happened (may be NULL). */
intptr_t *hashmap_upsert(struct hashmap *m, const char *key, size_t len, intptr_t dflt,
                         int *inserted);
/* Returns 1 and fills *value when found, 0 otherwise. */
int hashmap_get(const struct hashmap *m, const char *key, size_t len, intptr_t *value);
int hashmap_remove(struct hashmap *m, const char *key, size_t len);

#endif
