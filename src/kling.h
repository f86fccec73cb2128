/*
 * kling — one request to the Kling API, the path every tool's requests
 * take: the Authorization header (API key, or the AK/SK pair's JWT, cached),
 * sending with the HTTP client before the call's deadline, the envelope
 * {code, message, request_id} of the reply, errors in words (kling_err),
 * and retries: on 1302/1303/5000-5002 and HTTP 429/500/502/503/504, at most
 * KLING_MAX_RETRIES, after 1 s then 2 s or the Retry-After the service asks
 * for, and never past the call's deadline.
 *
 * A request's done is always called from the poll loop, never from inside
 * kling_req_send (a request that cannot start fails through a 0 ms timer).
 * The listings (kling_list) and the look-ups (kling_get) are built on this.
 */
#ifndef KLING_KLING_H
#define KLING_KLING_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "kling_config.h"
#include "json.h"
#include "kling_jwt.h"
#include "kling_err.h"
#include "all_limits.h"
#include "kling_task.h"
#include "loop.h"

struct http_op;

/* Remember cfg (which must outlive the server). Call after
 * http_client_init(). */
void kling_init(const struct kling_config *cfg);

/* The configuration kling_init was given. */
const struct kling_config *kling_settings(void);

/* The error when every legacy product answered HTTP 404 (n404 of
 * nproducts, product one of them): the base URL is wrong, not the account
 * empty. Written into out[cap]. */
void kling_legacy_all_404(char *out, size_t cap, int n404, int nproducts, const char *product);

/* The error of a failed call (a listing, a look-up: what) in words:
 * fmt/ap formatted into out[cap], the credential redacted, logged as
 * "a <what> failed: <message>". */
void kling_verrorf(char *out, size_t cap, const char *what, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* A call's state (size bytes, zeroed): the one kept in *spare, or a new
 * one; NULL when out of memory. kling_spare_put keeps p in *spare when it
 * is empty, else frees it (the next call reuses the block). */
void *kling_spare_take(void **spare, size_t size);
void kling_spare_put(void **spare, void *p);

/* Free what kling holds between calls (the reply parser's tokens, the cached
 * JWT). */
void kling_shutdown(void);

/* What the requests of one tool call share: the deadline, the request
 * count (at most LIMIT_UPSTREAM_REQUESTS), the Authorization value. */
struct kling_call {
	int64_t deadline;
	int requests;
	enum kling_auth auth;
	char authz[(JWT_MAX > CONFIG_API_KEY_MAX ? JWT_MAX : CONFIG_API_KEY_MAX) + 16]; /* "Bearer " + either */
};

/* Set k up for a call ending at deadline_ms. Returns 0, or -1 with the
 * reason in err[cap] (no token could be made, no parser memory). */
int kling_call_begin(struct kling_call *k, int64_t deadline_ms, char *err, size_t cap);

/* Wipe k's copy of the credential. */
void kling_call_end(struct kling_call *k);

/* The outcome of a request, valid only during done. */
struct kling_reply {
	const char *error;          /* NULL on success (HTTP 200, code 0); else the sentence for the user */
	int http_status;            /* 0 when no answer came */
	int is_kling;               /* the body was a Kling envelope */
	int64_t code;               /* its code */
	const struct json_doc *doc; /* success: the parsed reply */
	int data;                   /* success: its "data" member, -1 when absent */
};

struct kling_req;
typedef void (*kling_req_fn)(struct kling_req *r, const struct kling_reply *reply);

/* One request and its retries. Fill call, api, the path (kling_req_path),
 * body/body_len (0 = GET), done and ctx; then kling_req_send. */
struct kling_req {
	struct kling_call *call;
	enum kling_api api;          /* which API family (for the wording of errors) */
	kling_req_fn done;
	void *ctx;
	int tag;                     /* the caller's */
	char path[KLING_PATH_MAX];   /* KLING_BASE_URL's path + the rest */
	char body[KLING_BODY_MAX];
	size_t body_len;
	/* private */
	struct http_op *op;
	struct loop_timer timer;     /* a retry's pause, or an error delivered from the loop */
	int retries;
	char err[KLING_ERR_MAX];
};

/* Set r->path to the base path + the formatted rest. Returns 0, or -1 when
 * it does not fit. */
int kling_req_path(struct kling_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Send r (again from the start: retries reset). done follows, from the
 * loop. */
void kling_req_send(struct kling_req *r);

/* 1 while r is in flight or waiting (to retry or to fail). */
int kling_req_busy(const struct kling_req *r);

/* Stop r: done is not called. */
void kling_req_cancel(struct kling_req *r);

/* A call's LIMIT_UPSTREAM_PARALLEL request slots f[]: set each one up for
 * the call kc of backend be, answering to done with ctx (tag -1); the first
 * one not busy (NULL: all are); stop them all. */
void kling_req_slots(struct kling_req f[LIMIT_UPSTREAM_PARALLEL], struct kling_call *kc, enum kling_api be,
		     kling_req_fn done, void *ctx);
struct kling_req *kling_req_idle(struct kling_req f[LIMIT_UPSTREAM_PARALLEL]);
void kling_req_cancel_all(struct kling_req f[LIMIT_UPSTREAM_PARALLEL]);

#endif
