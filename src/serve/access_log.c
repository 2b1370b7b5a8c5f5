#include "serve/access_log.h"

#include "base/log.h"
#include "base/ring.h"
#include "base/timeutil.h"
#include "base/utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    IDLE_SLEEP_MS = 10,     /* the writer's nap when the ring is empty */
    REOPEN_CHECK_MS = 1000, /* how often the file is checked for rotation */
    WRITE_CHUNK = 64 * 1024 /* lines are written in chunks of about this size */
};

struct access_log {
    struct ring ring;
    char *path; /* NULL for stderr */
    int fd;
    int write_failing; /* the last write failed (said once, not per line) */
    pthread_t thread;
    _Atomic int stopping;
    _Atomic uint64_t written, dropped;
};

void access_record_set_path(struct access_record *rec, const char *path)
{
    size_t n = strlen(path);
    rec->path_cut = n > ACCESS_PATH_MAX;
    if (rec->path_cut) {
        n = ACCESS_PATH_MAX;
        while (n > 0 && ((unsigned char)path[n] & 0xc0) == 0x80)
            n--; /* do not split a UTF-8 sequence */
    }
    memcpy(rec->path, path, n);
    rec->path[n] = '\0';
}

/* A JSON string. Client-chosen text (path, method, id) may hold anything:
 * control bytes are escaped, and bytes of text that is not UTF-8 are written
 * as the code points of the same value, so every line stays valid JSON. */
static void json_string(struct buf *out, const char *s)
{
    size_t n = strlen(s);
    int utf8 = utf8_is_valid(s, n);
    buf_append_char(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_append_char(out, '\\');
            buf_append_char(out, (char)c);
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
            buf_printf(out, "\\u%04x", c);
        } else {
            buf_append_char(out, (char)c);
        }
    }
    buf_append_char(out, '"');
}

/* ,"name":"value" or ,"name":null for a missing or empty value */
static void string_field(struct buf *out, const char *name, const char *s)
{
    buf_printf(out, ",\"%s\":", name);
    if (s && *s)
        json_string(out, s);
    else
        buf_append_str(out, "null");
}

void access_addr_text(const unsigned char addr[16], char *out, size_t size)
{
    static const unsigned char v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, v4_prefix, 12) == 0)
        inet_ntop(AF_INET, addr + 12, out, (socklen_t)size);
    else
        inet_ntop(AF_INET6, addr, out, (socklen_t)size);
}

void access_record_format(const struct access_record *rec, struct buf *out)
{
    char when[40], client[INET6_ADDRSTRLEN];
    time_format_iso8601(rec->time_ms, when, sizeof when);
    buf_printf(out, "{\"time\":\"%s\",\"request_id\":", when);
    json_string(out, rec->request_id);
    buf_append_str(out, ",\"client\":");
    if (rec->has_addr) {
        access_addr_text(rec->addr, client, sizeof client);
        json_string(out, client);
    } else {
        buf_append_str(out, "null");
    }
    string_field(out, "method", rec->method);
    string_field(out, "route", rec->route);
    string_field(out, "path", rec->path);
    if (rec->path_cut) buf_append_str(out, ",\"path_cut\":true");
    string_field(out, "task", rec->task);
    buf_printf(out, ",\"status\":%u,\"latency_ms\":%.3f,\"bytes_in\":%llu,\"bytes_out\":%llu",
               rec->status, (double)rec->latency_us / 1000.0, (unsigned long long)rec->bytes_in,
               (unsigned long long)rec->bytes_out);
    string_field(out, "token", rec->token);
    string_field(out, "error", rec->error);
    string_field(out, "outcome", rec->outcome);
    buf_append_str(out, "}\n");
}

/* ---- the writer ---- */

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Log rotation moves the file away (or deletes it): follow the path again. */
static void reopen_if_moved(struct access_log *a)
{
    struct stat at_path, open_one;
    if (stat(a->path, &at_path) == 0 && fstat(a->fd, &open_one) == 0 &&
        at_path.st_dev == open_one.st_dev && at_path.st_ino == open_one.st_ino)
        return;
    int fd = open_file(a->path);
    if (fd < 0) return; /* keep writing to the old file; try again next time */
    close(a->fd);
    a->fd = fd;
}

/* Writes out[0..len) and counts its lines written or dropped. */
static void write_lines(struct access_log *a, struct buf *out, uint64_t lines)
{
    size_t done = 0;
    while (done < out->len) {
        ssize_t n = write(a->fd, out->data + done, out->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    if (done == out->len) {
        atomic_fetch_add(&a->written, lines);
        if (a->write_failing) log_info("access log: writing again");
        a->write_failing = 0;
    } else {
        /* a partial write leaves a partial line: count the batch as lost */
        atomic_fetch_add(&a->dropped, lines);
        if (!a->write_failing)
            log_warn("access log: cannot write to %s: %s; lines are dropped until it works",
                     a->path ? a->path : "stderr", strerror(errno));
        a->write_failing = 1;
    }
    buf_reset(out);
}

/* Formats and writes everything queued; returns how many records it took. */
static uint64_t drain(struct access_log *a, struct buf *out)
{
    struct access_record rec;
    uint64_t total = 0, lines = 0;
    while (ring_pop(&a->ring, &rec)) {
        access_record_format(&rec, out);
        lines++;
        if (out->len >= WRITE_CHUNK) {
            write_lines(a, out, lines);
            total += lines;
            lines = 0;
        }
    }
    if (lines) write_lines(a, out, lines);
    return total + lines;
}

static void *writer_main(void *arg)
{
    struct access_log *a = arg;
    struct buf out;
    buf_init(&out);
    int64_t next_check = time_mono_ns() + REOPEN_CHECK_MS * 1000000LL;
    while (!atomic_load(&a->stopping)) {
        if (a->path && time_mono_ns() >= next_check) {
            reopen_if_moved(a);
            next_check = time_mono_ns() + REOPEN_CHECK_MS * 1000000LL;
        }
        if (drain(a, &out) == 0) time_sleep_ms(IDLE_SLEEP_MS);
    }
    drain(a, &out); /* what request threads queued before the stop */
    buf_free(&out);
    return NULL;
}

struct access_log *access_log_start(const char *dest, size_t queue, struct err *e)
{
    struct access_log *a = xcalloc(1, sizeof *a);
    if (strcmp(dest, "stderr") == 0) {
        a->fd = STDERR_FILENO;
    } else {
        a->path = xstrdup(dest);
        a->fd = open_file(dest);
        if (a->fd < 0) {
            err_set_field(e, ERR_IO, "access_log", "access_log: cannot open '%s': %s", dest,
                          strerror(errno));
            free(a->path);
            free(a);
            return NULL;
        }
    }
    ring_init(&a->ring, queue, sizeof(struct access_record));
    int rc = pthread_create(&a->thread, NULL, writer_main, a);
    if (rc != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the access log writer: %s", strerror(rc));
        if (a->path) close(a->fd);
        ring_free(&a->ring);
        free(a->path);
        free(a);
        return NULL;
    }
    return a;
}

void access_log_write(struct access_log *a, const struct access_record *rec)
{
    if (ring_push(&a->ring, rec) != 0)
        atomic_fetch_add_explicit(&a->dropped, 1, memory_order_relaxed);
}

void access_log_stats(struct access_log *a, uint64_t *written, uint64_t *dropped)
{
    *written = atomic_load(&a->written);
    *dropped = atomic_load(&a->dropped);
}

void access_log_stop(struct access_log *a)
{
    if (!a) return;
    atomic_store(&a->stopping, 1);
    pthread_join(a->thread, NULL);
    if (a->path) close(a->fd);
    ring_free(&a->ring);
    free(a->path);
    free(a);
}
