/*
 * fuzz_kling_backend — a whole list_tasks call through the Kling backends
 * (kling.c: requests, the tasks cursor walk, the legacy merge of several
 * product lists fetched side by side, the seed shape, error replies, retries
 * and their limits, cancellation) with hostile replies from a fake HTTP
 * client (this file defines http_client_start and http_client_cancel, so http_client.c and the
 * network are not linked).
 *
 * Input: 7 bytes of query and configuration (backend, credential kind,
 * status, product, page, page size, time window, cursor, legacy products,
 * when to cancel), then the replies in order, each: a kind byte (transport
 * error or answer), a status byte, a Retry-After byte, a 2-byte length and
 * that many body bytes. When the replies run out the fake answers errors.
 *
 * Invariants: done is called exactly once (never after cancel) and only from
 * the loop or start; every request is well-formed (GET/POST, path under the
 * base path without spaces or controls, "Bearer ..." authorization, a JSON
 * body for POST) and there are at most LIMIT_UPSTREAM_REQUESTS of them; a
 * result passes tool_list_tasks_result_check, has at most page_size tasks, names the
 * backend, renders to valid JSON, and on the legacy backend (which filters
 * here) every task matches the status and time window asked for; when the
 * call ends no request is left in flight and no timer armed.
 */
#include "kling_config.h"
#include "fuzz.h"
#include "http_client.h"
#include "json.h"
#include "kling.h"
#include "all_limits.h"
#include "kling_list.h"
#include "loop.h"
#include "tool_list_tasks.h"

#include <string.h>

static struct json_doc OUT;
static struct kling_config CFG;
static char KEY[] = "fuzz-api-key-0123", AK[] = "fuzz-ak", SK[] = "fuzz-sk-secret";

/* ---- replies ---- */

static struct fuzz_in g_in;
static int g_requests, g_live;

struct http_op {
	int used;
	struct loop_timer t;
	http_done_fn done;
	void *ctx;
};

static struct http_op g_ops[LIMIT_UPSTREAM_PARALLEL + 1];

static const int STATUS[] = {200, 200, 200, 200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 503, 504, 200};

static void answer(void *arg)
{
	struct http_op *op = arg;
	op->used = 0;
	g_live--;
	if (!g_in.n) {
		op->done(op->ctx, NULL, "fake: no more replies");
		return;
	}
	unsigned kind = fuzz_byte(&g_in), st = fuzz_byte(&g_in), ra = fuzz_byte(&g_in);
	size_t len = fuzz_byte(&g_in);
	len |= (size_t)fuzz_byte(&g_in) << 8;
	if (len > g_in.n)
		len = g_in.n;
	char *body = malloc(len + 1); /* its own buffer, so a read past it is caught */
	FUZZ_ASSERT(body);
	memcpy(body, g_in.p, len);
	body[len] = 0;
	g_in.p += len;
	g_in.n -= len;
	if (kind % 8 == 7) {
		op->done(op->ctx, NULL, "fake: connection reset");
	} else {
		struct http_response r = {STATUS[st % 16], body, len, ra == 0 ? -1 : (int)(ra % 2), "application/json",
					  0};
		op->done(op->ctx, &r, NULL);
	}
	free(body);
}

static int clean_path(const char *p)
{
	if (strncmp(p, CFG.base_path, strlen(CFG.base_path)) != 0 || p[strlen(CFG.base_path)] != '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

struct http_op *http_client_start(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx)
{
	(void)deadline_ms;
	FUZZ_ASSERT(++g_requests <= LIMIT_UPSTREAM_REQUESTS);
	int post = strcmp(req->method, "POST") == 0;
	FUZZ_ASSERT(post || strcmp(req->method, "GET") == 0);
	FUZZ_ASSERT(strcmp(req->host, CFG.host) == 0 && req->port == CFG.port);
	FUZZ_ASSERT(clean_path(req->path));
	FUZZ_ASSERT(req->authorization && strncmp(req->authorization, "Bearer ", 7) == 0);
	if (CFG.api_key)
		FUZZ_ASSERT(strcmp(req->authorization + 7, CFG.api_key) == 0);
	else
		FUZZ_ASSERT(strchr(req->authorization, '.') != NULL); /* a JWT */
	if (post) {
		FUZZ_ASSERT(req->body && req->body_len > 0);
		FUZZ_ASSERT(json_parse(&OUT, req->body, req->body_len) == 0 && json_type(&OUT, 0) == JSON_OBJECT);
	} else {
		FUZZ_ASSERT(req->body_len == 0);
	}
	struct http_op *op = NULL;
	for (size_t i = 0; i < sizeof g_ops / sizeof *g_ops && !op; i++)
		if (!g_ops[i].used)
			op = &g_ops[i];
	FUZZ_ASSERT(op); /* more than LIMIT_UPSTREAM_PARALLEL in flight */
	memset(op, 0, sizeof *op);
	op->used = 1;
	op->done = done;
	op->ctx = ctx;
	g_live++;
	loop_timer_set(&op->t, loop_now_ms(), answer, op);
	return op;
}

void http_client_cancel(struct http_op *op)
{
	if (!op)
		return;
	FUZZ_ASSERT(op->used);
	loop_timer_clear(&op->t);
	op->used = 0;
	g_live--;
}

/* ---- the call ---- */

static struct kling_list_query Q;
static int g_done;

static void on_done(void *ctx, const struct kling_list_result *r, const char *error)
{
	(void)ctx;
	FUZZ_ASSERT(++g_done == 1);
	FUZZ_ASSERT((r == NULL) != (error == NULL));
	if (error) {
		FUZZ_ASSERT(*error && strlen(error) < 4096);
		return;
	}
	const char *why;
	FUZZ_ASSERT(tool_list_tasks_result_check(r, &why) == 0);
	FUZZ_ASSERT(r->ntasks <= (size_t)r->page_size && r->page_size <= KLING_PAGE_SIZE_MAX);
	FUZZ_ASSERT(r->backend == kling_config_effective_backend(&CFG));
	if (r->backend == KLING_API_LEGACY) {
		for (size_t i = 0; i < r->ntasks; i++) {
			const struct kling_task *t = &r->tasks[i];
			FUZZ_ASSERT(Q.status == KLING_STATUS_NONE || t->status == Q.status);
			FUZZ_ASSERT(Q.start_ms < 0 || t->created_ms >= Q.start_ms);
			FUZZ_ASSERT(Q.end_ms < 0 || t->created_ms <= Q.end_ms);
		}
	}
	FUZZ_ASSERT(!r->next_cursor.len || r->has_more);
	struct json_w w;
	json_w_init(&w, LIMIT_RESPONSE_BYTES);
	json_w_obj(&w);
	tool_list_tasks_render(&w, r, 1);
	json_w_obj_end(&w);
	FUZZ_ASSERT(json_w_error(&w) == 0);
	size_t n;
	const char *out = json_w_data(&w, &n);
	FUZZ_ASSERT(json_parse(&OUT, out, n) == 0);
	json_w_free(&w);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (json_doc_init(&OUT, LIMIT_JSON_TOKENS))
		abort();
	kling_init(&CFG);
	return 0;
}

static const char *const PRODUCTS[] = {"videos/text2video", "videos/image2video", "images/generations",
				       "images/kolors-virtual-try-on", "videos/omni-video", "videos/effects"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_in = (struct fuzz_in){data, size};
	unsigned b0 = fuzz_byte(&g_in), b1 = fuzz_byte(&g_in), b2 = fuzz_byte(&g_in), b3 = fuzz_byte(&g_in),
		 b4 = fuzz_byte(&g_in), b5 = fuzz_byte(&g_in), b6 = fuzz_byte(&g_in);

	memset(&CFG, 0, sizeof CFG);
	snprintf(CFG.host, sizeof CFG.host, "api.example");
	CFG.port = 443;
	if (b6 & 0x80)
		snprintf(CFG.base_path, sizeof CFG.base_path, "/prefix");
	CFG.backend = (enum kling_api)(1 + b0 % 3);
	if (b0 & 0x04) {
		CFG.access_key = AK;
		CFG.secret_key = SK;
	} else {
		CFG.api_key = KEY;
	}
	CFG.nproducts = 1 + (int)(b6 % 6);
	for (int i = 0; i < CFG.nproducts; i++)
		CFG.products[i] = PRODUCTS[i];
	CFG.timeout_ms = 900;

	memset(&Q, 0, sizeof Q);
	Q.status = (enum kling_status)((b0 >> 3) % 5);
	Q.product = (enum kling_product)((b0 >> 6) % 4);
	Q.page = b1 < 200 ? 1 + (int)(b1 % 4) : 1 + (int)b1 * 3;
	Q.page_given = b1 % 4 != 0;
	Q.page_size = 1 + (int)(b2 % KLING_PAGE_SIZE_MAX);
	Q.start_ms = b3 & 1 ? INT64_C(1795000000000) + (int64_t)(b3 >> 4) * 86400000 : -1;
	Q.end_ms = b3 & 2 ? INT64_C(1796000000000) - (int64_t)(b3 >> 5) * 86400000 : -1;
	static const char *const cursors[] = {"t.2.abc", "l.2.10", "s.3.5", "t.9.", "l.2.0", "x", "s.1.100",
					      "l.2147483647.100", "t.-1.x", "s.2.1x"};
	if (b4 % 4 == 1) {
		snprintf(Q.cursor, sizeof Q.cursor, "%s", cursors[(b4 >> 2) % 10]);
		Q.cursor_len = strlen(Q.cursor);
	}
	int cancel_after = b5 % 4 == 1 ? 1 + (int)(b5 >> 2) : 0;

	g_requests = g_live = g_done = 0;
	int64_t deadline = loop_now_ms() + CFG.timeout_ms;
	struct kling_op *op = kling_list_backend.list_start(&Q, deadline, on_done, NULL);
	FUZZ_ASSERT(op && g_done == 0); /* never answered inside start */
	{
		for (int turn = 1; !g_done; turn++) {
			if (turn == cancel_after) {
				kling_list_backend.cancel(op);
				break;
			}
			FUZZ_ASSERT(loop_pending() > 0); /* waiting on nothing would be a hang */
			FUZZ_ASSERT(turn < 100000);
			loop_run_once(0);
		}
	}
	FUZZ_ASSERT(g_done <= 1 && g_live == 0 && loop_pending() == 0);
	return 0;
}
