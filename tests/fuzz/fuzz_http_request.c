/*
 * fuzz_http_request — a request head through http_parse_request_head, then
 * http_parse_read_request_framing and http_parse_header_find, as the HTTP transport will
 * call them on what a client sends.
 *
 * Input: one byte giving the header array's capacity (0..LIMIT_HTTP_HEADERS),
 * the rest the bytes received. Invariants: a head's length is within the
 * input and the head limit, the method is a non-empty token and the target a
 * non-empty run of visible ASCII, both inside the head; every header is a
 * view inside the head; a shorter prefix of a complete head is INCOMPLETE
 * (how TCP splits the bytes must not change the verdict); more bytes after
 * a complete head change nothing; the framing is self-consistent.
 */
#include "fuzz.h"
#include "http_parse.h"
#include "all_limits.h"

#include <string.h>

static int inside(const char *p, size_t n, const char *lo, const char *hi)
{
	return p >= lo && p + n <= hi;
}

static int is_token(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
			return 0;
	}
	return n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t cap = fuzz_byte(&in) % (LIMIT_HTTP_HEADERS + 1);
	const char *buf = (const char *)in.p;
	size_t len = in.n;

	struct http_request_line rl;
	struct http_header h[LIMIT_HTTP_HEADERS];
	size_t nh = cap;
	int r = http_parse_request_head(buf, len, &rl, h, &nh);
	FUZZ_ASSERT(r >= 0 || r == HTTP_PARSE_INVALID || r == HTTP_PARSE_INCOMPLETE || r == HTTP_PARSE_TOO_MANY ||
		    r == HTTP_PARSE_TOO_BIG);
	if (r == HTTP_PARSE_INCOMPLETE)
		FUZZ_ASSERT(len < LIMIT_HTTP_HEAD_BYTES);
	if (r < 0)
		return 0;
	FUZZ_ASSERT((size_t)r <= len && r <= LIMIT_HTTP_HEAD_BYTES && buf[r - 1] == '\n');
	FUZZ_ASSERT(nh <= cap);
	FUZZ_ASSERT(rl.minor_version == 0 || rl.minor_version == 1);
	FUZZ_ASSERT(is_token(rl.method, rl.method_len) && inside(rl.method, rl.method_len, buf, buf + r));
	FUZZ_ASSERT(rl.target_len > 0 && inside(rl.target, rl.target_len, buf, buf + r));
	for (size_t i = 0; i < rl.target_len; i++)
		FUZZ_ASSERT((unsigned char)rl.target[i] > ' ' && (unsigned char)rl.target[i] < 0x7f);
	for (size_t i = 0; i < nh; i++) {
		FUZZ_ASSERT(is_token(h[i].name, h[i].name_len) && inside(h[i].name, h[i].name_len, buf, buf + r));
		FUZZ_ASSERT(inside(h[i].value, h[i].value_len, buf, buf + r));
		for (size_t k = 0; k < h[i].value_len; k++)
			FUZZ_ASSERT(http_parse_is_field_char((unsigned char)h[i].value[k]));
		if (h[i].value_len)
			FUZZ_ASSERT(h[i].value[0] != ' ' && h[i].value[h[i].value_len - 1] != ' ');
	}

	/* A prefix is incomplete (r - 1, and a cut chosen by the input); the head alone parses the same. */
	size_t cuts[2] = {(size_t)r - 1, (size_t)(unsigned char)buf[len - 1] * (size_t)r / 256};
	for (int k = 0; k < 2; k++) {
		struct http_request_line rl2;
		struct http_header h2[LIMIT_HTTP_HEADERS];
		size_t nh2 = cap;
		FUZZ_ASSERT(http_parse_request_head(buf, cuts[k], &rl2, h2, &nh2) == HTTP_PARSE_INCOMPLETE);
	}
	{
		struct http_request_line rl2;
		struct http_header h2[LIMIT_HTTP_HEADERS];
		size_t nh2 = cap;
		FUZZ_ASSERT(http_parse_request_head(buf, (size_t)r, &rl2, h2, &nh2) == r && nh2 == nh);
	}

	struct http_request_framing f;
	if (http_parse_read_request_framing(&rl, h, nh, &f) != 0) {
		FUZZ_ASSERT(f.error && *f.error && (f.status == 400 || f.status == 501));
		return 0;
	}
	size_t ncl, nte, nhost;
	const struct http_header *cl = http_parse_header_find(h, nh, "content-length", &ncl);
	const struct http_header *te = http_parse_header_find(h, nh, "transfer-encoding", &nte);
	const struct http_header *host = http_parse_header_find(h, nh, "host", &nhost);
	FUZZ_ASSERT(ncl <= 1 && nte <= 1 && nhost <= 1 && !(cl && te));
	FUZZ_ASSERT(f.chunked == (te != NULL) && f.content_length >= 0 && (cl || f.content_length == 0));
	FUZZ_ASSERT(rl.minor_version == 0 || host);
	FUZZ_ASSERT(!f.chunked || rl.minor_version == 1);
	if (host)
		FUZZ_ASSERT(f.host == host->value && f.host_len == host->value_len);
	return 0;
}
