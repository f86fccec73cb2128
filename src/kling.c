/* kling — see kling.h. */
#include "kling.h"

#include "http_client.h"
#include "kling_parse.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct kling_config *g_cfg;
static struct json_doc g_doc; /* replies are parsed one at a time, in the loop */
static int g_doc_ready;

void kling_init(const struct kling_config *cfg)
{
	g_cfg = cfg;
	if (!g_doc_ready && json_doc_init(&g_doc, LIMIT_JSON_TOKENS) == 0)
		g_doc_ready = 1;
}

const struct kling_config *kling_settings(void)
{
	return g_cfg;
}

void kling_legacy_all_404(char *out, size_t cap, int n404, int nproducts, const char *product)
{
	int v6 = strchr(g_cfg->host, ':') != NULL;
	snprintf(out, cap,
		 "Every legacy product list answered HTTP 404 (%d of %d, e.g. %s/v1/%s) at the base URL "
		 "https://%s%s%s:%u%s: no credential was checked. The base URL's path is probably wrong: check "
		 "KLING_BASE_URL (https://host with no path, or the prefix of a gateway that forwards /v1/).",
		 n404, nproducts, g_cfg->base_path, product, v6 ? "[" : "", g_cfg->host, v6 ? "]" : "", g_cfg->port,
		 g_cfg->base_path);
}

void kling_shutdown(void)
{
	if (g_doc_ready)
		json_doc_free(&g_doc);
	g_doc_ready = 0;
	kling_jwt_wipe();
}

/* ---- the call ---- */

int kling_call_begin(struct kling_call *k, int64_t deadline_ms, char *err, size_t cap)
{
	k->deadline = deadline_ms;
	k->requests = 0;
	if (!g_doc_ready) {
		snprintf(err, cap, "Out of memory: no room for the reply parser's tokens.");
		return -1;
	}
	if (g_cfg->api_key) {
		k->auth = KLING_AUTH_API_KEY;
		snprintf(k->authz, sizeof k->authz, "Bearer %s", g_cfg->api_key);
		return 0;
	}
	k->auth = KLING_AUTH_JWT;
	const char *tok = kling_jwt_get(g_cfg->access_key, g_cfg->secret_key, (int64_t)time(NULL));
	if (!tok) {
		snprintf(err, cap,
			 "Could not make a token from KLING_ACCESS_KEY and KLING_SECRET_KEY (each must be 1 to %d bytes).",
			 JWT_MAX_KEY);
		return -1;
	}
	log_add_secret(tok); /* the cached token's buffer: masked wherever it would be written */
	snprintf(k->authz, sizeof k->authz, "Bearer %s", tok);
	return 0;
}

void kling_call_end(struct kling_call *k)
{
	explicit_bzero(k->authz, sizeof k->authz);
}

/* ---- one request ---- */

int kling_req_path(struct kling_req *r, const char *fmt, ...)
{
	int n = snprintf(r->path, sizeof r->path, "%s", g_cfg->base_path);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(r->path + n, sizeof r->path - (size_t)n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= sizeof r->path - (size_t)n ? -1 : 0;
}

int kling_req_busy(const struct kling_req *r)
{
	return r->op != NULL || r->timer.armed;
}

void kling_req_cancel(struct kling_req *r)
{
	if (r->op)
		http_client_cancel(r->op);
	r->op = NULL;
	loop_timer_clear(&r->timer);
}

static void deliver(struct kling_req *r, const struct kling_reply *rep)
{
	r->done(r, rep);
}

/* Deliver r->err as the request's error. */
static void deliver_error(struct kling_req *r, int http_status, int is_kling, int64_t code)
{
	log_redact(r->err, strlen(r->err)); /* the service's message may echo the credential */
	struct kling_reply rep = {r->err, http_status, is_kling, code, NULL, -1};
	deliver(r, &rep);
}

static void error_from_loop(void *arg)
{
	deliver_error(arg, 0, 0, 0);
}

/* Fail r from the loop with the formatted text (never from inside send). */
static void fail_later(struct kling_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_later(struct kling_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	loop_timer_set(&r->timer, loop_now_ms(), error_from_loop, r);
}

static void on_reply(void *ctx, const struct http_response *resp, const char *error);

static void send_now(struct kling_req *r)
{
	struct kling_call *k = r->call;
	if (k->requests >= LIMIT_UPSTREAM_REQUESTS) {
		fail_later(r, "Listing this page needed more than %d requests to the Kling API (limit "
			      "LIMIT_UPSTREAM_REQUESTS); narrow it with start_time/end_time, status or product_type, "
			      "or page with next_cursor.", LIMIT_UPSTREAM_REQUESTS);
		return;
	}
	k->requests++;
	struct http_request req = {
		.method = r->body_len ? "POST" : "GET",
		.host = g_cfg->host,
		.port = g_cfg->port,
		.path = r->path,
		.authorization = k->authz,
		.body = r->body_len ? r->body : NULL,
		.body_len = r->body_len,
	};
	log_debug("%s %s", req.method, r->path);
	r->op = http_client_start(&req, k->deadline, on_reply, r); /* the call's deadline, not a shorter one */
	if (!r->op)
		fail_later(r, "Out of memory starting a request to the Kling API.");
}

static void retry_now(void *arg)
{
	send_now(arg);
}

void kling_req_send(struct kling_req *r)
{
	r->retries = 0;
	send_now(r);
}

/* An error answer: retried when it may pass, else delivered. */
static void on_error_reply(struct kling_req *r, const struct http_response *resp, const struct kling_parse_envelope *env)
{
	struct kling_error e = {resp->status, env->is_kling ? (int)env->code : 0, env->message, env->request_id};
	char text[KLING_ERR_MAX - 128];
	char *q = strchr(r->path, '?');
	if (q)
		*q = 0; /* the message names the path without the query */
	kling_err_text(&e, r->api, r->call->auth, r->path, text, sizeof text);
	if (q)
		*q = '?';
	int retry = kling_err_retryable(e.http_status, e.code);
	int64_t wait = resp->retry_after_s >= 0 ? (int64_t)resp->retry_after_s * 1000 : INT64_C(1000) << r->retries;
	if (!retry)
		snprintf(r->err, sizeof r->err, "%s", text);
	else if (r->retries >= KLING_MAX_RETRIES)
		snprintf(r->err, sizeof r->err, "%s (gave up after %d retries)", text, r->retries);
	else if (loop_now_ms() + wait >= r->call->deadline)
		snprintf(r->err, sizeof r->err,
			 "%s (not retried: waiting %" PRId64 " ms would pass the call's deadline of KLING_TIMEOUT_MS=%d)",
			 text, wait, g_cfg->timeout_ms);
	else {
		r->retries++;
		log_info("retrying %s in %" PRId64 " ms after HTTP %d code %d", r->path, wait, e.http_status, e.code);
		loop_timer_set(&r->timer, loop_now_ms() + wait, retry_now, r);
		return;
	}
	deliver_error(r, resp->status, env->is_kling, env->code);
}

/* Why a 200 body is not JSON, in words. */
static void not_json(struct kling_req *r, const struct http_response *resp, int jr)
{
	const unsigned char *b = (const unsigned char *)resp->body;
	if (resp->body_len >= 2 && b[0] == 0x1F && b[1] == 0x8B)
		snprintf(r->err, sizeof r->err,
			 "The Kling API answered HTTP 200 with a gzip-compressed body, which kling-mcp does not "
			 "decompress (it never asks for compression): a proxy or gateway on the way compressed it.");
	else if (jr == JSON_E_TOKENS)
		snprintf(r->err, sizeof r->err,
			 "The Kling API's reply of %zu bytes holds more than %d JSON values (LIMIT_JSON_TOKENS): too large "
			 "to read; ask for a smaller page (page_size) or narrow with start_time/end_time.",
			 resp->body_len, LIMIT_JSON_TOKENS);
	else
		snprintf(r->err, sizeof r->err,
			 "The Kling API answered HTTP 200 with a body that is not valid JSON (%s at byte %zu of %zu).",
			 json_strerror(jr), g_doc.err_pos, resp->body_len);
	deliver_error(r, resp->status, 0, 0);
}

static void on_reply(void *ctx, const struct http_response *resp, const char *error)
{
	struct kling_req *r = ctx;
	r->op = NULL;
	if (error) {
		char hint[96] = ""; /* a deadline: name the setting that raises it */
		if (strncmp(error, HTTP_TIMEOUT_PREFIX, sizeof HTTP_TIMEOUT_PREFIX - 1) == 0)
			snprintf(hint, sizeof hint, " (KLING_TIMEOUT_MS=%d sets the deadline; raise it if the network is slow)",
				 g_cfg->timeout_ms);
		snprintf(r->err, sizeof r->err, "Could not get an answer from the Kling API at %s:%u: %s%s", g_cfg->host,
			 g_cfg->port, error, hint);
		deliver_error(r, 0, 0, 0);
		return;
	}
	log_info("%s %s -> HTTP %d, %zu bytes", r->body_len ? "POST" : "GET", r->path, resp->status, resp->body_len);
	struct kling_parse_envelope env;
	int jr = json_parse_repair(&g_doc, resp->body, resp->body_len);
	if (jr == 0) {
		kling_parse_envelope(&g_doc, &env);
	} else {
		memset(&env, 0, sizeof env);
		env.data = -1;
	}
	if (resp->status != 200 || (env.is_kling && env.code != 0)) {
		on_error_reply(r, resp, &env);
		return;
	}
	if (jr != 0) {
		not_json(r, resp, jr);
		return;
	}
	if (!env.is_kling) {
		snprintf(r->err, sizeof r->err,
			 "The Kling API answered HTTP 200 with JSON that has no numeric \"code\" member: not a Kling reply.");
		deliver_error(r, resp->status, 0, 0);
		return;
	}
	struct kling_reply rep = {NULL, resp->status, 1, env.code, &g_doc, env.data};
	deliver(r, &rep);
}

void kling_verrorf(char *out, size_t cap, const char *what, const char *fmt, va_list ap)
{
	vsnprintf(out, cap, fmt, ap);
	log_redact(out, strlen(out));
	log_info("a %s failed: %s", what, out);
}

void kling_req_slots(struct kling_req f[LIMIT_UPSTREAM_PARALLEL], struct kling_call *kc, enum kling_api be,
		     kling_req_fn done, void *ctx)
{
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL; i++) {
		f[i].call = kc;
		f[i].api = be;
		f[i].done = done;
		f[i].ctx = ctx;
		f[i].tag = -1;
	}
}

struct kling_req *kling_req_idle(struct kling_req f[LIMIT_UPSTREAM_PARALLEL])
{
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL; i++)
		if (!kling_req_busy(&f[i]))
			return &f[i];
	return NULL;
}

void kling_req_cancel_all(struct kling_req f[LIMIT_UPSTREAM_PARALLEL])
{
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL; i++)
		kling_req_cancel(&f[i]);
}

void *kling_spare_take(void **spare, size_t size)
{
	void *p = *spare ? *spare : malloc(size);
	*spare = NULL;
	if (p)
		memset(p, 0, size);
	return p;
}

void kling_spare_put(void **spare, void *p)
{
	if (!*spare) /* musl maps a block this large on its own: keep one */
		*spare = p;
	else
		free(p);
}
