/* Unit tests for text/clean: each step on the tricky inputs the issue names
 * (nested tags, entities, code inside lists, Luhn and IBAN checksums, dates
 * and versions that are not phones, addresses in angle brackets), the
 * ordered runner and the artifact form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text/clean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(enum clean_step step, const char *in, const char *want)
{
    struct buf out;
    buf_init(&out);
    buf_append(&out, "", 0);
    clean_step_apply(step, in, strlen(in), &out);
    if (strcmp(out.data, want) != 0)
        fail_msg("%s(\"%s\")\n  got  \"%s\"\n  want \"%s\"", clean_step_name(step), in, out.data,
                 want);
    buf_free(&out);
}

#define HTML(in, want) check(CLEAN_STRIP_HTML, in, want)
#define CODE(in, want) check(CLEAN_STRIP_CODE, in, want)
#define PII(in, want) check(CLEAN_SCRUB_PII, in, want)
#define SPACE(in, want) check(CLEAN_NORMALIZE_WHITESPACE, in, want)
#define PII_KEPT(in) check(CLEAN_SCRUB_PII, in, in)

static void test_html_tags(void **state)
{
    (void)state;
    HTML("<div><p>Hello <b>wor</b>ld</p><p>again</p></div>", "Hello world\nagain");
    HTML("<ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>", "one\ntwo\nnested");
    HTML("line<br>break<br/>and<BR />upper", "line\nbreak\nand\nupper");
    HTML("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
    HTML("<h1>Title</h1>text<h6>small</h6>", "Title\ntext\nsmall");
    HTML("<a href=\"x.html\" title=\"a > b\">link</a>s", "links");
    HTML("<img src='a.png' alt='it&apos;s'>caption", "caption");
    HTML("<P CLASS=x>Upper</P>", "Upper");
    HTML("<o:p>word</o:p> <my-widget>w</my-widget>", "word w");
    /* script, style and template contents are not text; comments vanish */
    HTML("a<script type=\"text/javascript\">if (a < b) alert('<p>x</p>');</script>b", "a b");
    HTML("a<STYLE>p { color: red }</style>b", "a b");
    HTML("a<!-- hidden <b>bold</b> -->b", "ab");
    HTML("<!DOCTYPE html><html><body>x</body></html>", "x");
    HTML("<?xml version=\"1.0\"?>x", "x");
    HTML("a<![CDATA[ <raw> ]]>b", "a <raw> b");
    HTML("a<script>never closed", "a");
}

static void test_html_not_tags(void **state)
{
    (void)state;
    HTML("a < b and c > d", "a < b and c > d");
    HTML("I <3 it, x<y, 2<5>1", "I <3 it, x<y, 2<5>1");
    HTML("Dear <name>, account <acc_num>", "Dear <name>, account <acc_num>");
    HTML("<Phone: <tel_num>\n<Kontonummer: <acc_num>>",
         "<Phone: <tel_num>\n<Kontonummer: <acc_num>>");
    HTML("Jane <jane@example.com>", "Jane <jane@example.com>");
    HTML("unclosed <b tag", "unclosed <b tag");
    HTML("<preview> <codec>", "<preview> <codec>");
    HTML("", "");
}

static void test_html_entities(void **state)
{
    (void)state;
    HTML("fish &amp; chips &lt;b&gt; &quot;q&quot; it&#39;s it&#x27;s it&#X27;s",
         "fish & chips <b> \"q\" it's it's it's");
    HTML("a&nbsp;b", "a\xc2\xa0"
                     "b");
    HTML("caf&eacute; &Eacute;t&eacute; &euro;5 &hellip; &mdash;",
         "caf\xc3\xa9 \xc3\x89t\xc3\xa9 \xe2\x82\xac"
         "5 \xe2\x80\xa6 \xe2\x80\x94");
    /* decoded text is not parsed again: &lt;p&gt; stays a literal "<p>" */
    HTML("&lt;p&gt;not a tag&lt;/p&gt;", "<p>not a tag</p>");
    HTML("&amp;lt;", "&lt;");
    /* unknown, unterminated or malformed references are text */
    HTML("AT&T &bogus; &amp &#; &#xZZ;", "AT&T &bogus; &amp &#; &#xZZ;");
    /* numeric: a missing ';' is forgiven; invalid code points become U+FFFD;
     * 128-159 are read as Windows-1252, as browsers do */
    HTML("&#65&#66;", "AB");
    HTML("&#0; &#xD800; &#x110000; &#99999999999;",
         "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
    HTML("&#146;&#128;", "\xe2\x80\x99\xe2\x82\xac");
    HTML("&#x1F600;", "\xf0\x9f\x98\x80");
}

static void test_code_html(void **state)
{
    (void)state;
    CODE("Run <code>make install</code> then reboot", "Run   then reboot");
    CODE("Before<pre>\nint x;\n<code>y</code>\n</pre>After", "Before After");
    CODE("<PRE class=\"c\">x</PRE>done", " done");
    /* an unclosed element is left alone, and so is a longer tag name */
    CODE("use the <code> tag", "use the <code> tag");
    CODE("<preview>ok</preview>", "<preview>ok</preview>");
}

static void test_code_markdown(void **state)
{
    (void)state;
    CODE("Steps:\n```bash\nmake\nmake install\n```\nDone.", "Steps:\nDone.");
    CODE("a\n~~~~\ncode\n~~~\nstill code\n~~~~\nb", "a\nb");
    CODE("```\nnever closed\nmore", "");
    /* inline backticks are not a fence */
    CODE("use ``x`` here", "use ``x`` here");
    /* indented code needs a blank line before it */
    CODE("Para\n\n    code line\n    more\n\nText", "Para\n\nText");
    CODE("Para\n    continued paragraph", "Para\n    continued paragraph");
    CODE("\tcode at start\nx", "x");
    /* code inside lists: a fence in a list item, and indentation counted
     * from the item's content */
    CODE("1. Build:\n   ```\n   make\n   ```\n2. Ship it", "1. Build:\n2. Ship it");
    CODE("- item\n\n      code in item\n- next", "- item\n\n- next");
    CODE("- item\n\n    paragraph in item\n- next", "- item\n\n    paragraph in item\n- next");
    CODE("- item\n  - nested\n\n        code\n\nend", "- item\n  - nested\n\nend");
    CODE("- item\n  - nested\n\n      not code: under the nested item",
         "- item\n  - nested\n\n      not code: under the nested item");
    /* in HTML, indentation is layout, not code */
    CODE("<div>\n\n    <p>Hello</p>\n</div>", "<div>\n\n    <p>Hello</p>\n</div>");
}

static void test_pii_email(void **state)
{
    (void)state;
    PII("mail john.doe+tag@mail.example.co.uk now", "mail <EMAIL> now");
    PII("Jane Doe <jane@example.com> wrote", "Jane Doe <EMAIL> wrote");
    PII("(a_b@x.io), [c%d@y.fr]. e@f.org.", "(<EMAIL>), [<EMAIL>]. <EMAIL>.");
    PII("mailto:x@y.com", "mailto:<EMAIL>");
    PII_KEPT("@mention user@localhost a@b.c x@1.2.3.4 .a@b.com@");
    PII("«jean@exemple.fr»", "«<EMAIL>»");
}

static void test_pii_phone(void **state)
{
    (void)state;
    PII("call +33 6 12 34 56 78 or +33 (0)1 23 45 67 89", "call <PHONE> or <PHONE>");
    PII("+44 20 7946 0958, +1 (555) 123-4567, +4915112345678", "<PHONE>, <PHONE>, <PHONE>");
    PII("06 12 34 56 78 / 06.12.34.56.78 / 0612345678 / 01-23-45-67-89",
        "<PHONE> / <PHONE> / <PHONE> / <PHONE>");
    PII("(555) 123-4567, (555)123.4567, 555-123-4567, 555.123.4567, 1-800-555-0199",
        "<PHONE>, <PHONE>, <PHONE>, <PHONE>, <PHONE>");
    PII("Tel:0612345678.", "Tel:<PHONE>.");
    /* dates, versions, times, amounts and codes are not phones */
    PII_KEPT("on 2024-01-15, 15/01/2024, 01.02.2024, 2024.01.15 at 12:30:45");
    PII_KEPT("version 1.2.3, build 10.0.19045, v2.3.4.5, release 2023.10.1");
    PII_KEPT("+2.5% or +15 points, 555-1234, 12 34 56 78 90, 06 12 34 56 78 90");
    PII_KEPT("REF-0612345678, ticket 555-123-45678, 555-123.4567, 06 12.34 56 78");
}

static void test_pii_cards(void **state)
{
    (void)state;
    PII("card 4111 1111 1111 1111 exp", "card <CARD> exp");
    PII("4111-1111-1111-1111 / 4111111111111111 / 378282246310005 / 3782 822463 10005",
        "<CARD> / <CARD> / <CARD> / <CARD>");
    PII("5555555555554444, 6011 1111 1111 1117", "<CARD>, <CARD>");
    /* numbers that fail Luhn are kept, whole */
    PII_KEPT("4111 1111 1111 1112 and 1234567890123456 and 0000 0000 0000 0000");
    /* longer, or joined to other characters: not a card */
    PII_KEPT("ID-4111111111111111 4111111111111111x 41111111111111111111");
    /* oddly grouped digits are not read as a card */
    PII_KEPT("06 12 34 56 78 06 12");
}

static void test_pii_iban(void **state)
{
    (void)state;
    PII("IBAN FR76 3000 6000 0112 3456 7890 189 merci", "IBAN <IBAN> merci");
    PII("DE89370400440532013000, GB82 WEST 1234 5698 7654 32.", "<IBAN>, <IBAN>.");
    /* a bad checksum is kept, and not picked apart as a card or phone */
    PII_KEPT("FR76 3000 6000 0112 3456 7890 188 merci");
    PII_KEPT("DE89370400440532013001");
    PII_KEPT("AB12 short");
}

static void test_pii_ip(void **state)
{
    (void)state;
    PII("from 192.168.1.10, 10.0.0.1:8080 and http://8.8.8.8/x",
        "from <IP>, <IP>:8080 and http://<IP>/x");
    PII("2001:db8:85a3::8a2e:370:7334 fe80::1 ::1 ::ffff:192.0.2.1", "<IP> <IP> <IP> <IP>");
    PII("2001:0db8:0000:0000:0000:ff00:0042:8329.", "<IP>.");
    PII_KEPT("256.1.1.1 1.2.3 1.2.3.4.5 at 12:30 or 00:1a:2b:3c:4d:5e std::vector add::ace");
    PII_KEPT("1::2::3 12345::1");
}

static void test_whitespace(void **state)
{
    (void)state;
    SPACE("  a \t\n b  \r\n\n c  ", "a b c");
    SPACE("a\xc2\xa0"
          "b\xe2\x80\x83"
          "c\xe3\x80\x80"
          "d",
          "a b c d");
    SPACE("zero\xe2\x80\x8bwidth\xef\xbb\xbf soft\xc2\xadhyphen", "zerowidth softhyphen");
    SPACE("ctrl\x01\x7f"
          "chars",
          "ctrl chars");
    SPACE("emoji \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb kept",
          "emoji \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x92\xbb kept");
    SPACE(" \n\t", "");
    SPACE("", "");
    assert_true(clean_is_blank(" \xc2\xa0\n\xe2\x80\x8b", 7));
    assert_false(clean_is_blank(" x ", 3));
    assert_true(clean_is_blank("", 0));
}

/* The steps run in the listed order, per field, then the fields are joined. */
static void test_input_order(void **state)
{
    (void)state;
    struct clean_config c;
    clean_config_defaults(&c);
    c.steps[0] = CLEAN_STRIP_HTML;
    c.steps[1] = CLEAN_SCRUB_PII;
    c.steps[2] = CLEAN_NORMALIZE_WHITESPACE;
    c.steps[3] = CLEAN_DEDUPE; /* a row filter: nothing to do on one input */
    c.n_steps = 4;
    strcpy(c.separator, " | ");
    const char *values[] = {"<b>Refund</b>", "<p>mail &lt;a@b.com&gt;\n\n please</p>", NULL};
    size_t lens[] = {strlen(values[0]), strlen(values[1]), 0};
    struct clean_scratch sc;
    clean_scratch_init(&sc);
    struct buf out;
    buf_init(&out);
    unsigned changed = 0;
    clean_input(&c, values, lens, 3, &sc, &out, &changed);
    /* entities are decoded before PII is looked for: the brackets go too */
    assert_string_equal(out.data, "Refund | mail <EMAIL> please | ");
    assert_int_equal(changed, (1u << CLEAN_STRIP_HTML) | (1u << CLEAN_SCRUB_PII) |
                                  (1u << CLEAN_NORMALIZE_WHITESPACE));

    /* no steps: the fields joined as they are */
    struct clean_config plain;
    clean_config_defaults(&plain);
    changed = 0;
    clean_input(&plain, values, lens, 2, &sc, &out, &changed);
    assert_string_equal(out.data, "<b>Refund</b>\n<p>mail &lt;a@b.com&gt;\n\n please</p>");
    assert_int_equal(changed, 0);

    /* a clean field reports no change */
    const char *tidy[] = {"already tidy"};
    size_t tidy_len[] = {12};
    clean_input(&c, tidy, tidy_len, 1, &sc, &out, &changed);
    assert_int_equal(changed, 0);
    buf_free(&out);
    clean_scratch_free(&sc);
}

static void test_artifact_form(void **state)
{
    (void)state;
    struct clean_config c, back;
    struct err e;
    clean_config_defaults(&c);
    assert_true(clean_config_is_default(&c));
    c.steps[0] = CLEAN_SCRUB_PII;
    c.steps[1] = CLEAN_DEDUPE;
    c.n_steps = 2;
    strcpy(c.separator, " // ");
    assert_false(clean_config_is_default(&c));
    struct buf b;
    buf_init(&b);
    clean_config_save(&c, &b);
    struct reader r;
    reader_init(&r, b.data, b.len);
    assert_int_equal(clean_config_load(&back, &r, &e), 0);
    assert_int_equal(r.left, 0);
    assert_int_equal(back.n_steps, 2);
    assert_int_equal(back.steps[1], CLEAN_DEDUPE);
    assert_string_equal(back.separator, " // ");

    /* an unknown step, a repeated one, a truncation: refused */
    b.data[4] = 9;
    reader_init(&r, b.data, b.len);
    assert_int_equal(clean_config_load(&back, &r, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    b.data[4] = CLEAN_DEDUPE;
    reader_init(&r, b.data, b.len);
    assert_int_equal(clean_config_load(&back, &r, &e), -1);
    reader_init(&r, b.data, b.len - 1);
    assert_int_equal(clean_config_load(&back, &r, &e), -1);
    buf_free(&b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Pathological inputs stay linear: 20000 unclosed constructs in a row take
 * milliseconds; a scan restarted at each one would take many seconds. */
static void test_linear_on_garbage(void **state)
{
    (void)state;
    static const char *const units[] = {"<a '",    "<pre>", "<code x", "<!--", "<![CDATA[",
                                        "<script", "```\n", "a@",      "+1 ",  "FR76 "};
    struct buf in, out;
    buf_init(&in);
    buf_init(&out);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        buf_reset(&in);
        for (int i = 0; i < 20000; i++)
            buf_append_str(&in, units[u]);
        double t0 = now_s();
        for (int step = CLEAN_STRIP_HTML; step <= CLEAN_NORMALIZE_WHITESPACE; step++) {
            buf_reset(&out);
            clean_step_apply((enum clean_step)step, in.data, in.len, &out);
        }
        double took = now_s() - t0;
        if (took > 1.0) fail_msg("'%s' x 20000 took %.2f s", units[u], took);
    }
    buf_free(&in);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_tags),     cmocka_unit_test(test_html_not_tags),
        cmocka_unit_test(test_html_entities), cmocka_unit_test(test_code_html),
        cmocka_unit_test(test_code_markdown), cmocka_unit_test(test_pii_email),
        cmocka_unit_test(test_pii_phone),     cmocka_unit_test(test_pii_cards),
        cmocka_unit_test(test_pii_iban),      cmocka_unit_test(test_pii_ip),
        cmocka_unit_test(test_whitespace),    cmocka_unit_test(test_input_order),
        cmocka_unit_test(test_artifact_form), cmocka_unit_test(test_linear_on_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
