/* A bump allocator: a request, an import or a training job allocates from one
 * arena and frees everything at once at its end. */
#ifndef BOUCLE_BASE_ARENA_H
#define BOUCLE_BASE_ARENA_H

#include <stddef.h>

struct arena_block;
struct arena {
    struct arena_block *head;
    size_t block_size;
    size_t total; /* bytes handed out, for reports and limits */
};

void arena_init(struct arena *a, size_t block_size); /* 0 = 64 KiB */
void *arena_alloc(struct arena *a, size_t n);        /* 16-byte aligned, never NULL */
void *arena_calloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_reset(struct arena *a); /* frees all but the first block, for reuse */
/* Empties the arena for its next use, like arena_reset, but keeps the memory
 * an arena reused in a loop (a request thread's) needs: when it grew past
 * one block, its blocks are merged into one block of their total size, up to
 * keep_max bytes (a rare huge use does not pin its memory). After a few
 * uses of about the same size, the arena no longer allocates at all.
 * Returns 1 when it allocated the merged block. */
int arena_rewind(struct arena *a, size_t keep_max);
/* 1 when p points into one of the arena's blocks (a free function shared
 * with malloc tells the arena's pointers from the heap's). */
int arena_owns(const struct arena *a, const void *p);
void arena_free(struct arena *a);

#endif
