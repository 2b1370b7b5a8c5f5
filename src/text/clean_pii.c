/* scrub_pii: personal data replaced by placeholder tokens — e-mail
 * addresses (<EMAIL>), IBANs with a valid mod-97 checksum (<IBAN>), card
 * numbers of 13 to 19 digits that pass Luhn (<CARD>), IPv4 and IPv6
 * addresses (<IP>), and phone numbers (<PHONE>) in international
 * (+CC ...), French (0X XX XX XX XX) and US ((555) 123-4567, 555-123-4567)
 * formats.
 *
 * Hand-written scanners rather than regular expressions: the checksums
 * need code anyway, and a scanner tried only where a word starts, each
 * looking a bounded distance ahead, keeps the step linear and fast on the
 * predict path. A candidate must start and end at a word boundary, so
 * "ID-4111..." or "v1.2.3.4" are left alone. Something shaped like a card
 * or an IBAN whose checksum fails is kept whole, and not handed to the
 * phone rules piece by piece. Dates (2024-01-15, 15/01/2024, 01.02.2024)
 * and version numbers (1.2.3, 10.0.19045) match none of the formats. */
#include "text/clean.h"
#include "text/clean_internal.h"

#include <string.h>
#include <utf8proc.h>

enum { NONE, SCRUB, KEEP };

struct hit {
    int what;
    size_t len;
    const char *token;
};

static const struct hit none = {NONE, 0, NULL};

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

static int upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int alnum(char c)
{
    return digit(c) || upper(c) || (c >= 'a' && c <= 'z');
}

static int hex(char c)
{
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A letter, digit or mark in any script. */
static int cp_is_word(int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static int word_cp_at(const char *s, size_t len, size_t i)
{
    int32_t cp;
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
    return n > 0 && cp_is_word(cp);
}

/* Whether the character before i glues i to a longer token: a letter or
 * digit, or one of the characters that join e-mail local parts and numbers. */
static int joined_before(const char *s, size_t len, size_t i)
{
    if (i == 0) return 0;
    unsigned char c = (unsigned char)s[i - 1];
    if (c < 0x80)
        return alnum((char)c) || c == '_' || c == '.' || c == '%' || c == '+' || c == '-' ||
               c == '@';
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && ((unsigned char)s[j] & 0xC0) == 0x80)
        j--;
    return word_cp_at(s, len, j);
}

/* Whether a number or address ending at e runs on into a longer token:
 * a letter or digit, or a '.', ',' or '-' and a digit (a decimal, a longer code). */
static int joined_after(const char *s, size_t len, size_t e)
{
    if (e >= len) return 0;
    char c = s[e];
    if ((unsigned char)c >= 0x80) return word_cp_at(s, len, e);
    if (alnum(c) || c == '_' || c == '@') return 1;
    return (c == '.' || c == ',' || c == '-') && e + 1 < len && digit(s[e + 1]);
}

/* ---- e-mail ------------------------------------------------------------ */

static int local_char(char c)
{
    return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static size_t email_at(const char *s, size_t len, size_t i)
{
    size_t k = i;
    while (k < len && k - i < 64 && local_char(s[k]))
        k++;
    if (k == i || k >= len || s[k] != '@' || s[i] == '.' || s[k - 1] == '.') return 0;
    size_t p = k + 1, end = 0, last = 0, labels = 0;
    while (p < len && p - k < 255) {
        size_t q = p;
        while (q < len && (alnum(s[q]) || s[q] == '-'))
            q++;
        if (q == p || s[p] == '-' || s[q - 1] == '-') break;
        labels++;
        last = p;
        end = q;
        if (q + 1 < len && s[q] == '.' && alnum(s[q + 1])) {
            p = q + 1;
            continue;
        }
        break;
    }
    if (labels < 2 || end - last < 2) return 0;
    for (size_t t = last; t < end; t++)
        if (digit(s[t])) return 0; /* a top-level domain is letters */
    if (end < len && ((unsigned char)s[end] >= 0x80 ? word_cp_at(s, len, end) : s[end] == '@'))
        return 0;
    return end - i;
}

/* ---- IBAN -------------------------------------------------------------- */

/* ISO 13616: move the first four characters to the end, read letters as
 * 10..35, and the number must be 1 modulo 97. */
static int iban_ok(const char *chars, size_t n)
{
    unsigned r = 0;
    for (size_t k = 0; k < n; k++) {
        char c = chars[(k + 4) % n];
        r = digit(c) ? (r * 10 + (unsigned)(c - '0')) % 97
                     : (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    return r == 1;
}

/* Two capital letters, two check digits, then 11 to 30 capitals or digits,
 * optionally in space-separated groups. */
static struct hit iban_at(const char *s, size_t len, size_t i)
{
    if (i + 4 > len || !upper(s[i]) || !upper(s[i + 1]) || !digit(s[i + 2]) || !digit(s[i + 3]))
        return none;
    char chars[34];
    size_t ends[34], n = 0, k = i;
    while (k < len && n < 34) {
        if (upper(s[k]) || digit(s[k])) {
            chars[n] = s[k];
            ends[n++] = ++k;
        } else if (s[k] == ' ' && k + 1 < len && (upper(s[k + 1]) || digit(s[k + 1]))) {
            k++;
        } else {
            break;
        }
    }
    if (n < 15) return none;
    for (size_t m = n; m >= 15; m--)
        if (!joined_after(s, len, ends[m - 1]) && iban_ok(chars, m))
            return (struct hit){SCRUB, ends[m - 1] - i, CLEAN_TOKEN_IBAN};
    return (struct hit){KEEP, ends[n - 1] - i, NULL};
}

/* ---- cards ------------------------------------------------------------- */

static int luhn_ok(const char *s, size_t from, size_t to)
{
    unsigned sum = 0, nonzero = 0;
    int dbl = 0;
    for (size_t k = to; k > from; k--) {
        char c = s[k - 1];
        if (!digit(c)) continue;
        unsigned d = (unsigned)(c - '0');
        nonzero |= d;
        if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
        dbl = !dbl;
    }
    return nonzero && sum % 10 == 0;
}

/* How cards are printed: all digits together, groups of four (the last may
 * be shorter: 19 digits are 4-4-4-4-3), or American Express / Diners 4-6-5 / 4-6-4. */
static int card_grouping(const size_t *groups, size_t m)
{
    if (m == 1) return 1;
    if (m == 3 && groups[0] == 4 && groups[1] == 6 && (groups[2] == 4 || groups[2] == 5)) return 1;
    for (size_t g = 0; g + 1 < m; g++)
        if (groups[g] != 4) return 0;
    return groups[m - 1] >= 1 && groups[m - 1] <= 4;
}

static struct hit card_at(const char *s, size_t len, size_t i)
{
    size_t groups[8], ends[8], ng = 0, k = i;
    char sep = 0;
    while (k < len && ng < 8) {
        size_t g = k;
        while (k < len && digit(s[k]) && k - g < 20)
            k++;
        groups[ng] = k - g;
        ends[ng++] = k;
        if (k + 1 < len && (s[k] == ' ' || s[k] == '-') && (!sep || s[k] == sep) &&
            digit(s[k + 1])) {
            sep = s[k++];
            continue;
        }
        break;
    }
    size_t shaped_end = 0;
    for (size_t m = ng; m >= 1; m--) {
        size_t digits = 0;
        for (size_t g = 0; g < m; g++)
            digits += groups[g];
        if (digits < 13 || digits > 19 || !card_grouping(groups, m)) continue;
        if (!shaped_end) shaped_end = ends[m - 1];
        if (!joined_after(s, len, ends[m - 1]) && luhn_ok(s, i, ends[m - 1]))
            return (struct hit){SCRUB, ends[m - 1] - i, CLEAN_TOKEN_CARD};
    }
    if (shaped_end) return (struct hit){KEEP, shaped_end - i, NULL};
    return none;
}

/* ---- IP addresses ------------------------------------------------------ */

static size_t ipv4_at(const char *s, size_t len, size_t i)
{
    size_t k = i;
    for (int o = 0; o < 4; o++) {
        if (o) {
            if (k >= len || s[k] != '.') return 0;
            k++;
        }
        size_t g = k;
        unsigned v = 0;
        while (k < len && digit(s[k]) && k - g < 3)
            v = v * 10 + (unsigned)(s[k++] - '0');
        if (k == g || v > 255 || (k < len && digit(s[k]))) return 0;
    }
    return joined_after(s, len, k) ? 0 : k - i;
}

/* Up to 8 groups of 1-4 hex digits, one "::" standing for the missing
 * ones, maybe an IPv4 tail. "12:30" or a MAC address have too few groups
 * and no "::"; a word like "add::ace" has no digit. */
static size_t ipv6_at(const char *s, size_t len, size_t i)
{
    if (i > 0 && s[i - 1] == ':') return 0;
    size_t k = i, groups = 0, colons = 0;
    int dbl = 0, has_digit = 0;
    if (k + 1 < len && s[k] == ':' && s[k + 1] == ':') {
        dbl = 1;
        k += 2;
        colons = 2;
    }
    for (;;) {
        size_t g = k;
        while (k < len && hex(s[k]) && k - g < 5)
            k++;
        if (k == g) break;
        if (k - g > 4) return 0;
        /* a dotted IPv4 tail (::ffff:192.0.2.1); otherwise the '.' ends a sentence */
        size_t v4 = k < len && s[k] == '.' && groups <= 6 ? ipv4_at(s, len, g) : 0;
        if (v4) {
            groups += 2;
            k = g + v4;
            has_digit = 1;
            break;
        }
        for (size_t x = g; x < k; x++)
            has_digit |= digit(s[x]);
        groups++;
        if (k + 1 < len && s[k] == ':' && s[k + 1] == ':') {
            if (dbl) return 0;
            dbl = 1;
            k += 2;
            colons += 2;
        } else if (k + 1 < len && s[k] == ':' && hex(s[k + 1])) {
            k++;
            colons++;
        } else {
            break;
        }
    }
    if (groups > 8 || (dbl ? groups > 7 : groups != 8) || colons < 2 || !has_digit) return 0;
    if (k < len && (alnum(s[k]) || s[k] == '_')) return 0;
    return k - i;
}

/* ---- phones ------------------------------------------------------------ */

static int phone_sep(char c)
{
    return c == ' ' || c == '.' || c == '-';
}

/* +CC then digits in groups (single separators, "(0)" or "(555)"): 8 to 15 digits. */
static size_t intl_phone_at(const char *s, size_t len, size_t i)
{
    size_t k = i + 1, digits = 0, end = 0;
    if (k >= len || !digit(s[k])) return 0;
    while (k < len && digits <= 15) {
        if (digit(s[k])) {
            digits++;
            end = ++k;
        } else if (phone_sep(s[k]) && k + 1 < len && (digit(s[k + 1]) || s[k + 1] == '(')) {
            k++;
        } else if (s[k] == '(') {
            size_t q = k + 1;
            while (q < len && digit(s[q]) && q - k <= 4)
                q++;
            if (q == k + 1 || q >= len || s[q] != ')') break;
            digits += q - k - 1;
            end = k = q + 1;
            if (k + 1 < len && s[k] == ' ' && digit(s[k + 1])) k++;
        } else {
            break;
        }
    }
    if (digits < 8 || digits > 15 || joined_after(s, len, end)) return 0;
    return end - i;
}

/* 0X XX XX XX XX with one separator throughout (space, '.', '-' or none). */
static size_t french_phone_at(const char *s, size_t len, size_t i)
{
    if (i + 2 > len || s[i] != '0' || s[i + 1] < '1' || s[i + 1] > '9') return 0;
    size_t k = i + 2;
    int sep = -1;
    for (int pair = 0; pair < 4; pair++) {
        int here = k < len && phone_sep(s[k]) ? s[k] : 0;
        if (sep < 0) sep = here;
        if (here != sep) return 0;
        if (here) k++;
        if (k + 2 > len || !digit(s[k]) || !digit(s[k + 1])) return 0;
        k += 2;
    }
    if (joined_after(s, len, k)) return 0;
    if (sep && k + 1 < len && s[k] == sep && digit(s[k + 1])) return 0;
    return k - i;
}

static size_t digits_at(const char *s, size_t len, size_t k, size_t n)
{
    for (size_t x = 0; x < n; x++)
        if (k + x >= len || !digit(s[k + x])) return 0;
    return n;
}

/* (555) 123-4567, (555)123.4567, 555-123-4567, 555.123.4567, 1-555-123-4567. */
static size_t us_phone_at(const char *s, size_t len, size_t i)
{
    size_t k = i;
    char sep;
    if (s[k] == '(') {
        if (!digits_at(s, len, k + 1, 3) || k + 4 >= len || s[k + 4] != ')') return 0;
        k += 5;
        if (k < len && s[k] == ' ') k++;
        if (!digits_at(s, len, k, 3) || k + 3 >= len) return 0;
        k += 3;
        sep = s[k];
        if (!phone_sep(sep)) return 0;
        k++;
    } else {
        /* an optional leading country code 1, with the same separator */
        if (s[k] == '1' && k + 1 < len && (s[k + 1] == '-' || s[k + 1] == '.') &&
            digits_at(s, len, k + 2, 3))
            k += 2;
        if (!digits_at(s, len, k, 3) || k + 3 >= len) return 0;
        sep = s[k + 3];
        if ((sep != '-' && sep != '.') || (k != i && s[i + 1] != sep)) return 0;
        for (int g = 0; g < 2; g++) {
            if (!digits_at(s, len, k, 3) || k + 3 >= len || s[k + 3] != sep) return 0;
            k += 4;
        }
    }
    if (!digits_at(s, len, k, 4)) return 0;
    k += 4;
    if (joined_after(s, len, k) || (k + 1 < len && s[k] == sep && digit(s[k + 1]))) return 0;
    return k - i;
}

/* ---- the scan ---------------------------------------------------------- */

static struct hit scrub(size_t n, const char *token)
{
    return n ? (struct hit){SCRUB, n, token} : none;
}

static struct hit find_at(const char *s, size_t len, size_t i)
{
    char c = s[i];
    size_t n;
    struct hit h;
    if (c == '+') return scrub(intl_phone_at(s, len, i), CLEAN_TOKEN_PHONE);
    if (c == '(') return scrub(us_phone_at(s, len, i), CLEAN_TOKEN_PHONE);
    if ((n = email_at(s, len, i))) return scrub(n, CLEAN_TOKEN_EMAIL);
    if (upper(c) && (h = iban_at(s, len, i)).what != NONE) return h;
    if (hex(c) || c == ':')
        if ((n = ipv6_at(s, len, i))) return scrub(n, CLEAN_TOKEN_IP);
    if (!digit(c)) return none;
    if ((n = ipv4_at(s, len, i))) return scrub(n, CLEAN_TOKEN_IP);
    if ((h = card_at(s, len, i)).what != NONE) return h;
    if ((n = french_phone_at(s, len, i))) return scrub(n, CLEAN_TOKEN_PHONE);
    return scrub(us_phone_at(s, len, i), CLEAN_TOKEN_PHONE);
}

void clean_scrub_pii(const char *s, size_t len, struct buf *out)
{
    buf_reserve(out, len);
    size_t i = 0, run = 0;
    while (i < len) {
        char c = s[i];
        if (!(alnum(c) || c == '+' || c == '(' || c == ':' || c == '_' || c == '%') ||
            joined_before(s, len, i)) {
            i++;
            continue;
        }
        struct hit h = find_at(s, len, i);
        if (h.what == NONE) {
            /* the rest of the word cannot start anything: its letters and
             * digits all follow one */
            i++;
            while (alnum(c) && i < len && alnum(s[i]))
                i++;
            continue;
        }
        if (h.what == KEEP) {
            i += h.len;
            continue;
        }
        size_t from = i, to = i + h.len;
        /* "Name <name@example.com>": the brackets go with the address */
        if (!strcmp(h.token, CLEAN_TOKEN_EMAIL) && from > run && s[from - 1] == '<' && to < len &&
            s[to] == '>') {
            from--;
            to++;
        }
        buf_append(out, s + run, from - run);
        buf_append_str(out, h.token);
        i = run = to;
    }
    buf_append(out, s + run, len - run);
}
