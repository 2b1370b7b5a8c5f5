/* Allocation that cannot return NULL (out of memory aborts: a process that
 * cannot allocate a few bytes cannot report anything useful either), growable
 * buffers and small string helpers. */
#ifndef BOUCLE_BASE_MEM_H
#define BOUCLE_BASE_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Prepares [p, p + n), an array about to be filled, for its first touch:
 * when it is large, asks the kernel to back it with huge pages
 * (transparent huge pages in madvise mode); when it is of medium size
 * (64 KiB to 8 MiB), faults its pages in with one call. A training's big
 * arrays are touched once each, and on a VM every 4 KiB page fault is
 * costly. A hint only: nothing changes where it is not available. */
void mem_hint_big(void *p, size_t n);
/* xcalloc for an array that is about to be written all over (a model's
 * weights): its pages are faulted in with one call (mem_hint_big). */
void *xcalloc_dense(size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated once anything was appended. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the memory to the caller (who frees it) and resets b. */
char *buf_detach(struct buf *b);

/* Little-endian fixed-width writers/readers for binary formats (artifacts). */
void buf_put_u32(struct buf *b, unsigned int v);
void buf_put_u64(struct buf *b, unsigned long long v);
void buf_put_f64(struct buf *b, double v);
void buf_put_str(struct buf *b, const char *s); /* u32 length + bytes */

struct reader {
    const unsigned char *p;
    size_t left;
    int failed; /* set once a read ran past the end; later reads return 0 */
};
void reader_init(struct reader *r, const void *data, size_t len);
unsigned int reader_u32(struct reader *r);
unsigned long long reader_u64(struct reader *r);
double reader_f64(struct reader *r);
/* Returns a freshly allocated NUL-terminated copy, or NULL past the end
 * or when the length exceeds max_len. */
char *reader_str(struct reader *r, size_t max_len);
const void *reader_bytes(struct reader *r, size_t n);

int str_eq(const char *a, const char *b);
int str_starts_with(const char *s, const char *prefix);
int str_ends_with(const char *s, const char *suffix);

#endif
