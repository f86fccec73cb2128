/* Unit tests of the HTTP parsers (http_parse.h): response head, framing,
 * Retry-After, chunked decoding; the request head, its framing and
 * http_parse_header_find, which the listener reads its clients with; and the
 * request builder of http_client.h. Every input is placed flush against an
 * unreadable page (t_guarded), so reading one byte past the end crashes the
 * test. */
#include "http_client.h"
#include "http_parse.h"
#include "all_limits.h"
#include "t.h"

#include <stdlib.h>

#define MAXH LIMIT_HTTP_HEADERS

static int parse(const char *s, size_t len, int *minor, int *status, struct http_header *h, size_t *nh)
{
	*nh = MAXH;
	return http_parse_response_head(t_guarded(s, len), len, minor, status, h, nh);
}

static int parse_str(const char *s)
{
	struct http_header h[MAXH];
	size_t nh;
	int minor, status;
	return parse(s, strlen(s), &minor, &status, h, &nh);
}

static int hv(const struct http_header *h, const char *name, const char *value)
{
	return h->name_len == strlen(name) && memcmp(h->name, name, h->name_len) == 0 &&
	       h->value_len == strlen(value) && memcmp(h->value, value, h->value_len) == 0;
}

static void test_head(void)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				 "X-Blank:   padded value \t\r\nEmpty:\r\n\r\nBODY";
	struct http_header h[MAXH];
	size_t nh;
	int minor = -1, status = -1;
	int r = parse(ok, sizeof ok - 1, &minor, &status, h, &nh);
	T_CHECK("head/length up to the body", r == (int)(sizeof ok - 1 - 4));
	T_CHECK("head/status and version", status == 200 && minor == 1);
	T_CHECK("head/header count", nh == 3);
	T_CHECK("head/header name and value", nh == 3 && hv(&h[0], "Content-Type", "application/json"));
	T_CHECK("head/value blanks trimmed", nh == 3 && hv(&h[1], "X-Blank", "padded value"));
	T_CHECK("head/empty value", nh == 3 && hv(&h[2], "Empty", ""));

	int all = 1;
	for (size_t i = 0; i < sizeof ok - 5; i++)
		if (parse(ok, i, &minor, &status, h, &nh) != HTTP_PARSE_INCOMPLETE)
			all = 0;
	T_CHECK("head/every prefix is incomplete", all);

	T_CHECK("head/bare LF line ends", parse_str("HTTP/1.0 404 Not Found\nA: b\n\n") == 29);
	T_CHECK("head/no reason phrase", parse_str("HTTP/1.1 204\r\n\r\n") == 16);
	r = parse_str("HTTP/1.0 503 x\r\n\r\n");
	T_CHECK("head/HTTP/1.0", r == 18);
	T_CHECK("head/garbage fails before the line ends", parse_str("<html>") == HTTP_PARSE_INVALID);
	T_CHECK("head/short prefix of HTTP is incomplete", parse_str("HTT") == HTTP_PARSE_INCOMPLETE);
	T_CHECK("head/HTTP/2 refused", parse_str("HTTP/2 200 OK\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/four-digit status", parse_str("HTTP/1.1 2000 OK\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/two-digit status", parse_str("HTTP/1.1 20 OK\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/status below 100", parse_str("HTTP/1.1 099 OK\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/status above 599", parse_str("HTTP/1.1 755 No Content\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/status 599", parse_str("HTTP/1.1 599 x\r\n\r\n") == 18);
	T_CHECK("head/letters in status", parse_str("HTTP/1.1 2x0 OK\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/line without colon", parse_str("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/space before colon", parse_str("HTTP/1.1 200 OK\r\nName : v\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/empty name", parse_str("HTTP/1.1 200 OK\r\n: v\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/obs-fold refused", parse_str("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/control in value", parse_str("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/CR inside value", parse_str("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/control in reason", parse_str("HTTP/1.1 200 O\x02K\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("head/invalid name seen before line end", parse_str("HTTP/1.1 200 OK\r\nA B") == HTTP_PARSE_INVALID);
	static const char nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
	int minor2, status2;
	T_CHECK("head/NUL in value", parse(nul, sizeof nul - 1, &minor2, &status2, h, &nh) == HTTP_PARSE_INVALID);
	T_CHECK("head/obs-text allowed in value", parse_str("HTTP/1.1 200 OK\r\nA: caf\xc3\xa9\r\n\r\n") > 0);

	/* 64 headers fit, 65 do not */
	char big[4096];
	size_t n = (size_t)snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < MAXH; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "H%d: v\r\n", i);
	size_t base = n;
	n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
	r = parse(big, n, &minor, &status, h, &nh);
	T_CHECK("head/64 headers accepted", r == (int)n && nh == MAXH);
	n = base + (size_t)snprintf(big + base, sizeof big - base, "H64: v\r\n\r\n");
	T_CHECK("head/65 headers is too many", parse(big, n, &minor, &status, h, &nh) == HTTP_PARSE_TOO_MANY);
	nh = 0;
	T_CHECK("head/zero capacity with a header",
		http_parse_response_head(t_guarded("HTTP/1.1 200 OK\r\nA: b\r\n\r\n", 25), 25, &minor, &status, h,
					 &nh) == HTTP_PARSE_TOO_MANY);
}

/* Parse a full head and read its framing. */
static int framing(const char *head, struct http_framing *f)
{
	struct http_header h[MAXH];
	size_t nh;
	int minor, status;
	if (parse(head, strlen(head), &minor, &status, h, &nh) < 0)
		return -99;
	return http_parse_read_framing(minor, status, h, nh, 1000000000, f);
}

static void test_framing(void)
{
	struct http_framing f;
	T_CHECK("framing/content-length", framing("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", &f) == 0 &&
						   f.content_length == 42 && !f.chunked && f.keep_alive);
	T_CHECK("framing/repeated identical Content-Length refused",
		framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &f) == -1 && f.error);
	T_CHECK("framing/conflicting Content-Length refused",
		framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n", &f) == -1);
	T_CHECK("framing/Content-Length list refused", framing("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", &f) == -1);
	T_CHECK("framing/signed Content-Length refused", framing("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", &f) == -1);
	T_CHECK("framing/negative Content-Length refused", framing("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", &f) == -1);
	T_CHECK("framing/empty Content-Length refused", framing("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", &f) == -1);
	T_CHECK("framing/19-digit Content-Length refused",
		framing("HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999999\r\n\r\n", &f) == -1);
	T_CHECK("framing/chunked", framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", &f) == 0 &&
					   f.chunked && f.content_length == -1 && f.keep_alive);
	T_CHECK("framing/Content-Length with chunked refused",
		framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1 &&
			strstr(f.error, "both"));
	T_CHECK("framing/chunked then Content-Length refused",
		framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", &f) == -1);
	T_CHECK("framing/gzip, chunked refused",
		framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &f) == -1);
	T_CHECK("framing/repeated Transfer-Encoding refused",
		framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1);
	T_CHECK("framing/no length means read to close",
		framing("HTTP/1.1 200 OK\r\n\r\n", &f) == 0 && f.content_length == -1 && !f.chunked && !f.keep_alive);
	T_CHECK("framing/Connection: close",
		framing("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive, Close\r\n\r\n", &f) == 0 &&
			!f.keep_alive);
	T_CHECK("framing/HTTP/1.0 is not kept alive",
		framing("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", &f) == 0 && !f.keep_alive);
	T_CHECK("framing/204 has no body", framing("HTTP/1.1 204 No Content\r\n\r\n", &f) == 0 && f.no_body &&
						   f.content_length == 0 && f.keep_alive);
	T_CHECK("framing/304 has no body even with a length",
		framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", &f) == 0 && f.no_body);
	T_CHECK("framing/100 has no body", framing("HTTP/1.1 100 Continue\r\n\r\n", &f) == 0 && f.no_body);
	int r = framing("HTTP/1.1 429 Too Many\r\nRetry-After: 7\r\nContent-Type: application/json; charset=utf-8\r\n"
			"Location: https://elsewhere.example/x\r\nContent-Length: 0\r\n\r\n",
			&f);
	T_CHECK("framing/Retry-After seconds", r == 0 && f.retry_after_s == 7);
	T_CHECK("framing/Content-Type view", r == 0 && f.content_type_len == 31 &&
						     memcmp(f.content_type, "application/json; charset=utf-8", 31) == 0);
	T_CHECK("framing/Location view", r == 0 && f.location_len == 27);
	T_CHECK("framing/no Retry-After is -1", framing("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &f) == 0 &&
							 f.retry_after_s == -1 && !f.content_type && !f.location);
}

static void test_retry_after(void)
{
	int64_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	const char *s;
	s = "120";
	T_CHECK("retry-after/seconds", http_parse_retry_after(t_guarded(s, 3), 3, now) == 120);
	s = "Sun, 06 Nov 1994 08:50:07 GMT";
	T_CHECK("retry-after/IMF date 30 s ahead", http_parse_retry_after(t_guarded(s, 29), 29, now) == 30);
	s = "Sun, 06 Nov 1994 08:49:00 GMT";
	T_CHECK("retry-after/date in the past is 0", http_parse_retry_after(t_guarded(s, 29), 29, now) == 0);
	s = "Thu, 01 Jan 2099 00:00:00 GMT";
	T_CHECK("retry-after/far date clamped to a day", http_parse_retry_after(t_guarded(s, 29), 29, now) == 86400);
	s = "Sun, 06 Foo 1994 08:49:37 GMT";
	T_CHECK("retry-after/bad month", http_parse_retry_after(t_guarded(s, 29), 29, now) == -1);
	s = "soon";
	T_CHECK("retry-after/garbage", http_parse_retry_after(t_guarded(s, 4), 4, now) == -1);
	s = "-5";
	T_CHECK("retry-after/negative", http_parse_retry_after(t_guarded(s, 2), 2, now) == -1);
	T_CHECK("retry-after/empty", http_parse_retry_after(t_guarded("", 0), 0, now) == -1);
	s = "99999999";
	T_CHECK("retry-after/huge clamped", http_parse_retry_after(t_guarded(s, 8), 8, now) == 86400);
}

/* Decode s in one call (guarded, writable). Returns the decoder's result;
 * the body goes to out (NUL-terminated). */
static ssize_t chunked(const char *s, size_t len, size_t limit, char *out, size_t *outlen, const char **err)
{
	struct http_chunked d;
	memset(&d, 0, sizeof d);
	d.limit = limit;
	char *b = (char *)t_guarded(s, len);
	size_t n = len;
	ssize_t r = http_parse_decode_chunked(&d, b, &n);
	if (out) {
		memcpy(out, b, n);
		out[n] = 0;
	}
	if (outlen)
		*outlen = n;
	if (err)
		*err = d.error;
	return r;
}

static ssize_t chunked_str(const char *s, char *out)
{
	return chunked(s, strlen(s), LIMIT_HTTP_BODY_BYTES, out, NULL, NULL);
}

static void test_chunked(void)
{
	char out[256];
	const char *err;
	T_CHECK("chunked/simple", chunked_str("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", out) == 0 &&
					  strcmp(out, "hello world") == 0);
	T_CHECK("chunked/extensions and trailers",
		chunked_str("5;name=value;x\r\nhello\r\n0;last\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", out) == 0 &&
			strcmp(out, "hello") == 0);
	T_CHECK("chunked/uppercase hex and leading zeros", chunked_str("00A\r\n0123456789\r\n0\r\n\r\n", out) == 0 &&
								      strcmp(out, "0123456789") == 0);
	T_CHECK("chunked/bare LF", chunked_str("5\nhello\n0\n\n", out) == 0 && strcmp(out, "hello") == 0);
	T_CHECK("chunked/bytes after the end are counted", chunked_str("1\r\nx\r\n0\r\n\r\nHTTP/1.1", out) == 8);
	size_t n;
	static const char part[] = "5\r\nhel";
	T_CHECK("chunked/incomplete gives what it has",
		chunked(part, sizeof part - 1, 100, out, &n, NULL) == HTTP_PARSE_INCOMPLETE && n == 3 &&
			strcmp(out, "hel") == 0);
	T_CHECK("chunked/incomplete without the last CRLF",
		chunked_str("1\r\nx\r\n0\r\n", out) == HTTP_PARSE_INCOMPLETE);
	T_CHECK("chunked/bad hex", chunked_str("zz\r\nhello\r\n0\r\n\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/empty size line", chunked_str("\r\nhello\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/hex then garbage", chunked_str("5x\r\nhello\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/data longer than its size", chunked_str("5\r\nhelloX\r\n0\r\n\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/CR without LF", chunked_str("5\rhello", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/control in extension", chunked_str("5;a\x01\r\nhello\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/control in trailer", chunked_str("0\r\nA: \x02\r\n\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/16 hex digits overflow refused",
		chunked_str("10000000000000000\r\n", out) == HTTP_PARSE_INVALID);
	T_CHECK("chunked/ffffffffffffffff refused", chunked_str("ffffffffffffffff\r\n", out) == HTTP_PARSE_INVALID);
	static const char big[] = "10\r\n";
	T_CHECK("chunked/chunk over the limit",
		chunked(big, 4, 15, out, &n, &err) == HTTP_PARSE_TOO_BIG && err && strstr(err, "limit"));
	static const char two[] = "8\r\n12345678\r\n8\r\n12345678\r\n";
	T_CHECK("chunked/total over the limit", chunked(two, sizeof two - 1, 15, out, &n, NULL) == HTTP_PARSE_TOO_BIG &&
							n == 8);
	T_CHECK("chunked/total at the limit", chunked("8\r\n12345678\r\n0\r\n\r\n", 18, 8, out, &n, NULL) == 0 && n == 8);

	/* a long extension line */
	size_t L = LIMIT_HTTP_CHUNK_LINE_BYTES + 10;
	char *longline = malloc(L);
	memset(longline, 'a', L);
	memcpy(longline, "5;", 2);
	T_CHECK("chunked/size line too long", chunked(longline, L, 100, NULL, NULL, &err) == HTTP_PARSE_INVALID &&
						      strstr(err, "too long"));
	free(longline);

	/* one-byte chunks: framing outweighs data */
	size_t count = LIMIT_HTTP_CHUNK_OVERHEAD_BYTES / 5 + 100, blen = count * 6 + 5;
	char *ones = malloc(blen);
	for (size_t i = 0; i < count; i++)
		memcpy(ones + 6 * i, "1\r\nx\r\n", 6);
	memcpy(ones + 6 * count, "0\r\n\r\n", 5);
	T_CHECK("chunked/overhead bounded", chunked(ones, blen, LIMIT_HTTP_BODY_BYTES, NULL, NULL, &err) ==
						    HTTP_PARSE_INVALID &&
					    strstr(err, "framing"));
	/* but a few small chunks are fine */
	T_CHECK("chunked/small chunks under the bound", chunked(ones + 6 * (count - 50), 6 * 50 + 5, 1000, NULL, &n,
								NULL) == 0 &&
								n == 50);
	free(ones);

	/* trailers bounded */
	size_t tl = LIMIT_HTTP_HEAD_BYTES + 100;
	char *tr = malloc(tl);
	memset(tr, 'a', tl);
	memcpy(tr, "0\r\nX: ", 6);
	T_CHECK("chunked/trailers bounded", chunked(tr, tl, 100, NULL, NULL, &err) == HTTP_PARSE_INVALID);
	free(tr);

	/* byte by byte: the same result as in one piece */
	static const char s[] = "3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: x\r\n\r\n";
	struct http_chunked d;
	memset(&d, 0, sizeof d);
	d.limit = 1000;
	char acc[64];
	size_t accn = 0;
	ssize_t r = HTTP_PARSE_INCOMPLETE;
	int steps_ok = 1;
	for (size_t i = 0; i < sizeof s - 1; i++) {
		char *b = (char *)t_guarded(s + i, 1);
		size_t one = 1;
		r = http_parse_decode_chunked(&d, b, &one);
		memcpy(acc + accn, b, one);
		accn += one;
		if (i < sizeof s - 2 && r != HTTP_PARSE_INCOMPLETE)
			steps_ok = 0;
	}
	acc[accn] = 0;
	T_CHECK("chunked/byte by byte", steps_ok && r == 0 && strcmp(acc, "abc0123456789abcdef") == 0);
	T_CHECK("chunked/counts data and framing", d.total == 19 && d.overhead == sizeof s - 1 - 19);
}

static int build(const char *method, const char *host, unsigned short port, const char *path, const char *auth,
		 const char *body, char *out, const char **why)
{
	struct http_request r = {method, host, port, path, auth, body, body ? strlen(body) : 0};
	return http_client_build_head(&r, out, 1024, why);
}

static void test_build(void)
{
	char out[1024];
	const char *why;
	int n = build("GET", "api.example.com", 443, "/v1/x?a=1", "Bearer k", NULL, out, &why);
	T_CHECK("build/GET", n > 0 && strcmp(out, "GET /v1/x?a=1 HTTP/1.1\r\nHost: api.example.com\r\n"
						  "User-Agent: kling-mcp/" KLING_VERSION "\r\n"
						  "Accept: application/json\r\nAuthorization: Bearer k\r\n\r\n") == 0);
	T_CHECK("build/length returned", n == (int)strlen(out));
	n = build("POST", "::1", 8443, "/tasks", NULL, "{\"a\":1}", out, &why);
	T_CHECK("build/POST with body", n > 0 && strstr(out, "POST /tasks HTTP/1.1\r\nHost: [::1]:8443\r\n") &&
						strstr(out, "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n") &&
						!strstr(out, "Authorization"));
	n = build("POST", "h", 80, "/", NULL, NULL, out, &why);
	T_CHECK("build/POST without body has Content-Length 0", n > 0 && strstr(out, "Content-Length: 0\r\n"));
	T_CHECK("build/Host with port", build("GET", "h", 8443, "/", NULL, NULL, out, &why) > 0 &&
						strstr(out, "Host: h:8443\r\n"));
	T_CHECK("build/no Accept-Encoding", !strstr(out, "Accept-Encoding"));
	T_CHECK("build/CRLF in Authorization refused",
		build("GET", "h", 443, "/", "Bearer k\r\nX-Evil: 1", NULL, out, &why) == -1 && why);
	T_CHECK("build/LF in Authorization refused", build("GET", "h", 443, "/", "Bearer k\nX: 1", NULL, out, &why) == -1);
	T_CHECK("build/control in Authorization refused", build("GET", "h", 443, "/", "Bearer \x01", NULL, out, &why) == -1);
	T_CHECK("build/space in path refused", build("GET", "h", 443, "/a b", NULL, NULL, out, &why) == -1 && why);
	T_CHECK("build/CR in path refused", build("GET", "h", 443, "/a\r\n", NULL, NULL, out, &why) == -1);
	T_CHECK("build/DEL in path refused", build("GET", "h", 443, "/a\x7f", NULL, NULL, out, &why) == -1);
	T_CHECK("build/non-ASCII path refused", build("GET", "h", 443, "/caf\xc3\xa9", NULL, NULL, out, &why) == -1);
	T_CHECK("build/relative path refused", build("GET", "h", 443, "a", NULL, NULL, out, &why) == -1);
	T_CHECK("build/PUT refused", build("PUT", "h", 443, "/", NULL, NULL, out, &why) == -1);
	T_CHECK("build/GET with a body refused", build("GET", "h", 443, "/", NULL, "x", out, &why) == -1);
	T_CHECK("build/host with CRLF refused", build("GET", "h\r\nX: y", 443, "/", NULL, NULL, out, &why) == -1);
	T_CHECK("build/host with @ refused", build("GET", "user@h", 443, "/", NULL, NULL, out, &why) == -1);
	struct http_request r = {"GET", "h", 443, "/", NULL, NULL, 0};
	T_CHECK("build/too small a buffer", http_client_build_head(&r, out, 20, &why) == -1 && why);
}

/* The request side: what the listener (httpd.c) reads. */
static struct http_request_line g_rl;
static struct http_header g_h[MAXH];
static size_t g_nh;

static int req_parse_n(const char *s, size_t len)
{
	g_nh = MAXH;
	return http_parse_request_head(t_guarded(s, len), len, &g_rl, g_h, &g_nh);
}

static int req_parse(const char *s) { return req_parse_n(s, strlen(s)); }

static int view_is(const char *p, size_t n, const char *want) { return n == strlen(want) && memcmp(p, want, n) == 0; }

/* parse s, then read its framing; returns the framing's result (or -9 if the head did not parse) */
static int req_framing(const char *s, struct http_request_framing *f)
{
	if (req_parse(s) < 0)
		return -9;
	return http_parse_read_request_framing(&g_rl, g_h, g_nh, f);
}

static void test_request_line(void)
{
	static const char ok[] = "POST /mcp?session=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				 "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	size_t hl = sizeof ok - 3;
	T_CHECK("request/parses", req_parse(ok) == (int)hl);
	T_CHECK("request/method", view_is(g_rl.method, g_rl.method_len, "POST"));
	T_CHECK("request/target", view_is(g_rl.target, g_rl.target_len, "/mcp?session=1"));
	T_CHECK("request/version", g_rl.minor_version == 1);
	T_CHECK("request/three headers", g_nh == 3);
	T_CHECK("request/header value", view_is(g_h[0].value, g_h[0].value_len, "127.0.0.1:8080"));
	int all_incomplete = 1;
	for (size_t i = 0; i < hl; i++)
		if (req_parse_n(ok, i) != HTTP_PARSE_INCOMPLETE)
			all_incomplete = 0;
	T_CHECK("request/every prefix is incomplete", all_incomplete);

	T_CHECK("request/HTTP/1.0", req_parse("GET / HTTP/1.0\r\n\r\n") > 0 && g_rl.minor_version == 0);
	T_CHECK("request/bare LF line ends", req_parse("GET / HTTP/1.1\nHost: a\n\n") == 24 && g_nh == 1);
	T_CHECK("request/empty lines before are skipped",
		req_parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 22 && view_is(g_rl.method, g_rl.method_len, "GET"));
	T_CHECK("request/asterisk target", req_parse("OPTIONS * HTTP/1.1\r\n\r\n") > 0 && g_rl.target_len == 1);
	T_CHECK("request/nothing yet", req_parse("") == HTTP_PARSE_INCOMPLETE);
	T_CHECK("request/only CRLFs yet", req_parse("\r\n\r") == HTTP_PARSE_INCOMPLETE);

	T_CHECK("request/bare CR before the line", req_parse("\rGET / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/garbage fails at once", req_parse("\x16\x03\x01") == HTTP_PARSE_INVALID);
	T_CHECK("request/TLS hello fails at once", req_parse("\x16\x03") == HTTP_PARSE_INVALID);
	T_CHECK("request/method not a token", req_parse("GE(T / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/empty method", req_parse(" / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/two spaces", req_parse("GET  / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/no target", req_parse("GET HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/control in target", req_parse("GET /a\x01 HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/non-ASCII in target", req_parse("GET /\xc3\xa9 HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/tab in target", req_parse("GET /a\tb HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/HTTP/2.0", req_parse("GET / HTTP/2.0\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/HTTP/1.2", req_parse("GET / HTTP/1.2\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/lower-case version", req_parse("GET / http/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/space after version", req_parse("GET / HTTP/1.1 \r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/CR without LF after version", req_parse("GET / HTTP/1.1\rX\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/version cut short", req_parse("GET / HTTP/1.") == HTTP_PARSE_INCOMPLETE);
	T_CHECK("request/HTTP/0.9 form", req_parse("GET /\r\n\r\n") == HTTP_PARSE_INVALID);
}

static void test_request_fields(void)
{
	T_CHECK("request/obs-fold refused", req_parse("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/space before colon", req_parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/line without colon", req_parse("GET / HTTP/1.1\r\nHost\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/control in value", req_parse("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/CR inside value", req_parse("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n") == HTTP_PARSE_INVALID);
	static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
	T_CHECK("request/NUL in value", req_parse_n(nul, sizeof nul - 1) == HTTP_PARSE_INVALID);
	T_CHECK("request/obs-text value kept", req_parse("GET / HTTP/1.1\r\nA: \xe9t\xe9\r\n\r\n") > 0 && g_nh == 1);

	/* header count: LIMIT_HTTP_HEADERS fit, one more does not; the caller's smaller capacity too */
	char *big = malloc(64 + (MAXH + 1) * 8);
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < MAXH; i++)
		n += (size_t)sprintf(big + n, "A%d: b\r\n", i % 10);
	big[n] = 0;
	strcpy(big + n, "\r\n");
	T_CHECK("request/LIMIT_HTTP_HEADERS headers fit", req_parse_n(big, n + 2) > 0 && g_nh == MAXH);
	n += (size_t)sprintf(big + n, "Z: y\r\n\r\n");
	T_CHECK("request/one header more is too many", req_parse_n(big, n) == HTTP_PARSE_TOO_MANY);
	free(big);
	static const char two[] = "GET / HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n";
	g_nh = 1;
	T_CHECK("request/caller's capacity", http_parse_request_head(t_guarded(two, sizeof two - 1), sizeof two - 1, &g_rl,
								     g_h, &g_nh) == HTTP_PARSE_TOO_MANY);
	g_nh = 2;
	T_CHECK("request/caller's capacity, enough",
		http_parse_request_head(t_guarded(two, sizeof two - 1), sizeof two - 1, &g_rl, g_h, &g_nh) ==
				(int)sizeof two - 1 &&
			g_nh == 2);

	/* size: a head of exactly LIMIT_HTTP_HEAD_BYTES parses; one byte more, or an unfinished one at the limit, is too big */
	size_t lim = LIMIT_HTTP_HEAD_BYTES;
	char *h = malloc(lim + 64);
	static const char line[] = "GET / HTTP/1.1\r\nX: ";
	memcpy(h, line, sizeof line - 1);
	memset(h + sizeof line - 1, 'v', lim - (sizeof line - 1) - 4);
	memcpy(h + lim - 4, "\r\n\r\n", 4);
	T_CHECK("request/head of exactly the limit", req_parse_n(h, lim) == (int)lim);
	memcpy(h + lim - 4, "v\r\n\r\n", 5);
	T_CHECK("request/head one byte over the limit", req_parse_n(h, lim + 1) == HTTP_PARSE_TOO_BIG);
	T_CHECK("request/unfinished at the limit", req_parse_n(h, lim) == HTTP_PARSE_TOO_BIG);
	T_CHECK("request/unfinished below the limit", req_parse_n(h, lim - 1) == HTTP_PARSE_INCOMPLETE);
	h[100] = 1;
	T_CHECK("request/invalid beats too big", req_parse_n(h, lim + 1) == HTTP_PARSE_INVALID);
	free(h);
}

static void test_header_find(void)
{
	req_parse("GET / HTTP/1.1\r\ncontent-TYPE: a\r\nX: 1\r\nContent-Type: b\r\n\r\n");
	size_t count = 9;
	const struct http_header *f = http_parse_header_find(g_h, g_nh, "content-type", &count);
	T_CHECK("find/case-insensitive, the first", f == &g_h[0] && count == 2);
	T_CHECK("find/absent", http_parse_header_find(g_h, g_nh, "host", &count) == NULL && count == 0);
	T_CHECK("find/count optional", http_parse_header_find(g_h, g_nh, "x", NULL) == &g_h[1]);
	T_CHECK("find/prefix is not a match", http_parse_header_find(g_h, g_nh, "content", NULL) == NULL);
}

static void test_request_framing(void)
{
	struct http_request_framing f;
	T_CHECK("request-framing/no body", req_framing("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &f) == 0 && f.content_length == 0 &&
					      !f.chunked && f.keep_alive && view_is(f.host, f.host_len, "a"));
	T_CHECK("request-framing/content-length",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 1234\r\n\r\n", &f) == 0 && f.content_length == 1234);
	T_CHECK("request-framing/chunked",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", &f) == 0 && f.chunked);
	T_CHECK("request-framing/both refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1 &&
			f.status == 400 && strstr(f.error, "smuggling"));
	T_CHECK("request-framing/two equal content-lengths refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &f) == -1 &&
			f.status == 400);
	T_CHECK("request-framing/listed content-length refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/signed content-length refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/empty content-length refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/hex content-length refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/19-digit content-length refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/18-digit content-length read",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n", &f) == 0 &&
			f.content_length == INT64_C(999999999999999999));
	T_CHECK("request-framing/two transfer-encodings refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			&f) == -1 &&
			f.status == 400);
	T_CHECK("request-framing/gzip, chunked is 501",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &f) == -1 &&
			f.status == 501);
	T_CHECK("request-framing/chunked, chunked is 501",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", &f) == -1 &&
			f.status == 501);
	T_CHECK("request-framing/TE in HTTP/1.0 refused",
		req_framing("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1 && f.status == 400);
	T_CHECK("request-framing/HTTP/1.1 without Host", req_framing("GET / HTTP/1.1\r\n\r\n", &f) == -1 && f.status == 400);
	T_CHECK("request-framing/two Hosts", req_framing("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", &f) == -1);
	T_CHECK("request-framing/HTTP/1.0 without Host", req_framing("GET / HTTP/1.0\r\n\r\n", &f) == 0 && !f.keep_alive && !f.host);
	T_CHECK("request-framing/HTTP/1.0 keep-alive",
		req_framing("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &f) == 0 && f.keep_alive);
	T_CHECK("request-framing/close wins", req_framing("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", &f) ==
					     0 && !f.keep_alive);
	T_CHECK("request-framing/close in a second Connection",
		req_framing("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", &f) == 0 && !f.keep_alive);
	T_CHECK("request-framing/expect 100-continue",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &f) == 0 &&
			f.expect_continue);
	T_CHECK("request-framing/other expectation refused",
		req_framing("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", &f) == -1 && f.error);
}

static void test_retry_after_overflow(void)
{
	static const char big[] = "999999999999999999999999999999";
	T_CHECK("retry-after/overflowing number is the longest wait",
		http_parse_retry_after(t_guarded(big, sizeof big - 1), sizeof big - 1, 0) == 86400);
	T_CHECK("retry-after/overflowing number with a letter is unreadable",
		http_parse_retry_after(t_guarded("99999999999999999999x", 21), 21, 0) == -1);
}

int main(void)
{
	t_plan(183);
	test_head();
	test_framing();
	test_retry_after();
	test_chunked();
	test_build();
	test_request_line();
	test_request_fields();
	test_header_find();
	test_request_framing();
	test_retry_after_overflow();
	return t_done();
}
