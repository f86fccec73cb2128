/*
 * httpd — an HTTP/1.1 server inside the one poll() loop. It knows
 * nothing of MCP: an application (mcp_http) gives it a handler.
 *
 * Connections are non-blocking. Requests on one connection are handled one
 * at a time, in order: pipelined bytes wait in the buffer, and nothing is
 * read while a request waits for its answer. Heads are parsed by http_parse
 * (pure); the views it returns die with the head callback: the server keeps
 * the method, version and offsets only, never a pointer into the input
 * buffer (it moves when it grows for the body).
 *
 * Every request is answered exactly once, whatever the connection does (RFC
 * 9112 9): "Connection: close" and HTTP/1.0 (unless keep-alive is asked) are
 * answered, then the connection closes; an end of input after a complete
 * request (a half-close, or a client that has gone: the two cannot be told
 * apart) leaves the request to be answered, then the connection closes; a
 * client really gone shows as a failed write or a reset. HEAD answers carry
 * no body. "Expect: 100-continue" gets "100 Continue" only once the head has
 * passed the handler's checks (a refusal is the final status at once). A
 * refusal, a framing error or a last answer on a closing connection is
 * followed by a lingering close (RFC 9112 9.6): the write side is shut and
 * what the client still sends is dropped for LISTEN_LINGER_MS.
 *
 * Limits (all_limits.h): head LIMIT_HTTP_HEAD_BYTES/LIMIT_HTTP_HEADERS
 * (431); body LIMIT_LISTEN_BODY_BYTES (413), Content-Length only (chunked:
 * 411; other codings 501); until a head has passed the checks a connection
 * holds at most a head; bodies held by all connections together
 * LIMIT_LISTEN_BODY_TOTAL (503 + Retry-After); LIMIT_LISTEN_CONNS
 * connections (long-lived streams included): when full, the oldest
 * connection not yet authorized is closed for the new one, else the new one
 * gets 503; LISTEN_AUTH_HEAD_TIMEOUT_MS for the first head of a connection,
 * LISTEN_HEAD_TIMEOUT_MS / LISTEN_BODY_TIMEOUT_MS later (408),
 * LISTEN_IDLE_TIMEOUT_MS between requests, LIMIT_LISTEN_BACKLOG of unread
 * answers. Stop: accept no more, close idle connections, let requests in
 * progress finish, ask the handler to answer those still waiting near the end
 * of LISTEN_DRAIN_MS.
 */
#ifndef KLING_HTTPD_H
#define KLING_HTTPD_H

#include "http_parse.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct httpd_conn;

/* A head field kept as an offset into the connection's input buffer (off 0:
 * absent; no field starts at 0). Read it with httpd_field. */
struct httpd_field {
	uint32_t off, len;
};

/* What the server keeps of a request's head. */
struct httpd_req {
	char method[12]; /* NUL-terminated; longer methods cut (they are refused anyway) */
	int minor;       /* HTTP/1.minor */
	int is_head;     /* HEAD: answers carry no body */
	int expect;      /* Expect: 100-continue */
	size_t head_len, body_len;
	struct httpd_field target, host;
	int64_t t0;      /* when its first byte came, for the access log */
};

struct httpd_handler {
	/* A complete head (views into the input, valid during the call only:
	 * keep httpd_offset()s). Check it: return 0 to read its body, or -1
	 * after answering a refusal with httpd_refuse(). */
	int (*head)(struct httpd_conn *c, const struct http_header *h, size_t nh);
	/* The body is in (body[0..len), valid during the call): answer now
	 * (httpd_reply, httpd_stream_*), or later from the loop. */
	void (*request)(struct httpd_conn *c, const char *body, size_t len);
	/* The request that reached request() ends: answered (abandoned 0) or its
	 * connection closed first (1). Release what it holds. */
	void (*end)(struct httpd_conn *c, int abandoned);
	/* Stopping and the drain is nearly up: answer this waiting request now. */
	void (*stop_now)(struct httpd_conn *c);
	/* The server's own refusals (framing, limits, timeouts): answer with
	 * httpd_reply in the application's format. detail may be NULL. */
	void (*error)(struct httpd_conn *c, int status, const char *detail, const char *extra);
	/* Once, when a stop begins (before the drain). */
	void (*stopping)(void);
	/* Bytes of per-request state (httpd_ctx), zeroed before each head(). */
	size_t ctx_size;
	/* The whole reply to a connection over LIMIT_LISTEN_CONNS. */
	const char *busy_reply;
};

/* The reason phrase of status (one table for every reply). */
const char *httpd_reason(int status);

/* The handler's per-request state of c. */
void *httpd_ctx(struct httpd_conn *c);
/* The request of c (its head's fields). */
const struct httpd_req *httpd_request(const struct httpd_conn *c);
/* A header view (valid during head()) as an offset; and back, as a pointer
 * valid until the server next reads into the buffer (NULL when absent). */
struct httpd_field httpd_offset(const struct httpd_conn *c, const char *v, size_t n);
const char *httpd_field(const struct httpd_conn *c, struct httpd_field f);

/* The connection passed the token check: it is no longer the first closed
 * when slots are full, and gets the longer head timeout. */
void httpd_authorized(struct httpd_conn *c);
/* 1 once a stop has begun. */
int httpd_stopping(void);

/* A whole answer: status line, Content-Type (ctype NULL: none),
 * Content-Length, Connection when needed, extra header lines (each ending
 * "\r\n", or NULL), then body (left out for HEAD). Ends the request. */
void httpd_reply(struct httpd_conn *c, int status, const char *ctype, const char *extra, const char *body,
		 size_t len);
/* A refusal from head(): the connection closes after the answer. */
void httpd_close_after(struct httpd_conn *c);
/* A streamed answer: the head now, then chunks, then the end (which ends the
 * request). To HTTP/1.0 (no chunks) the body goes out as written, with
 * Connection: close, and ends when the connection closes. Each returns 0, or
 * -1 when the connection has gone. */
int httpd_stream_open(struct httpd_conn *c, int status, const char *ctype, const char *extra);
int httpd_stream_write(struct httpd_conn *c, const struct iovec *v, int n); /* one chunk of v[0..n) */
void httpd_stream_end(struct httpd_conn *c);
/* 1 while c's answer has not ended (it may be streaming). */
int httpd_waiting(const struct httpd_conn *c);

/* Start serving on fd (a listening socket, non-blocking; -1: none), from
 * the loop; httpd_adopt hands over a connected socket (the fuzz harness
 * drives one end of a socketpair); httpd_finish closes every connection
 * (their requests abandoned) and the listener. httpd_start returns 0 or -1,
 * httpd_adopt 0 or -1 (no slot or memory: fd is the caller's). */
int httpd_start(int fd, const struct httpd_handler *h);
int httpd_adopt(int fd);
void httpd_finish(void);

/* Serve on fd (a listening socket, non-blocking) until stop_fd (when >= 0)
 * becomes readable, then drain (LISTEN_DRAIN_MS) and return 0; 1 when the
 * loop broke. The fd is closed on return. */
int httpd_run(int fd, const struct httpd_handler *h, int stop_fd);

#endif
