/*
 * fuzz_listen — a client's bytes through the HTTP server (httpd.c) and
 * MCP over HTTP (mcp_http.c), over a real socketpair, delivered in reads of
 * sizes the input picks, with the fake list_tasks backend (tests/lib/fake_backend.h)
 * instead of the network.
 *
 * Input: byte 0 holds flags (bit 0: KLING_MCP_TOKEN "fuzz-token" is set;
 * bit 1: call deadlines of 0 ms; bit 2: the client half-closes after its
 * last byte); bytes 1..8 are a schedule of write sizes (each + 1, used in
 * turn); the rest is what the client sends. After each write the loop turns
 * twice (reads, answers, 0 ms timers) and the client reads what came.
 *
 * Invariants: what the client reads is a sequence of HTTP/1.1 responses
 * whose heads parse and whose framing reads (interim 100 Continue
 * included; a body with neither length nor chunks, SSE to HTTP/1.0, says
 * Connection: close and is the last); at the end every connection is closed, every call dropped,
 * every backend operation cancelled or answered, every session freed and
 * no timer left armed.
 */
#include "kling_config.h"
#include "kling.h"
#include "fuzz.h"
#include "http_parse.h"
#include "httpd.h"
#include "json.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "mcp_http.h"
#include "tool_list_tasks.h"
#include "tools.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_CHECK(cond) FUZZ_ASSERT(cond)
#include "../lib/fake_backend.h"

static struct kling_config CFG;
static char KEY[] = "fuzz-api-key", TOKEN[] = "fuzz-token", LISTEN[] = "127.0.0.1:8080";
static char RX[1 << 20];
static size_t RXN, RXDONE;
static int STRICT; /* no HEAD request: every Content-Length body follows */
static int TO_EOF; /* a close-delimited body (SSE to HTTP/1.0) runs to the end */

/* Check the complete responses in RX[RXDONE..RXN). */
static void check_responses(void)
{
	for (;;) {
		struct http_header h[LIMIT_HTTP_HEADERS];
		size_t nh = LIMIT_HTTP_HEADERS;
		int minor, status;
		const char *p = RX + RXDONE;
		size_t n = RXN - RXDONE;
		if (TO_EOF)
			RXDONE = RXN;
		if (!n || TO_EOF)
			return;
		int k = http_parse_response_head(p, n, &minor, &status, h, &nh);
		if (k == HTTP_PARSE_INCOMPLETE)
			return;
		FUZZ_ASSERT(k > 0 && minor == 1);
		struct http_framing f;
		FUZZ_ASSERT(http_parse_read_framing(minor, status, h, nh, 0, &f) == 0);
		if (status == 100) {
			RXDONE += (size_t)k;
			continue;
		}
		size_t body = 0;
		if (f.chunked) {
			static char tmp[sizeof RX];
			struct http_chunked d = {.limit = sizeof RX};
			size_t len = n - (size_t)k;
			memcpy(tmp, p + k, len);
			ssize_t left = http_parse_decode_chunked(&d, tmp, &len);
			if (left == HTTP_PARSE_INCOMPLETE)
				return; /* a stream still open */
			FUZZ_ASSERT(left >= 0);
			body = n - (size_t)k - (size_t)left;
		} else if (f.content_length < 0 && !f.no_body) {
			/* close-delimited (HTTP/1.0 has no chunks): the connection must end with it */
			int close = 0;
			for (size_t i = 0; i < nh; i++)
				close |= h[i].name_len == 10 && strncasecmp(h[i].name, "Connection", 10) == 0 &&
					 h[i].value_len == 5 && strncasecmp(h[i].value, "close", 5) == 0;
			FUZZ_ASSERT(close);
			TO_EOF = 1;
			RXDONE = RXN;
			return;
		} else if (f.content_length > 0) {
			/* a HEAD answer has none: the client knows which it asked */
			if ((size_t)f.content_length > n - (size_t)k)
				return;
			body = (size_t)f.content_length;
		}
		RXDONE += (size_t)k + body;
		if (!STRICT) { /* which answer was to a HEAD is not known: one checked */
			RXDONE = RXN;
			return;
		}
	}
}

static void client_read(int fd)
{
	for (;;) {
		if (RXN == sizeof RX) { /* keep only what is not yet checked */
			memmove(RX, RX + RXDONE, RXN - RXDONE);
			RXN -= RXDONE;
			RXDONE = 0;
			if (RXN == sizeof RX)
				return;
		}
		ssize_t r = recv(fd, RX + RXN, sizeof RX - RXN, MSG_DONTWAIT);
		if (r <= 0)
			break;
		RXN += (size_t)r;
	}
	check_responses();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned flags = fuzz_byte(&in);
	unsigned sched[8];
	for (int i = 0; i < 8; i++)
		sched[i] = fuzz_byte(&in) + 1;
	memset(&CFG, 0, sizeof CFG);
	CFG.api_key = KEY;
	CFG.listen = LISTEN;
	CFG.mcp_token = flags & 1 ? TOKEN : NULL;
	CFG.timeout_ms = flags & 2 ? 0 : 30000;
	RXN = RXDONE = 0;
	TO_EOF = 0;
	STRICT = !memmem(data, size, "HEAD", 4);
	static struct mcp_settings set;
	set = (struct mcp_settings){CFG.timeout_ms, NULL, {CFG.api_key, CFG.mcp_token}};
	kling_init(&CFG);
	FUZZ_ASSERT(mcp_init(&set, &kling_tools) == 0);
	kling_list_use_backend(&fake_backend);
	FUZZ_ASSERT(mcp_http_start(&CFG) == 0);
	int sv[2];
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_ASSERT(httpd_adopt(sv[0]) == 0);
	const char *p = (const char *)in.p, *end = p + in.n;
	int stalled = 0;
	for (unsigned turn = 0; p < end && stalled < 4; turn++) {
		size_t want = sched[turn % 8];
		if (want > (size_t)(end - p))
			want = (size_t)(end - p);
		ssize_t w = send(sv[1], p, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0)
			p += w;
		stalled = w > 0 ? 0 : stalled + 1; /* the server reads no more (an answer awaited, or closed) */
		loop_run_once(0);
		loop_run_once(0);
		client_read(sv[1]);
	}
	if (flags & 4)
		shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 4; i++) {
		loop_run_once(0);
		client_read(sv[1]);
	}
	mcp_http_finish();
	close(sv[1]);
	FUZZ_ASSERT(mcp_calls_running() == 0 && mcp_calls_queued() == 0);
	FUZZ_ASSERT(fake_running == 0);
	mcp_free();
	FUZZ_ASSERT(loop_pending() == 0);
	kling_list_use_backend(NULL);
	return 0;
}
