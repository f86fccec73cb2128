/* kling — see kling.h. */
#include "kling.h"

#include "arena.h"
#include "config.h"
#include "http_client.h"
#include "iso8601.h"
#include "json.h"
#include "jwt.h"
#include "kling_err.h"
#include "kling_limits.h"
#include "kling_parse.h"
#include "log.h"
#include "loop.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KLING_TASKS_LIMIT_MAX 500 /* POST /tasks: the API's largest `limit` */
#define KLING_LEGACY_PAGE_MAX 1000 /* legacy lists: the API's largest pageNum */
#define KLING_PATH_MAX 1024
#define KLING_BODY_MAX (LIMIT_CURSOR_BYTES * 6 + 512) /* a cursor of control characters, escaped */
#define KLING_ERR_MAX 1024

static const struct config *g_cfg;
static struct json_doc g_doc; /* replies are parsed one at a time, in the loop */
static int g_doc_ready;
static struct lt_op *g_spare; /* the last call's state (26 KB), for the next */

/* One upstream request and its retries. */
struct fetch {
	struct lt_op *call;
	int prod;              /* legacy: index into call->prods; else -1 */
	struct http_op *op;    /* in flight, or NULL */
	struct loop_timer timer; /* armed while waiting to retry */
	int retries;
	char path[KLING_PATH_MAX];
	char body[KLING_BODY_MAX];
	size_t body_len;       /* 0 = GET */
};

/* A legacy product list being merged. */
struct product {
	const char *name;
	struct arena ar;       /* the current upstream page's tasks */
	struct lt_task *items;
	size_t n, idx;         /* items in the page, next one to merge */
	int next_page;         /* pageNum of the next fetch */
	int exhausted;         /* no fetch after the current page */
	int fetching;
};

struct lt_op {
	const struct lt_query *q; /* &qc */
	struct lt_query qc;    /* the query, with a cursor's filters applied */
	int page, page_size;
	int64_t deadline;
	lt_done_fn done;
	void *ctx;
	enum backend be;
	enum kling_auth auth;
	char authz[(JWT_MAX > CONFIG_API_KEY_MAX ? JWT_MAX : CONFIG_API_KEY_MAX) + 16]; /* "Bearer " + either */
	int in_start, finished_in_start;
	int requests;          /* upstream requests made (retries included) */

	struct arena ar;       /* the result's tasks and strings */
	struct arena tmp;      /* the tasks backend's current reply */
	struct lt_task *res;
	size_t nres;
	int has_more;
	char next_cursor[LIMIT_CURSOR_BYTES + 1];
	int64_t total;

	int64_t skip;          /* tasks to pass over before the page starts */
	char kcursor[LIMIT_CURSOR_BYTES + 1]; /* tasks: Kling's cursor for the next request */

	struct product prods[CONFIG_MAX_PRODUCTS];
	int nprods;
	int legacy_size;       /* pageSize of every legacy request of this call */

	struct fetch f[LIMIT_UPSTREAM_PARALLEL];
};

/* ---- finishing ---- */

static void free_call(struct lt_op *c)
{
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL; i++) {
		if (c->f[i].op)
			http_cancel(c->f[i].op);
		loop_timer_clear(&c->f[i].timer);
	}
	for (int i = 0; i < c->nprods; i++)
		arena_free(&c->prods[i].ar);
	arena_free(&c->ar);
	arena_free(&c->tmp);
	explicit_bzero(c->authz, sizeof c->authz);
	if (!g_spare) /* musl maps a block this large on its own: keep one */
		g_spare = c;
	else
		free(c);
}

/* Hand the result (error NULL) or the error to the tool, then release c —
 * unless we are still inside start(), which releases it and returns NULL. */
static void finish(struct lt_op *c, const char *error)
{
	struct lt_result r = {
		.backend = config_backend_name(c->be),
		.page = c->page,
		.page_size = c->page_size,
		.total = c->total,
		.has_more = c->has_more,
		.next_cursor = {c->next_cursor, strlen(c->next_cursor)},
		.tasks = c->res,
		.ntasks = c->nres,
	};
	c->done(c->ctx, error ? NULL : &r, error);
	if (c->in_start)
		c->finished_in_start = 1;
	else
		free_call(c);
}

static void fail(struct lt_op *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct lt_op *c, const char *fmt, ...)
{
	char msg[KLING_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_redact(msg, strlen(msg)); /* the service's message may echo the credential */
	log_info("list_tasks failed: %s", msg);
	finish(c, msg);
}

/* ---- sending ---- */

static void on_reply(void *ctx, const struct http_response *resp, const char *error);

/* Path prefix (KLING_BASE_URL's path) + rest, into f->path. */
static int set_path(struct fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_path(struct fetch *f, const char *fmt, ...)
{
	int n = snprintf(f->path, sizeof f->path, "%s", g_cfg->base_path);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(f->path + n, sizeof f->path - (size_t)n, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= sizeof f->path - (size_t)n ? -1 : 0;
}

/* Send f's request. Returns 0, or -1 when the call failed (c is gone). */
static int send_fetch(struct fetch *f)
{
	struct lt_op *c = f->call;
	if (c->requests >= LIMIT_UPSTREAM_REQUESTS) {
		fail(c, "Listing this page needed more than %d requests to the Kling API (limit "
			"LIMIT_UPSTREAM_REQUESTS); narrow it with start_time/end_time, status or product_type, "
			"or page with next_cursor.", LIMIT_UPSTREAM_REQUESTS);
		return -1;
	}
	c->requests++;
	struct http_request req = {
		.method = f->body_len ? "POST" : "GET",
		.host = g_cfg->host,
		.port = g_cfg->port,
		.path = f->path,
		.authorization = c->authz,
		.body = f->body_len ? f->body : NULL,
		.body_len = f->body_len,
	};
	log_debug("%s %s", req.method, f->path);
	f->op = http_start(&req, c->deadline, on_reply, f);
	if (!f->op) {
		fail(c, "Out of memory starting a request to the Kling API.");
		return -1;
	}
	return 0;
}

static void retry_now(void *arg)
{
	(void)send_fetch(arg);
}

/* ---- cursors ---- */

static const char backend_letter[] = {'?', 't', 'l', 's'};

/* next_cursor for the page after this one: everything that page needs. */
static void set_next_cursor(struct lt_op *c, const char *upstream, size_t len)
{
	struct kcursor k = {
		.backend = backend_letter[c->be], .page = c->page + 1, .page_size = c->page_size,
		.status = c->q->status, .product = c->q->product, .start_ms = c->q->start_ms,
		.end_ms = c->q->end_ms, .upstream = upstream, .upstream_len = len,
	};
	if (kcursor_format(&k, c->next_cursor, sizeof c->next_cursor) < 0)
		c->next_cursor[0] = 0; /* too long to hand out: page numbers still work */
}

/* ---- backend: POST /tasks ---- */

static const char *const kling_status_word[] = {NULL, "submitted", "processing", "succeeded", "failed"};

/* "key":"<ms>" — /tasks documents its times as strings of milliseconds. */
static void write_ms(struct json_w *w, const char *key, int64_t ms)
{
	json_w_key(w, key);
	json_w_str_open(w);
	json_w_str_add_int(w, ms);
	json_w_str_close(w);
}

/* One element of "filters": {"key":key,"values":[value]}. */
static void write_filter(struct json_w *w, const char *key, const char *value)
{
	json_w_obj(w);
	json_w_key(w, "key");
	json_w_cstr(w, key);
	json_w_key(w, "values");
	json_w_arr(w);
	json_w_cstr(w, value);
	json_w_arr_end(w);
	json_w_obj_end(w);
}

static void tasks_send(struct lt_op *c)
{
	struct fetch *f = &c->f[0];
	const struct lt_query *q = c->q;
	int64_t want = c->skip > 0 ? c->skip : (int64_t)(c->page_size - (int)c->nres);
	if (want > KLING_TASKS_LIMIT_MAX)
		want = KLING_TASKS_LIMIT_MAX;
	struct json_w w;
	json_w_init_fixed(&w, f->body, sizeof f->body);
	json_w_obj(&w);
	json_w_key(&w, "limit");
	json_w_int(&w, want);
	if (c->kcursor[0]) { /* the service ignores the time window with a cursor */
		json_w_key(&w, "cursor");
		json_w_cstr(&w, c->kcursor);
	} else {
		if (q->start_ms >= 0)
			write_ms(&w, "start_time", q->start_ms);
		if (q->end_ms >= 0)
			write_ms(&w, "end_time", q->end_ms);
	}
	if (q->status != LT_STATUS_NONE || q->product != LT_PRODUCT_NONE) {
		json_w_key(&w, "filters");
		json_w_arr(&w);
		if (q->status != LT_STATUS_NONE)
			write_filter(&w, "status", kling_status_word[q->status]);
		if (q->product != LT_PRODUCT_NONE)
			write_filter(&w, "product_type", lt_product_name(q->product));
		json_w_arr_end(&w);
	}
	json_w_obj_end(&w);
	if (json_w_error(&w) != 0 || set_path(f, "/tasks") != 0) {
		fail(c, "The request to the Kling API would be too large (cursor of %zu bytes).", strlen(c->kcursor));
		return;
	}
	json_w_data(&w, &f->body_len);
	(void)send_fetch(f);
}

static void tasks_on_page(struct lt_op *c, const struct kparse_page *p)
{
	size_t i = 0;
	for (; i < p->ntasks && c->skip > 0; i++)
		c->skip--;
	for (; i < p->ntasks && c->nres < (size_t)c->page_size; i++) {
		if (kparse_copy_task(&c->ar, &p->tasks[i], &c->res[c->nres]) != 0) {
			fail(c, "Out of memory: the page's tasks exceed the per-call limit of %d bytes (LIMIT_CALL_BYTES).",
			     LIMIT_CALL_BYTES);
			return;
		}
		c->nres++;
	}
	int more = p->has_more && p->next_cursor.len > 0;
	if (c->nres < (size_t)c->page_size && more) {
		if (p->next_cursor.len > LIMIT_CURSOR_BYTES - 32) {
			fail(c, "The Kling API's cursor is longer than %d bytes (LIMIT_CURSOR_BYTES).",
			     LIMIT_CURSOR_BYTES - 32);
			return;
		}
		memcpy(c->kcursor, p->next_cursor.ptr, p->next_cursor.len);
		c->kcursor[p->next_cursor.len] = 0;
		arena_free(&c->tmp);
		tasks_send(c);
		return;
	}
	c->has_more = more || i < p->ntasks;
	if (more)
		set_next_cursor(c, p->next_cursor.ptr, p->next_cursor.len);
	finish(c, NULL);
}

/* ---- backend: GET /v1/<product>, merged newest first ---- */

static int product_matches(const char *name, enum lt_product want)
{
	int tryon = strstr(name, "try-on") != NULL;
	switch (want) {
	case LT_VIDEO:
		return strncmp(name, "videos/", 7) == 0;
	case LT_IMAGE:
		return strncmp(name, "images/", 7) == 0 && !tryon;
	case LT_TRY_ON:
		return tryon;
	default:
		return 1;
	}
}

static void legacy_step(struct lt_op *c);

/* Fetch the next page of product pi. Returns 1 when sent, 0 when every
 * slot is busy (legacy_step runs again when one frees), -1 when the call
 * failed (c is gone). */
static int legacy_fetch(struct lt_op *c, int pi)
{
	struct fetch *f = NULL;
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL && !f; i++)
		if (!c->f[i].op && !c->f[i].timer.armed)
			f = &c->f[i];
	if (!f)
		return 0;
	struct product *p = &c->prods[pi];
	f->prod = pi;
	f->retries = 0;
	f->body_len = 0;
	if (set_path(f, "/v1/%s?pageNum=%d&pageSize=%d", p->name, p->next_page, c->legacy_size) != 0) {
		fail(c, "The request path for %s is too long.", p->name);
		return -1;
	}
	p->fetching = 1;
	return send_fetch(f) == 0 ? 1 : -1;
}

/* The product whose next task is the newest, or -1 when all are drained. */
static int newest_head(const struct lt_op *c)
{
	int best = -1;
	for (int i = 0; i < c->nprods; i++) {
		const struct product *p = &c->prods[i];
		if (p->idx >= p->n)
			continue;
		if (best < 0 || p->items[p->idx].created_ms > c->prods[best].items[c->prods[best].idx].created_ms)
			best = i;
	}
	return best;
}

/* Take one task from the merged stream into the page. Returns 1 when the
 * page is complete (and one more match proved has_more), 0 to go on, -1
 * when the call failed. */
static int legacy_take(struct lt_op *c, struct product *p)
{
	const struct lt_task *t = &p->items[p->idx++];
	const struct lt_query *q = c->q;
	if (q->start_ms >= 0 && t->created_ms < q->start_ms) {
		p->idx = p->n; /* newest first: the rest of this list is older still */
		p->exhausted = 1;
		return 0;
	}
	if ((q->end_ms >= 0 && t->created_ms > q->end_ms) || (q->status != LT_STATUS_NONE && t->status != q->status))
		return 0;
	if (c->skip > 0) {
		c->skip--;
		return 0;
	}
	if (c->nres == (size_t)c->page_size) {
		c->has_more = 1;
		return 1;
	}
	if (kparse_copy_task(&c->ar, t, &c->res[c->nres]) != 0) {
		fail(c, "Out of memory: the page's tasks exceed the per-call limit of %d bytes (LIMIT_CALL_BYTES).",
		     LIMIT_CALL_BYTES);
		return -1;
	}
	c->nres++;
	return 0;
}

static void legacy_step(struct lt_op *c)
{
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < c->nprods; i++) {
			struct product *p = &c->prods[i];
			if (p->fetching) {
				waiting = 1;
			} else if (p->idx >= p->n && !p->exhausted) {
				int r = legacy_fetch(c, i);
				if (r <= 0)
					return; /* failed (c is gone), or no free slot yet */
				waiting = 1;
			}
		}
		if (waiting)
			return;
		int best = newest_head(c);
		if (best < 0)
			break;
		int r = legacy_take(c, &c->prods[best]);
		if (r < 0)
			return;
		if (r > 0)
			break;
	}
	if (c->has_more)
		set_next_cursor(c, "", 0);
	finish(c, NULL);
}

static void legacy_on_page(struct lt_op *c, struct fetch *f, const struct json_doc *d, int data)
{
	struct product *p = &c->prods[f->prod];
	struct kparse_page pg;
	const char *why = NULL;
	arena_free(&p->ar);
	p->fetching = 0;
	if (kparse_legacy(d, data, p->name, &p->ar, &pg, &why) != 0) {
		fail(c, "The Kling API's reply for %s was not understood: %s.", p->name, why);
		return;
	}
	p->items = pg.tasks;
	p->n = pg.ntasks;
	p->idx = 0;
	p->next_page++;
	if (pg.ntasks < (size_t)c->legacy_size || p->next_page > KLING_LEGACY_PAGE_MAX)
		p->exhausted = 1;
	legacy_step(c);
}

/* A product this host does not list (404): skipped, not fatal. */
static void legacy_skip_product(struct lt_op *c, struct fetch *f)
{
	struct product *p = &c->prods[f->prod];
	log_info("legacy product %s is not listed by this host (404); skipped", p->name);
	p->fetching = 0;
	p->exhausted = 1;
	p->idx = p->n = 0;
	legacy_step(c);
}

/* ---- backend: GET /v1/task/list (the seed's shape) ---- */

/* Append "&name=value" to the query string qs[cap] (values are fixed words
 * and ISO 8601 times: nothing to escape). */
static void qs_add(char *qs, size_t cap, const char *name, const char *value)
{
	size_t n = strlen(qs);
	snprintf(qs + n, cap - n, "&%s=%s", name, value);
}

static void seed_send(struct lt_op *c)
{
	struct fetch *f = &c->f[0];
	char qs[256] = "", iso[ISO8601_LEN + 1];
	if (c->q->status != LT_STATUS_NONE)
		qs_add(qs, sizeof qs, "status", lt_status_name(c->q->status));
	if (c->q->start_ms >= 0 && iso8601_format(c->q->start_ms, iso) > 0)
		qs_add(qs, sizeof qs, "start_time", iso);
	if (c->q->end_ms >= 0 && iso8601_format(c->q->end_ms, iso) > 0)
		qs_add(qs, sizeof qs, "end_time", iso);
	f->body_len = 0;
	if (set_path(f, "/v1/task/list?page=%d&page_size=%d%s", c->page, c->page_size, qs) != 0) {
		fail(c, "The request path is too long.");
		return;
	}
	(void)send_fetch(f);
}

static void seed_on_page(struct lt_op *c, const struct kparse_page *p)
{
	for (size_t i = 0; i < p->ntasks && c->nres < (size_t)c->page_size; i++) {
		if (kparse_copy_task(&c->ar, &p->tasks[i], &c->res[c->nres]) != 0) {
			fail(c, "Out of memory: the page's tasks exceed the per-call limit of %d bytes (LIMIT_CALL_BYTES).",
			     LIMIT_CALL_BYTES);
			return;
		}
		c->nres++;
	}
	c->total = p->total;
	c->has_more = p->total >= 0 ? (int64_t)c->page * c->page_size < p->total : p->ntasks >= (size_t)c->page_size;
	if (c->has_more)
		set_next_cursor(c, "", 0);
	finish(c, NULL);
}

/* ---- replies ---- */

/* An error answer: retried when it may pass, else the end of the call. */
static void on_error_reply(struct lt_op *c, struct fetch *f, const struct http_response *resp,
			   const struct kparse_envelope *env)
{
	struct kling_error e = {resp->status, env->is_kling ? (int)env->code : 0, env->message, env->request_id};
	if (c->be == BACKEND_LEGACY && resp->status == 404 && (!env->is_kling || e.code == 1203)) {
		legacy_skip_product(c, f);
		return;
	}
	enum kling_endpoint ep = c->be == BACKEND_TASKS ? KLING_EP_TASKS : c->be == BACKEND_LEGACY ? KLING_EP_LEGACY
												  : KLING_EP_SEED;
	char text[KLING_ERR_MAX - 128];
	char *q = strchr(f->path, '?');
	if (q)
		*q = 0; /* the message names the path without the query */
	kling_err_text(&e, ep, c->auth, f->path, text, sizeof text);
	if (q)
		*q = '?';
	if (!kling_err_retryable(e.http_status, e.code)) {
		fail(c, "%s", text);
		return;
	}
	if (f->retries >= KLING_MAX_RETRIES) {
		fail(c, "%s (gave up after %d retries)", text, f->retries);
		return;
	}
	int64_t wait = resp->retry_after_s >= 0 ? (int64_t)resp->retry_after_s * 1000 : INT64_C(1000) << f->retries;
	if (loop_now_ms() + wait >= c->deadline) {
		fail(c, "%s (not retried: waiting %" PRId64 " ms would pass the call's deadline of KLING_TIMEOUT_MS=%d)",
		     text, wait, g_cfg->timeout_ms);
		return;
	}
	f->retries++;
	log_info("retrying %s in %" PRId64 " ms after HTTP %d code %d", f->path, wait, e.http_status, e.code);
	loop_timer_set(&f->timer, loop_now_ms() + wait, retry_now, f);
}

static void on_success(struct lt_op *c, struct fetch *f, const struct kparse_envelope *env)
{
	struct kparse_page p;
	const char *why = NULL;
	if (c->be == BACKEND_LEGACY) {
		legacy_on_page(c, f, &g_doc, env->data);
		return;
	}
	arena_free(&c->tmp);
	int r = c->be == BACKEND_TASKS ? kparse_tasks(&g_doc, env->data, &c->tmp, &p, &why)
				       : kparse_seed(&g_doc, env->data, &c->tmp, &p, &why);
	if (r != 0) {
		fail(c, "The Kling API's reply was not understood: %s.", why);
		return;
	}
	if (c->be == BACKEND_TASKS)
		tasks_on_page(c, &p);
	else
		seed_on_page(c, &p);
}

static void on_reply(void *ctx, const struct http_response *resp, const char *error)
{
	struct fetch *f = ctx;
	struct lt_op *c = f->call;
	f->op = NULL;
	if (error) {
		fail(c, "Could not get an answer from the Kling API at %s:%u: %s", g_cfg->host, g_cfg->port, error);
		return;
	}
	log_info("%s %s -> HTTP %d, %zu bytes", f->body_len ? "POST" : "GET", f->path, resp->status, resp->body_len);
	struct kparse_envelope env;
	int jr = json_parse(&g_doc, resp->body, resp->body_len);
	if (jr == 0) {
		kparse_envelope(&g_doc, &env);
	} else {
		memset(&env, 0, sizeof env);
		env.data = -1;
	}
	if (resp->status != 200 || (env.is_kling && env.code != 0)) {
		on_error_reply(c, f, resp, &env);
		return;
	}
	if (jr != 0) {
		fail(c, "The Kling API answered HTTP 200 with a body that is not valid JSON (%s at byte %zu of %zu).",
		     json_strerror(jr), g_doc.err_pos, resp->body_len);
		return;
	}
	if (!env.is_kling) {
		fail(c, "The Kling API answered HTTP 200 with JSON that has no numeric \"code\" member: not a Kling reply.");
		return;
	}
	on_success(c, f, &env);
}

/* ---- start and cancel ---- */

/* A filter given both in the arguments and in the cursor must agree. */
static int conflicts(struct lt_op *c, const char *name, int64_t given, int64_t none, int64_t in_cursor)
{
	if (given == none || given == in_cursor)
		return 0;
	fail(c, "%s differs from the one the cursor was made with: pass next_cursor alone (it carries the "
		"filters of its listing), or leave cursor out to start a new listing.", name);
	return 1;
}

/* Apply q->cursor to c: page, page size, filters, Kling's cursor. Returns 0,
 * or -1 after failing the call. */
static int apply_cursor(struct lt_op *c)
{
	struct kcursor k;
	struct lt_query *q = &c->qc;
	if (kcursor_parse(q->cursor, q->cursor_len, &k) != 0 || k.backend != backend_letter[c->be]) {
		fail(c, "cursor \"%.60s%s\" was not made by this server's %s backend: pass the next_cursor of a "
			"previous list_tasks result unchanged, or leave cursor out and use page.",
		     q->cursor, q->cursor_len > 60 ? "..." : "", config_backend_name(c->be));
		return -1;
	}
	if (conflicts(c, "status", q->status, LT_STATUS_NONE, k.status) ||
	    conflicts(c, "product_type", q->product, LT_PRODUCT_NONE, k.product) ||
	    conflicts(c, "start_time", q->start_ms, -1, k.start_ms) || conflicts(c, "end_time", q->end_ms, -1, k.end_ms))
		return -1;
	q->status = k.status;
	q->product = k.product;
	q->start_ms = k.start_ms;
	q->end_ms = k.end_ms;
	c->page = k.page;
	c->page_size = k.page_size; /* pages stay aligned */
	memcpy(c->kcursor, k.upstream, k.upstream_len);
	c->kcursor[k.upstream_len] = 0;
	return 0;
}

static int make_authorization(struct lt_op *c)
{
	if (g_cfg->api_key) {
		c->auth = KLING_AUTH_API_KEY;
		snprintf(c->authz, sizeof c->authz, "Bearer %s", g_cfg->api_key);
		return 0;
	}
	c->auth = KLING_AUTH_JWT;
	const char *tok = jwt_get(g_cfg->access_key, g_cfg->secret_key, (int64_t)time(NULL));
	if (!tok) {
		fail(c, "Could not make a token from KLING_ACCESS_KEY and KLING_SECRET_KEY (each must be 1 to %d bytes).",
		     JWT_MAX_KEY);
		return -1;
	}
	log_add_secret(tok); /* the cached token's buffer: masked wherever it would be written */
	snprintf(c->authz, sizeof c->authz, "Bearer %s", tok);
	return 0;
}

static void legacy_begin(struct lt_op *c)
{
	for (int i = 0; i < g_cfg->nproducts; i++) {
		if (!product_matches(g_cfg->products[i], c->q->product))
			continue;
		struct product *p = &c->prods[c->nprods++];
		p->name = g_cfg->products[i];
		p->next_page = 1;
		arena_init(&p->ar, LIMIT_CALL_BYTES);
	}
	int64_t need = (int64_t)c->page * c->page_size + 1;
	c->legacy_size = need > 100 ? 100 : need < 10 ? 10 : (int)need;
	legacy_step(c);
}

static void begin(struct lt_op *c)
{
	if (c->q->cursor_len && apply_cursor(c) != 0)
		return;
	int by_cursor = c->q->cursor_len && c->be == BACKEND_TASKS;
	c->skip = c->be == BACKEND_SEED || by_cursor ? 0 : (int64_t)(c->page - 1) * c->page_size;
	int64_t max_skip = c->be == BACKEND_TASKS ? LIMIT_TASKS_SKIP : LIMIT_LEGACY_SKIP;
	if (c->skip > max_skip) {
		fail(c, "page %d is too deep to reach by page number (it would skip %" PRId64 " tasks; the limit is %"
			PRId64 "): use the next_cursor of the previous page, or narrow with start_time/end_time.",
		     c->page, c->skip, max_skip);
		return;
	}
	c->res = arena_alloc(&c->ar, (size_t)c->page_size * sizeof *c->res);
	if (!c->res) {
		fail(c, "Out of memory.");
		return;
	}
	switch (c->be) {
	case BACKEND_LEGACY:
		legacy_begin(c);
		break;
	case BACKEND_SEED:
		seed_send(c);
		break;
	default:
		tasks_send(c);
		break;
	}
}

static struct lt_op *kl_start(const struct lt_query *q, int64_t deadline_ms, lt_done_fn done, void *ctx)
{
	struct lt_op *c = g_spare ? g_spare : malloc(sizeof *c);
	g_spare = NULL;
	if (!c)
		return NULL;
	memset(c, 0, sizeof *c);
	c->qc = *q;
	c->q = &c->qc;
	c->page = q->page;
	c->page_size = q->page_size;
	c->deadline = deadline_ms;
	c->done = done;
	c->ctx = ctx;
	c->be = config_effective_backend(g_cfg);
	c->total = -1;
	arena_init(&c->ar, LIMIT_CALL_BYTES);
	arena_init(&c->tmp, LIMIT_CALL_BYTES);
	for (int i = 0; i < LIMIT_UPSTREAM_PARALLEL; i++)
		c->f[i].call = c, c->f[i].prod = -1;
	c->in_start = 1;
	if (!g_doc_ready)
		fail(c, "Out of memory: no room for the reply parser's tokens.");
	else if (make_authorization(c) == 0)
		begin(c);
	c->in_start = 0;
	if (c->finished_in_start) {
		free_call(c);
		return NULL;
	}
	return c;
}

static void kl_cancel(struct lt_op *c)
{
	free_call(c);
}

const struct lt_backend kling_backend = {kl_start, kl_cancel};

void kling_init(const struct config *cfg)
{
	g_cfg = cfg;
	if (!g_doc_ready && json_doc_init(&g_doc, LIMIT_JSON_TOKENS) == 0)
		g_doc_ready = 1;
	lt_set_backend(&kling_backend);
}

void kling_shutdown(void)
{
	if (g_doc_ready)
		json_doc_free(&g_doc);
	g_doc_ready = 0;
	free(g_spare);
	g_spare = NULL;
	arena_trim();
	jwt_wipe();
}
