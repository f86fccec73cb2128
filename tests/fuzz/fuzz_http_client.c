/*
 * fuzz_http_client — the HTTP client's receive path (http_client.c: heads, 1xx,
 * framing, Content-Length, chunked, read-to-close, limits, keep-alive reuse,
 * the one resend on a connection the server closed) driven by hostile bytes
 * through a fake conn module (this file defines every net_conn_* function, so
 * net_conn.c is not linked: no sockets, no TLS).
 *
 * Input: byte 0 says how the fake connection misbehaves (write errors, reads
 * that end with an error instead of an end of stream, deadline at once,
 * cancel after some loop turns); byte 1 seeds the sizes of the reads; the
 * rest is what the server sends, read in pieces whose sizes come from the
 * seed. Up to three requests are made one after the other (a kept-alive
 * connection carries the next request and the rest of the bytes).
 *
 * Invariants: done is called exactly once per request (never after
 * http_client_cancel); a response has a status 200..599 outside 3xx, a body within
 * LIMIT_HTTP_BODY_BYTES ending in a NUL; an operation always makes progress
 * (the loop never runs dry while one waits); and the first request's outcome
 * (error or status + body) is the same when the bytes arrive in one piece.
 */
#include "net_conn.h"
#include "fuzz.h"
#include "http_client.h"
#include "http_parse.h"
#include "all_limits.h"
#include "loop.h"

#include <string.h>

/* ---- the script: what the server sends ---- */

static const uint8_t *g_data;
static size_t g_len, g_pos;
static unsigned g_seed, g_mode;
static int g_whole;  /* reads take all that is available */
static int g_conns;  /* connections opened (bounded) */

static unsigned next_rand(void)
{
	g_seed = g_seed * 1103515245u + 12345u;
	return (g_seed >> 16) & 0x7fff;
}

/* ---- the fake conn module ---- */

struct net_conn {
	net_conn_fn fn;
	void *ctx;
	struct loop_timer t;
	int event;
	int open;
	int eof;
};

static struct net_conn *g_idle;
static int g_owned;

static void fire(void *arg)
{
	struct net_conn *c = arg;
	c->fn(c->ctx, c->event);
}

static void later(struct net_conn *c, int event)
{
	c->event = event;
	loop_timer_set(&c->t, loop_now_ms(), fire, c);
}

int net_conn_configure(const char *ca_file, const char *https_proxy, const char *no_proxy, char *err, size_t errcap)
{
	(void)ca_file, (void)https_proxy, (void)no_proxy, (void)err, (void)errcap;
	return 0;
}

struct net_conn *net_conn_get(const char *host, unsigned short port, int64_t deadline_ms, int allow_reuse, net_conn_fn fn,
		      void *ctx, int *reused, char *err, size_t errcap)
{
	(void)host, (void)port, (void)deadline_ms;
	if (allow_reuse && g_idle) {
		struct net_conn *c = g_idle;
		g_idle = NULL;
		loop_timer_clear(&c->t);
		c->fn = fn;
		c->ctx = ctx;
		*reused = 1;
		g_owned++;
		return c;
	}
	*reused = 0;
	if (++g_conns > 8) {
		snprintf(err, errcap, "fake: no more connections");
		return NULL;
	}
	struct net_conn *c = calloc(1, sizeof *c);
	FUZZ_ASSERT(c);
	c->fn = fn;
	c->ctx = ctx;
	c->open = 1;
	g_owned++;
	later(c, (g_mode & 0x40) && next_rand() % 8 == 0 ? CONN_ERROR : CONN_READY);
	return c;
}

long net_conn_read(struct net_conn *c, void *buf, size_t cap)
{
	FUZZ_ASSERT(c->open && cap > 0);
	if (!g_whole && next_rand() % 4 == 0)
		return CONN_AGAIN;
	if (g_pos == g_len) {
		c->eof = 1;
		return (g_mode & 0x01) ? CONN_FAIL : 0;
	}
	size_t n = g_len - g_pos;
	if (!g_whole) {
		size_t want = 1 + next_rand() % (next_rand() % 2 ? 16 : 4096);
		if (n > want)
			n = want;
	}
	if (n > cap)
		n = cap;
	memcpy(buf, g_data + g_pos, n);
	g_pos += n;
	return (long)n;
}

long net_conn_write(struct net_conn *c, const void *buf, size_t len)
{
	FUZZ_ASSERT(c->open && len > 0 && buf);
	if (!g_whole && (g_mode & 0x02) && next_rand() % 4 == 0)
		return CONN_FAIL;
	if (!g_whole && next_rand() % 4 == 0)
		return CONN_AGAIN;
	return (long)(g_whole ? len : 1 + next_rand() % len);
}

void net_conn_wait(struct net_conn *c)
{
	later(c, CONN_IO);
}

int net_conn_closed_cleanly(const struct net_conn *c)
{
	return c->eof && !(g_mode & 0x04);
}

int net_conn_pending(const struct net_conn *c)
{
	(void)c;
	return 0;
}

const char *net_conn_error(const struct net_conn *c)
{
	return c->eof ? "" : "fake error";
}

const char *net_conn_phase(struct net_conn *c)
{
	(void)c;
	return "";
}

int net_conn_release(struct net_conn *c, int keep)
{
	if (!c)
		return 0;
	g_owned--;
	loop_timer_clear(&c->t);
	if (keep && c->open && !c->eof && !g_idle) {
		g_idle = c;
		return 1;
	}
	free(c);
	return 0;
}

void net_conn_shutdown(void)
{
	if (g_idle) {
		loop_timer_clear(&g_idle->t);
		free(g_idle);
		g_idle = NULL;
	}
}

/* ---- requests ---- */

struct outcome {
	int calls;
	int error;
	int status;
	size_t body_len;
	char *body;
};

static void on_done(void *ctx, const struct http_response *r, const char *error)
{
	struct outcome *o = ctx;
	o->calls++;
	FUZZ_ASSERT((r == NULL) != (error == NULL));
	if (error) {
		FUZZ_ASSERT(*error);
		o->error = 1;
		return;
	}
	FUZZ_ASSERT(r->status >= 200 && r->status <= 599 && (r->status < 300 || r->status >= 400));
	FUZZ_ASSERT(r->body_len <= LIMIT_HTTP_BODY_BYTES && r->body[r->body_len] == 0);
	FUZZ_ASSERT(r->content_type && strlen(r->content_type) < 128);
	FUZZ_ASSERT(r->retry_after_s >= -1 && r->retry_after_s <= 86400);
	o->status = r->status;
	o->body_len = r->body_len;
	o->body = malloc(r->body_len + 1);
	FUZZ_ASSERT(o->body);
	memcpy(o->body, r->body, r->body_len + 1);
}

/* Run one request to its end; cancel_after > 0 cancels it after that many
 * loop turns. */
static void request(int post, int64_t deadline, int cancel_after, struct outcome *o)
{
	static const char body[] = "{\"limit\":10}";
	struct http_request req = {post ? "POST" : "GET", "api.example", 443, "/v1/tasks?x=1",
				   "Bearer fuzz-token", post ? body : NULL, post ? sizeof body - 1 : 0};
	memset(o, 0, sizeof *o);
	struct http_op *op = http_client_start(&req, deadline, on_done, o);
	FUZZ_ASSERT(op);
	for (int turn = 1; o->calls == 0; turn++) {
		if (turn == cancel_after) {
			http_client_cancel(op);
			break;
		}
		FUZZ_ASSERT(loop_pending() >= 2); /* progress: something besides the deadline is armed */
		FUZZ_ASSERT(turn < 1000000);
		loop_run_once(0);
	}
	FUZZ_ASSERT(o->calls <= 1);
}

static void run(int whole, struct outcome *first)
{
	g_whole = whole;
	g_pos = 0;
	g_conns = 0;
	g_owned = 0;
	http_client_init(NULL, NULL, NULL);
	int64_t now = loop_now_ms();
	int64_t deadline = !whole && (g_mode & 0x08) ? now : now + 3600 * 1000;
	int cancel_after = !whole && (g_mode & 0x10) ? 1 + (int)(next_rand() % 64) : 0;
	request(g_mode & 0x20, deadline, cancel_after, first);
	for (int i = 0; i < 2 && !whole && g_pos < g_len; i++) {
		struct outcome o;
		request(i, deadline, 0, &o);
		FUZZ_ASSERT(o.calls == 1);
		free(o.body);
	}
	http_client_shutdown();
	FUZZ_ASSERT(g_owned == 0 && g_idle == NULL); /* every connection given back */
	FUZZ_ASSERT(loop_pending() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	g_mode = fuzz_byte(&in);
	unsigned seed = fuzz_byte(&in);
	g_data = in.p;
	g_len = in.n;

	struct outcome a, b;
	g_seed = seed;
	run(0, &a);
	if (!(g_mode & 0x5B)) { /* no injected failure, deadline or cancel: compare with one piece */
		g_seed = seed;
		run(1, &b);
		FUZZ_ASSERT(a.calls == 1 && b.calls == 1);
		FUZZ_ASSERT(a.error == b.error);
		if (!a.error)
			FUZZ_ASSERT(a.status == b.status && a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0);
		free(b.body);
	}
	free(a.body);
	return 0;
}
