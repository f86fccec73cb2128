/* transport_http — see transport_http.h. */
#include "transport_http.h"

#include "config.h"
#include "http_parse.h"
#include "json.h"
#include "jsonrpc.h"
#include "kling_limits.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define MCP_PATH "/mcp"
/* Session ids: 128 random bits as 32 lowercase hex digits. */
#define SID_RANDOM_BYTES 16
#define SID_LEN (2 * SID_RANDOM_BYTES)
/* Expired sessions are looked for this often (or every LISTEN_SESSION_IDLE_MS,
 * when that is shorter). */
#define SWEEP_MS (60000 < LISTEN_SESSION_IDLE_MS ? 60000 : LISTEN_SESSION_IDLE_MS)
/* An input buffer grown past this is freed when the connection goes idle. */
#define IBUF_KEEP 65536
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define V2026 "2026-07-28"
/* The 2026-07-28 error for a mirrored header missing or not matching. */
#define ERR_HEADER_MISMATCH (-32020)

/* ---- pure helpers ---- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int ieqz(const char *a, size_t an, const char *z)
{
	return ieq(a, an, z, strlen(z));
}

int http_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	/* Walk b's length whatever a holds, so timing tells at most a's length
	 * compared with b's, never a position. */
	unsigned char d = (unsigned char)(alen != blen);
	for (size_t i = 0; i < blen; i++)
		d |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
	return d == 0;
}

int http_list_has(const char *list, const char *v, size_t n)
{
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *s = p, *t = e;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t > s && ieq(s, (size_t)(t - s), v, n))
			return 1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

int http_answer_error(const char *msg, size_t len, int *code)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",";
	static const char id[] = "\"id\":";
	static const char err[] = "\"error\":{\"code\":";
	const char *p = msg, *end = msg + len;
	if (len < sizeof head - 1 || memcmp(p, head, sizeof head - 1) != 0)
		return 0;
	p += sizeof head - 1;
	if ((size_t)(end - p) > sizeof id - 1 && memcmp(p, id, sizeof id - 1) == 0) {
		p += sizeof id - 1;
		if (p < end && *p == '"') { /* a string id: skip to its closing quote */
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return 0;
			p++;
		} else {
			while (p < end && (*p == '-' || (*p >= '0' && *p <= '9')))
				p++;
		}
		if (p >= end || *p != ',')
			return 0;
		p++;
	}
	if ((size_t)(end - p) <= sizeof err - 1 || memcmp(p, err, sizeof err - 1) != 0)
		return 0;
	p += sizeof err - 1;
	int neg = 0;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	long v = 0;
	int digits = 0;
	while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits)
		return 0;
	*code = (int)(neg ? -v : v);
	return 1;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int http_header_value_decode(const char *v, size_t n, char *out, size_t cap)
{
	static const char pre[] = "=?base64?", post[] = "?=";
	if (n >= sizeof pre - 1 + sizeof post - 1 && ieq(v, sizeof pre - 1, pre, sizeof pre - 1) &&
	    memcmp(v + n - 2, post, 2) == 0) {
		const char *p = v + sizeof pre - 1, *e = v + n - 2;
		size_t o = 0;
		unsigned acc = 0;
		int bits = 0, pad = 0;
		for (; p < e; p++) {
			if (*p == '=') {
				pad++;
				continue;
			}
			int d = b64val((unsigned char)*p);
			if (d < 0 || pad)
				return -1;
			acc = (acc << 6) | (unsigned)d;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o == cap)
					return -1;
				out[o++] = (char)((acc >> bits) & 0xff);
			}
		}
		if (pad > 2)
			return -1;
		return (int)o;
	}
	if (n > cap)
		return -1;
	memcpy(out, v, n);
	return (int)n;
}

int http_listen_parse(const char *s, struct http_listen_addr *out, const char **why)
{
	memset(out, 0, sizeof *out);
	const char *colon = strrchr(s, ':');
	const char *port = colon ? colon + 1 : s;
	char host[64];
	size_t hl = colon ? (size_t)(colon - s) : 0;
	if (hl >= sizeof host) {
		*why = "the address is too long";
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = 0;
	char *e;
	if (!*port || strspn(port, "0123456789") != strlen(port)) {
		*why = "PORT must be a number from 0 to 65535";
		return -1;
	}
	long p = strtol(port, &e, 10);
	if (p < 0 || p > 65535) {
		*why = "PORT must be a number from 0 to 65535";
		return -1;
	}
	out->port = (unsigned)p;
	if (colon && hl == 0) {
		*why = "the address before ':' is empty (use PORT alone for 127.0.0.1)";
		return -1;
	}
	if (!colon || strcmp(host, "localhost") == 0) {
		memcpy(host, "127.0.0.1", 10);
		hl = 9;
	}
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']') {
			*why = "an IPv6 address must be written in brackets: [::1]:PORT";
			return -1;
		}
		host[hl - 1] = 0;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host + 1, &a6) != 1) {
			*why = "not an IPv6 address";
			return -1;
		}
		out->family = AF_INET6;
		memcpy(out->addr, &a6, 16);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
		snprintf(out->host, sizeof out->host, "[%s]", host + 1);
		return 0;
	}
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) != 1) {
		*why = strchr(host, ':') ? "an IPv6 address must be written in brackets: [::1]:PORT"
					 : "ADDR must be an IPv4 address, localhost, or [IPv6]";
		return -1;
	}
	out->family = AF_INET;
	memcpy(out->addr, &a4, 4);
	out->loopback = out->addr[0] == 127;
	snprintf(out->host, sizeof out->host, "%s", host);
	return 0;
}

/* ---- state ---- */

/* IDLE: between requests; HEAD, BODY: reading a request; WAIT: the request
 * is read and its answers are awaited (no more is read: a pipelined request
 * waits in the buffer, an end of input is seen after the answer); DONE: a
 * last answer is being written, then LINGER: the write side is shut and the
 * client's remaining bytes are dropped until it closes. */
enum cstate { CS_IDLE, CS_HEAD, CS_BODY, CS_WAIT, CS_DONE, CS_LINGER };
enum rmode { R_JSON, R_SSE };

struct hsess;

struct hfield {
	uint32_t off, len;
};

struct hreq {
	char method[12];
	int minor;
	int path_ok;
	int health; /* GET or HEAD /health */
	int is_head; /* HEAD: the reply has no body */
	int want_sse; /* Accept allows text/event-stream */
	int expect;   /* Expect: 100-continue */
	/* Header values as offsets into the connection's input buffer (off 0:
	 * absent; a value never starts at 0): the buffer moves when it grows,
	 * so no pointer into it is kept past a read. */
	struct hfield host, origin, auth, sid, pver, hmethod, hname, accept, ctype;
	int origin_ok; /* an allowed Origin was sent: CORS headers go on the reply */
};

struct hconn {
	int fd;
	enum cstate st;
	char *in;
	size_t ilen, icap;
	size_t head_len, body_len;
	struct hreq rq;
	int64_t t0;
	struct loop_timer timer; /* head/body/idle timeout; SSE keep-alive */
	struct loop_timer kick;  /* finish a request and go on, from the loop */
	char *out;
	size_t ooff, olen, ocap;
	int close_after; /* close once the output is written */
	int closed;
	/* the request waiting for answers */
	struct hsess *sess;
	enum rmode mode;
	int head_sent;
	int in_input, owed, answers, input_done, complete;
	int initialize;
	char *jbuf; /* JSON mode: the answers */
	size_t jlen, jcap;
	int status; /* of the reply, for the access log */
	int replied;
	int authed;     /* a request on this connection passed the token check */
	int may_switch; /* JSON reply that turns into SSE if the call is slow */
	uint64_t seq;   /* accept order: the oldest unauthenticated goes first */
	size_t body_held; /* counted in H.body_held */
	char *rid;      /* a waiting request's id (JSON), to answer it at stop */
	size_t rid_len;
};

struct hsess {
	struct mcp_session *m;
	char id[SID_LEN + 1];
	int64_t last;
	int inflight;
	int stateless;
	int listed; /* in the table */
};

static struct listener {
	const struct config *cfg;
	struct http_listen_addr addr;
	int lfd;
	int stopping;
	int64_t drain_deadline;
	int nconns;
	int nsess;
	uint64_t accepted;
	size_t body_held; /* bodies held by all connections (LIMIT_LISTEN_BODY_TOTAL) */
	struct json_doc doc;
	struct loop_timer sweep;
	char port_text[8];
	/* Last, and never cleared: only conns[0..nconns) and sess[0..nsess) are
	 * ever read, so the pages of entries never used stay untouched. */
	struct hconn *conns[LIMIT_LISTEN_CONNS];
	struct hsess *sess[LIMIT_LISTEN_SESSIONS];
} H;

static const struct mcp_sink g_sink;
static void on_kick(void *arg);

/* The value of a header of c's request, or NULL when it was absent. Valid
 * until the next read into c->in. */
static const char *fv(const struct hconn *c, struct hfield f)
{
	return f.off ? c->in + f.off : NULL;
}

/* ---- output ---- */

static void conn_close(struct hconn *c);

static void conn_update_events(struct hconn *c)
{
	if (c->closed)
		return;
	short ev = 0;
	if (c->olen > c->ooff)
		ev |= POLLOUT;
	/* Nothing is read while a request waits for its answer: an end of input
	 * then may be a half-close, which still wants the answer (a client that
	 * has gone shows when a write fails, or as POLLHUP/POLLERR). */
	if (c->st == CS_IDLE || c->st == CS_HEAD || c->st == CS_BODY || c->st == CS_LINGER)
		ev |= POLLIN;
	loop_set_events(c->fd, ev);
}

static void on_conn_timer(void *arg);

/* The last answer is out: shut the write side and drop what the client still
 * sends until it closes or LISTEN_LINGER_MS pass, so a client still sending
 * (a refused body) reads its status instead of a reset (RFC 9112 9.6). */
static void conn_linger(struct hconn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->st = CS_LINGER;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_LINGER_MS, on_conn_timer, c);
	conn_update_events(c);
}

static void conn_flush(struct hconn *c)
{
	while (c->ooff < c->olen) {
		ssize_t r = send(c->fd, c->out + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
		if (r > 0) {
			c->ooff += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		log_debug("http: write failed (%s)", r < 0 ? strerror(errno) : "closed");
		conn_close(c);
		return;
	}
	if (c->ooff == c->olen) {
		c->ooff = c->olen = 0;
		if (c->ocap > IBUF_KEEP) {
			free(c->out);
			c->out = NULL;
			c->ocap = 0;
		}
		if (c->st == CS_DONE) {
			conn_linger(c);
			return;
		}
	}
	conn_update_events(c);
}

static int out_put(struct hconn *c, const char *p, size_t n)
{
	if (c->closed)
		return -1;
	if (c->olen - c->ooff + n > LIMIT_LISTEN_BACKLOG) {
		log_warn("http: client not reading (LIMIT_LISTEN_BACKLOG): closed");
		conn_close(c);
		return -1;
	}
	if (c->ocap - c->olen < n) {
		if (c->ooff) {
			memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
			c->olen -= c->ooff;
			c->ooff = 0;
		}
		if (c->ocap - c->olen < n) {
			size_t cap = c->ocap ? c->ocap : 1024;
			while (cap - c->olen < n)
				cap *= 2;
			char *nb = realloc(c->out, cap);
			if (!nb) {
				log_error("http: out of memory");
				conn_close(c);
				return -1;
			}
			c->out = nb;
			c->ocap = cap;
		}
	}
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
	return 0;
}

/* The one table of reason phrases. */
static const char *reason(int status)
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

/* The status line and the headers every reply carries; extra is more header
 * lines (each ending "\r\n") or "". */
static void put_head(struct hconn *c, int status, const char *ctype, long long clen, const char *extra)
{
	char h[1400];
	int n = snprintf(h, sizeof h, "HTTP/1.1 %d %s\r\n", status, reason(status));
	if (ctype)
		n += snprintf(h + n, sizeof h - (size_t)n, "Content-Type: %s\r\n", ctype);
	if (clen >= 0)
		n += snprintf(h + n, sizeof h - (size_t)n, "Content-Length: %lld\r\n", clen);
	else
		n += snprintf(h + n, sizeof h - (size_t)n, "Transfer-Encoding: chunked\r\n");
	if (c->rq.origin_ok && c->rq.origin.len < 512)
		n += snprintf(h + n, sizeof h - (size_t)n,
			      "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n"
			      "Access-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate\r\n",
			      (int)c->rq.origin.len, fv(c, c->rq.origin));
	if (c->close_after || H.stopping)
		n += snprintf(h + n, sizeof h - (size_t)n, "Connection: close\r\n");
	else if (c->rq.minor == 0)
		n += snprintf(h + n, sizeof h - (size_t)n, "Connection: keep-alive\r\n");
	n += snprintf(h + n, sizeof h - (size_t)n, "%s\r\n", extra);
	if (n >= (int)sizeof h) /* cannot happen: every part is bounded */
		n = (int)sizeof h - 1;
	c->status = status;
	out_put(c, h, (size_t)n);
}

static void access_log(struct hconn *c)
{
	if (log_get_level() < LOG_INFO)
		return;
	char sid[9] = "-";
	if (c->sess && !c->sess->stateless && c->sess->id[0])
		snprintf(sid, sizeof sid, "%.8s", c->sess->id);
	else if (c->rq.sid.len)
		snprintf(sid, sizeof sid, "%.*s", (int)(c->rq.sid.len < 8 ? c->rq.sid.len : 8), fv(c, c->rq.sid));
	for (char *p = sid; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	log_info("http: %s %d %lld ms session %s", c->rq.method[0] ? c->rq.method : "-", c->status,
		 (long long)(loop_now_ms() - c->t0), sid);
}

/* A whole reply with a JSON-RPC error body (no id unless id is given) whose
 * message is the status's reason, then ": " and detail when there is one. */
static void reply_error(struct hconn *c, int status, const struct jsonrpc_id *id, int code, const char *detail,
			const char *extra)
{
	char body[LIMIT_ID_BYTES + 600], message[240];
	snprintf(message, sizeof message, detail ? "%s: %s" : "%s", reason(status), detail);
	struct json_w w;
	json_w_init_fixed(&w, body, sizeof body);
	jsonrpc_error(&w, id, code, message);
	size_t n;
	const char *p = json_w_data(&w, &n);
	put_head(c, status, "application/json", (long long)n, extra ? extra : "");
	if (!c->rq.is_head)
		out_put(c, p, n);
	access_log(c);
}

static void reply_empty(struct hconn *c, int status, const char *extra)
{
	put_head(c, status, NULL, 0, extra ? extra : "");
	access_log(c);
}

/* ---- sessions ---- */

static struct hsess *sess_find(const char *id, size_t n)
{
	if (n != SID_LEN)
		return NULL;
	for (int i = 0; i < H.nsess; i++)
		if (memcmp(H.sess[i]->id, id, SID_LEN) == 0)
			return H.sess[i];
	return NULL;
}

static struct hsess *sess_new(int stateless)
{
	struct hsess *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->stateless = stateless;
	s->last = loop_now_ms();
	s->m = mcp_session_new(&g_sink, s);
	if (!s->m) {
		free(s);
		return NULL;
	}
	mcp_session_cap(s->m, LIMIT_LISTEN_SESSION_CALLS);
	return s;
}

static void sess_unlist(struct hsess *s)
{
	if (!s->listed)
		return;
	for (int i = 0; i < H.nsess; i++)
		if (H.sess[i] == s) {
			H.sess[i] = H.sess[--H.nsess];
			break;
		}
	s->listed = 0;
}

/* Give s an id and put it in the table. Returns 0, or -1 (no randomness). */
static int sess_list(struct hsess *s)
{
	unsigned char r[SID_RANDOM_BYTES];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t k = getrandom(r + got, sizeof r - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < SID_RANDOM_BYTES; i++) {
		s->id[2 * i] = hex[r[i] >> 4];
		s->id[2 * i + 1] = hex[r[i] & 15];
	}
	s->id[SID_LEN] = 0;
	H.sess[H.nsess++] = s;
	s->listed = 1;
	return 0;
}

/* Free s (from the loop, never from inside one of its sink callbacks). */
static void sess_free(struct hsess *s)
{
	sess_unlist(s);
	mcp_session_free(s->m);
	free(s);
}

/* Requests still waiting on s are answered 404 and s is freed. */
static void sess_end(struct hsess *s, const char *why)
{
	sess_unlist(s);
	for (int i = 0; i < H.nconns; i++) {
		struct hconn *c = H.conns[i];
		if (c->sess == s && c->st == CS_WAIT && !c->replied) {
			if (!c->complete)
				mcp_session_cancel_tag(s->m, c);
			c->sess = NULL;
			s->inflight--;
			c->complete = c->replied = 1;
			if (c->head_sent) { /* an SSE stream: end it */
				out_put(c, "0\r\n\r\n", 5);
				access_log(c);
			} else {
				reply_error(c, 404, NULL, -32001, why, NULL);
			}
			loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
		}
	}
	sess_free(s);
}

static void on_sweep(void *arg)
{
	(void)arg;
	int64_t now = loop_now_ms();
	for (int i = H.nsess - 1; i >= 0; i--) {
		struct hsess *s = H.sess[i];
		if (s->inflight == 0 && now - s->last >= LISTEN_SESSION_IDLE_MS) {
			log_info("http: session %.8s expired", s->id);
			sess_end(s, "Session expired");
		}
	}
	loop_timer_set(&H.sweep, now + SWEEP_MS, on_sweep, NULL);
}

/* ---- connections ---- */

static void on_conn_io(void *arg, int fd, short revents);
static void on_conn_timer(void *arg);
static void conn_process(struct hconn *c);
static void sse_switch(struct hconn *c);

static void conn_free_request(struct hconn *c)
{
	free(c->jbuf);
	c->jbuf = NULL;
	c->jlen = c->jcap = 0;
	c->sess = NULL;
	c->head_sent = c->in_input = c->owed = c->answers = c->input_done = c->complete = c->initialize = 0;
	c->replied = c->may_switch = 0;
	c->mode = R_JSON;
	free(c->rid);
	c->rid = NULL;
	c->rid_len = 0;
}

/* The body c holds no longer counts against LIMIT_LISTEN_BODY_TOTAL. */
static void body_release(struct hconn *c)
{
	H.body_held -= c->body_held;
	c->body_held = 0;
}

/* Drop the request c waits for (its client left or the server stops). */
static void conn_abandon(struct hconn *c)
{
	struct hsess *s = c->sess;
	if (!s)
		return;
	if (!c->complete)
		mcp_session_cancel_tag(s->m, c);
	c->sess = NULL;
	s->inflight--;
	s->last = loop_now_ms();
	if (s->stateless || (c->initialize && !s->listed))
		sess_free(s);
}

static void conn_close(struct hconn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	if (c->st == CS_WAIT)
		conn_abandon(c);
	body_release(c);
	loop_unwatch(c->fd);
	loop_timer_clear(&c->timer);
	close(c->fd);
	c->fd = -1;
	for (int i = 0; i < H.nconns; i++)
		if (H.conns[i] == c) {
			H.conns[i] = H.conns[--H.nconns];
			break;
		}
	/* freed from the loop: a caller up the stack may still hold c */
	loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
}

static void conn_idle(struct hconn *c)
{
	c->st = CS_IDLE;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_IDLE_TIMEOUT_MS, on_conn_timer, c);
}

/* Every slot is taken: close the oldest connection that has not passed the
 * token check and is not being answered, so the token holder gets in. */
static void evict_unauthenticated(void)
{
	struct hconn *old = NULL;
	for (int i = 0; i < H.nconns; i++) {
		struct hconn *c = H.conns[i];
		if (!c->authed && c->st != CS_WAIT && c->st != CS_DONE && (!old || c->seq < old->seq))
			old = c;
	}
	if (old) {
		log_info("http: connection slots full: an unauthenticated connection closed");
		conn_close(old);
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
		struct hconn *c = NULL;
		if (H.nconns >= LIMIT_LISTEN_CONNS)
			evict_unauthenticated();
		if (H.nconns < LIMIT_LISTEN_CONNS)
			c = calloc(1, sizeof *c);
		if (c && loop_watch(cfd, POLLIN | POLLRDHUP, on_conn_io, c) < 0) {
			free(c);
			c = NULL;
		}
		if (!c) {
			/* the body is 95 bytes */
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
						   "Content-Type: application/json\r\nContent-Length: 95\r\n"
						   "Connection: close\r\n\r\n{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,"
						   "\"message\":\"Service Unavailable: too many connections\"}}";
			ssize_t w = send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			log_info("http: 503: LIMIT_LISTEN_CONNS");
			close(cfd);
			continue;
		}
		int one = 1;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = cfd;
		c->seq = ++H.accepted;
		H.conns[H.nconns++] = c;
		/* a new client must send its first head within the short time */
		c->st = CS_IDLE;
		c->t0 = loop_now_ms();
		loop_timer_set(&c->timer, c->t0 + LISTEN_AUTH_HEAD_TIMEOUT_MS, on_conn_timer, c);
	}
}

static void on_conn_timer(void *arg)
{
	struct hconn *c = arg;
	if (c->closed)
		return;
	switch (c->st) {
	case CS_HEAD:
	case CS_BODY:
		log_info("http: 408: request too slow");
		c->close_after = 1;
		if (c->t0 == 0)
			c->t0 = loop_now_ms();
		reply_error(c, 408, NULL, -32000, NULL, NULL);
		c->st = CS_DONE;
		conn_flush(c);
		return;
	case CS_WAIT:
		if (c->may_switch && !c->complete && !c->answers)
			sse_switch(c);
		else if (c->mode == R_SSE && c->head_sent && !c->complete) {
			static const char ka[] = "d\r\n: keepalive\n\n\r\n";
			if (out_put(c, ka, sizeof ka - 1) == 0) {
				conn_flush(c);
				if (!c->closed)
					loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_conn_timer, c);
			}
		}
		return;
	default: /* idle too long, DONE that could not write, LINGER over */
		conn_close(c);
		return;
	}
}

/* ---- request handling ---- */

/* Does a comma list of media ranges (Accept) name type (or a wildcard)? */
static int accepts(const struct hconn *c, const char *type)
{
	const struct hreq *r = &c->rq;
	if (!r->accept.off)
		return 1;
	/* a media range naming the type, or any type: a substring search is
	 * enough for the two types asked about */
	const char *p = fv(c, r->accept), *end = p + r->accept.len;
	size_t tl = strlen(type);
	for (; p < end; p++)
		if ((end - p >= 3 && p[0] == '*' && p[1] == '/' && p[2] == '*') ||
		    ((size_t)(end - p) >= tl && ieq(p, tl, type, tl)))
			return 1;
	return 0;
}

/* v[0..n) names this listener: a loopback name or its own address, with
 * its port (or, unless need_port, none). */
static int names_us(const char *v, size_t n, int need_port)
{
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", H.addr.host};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t l = strlen(names[i]);
		if (!need_port && ieq(v, n, names[i], l))
			return 1;
		if (n > l && ieq(v, l, names[i], l) && v[l] == ':' && n - l - 1 == strlen(H.port_text) &&
		    memcmp(v + l + 1, H.port_text, n - l - 1) == 0)
			return 1;
	}
	return 0;
}

/* Host value allowed: names_us, or in KLING_MCP_ALLOWED_HOSTS. */
static int host_allowed(const char *v, size_t n)
{
	return http_list_has(H.cfg->allowed_hosts, v, n) || names_us(v, n, 0);
}

static int origin_allowed(const struct hconn *c)
{
	const struct hreq *r = &c->rq;
	const char *v = fv(c, r->origin);
	size_t n = r->origin.len;
	if (http_list_has(H.cfg->allowed_origins, v, n))
		return 1;
	size_t skip = 0;
	if (n > 7 && ieq(v, 7, "http://", 7))
		skip = 7;
	else if (n > 8 && ieq(v, 8, "https://", 8))
		skip = 8;
	if (!skip)
		return 0;
	v += skip;
	n -= skip;
	/* On a loopback listener, a page of this very listener: the port must
	 * be ours (without it, any local web service on 80/443 would pass).
	 * Elsewhere: the same origin as the Host the client reached. */
	if (H.addr.loopback)
		return names_us(v, n, 1);
	if (r->host.off && ieq(v, n, fv(c, r->host), r->host.len))
		return 1;
	return host_allowed(v, n);
}

static int known_version(const char *v, size_t n)
{
	for (int i = MCP_V_2024_11_05; i <= MCP_V_2026_07_28; i++) {
		const char *name = mcp_version_name((enum mcp_version)i);
		if (name && n == strlen(name) && memcmp(v, name, n) == 0)
			return 1;
	}
	return 0;
}

/* The mirrored headers of a 2026-07-28 request (body parsed in H.doc, token
 * 0 a request object). Returns NULL when they match, else why not. */
static const char *check_mirrored(const struct hconn *c, int method, int meta_version)
{
	const struct hreq *r = &c->rq;
	char buf[512];
	size_t n;
	const char *raw;
	if (!r->pver.off)
		return "Header mismatch: MCP-Protocol-Version missing";
	raw = json_str_raw(&H.doc, meta_version, &n);
	if (!raw || !json_streqn(&H.doc, meta_version, fv(c, r->pver), r->pver.len))
		return "Header mismatch: MCP-Protocol-Version differs from _meta";
	if (!r->hmethod.off)
		return "Header mismatch: Mcp-Method missing";
	int k = http_header_value_decode(fv(c, r->hmethod), r->hmethod.len, buf, sizeof buf);
	if (k < 0 || !json_streqn(&H.doc, method, buf, (size_t)k))
		return "Header mismatch: Mcp-Method differs from the body";
	const char *named[] = {"tools/call", "resources/read", "prompts/get"};
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		if (!json_streq(&H.doc, method, named[i]))
			continue;
		int params = json_get(&H.doc, 0, "params");
		int name = json_get(&H.doc, params, i == 1 ? "uri" : "name");
		if (!r->hname.off)
			return "Header mismatch: Mcp-Name missing";
		k = http_header_value_decode(fv(c, r->hname), r->hname.len, buf, sizeof buf);
		if (k < 0 || json_type(&H.doc, name) != JSON_STRING || !json_streqn(&H.doc, name, buf, (size_t)k))
			return "Header mismatch: Mcp-Name differs from the body";
	}
	return NULL;
}

static void sse_open(struct hconn *c)
{
	put_head(c, 200, "text/event-stream", -1, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
	c->head_sent = 1;
	conn_flush(c);
	if (!c->closed)
		loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_conn_timer, c);
}

/* A JSON reply whose call is still running after LISTEN_SSE_SWITCH_MS turns
 * into an SSE stream (the client accepts one): keep-alive comments keep
 * proxies from timing it out, and show when the client has gone. */
static void sse_switch(struct hconn *c)
{
	c->may_switch = 0;
	c->mode = R_SSE;
	sse_open(c);
}

/* Keep a copy of a waiting request's id (JSON text), to answer it if the
 * server has to stop before the call ends. */
static void keep_id(struct hconn *c, const struct jsonrpc_id *id)
{
	if (!id || !(c->rid = malloc(id->len)))
		return;
	memcpy(c->rid, id->raw, id->len);
	c->rid_len = id->len;
}

/* Send the body to the session and wait for its answers. */
static void feed(struct hconn *c, struct hsess *s, const char *body, size_t len, const struct jsonrpc_id *id)
{
	c->sess = s;
	s->inflight++;
	s->last = loop_now_ms();
	c->st = CS_WAIT;
	loop_timer_clear(&c->timer);
	conn_update_events(c);
	c->in_input = 1;
	int owed = mcp_session_input(s->m, body, len, c);
	c->in_input = 0;
	if (c->closed || c->complete)
		return;
	c->owed = owed < 0 ? 0 : owed;
	if (c->input_done || c->owed == 0) {
		loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
		c->complete = 1;
		return;
	}
	keep_id(c, id);
	if (c->mode == R_SSE) { /* the stream opens now; answers follow */
		sse_open(c);
	} else if (c->rq.want_sse && !c->initialize) {
		c->may_switch = 1;
		loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_SWITCH_MS, on_conn_timer, c);
	}
}

/* Status of a JSON reply carrying one answer. */
static int answer_status(const struct hconn *c, const char *msg, size_t len)
{
	int code;
	if (!http_answer_error(msg, len, &code))
		return 200;
	if (code == JSONRPC_PARSE_ERROR)
		return 400;
	if (!c->sess || !c->sess->stateless)
		return 200;
	switch (code) {
	case JSONRPC_METHOD_NOT_FOUND:
		return 404;
	case JSONRPC_INVALID_REQUEST:
	case JSONRPC_INVALID_PARAMS:
	case JSONRPC_UNSUPPORTED_VERSION:
	case ERR_HEADER_MISMATCH:
	case -32021: /* missing client capability */
		return 400;
	default:
		return 200;
	}
}

/* Every answer is in: write the reply (JSON mode) or end the stream. */
static void reply_answers(struct hconn *c)
{
	struct hsess *s = c->sess;
	if (c->mode == R_SSE && c->head_sent) {
		out_put(c, "0\r\n\r\n", 5);
		access_log(c);
		return;
	}
	if (c->answers == 0) {
		if (c->initialize) /* cannot happen: initialize is always answered */
			reply_error(c, 500, NULL, JSONRPC_INTERNAL_ERROR, NULL, NULL);
		else
			reply_empty(c, 202, NULL);
		return;
	}
	char extra[128] = "";
	if (c->initialize) {
		int code;
		if (!http_answer_error(c->jbuf, c->jlen, &code) && s && sess_list(s) == 0) {
			snprintf(extra, sizeof extra, "Mcp-Session-Id: %s\r\n", s->id);
			log_info("http: session %.8s started (%d)", s->id, H.nsess);
		}
	}
	if (c->mode == R_SSE) { /* every answer came inside the call: one event */
		put_head(c, 200, "text/event-stream", -1, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
		out_put(c, c->jbuf, c->jlen);
		out_put(c, "0\r\n\r\n", 5);
		access_log(c);
		return;
	}
	int status = c->answers == 1 ? answer_status(c, c->jbuf, c->jlen) : 200;
	put_head(c, status, "application/json", c->answers == 1 ? (long long)c->jlen : (long long)c->jlen + 2,
		 extra);
	if (c->answers == 1) {
		out_put(c, c->jbuf, c->jlen);
	} else {
		out_put(c, "[", 1);
		out_put(c, c->jbuf, c->jlen);
		out_put(c, "]", 1);
	}
	access_log(c);
}

static int is_notification(const char *msg, size_t len)
{
	static const char n[] = "{\"jsonrpc\":\"2.0\",\"method\"";
	return len >= sizeof n - 1 && memcmp(msg, n, sizeof n - 1) == 0;
}

static int jbuf_add(struct hconn *c, const char *p, size_t n)
{
	if (c->jcap - c->jlen < n) {
		size_t cap = c->jcap ? c->jcap : 1024;
		while (cap - c->jlen < n)
			cap *= 2;
		char *nb = realloc(c->jbuf, cap);
		if (!nb)
			return -1;
		c->jbuf = nb;
		c->jcap = cap;
	}
	memcpy(c->jbuf + c->jlen, p, n);
	c->jlen += n;
	return 0;
}

static void sse_event(struct hconn *c, const char *msg, size_t len, int to_jbuf)
{
	static const char pre[] = "event: message\ndata: ";
	char sz[24];
	int k = snprintf(sz, sizeof sz, "%zx\r\n", sizeof pre - 1 + len + 2);
	if (to_jbuf) {
		if (jbuf_add(c, sz, (size_t)k) < 0 || jbuf_add(c, pre, sizeof pre - 1) < 0 || jbuf_add(c, msg, len) < 0 ||
		    jbuf_add(c, "\n\n\r\n", 4) < 0)
			log_error("http: out of memory");
		return;
	}
	out_put(c, sz, (size_t)k);
	out_put(c, pre, sizeof pre - 1);
	out_put(c, msg, len);
	out_put(c, "\n\n\r\n", 4);
}

/* The connection waiting for the answers to tag, or NULL (it left). The tag
 * of a request is its connection: one request at a time per connection, and
 * a tag is never used again after its input_done or cancel_tag. */
static struct hconn *conn_by_tag(const struct hsess *s, const void *tag)
{
	for (int i = 0; i < H.nconns; i++) {
		struct hconn *c = H.conns[i];
		if (c == tag && c->st == CS_WAIT && c->sess == s)
			return c;
	}
	return NULL;
}

static int sink_send(void *ctx, void *tag, const char *msg, size_t len)
{
	struct hsess *s = ctx;
	struct hconn *c = conn_by_tag(s, tag);
	if (!c || c->complete)
		return -1;
	int note = is_notification(msg, len);
	if (c->mode == R_JSON && note)
		return 0; /* progress needs SSE: the client did not ask for it */
	if (!note)
		c->answers++;
	if (c->mode == R_SSE && c->head_sent) {
		sse_event(c, msg, len, 0);
		conn_flush(c);
	} else if (c->mode == R_SSE) {
		sse_event(c, msg, len, 1);
	} else {
		if (c->answers > 1 && jbuf_add(c, ",", 1) < 0)
			return -1;
		if (jbuf_add(c, msg, len) < 0) {
			log_error("http: out of memory");
			return -1;
		}
	}
	return 0;
}

static void sink_input_done(void *ctx, void *tag)
{
	struct hsess *s = ctx;
	struct hconn *c = conn_by_tag(s, tag);
	if (!c)
		return;
	c->input_done = 1;
	if (!c->in_input && !c->complete) {
		c->complete = 1;
		loop_timer_set(&c->kick, loop_now_ms(), on_kick, c);
	}
}

static const struct mcp_sink g_sink = {sink_send, sink_input_done};

static void handle_delete(struct hconn *c)
{
	if (!c->rq.sid.off) {
		reply_error(c, 400, NULL, -32000, "Mcp-Session-Id needed", NULL);
		return;
	}
	struct hsess *s = sess_find(fv(c, c->rq.sid), c->rq.sid.len);
	if (!s) {
		reply_error(c, 404, NULL, -32001, "session unknown or ended", NULL);
		return;
	}
	log_info("http: session %.8s ended", s->id);
	c->sess = s; /* for the access log */
	reply_empty(c, 204, NULL);
	c->sess = NULL;
	sess_end(s, "Session ended");
}

static void handle_post(struct hconn *c, const char *body, size_t len)
{
	struct hreq *r = &c->rq;
	const char *ct = fv(c, r->ctype);
	if (!ct || !(r->ctype.len >= 16 && ieq(ct, 16, "application/json", 16) &&
		     (r->ctype.len == 16 || ct[16] == ';' || ct[16] == ' '))) {
		reply_error(c, 415, NULL, -32000, "Content-Type must be application/json", NULL);
		return;
	}
	int want_json = accepts(c, "application/json"), want_sse = accepts(c, "text/event-stream");
	if (!want_json && !want_sse) {
		reply_error(c, 406, NULL, -32000,
			    "Accept lists neither application/json nor text/event-stream", NULL);
		return;
	}
	/* A look at the body: the session parses it again, with its own rules,
	 * and answers anything malformed. */
	int method = -1, params = -1;
	struct jsonrpc_id rid = {JSONRPC_ID_NONE, NULL, 0};
	if (json_parse(&H.doc, body, len) == 0 && json_type(&H.doc, 0) == JSON_OBJECT) {
		method = json_get(&H.doc, 0, "method");
		params = json_get(&H.doc, 0, "params");
		int t = json_get(&H.doc, 0, "id");
		rid.raw = json_raw(&H.doc, t, &rid.len);
		if (rid.raw && rid.len <= LIMIT_ID_BYTES && json_type(&H.doc, method) == JSON_STRING)
			rid.kind = json_type(&H.doc, t) == JSON_STRING ? JSONRPC_ID_STRING
				   : json_is_plain_int(&H.doc, t)      ? JSONRPC_ID_INT
								       : JSONRPC_ID_NONE;
	}
	const struct jsonrpc_id *id = rid.kind != JSONRPC_ID_NONE ? &rid : NULL; /* a request */
	int meta = json_get(&H.doc, params, "_meta");
	int progress = id && json_get(&H.doc, meta, "progressToken") >= 0;
	/* HTTP/1.0 has no chunked framing: always one JSON reply there. */
	c->mode = r->minor && ((progress && want_sse) || !want_json) ? R_SSE : R_JSON;
	r->want_sse = want_sse && r->minor;

	const char *pver = fv(c, r->pver);
	if (r->sid.off) {
		if (pver && !known_version(pver, r->pver.len)) {
			char e[160];
			snprintf(e, sizeof e, "unsupported MCP-Protocol-Version \"%.*s\"",
				 (int)(r->pver.len < 40 ? r->pver.len : 40), pver);
			reply_error(c, 400, id, -32000, e, NULL);
			return;
		}
		struct hsess *s = sess_find(fv(c, r->sid), r->sid.len);
		if (!s) {
			reply_error(c, 404, id, -32001, "session unknown or ended; initialize again", NULL);
			return;
		}
		feed(c, s, body, len, id);
		return;
	}
	/* 2026-07-28 when the body carries its _meta version or the header names
	 * anything but a 2025 version; otherwise the 2025 flow. */
	int mv = json_get(&H.doc, meta, META_VERSION);
	int legacy_hdr = pver && known_version(pver, r->pver.len) && !ieqz(pver, r->pver.len, V2026);
	int modern = mv >= 0 || (pver && !legacy_hdr);
	if (!modern && id && json_streq(&H.doc, method, "initialize")) {
		if (H.nsess >= LIMIT_LISTEN_SESSIONS || H.stopping) {
			reply_error(c, 503, id, -32000,
				    H.stopping ? "stopping" : "too many sessions (LIMIT_LISTEN_SESSIONS)",
				    "Retry-After: 5\r\n");
			return;
		}
		struct hsess *s = sess_new(0);
		if (!s) {
			reply_error(c, 503, id, -32000, "out of memory", "Retry-After: 5\r\n");
			return;
		}
		c->initialize = 1;
		feed(c, s, body, len, id);
		return;
	}
	if (legacy_hdr && !modern) {
		reply_error(c, 400, id, -32000, "Mcp-Session-Id needed (initialize first)",
			    NULL);
		return;
	}
	/* No session: one request, nothing kept (2026-07-28, or a request that
	 * needs telling how to start). */
	if (id && mv >= 0) {
		const char *why = check_mirrored(c, method, mv);
		if (why) {
			reply_error(c, 400, id, ERR_HEADER_MISMATCH, why, NULL);
			return;
		}
	}
	struct hsess *s = sess_new(1);
	if (!s) {
		reply_error(c, 503, NULL, -32000, "out of memory", "Retry-After: 5\r\n");
		return;
	}
	if (modern) /* initialize and ping do not exist there; _meta is required */
		mcp_session_modern(s->m);
	feed(c, s, body, len, id);
}

/* A refusal: its answer, then the connection ends (lingering), whatever
 * body was announced: none of it is kept. */
static void refuse(struct hconn *c, int status, const char *detail, const char *extra)
{
	c->close_after = 1;
	reply_error(c, status, NULL, -32000, detail, extra);
	c->st = CS_DONE;
	conn_flush(c);
}

static int token_ok(const struct hconn *c)
{
	const char *t = fv(c, c->rq.auth);
	size_t n = c->rq.auth.len;
	if (!t || n <= 7 || !ieq(t, 7, "Bearer ", 7))
		return 0;
	t += 7;
	n -= 7;
	while (n && *t == ' ') {
		t++;
		n--;
	}
	return http_secret_equal(t, n, H.cfg->mcp_token, strlen(H.cfg->mcp_token));
}

/* The head is complete: Host, Origin, token and the body's room are checked
 * before one body byte is kept. Returns 0 to read the body, or -1 after a
 * refusal (the connection then ends). */
static int check_head(struct hconn *c)
{
	struct hreq *r = &c->rq;
	if (r->health)
		return 0; /* nothing secret: no token, no checks */
	const char *host = fv(c, r->host);
	if ((H.addr.loopback || H.cfg->allowed_hosts) && host && !host_allowed(host, r->host.len)) {
		log_info("http: refused Host \"%.*s\"", (int)(r->host.len < 80 ? r->host.len : 80), host);
		refuse(c, 403, "Host not allowed (KLING_MCP_ALLOWED_HOSTS)", NULL);
		return -1;
	}
	if (r->origin.off) {
		if (!origin_allowed(c)) {
			log_info("http: refused Origin \"%.*s\"", (int)(r->origin.len < 80 ? r->origin.len : 80),
				 fv(c, r->origin));
			refuse(c, 403, "Origin not allowed (KLING_MCP_ALLOWED_ORIGINS)", NULL);
			return -1;
		}
		r->origin_ok = 1;
	}
	if (H.cfg->mcp_token && strcmp(r->method, "OPTIONS") != 0 && !token_ok(c)) {
		refuse(c, 401, r->auth.off ? "wrong bearer token" : "Authorization: Bearer <KLING_MCP_TOKEN> needed",
		       "WWW-Authenticate: Bearer realm=\"kling-mcp\"\r\n");
		return -1;
	}
	c->authed = 1;
	if (c->body_len > LIMIT_LISTEN_BODY_TOTAL - H.body_held) {
		log_info("http: 503: LIMIT_LISTEN_BODY_TOTAL");
		refuse(c, 503, "too many request bodies at once (LIMIT_LISTEN_BODY_TOTAL)", "Retry-After: 1\r\n");
		return -1;
	}
	c->body_held = c->body_len;
	H.body_held += c->body_len;
	return 0;
}

/* The head (checked) and the body are in: route the request. */
static void handle_request(struct hconn *c)
{
	struct hreq *r = &c->rq;
	const char *body = c->in + c->head_len;
	size_t len = c->body_len;
	if (r->health) {
		static const char ok[] = "{\"status\":\"ok\"}";
		put_head(c, 200, "application/json", (long long)sizeof ok - 1, "Cache-Control: no-store\r\n");
		if (!r->is_head)
			out_put(c, ok, sizeof ok - 1);
		if (log_get_level() >= LOG_DEBUG)
			access_log(c);
		return;
	}
	if (!r->path_ok) {
		reply_error(c, 404, NULL, -32000, "the endpoint is /mcp", NULL);
		return;
	}
	if (strcmp(r->method, "OPTIONS") == 0) {
		reply_empty(c, 204,
			    "Access-Control-Allow-Methods: POST, DELETE, OPTIONS\r\n"
			    "Access-Control-Allow-Headers: Content-Type, Accept, Authorization, Mcp-Session-Id, "
			    "MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID\r\n"
			    "Access-Control-Max-Age: 86400\r\n");
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		handle_post(c, body, len);
		return;
	}
	if (strcmp(r->method, "DELETE") == 0) {
		handle_delete(c);
		return;
	}
	reply_error(c, 405, NULL, -32000,
		    strcmp(r->method, "GET") == 0 || r->is_head
			    ? "no GET stream: nothing is sent unasked" : NULL,
		    "Allow: POST, DELETE, OPTIONS\r\n");
}

/* The request is answered: drop its bytes and go on with the next one. */
static void conn_next(struct hconn *c)
{
	if (c->sess) {
		struct hsess *s = c->sess;
		c->sess = NULL;
		s->inflight--;
		s->last = loop_now_ms();
		if (s->stateless || (c->initialize && !s->listed))
			sess_free(s);
	}
	conn_free_request(c);
	body_release(c);
	size_t used = c->head_len + c->body_len;
	if (used > c->ilen)
		used = c->ilen;
	memmove(c->in, c->in + used, c->ilen - used);
	c->ilen -= used;
	c->head_len = c->body_len = 0;
	memset(&c->rq, 0, sizeof c->rq);
	c->t0 = 0;
	if (H.stopping)
		c->close_after = 1;
	if (c->close_after) {
		c->st = CS_DONE;
		conn_flush(c);
		return;
	}
	if (c->ilen == 0 && c->icap > IBUF_KEEP) {
		free(c->in);
		c->in = NULL;
		c->icap = 0;
	}
	conn_idle(c);
	conn_flush(c);
}

static void on_kick(void *arg)
{
	struct hconn *c = arg;
	if (c->closed) {
		free(c->in);
		free(c->out);
		free(c->jbuf);
		free(c->rid);
		free(c);
		return;
	}
	if (c->st == CS_WAIT && c->complete) {
		if (!c->replied) {
			c->replied = 1;
			reply_answers(c);
		}
		if (c->closed)
			return;
		conn_next(c);
		if (!c->closed && c->st == CS_IDLE && c->ilen)
			conn_process(c);
	} else if (c->st == CS_DONE) {
		conn_flush(c);
	}
}

/* Framing problems: answer and close (the rest of the stream cannot be trusted). */
static void framing_error(struct hconn *c, int status, const char *message)
{
	c->close_after = 1;
	if (!c->t0)
		c->t0 = loop_now_ms();
	reply_error(c, status, NULL, -32000, message, NULL);
	c->st = CS_DONE;
	conn_flush(c);
}

/* The first header called name (lower case) as an offset into c->in. */
static struct hfield hf(const struct hconn *c, const struct http_header *h, size_t nh, const char *name)
{
	const struct http_header *x = http_header_find(h, nh, name, NULL);
	struct hfield f = {0, 0};
	if (x) {
		f.off = (uint32_t)(x->value - c->in);
		f.len = (uint32_t)x->value_len;
	}
	return f;
}

static int path_is(const struct http_request_line *rl, const char *path)
{
	size_t base = 0, n = strlen(path);
	while (base < rl->target_len && rl->target[base] != '?')
		base++;
	return base == n && memcmp(rl->target, path, n) == 0;
}

/* Read the head's fields we use and its framing. Returns 0, or -1 after
 * answering. The header views die with this call: only offsets are kept. */
static int read_head(struct hconn *c, const struct http_request_line *rl, const struct http_header *h, size_t nh)
{
	struct hreq *r = &c->rq;
	snprintf(r->method, sizeof r->method, "%.*s", (int)(rl->method_len < 11 ? rl->method_len : 11), rl->method);
	r->minor = rl->minor_version;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	r->path_ok = path_is(rl, MCP_PATH);
	r->health = path_is(rl, "/health") && (r->is_head || strcmp(r->method, "GET") == 0);
	r->origin = hf(c, h, nh, "origin");
	r->auth = hf(c, h, nh, "authorization");
	r->sid = hf(c, h, nh, "mcp-session-id");
	r->pver = hf(c, h, nh, "mcp-protocol-version");
	r->hmethod = hf(c, h, nh, "mcp-method");
	r->hname = hf(c, h, nh, "mcp-name");
	r->accept = hf(c, h, nh, "accept");
	r->ctype = hf(c, h, nh, "content-type");
	struct http_request_framing f;
	if (http_read_request_framing(rl, h, nh, &f) < 0) {
		framing_error(c, f.status, f.error);
		return -1;
	}
	if (f.host) {
		r->host.off = (uint32_t)(f.host - c->in);
		r->host.len = (uint32_t)f.host_len;
	}
	if (!f.keep_alive)
		c->close_after = 1;
	if (f.chunked) {
		framing_error(c, 411, "no chunked bodies: send Content-Length");
		return -1;
	}
	if (f.content_length > LIMIT_LISTEN_BODY_BYTES) {
		framing_error(c, 413, "over LIMIT_LISTEN_BODY_BYTES");
		return -1;
	}
	if (strcmp(r->method, "POST") == 0 && !http_header_find(h, nh, "content-length", NULL)) {
		framing_error(c, 411, "a POST needs Content-Length");
		return -1;
	}
	c->body_len = (size_t)f.content_length;
	r->expect = f.expect_continue;
	return 0;
}

/* A complete head at the start of c->in: parse, check, and go on to the
 * body. Returns 0, or -1 when the request was answered (or not complete). */
static int conn_head(struct hconn *c)
{
	struct http_header h[LIMIT_HTTP_HEADERS];
	size_t nh = LIMIT_HTTP_HEADERS;
	struct http_request_line rl;
	int n = http_parse_request_head(c->in, c->ilen, &rl, h, &nh);
	if (n == HTTP_PARSE_INCOMPLETE)
		return -1;
	if (n == HTTP_PARSE_TOO_MANY || n == HTTP_PARSE_TOO_BIG) {
		framing_error(c, 431, n == HTTP_PARSE_TOO_BIG ? "over LIMIT_HTTP_HEAD_BYTES" : "too many headers");
		return -1;
	}
	if (n < 0) {
		framing_error(c, 400, NULL);
		return -1;
	}
	c->head_len = (size_t)n;
	if (read_head(c, &rl, h, nh) < 0 || check_head(c) < 0)
		return -1;
	c->st = CS_BODY;
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_BODY_TIMEOUT_MS, on_conn_timer, c);
	if (c->rq.expect && c->ilen - c->head_len < c->body_len) { /* only now that the head passed */
		out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	return 0;
}

static void conn_process(struct hconn *c)
{
	while (!c->closed && (c->st == CS_IDLE || c->st == CS_HEAD || c->st == CS_BODY)) {
		if (c->st == CS_IDLE) {
			if (c->ilen == 0)
				return;
			c->st = CS_HEAD;
			c->t0 = loop_now_ms();
			if (c->authed) /* else the short timer set at accept goes on */
				loop_timer_set(&c->timer, c->t0 + LISTEN_HEAD_TIMEOUT_MS, on_conn_timer, c);
		}
		if (c->st == CS_HEAD && conn_head(c) < 0)
			return;
		if (c->st == CS_BODY) {
			if (c->ilen < c->head_len + c->body_len)
				return;
			handle_request(c);
			if (c->closed)
				return;
			if (c->st == CS_WAIT)
				return; /* answers come later (or on the kick timer) */
			conn_next(c); /* and the loop goes on with a pipelined request */
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

static void conn_read(struct hconn *c)
{
	if (!c->icap) {
		/* No buffer yet: a client that connected and left (often many at
		 * once, each freed only from the loop) must not cost one each. */
		char b;
		ssize_t p = recv_some(c->fd, &b, 1, MSG_PEEK);
		if (p < 0)
			conn_close(c);
		if (p <= 0)
			return;
	}
	/* Until a head has passed the checks, the buffer holds at most a head;
	 * then it grows once to hold that request's body (counted in
	 * H.body_held). It may move here: only offsets into it are kept. */
	size_t cap = c->st == CS_BODY ? c->head_len + c->body_len : LIMIT_HTTP_HEAD_BYTES;
	if (c->icap < cap) {
		char *nb = realloc(c->in, cap);
		if (!nb) {
			log_error("http: out of memory");
			conn_close(c);
			return;
		}
		c->in = nb;
		c->icap = cap;
	}
	size_t room = c->icap - c->ilen;
	if (room == 0) { /* cannot happen: the parser refuses a longer head */
		framing_error(c, 431, NULL);
		return;
	}
	ssize_t r = recv_some(c->fd, c->in + c->ilen, room, 0);
	if (r < 0)
		conn_close(c);
	if (r <= 0)
		return;
	c->ilen += (size_t)r;
	conn_process(c);
}

static void on_conn_io(void *arg, int fd, short revents)
{
	(void)fd;
	struct hconn *c = arg;
	if (c->closed)
		return;
	if (revents & POLLOUT)
		conn_flush(c);
	if (c->closed)
		return;
	if (c->st == CS_WAIT || c->st == CS_DONE) {
		/* Not reading: only a reset (the client is really gone) shows. */
		if (revents & (POLLHUP | POLLERR)) {
			if (c->st == CS_WAIT)
				log_info("http: client left before its answer: cancelled");
			conn_close(c);
		}
		return;
	}
	if (c->st == CS_LINGER) {
		char drop[4096];
		if (recv_some(c->fd, drop, sizeof drop, 0) < 0)
			conn_close(c);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR))
		conn_read(c);
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

static int open_listener(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	if (H.addr.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, H.addr.addr, 16);
		a->sin6_port = htons((unsigned short)H.addr.port);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, H.addr.addr, 4);
		a->sin_port = htons((unsigned short)H.addr.port);
		sl = sizeof *a;
	}
	int fd = socket(H.addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (H.addr.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		H.addr.port = ntohs(H.addr.family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Requests in progress: read (body coming) or waiting, or answers not yet
 * written. */
static int busy_conns(void)
{
	int n = 0;
	for (int i = 0; i < H.nconns; i++) {
		const struct hconn *c = H.conns[i];
		n += c->st == CS_BODY || c->st == CS_WAIT || (c->st != CS_LINGER && c->olen > c->ooff);
	}
	return n;
}

static void begin_stop(void)
{
	H.stopping = 1;
	H.drain_deadline = loop_now_ms() + LISTEN_DRAIN_MS;
	if (H.lfd >= 0) {
		loop_unwatch(H.lfd);
		close(H.lfd);
		H.lfd = -1;
	}
	/* mcp_hurry(): added by the fair-calls branch; called here once merged */
	for (int i = H.nconns - 1; i >= 0; i--) {
		struct hconn *c = H.conns[i];
		if (c->st == CS_WAIT || c->st == CS_BODY || c->st == CS_LINGER)
			continue; /* answered, then closed (H.stopping) */
		if (c->olen > c->ooff) {
			c->close_after = 1;
			c->st = CS_DONE;
		} else {
			conn_close(c);
		}
	}
	log_info("http: stopping; %d requests in progress", busy_conns());
}

/* The drain time is nearly up: a request still waiting gets an error as its
 * answer (an error event on an SSE stream) and its call is cancelled. */
static void answer_stopped(struct hconn *c)
{
	static const char why[] = "stopping: the call did not end within LISTEN_DRAIN_MS";
	struct jsonrpc_id id = {JSONRPC_ID_NONE, c->rid, c->rid_len};
	if (c->rid)
		id.kind = c->rid[0] == '"' ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	if (c->sess && !c->complete)
		mcp_session_cancel_tag(c->sess->m, c);
	c->complete = c->replied = 1;
	if (c->head_sent) {
		char body[LIMIT_ID_BYTES + 200];
		struct json_w w;
		json_w_init_fixed(&w, body, sizeof body);
		jsonrpc_error(&w, c->rid ? &id : NULL, -32000, why);
		size_t n;
		const char *p = json_w_data(&w, &n);
		sse_event(c, p, n, 0);
		out_put(c, "0\r\n\r\n", 5);
		access_log(c);
	} else {
		reply_error(c, 503, c->rid ? &id : NULL, -32000, why, "Retry-After: 5\r\n");
	}
	if (!c->closed)
		conn_next(c);
}

/* Time left at the end of the drain to write the answers of answer_stopped. */
#define DRAIN_FLUSH_MS (LISTEN_DRAIN_MS / 10)

static void drain_end(void)
{
	int n = 0;
	for (int i = H.nconns - 1; i >= 0; i--) {
		struct hconn *c = H.conns[i];
		if (c->st == CS_WAIT && !c->replied) {
			answer_stopped(c);
			n++;
		} else if (c->st == CS_BODY) {
			conn_close(c);
		}
	}
	if (n)
		log_warn("http: stopping: %d calls not ended, answered with an error (LISTEN_DRAIN_MS)", n);
}

int http_server_run(const struct config *cfg, int stop_fd)
{
	const char *why = NULL;
	memset(&H, 0, offsetof(struct listener, conns));
	H.cfg = cfg;
	H.lfd = -1;
	if (http_listen_parse(cfg->listen, &H.addr, &why) < 0) {
		log_error("--listen \"%.80s\": %s ([ADDR:]PORT)", cfg->listen, why);
		return 2;
	}
	if (!H.addr.loopback && !cfg->mcp_token) {
		log_error("%s:%u is not loopback: set KLING_MCP_TOKEN (clients send Authorization: Bearer <token>)",
			  H.addr.host, H.addr.port);
		return 2;
	}
	H.lfd = open_listener();
	if (H.lfd < 0) {
		log_error("cannot listen on %s:%u: %s", H.addr.host, H.addr.port, strerror(errno));
		return 2;
	}
	snprintf(H.port_text, sizeof H.port_text, "%u", H.addr.port);
	if (json_doc_init(&H.doc, LIMIT_JSON_TOKENS) < 0 ||
	    loop_watch(H.lfd, POLLIN, on_accept, NULL) < 0) {
		log_error("out of memory at start");
		close(H.lfd);
		json_doc_free(&H.doc);
		return 1;
	}
	/* Always said (stderr), so a script that asked for port 0 learns the port. */
	fprintf(stderr, "kling-mcp: listening on http://%s:%u%s%s\n", H.addr.host, H.addr.port, MCP_PATH,
		cfg->mcp_token ? " (bearer token required)" : "");
	loop_timer_set(&H.sweep, loop_now_ms() + SWEEP_MS, on_sweep, NULL);
	g_stop = 0;
	if (stop_fd >= 0)
		loop_watch(stop_fd, POLLIN, on_stop, NULL);
	int rc = 0;
	int flushing = 0;
	for (;;) {
		if (g_stop && !H.stopping)
			begin_stop();
		if (H.stopping && !flushing && loop_now_ms() >= H.drain_deadline - DRAIN_FLUSH_MS) {
			flushing = 1;
			drain_end();
		}
		if (H.stopping && (busy_conns() == 0 || loop_now_ms() >= H.drain_deadline))
			break;
		if (loop_run_once(H.stopping ? 100 : -1) < 0) {
			log_error("poll failed");
			rc = 1;
			break;
		}
	}
	if (H.stopping && busy_conns())
		log_warn("http: %d answers not written: the clients did not read them (LISTEN_DRAIN_MS)",
			 busy_conns());
	while (H.nconns)
		conn_close(H.conns[H.nconns - 1]);
	while (H.nsess)
		sess_free(H.sess[H.nsess - 1]);
	if (H.lfd >= 0) {
		loop_unwatch(H.lfd);
		close(H.lfd);
	}
	if (stop_fd >= 0)
		loop_unwatch(stop_fd);
	loop_timer_clear(&H.sweep);
	/* closed connections are freed by their kick timers */
	for (int i = 0; i < 3 && loop_pending(); i++)
		loop_run_once(0);
	json_doc_free(&H.doc);
	return rc;
}
