/*
 * fake_backend — the list_tasks backend the tests use instead of the network,
 * shared by tests/lib/fake_server.c (the protocol and SDK suites' server),
 * tests/fuzz/fuzz_mcp.c and tests/fuzz/fuzz_listen.c. Header-only: include it once per program.
 *
 * Every answer comes from the loop (a 0 ms timer at least), never from inside
 * start. The behaviour is chosen by the call's cursor argument:
 *   (none), "page:N", other  a page of page_size tasks (total 137)
 *                            with unicode, quotes, backslashes and controls
 *   "a..." ("async")         the same page
 *   "delay:N"                the page after N ms; the first task's status_message
 *                            is "running=K" (operations running when it started)
 *   "s..." ("slow")          never answers (until cancelled)
 *   "e..." ("error")         an error text
 *   "huge"                   a result larger than LIMIT_RESPONSE_BYTES
 *   "b..." ("bad")           a result with a task status out of range
 * fake_verbose = 1 reports every cancel on stderr ("fake-backend: cancelled
 * <cursor>"). FAKE_CHECK(cond) (default: abort when false) checks the queries.
 */
#ifndef KLING_TEST_FAKE_BACKEND_H
#define KLING_TEST_FAKE_BACKEND_H

#include "all_limits.h"
#include "loop.h"
#include "kling_list.h"
#include "kling_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_CHECK
#define FAKE_CHECK(cond)                                                                                           \
	do {                                                                                                       \
		if (!(cond))                                                                                       \
			abort();                                                                                   \
	} while (0)
#endif

#define FAKE_MAX_OPS (LIMIT_CALL_SLOTS + 8)

struct kling_op {
	int used;
	struct loop_timer timer;
	kling_list_done_fn done;
	void *ctx;
	const struct kling_list_query *q;
	int running_at_start;
};

static struct kling_op fake_ops[FAKE_MAX_OPS];
static int fake_running; /* operations alive */
static int fake_verbose;

static const char FAKE_MSG[] = "Fehler: \"quota\" \\ \xC3\xBC" "berschritten\n\ttab\x01 \xE2\x80\x94 \xE5\xAD\x97 "
			       "\xF0\x9F\x98\x80 \xE2\x80\xA8 end";

static struct kling_task fake_tasks[KLING_PAGE_SIZE_MAX];
static struct kling_output fake_out[KLING_PAGE_SIZE_MAX];
static char fake_ids[KLING_PAGE_SIZE_MAX][32];
static char fake_note[64];
static char fake_cursor[32];

#define FAKE_STR(s) ((struct kling_str){(s), strlen(s)})

static void fake_answer_page(const struct kling_list_query *q, kling_list_done_fn done, void *ctx, int running)
{
	static const enum kling_status cycle[] = {KLING_SUCCEED, KLING_FAILED, KLING_PROCESSING, KLING_SUBMITTED};
	int page = q->page;
	if (q->cursor_len > 5 && memcmp(q->cursor, "page:", 5) == 0)
		page = atoi(q->cursor + 5);
	if (page < 1)
		page = 1;
	int n = q->page_size;
	for (int i = 0; i < n; i++) {
		struct kling_task *t = &fake_tasks[i];
		memset(t, 0, sizeof *t);
		snprintf(fake_ids[i], sizeof fake_ids[i], "task-%d-%d", page, i + 1);
		t->task_id = FAKE_STR(fake_ids[i]);
		t->status = q->status ? q->status : cycle[i % 4];
		t->task_type = FAKE_STR(i % 2 ? "image_generation" : "text2video");
		if (i % 3 != 2)
			t->model_name = FAKE_STR("kling-v2-1");
		if (i == 0)
			t->external_task_id = FAKE_STR("job-\"7\"");
		t->created_ms = INT64_C(1795922400000) - (int64_t)i * 60000;
		t->updated_ms = i % 2 ? 0 : t->created_ms + 61234;
		if (t->status == KLING_FAILED)
			t->status_message = FAKE_STR(FAKE_MSG);
		if (t->status == KLING_SUCCEED) {
			fake_out[i].type = FAKE_STR("video");
			fake_out[i].url = FAKE_STR("https://cdn.example/v.mp4?a=1&b=\"2\"");
			fake_out[i].watermark_url = FAKE_STR("https://cdn.example/v_wm.mp4");
			fake_out[i].duration = FAKE_STR("5.1");
			t->outputs = &fake_out[i];
			t->noutputs = 1;
		}
	}
	if (running >= 0 && n > 0) {
		snprintf(fake_note, sizeof fake_note, "running=%d", running);
		fake_tasks[0].status_message = FAKE_STR(fake_note);
	}
	struct kling_list_result r = {KLING_API_TASKS,	    page, q->page_size, 137, (int64_t)page * q->page_size < 137, {NULL, 0},
			      fake_tasks, (size_t)n};
	if (r.has_more) {
		snprintf(fake_cursor, sizeof fake_cursor, "page:%d", page + 1);
		r.next_cursor = FAKE_STR(fake_cursor);
	}
	done(ctx, &r, NULL);
}

static void fake_op_free(struct kling_op *op)
{
	loop_timer_clear(&op->timer);
	op->used = 0;
	fake_running--;
}

/* The answers that need no waiting: an error text, an unusable result, one
 * over the response limit, or a page. */
static void fake_answer_now(const struct kling_list_query *q, kling_list_done_fn done, void *ctx)
{
	char mode = q->cursor_len ? q->cursor[0] : 0;
	if (mode == 'e') {
		done(ctx, NULL, "Kling API error 1102: resource pack exhausted (request_id req-\"42\"). Hint: buy more.");
	} else if (mode == 'b') {
		struct kling_task t = {FAKE_STR("x"), (enum kling_status)9, {0}, {0}, {0}, {0}, 0, 0, NULL, 0};
		struct kling_list_result r = {KLING_API_TASKS, 1, 1, -1, 0, {NULL, 0}, &t, 1};
		done(ctx, &r, NULL);
	} else if (strcmp(q->cursor, "huge") == 0) {
		size_t n = (size_t)LIMIT_RESPONSE_BYTES / 2 + 1024;
		char *big = malloc(n);
		FAKE_CHECK(big);
		memset(big, '\x01', n); /* escapes to 6 bytes each: far over the limit */
		struct kling_task t = {FAKE_STR("huge"), KLING_FAILED, {big, n}, {0}, {0}, {0}, 0, 0, NULL, 0};
		struct kling_list_result r = {KLING_API_TASKS, 1, 1, 1, 0, {NULL, 0}, &t, 1};
		done(ctx, &r, NULL);
		free(big);
	} else {
		fake_answer_page(q, done, ctx, -1);
	}
}

static void fake_on_timer(void *arg)
{
	struct kling_op *op = arg;
	kling_list_done_fn done = op->done;
	void *ctx = op->ctx;
	const struct kling_list_query *q = op->q;
	int running = op->running_at_start;
	char mode = q->cursor_len ? q->cursor[0] : 0;
	int delayed = strncmp(q->cursor, "delay:", 6) == 0;
	fake_op_free(op);
	if (mode == 'a' || delayed)
		fake_answer_page(q, done, ctx, delayed ? running : -1);
	else
		fake_answer_now(q, done, ctx);
}

/* Never answers from here: every answer comes from the loop (a 0 ms timer at
 * least), as the backend interface promises. */
static struct kling_op *fake_start(const struct kling_list_query *q, int64_t deadline_ms, kling_list_done_fn done,
				   void *ctx)
{
	(void)deadline_ms;
	FAKE_CHECK(q->page >= 1 && q->page_size >= 1 && q->page_size <= KLING_PAGE_SIZE_MAX);
	FAKE_CHECK(q->start_ms < 0 || q->end_ms < 0 || q->start_ms <= q->end_ms);
	FAKE_CHECK(q->cursor_len <= LIMIT_CURSOR_BYTES && strlen(q->cursor) <= q->cursor_len);
	int delay = strncmp(q->cursor, "delay:", 6) == 0;
	struct kling_op *op = NULL;
	for (int i = 0; i < FAKE_MAX_OPS && !op; i++)
		if (!fake_ops[i].used)
			op = &fake_ops[i];
	FAKE_CHECK(op); /* more operations alive than calls can run */
	memset(op, 0, sizeof *op);
	op->used = 1;
	op->done = done;
	op->ctx = ctx;
	op->q = q;
	op->running_at_start = ++fake_running;
	if (delay)
		loop_timer_set(&op->timer, loop_now_ms() + atoi(q->cursor + 6), fake_on_timer, op);
	else if (q->cursor[0] != 's')
		loop_timer_set(&op->timer, loop_now_ms(), fake_on_timer, op);
	/* "slow": wait for cancel */
	return op;
}

static void fake_cancel(struct kling_op *op)
{
	FAKE_CHECK(op->used);
	if (fake_verbose)
		fprintf(stderr, "fake-backend: cancelled %s\n", op->q->cursor);
	fake_op_free(op);
}

static const struct kling_backend fake_backend = {fake_start, fake_cancel, NULL, NULL};

#endif
