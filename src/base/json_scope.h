/* Request-scoped memory for jansson. jansson's allocator is one pair of
 * functions for the whole process (json_set_alloc_funcs); a predict request
 * parses a body, builds an answer and serialises it, tens of small mallocs
 * and frees that perf showed as a third of the server's CPU. Once installed,
 * jansson's allocations made by a thread inside a scope come from that
 * thread's bump arena, forgotten at once when the scope ends (its blocks are
 * kept for the next request); outside a scope they are plain malloc.
 *
 * The rule that makes it safe: a jansson value allocated inside a scope
 * must not outlive it, and a value allocated outside must not be changed
 * inside one (a grown hash table would point into the arena). Copy what
 * must live on (the prediction log and a shadow copy their strings). */
#ifndef BOUCLE_BASE_JSON_SCOPE_H
#define BOUCLE_BASE_JSON_SCOPE_H

#include "base/mem.h"

#include <stddef.h>

/* Installs the allocation functions; idempotent and thread-safe. Values
 * allocated before are freed normally (the free function hands anything
 * not in the calling thread's arena to free()). */
void json_scope_install(void);

/* Enters and leaves the calling thread's scope (scopes do not nest). */
void json_scope_begin(void);
void json_scope_end(void);
int json_scope_active(void);

/* Scratch memory for the request itself, from the same arena: zeroed,
 * valid until json_scope_end. Only inside a scope. */
void *json_scope_calloc(size_t count, size_t size);

/* Growable buffers owned by the thread and kept across scopes (serialised
 * answers, log records): empty at json_scope_begin. */
enum { JSON_SCOPE_BUFS = 4 };
struct buf *json_scope_buf(unsigned i);

/* Heap allocations the calling thread made for its scopes so far: arena
 * blocks, and buffer growth. Flat in steady state; tests check it. */
unsigned long json_scope_heap_allocs(void);

/* Frees the calling thread's arena and buffers now (threads that end do it
 * by themselves). Outside a scope only. */
void json_scope_thread_release(void);

#endif
