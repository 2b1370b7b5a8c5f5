/* Notifications against real receivers started here on 127.0.0.1: a tiny
 * HTTP server (one request, a configurable answer, or no answer at all) and
 * a minimal SMTP receiver. No mock of curl: what the receivers saw on the
 * wire is what gets checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/ids.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "monitor/notify.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000 /* receivers give up after this: a failing test never hangs */

static int listen_local(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nobody listens on: bound once, then closed. */
static int closed_port(void)
{
    int port;
    int fd = listen_local(&port);
    close(fd);
    return port;
}

static int accept_wait(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1) return -1;
    return accept(lfd, NULL, NULL);
}

/* recv with a deadline; 0 on close, -1 on error or time out */
static ssize_t recv_wait(int fd, char *dst, size_t n)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1) return -1;
    return recv(fd, dst, n, 0);
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

/* ---- HTTP receiver ---- */

struct http_srv {
    int lfd, port;
    int status; /* the answer; 0 = never answer (wait for the client to go away) */
    pthread_t th;
    char req[65536];
    size_t len;
    int complete; /* the whole body (Content-Length) arrived */
    int joined;
};

static const char *header_find(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 2 + n + 1;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

static void *http_main(void *arg)
{
    struct http_srv *s = arg;
    int fd = accept_wait(s->lfd);
    if (fd < 0) return NULL;
    size_t want = 0;
    int have_head = 0;
    while (s->len < sizeof s->req - 1) {
        ssize_t k = recv_wait(fd, s->req + s->len, sizeof s->req - 1 - s->len);
        if (k <= 0) break;
        s->len += (size_t)k;
        s->req[s->len] = '\0';
        char *end = strstr(s->req, "\r\n\r\n");
        if (!have_head && end) {
            have_head = 1;
            const char *cl = header_find(s->req, "Content-Length");
            want = (size_t)(end + 4 - s->req) + (cl ? strtoul(cl, NULL, 10) : 0);
        }
        if (have_head && s->len >= want) {
            s->complete = 1;
            break;
        }
    }
    if (s->status == 0) { /* never answer: hold the line until the client hangs up */
        char junk[256];
        while (recv_wait(fd, junk, sizeof junk) > 0) {
        }
    } else {
        char answer[256];
        snprintf(answer, sizeof answer,
                 "HTTP/1.1 %d Test\r\nContent-Length: 2\r\nConnection: close\r\n%s\r\nok",
                 s->status, s->status / 100 == 3 ? "Location: /elsewhere\r\n" : "");
        send_all(fd, answer);
    }
    close(fd);
    return NULL;
}

static struct http_srv *http_start(int status)
{
    struct http_srv *s = xcalloc(1, sizeof *s);
    s->status = status;
    s->lfd = listen_local(&s->port);
    assert_int_equal(pthread_create(&s->th, NULL, http_main, s), 0);
    return s;
}

/* Waits for the receiver thread to finish (it handles one connection). */
static void http_join(struct http_srv *s)
{
    if (!s->joined) pthread_join(s->th, NULL);
    s->joined = 1;
}

static void http_stop(struct http_srv *s)
{
    http_join(s);
    close(s->lfd);
    free(s);
}

/* ---- SMTP receiver ---- */

struct smtp_srv {
    int lfd, port;
    pthread_t th;
    char from[256];
    char rcpt[8][256];
    int n_rcpt;
    char data[65536]; /* as received between DATA and CRLF.CRLF (still dot-stuffed) */
    size_t data_len;
    int got_data, got_quit;
    int joined;
    char in[65536]; /* unread input */
    size_t in_len;
};

/* Waits until `mark` is in the input; returns its offset, or -1. */
static long smtp_wait_for(struct smtp_srv *s, int fd, const char *mark)
{
    for (;;) {
        char *p = strstr(s->in, mark);
        if (p) return p - s->in;
        if (s->in_len >= sizeof s->in - 1) return -1;
        ssize_t k = recv_wait(fd, s->in + s->in_len, sizeof s->in - 1 - s->in_len);
        if (k <= 0) return -1;
        s->in_len += (size_t)k;
        s->in[s->in_len] = '\0';
    }
}

static void smtp_consume(struct smtp_srv *s, size_t n)
{
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
    s->in[s->in_len] = '\0';
}

static void copy_arg(char *dst, size_t size, const char *line, size_t skip)
{
    const char *v = line + skip;
    size_t n = strcspn(v, " "); /* drop ESMTP parameters (SIZE=...) */
    if (n >= size) n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void *smtp_main(void *arg)
{
    struct smtp_srv *s = arg;
    int fd = accept_wait(s->lfd);
    if (fd < 0) return NULL;
    send_all(fd, "220 test.local ESMTP ready\r\n");
    for (;;) {
        long eol = smtp_wait_for(s, fd, "\r\n");
        if (eol < 0) break;
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)eol, s->in);
        smtp_consume(s, (size_t)eol + 2);
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "HELO", 4) == 0) {
            send_all(fd, "250 test.local\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            copy_arg(s->from, sizeof s->from, line, 10);
            send_all(fd, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (s->n_rcpt < 8) copy_arg(s->rcpt[s->n_rcpt++], sizeof s->rcpt[0], line, 8);
            send_all(fd, "250 OK\r\n");
        } else if (strcasecmp(line, "DATA") == 0) {
            send_all(fd, "354 go ahead\r\n");
            long end = smtp_wait_for(s, fd, "\r\n.\r\n");
            if (end < 0) break;
            s->data_len = (size_t)end + 2; /* keep the last line's CRLF */
            memcpy(s->data, s->in, s->data_len);
            s->data[s->data_len] = '\0';
            smtp_consume(s, (size_t)end + 5);
            s->got_data = 1;
            send_all(fd, "250 queued\r\n");
        } else if (strcasecmp(line, "QUIT") == 0) {
            s->got_quit = 1;
            send_all(fd, "221 bye\r\n");
            break;
        } else if (strcasecmp(line, "RSET") == 0 || strcasecmp(line, "NOOP") == 0) {
            send_all(fd, "250 OK\r\n");
        } else {
            send_all(fd, "502 not implemented\r\n");
        }
    }
    close(fd);
    return NULL;
}

static struct smtp_srv *smtp_start(void)
{
    struct smtp_srv *s = xcalloc(1, sizeof *s);
    s->lfd = listen_local(&s->port);
    assert_int_equal(pthread_create(&s->th, NULL, smtp_main, s), 0);
    return s;
}

static void smtp_join(struct smtp_srv *s)
{
    if (!s->joined) pthread_join(s->th, NULL);
    s->joined = 1;
}

static void smtp_stop(struct smtp_srv *s)
{
    smtp_join(s);
    close(s->lfd);
    free(s);
}

/* The value of a header in the (unfolded) header section, copied to out. */
static int mail_header(const char *data, const char *name, char *out, size_t size)
{
    const char *end = strstr(data, "\r\n\r\n");
    size_t n = strlen(name);
    for (const char *p = data; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncasecmp(p, name, n) != 0 || p[n] != ':') continue;
        const char *v = p + n + 1;
        while (*v == ' ')
            v++;
        size_t j = 0;
        while (v < end + 2 && j + 1 < size) {
            if (v[0] == '\r' && v[1] == '\n') {
                if (v[2] != ' ' && v[2] != '\t') break;
                v += 2; /* unfold: CRLF before whitespace is dropped */
                continue;
            }
            out[j++] = *v++;
        }
        out[j] = '\0';
        return 1;
    }
    return 0;
}

static size_t b64_decode(const char *in, size_t n, unsigned char *out)
{
    size_t j = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *c = in[i] ? strchr(t, in[i]) : NULL;
        if (!c) continue; /* '=' padding */
        v = (v << 6) | (unsigned)(c - t);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[j++] = (unsigned char)(v >> bits);
        }
    }
    return j;
}

/* Decodes a header value made only of =?UTF-8?B?...?= words (RFC 2047:
 * whitespace between encoded words is not part of the text). Also checks
 * that each word is at most 75 characters. */
static void rfc2047_decode(const char *v, char *out, size_t size)
{
    size_t j = 0;
    while (*v) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (!*v) break;
        assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
        const char *end = strstr(v + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - v <= 75);
        unsigned char tmp[128];
        size_t k = b64_decode(v + 10, (size_t)(end - v - 10), tmp);
        assert_true(j + k < size);
        memcpy(out + j, tmp, k);
        j += k;
        v = end + 2;
    }
    out[j] = '\0';
}

/* ---- stderr capture, to read the log lines ---- */

struct capture {
    int saved;
    FILE *tmp;
};

static void capture_begin(struct capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(2);
    dup2(fileno(c->tmp), 2);
}

static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    long n = ftell(c->tmp);
    if (n < 0) n = 0;
    char *s = xcalloc(1, (size_t)n + 1);
    rewind(c->tmp);
    size_t got = fread(s, 1, (size_t)n, c->tmp);
    s[got] = '\0';
    fclose(c->tmp);
    return s;
}

/* ---- fixtures ---- */

static struct notification sample(json_t *details)
{
    struct notification n = {
        .task = "sentiment",
        .event = "deployed",
        .subject = "sentiment: version 4 deployed (f1_macro 0.71 -> 0.74)",
        .body = "Version 4 replaces version 3.\nf1_macro 0.71 -> 0.74 (p = 0.003)\n"
                ".a line that starts with a dot\n.\nend",
        .details = details,
    };
    return n;
}

static char *url(const char *fmt, int port)
{
    return xasprintf(fmt, port);
}

/* ---- webhook ---- */

static void test_webhook_posts_json(void **state)
{
    (void)state;
    struct http_srv *s = http_start(200);
    char *u = url("http://127.0.0.1:%d/hooks/boucle?x=1", s->port);
    struct notify_config cfg = {.webhook_url = u, .timeout_ms = 3000};
    json_t *details = json_pack("{s:i,s:f}", "version", 4, "f1_macro", 0.74);
    struct notification n = sample(details);
    struct err e;
    struct capture cap;
    capture_begin(&cap);
    int rc = notify_send(&cfg, &n, &e);
    char *log = capture_end(&cap);
    http_join(s);
    assert_int_equal(rc, 0);
    assert_int_equal(e.code, ERR_OK);
    assert_non_null(strstr(log, "notify sentiment deployed: sentiment: version 4 deployed"));
    assert_true(s->complete);

    assert_true(strncmp(s->req, "POST /hooks/boucle?x=1 HTTP/1.1\r\n", 33) == 0);
    const char *ct = header_find(s->req, "Content-Type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "application/json\r\n", 18) == 0);
    assert_null(header_find(s->req, "Expect"));

    json_error_t je;
    json_t *body = json_loads(strstr(s->req, "\r\n\r\n") + 4, 0, &je);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "task")), "sentiment");
    assert_string_equal(json_string_value(json_object_get(body, "event")), "deployed");
    assert_string_equal(json_string_value(json_object_get(body, "subject")), n.subject);
    assert_string_equal(json_string_value(json_object_get(body, "body")), n.body);
    json_t *d = json_object_get(body, "details");
    assert_int_equal(json_integer_value(json_object_get(d, "version")), 4);
    const char *when = json_string_value(json_object_get(body, "time"));
    assert_non_null(when);
    assert_int_equal(strlen(when), 24); /* 2026-11-23T10:04:05.123Z */
    assert_true(when[4] == '-' && when[10] == 'T' && when[19] == '.' && when[23] == 'Z');
    json_decref(body);

    /* details may be absent: it is then null */
    http_stop(s);
    s = http_start(204);
    free(u);
    u = url("http://127.0.0.1:%d/h", s->port);
    cfg.webhook_url = u;
    n.details = NULL;
    n.body = NULL; /* tolerated, sent as "" */
    assert_int_equal(notify_send(&cfg, &n, &e), 0);
    http_join(s);
    body = json_loads(strstr(s->req, "\r\n\r\n") + 4, 0, &je);
    assert_non_null(body);
    assert_true(json_is_null(json_object_get(body, "details")));
    assert_string_equal(json_string_value(json_object_get(body, "body")), "");
    json_decref(body);
    http_stop(s);

    json_decref(details);
    free(log);
    free(u);
}

static void test_webhook_error_status(void **state)
{
    (void)state;
    struct http_srv *s = http_start(500);
    /* credentials in the URL and a token in the path: never shown */
    char *u = url("http://alice:s3cret@127.0.0.1:%d/t0ken/hook", s->port);
    struct notify_config cfg = {.webhook_url = u, .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    struct capture cap;
    capture_begin(&cap);
    int rc = notify_send(&cfg, &n, &e);
    char *log = capture_end(&cap);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, ERR_IO);
    char want[128];
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: HTTP 500", s->port);
    assert_string_equal(e.msg, want);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "notify sentiment deployed: "));
    for (const char *secret = "alice\0s3cret\0t0ken\0"; *secret; secret += strlen(secret) + 1) {
        assert_null(strstr(e.msg, secret));
        assert_null(strstr(log, secret));
    }
    free(log);
    http_stop(s);

    /* a redirect is not followed: it is a failure like any non-2xx */
    s = http_start(302);
    free(u);
    u = url("http://127.0.0.1:%d/hook", s->port);
    cfg.webhook_url = u;
    assert_int_equal(notify_send(&cfg, &n, &e), -1);
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: HTTP 302", s->port);
    assert_string_equal(e.msg, want);
    http_stop(s);
    free(u);
}

static void test_webhook_connection_refused(void **state)
{
    (void)state;
    int port = closed_port();
    char *u = url("http://127.0.0.1:%d/hook", port);
    struct notify_config cfg = {.webhook_url = u, .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    int64_t t0 = time_mono_ns();
    assert_int_equal(notify_send(&cfg, &n, &e), -1);
    assert_true(time_elapsed_s(t0) < 2.0);
    assert_int_equal(e.code, ERR_IO);
    char want[128];
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: ", port);
    assert_true(strncmp(e.msg, want, strlen(want)) == 0);
    assert_non_null(strcasestr(e.msg, "connect"));
    free(u);
}

static void test_webhook_timeout(void **state)
{
    (void)state;
    struct http_srv *s = http_start(0); /* reads the request, never answers */
    char *u = url("http://127.0.0.1:%d/slow", s->port);
    struct notify_config cfg = {.webhook_url = u, .timeout_ms = 300};
    struct notification n = sample(NULL);
    struct err e;
    int64_t t0 = time_mono_ns();
    int rc = notify_send(&cfg, &n, &e);
    double took = time_elapsed_s(t0);
    assert_int_equal(rc, -1);
    assert_true(took >= 0.25);
    assert_true(took < 0.3 + 0.7);
    assert_non_null(strstr(e.msg, "webhook http://127.0.0.1:"));
    assert_non_null(strcasestr(e.msg, "timed out"));
    http_stop(s);
    free(u);
}

/* ---- e-mail ---- */

static void assert_crlf_only(const char *s)
{
    for (const char *p = s; *p; p++)
        if (*p == '\n') assert_true(p > s && p[-1] == '\r');
}

static void test_email_delivered(void **state)
{
    (void)state;
    struct smtp_srv *s = smtp_start();
    char *u = url("smtp://127.0.0.1:%d", s->port);
    char *to[] = {"ops@example.org", "Data Team <data@example.org>"};
    struct notify_config cfg = {.smtp_url = u,
                                .email_from = "Boucle <boucle@example.org>",
                                .email_to = to,
                                .n_email_to = 2,
                                .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    int rc = notify_send(&cfg, &n, &e);
    smtp_join(s);
    assert_int_equal(rc, 0);
    assert_true(s->got_data);
    assert_string_equal(s->from, "<boucle@example.org>");
    assert_int_equal(s->n_rcpt, 2);
    assert_string_equal(s->rcpt[0], "<ops@example.org>");
    assert_string_equal(s->rcpt[1], "<data@example.org>");

    const char *d = s->data;
    assert_crlf_only(d);
    char v[512];
    assert_true(mail_header(d, "Subject", v, sizeof v));
    assert_string_equal(v, n.subject);
    assert_true(mail_header(d, "From", v, sizeof v));
    assert_string_equal(v, "Boucle <boucle@example.org>");
    assert_true(mail_header(d, "To", v, sizeof v));
    assert_string_equal(v, "ops@example.org, Data Team <data@example.org>");
    assert_true(mail_header(d, "MIME-Version", v, sizeof v));
    assert_string_equal(v, "1.0");
    assert_true(mail_header(d, "Content-Type", v, sizeof v));
    assert_string_equal(v, "text/plain; charset=utf-8");
    assert_true(mail_header(d, "Date", v, sizeof v));
    /* "Mon, 23 Nov 2026 10:04:05 +0000" */
    char wd[4], mon[4], zone[6];
    int day, year, hh, mm, ss;
    assert_int_equal(
        sscanf(v, "%3s, %d %3s %d %d:%d:%d %5s", wd, &day, mon, &year, &hh, &mm, &ss, zone), 8);
    assert_int_equal(v[3], ',');
    assert_true(day >= 1 && day <= 31 && year >= 2024);
    assert_non_null(strstr("JanFebMarAprMayJunJulAugSepOctNovDec", mon));
    assert_string_equal(zone, "+0000");
    assert_true(mail_header(d, "Message-ID", v, sizeof v));
    assert_int_equal(v[0], '<');
    char *at = strchr(v, '@');
    assert_non_null(at);
    assert_string_equal(at, "@boucle>");
    *at = '\0';
    assert_true(uuid_is_valid(v + 1));

    /* the body, with CRLF line endings; curl dot-stuffed the lines that
     * start with a dot, so the lone "." line did not end the message */
    const char *body = strstr(d, "\r\n\r\n") + 4;
    assert_string_equal(body, "Version 4 replaces version 3.\r\n"
                              "f1_macro 0.71 -> 0.74 (p = 0.003)\r\n"
                              "..a line that starts with a dot\r\n"
                              "..\r\n"
                              "end\r\n");
    assert_true(s->got_quit);
    smtp_stop(s);
    free(u);
}

static void test_email_non_ascii_subject(void **state)
{
    (void)state;
    const char *subjects[] = {
        "sentiment : version 4 déployée ✓",
        /* long: several encoded words, none splitting a character */
        "sentiment : la version 4 remplace la 3 — f1_macro 0,71 → 0,74, précision ↑, "
        "rappel de « négatif » stable, 日本語のテキストも大丈夫です",
    };
    for (size_t k = 0; k < 2; k++) {
        struct smtp_srv *s = smtp_start();
        char *u = url("smtp://127.0.0.1:%d", s->port);
        char *to[] = {"ops@example.org"};
        struct notify_config cfg = {.smtp_url = u,
                                    .email_from = "boucle@example.org",
                                    .email_to = to,
                                    .n_email_to = 1,
                                    .timeout_ms = 3000};
        struct notification n = sample(NULL);
        n.subject = subjects[k];
        n.body = "Entraîné sur 1 200 exemples.";
        struct err e;
        assert_int_equal(notify_send(&cfg, &n, &e), 0);
        smtp_join(s);
        assert_true(s->got_data);
        assert_string_equal(s->from, "<boucle@example.org>");
        /* the header section is 7-bit; the body is UTF-8 as is */
        const char *end = strstr(s->data, "\r\n\r\n");
        for (const char *p = s->data; p < end; p++)
            assert_true((unsigned char)*p < 0x80);
        const char *line = strstr(s->data, "Subject: =?UTF-8?B?");
        assert_non_null(line);
        char v[1024], dec[1024];
        assert_true(mail_header(s->data, "Subject", v, sizeof v));
        rfc2047_decode(v, dec, sizeof dec);
        assert_string_equal(dec, subjects[k]);
        assert_string_equal(end + 4, "Entraîné sur 1 200 exemples.\r\n");
        smtp_stop(s);
        free(u);
    }
}

/* Values cannot inject headers; a line too long for SMTP switches the body
 * to base64; invalid UTF-8 is replaced, on both channels. */
static void test_hostile_input(void **state)
{
    (void)state;
    struct http_srv *h = http_start(200);
    struct smtp_srv *s = smtp_start();
    char *wu = url("http://127.0.0.1:%d/hook", h->port);
    char *su = url("smtp://127.0.0.1:%d", s->port);
    char *to[] = {"ops@example.org\r\nBcc: evil@example.org"};
    struct notify_config cfg = {.webhook_url = wu,
                                .smtp_url = su,
                                .email_from = "boucle@example.org",
                                .email_to = to,
                                .n_email_to = 1,
                                .timeout_ms = 3000};
    char *body = xcalloc(1, 1300);
    memset(body, 'x', 1200);
    strcat(body, "\nshort line\n");
    struct notification n = sample(NULL);
    n.subject = "bad\xff byte\r\nBcc: evil@example.org";
    n.body = body;
    struct err e;
    struct capture cap;
    capture_begin(&cap);
    int rc = notify_send(&cfg, &n, &e);
    char *log = capture_end(&cap);
    assert_int_equal(rc, 0);
    http_join(h);
    smtp_join(s);
    assert_null(strstr(log, "\nBcc:")); /* nor forge a log line */
    assert_non_null(strstr(log, "notify sentiment deployed: bad\xef\xbf\xbd byte  Bcc: evil"));
    free(log);

    json_error_t je;
    json_t *j = json_loads(strstr(h->req, "\r\n\r\n") + 4, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "subject")),
                        "bad\xef\xbf\xbd byte\r\nBcc: evil@example.org");
    json_decref(j);

    assert_true(s->got_data);
    const char *end = strstr(s->data, "\r\n\r\n");
    for (const char *p = strstr(s->data, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n"))
        assert_true(strncasecmp(p + 2, "Bcc:", 4) != 0);
    char v[512], dec[512];
    assert_true(mail_header(s->data, "Subject", v, sizeof v));
    rfc2047_decode(v, dec, sizeof dec);
    assert_string_equal(dec, "bad\xef\xbf\xbd byte  Bcc: evil@example.org");
    assert_true(mail_header(s->data, "Content-Transfer-Encoding", v, sizeof v));
    assert_string_equal(v, "base64");
    unsigned char *raw = xcalloc(1, 2000);
    size_t k = b64_decode(end + 4, strlen(end + 4), raw);
    assert_int_equal(k, 1200 + 2 + 10 + 2);
    assert_int_equal(memcmp(raw + 1200, "\r\nshort line\r\n", 14), 0);
    for (const char *p = end + 4; *p; p = strstr(p, "\r\n") + 2)
        assert_true(strstr(p, "\r\n") - p <= 76);
    free(raw);
    free(body);
    http_stop(h);
    smtp_stop(s);
    free(wu);
    free(su);
}

static void test_email_misconfigured(void **state)
{
    (void)state;
    struct notify_config cfg = {.smtp_url = "smtp://mail.invalid:25",
                                .email_from = "boucle@example.org",
                                .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    assert_int_equal(notify_send(&cfg, &n, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "email smtp://mail.invalid:25: no recipients (email_to) configured");
}

/* ---- both channels ---- */

static void test_webhook_fails_email_still_sent(void **state)
{
    (void)state;
    struct http_srv *h = http_start(500);
    struct smtp_srv *s = smtp_start();
    char *wu = url("http://127.0.0.1:%d/hook", h->port);
    char *su = url("smtp://127.0.0.1:%d", s->port);
    char *to[] = {"ops@example.org"};
    struct notify_config cfg = {.webhook_url = wu,
                                .smtp_url = su,
                                .email_from = "boucle@example.org",
                                .email_to = to,
                                .n_email_to = 1,
                                .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    assert_int_equal(notify_send(&cfg, &n, &e), -1);
    char want[128];
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: HTTP 500", h->port);
    assert_string_equal(e.msg, want);
    assert_null(strstr(e.msg, "email"));
    http_stop(h);
    smtp_join(s);
    assert_true(s->got_data);
    char v[512];
    assert_true(mail_header(s->data, "Subject", v, sizeof v));
    assert_string_equal(v, n.subject);
    smtp_stop(s);
    free(wu);
    free(su);
}

/* The channels run side by side: a webhook that never answers neither stops
 * nor delays the e-mail, and the whole call stays within one timeout. */
static void test_hung_webhook_email_still_sent(void **state)
{
    (void)state;
    struct http_srv *h = http_start(0);
    struct smtp_srv *s = smtp_start();
    char *wu = url("http://127.0.0.1:%d/hook", h->port);
    char *su = url("smtp://127.0.0.1:%d", s->port);
    char *to[] = {"ops@example.org"};
    struct notify_config cfg = {.webhook_url = wu,
                                .smtp_url = su,
                                .email_from = "boucle@example.org",
                                .email_to = to,
                                .n_email_to = 1,
                                .timeout_ms = 400};
    struct notification n = sample(NULL);
    struct err e;
    int64_t t0 = time_mono_ns();
    int rc = notify_send(&cfg, &n, &e);
    double took = time_elapsed_s(t0);
    assert_int_equal(rc, -1);
    assert_true(took >= 0.35 && took < 0.4 + 0.6);
    assert_non_null(strstr(e.msg, "webhook http://127.0.0.1:"));
    assert_non_null(strcasestr(e.msg, "timed out"));
    assert_null(strstr(e.msg, "email"));
    smtp_join(s);
    assert_true(s->got_data);
    http_stop(h);
    smtp_stop(s);
    free(wu);
    free(su);
}

static void test_both_fail(void **state)
{
    (void)state;
    int wp = closed_port(), sp = closed_port();
    char *wu = url("http://127.0.0.1:%d/hook", wp);
    char *su = url("smtp://user:pa55word@127.0.0.1:%d", sp);
    char *to[] = {"ops@example.org"};
    struct notify_config cfg = {.webhook_url = wu,
                                .smtp_url = su,
                                .email_from = "boucle@example.org",
                                .email_to = to,
                                .n_email_to = 1,
                                .timeout_ms = 3000};
    struct notification n = sample(NULL);
    struct err e;
    assert_int_equal(notify_send(&cfg, &n, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    char w[64], m[64];
    snprintf(w, sizeof w, "webhook http://127.0.0.1:%d: ", wp);
    snprintf(m, sizeof m, "; email smtp://127.0.0.1:%d: ", sp);
    assert_true(strncmp(e.msg, w, strlen(w)) == 0);
    assert_non_null(strstr(e.msg, m));
    assert_null(strstr(e.msg, "pa55word"));
    assert_null(strstr(e.msg, "user"));
    free(wu);
    free(su);
}

static void test_nothing_configured(void **state)
{
    (void)state;
    struct notify_config cfg = {0};
    struct notification n = sample(NULL);
    struct err e;
    struct capture cap;
    capture_begin(&cap);
    int rc = notify_send(&cfg, &n, &e);
    char *log = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log,
                           "notify sentiment deployed: sentiment: version 4 deployed (f1_macro "
                           "0.71 -> 0.74)\n"));
    free(log);
}

static int setup(void **state)
{
    (void)state;
    return notify_init() == 0 && notify_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_posts_json),
        cmocka_unit_test(test_webhook_error_status),
        cmocka_unit_test(test_webhook_connection_refused),
        cmocka_unit_test(test_webhook_timeout),
        cmocka_unit_test(test_email_delivered),
        cmocka_unit_test(test_email_non_ascii_subject),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_email_misconfigured),
        cmocka_unit_test(test_webhook_fails_email_still_sent),
        cmocka_unit_test(test_hung_webhook_email_still_sent),
        cmocka_unit_test(test_both_fail),
        cmocka_unit_test(test_nothing_configured),
    };
    int rc = cmocka_run_group_tests(tests, setup, NULL);
    curl_global_cleanup(); /* so the leak checker sees curl's global state freed */
    return rc;
}
