/* http_client — see http_client.h. */
#include "http_client.h"

#include "buf.h"
#include "net_conn.h"
#include "http_parse.h"
#include "all_limits.h"
#include "log.h"
#include "loop.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- request head -------------------------------------------------------- */

static int safe_value(const char *s)
{
	for (; *s; s++)
		if (!http_parse_is_field_char((unsigned char)*s))
			return 0;
	return 1;
}

static int safe_host(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

int http_client_build_head(const struct http_request *req, char *out, size_t cap, const char **why)
{
	*why = NULL;
	int post = req->method && strcmp(req->method, "POST") == 0;
	if (!req->method || (!post && strcmp(req->method, "GET") != 0)) {
		*why = "the method must be GET or POST";
		return -1;
	}
	if (!req->host || !safe_host(req->host)) {
		*why = "the host name holds characters a host name cannot have";
		return -1;
	}
	if (!req->path || req->path[0] != '/') {
		*why = "the path must start with '/'";
		return -1;
	}
	for (const char *p = req->path; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			*why = "the path holds a space, a control character or a non-ASCII byte";
			return -1;
		}
	}
	if (req->authorization && !safe_value(req->authorization)) {
		*why = "the Authorization value holds CR, LF or another control character";
		return -1;
	}
	if (!post && req->body_len) {
		*why = "a GET request cannot carry a body";
		return -1;
	}
	char hostport[300];
	if (http_parse_format_host_port(hostport, sizeof hostport, req->host, req->port, 443) < 0) {
		*why = "the host name is too long";
		return -1;
	}
	int n = snprintf(out, cap,
			 "%s %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: kling-mcp/" KLING_VERSION "\r\n"
			 "Accept: application/json\r\n"
			 "%s%s%s",
			 req->method, req->path, hostport, req->authorization ? "Authorization: " : "",
			 req->authorization ? req->authorization : "", req->authorization ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		goto too_long;
	int m = post ? snprintf(out + n, cap - (size_t)n,
				"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", req->body_len)
		     : snprintf(out + n, cap - (size_t)n, "\r\n");
	if (m < 0 || (size_t)m >= cap - (size_t)n)
		goto too_long;
	return n + m;
too_long:
	*why = "the request head is too long";
	return -1;
}


/* ---- operations ---------------------------------------------------------- */

enum op_state { OP_START, OP_CONNECTING, OP_SENDING, OP_HEAD, OP_BODY, OP_DONE };

/* Receive-buffer room asked for before each read of a body of unknown size. */
#define READ_ROOM 4096

struct http_op {
	enum op_state state;
	http_done_fn done;
	void *ctx;
	int64_t started, deadline;
	struct loop_timer deadline_timer;
	struct loop_timer kick; /* starts the work on the next loop turn */
	char host[LIMIT_HOST_BYTES];
	char origin[LIMIT_HOST_BYTES + 8]; /* "host:port", IPv6 in brackets: for the log */
	unsigned short port;
	const char *refused; /* set by http_client_start when the request is invalid */

	char *req; /* head + body, kept for the one retry */
	size_t req_len, req_off;

	struct net_conn *conn;
	int reused, retried;

	struct buf rb; /* received bytes: heads, then the decoded body */
	size_t head_len;   /* of the final head, once parsed */
	size_t heads_seen; /* bytes of 1xx heads dropped so far */
	int got_bytes;     /* any byte of the response arrived */
	int status;
	struct http_framing fr;
	struct http_chunked ch;
	size_t body_len; /* body bytes at buf + head_len */

	char content_type[128];
	char error[700];
	struct http_op *next;
};

static struct http_op *g_ops;
static int g_ready; /* between http_client_init() and http_client_shutdown() */

/* One response buffer of the first size, kept from the last op for the
 * next: musl maps a buffer that large on its own, so each request used to
 * map, fault in and unmap one. */
#define BUF_FIRST_CAP (LIMIT_HTTP_HEAD_BYTES + 1)
static char *g_spare_buf;

static void op_unlink(struct http_op *op)
{
	for (struct http_op **p = &g_ops; *p; p = &(*p)->next) {
		if (*p == op) {
			*p = op->next;
			return;
		}
	}
}

static void op_free(struct http_op *op)
{
	loop_timer_clear(&op->deadline_timer);
	loop_timer_clear(&op->kick);
	net_conn_release(op->conn, 0);
	op_unlink(op);
	if (op->req) {
		explicit_bzero(op->req, op->req_len); /* it holds the Authorization value */
		free(op->req);
	}
	if (op->rb.p && op->rb.cap == BUF_FIRST_CAP && !g_spare_buf)
		g_spare_buf = op->rb.p;
	else
		free(op->rb.p);
	free(op);
}

static void finish_error(struct http_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish_error(struct http_op *op, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->error, sizeof op->error, fmt, ap);
	va_end(ap);
	net_conn_release(op->conn, 0);
	op->conn = NULL;
	op->state = OP_DONE;
	loop_timer_clear(&op->deadline_timer);
	log_debug("https://%s: %s", op->origin, op->error);
	op->done(op->ctx, NULL, op->error);
	op_free(op);
}

static void finish_ok(struct http_op *op)
{
	/* released first, so done may reuse it at once */
	int keep = net_conn_release(op->conn, op->fr.keep_alive);
	op->conn = NULL;
	op->state = OP_DONE;
	loop_timer_clear(&op->deadline_timer);
	op->rb.p[op->head_len + op->body_len] = 0;
	struct http_response r = {
		.status = op->status,
		.body = op->rb.p + op->head_len,
		.body_len = op->body_len,
		.retry_after_s = op->fr.retry_after_s,
		.content_type = op->content_type,
		.reused = op->reused,
	};
	log_debug("https://%s: HTTP %d, %zu body bytes, %lld ms%s", op->origin, op->status, op->body_len,
		  (long long)(loop_now_ms() - op->started), keep ? ", connection kept" : "");
	op->done(op->ctx, &r, NULL);
	op_free(op);
}

/* printable ASCII copy of s[0..len) for an error message */
static void sanitize(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0, i = 0;
	for (; i < len && n + 4 < cap; i++)
		out[n++] = (char)(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '.');
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
}

static void on_conn(void *ctx, int event);
static void do_send(struct http_op *op);

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void open_conn(struct http_op *op)
{
	char err[400];
	op->state = OP_CONNECTING;
	op->conn = net_conn_get(op->host, op->port, op->deadline, !op->retried, on_conn, op, &op->reused, err, sizeof err);
	if (!op->conn) {
		finish_error(op, "%s", err);
		return;
	}
	if (op->reused) {
		op->state = OP_SENDING;
		do_send(op);
	}
}

/* A failure before any byte of the reply on a kept-alive connection: the
 * server most likely closed it as we reused it. Send again, once, on a new
 * connection. Returns 1 when that started. */
/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static int retry_fresh(struct http_op *op)
{
	if (!op->reused || op->retried || op->got_bytes)
		return 0;
	log_info("https://%s: the kept-alive connection was closed by the server (%s); sending again on a new one",
		 op->origin, net_conn_error(op->conn)[0] ? net_conn_error(op->conn) : "end of stream");
	net_conn_release(op->conn, 0);
	op->conn = NULL;
	op->retried = 1;
	op->reused = 0;
	op->req_off = 0;
	op->rb.len = 0;
	op->heads_seen = 0;
	open_conn(op);
	return 1;
}

static void do_recv(struct http_op *op);

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void do_send(struct http_op *op)
{
	while (op->req_off < op->req_len) {
		long n = net_conn_write(op->conn, op->req + op->req_off, op->req_len - op->req_off);
		if (n == CONN_AGAIN) {
			net_conn_wait(op->conn);
			return;
		}
		if (n < 0) {
			if (!retry_fresh(op))
				finish_error(op, "sending the request to %s failed: %s", op->host, net_conn_error(op->conn));
			return;
		}
		op->req_off += (size_t)n;
	}
	op->state = OP_HEAD;
	if (!op->rb.p) {
		op->rb.cap = BUF_FIRST_CAP;
		op->rb.p = g_spare_buf ? g_spare_buf : malloc(op->rb.cap);
		g_spare_buf = NULL;
		if (!op->rb.p) {
			finish_error(op, "out of memory for the response");
			return;
		}
	}
	do_recv(op);
}

/* Make room for need bytes in op->rb (plus the final NUL). */
static int reserve(struct http_op *op, size_t need)
{
	if (need + 1 <= op->rb.cap)
		return 0;
	op->rb.max = op->head_len + LIMIT_HTTP_BODY_BYTES + READ_ROOM + 1;
	return buf_reserve(&op->rb, need + 1 - op->rb.len);
}

static void oversize(struct http_op *op, const char *how)
{
	finish_error(op, "the response body from %s is %s, over the limit of %d bytes (LIMIT_HTTP_BODY_BYTES)",
		     op->host, how, LIMIT_HTTP_BODY_BYTES);
}

/* Feed the chunked decoder the n new bytes at the end of the body. Returns
 * 1 when the body is complete, 0 for more, -1 after finishing with an error. */
static int feed_chunked(struct http_op *op, size_t n)
{
	char *p = op->rb.p + op->head_len + op->body_len;
	ssize_t r = http_parse_decode_chunked(&op->ch, p, &n);
	op->body_len += n;
	op->rb.len = op->head_len + op->body_len;
	if (r == HTTP_PARSE_INCOMPLETE)
		return 0;
	if (r == HTTP_PARSE_TOO_BIG) {
		oversize(op, "larger");
		return -1;
	}
	if (r < 0) {
		finish_error(op, "bad chunked framing from %s: %s", op->host, op->ch.error);
		return -1;
	}
	if (r > 0)
		op->fr.keep_alive = 0; /* bytes after the response: do not trust the stream */
	return 1;
}

/* The head is in buf[0..hl): read its framing and start the body. Returns
 * 1 when the response is complete, 0 to read on, -1 after an error. */
static int head_done(struct http_op *op, int minor, const struct http_header *h, size_t nh, int hl)
{
	if (http_parse_read_framing(minor, op->status, h, nh, (int64_t)time(NULL), &op->fr) != 0) {
		finish_error(op, "bad response framing from %s: %s", op->host, op->fr.error);
		return -1;
	}
	if (op->status >= 300 && op->status < 400) {
		char loc[220];
		sanitize(op->fr.location, op->fr.location ? op->fr.location_len : 0, loc, sizeof loc);
		if (op->fr.location)
			finish_error(op, "%s answered HTTP %d, a redirect to %s: not followed (it would carry the "
					 "credentials elsewhere); check the base URL",
				     op->host, op->status, loc);
		else
			finish_error(op, "%s answered HTTP %d (a redirect without Location)", op->host, op->status);
		return -1;
	}
	size_t ctl = op->fr.content_type ? op->fr.content_type_len : 0;
	if (ctl >= sizeof op->content_type)
		ctl = sizeof op->content_type - 1;
	if (ctl)
		memcpy(op->content_type, op->fr.content_type, ctl);
	op->content_type[ctl] = 0;
	op->fr.content_type = op->fr.location = NULL; /* views into buf, which may move */
	op->head_len = (size_t)hl;
	size_t have = op->rb.len - op->head_len;
	op->state = OP_BODY;
	if (op->fr.no_body) {
		op->body_len = 0;
		if (have)
			op->fr.keep_alive = 0;
		return 1;
	}
	if (op->fr.content_length >= 0) {
		if (op->fr.content_length > LIMIT_HTTP_BODY_BYTES) {
			char how[64];
			snprintf(how, sizeof how, "%lld bytes", (long long)op->fr.content_length);
			oversize(op, how);
			return -1;
		}
		size_t cl = (size_t)op->fr.content_length;
		if (reserve(op, op->head_len + cl) != 0) {
			finish_error(op, "out of memory for a response body of %zu bytes", cl);
			return -1;
		}
		if (have > cl) {
			op->fr.keep_alive = 0; /* more than announced */
			have = cl;
		}
		op->body_len = have;
		op->rb.len = op->head_len + have;
		return op->body_len == cl;
	}
	if (op->fr.chunked) {
		memset(&op->ch, 0, sizeof op->ch);
		op->ch.limit = LIMIT_HTTP_BODY_BYTES;
		op->body_len = 0;
		return feed_chunked(op, have);
	}
	op->body_len = have; /* until the server closes */
	if (op->body_len > LIMIT_HTTP_BODY_BYTES) {
		oversize(op, "larger");
		return -1;
	}
	return 0;
}

/* Parse the heads in buf. Returns 1 complete, 0 read on, -1 error. */
static int parse_heads(struct http_op *op)
{
	for (;;) {
		struct http_header h[LIMIT_HTTP_HEADERS];
		size_t nh = LIMIT_HTTP_HEADERS;
		int minor;
		int hl = http_parse_response_head(op->rb.p, op->rb.len, &minor, &op->status, h, &nh);
		if (hl == HTTP_PARSE_INCOMPLETE) {
			if (op->heads_seen + op->rb.len >= LIMIT_HTTP_HEAD_BYTES) {
				finish_error(op, "the response head from %s is over %d bytes (LIMIT_HTTP_HEAD_BYTES)",
					     op->host, LIMIT_HTTP_HEAD_BYTES);
				return -1;
			}
			return 0;
		}
		if (hl == HTTP_PARSE_TOO_MANY) {
			finish_error(op, "the response from %s has more than %d headers (LIMIT_HTTP_HEADERS)", op->host,
				     LIMIT_HTTP_HEADERS);
			return -1;
		}
		if (hl < 0) {
			char first[48];
			sanitize(op->rb.p, op->rb.len < 32 ? op->rb.len : 32, first, sizeof first);
			finish_error(op, "the response from %s is not valid HTTP/1.1 (it begins \"%s\")", op->host, first);
			return -1;
		}
		/* Interim heads count towards the limit. Checked here too, not only
		 * while incomplete: otherwise the verdict on a final head that ends
		 * just past the limit would depend on how the bytes were split. */
		if (op->heads_seen + (size_t)hl > LIMIT_HTTP_HEAD_BYTES) {
			finish_error(op, "the response heads from %s are over %d bytes (LIMIT_HTTP_HEAD_BYTES)", op->host,
				     LIMIT_HTTP_HEAD_BYTES);
			return -1;
		}
		if (op->status >= 200)
			return head_done(op, minor, h, nh, hl);
		if (op->status == 101) {
			finish_error(op, "%s answered 101 Switching Protocols, which was not asked for", op->host);
			return -1;
		}
		/* 1xx interim response (100 Continue, 103 Early Hints...): skip. */
		op->heads_seen += (size_t)hl;
		memmove(op->rb.p, op->rb.p + hl, op->rb.len - (size_t)hl);
		op->rb.len -= (size_t)hl;
		if (op->heads_seen >= LIMIT_HTTP_HEAD_BYTES) {
			finish_error(op, "the response heads from %s are over %d bytes (LIMIT_HTTP_HEAD_BYTES)", op->host,
				     LIMIT_HTTP_HEAD_BYTES);
			return -1;
		}
	}
}

/* n new bytes arrived at buf + len. Returns 1 complete, 0 on, -1 error. */
static int got(struct http_op *op, size_t n)
{
	op->got_bytes = 1;
	if (op->state == OP_HEAD) {
		op->rb.len += n;
		return parse_heads(op);
	}
	if (op->fr.chunked)
		return feed_chunked(op, n);
	op->rb.len += n;
	op->body_len += n;
	if (op->fr.content_length >= 0)
		return op->body_len == (size_t)op->fr.content_length;
	if (op->body_len > LIMIT_HTTP_BODY_BYTES) {
		oversize(op, "larger");
		return -1;
	}
	return 0;
}

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void do_recv(struct http_op *op)
{
	for (;;) {
		size_t room;
		if (op->state == OP_HEAD) {
			room = op->rb.cap - 1 - op->rb.len;
		} else if (op->fr.content_length >= 0) {
			room = (size_t)op->fr.content_length - op->body_len;
		} else {
			if (op->rb.cap - 1 - op->rb.len < READ_ROOM && reserve(op, op->rb.len + READ_ROOM) != 0 &&
			    op->rb.cap - 1 == op->rb.len) {
				oversize(op, "larger");
				return;
			}
			room = op->rb.cap - 1 - op->rb.len;
		}
		long n = net_conn_read(op->conn, op->rb.p + op->rb.len, room);
		if (n == CONN_AGAIN) {
			net_conn_wait(op->conn);
			return;
		}
		if (n < 0 || (n == 0 && op->state == OP_HEAD)) {
			if (retry_fresh(op))
				return;
			if (n < 0)
				finish_error(op, "reading the response from %s failed: %s", op->host, net_conn_error(op->conn));
			else if (!op->got_bytes)
				finish_error(op, "%s closed the connection without answering", op->host);
			else
				finish_error(op, "%s closed the connection in the middle of the response head", op->host);
			return;
		}
		if (n == 0) {
			if (!op->fr.chunked && op->fr.content_length < 0) {
				if (!net_conn_closed_cleanly(op->conn))
					log_debug("https://%s: body ended by a close without TLS close_notify",
						  op->origin);
				finish_ok(op);
			} else {
				finish_error(op, "%s closed the connection in the middle of the response body (after %zu "
						 "body bytes)",
					     op->host, op->body_len);
			}
			return;
		}
		int r = got(op, (size_t)n);
		if (r < 0)
			return;
		if (r > 0) {
			finish_ok(op);
			return;
		}
	}
}

static void on_conn(void *ctx, int event)
{
	struct http_op *op = ctx;
	if (event == CONN_ERROR) {
		finish_error(op, "%s", net_conn_error(op->conn));
		return;
	}
	if (event == CONN_READY)
		op->state = OP_SENDING;
	if (op->state == OP_SENDING)
		do_send(op);
	else
		do_recv(op);
}

static void on_kick(void *arg)
{
	struct http_op *op = arg;
	if (op->refused) {
		finish_error(op, "request to %s refused before sending: %s", op->host, op->refused);
		return;
	}
	open_conn(op);
}

static void on_deadline(void *arg)
{
	struct http_op *op = arg;
	const char *phase = op->conn ? net_conn_phase(op->conn) : "";
	char what[600];
	if (*phase)
		snprintf(what, sizeof what, "%s", phase);
	else if (op->state == OP_CONNECTING || op->state == OP_START)
		snprintf(what, sizeof what, "connecting to %s", op->host);
	else if (op->state == OP_SENDING)
		snprintf(what, sizeof what, "sending the request to %s", op->host);
	else if (op->state == OP_HEAD)
		snprintf(what, sizeof what, "waiting for the response of %s", op->host);
	else if (op->fr.content_length >= 0)
		snprintf(what, sizeof what, "reading the response body from %s (%zu of %lld bytes)", op->host,
			 op->body_len, (long long)op->fr.content_length);
	else
		snprintf(what, sizeof what, "reading the response body from %s (%zu bytes so far)", op->host,
			 op->body_len);
	int64_t budget = op->deadline > op->started ? op->deadline - op->started : 0;
	finish_error(op, HTTP_TIMEOUT_PREFIX "%lld ms while %s", (long long)budget, what);
}

int http_client_init(const char *ca_file, const char *https_proxy, const char *no_proxy)
{
	char err[300];
	g_ready = 1;
	if (net_conn_configure(ca_file, https_proxy, no_proxy, err, sizeof err) != 0) {
		log_warn("%s", err); /* and each request through the proxy says it */
		return -1;
	}
	return 0;
}

struct http_op *http_client_start(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx)
{
	struct http_op *op = calloc(1, sizeof *op);
	if (!op)
		return NULL;
	op->done = done;
	op->ctx = ctx;
	op->started = loop_now_ms();
	op->deadline = deadline_ms;
	op->port = req->port;
	snprintf(op->host, sizeof op->host, "%s", req->host ? req->host : "");
	if (http_parse_format_host_port(op->origin, sizeof op->origin, op->host, op->port, 0) < 0)
		op->origin[0] = 0;
	if (!g_ready) {
		op->refused = "the HTTP client is not initialized (http_client_init)";
	} else if (!req->host || strlen(req->host) >= sizeof op->host) {
		op->refused = "the host name is missing or too long";
	} else if (req->body_len > LIMIT_HTTP_REQUEST_BODY_BYTES) {
		op->refused = "the body is over LIMIT_HTTP_REQUEST_BODY_BYTES";
	} else if (req->port == 0) {
		op->refused = "port 0";
	} else {
		size_t cap = 512 + strlen(req->host) + (req->path ? strlen(req->path) : 0) +
			     (req->authorization ? strlen(req->authorization) : 0);
		op->req = malloc(cap + req->body_len);
		if (!op->req) {
			free(op);
			return NULL;
		}
		int n = http_client_build_head(req, op->req, cap, &op->refused);
		if (n >= 0) {
			if (req->body_len)
				memcpy(op->req + n, req->body, req->body_len);
			op->req_len = (size_t)n + req->body_len;
			log_debug("%s https://%s%s", req->method, op->origin, req->path);
		}
	}
	op->next = g_ops;
	g_ops = op;
	loop_timer_set(&op->kick, op->started, on_kick, op);
	loop_timer_set(&op->deadline_timer, deadline_ms, on_deadline, op);
	return op;
}

void http_client_cancel(struct http_op *op)
{
	if (!op || op->state == OP_DONE)
		return;
	op_free(op);
}

struct run_state {
	http_done_fn done;
	void *ctx;
	int finished;
};

static void run_done(void *ctx, const struct http_response *resp, const char *error)
{
	struct run_state *rs = ctx;
	rs->finished = 1;
	rs->done(rs->ctx, resp, error);
}

int http_client_run(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx)
{
	struct run_state rs = {done, ctx, 0};
	struct http_op *op = http_client_start(req, deadline_ms, run_done, &rs);
	if (!op)
		return -1;
	while (!rs.finished) {
		if (loop_run_once(-1) < 0) {
			http_client_cancel(op);
			return -1;
		}
	}
	return 0;
}

void http_client_shutdown(void)
{
	/* An op whose done is running (OP_DONE) is freed when done returns. */
	struct http_op **p = &g_ops;
	while (*p) {
		struct http_op *op = *p;
		if (op->state == OP_DONE) {
			p = &op->next;
			continue;
		}
		*p = op->next; /* unlinked here, so the walk never looks at it again */
		op->next = NULL;
		op_free(op);
	}
	net_conn_shutdown();
	free(g_spare_buf);
	g_spare_buf = NULL;
	g_ready = 0;
}
