/*
 * iso8601 — date-times to Unix milliseconds and back, with integer arithmetic
 * only (no floating point, no gmtime/timegm, no locale, no time zone files),
 * so it behaves the same on an FPU-less router as on a server.
 *
 * Accepted (the RFC 3339 profile of ISO 8601, extended format, plus what
 * people and models actually type):
 *   YYYY-MM-DD                              a date alone: 00:00:00 UTC that day
 *   YYYY-MM-DDThh:mm                        seconds may be left out
 *   YYYY-MM-DDThh:mm:ss
 *   YYYY-MM-DDThh:mm:ss.f...                fraction (after . or ,) of any length, truncated to ms
 *   ... followed by Z, +hh:mm, -hh:mm, +hhmm, -hhmm, +hh or -hh
 * 'T' may also be 't' or one space; 'Z' may be 'z'. A time without an offset
 * is taken as UTC. "-00:00" is UTC.
 * Refused: basic format (20261129T032000Z), week and ordinal dates, a missing
 * zero (2026-1-9), days that do not exist (2026-02-29, 04-31), month 00 or 13,
 * hour 24 (RFC 3339 has 00-23; say 00:00 of the next day), second 60 (Unix
 * time has no leap seconds), offsets beyond ±23:59, years outside 1970-9999,
 * and any instant before 1970-01-01T00:00:00Z or after
 * 9999-12-31T23:59:59.999Z once the offset is applied. Nothing may follow.
 */
#ifndef KLING_ISO8601_H
#define KLING_ISO8601_H

#include <stddef.h>
#include <stdint.h>

/* Largest instant accepted and formatted: 9999-12-31T23:59:59.999Z. */
#define ISO8601_MAX_MS INT64_C(253402300799999)

/* Length of iso8601_format's output, without the NUL. */
#define ISO8601_LEN 24

/* Parse p[0..len) (no NUL needed). On success sets *ms (Unix ms, UTC) and,
 * when date_only is not NULL, *date_only to 1 if the text was a date alone,
 * and returns 0. Returns -1 for anything not accepted above. */
int iso8601_parse(const char *p, size_t len, int64_t *ms, int *date_only);

/* Write ms as "YYYY-MM-DDThh:mm:ss.mmmZ" plus a NUL into out (at least
 * ISO8601_LEN + 1 bytes). Returns ISO8601_LEN, or -1 (out untouched) when ms
 * is outside [0, ISO8601_MAX_MS]. */
int iso8601_format(int64_t ms, char *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (negative before);
 * month 1-12, day 1-31, not checked. Exposed for tests and other modules. */
int64_t iso8601_days_from_civil(int64_t y, int m, int d);

#endif
