/* httpd — see httpd.h. */
#include "httpd.h"

#include "all_limits.h"
#include "log.h"
#include "loop.h"
#include "outq.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* An input buffer grown past this is freed when the connection goes idle. */
#define IBUF_KEEP 65536
/* Time left at the end of the drain to write the answers of stop_now. */
#define DRAIN_FLUSH_MS (LISTEN_DRAIN_MS / 10)

/* IDLE: between requests; HEAD, BODY: reading a request; WAIT: the request
 * is read and its answer is awaited (no more is read: a pipelined request
 * waits in the buffer, an end of input is seen after the answer); DONE: a
 * last answer is being written, then LINGER: the write side is shut and the
 * client's remaining bytes are dropped until it closes. */
enum cstate { CS_IDLE, CS_HEAD, CS_BODY, CS_WAIT, CS_DONE, CS_LINGER };

struct httpd_conn {
	int fd;
	enum cstate st;
	int closed;
	int close_after; /* close once the current answer is written */
	int authed;      /* a request on this connection passed the token check */
	int answered;    /* the current request's answer has ended */
	int streaming;   /* a streamed answer is open */
	int raw;         /* ... close-delimited (HTTP/1.0): no chunk framing */
	int in_request;  /* inside handler->request() */
	uint64_t seq;    /* accept order: the oldest unauthorized goes first */
	size_t body_held; /* counted in S.body_held */
	struct buf ib;    /* the bytes read: a head, then its body (offsets into it are kept) */
	struct outq oq;   /* the answers not yet written (LIMIT_LISTEN_BACKLOG) */
	struct httpd_req rq;
	struct loop_timer timer; /* head/body/idle/linger timeout */
	struct loop_timer kick;  /* go on after an answer; free a closed conn */
	/* then handler->ctx_size bytes, aligned */
	max_align_t ctx[];
};

static struct server {
	const struct httpd_handler *h;
	int lfd;
	int stopping;
	int64_t drain_deadline;
	int nconns;
	uint64_t accepted;
	size_t body_held; /* bodies held by all connections (LIMIT_LISTEN_BODY_TOTAL) */
	struct httpd_conn *conns[LIMIT_LISTEN_CONNS];
} S;

static void client_close(struct httpd_conn *c);
static void client_process(struct httpd_conn *c);
static void on_conn_timer(void *arg);
static void on_kick(void *arg);

const char *httpd_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

void *httpd_ctx(struct httpd_conn *c)
{
	return c->ctx;
}

const struct httpd_req *httpd_request(const struct httpd_conn *c)
{
	return &c->rq;
}

struct httpd_field httpd_offset(const struct httpd_conn *c, const char *v, size_t n)
{
	struct httpd_field f = {0, 0};
	if (v && v > c->ib.p && v + n <= c->ib.p + c->ib.len) {
		f.off = (uint32_t)(v - c->ib.p);
		f.len = (uint32_t)n;
	}
	return f;
}

const char *httpd_field(const struct httpd_conn *c, struct httpd_field f)
{
	return f.off ? c->ib.p + f.off : NULL;
}

void httpd_authorized(struct httpd_conn *c)
{
	c->authed = 1;
}

int httpd_stopping(void)
{
	return S.stopping;
}

int httpd_waiting(const struct httpd_conn *c)
{
	return !c->closed && c->st == CS_WAIT && !c->answered;
}

void httpd_close_after(struct httpd_conn *c)
{
	c->close_after = 1;
}

/* ---- output ---- */

static void client_update_events(struct httpd_conn *c)
{
	if (c->closed)
		return;
	short ev = 0;
	if (outq_pending(&c->oq))
		ev |= POLLOUT;
	/* Nothing is read while a request waits for its answer: an end of input
	 * then may be a half-close, which still wants the answer (a client that
	 * has gone shows when a write fails, or as POLLHUP/POLLERR). */
	if (c->st == CS_IDLE || c->st == CS_HEAD || c->st == CS_BODY || c->st == CS_LINGER)
		ev |= POLLIN;
	loop_set_events(c->fd, ev);
}

/* The last answer is out: shut the write side and drop what the client still
 * sends until it closes or LISTEN_LINGER_MS pass, so a client still sending
 * (a refused body) reads its status instead of a reset (RFC 9112 9.6). */
static void client_linger(struct httpd_conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->st = CS_LINGER;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_LINGER_MS, on_conn_timer, c);
	client_update_events(c);
}

static void client_flush(struct httpd_conn *c)
{
	int r = outq_flush(&c->oq, c->fd, 1, IBUF_KEEP);
	if (r == OUTQ_ERROR) {
		log_debug("http: write failed (%s)", errno ? strerror(errno) : "closed");
		client_close(c);
		return;
	}
	if (r == OUTQ_DONE && c->st == CS_DONE) {
		client_linger(c);
		return;
	}
	client_update_events(c);
}

static int out_put(struct httpd_conn *c, const char *p, size_t n)
{
	if (c->closed)
		return -1;
	int r = outq_put(&c->oq, p, n);
	if (r == BUF_E_MAX) {
		log_warn("http: client not reading (LIMIT_LISTEN_BACKLOG): closed");
		client_close(c);
		return -1;
	}
	if (r < 0) {
		log_error("http: out of memory");
		client_close(c);
		return -1;
	}
	return 0;
}

/* Status line and headers; clen < 0: chunked, or for HTTP/1.0 (which has
 * no chunks) close-delimited: the body ends when the connection closes. */
static void put_head(struct httpd_conn *c, int status, const char *ctype, long long clen, const char *extra)
{
	char h[1400];
	int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\n", status, httpd_reason(status));
	if (ctype)
		n += snprintf(h + n, sizeof h - (size_t)n, "Content-Type: %s\r\n", ctype);
	if (clen >= 0)
		n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %lld\r\n", clen);
	else if (c->rq.minor)
		n += snprintf(h + n, sizeof h - (size_t)n, "Transfer-Encoding: chunked\r\n");
	else
		c->close_after = c->raw = 1;
	if (c->close_after || S.stopping)
		n += snprintf(h + n, sizeof h - (size_t)n, "Connection: close\r\n");
	else if (c->rq.minor == 0)
		n += snprintf(h + n, sizeof h - (size_t)n, "Connection: keep-alive\r\n");
	n += snprintf(h + n, sizeof h - (size_t)n, "%s\r\n", extra ? extra : "");
	if (n >= (int)sizeof h) /* cannot happen: every part is bounded */
		n = (int)sizeof h - 1;
	out_put(c, h, (size_t)n);
}

/* The answer has ended: go on (now, inside request(), or from the loop). */
static void answer_ended(struct httpd_conn *c)
{
	c->answered = 1;
	c->streaming = 0;
	if (c->closed)
		return;
	if (c->st == CS_WAIT) {
		if (!c->in_request) { /* from the loop: go on from the loop too */
			loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
			client_flush(c);
		}
		return;
	}
	/* a refusal from head(), or the server's own error: the connection ends */
	c->close_after = 1;
	c->st = CS_DONE;
	client_flush(c);
}

void httpd_reply(struct httpd_conn *c, int status, const char *ctype, const char *extra, const char *body,
		 size_t len)
{
	if (c->closed || c->answered)
		return;
	put_head(c, status, ctype, (long long)len, extra);
	if (!c->rq.is_head && len)
		out_put(c, body, len);
	answer_ended(c);
}

int httpd_stream_open(struct httpd_conn *c, int status, const char *ctype, const char *extra)
{
	if (c->closed || c->answered)
		return -1;
	put_head(c, status, ctype, -1, extra);
	c->streaming = 1;
	if (!c->in_request)
		client_flush(c);
	return c->closed ? -1 : 0;
}

int httpd_stream_write(struct httpd_conn *c, const struct iovec *v, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += v[i].iov_len;
	if (c->closed || !c->streaming || !len)
		return c->closed ? -1 : 0;
	char sz[24];
	int k = c->raw ? 0 : snprintf(sz, sizeof sz, "%zx\r\n", len);
	if (out_put(c, sz, (size_t)k) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (out_put(c, v[i].iov_base, v[i].iov_len) < 0)
			return -1;
	if (!c->raw && out_put(c, "\r\n", 2) < 0)
		return -1;
	if (!c->in_request)
		client_flush(c);
	return c->closed ? -1 : 0;
}

void httpd_stream_end(struct httpd_conn *c)
{
	if (c->closed || !c->streaming)
		return;
	if (!c->raw)
		out_put(c, "0\r\n\r\n", 5);
	answer_ended(c);
}

/* ---- connections ---- */

static void body_release(struct httpd_conn *c)
{
	S.body_held -= c->body_held;
	c->body_held = 0;
}

static void client_close(struct httpd_conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	if (c->st == CS_WAIT)
		S.h->end(c, !c->answered);
	body_release(c);
	loop_unwatch(c->fd);
	loop_timer_clear(&c->timer);
	close(c->fd);
	c->fd = -1;
	for (int i = 0; i < S.nconns; i++)
		if (S.conns[i] == c) {
			S.conns[i] = S.conns[--S.nconns];
			break;
		}
	/* freed from the loop: a caller up the stack may still hold c */
	loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
}

static void client_idle(struct httpd_conn *c)
{
	c->st = CS_IDLE;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_IDLE_TIMEOUT_MS, on_conn_timer, c);
}

/* The request is answered: drop its bytes and go on with the next one. */
static void client_next(struct httpd_conn *c)
{
	if (c->st == CS_WAIT)
		S.h->end(c, 0);
	body_release(c);
	size_t used = c->rq.head_len + c->rq.body_len;
	if (used > c->ib.len)
		used = c->ib.len;
	memmove(c->ib.p, c->ib.p + used, c->ib.len - used);
	c->ib.len -= used;
	memset(&c->rq, 0, sizeof c->rq);
	c->answered = 0;
	c->raw = 0;
	if (S.stopping)
		c->close_after = 1;
	if (c->close_after) {
		c->st = CS_DONE;
		client_flush(c);
		return;
	}
	if (c->ib.len == 0 && c->ib.cap > IBUF_KEEP)
		buf_free(&c->ib);
	client_idle(c);
	client_flush(c);
}

static void on_kick(void *arg)
{
	struct httpd_conn *c = arg;
	if (c->closed) {
		buf_free(&c->ib);
		outq_free(&c->oq);
		free(c);
		return;
	}
	if (c->st == CS_WAIT && c->answered) {
		client_next(c);
		if (!c->closed && c->st == CS_IDLE && c->ib.len)
			client_process(c);
	}
}

/* The server's own refusal: answered, then the connection ends. */
static void server_error(struct httpd_conn *c, int status, const char *detail, const char *extra)
{
	c->close_after = 1;
	if (!c->rq.t0)
		c->rq.t0 = loop_now_ms();
	S.h->error(c, status, detail, extra);
	if (!c->answered) /* the handler wrote nothing: a bare status */
		httpd_reply(c, status, NULL, extra, NULL, 0);
}

static int path_end(const struct http_request_line *rl)
{
	size_t n = 0;
	while (n < rl->target_len && rl->target[n] != '?')
		n++;
	return (int)n;
}

/* The framing of a parsed head. Returns 0, or -1 after answering. */
static int read_framing(struct httpd_conn *c, const struct http_request_line *rl, const struct http_header *h,
			size_t nh)
{
	struct httpd_req *r = &c->rq;
	snprintf(r->method, sizeof r->method, "%.*s", (int)(rl->method_len < 11 ? rl->method_len : 11), rl->method);
	r->minor = rl->minor_version;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	r->target = httpd_offset(c, rl->target, (size_t)path_end(rl));
	struct http_request_framing f;
	if (http_parse_read_request_framing(rl, h, nh, &f) < 0) {
		server_error(c, f.status, f.error, NULL);
		return -1;
	}
	r->host = httpd_offset(c, f.host, f.host_len);
	if (!f.keep_alive)
		c->close_after = 1;
	if (f.chunked) {
		server_error(c, 411, "no chunked bodies: send Content-Length", NULL);
		return -1;
	}
	if (f.content_length > LIMIT_LISTEN_BODY_BYTES) {
		server_error(c, 413, "over LIMIT_LISTEN_BODY_BYTES", NULL);
		return -1;
	}
	if (strcmp(r->method, "POST") == 0 && !http_parse_header_find(h, nh, "content-length", NULL)) {
		server_error(c, 411, "a POST needs Content-Length", NULL);
		return -1;
	}
	r->body_len = (size_t)f.content_length;
	r->expect = f.expect_continue;
	return 0;
}

/* The head at the start of c->ib.p: parse, check, go on to the body. Returns
 * 0, or -1 when it is not complete or the request was answered. */
static int client_head(struct httpd_conn *c)
{
	struct http_header h[LIMIT_HTTP_HEADERS];
	size_t nh = LIMIT_HTTP_HEADERS;
	struct http_request_line rl;
	int n = http_parse_request_head(c->ib.p, c->ib.len, &rl, h, &nh);
	if (n == HTTP_PARSE_INCOMPLETE)
		return -1;
	if (n == HTTP_PARSE_TOO_MANY || n == HTTP_PARSE_TOO_BIG) {
		server_error(c, 431, n == HTTP_PARSE_TOO_BIG ? "over LIMIT_HTTP_HEAD_BYTES" : "too many headers", NULL);
		return -1;
	}
	if (n < 0) {
		server_error(c, 400, NULL, NULL);
		return -1;
	}
	c->rq.head_len = (size_t)n;
	if (read_framing(c, &rl, h, nh) < 0)
		return -1;
	if (S.h->head(c, h, nh) < 0) { /* refused and answered */
		if (!c->answered && !c->closed)
			server_error(c, 500, NULL, NULL);
		return -1;
	}
	if (c->rq.body_len > LIMIT_LISTEN_BODY_TOTAL - S.body_held) {
		log_info("http: 503: LIMIT_LISTEN_BODY_TOTAL");
		server_error(c, 503, "too many request bodies at once (LIMIT_LISTEN_BODY_TOTAL)", "Retry-After: 1\r\n");
		return -1;
	}
	c->body_held = c->rq.body_len;
	S.body_held += c->body_held;
	c->st = CS_BODY;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_BODY_TIMEOUT_MS, on_conn_timer, c);
	if (c->rq.expect && c->ib.len - c->rq.head_len < c->rq.body_len) { /* only now that the head passed */
		out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		client_flush(c);
	}
	return 0;
}

/* The body is in: hand the request over. */
static void client_request(struct httpd_conn *c)
{
	c->st = CS_WAIT;
	loop_timer_clear(&c->timer);
	c->in_request = 1;
	S.h->request(c, c->ib.p + c->rq.head_len, c->rq.body_len);
	c->in_request = 0;
	if (c->closed)
		return;
	if (c->answered)
		client_next(c); /* and the loop goes on with a pipelined request */
	else
		client_flush(c); /* a stream's head, or nothing yet */
}

static void client_process(struct httpd_conn *c)
{
	while (!c->closed && (c->st == CS_IDLE || c->st == CS_HEAD || c->st == CS_BODY)) {
		if (c->st == CS_IDLE) {
			if (c->ib.len == 0)
				return;
			c->st = CS_HEAD;
			c->rq.t0 = loop_now_ms();
			memset(c->ctx, 0, S.h->ctx_size);
			if (c->authed) /* else the short timer set at accept goes on */
				loop_timer_set(&c->timer, c->rq.t0 + LISTEN_HEAD_TIMEOUT_MS, on_conn_timer, c);
		}
		if (c->st == CS_HEAD && client_head(c) < 0)
			return;
		if (c->st == CS_BODY) {
			if (c->ib.len < c->rq.head_len + c->rq.body_len)
				return;
			client_request(c);
		}
	}
}

/* recv() past EINTR: the bytes read (> 0), 0 when none are there yet, -1
 * when the client has gone (end of stream or a socket error). */
static ssize_t recv_some(int fd, void *buf, size_t n, int flags)
{
	ssize_t r;
	do
		r = recv(fd, buf, n, flags);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return r > 0 ? r : -1;
}

static void client_read(struct httpd_conn *c)
{
	if (!c->ib.cap) {
		/* No buffer yet: a client that connected and left (often many at
		 * once, each freed only from the loop) must not cost one each. */
		char b;
		ssize_t p = recv_some(c->fd, &b, 1, MSG_PEEK);
		if (p < 0)
			client_close(c);
		if (p <= 0)
			return;
	}
	/* Until a head has passed the checks, the buffer holds at most a head;
	 * then it grows once to hold that request's body (counted in
	 * S.body_held). It may move here: only offsets into it are kept. */
	size_t cap = c->st == CS_BODY ? c->rq.head_len + c->rq.body_len : LIMIT_HTTP_HEAD_BYTES;
	if (c->ib.cap < cap) {
		c->ib.max = cap; /* exactly cap: no room beyond what the request may use */
		if (buf_reserve(&c->ib, cap - c->ib.len) < 0) {
			log_error("http: out of memory");
			client_close(c);
			return;
		}
	}
	size_t room = c->ib.cap - c->ib.len;
	if (room == 0) { /* cannot happen: the parser refuses a longer head */
		server_error(c, 431, NULL, NULL);
		return;
	}
	ssize_t r = recv_some(c->fd, c->ib.p + c->ib.len, room, 0);
	if (r < 0)
		client_close(c);
	if (r <= 0)
		return;
	c->ib.len += (size_t)r;
	client_process(c);
}

static void on_conn_io(void *arg, int fd, short revents)
{
	(void)fd;
	struct httpd_conn *c = arg;
	if (c->closed)
		return;
	if (revents & POLLOUT)
		client_flush(c);
	if (c->closed)
		return;
	if (c->st == CS_WAIT || c->st == CS_DONE) {
		/* Not reading: only a reset (the client is really gone) shows. */
		if (revents & (POLLHUP | POLLERR)) {
			if (c->st == CS_WAIT && !c->answered)
				log_info("http: client left before its answer: cancelled");
			client_close(c);
		}
		return;
	}
	if (c->st == CS_LINGER) {
		char drop[4096];
		if (recv_some(c->fd, drop, sizeof drop, 0) < 0)
			client_close(c);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		client_read(c);
}

static void on_conn_timer(void *arg)
{
	struct httpd_conn *c = arg;
	if (c->closed)
		return;
	if (c->st == CS_HEAD || c->st == CS_BODY) {
		log_info("http: 408: request too slow");
		server_error(c, 408, NULL, NULL);
		return;
	}
	client_close(c); /* idle too long, a last answer not read, lingering over */
}

/* Every slot is taken: close a lingering connection (its answer is out), or
 * else the oldest that has not passed the token check and is not being
 * answered, so the token holder gets in. */
static void evict_unauthorized(void)
{
	struct httpd_conn *old = NULL;
	for (int i = 0; i < S.nconns; i++) {
		struct httpd_conn *c = S.conns[i];
		int done = c->st == CS_LINGER, unauth = !c->authed && c->st != CS_WAIT && c->st != CS_DONE;
		if ((done || unauth) && (!old || (done && old->st != CS_LINGER) ||
					 ((done || old->st != CS_LINGER) && c->seq < old->seq)))
			old = c;
	}
	if (old) {
		log_info("http: connection slots full: an unauthorized connection closed");
		client_close(old);
	}
}

static void on_accept(void *arg, int fd, short revents)
{
	(void)arg;
	(void)revents;
	for (int k = 0; k < 64; k++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				log_warn("http: accept failed (%s)", strerror(errno));
			return;
		}
		if (httpd_adopt(cfd) < 0) {
			ssize_t w = send(cfd, S.h->busy_reply, strlen(S.h->busy_reply), MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			log_info("http: 503: LIMIT_LISTEN_CONNS");
			close(cfd);
			continue;
		}
		int one = 1;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
}

int httpd_adopt(int fd)
{
	struct httpd_conn *c = NULL;
	if (S.nconns >= LIMIT_LISTEN_CONNS)
		evict_unauthorized();
	if (S.nconns < LIMIT_LISTEN_CONNS)
		c = calloc(1, sizeof *c + S.h->ctx_size);
	if (c && loop_watch(fd, POLLIN, on_conn_io, c) < 0) {
		free(c);
		c = NULL;
	}
	if (!c)
		return -1;
	c->fd = fd;
	c->seq = ++S.accepted;
	buf_init(&c->ib, LIMIT_HTTP_HEAD_BYTES);
	outq_init(&c->oq, LIMIT_LISTEN_BACKLOG);
	S.conns[S.nconns++] = c;
	/* a new client must send its first head within the short time */
	c->st = CS_IDLE;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_AUTH_HEAD_TIMEOUT_MS, on_conn_timer, c);
	return 0;
}

/* ---- the server ---- */

static int g_stop;

static void on_stop(void *arg, int fd, short revents)
{
	(void)arg;
	(void)revents;
	loop_unwatch(fd);
	g_stop = 1;
}

/* Requests in progress: a body coming, an answer awaited, or answers not yet
 * written. */
static int busy_conns(void)
{
	int n = 0;
	for (int i = 0; i < S.nconns; i++) {
		const struct httpd_conn *c = S.conns[i];
		n += c->st == CS_BODY || c->st == CS_WAIT || (c->st != CS_LINGER && outq_pending(&c->oq));
	}
	return n;
}

static void begin_stop(void)
{
	S.stopping = 1;
	S.drain_deadline = loop_now_ms() + LISTEN_DRAIN_MS;
	if (S.lfd >= 0) {
		loop_unwatch(S.lfd);
		close(S.lfd);
		S.lfd = -1;
	}
	if (S.h->stopping)
		S.h->stopping();
	for (int i = S.nconns - 1; i >= 0; i--) {
		struct httpd_conn *c = S.conns[i];
		if (c->st == CS_WAIT || c->st == CS_BODY || c->st == CS_LINGER)
			continue; /* answered, then closed (S.stopping) */
		if (outq_pending(&c->oq)) {
			c->close_after = 1;
			c->st = CS_DONE;
		} else {
			client_close(c);
		}
	}
	log_info("http: stopping; %d requests in progress", busy_conns());
}

/* The drain is nearly up: the handler answers every request still waiting
 * (an error), and bodies still coming are given up. */
static void drain_end(void)
{
	int n = 0;
	for (int i = S.nconns - 1; i >= 0; i--) {
		struct httpd_conn *c = S.conns[i];
		if (httpd_waiting(c)) {
			S.h->stop_now(c);
			n++;
		} else if (c->st == CS_BODY) {
			client_close(c);
		}
	}
	if (n)
		log_warn("http: stopping: %d calls not ended, answered with an error (LISTEN_DRAIN_MS)", n);
}

int httpd_start(int fd, const struct httpd_handler *h)
{
	memset(&S, 0, offsetof(struct server, conns));
	S.h = h;
	S.lfd = fd;
	if (fd >= 0 && loop_watch(fd, POLLIN, on_accept, NULL) < 0) {
		log_error("out of memory at start");
		close(fd);
		S.lfd = -1;
		return -1;
	}
	return 0;
}

void httpd_finish(void)
{
	while (S.nconns)
		client_close(S.conns[S.nconns - 1]);
	if (S.lfd >= 0) {
		loop_unwatch(S.lfd);
		close(S.lfd);
		S.lfd = -1;
	}
	/* closed connections are freed by their kick timers */
	for (int i = 0; i < 3 && loop_pending(); i++)
		loop_run_once(0);
}

int httpd_run(int fd, const struct httpd_handler *h, int stop_fd)
{
	if (httpd_start(fd, h) < 0)
		return 1;
	g_stop = 0;
	if (stop_fd >= 0)
		loop_watch(stop_fd, POLLIN, on_stop, NULL);
	int rc = 0, flushing = 0;
	for (;;) {
		if (g_stop && !S.stopping)
			begin_stop();
		if (S.stopping && !flushing && loop_now_ms() >= S.drain_deadline - DRAIN_FLUSH_MS) {
			flushing = 1;
			drain_end();
		}
		if (S.stopping && (busy_conns() == 0 || loop_now_ms() >= S.drain_deadline))
			break;
		if (loop_run_once(S.stopping ? 100 : -1) < 0) {
			log_error("poll failed");
			rc = 1;
			break;
		}
	}
	if (S.stopping && busy_conns())
		log_warn("http: %d answers not written: the clients did not read them (LISTEN_DRAIN_MS)",
			 busy_conns());
	if (stop_fd >= 0)
		loop_unwatch(stop_fd);
	httpd_finish();
	return rc;
}
