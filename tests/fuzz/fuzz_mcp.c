/*
 * fuzz_mcp — JSON-RPC lines through the whole dispatcher (mcp_on_line:
 * jsonrpc framing, lifecycle, both protocol flows, batches, tools/list,
 * tools/call with list_tasks' argument checks, the call queue, deadlines,
 * cancellation), with a fake list_tasks backend instead of the network.
 *
 * Input: byte 0 chooses the call deadline (odd: 0 ms, so every deadline
 * fires on the next loop turn; even: 30 s); the rest is split at '\n' into
 * lines (a line "\xff" stands for one over LIMIT_LINE_BYTES). After each line
 * the loop turns twice, so queued calls start and timers fire.
 *
 * The fake backend picks its behaviour from the cursor's first byte, and
 * like every backend never answers inside start (0 ms timers): none or
 * other: a page; 'a' a page; 'e' an error text; 's' never answers (until
 * cancelled); 'b' an unusable result.
 *
 * Invariants: every output is one JSON object (or an array of them) with
 * "jsonrpc":"2.0", exactly one of result/error, and an id that is a string
 * or an integer when present; at the end of input every call is dropped,
 * every backend operation cancelled or answered, and no timer is left armed.
 */
#include "config.h"
#include "fuzz.h"
#include "json.h"
#include "loop.h"
#include "mcp.h"
#include "tool_list_tasks.h"

#include <string.h>

static struct json_doc OUT;
static struct config CFG;
static char KEY[] = "fuzz-api-key";

static void check_message(int t)
{
	FUZZ_ASSERT(json_type(&OUT, t) == JSON_OBJECT);
	FUZZ_ASSERT(json_streq(&OUT, json_get(&OUT, t, "jsonrpc"), "2.0"));
	int res = json_get(&OUT, t, "result"), err = json_get(&OUT, t, "error");
	FUZZ_ASSERT((res >= 0) != (err >= 0));
	int id = json_get(&OUT, t, "id");
	FUZZ_ASSERT(id < 0 || json_type(&OUT, id) == JSON_STRING || json_is_plain_int(&OUT, id));
	if (err >= 0) {
		int64_t code;
		FUZZ_ASSERT(json_int(&OUT, json_get(&OUT, err, "code"), &code) == 0);
		FUZZ_ASSERT(json_type(&OUT, json_get(&OUT, err, "message")) == JSON_STRING);
	}
}

static int output(const char *msg, size_t len)
{
	FUZZ_ASSERT(memchr(msg, '\n', len) == NULL);
	FUZZ_ASSERT(json_parse(&OUT, msg, len) == 0);
	if (json_type(&OUT, 0) == JSON_ARRAY) {
		FUZZ_ASSERT(json_count(&OUT, 0) > 0);
		for (int e = json_first(&OUT, 0); e >= 0; e = json_next(&OUT, e))
			check_message(e);
	} else {
		check_message(0);
	}
	return 0;
}

/* ---- the fake backend ---- */

#define MAX_OPS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS + 8)

struct kling_op {
	int used;
	struct loop_timer timer;
	kling_list_done_fn done;
	void *ctx;
	const struct kling_list_query *q;
};

static struct kling_op g_ops[MAX_OPS];
static int g_live;
static struct kling_task g_tasks[KLING_PAGE_SIZE_MAX];
static struct kling_output g_out;

static void answer_page(const struct kling_list_query *q, kling_list_done_fn done, void *ctx)
{
	static const char *const ids[] = {"a", "task-2", "\"3\"", "\xE5\xAD\x97"};
	for (int i = 0; i < q->page_size; i++) {
		struct kling_task *t = &g_tasks[i];
		memset(t, 0, sizeof *t);
		t->task_id = (struct kling_str){ids[i % 4], strlen(ids[i % 4])};
		t->status = q->status ? q->status : (enum kling_status)(1 + i % 4);
		t->created_ms = q->start_ms >= 0 ? q->start_ms : INT64_C(1795922400000) - i;
		t->updated_ms = q->end_ms;
		if (t->status == KLING_FAILED)
			t->status_message = (struct kling_str){"bad \x01\n\xE2\x80\xA8", 9};
		if (t->status == KLING_SUCCEED) {
			g_out.type = (struct kling_str){"video", 5};
			g_out.url = (struct kling_str){q->cursor, q->cursor_len};
			t->outputs = &g_out;
			t->noutputs = 1;
		}
	}
	struct kling_list_result r = {KLING_API_TASKS, q->page, q->page_size, q->page == 3 ? -1 : 137, q->page < 5,
			      {q->cursor, q->cursor_len}, g_tasks, (size_t)q->page_size};
	done(ctx, &r, NULL);
}

static void op_free(struct kling_op *op)
{
	loop_timer_clear(&op->timer);
	op->used = 0;
	g_live--;
}

/* Every answer but 's' (never) comes from a 0 ms timer: never from start. */
static void on_timer(void *arg)
{
	struct kling_op *op = arg;
	kling_list_done_fn done = op->done;
	void *ctx = op->ctx;
	const struct kling_list_query *q = op->q;
	char mode = q->cursor_len ? q->cursor[0] : 0;
	op_free(op);
	if (mode == 'e') {
		done(ctx, NULL, "Kling API error 1102: fake (request_id \"r\\1\").");
	} else if (mode == 'b') {
		struct kling_task t = {{"", 0}, KLING_SUCCEED, {0}, {0}, {0}, {0}, 0, 0, NULL, 0};
		struct kling_list_result r = {KLING_API_TASKS, 1, 1, -1, 0, {NULL, 0}, &t, 1};
		done(ctx, &r, NULL);
	} else {
		answer_page(q, done, ctx);
	}
}

static struct kling_op *fake_start(const struct kling_list_query *q, int64_t deadline_ms, kling_list_done_fn done,
				   void *ctx)
{
	(void)deadline_ms;
	FUZZ_ASSERT(q->page >= 1 && q->page_size >= 1 && q->page_size <= KLING_PAGE_SIZE_MAX);
	FUZZ_ASSERT(q->start_ms < 0 || q->end_ms < 0 || q->start_ms <= q->end_ms);
	FUZZ_ASSERT(q->cursor_len <= LIMIT_CURSOR_BYTES && strlen(q->cursor) <= q->cursor_len);
	char mode = q->cursor_len ? q->cursor[0] : 0;
	struct kling_op *op = NULL;
	for (int i = 0; i < MAX_OPS && !op; i++)
		if (!g_ops[i].used)
			op = &g_ops[i];
	FUZZ_ASSERT(op); /* more operations alive than calls can run */
	memset(op, 0, sizeof *op);
	op->used = 1;
	op->done = done;
	op->ctx = ctx;
	op->q = q;
	g_live++;
	if (mode != 's')
		loop_timer_set(&op->timer, loop_now_ms(), on_timer, op);
	return op;
}

static void fake_cancel(struct kling_op *op)
{
	FUZZ_ASSERT(op->used);
	op_free(op);
}

static const struct kling_backend FAKE = {fake_start, fake_cancel};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (json_doc_init(&OUT, LIMIT_JSON_TOKENS))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	memset(&CFG, 0, sizeof CFG);
	CFG.api_key = KEY;
	CFG.timeout_ms = fuzz_byte(&in) & 1 ? 0 : 30000;
	FUZZ_ASSERT(mcp_init(&CFG, output) == 0);
	kling_use_backend(&FAKE);
	const char *p = (const char *)in.p, *end = p + in.n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p == 1 && (unsigned char)*p == 0xFF)
			mcp_on_oversize(LIMIT_LINE_BYTES + 1);
		else
			mcp_on_line(p, (size_t)(le - p));
		loop_run_once(0);
		loop_run_once(0);
		p = nl ? nl + 1 : end;
	}
	mcp_drop_calls();
	FUZZ_ASSERT(mcp_calls_running() == 0 && mcp_calls_queued() == 0);
	FUZZ_ASSERT(g_live == 0);
	mcp_free();
	FUZZ_ASSERT(loop_pending() == 0);
	kling_use_backend(NULL);
	return 0;
}
