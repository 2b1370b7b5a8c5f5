/* Tokenizer: first normalise the whole input to code points (ASCII takes a
 * table fast path; the rest goes through utf8proc's per-code-point NFKC +
 * case-fold decomposition, canonical reordering and composition), then cut
 * tokens over the code points with one pass of a small state machine. */
#include "text/tokenize.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum cls { C_SEP, C_SPACE, C_WORD, C_MARK, C_SIGIL, C_APOS, C_NUMSEP, C_SYMBOL };

/* Classes of the ASCII code points, filled once (the table is tiny and
 * avoids a utf8proc lookup for the common case). */
static unsigned char ascii_cls[128];
static pthread_once_t ascii_once = PTHREAD_ONCE_INIT;

static void ascii_init(void)
{
    for (int c = 0; c < 128; c++) {
        enum cls k = C_SEP;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            k = C_WORD;
        else if (c == ' ' || (c >= '\t' && c <= '\r'))
            k = C_SPACE;
        else if (c == '@' || c == '#')
            k = C_SIGIL;
        else if (c == '\'')
            k = C_APOS;
        else if (c == '.' || c == ',')
            k = C_NUMSEP;
        ascii_cls[c] = (unsigned char)k;
    }
}

static enum cls classify(int32_t cp)
{
    if (cp < 128) return (enum cls)ascii_cls[cp];
    if (cp == 0x2019) return C_APOS; /* typographic apostrophe: don’t = don't */
    switch (utf8proc_get_property(cp)->category) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return C_WORD;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_SO:
        return C_SYMBOL;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return C_SPACE;
    default:
        return C_SEP;
    }
}

static int is_digit(int32_t cp)
{
    if (cp < 128) return cp >= '0' && cp <= '9';
    return utf8proc_get_property(cp)->category == UTF8PROC_CATEGORY_ND;
}

void tokens_init(struct tokens *t)
{
    memset(t, 0, sizeof *t);
    buf_init(&t->text);
}

void tokens_free(struct tokens *t)
{
    buf_free(&t->text);
    free(t->off);
    free(t->len);
    free(t->cps);
    memset(t, 0, sizeof *t);
}

static void cps_reserve(struct tokens *t, size_t need)
{
    if (need <= t->cps_cap) return;
    size_t cap = t->cps_cap ? t->cps_cap : 256;
    while (cap < need)
        cap *= 2;
    t->cps = xrealloc(t->cps, cap * sizeof *t->cps);
    t->cps_cap = cap;
}

/* Strict UTF-8 decoding (no overlongs, surrogates or values past U+10FFFF).
 * Returns the sequence length, or 0 when s[0] does not start a valid one. */
static size_t decode(const unsigned char *s, size_t left, int32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    int32_t v, min;
    if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else
        return 0;
    if (left < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

/* Canonical ordering of combining marks (a stable sort by combining class
 * within each run of non-starters), which per-code-point decomposition
 * leaves undone and composition requires. Runs are a few marks long. */
static void canonical_order(int32_t *cps, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (cps[i] < 0x300) continue;
        int cc = utf8proc_get_property(cps[i])->combining_class;
        if (!cc) continue;
        for (size_t j = i; j > 0; j--) {
            int pc = cps[j - 1] < 0x300 ? 0 : utf8proc_get_property(cps[j - 1])->combining_class;
            if (pc <= cc) break;
            int32_t tmp = cps[j];
            cps[j] = cps[j - 1];
            cps[j - 1] = tmp;
        }
    }
}

/* Fills t->cps with the NFKC case-folded code points of s; returns the count. */
static size_t normalize(const char *s, size_t len, struct tokens *t)
{
    const utf8proc_option_t opts =
        UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    int nonascii = 0;
    cps_reserve(t, len + 1);
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        if (c < 0x80) {
            cps_reserve(t, n + 1);
            t->cps[n++] = (c >= 'A' && c <= 'Z') ? (int32_t)(c + 32) : (int32_t)c;
            i++;
            continue;
        }
        int32_t cp;
        size_t k = decode(p + i, len - i, &cp);
        if (!k) { /* invalid byte: a separator, so the rest still tokenises */
            cps_reserve(t, n + 1);
            t->cps[n++] = ' ';
            i++;
            continue;
        }
        i += k;
        nonascii = 1;
        for (;;) {
            cps_reserve(t, n + 32);
            int bc = 0;
            utf8proc_ssize_t m = utf8proc_decompose_char(
                cp, t->cps + n, (utf8proc_ssize_t)(t->cps_cap - n), opts, &bc);
            if (m < 0) { /* cannot happen for a valid scalar value; be safe */
                t->cps[n++] = ' ';
                break;
            }
            if ((size_t)m <= t->cps_cap - n) {
                n += (size_t)m;
                break;
            }
            cps_reserve(t, n + (size_t)m);
        }
    }
    if (nonascii && n) {
        canonical_order(t->cps, n);
        utf8proc_ssize_t m = utf8proc_normalize_utf32(t->cps, (utf8proc_ssize_t)n,
                                                      UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        if (m >= 0) n = (size_t)m;
    }
    return n;
}

/* End (exclusive) of the word starting at i: letters, digits, marks, '_',
 * an apostrophe between word characters, and '.'/',' between digits. */
static size_t word_end(const int32_t *cps, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        enum cls k = classify(cps[j]);
        if (k == C_WORD || k == C_MARK) {
            j++;
        } else if (k == C_APOS && j > i && j + 1 < n && classify(cps[j + 1]) == C_WORD) {
            j++;
        } else if (k == C_NUMSEP && j > i && j + 1 < n && is_digit(cps[j - 1]) &&
                   is_digit(cps[j + 1])) {
            j++;
        } else {
            break;
        }
    }
    return j;
}

static void put_cp(struct buf *b, int32_t cp)
{
    if (cp == 0x2019) cp = '\''; /* one spelling for the apostrophe */
    if (cp < 0x80) {
        buf_append_char(b, (char)cp);
        return;
    }
    unsigned char u[4];
    utf8proc_ssize_t k = utf8proc_encode_char(cp, u);
    buf_append(b, u, (size_t)k);
}

static void begin_token(struct tokens *t)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->off = xrealloc(t->off, t->cap * sizeof *t->off);
        t->len = xrealloc(t->len, t->cap * sizeof *t->len);
    }
    if (t->n) buf_append_char(&t->text, ' ');
    t->off[t->n] = (uint32_t)t->text.len;
}

static void end_token(struct tokens *t)
{
    t->len[t->n] = (uint32_t)(t->text.len - t->off[t->n]);
    t->n++;
}

void tokens_append(struct tokens *t, const char *w, size_t len)
{
    begin_token(t);
    buf_append(&t->text, w, len);
    end_token(t);
}

static void emit(struct tokens *t, const int32_t *cps, size_t from, size_t to)
{
    begin_token(t);
    buf_reserve(&t->text, to - from);
    for (size_t i = from; i < to; i++)
        put_cp(&t->text, cps[i]);
    end_token(t);
}

/* The placeholders scrub_pii writes (text/clean.h), case-folded: each is
 * one token, so "<EMAIL>" is not the word "email". Returns the length at i, or 0. */
static size_t placeholder_at(const int32_t *cps, size_t n, size_t i)
{
    static const char *const names[] = {"<email>", "<phone>", "<iban>", "<card>", "<ip>"};
    for (size_t p = 0; p < sizeof names / sizeof names[0]; p++) {
        size_t k = 0;
        while (names[p][k] && i + k < n && cps[i + k] == names[p][k])
            k++;
        if (!names[p][k]) return k;
    }
    return 0;
}

/* "http://" or "https://" at i (input is already case-folded). */
static int url_at(const int32_t *cps, size_t n, size_t i)
{
    static const char http[] = "http";
    if (n - i < 7) return 0;
    for (size_t k = 0; k < 4; k++)
        if (cps[i + k] != http[k]) return 0;
    size_t j = i + 4;
    if (cps[j] == 's') j++;
    return j + 3 <= n && cps[j] == ':' && cps[j + 1] == '/' && cps[j + 2] == '/';
}

/* '!' and '?' after NFKC (which maps the fullwidth forms to them), and
 * Spanish's inverted ones. */
static int is_kept_punct(int32_t cp)
{
    return cp == '!' || cp == '?' || cp == 0xA1 || cp == 0xBF;
}

size_t tokenize(const char *s, size_t len, struct tokens *t)
{
    return tokenize_ex(s, len, 0, t);
}

size_t tokenize_ex(const char *s, size_t len, unsigned flags, struct tokens *t)
{
    pthread_once(&ascii_once, ascii_init);
    buf_reset(&t->text);
    buf_reserve(&t->text, len + 8);
    t->text.data[0] = '\0';
    t->n = 0;
    size_t n = normalize(s, len, t);
    const int32_t *cps = t->cps;
    size_t m;
    for (size_t i = 0; i < n;) {
        enum cls k = classify(cps[i]);
        if (k == C_WORD) {
            if (cps[i] == 'h' && !(flags & TOKENIZE_SPLIT_URLS) && url_at(cps, n, i)) {
                begin_token(t);
                buf_append_str(&t->text, TOKENIZE_URL);
                end_token(t);
                while (i < n && classify(cps[i]) != C_SPACE)
                    i++;
                continue;
            }
            size_t j = word_end(cps, n, i);
            emit(t, cps, i, j);
            i = j;
        } else if (k == C_SIGIL && i + 1 < n && classify(cps[i + 1]) == C_WORD &&
                   (i == 0 || classify(cps[i - 1]) != C_WORD)) {
            /* @mention / #hashtag; not the '@' inside an e-mail address */
            size_t j = word_end(cps, n, i + 1);
            emit(t, cps, i, j);
            i = j;
        } else if (cps[i] == '<' && (m = placeholder_at(cps, n, i)) != 0) {
            emit(t, cps, i, i + m);
            i += m;
        } else if (k == C_SYMBOL || ((flags & TOKENIZE_KEEP_PUNCT) && is_kept_punct(cps[i]))) {
            emit(t, cps, i, i + 1);
            i++;
        } else {
            i++; /* separators, and marks or apostrophes outside a word */
        }
    }
    return t->n;
}
