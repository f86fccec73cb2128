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
/* Most bytes read from a socket in one go. */
#define READ_CHUNK 16384
/* An input buffer grown past this is freed when the connection goes idle. */
#define IBUF_KEEP 65536
/* Room for the longest head and body, and the start of a pipelined request. */
#define IBUF_MAX ((size_t)LIMIT_HTTP_HEAD_BYTES + LIMIT_LISTEN_BODY_BYTES + READ_CHUNK)
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

enum cstate { CS_IDLE, CS_HEAD, CS_BODY, CS_WAIT, CS_DONE };
enum rmode { R_JSON, R_SSE };

struct hsess;

struct hreq {
	char method[12];
	int minor;
	int path_ok;
	const char *host, *origin, *auth, *sid, *pver, *hmethod, *hname, *accept, *ctype;
	size_t host_len, origin_len, auth_len, sid_len, pver_len, hmethod_len, hname_len, accept_len, ctype_len;
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

/* ---- output ---- */

static void conn_close(struct hconn *c);

static void conn_update_events(struct hconn *c)
{
	if (c->closed)
		return;
	short ev = 0;
	if (c->olen > c->ooff)
		ev |= POLLOUT;
	if (c->st == CS_WAIT)
		ev |= POLLRDHUP; /* the client going away cancels its call */
	else if (!c->close_after && c->st != CS_DONE)
		ev |= POLLIN | POLLRDHUP;
	loop_set_events(c->fd, ev);
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
		if (c->close_after) {
			conn_close(c);
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

static const char *reason(int status)
{
	switch (status) {
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
	if (c->rq.origin_ok && c->rq.origin_len < 512)
		n += snprintf(h + n, sizeof h - (size_t)n,
			      "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n"
			      "Access-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate\r\n",
			      (int)c->rq.origin_len, c->rq.origin);
	if (c->close_after || H.stopping)
		n += snprintf(h + n, sizeof h - (size_t)n, "Connection: close\r\n");
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
	else if (c->rq.sid && c->rq.sid_len)
		snprintf(sid, sizeof sid, "%.*s", (int)(c->rq.sid_len < 8 ? c->rq.sid_len : 8), c->rq.sid);
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

static void conn_free_request(struct hconn *c)
{
	free(c->jbuf);
	c->jbuf = NULL;
	c->jlen = c->jcap = 0;
	c->sess = NULL;
	c->head_sent = c->in_input = c->owed = c->answers = c->input_done = c->complete = c->initialize = 0;
	c->replied = 0;
	c->mode = R_JSON;
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
		H.conns[H.nconns++] = c;
		/* a client that connects must start its request within the head time */
		c->st = CS_IDLE;
		loop_timer_set(&c->timer, loop_now_ms() + LISTEN_HEAD_TIMEOUT_MS, on_conn_timer, c);
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
		if (c->mode == R_SSE && c->head_sent && !c->complete) {
			static const char ka[] = "d\r\n: keepalive\n\n\r\n";
			if (out_put(c, ka, sizeof ka - 1) == 0) {
				conn_flush(c);
				if (!c->closed)
					loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_conn_timer, c);
			}
		}
		return;
	default:
		conn_close(c); /* idle too long */
		return;
	}
}

/* ---- request handling ---- */

/* Does a comma list of media ranges (Accept) name type (or a wildcard)? */
static int accepts(const struct hreq *r, const char *type)
{
	if (!r->accept)
		return 1;
	/* a media range naming the type, or any type: a substring search is
	 * enough for the two types asked about */
	const char *p = r->accept, *end = r->accept + r->accept_len;
	size_t tl = strlen(type);
	for (; p < end; p++)
		if ((end - p >= 3 && p[0] == '*' && p[1] == '/' && p[2] == '*') ||
		    ((size_t)(end - p) >= tl && ieq(p, tl, type, tl)))
			return 1;
	return 0;
}

/* Host value allowed: the loopback names and the listener's own address,
 * with its port (or none), and KLING_MCP_ALLOWED_HOSTS. */
static int host_allowed(const char *v, size_t n)
{
	if (http_list_has(H.cfg->allowed_hosts, v, n))
		return 1;
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", H.addr.host};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t l = strlen(names[i]);
		if (ieq(v, n, names[i], l))
			return 1;
		if (n > l && ieq(v, l, names[i], l) && v[l] == ':' && n - l - 1 == strlen(H.port_text) &&
		    memcmp(v + l + 1, H.port_text, n - l - 1) == 0)
			return 1;
	}
	return 0;
}

static int origin_allowed(const struct hreq *r)
{
	const char *v = r->origin;
	size_t n = r->origin_len;
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
	/* the same origin as the Host the client reached (itself checked on a
	 * loopback listener), or a loopback name */
	if (r->host && ieq(v, n, r->host, r->host_len))
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
	if (!r->pver)
		return "Header mismatch: MCP-Protocol-Version missing";
	raw = json_str_raw(&H.doc, meta_version, &n);
	if (!raw || !json_streqn(&H.doc, meta_version, r->pver, r->pver_len))
		return "Header mismatch: MCP-Protocol-Version differs from _meta";
	if (!r->hmethod)
		return "Header mismatch: Mcp-Method missing";
	int k = http_header_value_decode(r->hmethod, r->hmethod_len, buf, sizeof buf);
	if (k < 0 || !json_streqn(&H.doc, method, buf, (size_t)k))
		return "Header mismatch: Mcp-Method differs from the body";
	const char *named[] = {"tools/call", "resources/read", "prompts/get"};
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		if (!json_streq(&H.doc, method, named[i]))
			continue;
		int params = json_get(&H.doc, 0, "params");
		int name = json_get(&H.doc, params, i == 1 ? "uri" : "name");
		if (!r->hname)
			return "Header mismatch: Mcp-Name missing";
		k = http_header_value_decode(r->hname, r->hname_len, buf, sizeof buf);
		if (k < 0 || json_type(&H.doc, name) != JSON_STRING || !json_streqn(&H.doc, name, buf, (size_t)k))
			return "Header mismatch: Mcp-Name differs from the body";
	}
	return NULL;
}

/* Send the body to the session and wait for its answers. */
static void feed(struct hconn *c, struct hsess *s, const char *body, size_t len)
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
	if (c->mode == R_SSE) { /* the stream opens now; answers follow */
		put_head(c, 200, "text/event-stream", -1, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
		c->head_sent = 1;
		conn_flush(c);
		if (!c->closed)
			loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_conn_timer, c);
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
	if (!c->rq.sid) {
		reply_error(c, 400, NULL, -32000, "Mcp-Session-Id needed", NULL);
		return;
	}
	struct hsess *s = sess_find(c->rq.sid, c->rq.sid_len);
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
	if (!r->ctype || !(r->ctype_len >= 16 && ieq(r->ctype, 16, "application/json", 16) &&
			   (r->ctype_len == 16 || r->ctype[16] == ';' || r->ctype[16] == ' '))) {
		reply_error(c, 415, NULL, -32000, "Content-Type must be application/json", NULL);
		return;
	}
	int want_json = accepts(r, "application/json"), want_sse = accepts(r, "text/event-stream");
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
	c->mode = (progress && want_sse) || !want_json ? R_SSE : R_JSON;

	if (r->sid) {
		if (r->pver && !known_version(r->pver, r->pver_len)) {
			char e[160];
			snprintf(e, sizeof e, "unsupported MCP-Protocol-Version \"%.*s\"",
				 (int)(r->pver_len < 40 ? r->pver_len : 40), r->pver);
			reply_error(c, 400, id, -32000, e, NULL);
			return;
		}
		struct hsess *s = sess_find(r->sid, r->sid_len);
		if (!s) {
			reply_error(c, 404, id, -32001, "session unknown or ended; initialize again", NULL);
			return;
		}
		feed(c, s, body, len);
		return;
	}
	/* 2026-07-28 when the body carries its _meta version or the header names
	 * anything but a 2025 version; otherwise the 2025 flow. */
	int mv = json_get(&H.doc, meta, META_VERSION);
	int legacy_hdr = r->pver && known_version(r->pver, r->pver_len) && !ieqz(r->pver, r->pver_len, V2026);
	int modern = mv >= 0 || (r->pver && !legacy_hdr);
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
		feed(c, s, body, len);
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
	feed(c, s, body, len);
}

/* The head and body are in; everything about the request is checked here. */
static void handle_request(struct hconn *c)
{
	struct hreq *r = &c->rq;
	const char *body = c->in + c->head_len;
	size_t len = c->body_len;
	if ((H.addr.loopback || H.cfg->allowed_hosts) && r->host && !host_allowed(r->host, r->host_len)) {
		log_info("http: refused Host \"%.*s\"", (int)(r->host_len < 80 ? r->host_len : 80), r->host);
		reply_error(c, 403, NULL, -32000, "Host not allowed (KLING_MCP_ALLOWED_HOSTS)", NULL);
		return;
	}
	if (r->origin) {
		if (!origin_allowed(r)) {
			log_info("http: refused Origin \"%.*s\"", (int)(r->origin_len < 80 ? r->origin_len : 80), r->origin);
			reply_error(c, 403, NULL, -32000, "Origin not allowed (KLING_MCP_ALLOWED_ORIGINS)", NULL);
			return;
		}
		r->origin_ok = 1;
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
	if (H.cfg->mcp_token) {
		const char *t = r->auth;
		size_t n = r->auth_len;
		int ok = t && n > 7 && ieq(t, 7, "Bearer ", 7);
		if (ok) {
			t += 7;
			n -= 7;
			while (n && *t == ' ') {
				t++;
				n--;
			}
			ok = http_secret_equal(t, n, H.cfg->mcp_token, strlen(H.cfg->mcp_token));
		}
		if (!ok) {
			reply_error(c, 401, NULL, -32000,
				    r->auth ? "wrong bearer token" : "Authorization: Bearer <KLING_MCP_TOKEN> needed",
				    "WWW-Authenticate: Bearer realm=\"kling-mcp\"\r\n");
			return;
		}
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
		    strcmp(r->method, "GET") == 0
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

/* The value of the first header called name (lower case), or NULL. */
static const char *hv(const struct http_header *h, size_t nh, const char *name, size_t *len)
{
	const struct http_header *x = http_header_find(h, nh, name, NULL);
	*len = x ? x->value_len : 0;
	return x ? x->value : NULL;
}

/* Read the head's fields we use and its framing. Returns 0, or -1 after
 * answering. */
static int read_head(struct hconn *c, const struct http_request_line *rl, const struct http_header *h, size_t nh)
{
	struct hreq *r = &c->rq;
	snprintf(r->method, sizeof r->method, "%.*s", (int)(rl->method_len < 11 ? rl->method_len : 11), rl->method);
	r->minor = rl->minor_version;
	size_t base = 0;
	while (base < rl->target_len && rl->target[base] != '?')
		base++;
	r->path_ok = base == 4 && memcmp(rl->target, MCP_PATH, 4) == 0;
	r->origin = hv(h, nh, "origin", &r->origin_len);
	r->auth = hv(h, nh, "authorization", &r->auth_len);
	r->sid = hv(h, nh, "mcp-session-id", &r->sid_len);
	r->pver = hv(h, nh, "mcp-protocol-version", &r->pver_len);
	r->hmethod = hv(h, nh, "mcp-method", &r->hmethod_len);
	r->hname = hv(h, nh, "mcp-name", &r->hname_len);
	r->accept = hv(h, nh, "accept", &r->accept_len);
	r->ctype = hv(h, nh, "content-type", &r->ctype_len);
	struct http_request_framing f;
	if (http_read_request_framing(rl, h, nh, &f) < 0) {
		framing_error(c, f.status, f.error);
		return -1;
	}
	r->host = f.host;
	r->host_len = f.host_len;
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
	if (f.expect_continue && c->ilen - c->head_len < c->body_len)
		out_put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
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
			loop_timer_set(&c->timer, c->t0 + LISTEN_HEAD_TIMEOUT_MS, on_conn_timer, c);
		}
		if (c->st == CS_HEAD) {
			struct http_header h[LIMIT_HTTP_HEADERS];
			size_t nh = LIMIT_HTTP_HEADERS;
			struct http_request_line rl;
			int n = http_parse_request_head(c->in, c->ilen, &rl, h, &nh);
			if (n == HTTP_PARSE_INCOMPLETE)
				return;
			if (n == HTTP_PARSE_TOO_MANY || n == HTTP_PARSE_TOO_BIG) {
				framing_error(c, 431, n == HTTP_PARSE_TOO_BIG ? "over LIMIT_HTTP_HEAD_BYTES" : "too many headers");
				return;
			}
			if (n < 0) {
				framing_error(c, 400, NULL);
				return;
			}
			c->head_len = (size_t)n;
			if (read_head(c, &rl, h, nh) < 0)
				return;
			c->st = CS_BODY;
			loop_timer_set(&c->timer, loop_now_ms() + LISTEN_BODY_TIMEOUT_MS, on_conn_timer, c);
			conn_flush(c); /* a 100 Continue */
		}
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
	if (c->icap - c->ilen < READ_CHUNK && c->icap < IBUF_MAX) {
		size_t cap = c->icap ? c->icap * 2 : READ_CHUNK;
		size_t need = c->ilen + READ_CHUNK;
		while (cap < need)
			cap *= 2;
		if (cap > IBUF_MAX)
			cap = IBUF_MAX;
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
	if (room == 0) { /* cannot happen: a full buffer holds a complete request */
		framing_error(c, 413, NULL);
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
	if (c->st == CS_WAIT) {
		if (revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			log_info("http: client left before its answer: cancelled");
			conn_close(c);
		}
		return;
	}
	if (revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
		if (c->st == CS_DONE) { /* waiting to write a last reply: discard input */
			if (revents & (POLLHUP | POLLERR))
				conn_close(c);
			return;
		}
		conn_read(c);
	}
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

static int busy_conns(void)
{
	int n = 0;
	for (int i = 0; i < H.nconns; i++)
		n += H.conns[i]->st == CS_WAIT || H.conns[i]->olen > H.conns[i]->ooff;
	return n;
}

static void begin_stop(void)
{
	H.stopping = 1;
	H.drain_deadline = loop_now_ms() + LISTEN_DRAIN_MS;
	mcp_hurry(); /* waits answer now with what they have */
	if (H.lfd >= 0) {
		loop_unwatch(H.lfd);
		close(H.lfd);
		H.lfd = -1;
	}
	for (int i = H.nconns - 1; i >= 0; i--) {
		struct hconn *c = H.conns[i];
		if (c->st == CS_WAIT || c->olen > c->ooff)
			c->close_after = c->st != CS_WAIT ? 1 : c->close_after;
		else
			conn_close(c);
	}
	log_info("http: stopping; %d requests in progress", busy_conns());
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
	for (;;) {
		if (g_stop && !H.stopping)
			begin_stop();
		if (H.stopping && (busy_conns() == 0 || loop_now_ms() >= H.drain_deadline))
			break;
		if (loop_run_once(H.stopping ? 100 : -1) < 0) {
			log_error("poll failed");
			rc = 1;
			break;
		}
	}
	if (H.stopping && busy_conns())
		log_warn("http: %d requests dropped (LISTEN_DRAIN_MS)", busy_conns());
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
