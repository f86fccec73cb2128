/* mcp_http — see mcp_http.h. */
#include "mcp_http.h"

#include "buf.h"
#include "kling_config.h"
#include "http_parse.h"
#include "httpd.h"
#include "json.h"
#include "mcp_jsonrpc.h"
#include "all_limits.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "mcp_http_check.h"
#include "rng.h"
#include "text.h"
#include "mcp_task.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MCP_PATH "/mcp"
/* Session ids: 128 random bits as 32 lowercase hex digits. */
#define SID_RANDOM_BYTES 16
#define SID_LEN (2 * SID_RANDOM_BYTES)
/* Expired sessions are looked for this often (or every LISTEN_SESSION_IDLE_MS,
 * when that is shorter). A session with live tasks is not expired. */
#define SWEEP_MS (60000 < LISTEN_SESSION_IDLE_MS ? 60000 : LISTEN_SESSION_IDLE_MS)
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define V2026 "2026-07-28"
/* The 2026-07-28 error for a mirrored header missing or not matching. */
#define ERR_HEADER_MISMATCH (-32020)
/* The shared answer buffer grown past this is freed after use. */
#define IBUF_KEEP 65536

/* ---- helpers ---- */

static int ieqz(const char *a, size_t an, const char *z)
{
	return text_ieq(a, an, z, strlen(z));
}

/* ---- state ---- */

enum rmode { R_JSON, R_SSE };

struct hsess;

/* What is kept of a request's head: offsets into the server's input buffer
 * (read with fv), valid for the whole request. */
struct hreq {
	struct httpd_field origin, auth, sid, pver, hmethod, hname, accept, ctype;
	int path_ok;
	int health;   /* GET or HEAD /health */
	int origin_ok; /* an allowed Origin was sent: CORS headers go on the reply */
	int want_sse; /* Accept allows text/event-stream */
};

/* One request (the server's per-request state of a connection). Its address
 * is the tag of its input in the mcp session. */
struct mreq {
	struct httpd_conn *conn;
	struct hreq rq;
	struct hsess *sess;
	enum rmode mode;
	int head_sent; /* an SSE stream is open */
	int in_input, owed, answers, input_done, complete, initialize, replied;
	int code;       /* the JSON-RPC error code of the last answer (0: none) */
	int may_switch; /* JSON reply that turns into SSE if the call is slow */
	int listed;     /* in H.waiting */
	struct buf j;   /* the answers gathered for one reply */
	int shared;     /* j's memory is H.sync's (answers inside the call: no malloc) */
	char *rid;      /* a waiting request's id (JSON), to answer it at stop */
	size_t rid_len;
	struct loop_timer timer; /* SSE switch, then keep-alive comments */
	struct loop_timer kick;  /* reply from the loop, never inside a sink callback */
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
	const struct kling_config *cfg;
	struct mcp_http_check_addr addr;
	int nsess;
	int nwaiting;
	struct json_doc doc;
	struct loop_timer sweep;
	char port_text[8];
	struct buf sync; /* gathers the answers given inside mcp_session_input */
	/* Last, and never cleared: only sess[0..nsess) and waiting[0..nwaiting)
	 * are ever read, so the pages of entries never used stay untouched. */
	struct hsess *sess[LIMIT_LISTEN_SESSIONS];
	struct mreq *waiting[LIMIT_LISTEN_CONNS];
} H;

static const struct mcp_sink g_sink;

/* The value of a header of c's request, or NULL when it was absent. */
static const char *fv(const struct mreq *c, struct httpd_field f)
{
	return httpd_field(c->conn, f);
}

/* ---- replies ---- */

static void access_log(const struct mreq *c, int status)
{
	if (log_get_level() < LOG_INFO)
		return;
	const struct httpd_req *q = httpd_request(c->conn);
	char sid[9] = "-";
	if (c->sess && !c->sess->stateless && c->sess->id[0])
		snprintf(sid, sizeof sid, "%.8s", c->sess->id);
	else if (c->rq.sid.len)
		snprintf(sid, sizeof sid, "%.*s", (int)(c->rq.sid.len < 8 ? c->rq.sid.len : 8), fv(c, c->rq.sid));
	for (char *p = sid; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			*p = '?';
	log_info("http: %s %d %lld ms session %s", q->method[0] ? q->method : "-", status,
		 (long long)(loop_now_ms() - q->t0), sid);
}

/* The CORS lines (when an allowed Origin came) and then extra, in out. */
static const char *headers(const struct mreq *c, const char *extra, char *out, size_t cap)
{
	if (!c->rq.origin_ok || c->rq.origin.len >= 512)
		return extra;
	snprintf(out, cap,
		 "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n"
		 "Access-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate\r\n%s",
		 (int)c->rq.origin.len, fv(c, c->rq.origin), extra ? extra : "");
	return out;
}

static void reply(struct mreq *c, int status, const char *ctype, const char *extra, const char *body, size_t len)
{
	char hx[1024];
	access_log(c, status);
	httpd_reply(c->conn, status, ctype, headers(c, extra, hx, sizeof hx), body, len);
}

/* A whole reply with a JSON-RPC error body (no id unless id is given) whose
 * message is the status's reason, then ": " and detail when there is one. */
static void reply_error(struct mreq *c, int status, const struct mcp_jsonrpc_id *id, int code, const char *detail,
			const char *extra)
{
	char body[LIMIT_ID_BYTES + 600], message[240];
	snprintf(message, sizeof message, detail ? "%s: %s" : "%s", httpd_reason(status), detail);
	struct json_w w;
	json_w_init_fixed(&w, body, sizeof body);
	mcp_jsonrpc_error(&w, id, code, message);
	size_t n;
	const char *p = json_w_data(&w, &n);
	reply(c, status, "application/json", extra, p, n);
}

static void reply_empty(struct mreq *c, int status, const char *extra)
{
	reply(c, status, NULL, extra, NULL, 0);
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
	if (rng_bytes(r, sizeof r) < 0)
		return -1;
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
	for (int i = H.nwaiting - 1; i >= 0; i--) {
		struct mreq *c = H.waiting[i];
		if (c->sess == s && !c->replied) {
			if (!c->complete)
				mcp_session_cancel_tag(s->m, c);
			c->sess = NULL;
			s->inflight--;
			c->complete = c->replied = 1;
			loop_timer_clear(&c->timer);
			if (c->head_sent) { /* an SSE stream: end it */
				access_log(c, 200);
				httpd_stream_end(c->conn);
			} else {
				reply_error(c, 404, NULL, -32001, why, NULL);
			}
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
		/* a session holding 2025-11-25 tasks lives while they do (their
		 * ttl), whatever its idle time: they die with it */
		if (s->inflight == 0 && now - s->last >= LISTEN_SESSION_IDLE_MS && mcp_task_count(s->m) == 0) {
			log_info("http: session %.8s expired", s->id);
			sess_end(s, "Session expired");
		}
	}
	loop_timer_set(&H.sweep, now + SWEEP_MS, on_sweep, NULL);
}

static int origin_allowed(const struct mreq *c)
{
	const struct hreq *r = &c->rq;
	const char *v = fv(c, r->origin);
	size_t n = r->origin.len;
	if (mcp_http_check_list_has(H.cfg->allowed_origins, v, n))
		return 1;
	size_t skip = 0;
	if (n > 7 && text_ieq(v, 7, "http://", 7))
		skip = 7;
	else if (n > 8 && text_ieq(v, 8, "https://", 8))
		skip = 8;
	if (!skip)
		return 0;
	v += skip;
	n -= skip;
	/* On a loopback listener, a page of this very listener: the port must
	 * be ours (without it, any local web service on 80/443 would pass).
	 * Elsewhere: the same origin as the Host the client reached. */
	if (H.addr.loopback)
		return mcp_http_check_names_us(&H.addr, H.port_text, v, n, 1);
	const struct httpd_req *q = httpd_request(c->conn);
	if (q->host.off && text_ieq(v, n, fv(c, q->host), q->host.len))
		return 1;
	return mcp_http_check_host_allowed(&H.addr, H.port_text, H.cfg->allowed_hosts, v, n);
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
static const char *check_mirrored(const struct mreq *c, int method, int meta_version)
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
	int k = mcp_http_check_header_value_decode(fv(c, r->hmethod), r->hmethod.len, buf, sizeof buf);
	if (k < 0 || !json_streqn(&H.doc, method, buf, (size_t)k))
		return "Header mismatch: Mcp-Method differs from the body";
	/* Mcp-Name mirrors the name, the uri, or a task's id (the tasks
	 * extension's routing header; a request with no string taskId is left
	 * to its -32602) */
	static const char *const named[][2] = {{"tools/call", "name"},   {"resources/read", "uri"},
					       {"prompts/get", "name"},  {"tasks/get", "taskId"},
					       {"tasks/update", "taskId"}, {"tasks/cancel", "taskId"}};
	for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
		if (!json_streq(&H.doc, method, named[i][0]))
			continue;
		int params = json_get(&H.doc, 0, "params");
		int name = json_get(&H.doc, params, named[i][1]);
		if (i >= 3 && json_type(&H.doc, name) != JSON_STRING)
			break;
		if (!r->hname.off)
			return "Header mismatch: Mcp-Name missing";
		k = mcp_http_check_header_value_decode(fv(c, r->hname), r->hname.len, buf, sizeof buf);
		if (k < 0 || json_type(&H.doc, name) != JSON_STRING || !json_streqn(&H.doc, name, buf, (size_t)k))
			return "Header mismatch: Mcp-Name differs from the body";
	}
	return NULL;
}

/* ---- SSE and answers ---- */

static void on_req_timer(void *arg);

static void sse_open(struct mreq *c)
{
	char hx[1024];
	c->head_sent = 1;
	httpd_stream_open(c->conn, 200, "text/event-stream",
			  headers(c, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n", hx, sizeof hx));
	loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_req_timer, c);
}

/* A JSON reply whose call is still running after LISTEN_SSE_SWITCH_MS turns
 * into an SSE stream (the client accepts one): keep-alive comments keep
 * proxies from timing it out, and show when the client has gone. */
static void on_req_timer(void *arg)
{
	struct mreq *c = arg;
	if (c->complete)
		return;
	if (c->may_switch && !c->answers) {
		c->may_switch = 0;
		c->mode = R_SSE;
		sse_open(c);
		return;
	}
	if (c->mode == R_SSE && c->head_sent) {
		struct iovec ka = {": keepalive\n\n", 13};
		if (httpd_stream_write(c->conn, &ka, 1) == 0)
			loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_KEEPALIVE_MS, on_req_timer, c);
	}
}

static int sse_event(struct mreq *c, const char *msg, size_t len)
{
	struct iovec v[3] = {{"event: message\ndata: ", 21}, {(void *)msg, len}, {"\n\n", 2}};
	return httpd_stream_write(c->conn, v, 3);
}

/* Keep a copy of a waiting request's id (JSON text), to answer it if the
 * server has to stop before the call ends. */
static void keep_id(struct mreq *c, const struct mcp_jsonrpc_id *id)
{
	if (!id || !id->raw || !(c->rid = malloc(id->len)))
		return;
	memcpy(c->rid, id->raw, id->len);
	c->rid_len = id->len;
}

/* Status of a JSON reply carrying one answer: from the error code the
 * session passed with it (0: a result). */
static int answer_status(const struct mreq *c)
{
	int code = c->code;
	if (!code)
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
static void reply_answers(struct mreq *c)
{
	struct hsess *s = c->sess;
	c->replied = 1;
	loop_timer_clear(&c->timer);
	if (c->mode == R_SSE && c->head_sent) {
		access_log(c, 200);
		httpd_stream_end(c->conn);
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
		if (!c->code && s && sess_list(s) == 0) {
			snprintf(extra, sizeof extra, "Mcp-Session-Id: %s\r\n", s->id);
			log_info("http: session %.8s started (%d)", s->id, H.nsess);
		}
	}
	if (c->mode == R_SSE) { /* every answer came inside the call: one event each */
		sse_open(c);
		loop_timer_clear(&c->timer);
		struct iovec v = {c->j.p, c->j.len};
		httpd_stream_write(c->conn, &v, 1);
		access_log(c, 200);
		httpd_stream_end(c->conn);
		return;
	}
	if (c->answers == 1) {
		reply(c, answer_status(c), "application/json", extra, c->j.p, c->j.len);
		return;
	}
	c->j.p[0] = '['; /* jbuf_add left room for the brackets */
	c->j.p[c->j.len] = ']';
	reply(c, 200, "application/json", extra, c->j.p, c->j.len + 1);
}

static int is_notification(const char *msg, size_t len)
{
	static const char n[] = "{\"jsonrpc\":\"2.0\",\"method\"";
	return len >= sizeof n - 1 && memcmp(msg, n, sizeof n - 1) == 0;
}

static int jbuf_add(struct mreq *c, const char *p, size_t n)
{
	if (buf_reserve(&c->j, n + 1) < 0) /* and one byte for a closing ']' */
		return -1;
	if (c->shared)
		H.sync = c->j;
	memcpy(c->j.p + c->j.len, p, n);
	c->j.len += n;
	return 0;
}

/* Gather an answer (as an SSE event in SSE mode). A batch's answers go after
 * a '[' placeholder (the first byte of the buffer), comma-separated. */
static int gather(struct mreq *c, const char *msg, size_t len)
{
	if (c->mode == R_SSE)
		return jbuf_add(c, "event: message\ndata: ", 21) < 0 || jbuf_add(c, msg, len) < 0 ||
		       jbuf_add(c, "\n\n", 2) < 0 ? -1 : 0;
	if (c->answers == 2) { /* a batch: move the first answer after a '[' */
		if (jbuf_add(c, " ", 1) < 0)
			return -1;
		memmove(c->j.p + 1, c->j.p, c->j.len - 1);
		c->j.p[0] = '[';
	}
	if (c->answers > 1 && jbuf_add(c, ",", 1) < 0)
		return -1;
	return jbuf_add(c, msg, len);
}

/* The request waiting for the answers to tag, or NULL (it left). The tag of
 * a request is its mreq: one request at a time per connection, and a tag is
 * never used again after its input_done or cancel_tag. */
static struct mreq *req_by_tag(const struct hsess *s, void *tag)
{
	struct mreq *c = tag;
	return c && c->listed && c->sess == s ? c : NULL;
}

static int sink_send(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	struct hsess *s = ctx;
	struct mreq *c = req_by_tag(s, tag);
	if (!c || c->complete)
		return -1;
	int note = is_notification(msg, len);
	if (c->mode == R_JSON && note)
		return 0; /* progress needs SSE: the client did not ask for it */
	if (!note)
		c->answers++, c->code = code;
	if (c->mode == R_SSE && c->head_sent)
		return sse_event(c, msg, len) < 0 ? -1 : 0;
	if (gather(c, msg, len) < 0) {
		log_error("http: out of memory");
		return -1;
	}
	return 0;
}

static void on_req_kick(void *arg)
{
	struct mreq *c = arg;
	if (!c->replied)
		reply_answers(c);
}

static void sink_input_done(void *ctx, void *tag)
{
	struct hsess *s = ctx;
	struct mreq *c = req_by_tag(s, tag);
	if (!c)
		return;
	c->input_done = 1;
	if (!c->in_input && !c->complete) {
		c->complete = 1;
		loop_timer_set(&c->kick, loop_now_ms(), on_req_kick, c);
	}
}

static const struct mcp_sink g_sink = {sink_send, sink_input_done};

static void waiting_add(struct mreq *c)
{
	H.waiting[H.nwaiting++] = c;
	c->listed = 1;
}

static void waiting_remove(struct mreq *c)
{
	for (int i = 0; i < H.nwaiting; i++)
		if (H.waiting[i] == c) {
			H.waiting[i] = H.waiting[--H.nwaiting];
			break;
		}
	c->listed = 0;
}

/* c's answers leave H.sync: copied to a buffer of its own when it will
 * gather more from the loop. */
static void unshare(struct mreq *c)
{
	char *own = NULL;
	if (c->j.len && !c->complete && (own = malloc(c->j.len + 1)))
		memcpy(own, c->j.p, c->j.len);
	c->shared = 0;
	c->j.p = own;
	c->j.cap = own ? c->j.len + 1 : 0;
	c->j.len = own ? c->j.len : 0;
	if (H.sync.cap > IBUF_KEEP) /* a big answer's memory goes back */
		buf_free(&H.sync);
}

/* Send the body to the session and wait for its answers. */
static void feed(struct mreq *c, struct hsess *s, const char *body, size_t len, const struct mcp_jsonrpc_id *id)
{
	c->sess = s;
	s->inflight++;
	s->last = loop_now_ms();
	waiting_add(c);
	c->j = H.sync; /* most answers come inside the call: no buffer of its own */
	c->j.len = 0;
	c->j.max = SIZE_MAX; /* each answer is bounded by the core (LIMIT_RESPONSE_BYTES) */
	c->shared = 1;
	c->in_input = 1;
	int owed = mcp_session_input(s->m, body, len, c);
	c->in_input = 0;
	c->owed = owed < 0 ? 0 : owed;
	if (c->input_done || c->owed == 0) { /* answered inside the call: reply now */
		c->complete = 1;
		reply_answers(c);
		unshare(c);
		return;
	}
	unshare(c);
	keep_id(c, id);
	if (c->mode == R_SSE) { /* the stream opens now (with what came inside the call); answers follow */
		sse_open(c);
		struct iovec v = {c->j.p, c->j.len};
		if (c->j.len && httpd_stream_write(c->conn, &v, 1) == 0)
			c->j.len = 0;
	} else if (c->rq.want_sse && !c->initialize) {
		c->may_switch = 1;
		loop_timer_set(&c->timer, loop_now_ms() + LISTEN_SSE_SWITCH_MS, on_req_timer, c);
	}
}

static void handle_delete(struct mreq *c)
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
	sess_end(s, "Session ended");
	reply_empty(c, 204, NULL);
}

static void handle_post(struct mreq *c, const char *body, size_t len)
{
	struct hreq *r = &c->rq;
	const char *ct = fv(c, r->ctype);
	if (!ct || !(r->ctype.len >= 16 && text_ieq(ct, 16, "application/json", 16) &&
		     (r->ctype.len == 16 || ct[16] == ';' || ct[16] == ' '))) {
		reply_error(c, 415, NULL, -32000, "Content-Type must be application/json", NULL);
		return;
	}
	const char *acc = fv(c, r->accept);
	int want_json = mcp_http_check_accepts(acc, r->accept.len, "application/json");
	int want_sse = mcp_http_check_accepts(acc, r->accept.len, "text/event-stream");
	if (!want_json && !want_sse) {
		reply_error(c, 406, NULL, -32000,
			    "Accept lists neither application/json nor text/event-stream", NULL);
		return;
	}
	/* A look at the body: the session parses it again, with its own rules,
	 * and answers anything malformed. */
	int method = -1, params = -1;
	struct mcp_jsonrpc_id rid = {JSONRPC_ID_NONE, NULL, 0};
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
	const struct mcp_jsonrpc_id *id = rid.kind != JSONRPC_ID_NONE ? &rid : NULL; /* a request */
	int meta = json_get(&H.doc, params, "_meta");
	int progress = id && json_get(&H.doc, meta, "progressToken") >= 0;
	/* HTTP/1.0 has no chunks: there the server sends SSE close-delimited
	 * (nginx's default upstream protocol still gets a slow call's
	 * keep-alive comments). */
	c->mode = (progress && want_sse) || !want_json ? R_SSE : R_JSON;
	r->want_sse = want_sse;

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
		if (H.nsess >= LIMIT_LISTEN_SESSIONS || httpd_stopping()) {
			reply_error(c, 503, id, -32000,
				    httpd_stopping() ? "stopping" : "too many sessions (LIMIT_LISTEN_SESSIONS)",
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
	/* subscriptions/listen: this POST's SSE stream carries the
	 * acknowledgement and stays open (keep-alive comments) until the client
	 * closes it or the server stops. A client that takes no SSE gets -32601. */
	if (modern && id && want_sse && json_streq(&H.doc, method, "subscriptions/listen")) {
		mcp_session_streams(s->m);
		c->mode = R_SSE;
	}
	feed(c, s, body, len, id);
}

/* ---- the handler given to http_server ---- */

static int token_ok(const struct mreq *c)
{
	const char *t = fv(c, c->rq.auth);
	size_t n = c->rq.auth.len;
	if (!t || n <= 7 || !text_ieq(t, 7, "Bearer ", 7))
		return 0;
	t += 7;
	n -= 7;
	while (n && *t == ' ') {
		t++;
		n--;
	}
	return mcp_http_check_secret_equal(t, n, H.cfg->mcp_token, strlen(H.cfg->mcp_token));
}

/* A refusal: its answer, then the connection ends (lingering), whatever body
 * was announced: none of it is kept. */
static int refuse(struct mreq *c, int status, const char *detail, const char *extra)
{
	httpd_close_after(c->conn);
	reply_error(c, status, NULL, -32000, detail, extra);
	return -1;
}

static int path_is(const struct mreq *c, const char *path)
{
	const struct httpd_req *q = httpd_request(c->conn);
	size_t n = strlen(path);
	return q->target.len == n && memcmp(fv(c, q->target), path, n) == 0;
}

static struct httpd_field hf(struct httpd_conn *conn, const struct http_header *h, size_t nh, const char *name)
{
	const struct http_header *x = http_parse_header_find(h, nh, name, NULL);
	return x ? httpd_offset(conn, x->value, x->value_len) : (struct httpd_field){0, 0};
}

/* The head is complete: Host, Origin and the token are checked before one
 * body byte is kept. */
static int on_head(struct httpd_conn *conn, const struct http_header *h, size_t nh)
{
	struct mreq *c = httpd_ctx(conn);
	struct hreq *r = &c->rq;
	const struct httpd_req *q = httpd_request(conn);
	c->conn = conn;
	r->path_ok = path_is(c, MCP_PATH);
	r->health = path_is(c, "/health") && (q->is_head || strcmp(q->method, "GET") == 0);
	if (r->health)
		return 0; /* nothing secret: no token, no checks */
	r->origin = hf(conn, h, nh, "origin");
	r->auth = hf(conn, h, nh, "authorization");
	r->sid = hf(conn, h, nh, "mcp-session-id");
	r->pver = hf(conn, h, nh, "mcp-protocol-version");
	r->hmethod = hf(conn, h, nh, "mcp-method");
	r->hname = hf(conn, h, nh, "mcp-name");
	r->accept = hf(conn, h, nh, "accept");
	r->ctype = hf(conn, h, nh, "content-type");
	const char *host = fv(c, q->host);
	if ((H.addr.loopback || H.cfg->allowed_hosts) && host &&
	    !mcp_http_check_host_allowed(&H.addr, H.port_text, H.cfg->allowed_hosts, host, q->host.len)) {
		log_info("http: refused Host \"%.*s\"", (int)(q->host.len < 80 ? q->host.len : 80), host);
		return refuse(c, 403, "Host not allowed (KLING_MCP_ALLOWED_HOSTS)", NULL);
	}
	if (r->origin.off) {
		if (!origin_allowed(c)) {
			log_info("http: refused Origin \"%.*s\"", (int)(r->origin.len < 80 ? r->origin.len : 80),
				 fv(c, r->origin));
			return refuse(c, 403, "Origin not allowed (KLING_MCP_ALLOWED_ORIGINS)", NULL);
		}
		r->origin_ok = 1;
	}
	if (H.cfg->mcp_token && strcmp(q->method, "OPTIONS") != 0) {
		if (!token_ok(c))
			return refuse(c, 401,
				      r->auth.off ? "wrong bearer token" : "Authorization: Bearer <KLING_MCP_TOKEN> needed",
				      "WWW-Authenticate: Bearer realm=\"kling-mcp\"\r\n");
	}
	if (!H.cfg->mcp_token || strcmp(q->method, "OPTIONS") != 0) /* a preflight shows no token */
		httpd_authorized(conn);
	return 0;
}

/* The head (checked) and the body are in: route the request. */
static void on_request(struct httpd_conn *conn, const char *body, size_t len)
{
	struct mreq *c = httpd_ctx(conn);
	const struct httpd_req *q = httpd_request(conn);
	if (c->rq.health) {
		static const char ok[] = "{\"status\":\"ok\"}";
		if (log_get_level() >= LOG_DEBUG)
			access_log(c, 200);
		httpd_reply(conn, 200, "application/json", "Cache-Control: no-store\r\n", ok, sizeof ok - 1);
		return;
	}
	if (!c->rq.path_ok) {
		reply_error(c, 404, NULL, -32000, "the endpoint is /mcp", NULL);
		return;
	}
	if (strcmp(q->method, "OPTIONS") == 0) {
		reply_empty(c, 204,
			    "Access-Control-Allow-Methods: POST, DELETE, OPTIONS\r\n"
			    "Access-Control-Allow-Headers: Content-Type, Accept, Authorization, Mcp-Session-Id, "
			    "MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID\r\n"
			    "Access-Control-Max-Age: 86400\r\n");
		return;
	}
	if (strcmp(q->method, "POST") == 0) {
		handle_post(c, body, len);
		return;
	}
	if (strcmp(q->method, "DELETE") == 0) {
		handle_delete(c);
		return;
	}
	reply_error(c, 405, NULL, -32000,
		    strcmp(q->method, "GET") == 0 || q->is_head ? "no GET stream: nothing is sent unasked" : NULL,
		    "Allow: POST, DELETE, OPTIONS\r\n");
}

/* The request ends (answered, or abandoned by its connection): release its
 * session (a transient one is freed), its in-flight count, its call. */
static void on_end(struct httpd_conn *conn, int abandoned)
{
	struct mreq *c = httpd_ctx(conn);
	struct hsess *s = c->sess;
	loop_timer_clear(&c->timer);
	loop_timer_clear(&c->kick);
	if (c->listed)
		waiting_remove(c);
	if (s) {
		if (abandoned && !c->complete)
			mcp_session_cancel_tag(s->m, c);
		c->sess = NULL;
		s->inflight--;
		s->last = loop_now_ms();
		if (s->stateless || (c->initialize && !s->listed))
			sess_free(s);
	}
	if (!c->shared)
		free(c->j.p);
	free(c->rid);
	c->j.p = c->rid = NULL;
}

/* The drain is nearly up: the waiting request gets an error as its answer
 * (an error event on an SSE stream) and its call is cancelled. */
static void on_stop_now(struct httpd_conn *conn)
{
	static const char why[] = "stopping: the call did not end within LISTEN_DRAIN_MS";
	struct mreq *c = httpd_ctx(conn);
	struct mcp_jsonrpc_id id = {JSONRPC_ID_NONE, c->rid, c->rid_len};
	if (c->rid)
		id.kind = c->rid[0] == '"' ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	if (c->sess && !c->complete)
		mcp_session_cancel_tag(c->sess->m, c);
	c->complete = c->replied = 1;
	loop_timer_clear(&c->timer);
	if (!c->head_sent) {
		reply_error(c, 503, c->rid ? &id : NULL, -32000, why, "Retry-After: 5\r\n");
		return;
	}
	char body[LIMIT_ID_BYTES + 200];
	struct json_w w;
	json_w_init_fixed(&w, body, sizeof body);
	mcp_jsonrpc_error(&w, c->rid ? &id : NULL, -32000, why);
	size_t n;
	const char *p = json_w_data(&w, &n);
	sse_event(c, p, n);
	access_log(c, 200);
	httpd_stream_end(conn);
}

static void on_error(struct httpd_conn *conn, int status, const char *detail, const char *extra)
{
	struct mreq *c = httpd_ctx(conn);
	c->conn = conn;
	reply_error(c, status, NULL, -32000, detail, extra);
}

static void on_stopping(void)
{
	mcp_hurry(); /* waits answer now with what they have */
}

/* the body is 95 bytes */
static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
			   "Content-Type: application/json\r\nContent-Length: 95\r\n"
			   "Connection: close\r\n\r\n{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32000,"
			   "\"message\":\"Service Unavailable: too many connections\"}}";

static const struct httpd_handler g_handler = {
	.head = on_head,
	.request = on_request,
	.end = on_end,
	.stop_now = on_stop_now,
	.error = on_error,
	.stopping = on_stopping,
	.ctx_size = sizeof(struct mreq),
	.busy_reply = busy,
};

/* ---- the server ---- */

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
static int mcp_http_setup(void)
{
	snprintf(H.port_text, sizeof H.port_text, "%u", H.addr.port);
	if (json_doc_init(&H.doc, LIMIT_JSON_TOKENS) < 0) {
		log_error("out of memory at start");
		return -1;
	}
	loop_timer_set(&H.sweep, loop_now_ms() + SWEEP_MS, on_sweep, NULL);
	return 0;
}

static void mcp_http_teardown(void)
{
	while (H.nsess)
		sess_free(H.sess[H.nsess - 1]);
	loop_timer_clear(&H.sweep);
	json_doc_free(&H.doc);
	buf_free(&H.sync);
}

int mcp_http_run(const struct kling_config *cfg, int stop_fd)
{
	const char *why = NULL;
	memset(&H, 0, offsetof(struct listener, sess));
	H.cfg = cfg;
	if (mcp_http_check_listen_parse(cfg->listen, &H.addr, &why) < 0) {
		log_error("--listen \"%.80s\": %s ([ADDR:]PORT)", cfg->listen, why);
		return 2;
	}
	if (!H.addr.loopback && !cfg->mcp_token) {
		log_error("%s:%u is not loopback: set KLING_MCP_TOKEN (clients send Authorization: Bearer <token>)",
			  H.addr.host, H.addr.port);
		return 2;
	}
	int fd = open_listener();
	if (fd < 0) {
		log_error("cannot listen on %s:%u: %s", H.addr.host, H.addr.port, strerror(errno));
		return 2;
	}
	if (mcp_http_setup() < 0) {
		close(fd);
		return 1;
	}
	/* Always said (stderr), so a script that asked for port 0 learns the port. */
	fprintf(stderr, "kling-mcp: listening on http://%s:%u%s%s\n", H.addr.host, H.addr.port, MCP_PATH,
		cfg->mcp_token ? " (bearer token required)" : "");
	int rc = httpd_run(fd, &g_handler, stop_fd);
	mcp_http_teardown();
	return rc;
}

int mcp_http_start(const struct kling_config *cfg)
{
	const char *why;
	memset(&H, 0, offsetof(struct listener, sess));
	H.cfg = cfg;
	if (mcp_http_check_listen_parse(cfg->listen, &H.addr, &why) < 0 || mcp_http_setup() < 0)
		return -1;
	if (httpd_start(-1, &g_handler) < 0) {
		mcp_http_teardown();
		return -1;
	}
	return 0;
}

void mcp_http_finish(void)
{
	httpd_finish();
	mcp_http_teardown();
}
