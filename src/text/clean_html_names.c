/* The names strip_html knows: HTML elements (so that "<acc_num>" or
 * "<john@example.com>" in plain text are not taken for tags) and character
 * entity references (the HTML 4 Latin-1 set, its special and typographic
 * characters, and a few common symbols). */
#include "text/clean_internal.h"

#include <stdlib.h>
#include <string.h>

/* sorted by name, for bsearch */
static const struct html_element elements[] = {
    {"a", HTML_INLINE},       {"abbr", HTML_INLINE},    {"address", HTML_BLOCK},
    {"area", HTML_SPACE},     {"article", HTML_BLOCK},  {"aside", HTML_BLOCK},
    {"audio", HTML_SPACE},    {"b", HTML_INLINE},       {"base", HTML_SPACE},
    {"bdi", HTML_INLINE},     {"bdo", HTML_INLINE},     {"blockquote", HTML_BLOCK},
    {"body", HTML_BLOCK},     {"br", HTML_BLOCK},       {"button", HTML_SPACE},
    {"canvas", HTML_SPACE},   {"caption", HTML_BLOCK},  {"center", HTML_BLOCK},
    {"cite", HTML_INLINE},    {"code", HTML_INLINE},    {"col", HTML_SPACE},
    {"colgroup", HTML_SPACE}, {"data", HTML_INLINE},    {"datalist", HTML_SPACE},
    {"dd", HTML_BLOCK},       {"del", HTML_INLINE},     {"details", HTML_BLOCK},
    {"dfn", HTML_INLINE},     {"dialog", HTML_BLOCK},   {"div", HTML_BLOCK},
    {"dl", HTML_BLOCK},       {"dt", HTML_BLOCK},       {"em", HTML_INLINE},
    {"embed", HTML_SPACE},    {"fieldset", HTML_BLOCK}, {"figcaption", HTML_BLOCK},
    {"figure", HTML_BLOCK},   {"font", HTML_INLINE},    {"footer", HTML_BLOCK},
    {"form", HTML_BLOCK},     {"frame", HTML_SPACE},    {"frameset", HTML_BLOCK},
    {"h1", HTML_BLOCK},       {"h2", HTML_BLOCK},       {"h3", HTML_BLOCK},
    {"h4", HTML_BLOCK},       {"h5", HTML_BLOCK},       {"h6", HTML_BLOCK},
    {"head", HTML_BLOCK},     {"header", HTML_BLOCK},   {"hgroup", HTML_BLOCK},
    {"hr", HTML_BLOCK},       {"html", HTML_BLOCK},     {"i", HTML_INLINE},
    {"iframe", HTML_SPACE},   {"img", HTML_SPACE},      {"input", HTML_SPACE},
    {"ins", HTML_INLINE},     {"kbd", HTML_INLINE},     {"label", HTML_INLINE},
    {"legend", HTML_BLOCK},   {"li", HTML_BLOCK},       {"link", HTML_SPACE},
    {"main", HTML_BLOCK},     {"map", HTML_SPACE},      {"mark", HTML_INLINE},
    {"menu", HTML_BLOCK},     {"meta", HTML_SPACE},     {"meter", HTML_SPACE},
    {"nav", HTML_BLOCK},      {"noscript", HTML_SPACE}, {"object", HTML_SPACE},
    {"ol", HTML_BLOCK},       {"optgroup", HTML_BLOCK}, {"option", HTML_BLOCK},
    {"output", HTML_SPACE},   {"p", HTML_BLOCK},        {"param", HTML_SPACE},
    {"picture", HTML_SPACE},  {"pre", HTML_BLOCK},      {"progress", HTML_SPACE},
    {"q", HTML_INLINE},       {"rp", HTML_INLINE},      {"rt", HTML_INLINE},
    {"ruby", HTML_INLINE},    {"s", HTML_INLINE},       {"samp", HTML_INLINE},
    {"script", HTML_RAW},     {"section", HTML_BLOCK},  {"select", HTML_SPACE},
    {"small", HTML_INLINE},   {"source", HTML_SPACE},   {"span", HTML_INLINE},
    {"strike", HTML_INLINE},  {"strong", HTML_INLINE},  {"style", HTML_RAW},
    {"sub", HTML_INLINE},     {"summary", HTML_BLOCK},  {"sup", HTML_INLINE},
    {"svg", HTML_SPACE},      {"table", HTML_BLOCK},    {"tbody", HTML_BLOCK},
    {"td", HTML_SPACE},       {"template", HTML_RAW},   {"textarea", HTML_SPACE},
    {"tfoot", HTML_BLOCK},    {"th", HTML_SPACE},       {"thead", HTML_BLOCK},
    {"time", HTML_INLINE},    {"title", HTML_BLOCK},    {"tr", HTML_BLOCK},
    {"track", HTML_SPACE},    {"tt", HTML_INLINE},      {"u", HTML_INLINE},
    {"ul", HTML_BLOCK},       {"var", HTML_INLINE},     {"video", HTML_SPACE},
    {"wbr", HTML_INLINE},
};

/* The Latin-1 entities name U+00A0..U+00FF in order. */
static const char *const latin1[96] = {
    "nbsp",   "iexcl",  "cent",   "pound",  "curren", "yen",    "brvbar", "sect",   "uml",
    "copy",   "ordf",   "laquo",  "not",    "shy",    "reg",    "macr",   "deg",    "plusmn",
    "sup2",   "sup3",   "acute",  "micro",  "para",   "middot", "cedil",  "sup1",   "ordm",
    "raquo",  "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",  "Atilde",
    "Auml",   "Aring",  "AElig",  "Ccedil", "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave",
    "Iacute", "Icirc",  "Iuml",   "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde",
    "Ouml",   "times",  "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN",
    "szlig",  "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig",  "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc",  "iuml",   "eth",
    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",   "divide", "oslash", "ugrave",
    "uacute", "ucirc",  "uuml",   "yacute", "thorn",  "yuml",
};

static const struct {
    const char *name;
    uint32_t cp;
} others[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"OElig", 0x152},   {"oelig", 0x153},   {"Scaron", 0x160},
    {"scaron", 0x161},  {"Yuml", 0x178},    {"fnof", 0x192},    {"circ", 0x2C6},
    {"tilde", 0x2DC},   {"ensp", 0x2002},   {"emsp", 0x2003},   {"thinsp", 0x2009},
    {"zwnj", 0x200C},   {"zwj", 0x200D},    {"lrm", 0x200E},    {"rlm", 0x200F},
    {"ndash", 0x2013},  {"mdash", 0x2014},  {"lsquo", 0x2018},  {"rsquo", 0x2019},
    {"sbquo", 0x201A},  {"ldquo", 0x201C},  {"rdquo", 0x201D},  {"bdquo", 0x201E},
    {"dagger", 0x2020}, {"Dagger", 0x2021}, {"bull", 0x2022},   {"hellip", 0x2026},
    {"permil", 0x2030}, {"prime", 0x2032},  {"Prime", 0x2033},  {"lsaquo", 0x2039},
    {"rsaquo", 0x203A}, {"oline", 0x203E},  {"frasl", 0x2044},  {"euro", 0x20AC},
    {"trade", 0x2122},  {"larr", 0x2190},   {"uarr", 0x2191},   {"rarr", 0x2192},
    {"darr", 0x2193},   {"harr", 0x2194},   {"minus", 0x2212},  {"lowast", 0x2217},
    {"radic", 0x221A},  {"infin", 0x221E},  {"ne", 0x2260},     {"equiv", 0x2261},
    {"le", 0x2264},     {"ge", 0x2265},     {"asymp", 0x2248},  {"sum", 0x2211},
    {"prod", 0x220F},   {"part", 0x2202},   {"forall", 0x2200}, {"exist", 0x2203},
    {"isin", 0x2208},   {"loz", 0x25CA},    {"spades", 0x2660}, {"clubs", 0x2663},
    {"hearts", 0x2665}, {"diams", 0x2666},  {"alpha", 0x3B1},   {"beta", 0x3B2},
    {"gamma", 0x3B3},   {"delta", 0x3B4},   {"epsilon", 0x3B5}, {"lambda", 0x3BB},
    {"mu", 0x3BC},      {"pi", 0x3C0},      {"sigma", 0x3C3},   {"omega", 0x3C9},
    {"Delta", 0x394},   {"Omega", 0x3A9},   {"Sigma", 0x3A3},   {"Pi", 0x3A0},
};

static int cmp_element(const void *key, const void *item)
{
    return strcmp(key, ((const struct html_element *)item)->name);
}

int html_element_kind(const char *name, size_t len)
{
    char low[16];
    if (len == 0 || len >= sizeof low) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        low[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    low[len] = '\0';
    const struct html_element *e = bsearch(low, elements, sizeof elements / sizeof elements[0],
                                           sizeof elements[0], cmp_element);
    return e ? (int)e->kind : -1;
}

static int name_is(const char *want, const char *name, size_t len)
{
    return strlen(want) == len && memcmp(want, name, len) == 0;
}

/* Entity names are case-sensitive (&Eacute; is not &eacute;). A linear scan
 * of ~180 short names: entities are rare enough in text for this not to show. */
long html_entity(const char *name, size_t len)
{
    for (size_t i = 0; i < 96; i++)
        if (name_is(latin1[i], name, len)) return 0xA0 + (long)i;
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (name_is(others[i].name, name, len)) return (long)others[i].cp;
    return -1;
}

/* What &#128; to &#159; mean: HTML decodes them as Windows-1252, which is
 * what the pages that write them were typed in. 0 = undefined there. */
static const uint16_t cp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

uint32_t html_numeric_cp(uint32_t v)
{
    if (v >= 0x80 && v <= 0x9F) return cp1252[v - 0x80] ? cp1252[v - 0x80] : 0xFFFD;
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0xFFFD;
    return v;
}
