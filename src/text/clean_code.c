/* strip_code: code out of prose. HTML <pre> and <code> elements (with what
 * they hold), Markdown fenced blocks (``` or ~~~, at any indentation, so
 * fences inside list items count; an unclosed fence runs to the end, as in
 * CommonMark) and Markdown indented blocks (4 spaces or a tab beyond the
 * enclosing list item's content, after a blank line: an indented line right
 * after a paragraph line continues the paragraph, and one under a list item
 * continues the item).
 *
 * In text that holds HTML block tags the indented rule is off: indentation
 * is layout there, not code. An unclosed <pre> or <code> is left alone:
 * taking everything after a stray "<code>" in a ticket for code would lose
 * the ticket. Linear in the text: each closing tag is searched for once. */
#include "text/clean_internal.h"

#include <string.h>

struct code {
    const char *s;
    size_t len;
    struct buf *out;
    int no_pre_end, no_code_end; /* searched once to the end without finding one */
    /* Markdown line state */
    char fence;       /* '`' or '~' while inside a fenced block */
    size_t fence_len; /* its opening run's length */
    int in_indented;  /* inside an indented code block */
    size_t code_base; /* the indentation its lines are measured from */
    int prev_blank;   /* the line before was blank (or this is the first) */
    int in_list;
    size_t list_indent; /* content column of the current list item */
};

/* Columns of leading whitespace (a tab goes to the next multiple of 4) and
 * where the first other character is. */
static size_t indent_of(const char *s, size_t from, size_t end, size_t *first)
{
    size_t col = 0, i = from;
    for (; i < end && (s[i] == ' ' || s[i] == '\t'); i++)
        col = s[i] == '\t' ? (col / 4 + 1) * 4 : col + 1;
    *first = i;
    return col;
}

static int blank_to(const char *s, size_t i, size_t end)
{
    for (; i < end; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* A run of 3+ '`' or '~' at i; for '`', no backtick may follow in the info string. */
static size_t fence_at(const char *s, size_t i, size_t end, char *ch)
{
    if (i >= end || (s[i] != '`' && s[i] != '~')) return 0;
    size_t n = 0;
    while (i + n < end && s[i + n] == s[i])
        n++;
    if (n < 3) return 0;
    if (s[i] == '`' && memchr(s + i + n, '`', end - i - n)) return 0;
    *ch = s[i];
    return n;
}

/* "- ", "* ", "+ ", "1. ", "12) " at i: the marker's width with its spaces, or 0. */
static size_t list_marker(const char *s, size_t i, size_t end)
{
    size_t k = i;
    if (k < end && (s[k] == '-' || s[k] == '*' || s[k] == '+')) {
        k++;
    } else {
        while (k < end && k - i < 9 && s[k] >= '0' && s[k] <= '9')
            k++;
        if (k == i || k >= end || (s[k] != '.' && s[k] != ')')) return 0;
        k++;
    }
    if (k < end && s[k] != ' ' && s[k] != '\t' && s[k] != '\r') return 0;
    size_t sp = 0;
    while (k + sp < end && s[k + sp] == ' ')
        sp++;
    if (sp == 0 || sp > 4) sp = 1; /* 5+ spaces: the item's text starts after one (code) */
    return k - i + sp;
}

static int looks_like_html(const char *s, size_t len)
{
    static const char *const tags[] = {"<p>",   "<p ",  "<div", "<br", "<table", "<tr",
                                       "<td",   "<li",  "<ul",  "<ol", "<html",  "<body",
                                       "<span", "<pre", "<h1",  "<h2", "<h3",    "<blockquote"};
    for (const char *p = s; (p = memchr(p, '<', len - (size_t)(p - s))) != NULL; p++)
        for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++)
            if (clean_has_word_ci(s, len, (size_t)(p - s), tags[t])) return 1;
    return 0;
}

/* Copies s[i, end) but the <pre>...</pre> and <code>...</code> elements in
 * it, which may run past `end` (into later lines). Returns where copying
 * stopped: end, or past a closing tag on a later line. */
static size_t copy_text(struct code *c, size_t i, size_t end, int *mid_line)
{
    const char *s = c->s;
    size_t len = c->len, from = i;
    *mid_line = 0;
    for (; i < end; i++) {
        if (s[i] != '<') continue;
        int pre = clean_has_word_ci(s, len, i, "<pre");
        int code = !pre && clean_has_word_ci(s, len, i, "<code");
        if (!pre && !code) continue;
        size_t k = i + (pre ? 4 : 5);
        char after = k < len ? s[k] : 0;
        if (after != '>' && after != ' ' && after != '\t' && after != '\n' && after != '/')
            continue; /* <preview>, <codec> */
        int *none = pre ? &c->no_pre_end : &c->no_code_end;
        size_t close = *none ? len : clean_find_ci(s, len, k, pre ? "</pre" : "</code");
        const char *gt = close < len ? memchr(s + close, '>', len - close) : NULL;
        if (!gt) {
            *none = 1;
            continue;
        }
        buf_append(c->out, s + from, i - from);
        buf_append_char(c->out, ' ');
        size_t next = (size_t)(gt - s) + 1;
        if (next > end) {
            *mid_line = 1;
            return next;
        }
        from = next;
        i = next - 1;
    }
    buf_append(c->out, s + from, end - from);
    return end;
}

/* Decides what one Markdown line is; returns 1 when it is code to drop. */
static int code_line(struct code *c, size_t i, size_t end, int allow_indented)
{
    const char *s = c->s;
    size_t first;
    size_t col = indent_of(s, i, end, &first);
    if (c->fence) {
        char ch;
        size_t n = fence_at(s, first, end, &ch);
        if (n >= c->fence_len && ch == c->fence && blank_to(s, first + n, end)) c->fence = 0;
        return 1;
    }
    if (blank_to(s, first, end)) {
        c->prev_blank = 1;
        return c->in_indented; /* blank lines inside a code block go with it */
    }
    int prev_blank = c->prev_blank;
    c->prev_blank = 0;
    size_t base = c->in_list ? c->list_indent : 0;
    if (c->in_indented) {
        if (col >= c->code_base + 4) return 1;
        c->in_indented = 0;
    }
    char ch;
    size_t n = fence_at(s, first, end, &ch);
    if (n) {
        c->fence = ch;
        c->fence_len = n;
        return 1;
    }
    if (allow_indented && prev_blank && col >= base + 4) {
        c->in_indented = 1;
        c->code_base = base;
        return 1;
    }
    size_t marker = list_marker(s, first, end);
    if (marker) {
        c->in_list = 1;
        c->list_indent = col + marker;
    } else if (c->in_list && prev_blank && col < c->list_indent) {
        c->in_list = 0; /* an unindented paragraph after a blank line ends the list */
    }
    return 0;
}

void clean_strip_code(const char *s, size_t len, struct buf *out)
{
    struct code c = {.s = s, .len = len, .out = out, .prev_blank = 1};
    int allow_indented = !looks_like_html(s, len);
    buf_reserve(out, len);
    size_t i = 0;
    int mid_line = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - s) : len, next = nl ? end + 1 : len;
        if (!mid_line && code_line(&c, i, end, allow_indented)) {
            i = next;
            continue;
        }
        i = copy_text(&c, i, end, &mid_line);
        if (mid_line) continue;
        if (nl) buf_append_char(out, '\n');
        i = next;
    }
}
