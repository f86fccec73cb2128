/* kling_list — see kling_list.h. */
#include "kling_list.h"

#include "arena.h"
#include "kling_config.h"
#include "iso8601.h"
#include "json.h"
#include "kling.h"
#include "kling_get.h"
#include "all_limits.h"
#include "kling_parse.h"
#include "log.h"
#include "loop.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURSOR_ECHO_MAX 60 /* bytes of a refused cursor quoted back */

static void *g_spare; /* the last call's state (about 30 KB), for the next */

/* A legacy product list being merged. */
struct product {
	const char *name;
	struct arena ar;       /* the current upstream page's tasks */
	struct kling_task *items;
	size_t n, idx;         /* items in the page, next one to merge */
	int next_page;         /* pageNum of the next fetch */
	int exhausted;         /* no fetch after the current page */
	int fetching;
	int answered;          /* a page of it came (HTTP 200) */
};

struct kling_op {
	const struct kling_list_query *q; /* &qc */
	struct kling_list_query qc; /* the query, with a cursor's filters applied */
	int page, page_size;
	kling_list_done_fn done;
	void *ctx;
	enum kling_api be;
	struct kling_call kc;
	struct loop_timer begin; /* the work starts from the loop */

	struct arena ar;       /* the result's tasks and strings */
	struct arena tmp;      /* the tasks backend's current reply */
	struct kling_task *res;
	size_t nres;
	int has_more;
	char next_cursor[LIMIT_CURSOR_BYTES + 1];
	int64_t total;

	int64_t skip;          /* tasks to pass over before the page starts */
	char kcursor[LIMIT_CURSOR_BYTES + 1]; /* tasks: Kling's cursor for the next request */

	struct product prods[CONFIG_MAX_PRODUCTS];
	int nprods;
	int n404;              /* legacy products skipped because they answered 404 */
	int legacy_size;       /* pageSize of every legacy request of this call */

	struct kling_req f[LIMIT_UPSTREAM_PARALLEL];
};

/* ---- the backend in use ---- */

static const struct kling_backend *g_backend = &kling_list_backend;

const struct kling_backend *kling_list_backend_get(void)
{
	return g_backend;
}

void kling_list_use_backend(const struct kling_backend *b)
{
	g_backend = b ? b : &kling_list_backend;
}

/* ---- finishing ---- */

static void free_call(struct kling_op *c)
{
	kling_req_cancel_all(c->f);
	loop_timer_clear(&c->begin);
	for (int i = 0; i < c->nprods; i++)
		arena_free(&c->prods[i].ar);
	arena_free(&c->ar);
	arena_free(&c->tmp);
	kling_call_end(&c->kc);
	kling_spare_put(&g_spare, c);
}

/* Hand the result (error NULL) or the error to the tool, then release c.
 * Always runs from the loop (a reply, a timer). */
static void finish(struct kling_op *c, const char *error)
{
	struct kling_list_result r = {
		.backend = c->be,
		.page = c->page,
		.page_size = c->page_size,
		.total = c->total,
		.has_more = c->has_more,
		.next_cursor = {c->next_cursor, strlen(c->next_cursor)},
		.tasks = c->res,
		.ntasks = c->nres,
	};
	c->done(c->ctx, error ? NULL : &r, error);
	free_call(c);
}

static void fail(struct kling_op *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct kling_op *c, const char *fmt, ...)
{
	char msg[KLING_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	kling_verrorf(msg, sizeof msg, "listing", fmt, ap);
	va_end(ap);
	finish(c, msg);
}

/* Copy t into the page. Returns 0, or -1 after failing c. */
static int add_task(struct kling_op *c, const struct kling_task *t)
{
	if (kling_parse_copy_task(&c->ar, t, &c->res[c->nres]) != 0) {
		fail(c, "Out of memory: the page's tasks exceed the per-call limit of %d bytes (LIMIT_CALL_BYTES).",
		     LIMIT_CALL_BYTES);
		return -1;
	}
	c->nres++;
	return 0;
}

/* ---- cursors ---- */

static const char backend_letter[] = {'?', 't', 'l', 's'};

int kling_list_cursor_format(const struct kcursor *k, char *out, size_t cap)
{
	char start[24] = "-", end[24] = "-";
	if (k->start_ms >= 0)
		snprintf(start, sizeof start, "%lld", (long long)k->start_ms);
	if (k->end_ms >= 0)
		snprintf(end, sizeof end, "%lld", (long long)k->end_ms);
	int n = snprintf(out, cap, "%c1.%d.%d.%d.%d.%s.%s.%.*s", k->backend, k->page, k->page_size, (int)k->status,
			 (int)k->product, start, end, (int)k->upstream_len, k->upstream ? k->upstream : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* A decimal field of s[*i..n) up to the next '.', within [lo, hi], or "-"
 * (-1) when dash is allowed. Advances *i past the dot. */
static int field(const char *s, size_t n, size_t *i, int64_t lo, int64_t hi, int dash, int64_t *out)
{
	size_t j = *i;
	if (dash && j + 1 < n && s[j] == '-' && s[j + 1] == '.') {
		*out = -1;
		*i = j + 2;
		return 0;
	}
	int64_t v = 0;
	size_t digits = 0;
	while (j < n && s[j] >= '0' && s[j] <= '9' && digits < 16) {
		v = v * 10 + (s[j++] - '0');
		digits++;
	}
	if (digits == 0 || j >= n || s[j] != '.' || v < lo || v > hi || (digits > 1 && s[*i] == '0'))
		return -1;
	*out = v;
	*i = j + 1;
	return 0;
}

int kling_list_cursor_parse(const char *s, size_t n, struct kcursor *k)
{
	if (n < 3 || (s[0] != 't' && s[0] != 'l' && s[0] != 's') || s[1] != '1' || s[2] != '.')
		return -1;
	for (size_t j = 0; j < n; j++)
		if ((unsigned char)s[j] < 0x20 || s[j] == 0x7F)
			return -1;
	size_t i = 3;
	int64_t page, size, st, pr, start, end;
	if (field(s, n, &i, 1, KLING_PAGE_MAX, 0, &page) || field(s, n, &i, 1, KLING_PAGE_SIZE_MAX, 0, &size) ||
	    field(s, n, &i, 0, KLING_FAILED, 0, &st) || field(s, n, &i, 0, KLING_TRY_ON, 0, &pr) ||
	    field(s, n, &i, 0, INT64_C(253402300799999), 1, &start) ||
	    field(s, n, &i, 0, INT64_C(253402300799999), 1, &end))
		return -1;
	k->backend = s[0];
	k->page = (int)page;
	k->page_size = (int)size;
	k->status = (enum kling_status)st;
	k->product = (enum kling_product)pr;
	k->start_ms = start;
	k->end_ms = end;
	k->upstream = s + i;
	k->upstream_len = n - i;
	if ((k->backend == 't') != (k->upstream_len > 0))
		return -1; /* only the tasks backend carries Kling's cursor, and always does */
	return 0;
}

/* next_cursor for the page after this one: everything that page needs. */
static void set_next_cursor(struct kling_op *c, const char *upstream, size_t len)
{
	struct kcursor k = {
		.backend = backend_letter[c->be], .page = c->page + 1, .page_size = c->page_size,
		.status = c->q->status, .product = c->q->product, .start_ms = c->q->start_ms,
		.end_ms = c->q->end_ms, .upstream = upstream, .upstream_len = len,
	};
	if (kling_list_cursor_format(&k, c->next_cursor, sizeof c->next_cursor) < 0)
		c->next_cursor[0] = 0; /* too long to hand out: page numbers still work */
}

/* A filter given both in the arguments and in the cursor must agree. */
static int conflicts(struct kling_op *c, const char *name, int64_t given, int64_t none, int64_t in_cursor)
{
	if (given == none || given == in_cursor)
		return 0;
	fail(c, "%s differs from the one the cursor was made with: pass next_cursor alone (it carries the "
		"filters of its listing), or leave cursor out to start a new listing.", name);
	return 1;
}

/* The first bytes of s[0..n) that can be quoted: at most CURSOR_ECHO_MAX,
 * never part of a UTF-8 character, stopping at a control character. */
static int echo_len(const char *s, size_t n)
{
	size_t m = n > CURSOR_ECHO_MAX ? CURSOR_ECHO_MAX : n;
	for (size_t i = 0; i < m; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F) {
			m = i;
			break;
		}
	if (m < n)
		while (m && ((unsigned char)s[m] & 0xC0) == 0x80)
			m--; /* s[m] continues a character: cut before it starts */
	return (int)m;
}

/* Apply q->cursor to c: page, page size, filters, Kling's cursor. Returns 0,
 * or -1 after failing the call. */
static int apply_cursor(struct kling_op *c)
{
	struct kcursor k;
	struct kling_list_query *q = &c->qc;
	if (kling_list_cursor_parse(q->cursor, q->cursor_len, &k) != 0 || k.backend != backend_letter[c->be]) {
		int m = echo_len(q->cursor, q->cursor_len);
		fail(c, "cursor \"%.*s%s\" was not made by this server's %s backend: pass the next_cursor of a "
			"previous list_tasks result unchanged, or leave cursor out and use page.",
		     m, q->cursor, (size_t)m < q->cursor_len ? "..." : "", kling_task_api_name(c->be));
		return -1;
	}
	if (conflicts(c, "status", q->status, KLING_STATUS_NONE, k.status) ||
	    conflicts(c, "product_type", q->product, KLING_PRODUCT_NONE, k.product) ||
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

static void tasks_send(struct kling_op *c)
{
	struct kling_req *f = &c->f[0];
	const struct kling_list_query *q = c->q;
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
	if (q->status != KLING_STATUS_NONE || q->product != KLING_PRODUCT_NONE) {
		json_w_key(&w, "filters");
		json_w_arr(&w);
		if (q->status != KLING_STATUS_NONE)
			write_filter(&w, "status", kling_status_word[q->status]);
		if (q->product != KLING_PRODUCT_NONE)
			write_filter(&w, "product_type", kling_task_product_name(q->product));
		json_w_arr_end(&w);
	}
	json_w_obj_end(&w);
	if (json_w_error(&w) != 0 || kling_req_path(f, "/tasks") != 0) {
		fail(c, "The request to the Kling API would be too large (cursor of %zu bytes).", strlen(c->kcursor));
		return;
	}
	json_w_data(&w, &f->body_len);
	kling_req_send(f);
}

static void tasks_on_page(struct kling_op *c, const struct kling_parse_page *p)
{
	size_t i = 0;
	for (; i < p->ntasks && c->skip > 0; i++)
		c->skip--;
	for (; i < p->ntasks && c->nres < (size_t)c->page_size; i++) {
		if (add_task(c, &p->tasks[i]) != 0)
			return;
	}
	int more = p->has_more && p->next_cursor.len > 0;
	if (c->nres < (size_t)c->page_size && more) {
		if (p->next_cursor.len > LIMIT_CURSOR_BYTES - 32) {
			fail(c, "The Kling API's cursor is longer than %d bytes (LIMIT_CURSOR_BYTES).",
			     LIMIT_CURSOR_BYTES - 32);
			return;
		}
		if (strlen(c->kcursor) == p->next_cursor.len &&
		    memcmp(c->kcursor, p->next_cursor.ptr, p->next_cursor.len) == 0) {
			fail(c, "The Kling API answered the cursor it was given with that same cursor as next_cursor: "
				"following it would fetch the same page forever, so the listing stopped (a fault of the "
				"service); try again later, or narrow with start_time/end_time.");
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

static int product_matches(const char *name, enum kling_product want)
{
	int tryon = strstr(name, "try-on") != NULL;
	switch (want) {
	case KLING_VIDEO:
		return strncmp(name, "videos/", 7) == 0;
	case KLING_IMAGE:
		return strncmp(name, "images/", 7) == 0 && !tryon;
	case KLING_TRY_ON:
		return tryon;
	default:
		return 1;
	}
}

/* Fetch the next page of product pi. Returns 1 when sent, 0 when every
 * slot is busy (legacy_step runs again when one frees), -1 when the call
 * failed (c is gone). */
static int legacy_fetch(struct kling_op *c, int pi)
{
	struct kling_req *f = kling_req_idle(c->f);
	if (!f)
		return 0;
	struct product *p = &c->prods[pi];
	f->tag = pi;
	f->body_len = 0;
	if (kling_req_path(f, "/v1/%s?pageNum=%d&pageSize=%d", p->name, p->next_page, c->legacy_size) != 0) {
		fail(c, "The request path for %s is too long.", p->name);
		return -1;
	}
	p->fetching = 1;
	kling_req_send(f);
	return 1;
}

/* The product whose next task is the newest, or -1 when all are drained. */
static int newest_head(const struct kling_op *c)
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
static int legacy_take(struct kling_op *c, struct product *p)
{
	const struct kling_task *t = &p->items[p->idx++];
	const struct kling_list_query *q = c->q;
	if (q->start_ms >= 0 && t->created_ms < q->start_ms) {
		p->idx = p->n; /* newest first: the rest of this list is older still */
		p->exhausted = 1;
		return 0;
	}
	if ((q->end_ms >= 0 && t->created_ms > q->end_ms) ||
	    (q->status != KLING_STATUS_NONE && t->status != q->status))
		return 0;
	if (c->skip > 0) {
		c->skip--;
		return 0;
	}
	if (c->nres == (size_t)c->page_size) {
		c->has_more = 1;
		return 1;
	}
	return add_task(c, t);
}

/* Every product list answered 404. */
static void legacy_all_404(struct kling_op *c)
{
	char msg[KLING_ERR_MAX];
	kling_legacy_all_404(msg, sizeof msg, c->n404, c->nprods, c->prods[0].name);
	fail(c, "%s", msg);
}

static void legacy_step(struct kling_op *c)
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
		if (c->nprods > 0 && c->n404 == c->nprods) {
			legacy_all_404(c);
			return;
		}
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

static void legacy_on_page(struct kling_op *c, struct kling_req *f, const struct json_doc *d, int data)
{
	struct product *p = &c->prods[f->tag];
	struct kling_parse_page pg;
	const char *why = NULL;
	arena_free(&p->ar);
	p->fetching = 0;
	p->answered = 1;
	if (kling_parse_legacy(d, data, p->name, &p->ar, &pg, &why) != 0) {
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
static void legacy_skip_product(struct kling_op *c, struct kling_req *f)
{
	struct product *p = &c->prods[f->tag];
	log_info("legacy product %s is not listed by this host (404); skipped", p->name);
	if (!p->answered)
		c->n404++;
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

static void seed_send(struct kling_op *c)
{
	struct kling_req *f = &c->f[0];
	char qs[256] = "", iso[ISO8601_LEN + 1];
	if (c->q->status != KLING_STATUS_NONE)
		qs_add(qs, sizeof qs, "status", kling_task_status_name(c->q->status));
	if (c->q->start_ms >= 0 && iso8601_format(c->q->start_ms, iso) > 0)
		qs_add(qs, sizeof qs, "start_time", iso);
	if (c->q->end_ms >= 0 && iso8601_format(c->q->end_ms, iso) > 0)
		qs_add(qs, sizeof qs, "end_time", iso);
	f->body_len = 0;
	if (kling_req_path(f, "/v1/task/list?page=%d&page_size=%d%s", c->page, c->page_size, qs) != 0) {
		fail(c, "The request path is too long.");
		return;
	}
	kling_req_send(f);
}

static void seed_on_page(struct kling_op *c, const struct kling_parse_page *p)
{
	for (size_t i = 0; i < p->ntasks && c->nres < (size_t)c->page_size; i++) {
		if (add_task(c, &p->tasks[i]) != 0)
			return;
	}
	c->total = p->total;
	c->has_more = p->total >= 0 ? (int64_t)c->page * c->page_size < p->total : p->ntasks >= (size_t)c->page_size;
	if (c->has_more)
		set_next_cursor(c, "", 0);
	finish(c, NULL);
}

/* ---- replies ---- */

static void on_reply(struct kling_req *f, const struct kling_reply *rep)
{
	struct kling_op *c = f->ctx;
	if (rep->error) {
		if (c->be == KLING_API_LEGACY && rep->http_status == 404 && (!rep->is_kling || rep->code == 1203))
			legacy_skip_product(c, f);
		else
			fail(c, "%s", rep->error);
		return;
	}
	if (c->be == KLING_API_LEGACY) {
		legacy_on_page(c, f, rep->doc, rep->data);
		return;
	}
	struct kling_parse_page p;
	const char *why = NULL;
	arena_free(&c->tmp);
	int r = c->be == KLING_API_TASKS ? kling_parse_tasks(rep->doc, rep->data, &c->tmp, &p, &why)
					 : kling_parse_seed(rep->doc, rep->data, &c->tmp, &p, &why);
	if (r != 0) {
		fail(c, "The Kling API's reply was not understood: %s.", why);
		return;
	}
	if (c->be == KLING_API_TASKS)
		tasks_on_page(c, &p);
	else
		seed_on_page(c, &p);
}

/* ---- start and cancel ---- */

static void legacy_begin(struct kling_op *c)
{
	const struct kling_config *cfg = kling_settings();
	for (int i = 0; i < cfg->nproducts; i++) {
		if (!product_matches(cfg->products[i], c->q->product))
			continue;
		struct product *p = &c->prods[c->nprods++];
		p->name = cfg->products[i];
		p->next_page = 1;
		arena_init(&p->ar, LIMIT_CALL_BYTES);
	}
	int64_t need = (int64_t)c->page * c->page_size + 1;
	c->legacy_size = need > 100 ? 100 : need < 10 ? 10 : (int)need;
	legacy_step(c);
}

/* The work, from the loop (a 0 ms timer set by start). */
static void begin(void *arg)
{
	struct kling_op *c = arg;
	char err[KLING_ERR_MAX];
	if (kling_call_begin(&c->kc, c->kc.deadline, err, sizeof err) != 0) {
		fail(c, "%s", err);
		return;
	}
	if (c->q->cursor_len && apply_cursor(c) != 0)
		return;
	int by_cursor = c->q->cursor_len && c->be == KLING_API_TASKS;
	c->skip = c->be == KLING_API_SEED || by_cursor ? 0 : (int64_t)(c->page - 1) * c->page_size;
	int64_t max_skip = c->be == KLING_API_TASKS ? LIMIT_TASKS_SKIP : LIMIT_LEGACY_SKIP;
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
	case KLING_API_LEGACY:
		legacy_begin(c);
		break;
	case KLING_API_SEED:
		seed_send(c);
		break;
	default:
		tasks_send(c);
		break;
	}
}

/* A zeroed call state (the last call's, or a new one) with the deadline,
 * the backend, the arenas, the request slots. NULL when out of memory. */
static struct kling_op *op_new(int64_t deadline_ms, void *ctx)
{
	struct kling_op *c = kling_spare_take(&g_spare, sizeof *c);
	if (!c)
		return NULL;
	c->kc.deadline = deadline_ms;
	c->ctx = ctx;
	c->be = kling_config_effective_backend(kling_settings());
	c->total = -1;
	arena_init(&c->ar, LIMIT_CALL_BYTES);
	arena_init(&c->tmp, LIMIT_CALL_BYTES);
	kling_req_slots(c->f, &c->kc, c->be, on_reply, c);
	return c;
}

static struct kling_op *list_start(const struct kling_list_query *q, int64_t deadline_ms, kling_list_done_fn done,
				   void *ctx)
{
	struct kling_op *c = op_new(deadline_ms, ctx);
	if (!c)
		return NULL;
	c->qc = *q;
	c->q = &c->qc;
	c->page = q->page;
	c->page_size = q->page_size;
	c->done = done;
	loop_timer_set(&c->begin, loop_now_ms(), begin, c); /* never answer from inside start */
	return c;
}

static void list_cancel(struct kling_op *c)
{
	free_call(c);
}

const struct kling_backend kling_list_backend = {list_start, list_cancel, kling_get_start, kling_get_cancel};

void kling_list_shutdown(void)
{
	free(g_spare);
	g_spare = NULL;
	arena_trim();
}
