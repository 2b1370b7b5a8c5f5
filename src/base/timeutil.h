/* Wall-clock and monotonic time. Stored times are milliseconds since the epoch. */
#ifndef BOUCLE_BASE_TIMEUTIL_H
#define BOUCLE_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

int64_t time_now_ms(void);  /* wall clock, ms since 1970 UTC */
int64_t time_mono_ns(void); /* monotonic, for durations */
double time_elapsed_s(int64_t start_mono_ns);
/* "2026-11-23T10:04:05.123Z" */
void time_format_iso8601(int64_t ms, char *out, size_t size);
void time_sleep_ms(int64_t ms);
/* The CLOCK_REALTIME time ms from now: the deadline pthread_cond_timedwait takes. */
struct timespec time_deadline_ms(int64_t ms);
/* Parses what time_format_iso8601 writes (UTC, optional milliseconds); -1 if malformed. */
int64_t time_parse_iso8601(const char *text);

#endif
