/* Small helpers shared by the cleaning steps. */
#include "text/clean_internal.h"

#include <string.h>

void clean_put_utf8(struct buf *out, uint32_t cp)
{
    char u[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        buf_append_char(out, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, u, 3);
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        buf_append(out, u, 4);
    }
}

int clean_has_word_ci(const char *s, size_t len, size_t i, const char *word)
{
    size_t n = strlen(word);
    if (len - i < n) return 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != word[k]) return 0;
    }
    return 1;
}

size_t clean_find_ci(const char *s, size_t len, size_t from, const char *word)
{
    while (from < len) {
        const char *lt = memchr(s + from, word[0], len - from);
        if (!lt) return len;
        size_t at = (size_t)(lt - s);
        if (clean_has_word_ci(s, len, at, word)) return at;
        from = at + 1;
    }
    return len;
}
