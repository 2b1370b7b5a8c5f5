/* UTF-8 validation (RFC 3629: no overlongs, no surrogates, max U+10FFFF). */
#ifndef BOUCLE_BASE_UTF8_H
#define BOUCLE_BASE_UTF8_H

#include <stddef.h>

/* Returns the byte offset of the first invalid sequence, or len when valid. */
size_t utf8_invalid_offset(const char *s, size_t len);
static inline int utf8_is_valid(const char *s, size_t len)
{
    return utf8_invalid_offset(s, len) == len;
}

#endif
