#include "base/json_scope.h"

#include "base/arena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A predict request's JSON fits in one 64 KiB block; a big batch grows the
 * arena (or a buffer), and up to this much is kept for the next one (per
 * request thread): a rare huge request does not pin its memory. */
#define KEEP_MAX (1024 * 1024)

struct scope_state {
    struct arena arena;
    struct buf bufs[JSON_SCOPE_BUFS];
    int active;
    size_t bufs_cap; /* the buffers' capacity when the scope began */
    unsigned long heap_allocs;
};

static _Thread_local struct scope_state *state;
static pthread_key_t state_key; /* its destructor frees a thread's state */
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void state_free(void *p)
{
    struct scope_state *s = p;
    if (!s) return;
    if (s == state) state = NULL; /* a thread ending: jansson may still free after */
    arena_free(&s->arena);
    for (unsigned i = 0; i < JSON_SCOPE_BUFS; i++)
        buf_free(&s->bufs[i]);
    free(s);
}

static void install(void);

static struct scope_state *state_get(void)
{
    if (!state) {
        pthread_once(&install_once, install);
        state = xcalloc(1, sizeof *state);
        arena_init(&state->arena, 0);
        for (unsigned i = 0; i < JSON_SCOPE_BUFS; i++)
            buf_init(&state->bufs[i]);
        pthread_setspecific(state_key, state);
    }
    return state;
}

static void *scope_malloc(size_t n)
{
    struct scope_state *s = state;
    if (!s || !s->active) return malloc(n);
    const void *head = s->arena.head;
    void *p = arena_alloc(&s->arena, n);
    if (s->arena.head != head) s->heap_allocs++; /* the arena grew a block */
    return p;
}

static void scope_free(void *p)
{
    /* an arena pointer is forgotten with its arena; anything else came from
     * malloc, in or out of a scope */
    struct scope_state *s = state;
    if (s && arena_owns(&s->arena, p)) return;
    free(p);
}

static void install(void)
{
    pthread_key_create(&state_key, state_free);
    json_set_alloc_funcs(scope_malloc, scope_free);
}

void json_scope_install(void)
{
    pthread_once(&install_once, install);
}

static size_t bufs_capacity(const struct scope_state *s)
{
    size_t cap = 0;
    for (unsigned i = 0; i < JSON_SCOPE_BUFS; i++)
        cap += s->bufs[i].cap;
    return cap;
}

void json_scope_begin(void)
{
    struct scope_state *s = state_get();
    s->active = 1;
    for (unsigned i = 0; i < JSON_SCOPE_BUFS; i++)
        buf_reset(&s->bufs[i]);
    s->bufs_cap = bufs_capacity(s);
}

void json_scope_end(void)
{
    struct scope_state *s = state;
    if (!s) return;
    s->active = 0;
    s->heap_allocs += (unsigned long)arena_rewind(&s->arena, KEEP_MAX);
    if (bufs_capacity(s) != s->bufs_cap) s->heap_allocs++; /* a buffer grew */
    for (unsigned i = 0; i < JSON_SCOPE_BUFS; i++)
        if (s->bufs[i].cap > KEEP_MAX) buf_free(&s->bufs[i]); /* nor a huge answer */
}

int json_scope_active(void)
{
    return state && state->active;
}

void *json_scope_calloc(size_t count, size_t size)
{
    struct scope_state *s = state_get();
    if (size && count > SIZE_MAX / size) abort();
    const void *head = s->arena.head;
    void *p = arena_calloc(&s->arena, count * size);
    if (s->arena.head != head) s->heap_allocs++;
    return p;
}

struct buf *json_scope_buf(unsigned i)
{
    if (i >= JSON_SCOPE_BUFS) abort(); /* a caller's bug, not a request's */
    return &state_get()->bufs[i];
}

unsigned long json_scope_heap_allocs(void)
{
    return state ? state->heap_allocs : 0;
}

void json_scope_thread_release(void)
{
    if (!state) return;
    state_free(state);
    pthread_setspecific(state_key, NULL);
}
