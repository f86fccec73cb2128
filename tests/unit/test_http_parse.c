/* Unit tests of the HTTP parsers (http_parse.h; the request builder of http_client.h): response head, framing,
 * Retry-After, chunked decoding, request building. Every input is placed
 * flush against an unreadable page (t_guarded), so reading one byte past the
 * end crashes the test. */
#include "http_client.h"
#include "http_parse.h"
#include "kling_limits.h"
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
	return http_read_framing(minor, status, h, nh, 1000000000, f);
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
	ssize_t r = http_decode_chunked(&d, b, &n);
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
		r = http_decode_chunked(&d, b, &one);
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
	return http_build_head(&r, out, 1024, why);
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
	T_CHECK("build/too small a buffer", http_build_head(&r, out, 20, &why) == -1 && why);
}

int main(void)
{
	t_plan(108);
	test_head();
	test_framing();
	test_retry_after();
	test_chunked();
	test_build();
	return t_done();
}
