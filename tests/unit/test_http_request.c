/* Unit tests of the HTTP request-head parser and request framing
 * (http_parse.h), which the Streamable HTTP transport reads its clients
 * with. Every input is placed flush against an unreadable page (t_guarded). */
#include "http_parse.h"
#include "kling_limits.h"
#include "t.h"

#include <stdlib.h>

#define MAXH LIMIT_HTTP_HEADERS

static struct http_request_line g_rl;
static struct http_header g_h[MAXH];
static size_t g_nh;

static int parse_n(const char *s, size_t len)
{
	g_nh = MAXH;
	return http_parse_request_head(t_guarded(s, len), len, &g_rl, g_h, &g_nh);
}

static int parse(const char *s) { return parse_n(s, strlen(s)); }

static int view_is(const char *p, size_t n, const char *want) { return n == strlen(want) && memcmp(p, want, n) == 0; }

/* parse s, then read its framing; returns the framing's result (or -9 if the head did not parse) */
static int framing(const char *s, struct http_request_framing *f)
{
	if (parse(s) < 0)
		return -9;
	return http_read_request_framing(&g_rl, g_h, g_nh, f);
}

static void test_line(void)
{
	static const char ok[] = "POST /mcp?session=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
				 "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	size_t hl = sizeof ok - 3;
	T_CHECK("request/parses", parse(ok) == (int)hl);
	T_CHECK("request/method", view_is(g_rl.method, g_rl.method_len, "POST"));
	T_CHECK("request/target", view_is(g_rl.target, g_rl.target_len, "/mcp?session=1"));
	T_CHECK("request/version", g_rl.minor_version == 1);
	T_CHECK("request/three headers", g_nh == 3);
	T_CHECK("request/header value", view_is(g_h[0].value, g_h[0].value_len, "127.0.0.1:8080"));
	int all_incomplete = 1;
	for (size_t i = 0; i < hl; i++)
		if (parse_n(ok, i) != HTTP_PARSE_INCOMPLETE)
			all_incomplete = 0;
	T_CHECK("request/every prefix is incomplete", all_incomplete);

	T_CHECK("request/HTTP/1.0", parse("GET / HTTP/1.0\r\n\r\n") > 0 && g_rl.minor_version == 0);
	T_CHECK("request/bare LF line ends", parse("GET / HTTP/1.1\nHost: a\n\n") == 24 && g_nh == 1);
	T_CHECK("request/empty lines before are skipped",
		parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 22 && view_is(g_rl.method, g_rl.method_len, "GET"));
	T_CHECK("request/asterisk target", parse("OPTIONS * HTTP/1.1\r\n\r\n") > 0 && g_rl.target_len == 1);
	T_CHECK("request/nothing yet", parse("") == HTTP_PARSE_INCOMPLETE);
	T_CHECK("request/only CRLFs yet", parse("\r\n\r") == HTTP_PARSE_INCOMPLETE);

	T_CHECK("request/bare CR before the line", parse("\rGET / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/garbage fails at once", parse("\x16\x03\x01") == HTTP_PARSE_INVALID);
	T_CHECK("request/TLS hello fails at once", parse("\x16\x03") == HTTP_PARSE_INVALID);
	T_CHECK("request/method not a token", parse("GE(T / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/empty method", parse(" / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/two spaces", parse("GET  / HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/no target", parse("GET HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/control in target", parse("GET /a\x01 HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/non-ASCII in target", parse("GET /\xc3\xa9 HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/tab in target", parse("GET /a\tb HTTP/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/HTTP/2.0", parse("GET / HTTP/2.0\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/HTTP/1.2", parse("GET / HTTP/1.2\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/lower-case version", parse("GET / http/1.1\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/space after version", parse("GET / HTTP/1.1 \r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/CR without LF after version", parse("GET / HTTP/1.1\rX\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/version cut short", parse("GET / HTTP/1.") == HTTP_PARSE_INCOMPLETE);
	T_CHECK("request/HTTP/0.9 form", parse("GET /\r\n\r\n") == HTTP_PARSE_INVALID);
}

static void test_fields(void)
{
	T_CHECK("request/obs-fold refused", parse("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/space before colon", parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/line without colon", parse("GET / HTTP/1.1\r\nHost\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/control in value", parse("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n") == HTTP_PARSE_INVALID);
	T_CHECK("request/CR inside value", parse("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n") == HTTP_PARSE_INVALID);
	static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
	T_CHECK("request/NUL in value", parse_n(nul, sizeof nul - 1) == HTTP_PARSE_INVALID);
	T_CHECK("request/obs-text value kept", parse("GET / HTTP/1.1\r\nA: \xe9t\xe9\r\n\r\n") > 0 && g_nh == 1);

	/* header count: LIMIT_HTTP_HEADERS fit, one more does not; the caller's smaller capacity too */
	char *big = malloc(64 + (MAXH + 1) * 8);
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < MAXH; i++)
		n += (size_t)sprintf(big + n, "A%d: b\r\n", i % 10);
	big[n] = 0;
	strcpy(big + n, "\r\n");
	T_CHECK("request/LIMIT_HTTP_HEADERS headers fit", parse_n(big, n + 2) > 0 && g_nh == MAXH);
	n += (size_t)sprintf(big + n, "Z: y\r\n\r\n");
	T_CHECK("request/one header more is too many", parse_n(big, n) == HTTP_PARSE_TOO_MANY);
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
	T_CHECK("request/head of exactly the limit", parse_n(h, lim) == (int)lim);
	memcpy(h + lim - 4, "v\r\n\r\n", 5);
	T_CHECK("request/head one byte over the limit", parse_n(h, lim + 1) == HTTP_PARSE_TOO_BIG);
	T_CHECK("request/unfinished at the limit", parse_n(h, lim) == HTTP_PARSE_TOO_BIG);
	T_CHECK("request/unfinished below the limit", parse_n(h, lim - 1) == HTTP_PARSE_INCOMPLETE);
	h[100] = 1;
	T_CHECK("request/invalid beats too big", parse_n(h, lim + 1) == HTTP_PARSE_INVALID);
	free(h);
}

static void test_find(void)
{
	parse("GET / HTTP/1.1\r\ncontent-TYPE: a\r\nX: 1\r\nContent-Type: b\r\n\r\n");
	size_t count = 9;
	const struct http_header *f = http_header_find(g_h, g_nh, "content-type", &count);
	T_CHECK("find/case-insensitive, the first", f == &g_h[0] && count == 2);
	T_CHECK("find/absent", http_header_find(g_h, g_nh, "host", &count) == NULL && count == 0);
	T_CHECK("find/count optional", http_header_find(g_h, g_nh, "x", NULL) == &g_h[1]);
	T_CHECK("find/prefix is not a match", http_header_find(g_h, g_nh, "content", NULL) == NULL);
}

static void test_framing(void)
{
	struct http_request_framing f;
	T_CHECK("framing/no body", framing("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &f) == 0 && f.content_length == 0 &&
					      !f.chunked && f.keep_alive && view_is(f.host, f.host_len, "a"));
	T_CHECK("framing/content-length",
		framing("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 1234\r\n\r\n", &f) == 0 && f.content_length == 1234);
	T_CHECK("framing/chunked",
		framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", &f) == 0 && f.chunked);
	T_CHECK("framing/both refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1 &&
			f.status == 400 && strstr(f.error, "smuggling"));
	T_CHECK("framing/two equal content-lengths refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &f) == -1 &&
			f.status == 400);
	T_CHECK("framing/listed content-length refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n", &f) == -1);
	T_CHECK("framing/signed content-length refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", &f) == -1);
	T_CHECK("framing/empty content-length refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", &f) == -1);
	T_CHECK("framing/hex content-length refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", &f) == -1);
	T_CHECK("framing/19-digit content-length refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000000000\r\n\r\n", &f) == -1);
	T_CHECK("framing/18-digit content-length read",
		framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n", &f) == 0 &&
			f.content_length == INT64_C(999999999999999999));
	T_CHECK("framing/two transfer-encodings refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			&f) == -1 &&
			f.status == 400);
	T_CHECK("framing/gzip, chunked is 501",
		framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &f) == -1 &&
			f.status == 501);
	T_CHECK("framing/chunked, chunked is 501",
		framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", &f) == -1 &&
			f.status == 501);
	T_CHECK("framing/TE in HTTP/1.0 refused",
		framing("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &f) == -1 && f.status == 400);
	T_CHECK("framing/HTTP/1.1 without Host", framing("GET / HTTP/1.1\r\n\r\n", &f) == -1 && f.status == 400);
	T_CHECK("framing/two Hosts", framing("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", &f) == -1);
	T_CHECK("framing/HTTP/1.0 without Host", framing("GET / HTTP/1.0\r\n\r\n", &f) == 0 && !f.keep_alive && !f.host);
	T_CHECK("framing/HTTP/1.0 keep-alive",
		framing("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &f) == 0 && f.keep_alive);
	T_CHECK("framing/close wins", framing("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", &f) ==
					     0 && !f.keep_alive);
	T_CHECK("framing/close in a second Connection",
		framing("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", &f) == 0 && !f.keep_alive);
	T_CHECK("framing/expect 100-continue",
		framing("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &f) == 0 &&
			f.expect_continue);
	T_CHECK("framing/other expectation refused",
		framing("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", &f) == -1 && f.error);
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
	t_plan(75);
	test_line();
	test_fields();
	test_find();
	test_framing();
	test_retry_after_overflow();
	return t_done();
}
