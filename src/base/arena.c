#include "base/arena.h"

#include "base/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Under AddressSanitizer (gcc's -fsanitize=address), a rewound arena's
 * memory is poisoned until it is handed out again: a value kept past its
 * request's scope (base/json_scope.h) is reported where it is read. */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct arena_block {
    struct arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->total = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block_size ? n : a->block_size;
        b = xmalloc(sizeof *b + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    UNPOISON(p, n);
    b->used += n;
    a->total += n;
    return p;
}

void *arena_calloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    if (!b) return;
    /* keep the oldest block (the last in the list): it is the usual size */
    while (b->next) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->used = 0;
    a->head = b;
    a->total = 0;
}

int arena_rewind(struct arena *a, size_t keep_max)
{
    struct arena_block *b = a->head;
    if (!b) return 0;
    if (!b->next) { /* the usual case: one block, nothing to free */
        b->used = 0;
        a->total = 0;
        POISON(b->data, b->size);
        return 0;
    }
    size_t size = 0;
    for (; b; b = b->next)
        size += b->size;
    if (size > keep_max) {
        arena_reset(a);
        POISON(a->head->data, a->head->size);
        return 0;
    }
    arena_free(a);
    b = xmalloc(sizeof *b + size);
    b->next = NULL;
    b->size = size;
    b->used = 0;
    a->head = b;
    POISON(b->data, size);
    return 1;
}

int arena_owns(const struct arena *a, const void *p)
{
    /* compared as integers: pointers into different objects may not be
     * compared with < in C */
    uintptr_t at = (uintptr_t)p;
    for (const struct arena_block *b = a->head; b; b = b->next)
        if (at >= (uintptr_t)b->data && at < (uintptr_t)b->data + b->size) return 1;
    return 0;
}

void arena_free(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}
