/*
 * http — the HTTP/1.1 client the Kling module calls: one request at a time per
 * operation, many operations at once, all inside the one poll() loop (loop.h).
 *
 * A request goes https:// only, to host:port, through HTTPS_PROXY with CONNECT
 * unless NO_PROXY names the host; the connection comes from conn.h (resolution,
 * TCP, proxy tunnel, verified TLS, keep-alive pool). This module builds the
 * request bytes, reads the answer and parses it with the pure functions at the
 * end of this header (no I/O, no allocation: unit-tested and fuzzable).
 *
 * Rules the caller can rely on:
 *  - done is called exactly once per http_start(), never from inside
 *    http_start() itself, unless the operation is cancelled first;
 *  - the deadline bounds everything (resolution, connect, proxy, TLS, send,
 *    head, body); when it passes, done gets "timeout after N ms while ...";
 *  - redirects are not followed (the bearer token would travel elsewhere):
 *    a 3xx answer is an error naming its Location;
 *  - a request that fails on a kept-alive connection before any byte of the
 *    reply came back is sent again, once, on a new connection;
 *  - the Authorization value is never logged.
 */
#ifndef KLING_HTTP_H
#define KLING_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;

/* Remember the configuration (ca_file, https_proxy, no_proxy); its strings
 * must outlive the client. Reads no file: the trust store is loaded on the
 * first TLS handshake. Call once before anything else (or again after
 * http_client_shutdown()). Returns 0, or -1 when HTTPS_PROXY cannot be used
 * (logged; every request that would use the proxy fails saying why). */
int http_client_init(const struct config *cfg);

struct http_request {
	const char *method;        /* "GET" or "POST" */
	const char *host;          /* name or IP literal, IPv6 without brackets */
	unsigned short port;       /* 443 normally */
	const char *path;          /* path + query, already escaped; starts with '/' */
	const char *authorization; /* full header value ("Bearer ..."), or NULL */
	const char *body;          /* POST: JSON body (copied), or NULL */
	size_t body_len;
};

/* Views into the operation's memory, valid until done returns. */
struct http_response {
	int status;               /* 200..599 (never 1xx or 3xx) */
	const char *body;         /* body[body_len] is a NUL, for convenience */
	size_t body_len;
	int retry_after_s;        /* Retry-After in seconds, -1 when absent */
	const char *content_type; /* "" when absent; cut at 127 bytes */
	int reused;               /* 1: sent on a kept-alive connection */
};

/* Exactly one of resp and error is non-NULL. error is one sentence naming
 * what failed: DNS, connect, proxy, TLS and why, timeout after N ms, oversize
 * and the limit, bad framing, redirect to X... */
typedef void (*http_done_fn)(void *ctx, const struct http_response *resp, const char *error);

struct http_op;

/* Start a request; deadline_ms is on the loop_now_ms() scale. The request's
 * strings are copied. Returns the operation (freed after done returns), or
 * NULL only when out of memory (done is then never called). Invalid requests
 * (header value with CR/LF, path with a space or control, GET with a body...)
 * and requests made outside http_client_init()..http_client_shutdown() are
 * refused before anything is sent, through done like any other error. */
struct http_op *http_start(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx);

/* Drop op at once: its connection is closed, done is not called. No-op when
 * called from op's own done callback (op is freed after done returns). */
void http_cancel(struct http_op *op);

/* http_start(), then turn the loop (other watchers run too) until done has
 * been called. For --check and tests. Returns 0, or -1 if out of memory or
 * the loop failed. */
int http_run(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx);

/* Cancel every operation (no callbacks), close every connection, free the
 * trust store, TLS state and caches, wipe proxy credentials. The client can
 * be initialized again afterwards. Safe from a done callback (that op is
 * freed when its callback returns). */
void http_client_shutdown(void);

/*
 * Pure functions: no I/O, no allocation, no global state. Buffers are
 * (ptr, len) and never read past len.
 */

enum {
	HTTP_PARSE_INVALID = -1,    /* not HTTP, or malformed */
	HTTP_PARSE_INCOMPLETE = -2, /* need more bytes */
	HTTP_PARSE_TOO_MANY = -3,   /* more headers than the caller's array */
	HTTP_PARSE_TOO_BIG = -4,    /* chunked: the body passes the decoder's limit */
};

struct http_header {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	const char *value; /* leading and trailing blanks removed */
	size_t value_len;
};

/* Parse a response head (status line and headers up to the empty line) at
 * the start of buf[0..len). CRLF or bare LF line ends; obsolete line folding,
 * control characters, malformed names and a status outside 100..599 are
 * invalid. On entry *num_headers
 * is the capacity of headers[]; on success it is the count found.
 * Returns the head's length in bytes (the body starts there), or
 * HTTP_PARSE_INVALID / _INCOMPLETE / _TOO_MANY. Only the first INT_MAX bytes
 * are looked at. */
int http_parse_response_head(const char *buf, size_t len, int *minor_version, int *status,
			     struct http_header *headers, size_t *num_headers);

/* How the body of a parsed response is delimited, and what else we read
 * from its headers. */
struct http_framing {
	int chunked;            /* Transfer-Encoding: chunked */
	int64_t content_length; /* -1 when absent */
	int no_body;            /* 1xx, 204, 304: nothing follows the head */
	int keep_alive;         /* the connection may carry another request */
	int retry_after_s;      /* -1 when absent or unreadable */
	const char *content_type, *location; /* views into the head, NULL when absent */
	size_t content_type_len, location_len;
	const char *error;      /* on failure: why, a static sentence */
};

/* Read the framing of a response from its parsed head. now_s (Unix seconds)
 * turns a Retry-After date into seconds. Content-Length repeated (even with
 * the same value), listed, signed or not a number, Transfer-Encoding other
 * than exactly "chunked", or both headers at once, are refused. Returns 0, or
 * -1 with f->error set. */
int http_read_framing(int minor_version, int status, const struct http_header *h, size_t nh, int64_t now_s,
		      struct http_framing *f);

/* Retry-After value: delta-seconds or an IMF-fixdate ("Sun, 06 Nov 1994
 * 08:49:37 GMT") taken relative to now_s. Returns seconds (clamped to
 * 0..86400), or -1 when unreadable. */
int http_parse_retry_after(const char *v, size_t len, int64_t now_s);

/* State of a chunked decoder. Zero it, set limit (most body bytes allowed),
 * then feed it buffers in order. */
struct http_chunked {
	size_t limit;      /* set by the caller */
	size_t total;      /* body bytes decoded so far */
	size_t overhead;   /* framing bytes seen so far */
	const char *error; /* why, after INVALID or TOO_BIG */
	/* private */
	int state;
	uint64_t left;     /* bytes left in the current chunk */
	unsigned digits;
	size_t line;       /* bytes in the current size/trailer line */
	size_t trailer;    /* bytes of trailers */
};

/* Decode buf[0..*len) in place: on return buf[0..*len) holds the body bytes
 * decoded by this call. Chunk extensions and trailers are skipped; framing is
 * bounded (LIMIT_HTTP_CHUNK_LINE_BYTES per line, trailers within
 * LIMIT_HTTP_HEAD_BYTES, LIMIT_HTTP_CHUNK_OVERHEAD_BYTES overall). Returns
 * HTTP_PARSE_INCOMPLETE (all input used, feed more), HTTP_PARSE_INVALID or
 * HTTP_PARSE_TOO_BIG (d->error says why), or >= 0 when the body is complete:
 * the count of bytes after the message's end (left in place, not moved). */
ssize_t http_decode_chunked(struct http_chunked *d, char *buf, size_t *len);

/* Write the request head for req into out[0..cap): request line, Host (with
 * the port when not 443, brackets around IPv6), User-Agent, Accept,
 * Authorization, and Content-Type/Content-Length when there is a body (POST
 * always has a Content-Length). Returns its length, or -1 with *why set: bad
 * method, path not starting with '/' or holding spaces/controls/non-ASCII,
 * header value with CR, LF or another control, GET with a body, too long. */
int http_build_head(const struct http_request *req, char *out, size_t cap, const char **why);

#endif
