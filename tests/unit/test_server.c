/*
 * test_server — the real server core (server_run: wire + mcp + list_tasks)
 * behind a fake list_tasks backend, for the protocol and SDK suites. It is a
 * test program, never part of the product binary.
 *
 *   test_server           self-checks of the fake backend (PASS/FAIL lines)
 *   test_server --serve   an MCP server on stdin/stdout using the fake backend
 *
 * The fake backend's behaviour is chosen by the call's cursor argument:
 *   (none), "page:N"   an immediate page of page_size tasks (total 137) with
 *                      unicode, quotes, backslashes and control characters
 *   "async"            the same page, answered from the loop (0 ms timer)
 *   "delay:N"          the page after N ms; the first task's status_message
 *                      is "running=K" (operations running when it started)
 *   "slow"             never answers (for cancellation, deadline, queue)
 *   "error"            an error text
 *   "huge"             a result larger than LIMIT_RESPONSE_BYTES
 *   "bad"              a result with a task status out of range
 * Every cancel is reported on stderr as "fake-backend: cancelled <cursor>".
 */
#include "config.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "t.h"
#include "tool_list_tasks.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#define MAX_OPS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS + 8)

struct lt_op {
	int used;
	struct loop_timer timer;
	lt_done_fn done;
	void *ctx;
	const struct lt_query *q;
	int running_at_start;
};

static struct lt_op g_ops[MAX_OPS];
static int g_running;

static const char MSG[] = "Fehler: \"quota\" \\ \xC3\xBC" "berschritten\n\ttab\x01 \xE2\x80\x94 \xE5\xAD\x97 "
			  "\xF0\x9F\x98\x80 \xE2\x80\xA8 end";

static struct lt_task g_tasks[LT_PAGE_SIZE_MAX];
static struct lt_output g_out[LT_PAGE_SIZE_MAX];
static char g_ids[LT_PAGE_SIZE_MAX][32];
static char g_note[64];
static char g_cursor[32];

#define STR(s) ((struct lt_str){(s), strlen(s)})

static void answer_page(const struct lt_query *q, lt_done_fn done, void *ctx, int running)
{
	static const enum lt_status cycle[] = {LT_SUCCEED, LT_FAILED, LT_PROCESSING, LT_SUBMITTED};
	int page = q->page;
	if (q->cursor_len > 5 && memcmp(q->cursor, "page:", 5) == 0)
		page = atoi(q->cursor + 5);
	int n = q->page_size;
	for (int i = 0; i < n; i++) {
		struct lt_task *t = &g_tasks[i];
		memset(t, 0, sizeof *t);
		snprintf(g_ids[i], sizeof g_ids[i], "task-%d-%d", page, i + 1);
		t->task_id = STR(g_ids[i]);
		t->status = q->status ? q->status : cycle[i % 4];
		t->task_type = STR(i % 2 ? "image_generation" : "text2video");
		if (i % 3 != 2)
			t->model_name = STR("kling-v2-1");
		if (i == 0)
			t->external_task_id = STR("job-\"7\"");
		t->created_ms = INT64_C(1795922400000) - (int64_t)i * 60000;
		t->updated_ms = i % 2 ? 0 : t->created_ms + 61234;
		if (t->status == LT_FAILED)
			t->status_message = STR(MSG);
		if (t->status == LT_SUCCEED) {
			g_out[i].type = STR("video");
			g_out[i].url = STR("https://cdn.example/v.mp4?a=1&b=\"2\"");
			g_out[i].watermark_url = STR("https://cdn.example/v_wm.mp4");
			g_out[i].duration = STR("5.1");
			t->outputs = &g_out[i];
			t->noutputs = 1;
		}
	}
	if (running >= 0 && n > 0) {
		snprintf(g_note, sizeof g_note, "running=%d", running);
		g_tasks[0].status_message = STR(g_note);
	}
	struct lt_result r = {"tasks", page, q->page_size, 137, (int64_t)page * q->page_size < 137, {NULL, 0}, g_tasks, (size_t)n};
	if (r.has_more) {
		snprintf(g_cursor, sizeof g_cursor, "page:%d", page + 1);
		r.next_cursor = STR(g_cursor);
	}
	done(ctx, &r, NULL);
}

static void op_free(struct lt_op *op)
{
	loop_timer_clear(&op->timer);
	op->used = 0;
	g_running--;
}

static void on_timer(void *arg)
{
	struct lt_op *op = arg;
	lt_done_fn done = op->done;
	void *ctx = op->ctx;
	const struct lt_query *q = op->q;
	int running = op->running_at_start;
	int delayed = strncmp(q->cursor, "delay:", 6) == 0;
	op_free(op);
	answer_page(q, done, ctx, delayed ? running : -1);
}

static int is(const struct lt_query *q, const char *s)
{
	return strcmp(q->cursor, s) == 0;
}

static struct lt_op *fake_start(const struct lt_query *q, int64_t deadline_ms, lt_done_fn done, void *ctx)
{
	(void)deadline_ms;
	if (q->cursor_len == 0 || strncmp(q->cursor, "page:", 5) == 0) {
		answer_page(q, done, ctx, -1);
		return NULL;
	}
	if (is(q, "error")) {
		done(ctx, NULL, "Kling API error 1102: resource pack exhausted (request_id req-\"42\"). Hint: buy more.");
		return NULL;
	}
	if (is(q, "bad")) {
		struct lt_task t = {STR("x"), (enum lt_status)9, {0}, {0}, {0}, {0}, 0, 0, NULL, 0};
		struct lt_result r = {"tasks", 1, 1, -1, 0, {NULL, 0}, &t, 1};
		done(ctx, &r, NULL);
		return NULL;
	}
	if (is(q, "huge")) {
		size_t n = (size_t)LIMIT_RESPONSE_BYTES / 2 + 1024;
		char *big = malloc(n);
		memset(big, '\x01', n); /* escapes to 6 bytes each: far over the limit */
		struct lt_task t = {STR("huge"), LT_FAILED, {big, n}, {0}, {0}, {0}, 0, 0, NULL, 0};
		struct lt_result r = {"tasks", 1, 1, 1, 0, {NULL, 0}, &t, 1};
		done(ctx, &r, NULL);
		free(big);
		return NULL;
	}
	struct lt_op *op = NULL;
	for (int i = 0; i < MAX_OPS && !op; i++)
		if (!g_ops[i].used)
			op = &g_ops[i];
	if (!op)
		return NULL;
	memset(op, 0, sizeof *op);
	op->used = 1;
	op->done = done;
	op->ctx = ctx;
	op->q = q;
	op->running_at_start = ++g_running;
	if (is(q, "async"))
		loop_timer_set(&op->timer, loop_now_ms(), on_timer, op);
	else if (strncmp(q->cursor, "delay:", 6) == 0)
		loop_timer_set(&op->timer, loop_now_ms() + atoi(q->cursor + 6), on_timer, op);
	/* "slow" and anything else: wait for cancel */
	return op;
}

static void fake_cancel(struct lt_op *op)
{
	fprintf(stderr, "fake-backend: cancelled %s\n", op->q->cursor);
	op_free(op);
}

static const struct lt_backend g_fake = {fake_start, fake_cancel};

/* Self-checks run by the test runner (no arguments). */
static int g_got;
static const char *g_err;
static void catch_done(void *ctx, const struct lt_result *r, const char *error)
{
	(void)ctx;
	const char *why;
	g_err = error;
	g_got = r && lt_result_check(r, &why) == 0 ? (int)r->ntasks : -1;
}

static int self_check(void)
{
	t_plan(5);
	struct lt_query q;
	memset(&q, 0, sizeof q);
	q.page = 1;
	q.page_size = 100;
	g_got = -2;
	T_CHECK("fake/a full page is a valid result", fake_start(&q, 0, catch_done, NULL) == NULL && g_got == 100);
	q.status = LT_FAILED;
	q.page_size = 1;
	T_CHECK("fake/status filter", fake_start(&q, 0, catch_done, NULL) == NULL && g_got == 1);
	strcpy(q.cursor, "error");
	q.cursor_len = 5;
	g_err = NULL;
	fake_start(&q, 0, catch_done, NULL);
	T_CHECK("fake/error mode", g_err != NULL);
	strcpy(q.cursor, "slow");
	q.cursor_len = 4;
	struct lt_op *op = fake_start(&q, 0, catch_done, NULL);
	T_CHECK("fake/slow mode returns an op", op != NULL && g_running == 1);
	fflush(stdout);
	int saved = dup(2);
	int devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	fake_cancel(op);
	dup2(saved, 2);
	close(devnull);
	close(saved);
	T_CHECK("fake/cancel frees it", g_running == 0);
	return t_done();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return self_check();
	if (strcmp(argv[1], "--serve") != 0) {
		fprintf(stderr, "usage: %s [--serve]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct config cfg;
	config_load(&cfg);
	log_set_level(cfg.log_level);
	lt_set_backend(&g_fake);
	int rc = server_run(&cfg, -1);
	config_wipe(&cfg);
	return rc;
}
