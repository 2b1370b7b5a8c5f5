/* The stop-word lists (written for boucle, not copied from a corpus
 * tool): short on purpose — only words that carry no topic or sentiment
 * on their own. Negations ("not", "no", "pas", "ne") are left out of both
 * lists: removing them flips the meaning a classifier needs. Each list is
 * sorted by bytes so a lookup is a binary search. */
#include "text/stopwords.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const english[] = {
    "a",      "about",  "above", "after",   "again",   "all",       "am",         "an",
    "and",    "any",    "are",   "as",      "at",      "be",        "because",    "been",
    "before", "being",  "below", "between", "both",    "but",       "by",         "can",
    "could",  "did",    "do",    "does",    "doing",   "down",      "during",     "each",
    "few",    "for",    "from",  "further", "had",     "has",       "have",       "having",
    "he",     "her",    "here",  "hers",    "herself", "him",       "himself",    "his",
    "how",    "i",      "i'd",   "i'll",    "i'm",     "i've",      "if",         "in",
    "into",   "is",     "it",    "it's",    "its",     "itself",    "let's",      "me",
    "more",   "most",   "my",    "myself",  "of",      "off",       "on",         "once",
    "only",   "or",     "other", "our",     "ours",    "ourselves", "out",        "over",
    "own",    "same",   "she",   "should",  "so",      "some",      "such",       "than",
    "that",   "that's", "the",   "their",   "theirs",  "them",      "themselves", "then",
    "there",  "these",  "they",  "this",    "those",   "through",   "to",         "too",
    "under",  "until",  "up",    "us",      "very",    "was",       "we",         "were",
    "what",   "when",   "where", "which",   "while",   "who",       "whom",       "why",
    "will",   "with",   "would", "you",     "your",    "yours",     "yourself",   "yourselves",
};

static const char *const french[] = {
    "a",        "ai",       "aie",    "aient",  "aies",  "ait",    "as",      "au",     "aura",
    "aurai",    "auraient", "aurais", "aurait", "auras", "aurez",  "aurons",  "auront", "aux",
    "avaient",  "avais",    "avait",  "avec",   "avez",  "aviez",  "avions",  "avons",  "ayant",
    "c'",       "ce",       "ceci",   "cela",   "ces",   "cet",    "cette",   "d'",     "dans",
    "de",       "des",      "du",     "elle",   "elles", "en",     "es",      "est",    "et",
    "eu",       "eue",      "eues",   "eurent", "eus",   "eut",    "eux",     "furent", "fut",
    "il",       "ils",      "j'",     "je",     "l'",    "la",     "le",      "les",    "leur",
    "leurs",    "lui",      "m'",     "ma",     "mais",  "me",     "mes",     "moi",    "mon",
    "même",     "n'",       "nos",    "notre",  "nous",  "on",     "ont",     "ou",     "par",
    "pour",     "qu'",      "que",    "qui",    "s'",    "sa",     "se",      "sera",   "serai",
    "seraient", "serais",   "serait", "seras",  "serez", "serons", "seront",  "ses",    "soi",
    "soient",   "sois",     "soit",   "sommes", "son",   "sont",   "soyez",   "soyons", "suis",
    "sur",      "t'",       "ta",     "te",     "tes",   "toi",    "ton",     "tu",     "un",
    "une",      "vos",      "votre",  "vous",   "y",     "à",      "étaient", "étais",  "était",
    "étant",    "étiez",    "étions", "été",    "étés",  "êtes",
};

static const char *const elisions[] = {"c'", "d'",      "j'",  "jusqu'",  "l'", "lorsqu'", "m'",
                                       "n'", "puisqu'", "qu'", "quoiqu'", "s'", "t'"};

int text_lang_parse(const char *s)
{
    if (!s || !*s || !strcasecmp(s, "none") || !strcasecmp(s, "false")) return TEXT_LANG_NONE;
    if (!strcasecmp(s, "english") || !strcasecmp(s, "en")) return TEXT_LANG_ENGLISH;
    if (!strcasecmp(s, "french") || !strcasecmp(s, "fr")) return TEXT_LANG_FRENCH;
    return -1;
}

const char *text_lang_name(enum text_lang lang)
{
    return lang == TEXT_LANG_ENGLISH ? "english" : lang == TEXT_LANG_FRENCH ? "french" : "none";
}

/* memcmp order with the shorter string first on a tie, as the lists are sorted */
static int in_list(const char *const *list, size_t n, const char *w, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, ml = strlen(list[mid]);
        int r = memcmp(list[mid], w, ml < len ? ml : len);
        if (!r) r = (ml > len) - (ml < len);
        if (!r) return 1;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int stopword_is(enum text_lang lang, const char *w, size_t len)
{
    if (lang == TEXT_LANG_ENGLISH)
        return in_list(english, sizeof english / sizeof *english, w, len);
    if (lang == TEXT_LANG_FRENCH) return in_list(french, sizeof french / sizeof *french, w, len);
    return 0;
}

size_t stopword_elision(enum text_lang lang, const char *w, size_t len)
{
    if (lang != TEXT_LANG_FRENCH) return 0;
    const char *apos = memchr(w, '\'', len);
    if (!apos || apos + 1 == w + len) return 0;
    size_t k = (size_t)(apos - w) + 1;
    return in_list(elisions, sizeof elisions / sizeof *elisions, w, k) ? k : 0;
}
