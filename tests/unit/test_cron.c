/* Cron schedules fire retrains: parsing, the next firing time (in UTC and
 * across a DST change in Europe/Paris) and the error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "loop/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ms since the epoch of a UTC wall time */
static int64_t utc(int y, int mon, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

static int set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
    return 0;
}

static int setup_utc(void **state)
{
    (void)state;
    return set_tz("UTC");
}

static struct cron parse_ok(const char *expr)
{
    struct cron c;
    struct err e = {0};
    int rc = cron_parse(expr, &c, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(rc, 0);
    return c;
}

static int64_t next(const char *expr, int64_t after)
{
    struct cron c = parse_ok(expr);
    return cron_next(&c, after);
}

static void test_every_minute(void **state)
{
    (void)state;
    int64_t t = utc(2024, 1, 1, 10, 17);
    assert_int_equal(next("* * * * *", t + 30000), utc(2024, 1, 1, 10, 18));
    assert_int_equal(next("* * * * *", t + 59999), utc(2024, 1, 1, 10, 18));
    /* strictly after */
    assert_int_equal(next("* * * * *", t), utc(2024, 1, 1, 10, 18));
    assert_int_equal(next("* * * * *", utc(2024, 12, 31, 23, 59)), utc(2025, 1, 1, 0, 0));
    /* before the epoch too */
    assert_int_equal(next("* * * * *", -90000), -60000);
}

static void test_every_quarter(void **state)
{
    (void)state;
    assert_int_equal(next("*/15 * * * *", utc(2024, 1, 1, 10, 17)), utc(2024, 1, 1, 10, 30));
    assert_int_equal(next("*/15 * * * *", utc(2024, 1, 1, 10, 30)), utc(2024, 1, 1, 10, 45));
    assert_int_equal(next("*/15 * * * *", utc(2024, 1, 1, 10, 45)), utc(2024, 1, 1, 11, 0));
    assert_int_equal(next("*/15 * * * *", utc(2024, 2, 29, 23, 50)), utc(2024, 3, 1, 0, 0));
}

static void test_weekly_sunday(void **state)
{
    (void)state;
    /* 2024-01-03 is a Wednesday */
    assert_int_equal(next("0 2 * * 0", utc(2024, 1, 3, 12, 0)), utc(2024, 1, 7, 2, 0));
    assert_int_equal(next("0 2 * * 0", utc(2024, 1, 7, 1, 59)), utc(2024, 1, 7, 2, 0));
    assert_int_equal(next("0 2 * * 0", utc(2024, 1, 7, 2, 0)), utc(2024, 1, 14, 2, 0));
    assert_int_equal(next("0 2 * * 7", utc(2024, 1, 7, 2, 0)), utc(2024, 1, 14, 2, 0));
    assert_int_equal(next("0 2 * * SUN", utc(2024, 12, 30, 0, 0)), utc(2025, 1, 5, 2, 0));
}

static void test_leap_day(void **state)
{
    (void)state;
    struct cron c = parse_ok("0 0 29 2 *");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t n1 = cron_next(&c, utc(2024, 3, 1, 0, 0));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("    cron_next(\"0 0 29 2 *\") took %.1f us\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3);
    assert_int_equal(n1, utc(2028, 2, 29, 0, 0));
    assert_int_equal(cron_next(&c, utc(2023, 1, 1, 0, 0)), utc(2024, 2, 29, 0, 0));
    assert_int_equal(cron_next(&c, utc(2024, 2, 28, 23, 59)), utc(2024, 2, 29, 0, 0));
    /* 2100 is not a leap year: 2096 -> 2104 is beyond the 5 years */
    assert_int_equal(cron_next(&c, utc(2096, 3, 1, 0, 0)), -1);
    /* never */
    assert_int_equal(next("0 0 30 2 *", utc(2024, 1, 1, 0, 0)), -1);
    assert_int_equal(next("0 0 31 4,6,9,11 *", utc(2024, 1, 1, 0, 0)), -1);
    assert_int_equal(next("0 0 31 * *", utc(2024, 4, 1, 0, 0)), utc(2024, 5, 31, 0, 0));
}

static void test_dom_dow_or_rule(void **state)
{
    (void)state;
    /* the 13th or any Friday: October 2024 has Fridays 4, 11, 18, 25; the
     * 13th is a Sunday */
    const char *e = "0 12 13 * fri";
    struct cron c = parse_ok(e);
    assert_false(c.mday_star || c.wday_star);
    assert_int_equal(next(e, utc(2024, 10, 1, 0, 0)), utc(2024, 10, 4, 12, 0));
    assert_int_equal(next(e, utc(2024, 10, 11, 12, 0)), utc(2024, 10, 13, 12, 0));
    assert_int_equal(next(e, utc(2024, 10, 13, 12, 0)), utc(2024, 10, 18, 12, 0));
    /* one side unrestricted: AND with the full set, i.e. only the other */
    assert_int_equal(next("0 12 * * fri", utc(2024, 10, 11, 12, 0)), utc(2024, 10, 18, 12, 0));
    assert_int_equal(next("0 12 13 * *", utc(2024, 10, 1, 0, 0)), utc(2024, 10, 13, 12, 0));
    /* a stepped '*' is a restriction: the 1st, 3rd, ... or a Monday */
    c = parse_ok("0 0 */2 * mon");
    assert_false(c.mday_star);
    assert_int_equal(cron_next(&c, utc(2024, 10, 1, 0, 0)), utc(2024, 10, 3, 0, 0));
    assert_int_equal(cron_next(&c, utc(2024, 10, 5, 0, 0)), utc(2024, 10, 7, 0, 0));
}

static void test_names_ranges_steps(void **state)
{
    (void)state;
    struct cron c = parse_ok("1-10/3 8-18/5 1,15,20-22 jan,JUL-Aug mon-FRI");
    assert_int_equal(c.minutes, (1ULL << 1) | (1ULL << 4) | (1ULL << 7) | (1ULL << 10));
    assert_int_equal(c.hours, (1u << 8) | (1u << 13) | (1u << 18));
    assert_int_equal(c.mdays, (1u << 1) | (1u << 15) | (1u << 20) | (1u << 21) | (1u << 22));
    assert_int_equal(c.months, (1u << 1) | (1u << 7) | (1u << 8));
    assert_int_equal(c.wdays, 0x3e);

    c = parse_ok("*/20 5/6 * * *");
    assert_int_equal(c.minutes, (1ULL << 0) | (1ULL << 20) | (1ULL << 40));
    assert_int_equal(c.hours, (1u << 5) | (1u << 11) | (1u << 17) | (1u << 23));
    assert_true(c.mday_star && c.wday_star);
    assert_int_equal(c.wdays, 0x7f);
    assert_int_equal(c.mdays, 0xfffffffe);
    assert_int_equal(c.months, 0x1ffe);

    /* 0, 7 and sun are all Sunday; 5-7 wraps Sunday in */
    assert_int_equal(parse_ok("0 0 * * 7").wdays, 1);
    assert_int_equal(parse_ok("0 0 * * Sun").wdays, 1);
    assert_int_equal(parse_ok("0 0 * * 5-7").wdays, (1 << 5) | (1 << 6) | 1);
    assert_int_equal(parse_ok("0 0 * dec *").months, 1 << 12);
    assert_int_equal(parse_ok("  0\t0 * * *  ").hours, 1);

    /* weekdays at 09:00 in January and July: 2024-07-01 is a Monday */
    assert_int_equal(next("0 9 * jan,JUL mon-fri", utc(2024, 6, 15, 0, 0)), utc(2024, 7, 1, 9, 0));
    assert_int_equal(next("30 8-18/5 * * *", utc(2024, 7, 1, 13, 31)), utc(2024, 7, 1, 18, 30));
    assert_int_equal(next("30 8-18/5 * * *", utc(2024, 7, 1, 18, 30)), utc(2024, 7, 2, 8, 30));
}

static void expect_error(const char *expr, const char *needle)
{
    struct cron c;
    struct err e = {0};
    assert_int_equal(cron_parse(expr, &c, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    if (!strstr(e.msg, needle)) fail_msg("'%s': got \"%s\", expected \"%s\"", expr, e.msg, needle);
}

static void test_errors(void **state)
{
    (void)state;
    struct cron c;
    struct err e = {0};
    assert_int_equal(cron_parse("0 25 * * *", &c, &e), -1);
    assert_string_equal(e.msg, "cron '0 25 * * *': hour: 25 is out of range 0-23");

    expect_error("0 0 * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), "
                                "found 6");
    expect_error("0 0 * *", "found 4");
    expect_error("", "found 0");
    expect_error("x * * * *", "cron 'x * * * *': minute: 'x' is not a number");
    expect_error("60 * * * *", "minute: 60 is out of range 0-59");
    expect_error("0 0 0 * *", "day-of-month: 0 is out of range 1-31");
    expect_error("0 0 32 * *", "day-of-month: 32 is out of range 1-31");
    expect_error("0 0 * 13 *", "month: 13 is out of range 1-12");
    expect_error("0 0 * * 8", "day-of-week: 8 is out of range 0-7");
    expect_error("0 0 * foo *", "month: 'foo' is not a month name (jan..dec)");
    expect_error("0 0 * * monday", "day-of-week: 'monday' is not a day name (sun..sat)");
    expect_error("0 0 * * jan", "day-of-week: 'jan' is not a day name");
    expect_error("1,,2 * * * *", "minute: empty item in the list");
    expect_error("1, * * * *", "minute: empty item in the list");
    expect_error("0 ,3 * * *", "hour: empty item in the list");
    expect_error("*/0 * * * *", "minute: step 0 is out of range 1-60");
    expect_error("*/ * * * *", "minute: the step in '*/' is not a number");
    expect_error("5-1 * * * *", "minute: range '5-1' goes backwards");
    expect_error("1- * * * *", "minute: expected a number in '1-'");
    expect_error("1x * * * *", "minute: unexpected 'x' in '1x'");
    expect_error("0 0 * * 1-3-5", "day-of-week: unexpected '-' in '1-3-5'");
    expect_error("** * * * *", "minute: unexpected '*' in '**'");
    expect_error("99999999999 * * * *", "is out of range 0-59");
}

/* Europe/Paris: 2024-03-31 02:00 CET jumps to 03:00 CEST; 2024-10-27 03:00
 * CEST falls back to 02:00 CET. Instants are written in UTC. */
static void test_paris_dst(void **state)
{
    (void)state;
    set_tz("Europe/Paris");
    /* 02:30 does not exist on March 31: skipped to April 1 (CEST, UTC+2) */
    assert_int_equal(next("30 2 * * *", utc(2024, 3, 30, 1, 0)), utc(2024, 3, 30, 1, 30));
    assert_int_equal(next("30 2 * * *", utc(2024, 3, 30, 1, 30)), utc(2024, 4, 1, 0, 30));
    assert_int_equal(next("30 2 * * *", utc(2024, 3, 31, 0, 0)), utc(2024, 4, 1, 0, 30));
    /* every minute runs straight over the gap: 01:59 CET -> 03:00 CEST */
    assert_int_equal(next("* * * * *", utc(2024, 3, 31, 0, 59)), utc(2024, 3, 31, 1, 0));
    assert_int_equal(next("0 3 * * *", utc(2024, 3, 30, 23, 0)), utc(2024, 3, 31, 1, 0));
    /* the daily 02:30 runs once on October 27, at its first occurrence */
    assert_int_equal(next("30 2 * * *", utc(2024, 10, 26, 22, 0)), utc(2024, 10, 27, 0, 30));
    assert_int_equal(next("30 2 * * *", utc(2024, 10, 27, 0, 30)), utc(2024, 10, 28, 1, 30));
    /* every minute goes through the repeated hour too: 02:59 CEST -> 02:00 CET */
    assert_int_equal(next("* * * * *", utc(2024, 10, 27, 0, 59)), utc(2024, 10, 27, 1, 0));
    assert_int_equal(next("* * * * *", utc(2024, 10, 27, 1, 0)), utc(2024, 10, 27, 1, 1));
    /* weekly Sunday 02:00 on the spring-forward Sunday: skipped a week */
    assert_int_equal(next("0 2 * * 0", utc(2024, 3, 30, 0, 0)), utc(2024, 4, 7, 0, 0));
    set_tz("UTC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_minute),    cmocka_unit_test(test_every_quarter),
        cmocka_unit_test(test_weekly_sunday),   cmocka_unit_test(test_leap_day),
        cmocka_unit_test(test_dom_dow_or_rule), cmocka_unit_test(test_names_ranges_steps),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_paris_dst),
    };
    return cmocka_run_group_tests(tests, setup_utc, NULL);
}
