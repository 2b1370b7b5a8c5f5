#include "base/mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "boucle: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

/* Linux 5.14's MADV_POPULATE_WRITE, for older headers (an older kernel
 * answers EINVAL: the hint is then lost, nothing else). */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

void mem_hint_big(void *p, size_t n)
{
    const uintptr_t page = 4096, huge = (uintptr_t)2 << 20;
    if (n < 16 * page) return; /* small arrays: not worth a syscall */
    uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t to = ((uintptr_t)p + n) & ~(page - 1);
    if (to <= from) return;
#ifdef MADV_HUGEPAGE
    if (n >= 4 * huge) {
        madvise((void *)from, to - from, MADV_HUGEPAGE);
        return;
    }
#endif
    /* Below huge-page sizes: fault the pages in with one call. On this VM
     * a page faulted on first touch costs ~12 us, one populated in bulk
     * ~4 us (a small training touches ~1,000 such pages). */
    madvise((void *)from, to - from, MADV_POPULATE_WRITE);
}

void *xcalloc_dense(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) out_of_memory(SIZE_MAX);
    size_t n = count * size;
    if (n >= (size_t)8 << 20) { /* mmap'd zero pages: zeroing them costs nothing */
        void *p = xcalloc(count, size);
        mem_hint_big(p, n);
        return p;
    }
    /* calloc may take this from the heap and clear it page by page, each a
     * fault; populated first, clearing is only the memset */
    void *p = xmalloc(n);
    mem_hint_big(p, n);
    memset(p, 0, n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct buf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!b.data) return xstrdup("");
    return buf_detach(&b);
}

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_append_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_append_char(struct buf *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *buf_detach(struct buf *b)
{
    char *p = b->data;
    if (!p) p = xstrdup("");
    buf_init(b);
    return p;
}

void buf_put_u32(struct buf *b, unsigned int v)
{
    unsigned char t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, t, 4);
}

void buf_put_u64(struct buf *b, unsigned long long v)
{
    unsigned char t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    buf_append(b, t, 8);
}

void buf_put_f64(struct buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    buf_put_u64(b, u);
}

void buf_put_str(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_put_u32(b, (unsigned int)n);
    buf_append(b, s, n);
}

void reader_init(struct reader *r, const void *data, size_t len)
{
    r->p = data;
    r->left = len;
    r->failed = 0;
}

const void *reader_bytes(struct reader *r, size_t n)
{
    if (r->failed || r->left < n) {
        r->failed = 1;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

unsigned int reader_u32(struct reader *r)
{
    const unsigned char *p = reader_bytes(r, 4);
    if (!p) return 0;
    unsigned int v = 0;
    for (int i = 0; i < 4; i++)
        v |= (unsigned int)p[i] << (8 * i);
    return v;
}

unsigned long long reader_u64(struct reader *r)
{
    const unsigned char *p = reader_bytes(r, 8);
    if (!p) return 0;
    unsigned long long v = 0;
    for (int i = 0; i < 8; i++)
        v |= (unsigned long long)p[i] << (8 * i);
    return v;
}

double reader_f64(struct reader *r)
{
    uint64_t u = reader_u64(r);
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

char *reader_str(struct reader *r, size_t max_len)
{
    size_t n = reader_u32(r);
    if (r->failed || n > max_len) {
        r->failed = 1;
        return NULL;
    }
    const char *p = reader_bytes(r, n);
    return p ? xstrndup(p, n) : NULL;
}

int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}
