/*
 * http_client — the HTTP/1.1 client the Kling module calls: one request at a time per
 * operation, many operations at once, all inside the one poll() loop (loop.h).
 *
 * A request goes https:// only, to host:port, through HTTPS_PROXY with CONNECT
 * unless NO_PROXY names the host; the connection comes from net_conn.h (resolution,
 * TCP, proxy tunnel, verified TLS, keep-alive pool). This module builds the
 * request bytes, reads the answer and parses it with the pure functions of http_parse.h.
 *
 * Rules the caller can rely on:
 *  - done is called exactly once per http_client_start(), never from inside
 *    http_client_start() itself, unless the operation is cancelled first;
 *  - the deadline bounds everything (resolution, connect, proxy, TLS, send,
 *    head, body); when it passes, done gets "timeout after N ms while ..."
 *    (HTTP_TIMEOUT_PREFIX, so a caller can add what sets its deadline);
 *  - redirects are not followed (the bearer token would travel elsewhere):
 *    a 3xx answer is an error naming its Location;
 *  - a request that fails on a kept-alive connection before any byte of the
 *    reply came back is sent again, once, on a new connection;
 *  - the Authorization value is never logged.
 */
#ifndef KLING_HTTP_CLIENT_H
#define KLING_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The start of every error that says the deadline passed. */
#define HTTP_TIMEOUT_PREFIX "timeout after "

/* Remember the CA file (NULL: the system's, else the embedded bundle), the
 * HTTPS proxy URL and the no-proxy list (NULL: none); the strings must
 * outlive the client. Reads no file: the trust store is loaded on the
 * first TLS handshake. Call once before anything else (or again after
 * http_client_shutdown()). Returns 0, or -1 when HTTPS_PROXY cannot be used
 * (logged; every request that would use the proxy fails saying why). */
int http_client_init(const char *ca_file, const char *https_proxy, const char *no_proxy);

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
struct http_op *http_client_start(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx);

/* Drop op at once: its connection is closed, done is not called. No-op when
 * called from op's own done callback (op is freed after done returns). */
void http_client_cancel(struct http_op *op);

/* http_client_start(), then turn the loop (other watchers run too) until done has
 * been called. For --check and tests. Returns 0, or -1 if out of memory or
 * the loop failed. */
int http_client_run(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx);

/* Cancel every operation (no callbacks), close every connection, free the
 * trust store, TLS state and caches, wipe proxy credentials. The client can
 * be initialized again afterwards. Safe from a done callback (that op is
 * freed when its callback returns). */
void http_client_shutdown(void);

/* Write the request head for req into out[0..cap): request line, Host (with
 * the port when not 443, brackets around IPv6), User-Agent, Accept,
 * Authorization, and Content-Type/Content-Length when there is a body (POST
 * always has a Content-Length). Returns its length, or -1 with *why set: bad
 * method, path not starting with '/' or holding spaces/controls/non-ASCII,
 * header value with CR, LF or another control, GET with a body, too long. */
int http_client_build_head(const struct http_request *req, char *out, size_t cap, const char **why);

#endif
