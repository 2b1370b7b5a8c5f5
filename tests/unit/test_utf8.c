/* UTF-8 validation per RFC 3629: what is accepted, what is refused, and
 * the offset reported for the first bad sequence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/utf8.h"

#include <string.h>

#define OFF(lit) utf8_invalid_offset(lit, sizeof(lit) - 1)
#define VALID(lit) assert_int_equal(OFF(lit), sizeof(lit) - 1)

/* Encodes a code point the straightforward way (no checks). */
static size_t encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static void test_valid(void **state)
{
    (void)state;
    assert_int_equal(utf8_invalid_offset("", 0), 0);
    assert_true(utf8_is_valid("", 0));
    assert_true(utf8_is_valid(NULL, 0));
    VALID("plain ASCII text\t\r\n~\x7f");
    VALID("\x00");                             /* NUL is a valid code point */
    VALID("caf\xc3\xa9");                      /* é, 2 bytes */
    VALID("\xc2\x80\xdf\xbf");                 /* U+0080, U+07FF: 2-byte bounds */
    VALID("\xe2\x82\xac");                     /* €, 3 bytes */
    VALID("\xe0\xa0\x80\xef\xbf\xbf");         /* U+0800, U+FFFF */
    VALID("\xed\x9f\xbf\xee\x80\x80");         /* U+D7FF, U+E000: around the surrogates */
    VALID("\xef\xbb\xbf");                     /* BOM */
    VALID("\xf0\x9f\x98\x80");                 /* 😀, 4 bytes */
    VALID("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"); /* U+10000, U+10FFFF */
    VALID("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
    /* every scalar value, encoded, is accepted */
    char b[4];
    for (unsigned cp = 0; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        size_t n = encode(cp, b);
        if (utf8_invalid_offset(b, n) != n) fail_msg("U+%04X refused", cp);
    }
}

static void test_overlongs(void **state)
{
    (void)state;
    assert_int_equal(OFF("\xc0\x80"), 0); /* NUL as 2 bytes */
    assert_int_equal(OFF("\xc0\xaf"), 0); /* '/' as 2 bytes */
    assert_int_equal(OFF("\xc1\xbf"), 0);
    assert_int_equal(OFF("\xe0\x80\x80"), 0);
    assert_int_equal(OFF("\xe0\x80\xaf"), 0);
    assert_int_equal(OFF("\xe0\x9f\xbf"), 0); /* U+07FF in 3 bytes */
    assert_int_equal(OFF("\xf0\x80\x80\x80"), 0);
    assert_int_equal(OFF("\xf0\x8f\xbf\xbf"), 0); /* U+FFFF in 4 bytes */
    assert_int_equal(OFF("ok\xc0\x80"), 2);
}

static void test_surrogates_and_range(void **state)
{
    (void)state;
    assert_int_equal(OFF("\xed\xa0\x80"), 0); /* U+D800 */
    assert_int_equal(OFF("\xed\xbf\xbf"), 0); /* U+DFFF */
    assert_int_equal(OFF("\xed\xb0\x80"), 0); /* U+DC00 */
    /* a CESU-8 surrogate pair for U+1F600 */
    assert_int_equal(OFF("x\xed\xa0\xbd\xed\xb8\x80"), 1);
    assert_int_equal(OFF("\xf4\x90\x80\x80"), 0); /* U+110000 */
    assert_int_equal(OFF("\xf4\xbf\xbf\xbf"), 0);
    assert_int_equal(OFF("\xf5\x80\x80\x80"), 0); /* lead bytes F5..FF never appear */
    assert_int_equal(OFF("\xf7\xbf\xbf\xbf"), 0);
    assert_int_equal(OFF("\xf8\x88\x80\x80\x80"), 0);
    assert_int_equal(OFF("\xfc\x84\x80\x80\x80\x80"), 0);
    assert_int_equal(OFF("\xfe"), 0);
    assert_int_equal(OFF("\xff"), 0);
}

static void test_bad_continuations(void **state)
{
    (void)state;
    assert_int_equal(OFF("\x80"), 0); /* lone continuation bytes */
    assert_int_equal(OFF("\xbf"), 0);
    assert_int_equal(OFF("abc\x80"), 3);
    assert_int_equal(OFF("\xc3\xa9\xa9"), 2); /* one continuation too many */
    /* a lead byte followed by a non-continuation */
    assert_int_equal(OFF("\xc3("), 0);
    assert_int_equal(OFF("\xe2(\xa1"), 0);
    assert_int_equal(OFF("\xe2\x82("), 0);
    assert_int_equal(OFF("\xf0\x9f\x98("), 0);
    assert_int_equal(OFF("\xc3\xc3\xa9"), 0); /* a new lead byte instead */
}

static void test_truncated(void **state)
{
    (void)state;
    assert_int_equal(OFF("\xc3"), 0);
    assert_int_equal(OFF("\xe2\x82"), 0);
    assert_int_equal(OFF("\xe2"), 0);
    assert_int_equal(OFF("\xf0\x9f\x98"), 0);
    assert_int_equal(OFF("\xf0\x9f"), 0);
    assert_int_equal(OFF("hello \xf0\x9f\x98"), 6);
    assert_int_equal(OFF("caf\xc3\xa9 \xe2\x82"), 6);
    /* the length bounds the check: a sequence cut by len is refused even
     * when the bytes after len would complete it (no read past len) */
    const char s[] = "ab\xe2\x82\xac";
    assert_int_equal(utf8_invalid_offset(s, 4), 2);
    assert_int_equal(utf8_invalid_offset(s, 3), 2);
    assert_int_equal(utf8_invalid_offset(s, 2), 2);
    assert_true(utf8_is_valid(s, 5));
    assert_false(utf8_is_valid(s, 4));
}

static void test_offset_is_the_first_bad_byte(void **state)
{
    (void)state;
    /* several problems: the first one is reported */
    assert_int_equal(OFF("a\xc3\xa9"
                         "b\xe2\x82\xac"
                         "c\xed\xa0\x80"
                         "d\xff"),
                     8);
    assert_int_equal(OFF("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\x80"), 8);
    /* in a long valid text, the offset of a single bad byte anywhere */
    char buf[3000];
    for (size_t i = 0; i < sizeof buf; i += 3)
        memcpy(buf + i, "\xe2\x82\xac", 3);
    for (size_t pos = 0; pos < sizeof buf; pos += 3) {
        char saved = buf[pos];
        buf[pos] = (char)0xff;
        assert_int_equal(utf8_invalid_offset(buf, sizeof buf), pos);
        buf[pos] = saved;
        /* a broken continuation reports the sequence's start */
        saved = buf[pos + 2];
        buf[pos + 2] = 'x';
        assert_int_equal(utf8_invalid_offset(buf, sizeof buf), pos);
        buf[pos + 2] = saved;
    }
    assert_int_equal(utf8_invalid_offset(buf, sizeof buf), sizeof buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_overlongs),
        cmocka_unit_test(test_surrogates_and_range),
        cmocka_unit_test(test_bad_continuations),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_offset_is_the_first_bad_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
