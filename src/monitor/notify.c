/* Notifications: one log line always, then the webhook (JSON POST) and the
 * e-mail (SMTP) when configured. Both channels run at the same time on one
 * curl multi handle, so a notification takes at most timeout_ms however many
 * channels are configured, and one failing channel never stops the other.
 *
 * Configured URLs may carry credentials (user:password@, tokens in the path
 * of a webhook): neither the log nor the error messages ever show more than
 * scheme://host[:port]. */
#include "monitor/notify.h"

#include "base/version.h"
#include "base/ids.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NOTIFY_DEFAULT_TIMEOUT_MS 10000

/* ---- init ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = -1;

static void init_run(void)
{
    if (ids_init() != 0) return;
    init_status = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int notify_init(void)
{
    pthread_once(&init_once, init_run);
    return init_status;
}

/* ---- small helpers ---- */

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* "scheme://host[:port]" of a URL, never its user, password, path or query. */
static void url_redact(const char *url, char *out, size_t size)
{
    snprintf(out, size, "(invalid url)");
    CURLU *u = curl_url();
    if (!u) return;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        char *scheme = NULL, *host = NULL, *port = NULL;
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(u, CURLUPART_HOST, &host, 0);
        curl_url_get(u, CURLUPART_PORT, &port, 0); /* only when the URL names one */
        if (scheme && host)
            snprintf(out, size, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
    }
    curl_url_cleanup(u);
}

/* A valid UTF-8 copy: each invalid byte becomes U+FFFD (jansson only takes
 * valid UTF-8, and a mail header claiming utf-8 should hold it too). */
static char *utf8_sanitize(const char *s)
{
    struct buf b;
    buf_init(&b);
    size_t len = strlen(s);
    while (len > 0) {
        size_t ok = utf8_invalid_offset(s, len);
        buf_append(&b, s, ok);
        if (ok == len) break;
        buf_append_str(&b, "\xEF\xBF\xBD");
        s += ok + 1;
        len -= ok + 1;
    }
    buf_append(&b, "", 0);
    if (!b.data) return xstrdup("");
    return buf_detach(&b);
}

/* A header value (or log text) on one line: control characters (CR, LF ...)
 * become spaces, so no configured or given value can inject a header. */
static void append_header_value(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        buf_append_char(b, (c < 0x20 || c == 0x7f) ? ' ' : (char)c);
    }
}

/* The bare address of "Name <a@b>" or "a@b", as "<a@b>" for the envelope. */
static char *envelope_address(const char *s)
{
    const char *lt = strrchr(s, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    const char *start = s, *end = s + strlen(s);
    if (lt && gt) {
        start = lt + 1;
        end = gt;
    }
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    struct buf b;
    buf_init(&b);
    buf_append_char(&b, '<');
    for (const char *p = start; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != 0x7f && c != '<' && c != '>') buf_append_char(&b, (char)c);
    }
    buf_append_char(&b, '>');
    return buf_detach(&b);
}

static void base64_append(struct buf *b, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        buf_append_char(b, tbl[(v >> 18) & 63]);
        buf_append_char(b, tbl[(v >> 12) & 63]);
        buf_append_char(b, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
        buf_append_char(b, i + 2 < n ? tbl[v & 63] : '=');
    }
}

/* Subject header value. Plain when it is short printable ASCII; otherwise
 * RFC 2047 encoded words (=?UTF-8?B?...?=) of at most 75 characters each,
 * never splitting a UTF-8 sequence, folded onto continuation lines. */
static void append_subject(struct buf *b, const char *subject)
{
    char *s = utf8_sanitize(subject);
    struct buf clean;
    buf_init(&clean);
    append_header_value(&clean, s);
    buf_append(&clean, "", 0);
    free(s);
    const unsigned char *p = (const unsigned char *)clean.data;
    size_t n = clean.len;
    int plain = n <= 900 && !strstr(clean.data, "=?");
    for (size_t i = 0; plain && i < n; i++)
        if (p[i] >= 0x80) plain = 0;
    if (plain) {
        buf_append(b, p, n);
        buf_free(&clean);
        return;
    }
    /* 45 bytes -> 60 base64 characters; with "=?UTF-8?B?" and "?=": 72 <= 75 */
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t end = i + 45 < n ? i + 45 : n;
        if (end < n) /* back up to the start of a UTF-8 sequence */
            while (end > i + 1 && (p[end] & 0xC0) == 0x80)
                end--;
        if (!first) buf_append_str(b, "\r\n ");
        buf_append_str(b, "=?UTF-8?B?");
        base64_append(b, p + i, end - i);
        buf_append_str(b, "?=");
        first = 0;
        i = end;
    }
    buf_free(&clean);
}

/* RFC 5322 date, "Mon, 23 Nov 2026 10:04:05 +0000" (names not localised). */
static void format_rfc2822(int64_t ms, char *out, size_t size)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The body with CRLF line endings (LF, CR and CRLF all end a line), ending
 * with CRLF. Returns the longest line's length, without its CRLF. */
static size_t append_body_crlf(struct buf *b, const char *body)
{
    size_t line = 0, longest = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            if (*p == '\r' && p[1] == '\n') p++;
            buf_append_str(b, "\r\n");
            line = 0;
            continue;
        }
        buf_append_char(b, *p);
        if (++line > longest) longest = line;
    }
    if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0) buf_append_str(b, "\r\n");
    return longest;
}

/* The whole RFC 5322 message. Dot-stuffing is curl's job (it escapes a "."
 * at the start of a line and sends the final CRLF.CRLF). */
static char *build_message(const struct notify_config *cfg, const struct notification *n,
                           size_t *len)
{
    struct buf m;
    buf_init(&m);
    char date[64], uuid[UUID_STR_LEN];
    format_rfc2822(time_now_ms(), date, sizeof date);
    uuid_v4(uuid);

    buf_printf(&m, "Date: %s\r\nFrom: ", date);
    append_header_value(&m, cfg->email_from);
    buf_append_str(&m, "\r\nTo: ");
    for (size_t i = 0; i < cfg->n_email_to; i++) {
        if (i) buf_append_str(&m, ",\r\n ");
        append_header_value(&m, nz(cfg->email_to[i]));
    }
    buf_append_str(&m, "\r\nSubject: ");
    append_subject(&m, nz(n->subject));
    buf_printf(&m, "\r\nMessage-ID: <%s@boucle>\r\n", uuid);
    buf_append_str(&m, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n");

    char *body = utf8_sanitize(nz(n->body));
    struct buf text;
    buf_init(&text);
    size_t longest = append_body_crlf(&text, body);
    free(body);
    if (longest <= 998) {
        buf_append_str(&m, "Content-Transfer-Encoding: 8bit\r\n\r\n");
        buf_append(&m, text.data, text.len);
    } else { /* a line SMTP may not carry as is */
        buf_append_str(&m, "Content-Transfer-Encoding: base64\r\n\r\n");
        for (size_t i = 0; i < text.len; i += 57) {
            size_t k = text.len - i < 57 ? text.len - i : 57;
            base64_append(&m, (const unsigned char *)text.data + i, k);
            buf_append_str(&m, "\r\n");
        }
    }
    buf_free(&text);
    *len = m.len;
    return buf_detach(&m);
}

/* ---- channels ---- */

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t read_upload(char *dst, size_t size, size_t nmemb, void *userdata)
{
    struct upload *u = userdata;
    size_t room = size * nmemb, left = u->len - u->pos;
    size_t k = left < room ? left : room;
    memcpy(dst, u->data + u->pos, k);
    u->pos += k;
    return k;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

struct channel {
    const char *name; /* "webhook", "email" */
    char where[256];  /* redacted URL */
    CURL *h;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *list;
    char *payload;
    char *mail_from;
    struct upload up;
    int done;
    CURLcode rc;
    char problem[400]; /* set before the transfer when it cannot even start */
};

static void channel_free(struct channel *c)
{
    if (c->h) curl_easy_cleanup(c->h);
    curl_slist_free_all(c->list);
    free(c->payload);
    free(c->mail_from);
}

static void common_options(CURL *h, char *errbuf, long timeout_ms)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    errbuf[0] = '\0';
}

static int webhook_setup(struct channel *c, const struct notify_config *cfg,
                         const struct notification *n, long timeout_ms)
{
    char when[40];
    time_format_iso8601(time_now_ms(), when, sizeof when);
    char *task = utf8_sanitize(nz(n->task)), *event = utf8_sanitize(nz(n->event));
    char *subject = utf8_sanitize(nz(n->subject)), *body = utf8_sanitize(nz(n->body));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:O?,s:s}", "task", task, "event", event, "subject",
                          subject, "body", body, "details", n->details, "time", when);
    free(task);
    free(event);
    free(subject);
    free(body);
    c->payload = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!c->payload) {
        snprintf(c->problem, sizeof c->problem, "could not encode the notification as JSON");
        return -1;
    }
    c->h = curl_easy_init();
    if (!c->h) {
        snprintf(c->problem, sizeof c->problem, "curl_easy_init failed");
        return -1;
    }
    CURL *h = c->h;
    common_options(h, c->errbuf, timeout_ms);
    c->list = curl_slist_append(c->list, "Content-Type: application/json");
    c->list = curl_slist_append(c->list, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(h, CURLOPT_URL, cfg->webhook_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->list);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->payload);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->payload));
    char agent[96];
    snprintf(agent, sizeof agent, "boucle/%s", boucle_version);
    curl_easy_setopt(h, CURLOPT_USERAGENT, agent); /* curl copies it */
    return 0;
}

static int email_setup(struct channel *c, const struct notify_config *cfg,
                       const struct notification *n, long timeout_ms)
{
    if (!cfg->email_from || !cfg->email_from[0]) {
        snprintf(c->problem, sizeof c->problem, "no sender (email_from) configured");
        return -1;
    }
    if (cfg->n_email_to == 0) {
        snprintf(c->problem, sizeof c->problem, "no recipients (email_to) configured");
        return -1;
    }
    c->h = curl_easy_init();
    if (!c->h) {
        snprintf(c->problem, sizeof c->problem, "curl_easy_init failed");
        return -1;
    }
    for (size_t i = 0; i < cfg->n_email_to; i++) {
        char *rcpt = envelope_address(nz(cfg->email_to[i]));
        c->list = curl_slist_append(c->list, rcpt);
        free(rcpt);
    }
    c->mail_from = envelope_address(cfg->email_from);
    c->payload = build_message(cfg, n, &c->up.len);
    c->up.data = c->payload;
    CURL *h = c->h;
    common_options(h, c->errbuf, timeout_ms);
    curl_easy_setopt(h, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, c->mail_from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, c->list);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &c->up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->up.len);
    return 0;
}

/* Runs every channel that has a handle, all at once; sets done and rc. */
static void run_transfers(struct channel *chans, size_t n, long timeout_ms)
{
    CURLM *m = curl_multi_init();
    if (!m) return;
    for (size_t i = 0; i < n; i++)
        if (chans[i].h && !chans[i].problem[0]) curl_multi_add_handle(m, chans[i].h);
    /* curl enforces the timeout on each transfer; this is only a backstop */
    int64_t deadline = time_mono_ns() + ((int64_t)timeout_ms + 2000) * 1000000LL;
    int running = 1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) break;
        if (!running || time_mono_ns() > deadline) break;
        if (curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK) break;
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        for (size_t i = 0; i < n; i++)
            if (chans[i].h == msg->easy_handle) {
                chans[i].done = 1;
                chans[i].rc = msg->data.result;
            }
    }
    for (size_t i = 0; i < n; i++)
        if (chans[i].h && !chans[i].problem[0]) curl_multi_remove_handle(m, chans[i].h);
    curl_multi_cleanup(m);
}

/* Fills c->problem when the channel failed; returns -1 then. */
static int channel_outcome(struct channel *c)
{
    if (c->problem[0]) return -1;
    if (!c->done) {
        snprintf(c->problem, sizeof c->problem, "transfer did not finish");
        return -1;
    }
    if (c->rc != CURLE_OK) {
        snprintf(c->problem, sizeof c->problem, "%s",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->rc));
        size_t k = strlen(c->problem); /* curl's messages may end with a newline */
        while (k > 0 && (c->problem[k - 1] == '\n' || c->problem[k - 1] == '\r'))
            c->problem[--k] = '\0';
        return -1;
    }
    if (strcmp(c->name, "webhook") == 0) {
        long status = 0;
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299) {
            snprintf(c->problem, sizeof c->problem, "HTTP %ld", status);
            return -1;
        }
    }
    return 0;
}

int notify_send(const struct notify_config *cfg, const struct notification *n, struct err *e)
{
    err_clear(e);
    struct buf line; /* on one line: a subject cannot forge log lines */
    buf_init(&line);
    append_header_value(&line, nz(n->task));
    buf_append_char(&line, ' ');
    append_header_value(&line, nz(n->event));
    buf_append_str(&line, ": ");
    char *subject = utf8_sanitize(nz(n->subject)); /* JSON logs need valid UTF-8 */
    append_header_value(&line, subject);
    free(subject);
    log_info("notify %s", line.data);
    buf_free(&line);
    if (!cfg) return 0;
    int want_webhook = cfg->webhook_url && cfg->webhook_url[0];
    int want_email = cfg->smtp_url && cfg->smtp_url[0];
    if (!want_webhook && !want_email) return 0;
    if (notify_init() != 0) return err_set(e, ERR_INTERNAL, "notify: could not initialise libcurl");

    long timeout_ms = cfg->timeout_ms > 0 ? (long)cfg->timeout_ms : NOTIFY_DEFAULT_TIMEOUT_MS;
    struct channel chans[2];
    size_t nch = 0;
    memset(chans, 0, sizeof chans);
    if (want_webhook) {
        struct channel *c = &chans[nch++];
        c->name = "webhook";
        url_redact(cfg->webhook_url, c->where, sizeof c->where);
        webhook_setup(c, cfg, n, timeout_ms);
    }
    if (want_email) {
        struct channel *c = &chans[nch++];
        c->name = "email";
        url_redact(cfg->smtp_url, c->where, sizeof c->where);
        email_setup(c, cfg, n, timeout_ms);
    }
    run_transfers(chans, nch, timeout_ms);

    struct buf msg;
    buf_init(&msg);
    int failed = 0, setup_only = 1;
    for (size_t i = 0; i < nch; i++) {
        struct channel *c = &chans[i];
        int had_problem = c->problem[0] != '\0';
        if (channel_outcome(c) == 0) {
            log_info("notify %s %s: sent", c->name, c->where);
            continue;
        }
        if (!had_problem) setup_only = 0;
        log_warn("notify %s %s: %s", c->name, c->where, c->problem);
        buf_printf(&msg, "%s%s %s: %s", failed ? "; " : "", c->name, c->where, c->problem);
        failed++;
    }
    for (size_t i = 0; i < nch; i++)
        channel_free(&chans[i]);
    if (failed) err_set(e, setup_only ? ERR_INVALID : ERR_IO, "%s", msg.data);
    buf_free(&msg);
    return failed ? -1 : 0;
}
