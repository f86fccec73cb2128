/*
 * fuzz_chunked — the chunked body decoder fed the same bytes two ways: all
 * at once, and split at points the input chooses. Both must give the same
 * verdict, the same decoded bytes and the same end of message (how TCP
 * splits a body must not change what we read), and stay within the limit.
 *
 * Input: byte 0 picks the body limit (small ones reach TOO_BIG), byte 1 the
 * number of split points (0..15), then that many bytes of split positions,
 * then the body stream.
 */
#include "fuzz.h"
#include "http_parse.h"

#include <string.h>

static const size_t LIMITS[] = {0, 1, 7, 100, 4096, 65536, 4 * 1024 * 1024};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	size_t limit = LIMITS[fuzz_byte(&in) % (sizeof LIMITS / sizeof *LIMITS)];
	unsigned nsplit = fuzz_byte(&in) % 16;
	unsigned splits[16];
	for (unsigned i = 0; i < nsplit; i++)
		splits[i] = fuzz_byte(&in);
	size_t n = in.n;
	char *one = malloc(n + 1), *two = malloc(n + 1);
	FUZZ_ASSERT(one && two);
	if (n) {
		memcpy(one, in.p, n);
		memcpy(two, in.p, n);
	}

	/* all at once */
	struct http_chunked a;
	memset(&a, 0, sizeof a);
	a.limit = limit;
	size_t alen = n;
	ssize_t ra = http_parse_decode_chunked(&a, one, &alen);
	FUZZ_ASSERT(alen <= n && a.total == alen && a.total <= limit);
	if (ra == HTTP_PARSE_INVALID || ra == HTTP_PARSE_TOO_BIG)
		FUZZ_ASSERT(a.error && *a.error);
	else
		FUZZ_ASSERT(ra == HTTP_PARSE_INCOMPLETE || (ra >= 0 && (size_t)ra <= n));

	/* in pieces: split positions sorted by walking forward */
	struct http_chunked b;
	memset(&b, 0, sizeof b);
	b.limit = limit;
	size_t pos = 0, out = 0, consumed = 0;
	ssize_t rb = HTTP_PARSE_INCOMPLETE;
	for (unsigned i = 0; i <= nsplit && rb == HTTP_PARSE_INCOMPLETE; i++) {
		size_t end = i < nsplit ? pos + (n - pos) * splits[i] / 256 : n;
		if (end < pos)
			end = pos;
		size_t piece = end - pos;
		char *p = two + pos; /* decoded in place, then moved down to out */
		size_t plen = piece;
		rb = http_parse_decode_chunked(&b, p, &plen);
		FUZZ_ASSERT(plen <= piece);
		memmove(two + out, p, plen);
		out += plen;
		if (rb >= 0) {
			FUZZ_ASSERT((size_t)rb <= piece);
			consumed = pos + piece - (size_t)rb;
		}
		pos = end;
	}
	FUZZ_ASSERT(rb == ra || (rb >= 0 && ra >= 0));
	FUZZ_ASSERT(out == alen && b.total == a.total && memcmp(one, two, out) == 0);
	if (ra >= 0)
		FUZZ_ASSERT(consumed == n - (size_t)ra);
	free(one);
	free(two);
	return 0;
}
