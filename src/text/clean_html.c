/* strip_html: tags out, entities decoded, the content of script, style and
 * template dropped, block-level tags (p, div, br, li, tr, h1..h6...) turned
 * into a line break and other non-inline tags into a space, so words on
 * either side do not run together.
 *
 * A '<' starts a tag only when a known HTML element name follows (or a
 * custom "x-y" / namespaced "o:p" one), then whitespace, '/' or '>': so
 * plain text keeps "a < b", "<3", "<acc_num>" and "<john@example.com>".
 * Every scan is linear in the text, whatever it holds: a tag never closed
 * is searched for once, not once per '<' (the predict path runs this on
 * whatever clients send). */
#include "text/clean_internal.h"

#include <string.h>

struct html {
    const char *s;
    size_t len;
    struct buf *out;
    size_t start;   /* out->len when the step began */
    char pending;   /* ' ' or '\n' owed before the next text, or 0 */
    size_t gt_from; /* memo: the first '>' at or after gt_from is at gt_at */
    size_t gt_at;   /* (len when there is none) */
    int quotes_off; /* a quoted attribute ran off the end once: stop honouring quotes */
    int no_cdata_end;
};

/* Before text starting with `first`: pays the owed break, unless the text
 * or what is already written supplies whitespace there. */
static void text_begin(struct html *h, char first)
{
    if (!h->pending) return;
    int space = first == ' ' || first == '\n' || first == '\t' || first == '\r';
    if (!space && h->out->len > h->start) {
        char last = h->out->data[h->out->len - 1];
        if (last != ' ' && last != '\n' && last != '\t') buf_append_char(h->out, h->pending);
    }
    h->pending = 0;
}

static void emit(struct html *h, const char *p, size_t n)
{
    if (!n) return;
    text_begin(h, p[0]);
    buf_append(h->out, p, n);
}

static void owe(struct html *h, char c)
{
    if (c == '\n' || !h->pending) h->pending = c; /* a line break wins over a space */
}

static size_t first_gt(struct html *h, size_t j)
{
    if (j >= h->gt_from && j <= h->gt_at) return h->gt_at;
    const char *g = j < h->len ? memchr(h->s + j, '>', h->len - j) : NULL;
    h->gt_from = j;
    h->gt_at = g ? (size_t)(g - h->s) : h->len;
    return h->gt_at;
}

/* The '>' closing a tag whose name ends at j: quoted attribute values may
 * hold '>'. Returns len when the tag is never closed. */
static size_t tag_end(struct html *h, size_t j)
{
    if (!h->quotes_off) {
        char q = 0;
        for (size_t k = j; k < h->len; k++) {
            char c = h->s[k];
            if (q) {
                if (c == q) q = 0;
            } else if (c == '"' || c == '\'') {
                q = c;
            } else if (c == '>') {
                return k;
            }
        }
        h->quotes_off = 1; /* so this full scan happens once per text */
    }
    return first_gt(h, j);
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t find_str(const char *s, size_t len, size_t from, const char *what)
{
    size_t n = strlen(what);
    for (size_t i = from; i + n <= len; i++) {
        const char *p = memchr(s + i, what[0], len - i);
        if (!p) break;
        i = (size_t)(p - s);
        if (i + n <= len && memcmp(p, what, n) == 0) return i;
    }
    return len;
}

/* <!-- comments -->, <![CDATA[text]]>, <!DOCTYPE ...> and <?xml ...?>. */
static size_t markup(struct html *h, size_t i)
{
    const char *s = h->s;
    size_t len = h->len;
    if (s[i + 1] == '!' && i + 4 <= len && memcmp(s + i, "<!--", 4) == 0) {
        size_t e = find_str(s, len, i + 4, "-->");
        return e < len ? e + 3 : len; /* an unclosed comment hides the rest, as in browsers */
    }
    if (s[i + 1] == '!' && clean_has_word_ci(s, len, i, "<![cdata[")) {
        size_t e = h->no_cdata_end ? len : find_str(s, len, i + 9, "]]>");
        if (e < len) {
            emit(h, s + i + 9, e - i - 9);
            return e + 3;
        }
        h->no_cdata_end = 1;
        emit(h, s + i, 1);
        return i + 1;
    }
    size_t e = first_gt(h, i + 2);
    if (e >= len) {
        emit(h, s + i, 1);
        return i + 1;
    }
    owe(h, ' ');
    return e + 1;
}

/* A custom element ("my-widget") or a namespaced one ("o:p"): a '-' or ':'
 * with a letter or digit after it. "<Phone: ..." is text. */
static int compound_name(const char *name, size_t n)
{
    for (size_t i = 1; i + 1 < n; i++)
        if ((name[i] == '-' || name[i] == ':') && name[i + 1] != '-' && name[i + 1] != ':')
            return 1;
    return 0;
}

/* At a '<': a tag is dropped (leaving a break or a space as its kind says);
 * anything else is text. Returns where to go on. */
static size_t on_lt(struct html *h, size_t i)
{
    const char *s = h->s;
    size_t len = h->len;
    if (i + 1 < len && (s[i + 1] == '!' || s[i + 1] == '?')) return markup(h, i);
    size_t j = i + 1 + (i + 1 < len && s[i + 1] == '/');
    size_t k = j;
    if (k < len && is_alpha(s[k]))
        while (k < len && (is_alpha(s[k]) || is_digit(s[k]) || s[k] == '-' || s[k] == ':'))
            k++;
    char after = k < len ? s[k] : 0;
    int ends_name = after == ' ' || after == '\t' || after == '\n' || after == '\r' ||
                    after == '\f' || after == '/' || after == '>';
    int kind = -1;
    if (k > j && ends_name) {
        kind = html_element_kind(s + j, k - j);
        if (kind < 0 && compound_name(s + j, k - j)) kind = HTML_SPACE;
    }
    size_t e = kind >= 0 ? tag_end(h, k) : len;
    if (e >= len) {
        emit(h, s + i, 1);
        return i + 1;
    }
    if (kind == HTML_RAW && j == i + 1) {
        char close[16] = "</";
        size_t n = k - j;
        for (size_t x = 0; x < n; x++)
            close[2 + x] = (char)(s[j + x] >= 'A' && s[j + x] <= 'Z' ? s[j + x] + 32 : s[j + x]);
        close[2 + n] = '\0';
        size_t c = clean_find_ci(s, len, e + 1, close);
        e = c < len ? first_gt(h, c) : len; /* never closed: the rest is not text */
        owe(h, ' ');
        return e < len ? e + 1 : len;
    }
    if (kind == HTML_BLOCK) owe(h, '\n');
    if (kind == HTML_SPACE || kind == HTML_RAW) owe(h, ' ');
    return e + 1;
}

/* At a '&': a character reference is decoded, anything else is text. */
static size_t on_amp(struct html *h, size_t i)
{
    const char *s = h->s;
    size_t len = h->len, j = i + 1;
    if (j < len && s[j] == '#') {
        int hex = j + 1 < len && (s[j + 1] == 'x' || s[j + 1] == 'X');
        size_t k = j + 1 + (size_t)hex, digits = 0;
        uint32_t v = 0;
        for (; k < len; k++, digits++) {
            char c = s[k];
            int d = is_digit(c)                   ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
            if (d < 0) break;
            if (v <= 0x10FFFF) v = v * (hex ? 16 : 10) + (uint32_t)d; /* past it: invalid anyway */
        }
        if (digits) {
            if (k < len && s[k] == ';') k++; /* browsers forgive a missing ';' here */
            text_begin(h, 0);
            clean_put_utf8(h->out, html_numeric_cp(v));
            return k;
        }
    } else {
        size_t k = j;
        while (k < len && k - j < 32 && (is_alpha(s[k]) || is_digit(s[k])))
            k++;
        long cp = k > j && k < len && s[k] == ';' ? html_entity(s + j, k - j) : -1;
        if (cp >= 0) {
            text_begin(h, 0);
            clean_put_utf8(h->out, (uint32_t)cp);
            return k + 1;
        }
    }
    emit(h, s + i, 1);
    return i + 1;
}

void clean_strip_html(const char *s, size_t len, struct buf *out)
{
    struct html h = {.s = s, .len = len, .out = out, .start = out->len, .gt_from = 1};
    buf_reserve(out, len);
    size_t i = 0, run = 0;
    while (i < len) {
        char c = s[i];
        if (c != '<' && c != '&') {
            i++;
            continue;
        }
        emit(&h, s + run, i - run);
        i = c == '<' ? on_lt(&h, i) : on_amp(&h, i);
        run = i;
    }
    emit(&h, s + run, len - run);
}
