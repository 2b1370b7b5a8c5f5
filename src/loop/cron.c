/* 5-field cron. cron_next walks the local wall clock field by field (month,
 * then day, then hour, then minute, jumping to the next allowed value of
 * each), with its own calendar arithmetic; only a candidate wall time is
 * turned into an instant with mktime, and a wall time that does not exist
 * (the hour skipped when DST starts) is skipped. A wall time that occurs twice
 * (the hour repeated when DST ends) is the earliest occurrence after the
 * given instant. */
#include "loop/cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] stands for value names_base + i */
    int n_names, names_base;
};

static const struct field_spec fields[5] = {
    {"minute", 0, 59, NULL, 0, 0},          {"hour", 0, 23, NULL, 0, 0},
    {"day-of-month", 1, 31, NULL, 0, 0},    {"month", 1, 12, month_names, 12, 1},
    {"day-of-week", 0, 7, day_names, 7, 0},
};

struct parse {
    const char *expr;
    const struct field_spec *f;
    struct err *e;
};

/* "cron '<expr>': <field>: <message>" */
static int fail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *ps, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(ps->e, ERR_INVALID, "cron '%s': %s: %s", ps->expr, ps->f->name, msg);
}

/* A number or a name at *p (within [*p, end)), checked against the field's
 * range; advances *p. item is the whole list item, for messages. */
static int parse_value(struct parse *ps, const char **p, const char *end, const char *item,
                       int *out)
{
    const struct field_spec *f = ps->f;
    const char *s = *p;
    if (s < end && isdigit((unsigned char)*s)) {
        long v = 0;
        while (s < end && isdigit((unsigned char)*s)) {
            if (v < 100000) v = v * 10 + (*s - '0');
            s++;
        }
        *p = s;
        *out = (int)v;
        if (v < f->min || v > f->max)
            return fail(ps, "%ld is out of range %d-%d", v, f->min, f->max);
        return 0;
    }
    while (s < end && isalpha((unsigned char)*s))
        s++;
    int len = (int)(s - *p);
    if (!len) return fail(ps, "expected a number in '%s'", item);
    if (!f->names) return fail(ps, "'%.*s' is not a number", len, *p);
    for (int i = 0; i < f->n_names; i++) {
        if (len == 3 && strncasecmp(*p, f->names[i], 3) == 0) {
            *p = s;
            *out = f->names_base + i;
            return 0;
        }
    }
    return fail(ps, "'%.*s' is not a %s name (%s..%s)", len, *p,
                f->names == month_names ? "month" : "day", f->names[0], f->names[f->n_names - 1]);
}

/* One list item in [s, end): '*', 'a' or 'a-b', each optionally '/step'
 * ('a/step' runs from a to the field's maximum). */
static int parse_item(struct parse *ps, const char *s, const char *end, uint64_t *bits)
{
    const struct field_spec *f = ps->f;
    char item[64];
    snprintf(item, sizeof item, "%.*s", (int)(end - s < 63 ? end - s : 63), s);
    if (s == end) return fail(ps, "empty item in the list");
    int lo, hi, step = 1, star = 0;
    const char *p = s;
    if (*p == '*') {
        star = 1;
        lo = f->min;
        hi = f->max == 7 ? 6 : f->max; /* '*' in day-of-week: 0-6 */
        p++;
    } else {
        if (parse_value(ps, &p, end, item, &lo) < 0) return -1;
        hi = lo;
        if (p < end && *p == '-') {
            p++;
            if (parse_value(ps, &p, end, item, &hi) < 0) return -1;
            if (hi < lo) return fail(ps, "range '%s' goes backwards", item);
        }
    }
    if (p < end && *p == '/') {
        p++;
        int span = f->max - f->min + 1;
        if (p == end || !isdigit((unsigned char)*p))
            return fail(ps, "the step in '%s' is not a number", item);
        long v = 0;
        while (p < end && isdigit((unsigned char)*p)) {
            if (v < 100000) v = v * 10 + (*p - '0');
            p++;
        }
        if (v < 1 || v > span) return fail(ps, "step %ld is out of range 1-%d", v, span);
        step = (int)v;
        if (!star && hi == lo) hi = f->max == 7 ? 6 : f->max;
    }
    if (p != end) return fail(ps, "unexpected '%c' in '%s'", *p, item);
    for (int v = lo; v <= hi; v += step)
        *bits |= 1ULL << v;
    return 0;
}

int cron_parse(const char *expr, struct cron *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    const char *starts[6], *ends[6];
    int nf = 0;
    for (const char *p = expr;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p) break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (nf < 6) {
            starts[nf] = s;
            ends[nf] = p;
        }
        nf++;
    }
    if (nf != 5)
        return err_set(e, ERR_INVALID,
                       "cron '%s': expected 5 fields (minute hour day-of-month month "
                       "day-of-week), found %d",
                       expr, nf);

    uint64_t bits[5] = {0};
    int full[5];
    for (int i = 0; i < 5; i++) {
        struct parse ps = {expr, &fields[i], e};
        const char *s = starts[i];
        for (;;) {
            const char *c = s;
            while (c < ends[i] && *c != ',')
                c++;
            if (parse_item(&ps, s, c, &bits[i]) < 0) return -1;
            if (c == ends[i]) break;
            s = c + 1;
        }
        if (i == 4 && (bits[4] & (1ULL << 7))) bits[4] = (bits[4] | 1) & 0x7f;
        int hi = i == 4 ? 6 : fields[i].max;
        uint64_t all = ((hi == 63 ? 0 : (1ULL << (hi + 1))) - 1) & ~((1ULL << fields[i].min) - 1);
        full[i] = (bits[i] & all) == all;
    }
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->wdays = (uint8_t)bits[4];
    /* "unrestricted" as Vixie cron sees it: the field starts with '*' (and
     * covers every value, so that '*' + '/2' counts as a restriction) */
    out->mday_star = *starts[2] == '*' && full[2];
    out->wday_star = *starts[4] == '*' && full[4];
    return 0;
}

/* ---- the wall clock ---- */

struct wall {
    int y, mon, d, h, mi; /* mon 1..12 */
};

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* 0 = Sunday (Sakamoto's method). */
static int weekday(int y, int m, int d)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (m < 3) y--;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static void next_month(struct wall *w)
{
    w->d = 1;
    w->h = w->mi = 0;
    if (++w->mon > 12) {
        w->mon = 1;
        w->y++;
    }
}

static void next_day(struct wall *w)
{
    w->h = w->mi = 0;
    if (++w->d > days_in_month(w->y, w->mon)) next_month(w);
}

static void next_hour(struct wall *w)
{
    w->mi = 0;
    if (++w->h > 23) next_day(w);
}

static void next_minute(struct wall *w)
{
    if (++w->mi > 59) next_hour(w);
}

static int day_matches(const struct cron *c, const struct wall *w)
{
    int dom = (c->mdays >> w->d) & 1, dow = (c->wdays >> weekday(w->y, w->mon, w->d)) & 1;
    if (c->mday_star || c->wday_star) return dom && dow;
    return dom || dow;
}

/* The lowest set bit >= from, or -1. */
static int next_bit(uint64_t bits, int from, int max)
{
    for (int i = from; i <= max; i++)
        if ((bits >> i) & 1) return i;
    return -1;
}

/* The earliest instant after after_ms (in ms) whose local wall time is w:
 * 0 and *out, or -1 when there is none (a DST gap, or only earlier
 * occurrences). */
static int resolve(const struct wall *w, int64_t after_ms, int64_t *out)
{
    int found = 0;
    int64_t best = 0;
    static const int dst[] = {-1, 0, 1};
    for (int i = 0; i < 3; i++) {
        struct tm tm = {0};
        tm.tm_year = w->y - 1900;
        tm.tm_mon = w->mon - 1;
        tm.tm_mday = w->d;
        tm.tm_hour = w->h;
        tm.tm_min = w->mi;
        tm.tm_isdst = dst[i];
        time_t t = mktime(&tm);
        struct tm back;
        if (!localtime_r(&t, &back)) continue;
        /* also rejects mktime's (time_t)-1 error: never a whole minute */
        if (back.tm_year != w->y - 1900 || back.tm_mon != w->mon - 1 || back.tm_mday != w->d ||
            back.tm_hour != w->h || back.tm_min != w->mi || back.tm_sec != 0)
            continue;
        int64_t ms = (int64_t)t * 1000;
        if (ms > after_ms && (!found || ms < best)) {
            best = ms;
            found = 1;
        }
    }
    *out = best;
    return found ? 0 : -1;
}

int64_t cron_next(const struct cron *c, int64_t after_ms)
{
    if (!c->minutes || !c->hours || !c->months || (!c->mdays && !c->wdays)) return -1;
    int64_t minute = after_ms >= 0 ? after_ms / 60000 : -((-after_ms + 59999) / 60000);
    time_t t = (time_t)((minute + 1) * 60);
    struct tm tm;
    if (!localtime_r(&t, &tm)) return -1;
    struct wall w = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min};
    int last_year = w.y + 5;
    while (w.y <= last_year) {
        if (!((c->months >> w.mon) & 1)) {
            next_month(&w);
            continue;
        }
        if (!day_matches(c, &w)) {
            next_day(&w);
            continue;
        }
        int h = next_bit(c->hours, w.h, 23);
        if (h < 0) {
            next_day(&w);
            continue;
        }
        if (h != w.h) {
            w.h = h;
            w.mi = 0;
        }
        int m = next_bit(c->minutes, w.mi, 59);
        if (m < 0) {
            next_hour(&w);
            continue;
        }
        w.mi = m;
        int64_t ms;
        if (resolve(&w, after_ms, &ms) == 0) return ms;
        next_minute(&w); /* this wall time does not exist (or is already past) */
    }
    return -1;
}
