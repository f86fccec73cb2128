/*
 * fuzz_http_head — a response head through http_parse_response_head, then
 * http_parse_read_framing and http_parse_retry_after, as http_client.c calls them.
 *
 * Input: one byte giving the header array's capacity (0..LIMIT_HTTP_HEADERS),
 * the rest the bytes received. Invariants: a head's length is within the
 * input, every header is a view inside the head, the status is 100..599;
 * every shorter prefix of a complete head is INCOMPLETE (never INVALID: how
 * TCP splits the bytes must not change the verdict); the framing read from a
 * head is self-consistent.
 */
#include "fuzz.h"
#include "http_parse.h"
#include "all_limits.h"

#include <string.h>

#define NOW_S INT64_C(1795922400) /* a fixed "now" (2026-11-29) */

static int inside(const char *p, size_t n, const char *lo, const char *hi)
{
	return p >= lo && p + n <= hi;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t cap = fuzz_byte(&in) % (LIMIT_HTTP_HEADERS + 1);
	const char *buf = (const char *)in.p;
	size_t len = in.n;

	struct http_header h[LIMIT_HTTP_HEADERS];
	size_t nh = cap;
	int minor = -1, status = -1;
	int r = http_parse_response_head(buf, len, &minor, &status, h, &nh);
	FUZZ_ASSERT(r >= 0 || r == HTTP_PARSE_INVALID || r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_TOO_MANY);

	/* Retry-After over the whole input, as if it were one value */
	int ra = http_parse_retry_after(buf, len, NOW_S);
	FUZZ_ASSERT(ra >= -1 && ra <= 86400);

	if (r < 0)
		return 0;
	FUZZ_ASSERT((size_t)r <= len && r >= 13); /* "HTTP/1.x NNN\n" + "\n" at least */
	FUZZ_ASSERT(nh <= cap);
	FUZZ_ASSERT(minor >= 0 && minor <= 9 && status >= 100 && status <= 599);
	FUZZ_ASSERT(buf[r - 1] == '\n');
	for (size_t i = 0; i < nh; i++) {
		FUZZ_ASSERT(h[i].name_len > 0 && inside(h[i].name, h[i].name_len, buf, buf + r));
		FUZZ_ASSERT(inside(h[i].value, h[i].value_len, buf, buf + r));
		FUZZ_ASSERT(memchr(h[i].name, ':', h[i].name_len) == NULL);
		FUZZ_ASSERT(memchr(h[i].value, '\n', h[i].value_len) == NULL);
		FUZZ_ASSERT(memchr(h[i].value, '\r', h[i].value_len) == NULL);
		if (h[i].value_len)
			FUZZ_ASSERT(h[i].value[0] != ' ' && h[i].value[h[i].value_len - 1] != ' ');
	}

	/* every prefix is incomplete (a byte chosen by the input, and r - 1) */
	size_t cuts[2] = {r > 1 ? (size_t)r - 1 : 0, len ? (size_t)(unsigned char)buf[len - 1] * (size_t)r / 256 : 0};
	for (int k = 0; k < 2; k++) {
		struct http_header h2[LIMIT_HTTP_HEADERS];
		size_t nh2 = cap;
		int m2, s2;
		int r2 = http_parse_response_head(buf, cuts[k], &m2, &s2, h2, &nh2);
		FUZZ_ASSERT(r2 == HTTP_PARSE_INCOMPLETE);
	}

	struct http_framing f;
	if (http_parse_read_framing(minor, status, h, nh, NOW_S, &f) != 0) {
		FUZZ_ASSERT(f.error && *f.error);
		return 0;
	}
	FUZZ_ASSERT(!f.chunked || f.content_length == -1);
	FUZZ_ASSERT(f.content_length >= -1);
	if (f.no_body)
		FUZZ_ASSERT(!f.chunked && f.content_length == 0);
	if (!f.chunked && f.content_length < 0)
		FUZZ_ASSERT(!f.keep_alive); /* read until close: nothing can follow */
	FUZZ_ASSERT(f.retry_after_s >= -1 && f.retry_after_s <= 86400);
	if (f.content_type)
		FUZZ_ASSERT(inside(f.content_type, f.content_type_len, buf, buf + r));
	if (f.location)
		FUZZ_ASSERT(inside(f.location, f.location_len, buf, buf + r));
	return 0;
}
