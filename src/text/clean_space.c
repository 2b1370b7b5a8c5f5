/* normalize_whitespace: every run of whitespace becomes one space, with none
 * at either end. Whitespace here is wider than ASCII: the Unicode spaces
 * (no-break, thin, ideographic...), line and paragraph separators, the
 * other C0 control characters and DEL (invisible junk in pasted text), and
 * the soft hyphen, zero-width space, word joiner and byte-order mark, removed
 * outright since they separate nothing. The zero-width joiner is kept: it
 * glues emoji sequences together. */
#include "text/clean_internal.h"

#include <string.h>

/* 3-byte whitespace in U+2000..U+3000, as the second and third bytes after 0xE2/0xE3. */
static size_t space3(const unsigned char *p)
{
    if (p[0] == 0xE2 && p[1] == 0x80) {
        unsigned c = p[2];
        /* U+2000..U+200A spaces, U+200B zero width, U+2028/9 separators, U+202F */
        if ((c >= 0x80 && c <= 0x8B) || c == 0xA8 || c == 0xA9 || c == 0xAF) return 3;
    }
    if (p[0] == 0xE2 && p[1] == 0x81 && (p[2] == 0x9F || p[2] == 0xA0)) return 3; /* 205F, 2060 */
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) return 3;                   /* U+3000 */
    if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) return 3;                   /* U+1680 */
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) return 3;                   /* U+FEFF */
    return 0;
}

size_t clean_space_at(const char *s, size_t len, size_t i)
{
    const unsigned char *p = (const unsigned char *)s + i;
    size_t left = len - i;
    if (p[0] <= 0x20 || p[0] == 0x7F) return 1;
    if (p[0] < 0x80) return 0;
    if (left >= 2 && p[0] == 0xC2 && (p[1] <= 0x9F || p[1] == 0xA0 || p[1] == 0xAD))
        return 2; /* C1 controls (NEL among them), no-break space, soft hyphen */
    if (left >= 3) return space3(p);
    return 0;
}

/* Zero-width characters vanish; the others are real separators. */
static int zero_width(const char *s, size_t i, size_t k)
{
    const unsigned char *p = (const unsigned char *)s + i;
    if (k == 2) return p[0] == 0xC2 && p[1] == 0xAD;
    if (k != 3) return 0;
    return (p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x8B) ||
           (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0xA0) ||
           (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF);
}

void clean_normalize_space(const char *s, size_t len, struct buf *out)
{
    size_t start = out->len;
    int pending = 0; /* a space is owed before the next visible character */
    size_t run = 0;  /* visible bytes not yet copied, ending at i */
    buf_reserve(out, len);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c > 0x20 && c < 0x7F ? 0 : clean_space_at(s, len, i);
        if (!k) {
            if (pending && !run) {
                if (out->len > start) buf_append_char(out, ' ');
                pending = 0;
            }
            /* printable ASCII, the common case, in one sweep */
            size_t j = i + 1;
            while (j < len && (unsigned char)s[j] > 0x20 && (unsigned char)s[j] < 0x7F)
                j++;
            run += j - i;
            i = j;
            continue;
        }
        buf_append(out, s + i - run, run);
        run = 0;
        if (!zero_width(s, i, k)) pending = 1;
        i += k;
    }
    buf_append(out, s + len - run, run);
}
