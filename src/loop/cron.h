/* 5-field cron schedules ("min hour day-of-month month day-of-week"):
 * numbers, ranges a-b, lists a,b,c, steps ("every 15": star-slash-15, a-b/n), star, names
 * (jan..dec, sun..sat), 0 or 7 for Sunday; day-of-month and day-of-week
 * combine with OR when both are restricted, as in Vixie cron. Times are
 * interpreted in the process's local time zone (set TZ before threads start). */
#ifndef BOUCLE_LOOP_CRON_H
#define BOUCLE_LOOP_CRON_H

#include "base/err.h"

#include <stdint.h>

struct cron {
    uint64_t minutes; /* bit i = minute i */
    uint32_t hours;
    uint32_t mdays;  /* bits 1..31 */
    uint16_t months; /* bits 1..12 */
    uint8_t wdays;   /* bits 0..6, Sunday = 0 */
    int mday_star, wday_star;
};

/* Errors name the field and the token ("cron '0 25 * * *': hour 25 out of range 0-23"). */
int cron_parse(const char *expr, struct cron *out, struct err *e);
/* The first matching minute strictly after after_ms (ms since epoch), or -1
 * when none within 5 years. */
int64_t cron_next(const struct cron *c, int64_t after_ms);

#endif
