/*
 * fuzz_wire — the stdio transport (mcp_wire.c) over real pipes: bytes written to
 * its standard input in pieces of sizes the input picks, with the loop
 * turning in between, must come out as exactly the lines a plain reference
 * splitter finds (split at '\n', a '\r' before it dropped, blank lines
 * skipped, a last line without '\n' delivered at the end of input), each
 * once and in order; each line echoed back with mcp_wire_send must come out of
 * its standard output as that line and a '\n'; the end of input is reported
 * once; the wire then finishes.
 *
 * Input: byte 0 seeds the piece sizes; the rest is what the client writes.
 */
#include "fuzz.h"
#include "all_limits.h"
#include "loop.h"
#include "mcp_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char *g_got;     /* lines delivered, each followed by '\n' */
static size_t g_got_len, g_got_cap;
static int g_eof, g_oversize;
static struct mcp_wire *g_wire;

static void add(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
		FUZZ_ASSERT(*buf);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
}

static void on_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	FUZZ_ASSERT(!g_eof && len > 0 && len <= LIMIT_LINE_BYTES);
	FUZZ_ASSERT(memchr(line, '\n', len) == NULL);
	add(&g_got, &g_got_len, &g_got_cap, line, len);
	add(&g_got, &g_got_len, &g_got_cap, "\n", 1);
	FUZZ_ASSERT(mcp_wire_send(g_wire, line, len) == 0);
}

static void on_oversize(void *ctx, size_t seen)
{
	(void)ctx;
	(void)seen;
	g_oversize++;
}

static void on_eof(void *ctx)
{
	(void)ctx;
	FUZZ_ASSERT(!g_eof);
	g_eof = 1;
}

static const struct mcp_wire_handlers H = {on_line, on_oversize, on_eof, NULL};

/* The lines a plain splitter finds, each followed by '\n'. */
static char *reference(const char *p, size_t n, size_t *out_len)
{
	char *out = NULL;
	size_t len = 0, cap = 0;
	for (size_t start = 0; start < n;) {
		const char *nl = memchr(p + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - p) : n, e = end;
		if (e > start && p[e - 1] == '\r')
			e--;
		int blank = 1;
		for (size_t i = start; i < e; i++)
			if (p[i] != ' ' && p[i] != '\t')
				blank = 0;
		if (!blank) {
			add(&out, &len, &cap, p + start, e - start);
			add(&out, &len, &cap, "\n", 1);
		}
		start = end + 1;
	}
	*out_len = len;
	return out;
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
	char tmp[65536];
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r <= 0)
			return;
		add(buf, len, cap, tmp, (size_t)r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	unsigned seed = fuzz_byte(&in);
	int ip[2], op[2];
	FUZZ_ASSERT(pipe2(ip, O_CLOEXEC) == 0 && pipe2(op, O_CLOEXEC) == 0);
	fcntl(op[0], F_SETFL, O_NONBLOCK);
	g_got_len = 0;
	g_eof = g_oversize = 0;
	char *echo = NULL;
	size_t echo_len = 0, echo_cap = 0;
	g_wire = mcp_wire_open(ip[0], op[1], &H, NULL);
	FUZZ_ASSERT(g_wire);
	for (size_t pos = 0; pos < in.n;) {
		seed = seed * 1103515245u + 12345u;
		size_t piece = 1 + (seed >> 16) % 97;
		if (piece > in.n - pos)
			piece = in.n - pos;
		FUZZ_ASSERT(write(ip[1], in.p + pos, piece) == (ssize_t)piece);
		pos += piece;
		loop_run_once(0);
		drain(op[0], &echo, &echo_len, &echo_cap);
	}
	close(ip[1]);
	for (int turn = 0; !mcp_wire_done(g_wire); turn++) {
		FUZZ_ASSERT(turn < 10000);
		loop_run_once(0);
		drain(op[0], &echo, &echo_len, &echo_cap);
	}
	drain(op[0], &echo, &echo_len, &echo_cap);
	FUZZ_ASSERT(g_eof && g_oversize == 0 && mcp_wire_status(g_wire) == 0 && mcp_wire_backlog(g_wire) == 0);
	size_t want_len;
	char *want = reference((const char *)in.p, in.n, &want_len);
	FUZZ_ASSERT(g_got_len == want_len && (want_len == 0 || memcmp(g_got, want, want_len) == 0));
	FUZZ_ASSERT(echo_len == want_len && (want_len == 0 || memcmp(echo, want, want_len) == 0));
	mcp_wire_close(g_wire);
	g_wire = NULL;
	FUZZ_ASSERT(loop_pending() == 0);
	close(ip[0]);
	close(op[0]);
	close(op[1]);
	free(want);
	free(echo);
	return 0;
}
