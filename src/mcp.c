/* mcp — see mcp.h. */
#include "mcp.h"

#include "buf.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "text.h"
#include "mcp_tasks.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_NAME "kling-mcp"
#define SERVER_TITLE "Kling AI task list"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define META_RELATED_TASK "io.modelcontextprotocol/related-task"
#define META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"
#define EXT_TASKS "io.modelcontextprotocol/tasks"
#define JSONRPC_MISSING_CAPABILITY (-32021)
/* Cache hints of 2026-07-28: what we list never changes while the process
 * runs and holds nothing user-specific. */
#define CACHE_TTL_MS 3600000
#define CACHE_SCOPE "public"
/* A tool's error text is cut here so the answer always fits. */
#define ERROR_TEXT_MAX (64 * 1024)

static const char *const g_version_names[] = {NULL, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
					      "2026-07-28"};

const char *mcp_version_name(enum mcp_version v)
{
	return v > MCP_V_NONE && v <= MCP_V_2026_07_28 ? g_version_names[v] : NULL;
}

/* ---- state ---- */

enum flow { FLOW_NONE, FLOW_LEGACY, FLOW_MODERN };

/* QUEUED: waiting for a running slot; RUNNING: holding one; SLEEPING: a
 * wait between two steps (mcp_call_sleep), holding no running slot; ENDING:
 * a wait told to answer at once with what it has (no running slot either). */
enum call_state { C_FREE = 0, C_QUEUED, C_RUNNING, C_SLEEPING, C_ENDING };

struct batch {
	int used;
	int open;      /* its input is still being processed */
	int pending;   /* calls of this batch not answered yet */
	int count;     /* answers held */
	struct mcp_session *s;
	void *tag;
	struct buf out; /* "[" answer "," answer ... (bounded by batch_add) */
};

struct mcp_session {
	const struct mcp_sink *sink;
	void *ctx;
	enum flow flow;
	enum mcp_version version; /* negotiated (2025 flow) */
	int initialized;          /* notifications/initialized seen */
	int throttled;            /* output held up: start none of its waiting calls */
	int dropping;             /* cancelling without answering: batches are not sent */
	int running, queued;      /* its calls holding a running slot, and waiting for one */
	int plain;                /* its calls without a place in the wait pool */
	int waits;                /* its calls with one (mcp_call_sleep) */
	int cap;                  /* plain calls allowed: SESSION_CALLS or less */
	int wait_cap;             /* waits allowed: LIMIT_WAITS, or cap when the listener set one */
	int in_input;             /* inside mcp_session_input for in_tag */
	void *in_tag;
	int detached;             /* calls of 2025 tasks, answered already (in plain or waits) */
	int untagged;             /* messages tied to no input may be sent (tag NULL) */
	int streams;              /* an input's stream may stay open (subscriptions/listen) */
	int held_results, listens; /* requests held: tasks/result, subscriptions/listen */
};

struct mcp_call {
	enum call_state state;
	int started;            /* tool->start was called: cancel is owed */
	int wait;               /* holds a place in the wait pool (it slept once) */
	unsigned long seq;      /* order in the queue: arrival, or waking from a sleep */
	const struct mcp_tool *tool;
	struct mcp_session *s;
	void *tag;
	enum mcp_version version;
	struct batch *batch;
	struct jsonrpc_id id;   /* raw points into id_raw */
	char id_raw[LIMIT_ID_BYTES];
	char id_key[LIMIT_ID_BYTES + 1]; /* unescaped string id, or the integer's digits */
	size_t id_key_len;
	char progress[LIMIT_ID_BYTES];   /* params._meta.progressToken's JSON text */
	size_t progress_len;             /* 0: no token */
	int64_t deadline;                /* given to the tool; the backstop fires later */
	int64_t arrival;                 /* loop ms */
	int failed;                      /* answered with isError */
	char note[200];                  /* the last progress message, or the error text */
	struct mtask *task;              /* a 2025 task's call: answered already, detached */
	int modern_task;                 /* 2026: the request declared the tasks extension */
	int task_get;                    /* a 2026 tasks/get: the answer is a DetailedTask */
	int64_t task_created, task_wait_end;
	char task_id[MTASK_ID_MAX + 1];  /* task_get: the id asked for */
	struct loop_timer timer;
	alignas(max_align_t) unsigned char state_buf[MCP_TOOL_STATE_BYTES];
};

/* One slot more than can be busy (plain calls, and waits apart): prepare()
 * always has a place to write before the admission rule is applied
 * (validation errors come first). */
#define NSLOTS (LIMIT_CALL_SLOTS + LIMIT_WAITS + 1)
/* Most calls one session may hold, running and waiting. */
#define SESSION_CALLS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS)

static struct core {
	const struct mcp_settings *set;
	const struct tool_registry *reg;
	struct json_doc doc;
	struct json_w w; /* every message is built here, one at a time */
	unsigned long seq;
	size_t res_at;       /* where the result object S.w holds begins */
	int running, queued; /* calls holding a running slot, and waiting for one */
	int plain, waits;    /* calls admitted as plain ones, and holding a wait place */
	int hurry;           /* mcp_hurry was called: no call sleeps any more */
	/* Slots are taken from the front and only calls[0..ncalls) and
	 * batches[0..nbatches) were ever used: every walk stops there, so the
	 * pages of slots never needed (static storage, zero) are neither written
	 * nor read, and cost no memory. */
	int ncalls, nbatches;
	struct loop_timer pump;
	struct mcp_call calls[NSLOTS];
	struct batch batches[NSLOTS + 1];
} S;

#define NBATCHES ((int)(sizeof S.batches / sizeof *S.batches))

/* Requests answered later, outside any call: tasks/result until the task
 * ends, subscriptions/listen until the server stops. */
enum hold_kind { H_FREE, H_RESULT, H_LISTEN };

struct hold {
	struct mcp_session *s;
	void *tag;
	struct mtask *task;              /* H_RESULT */
	size_t id_key_len;
	struct jsonrpc_id id;            /* raw points into id_raw */
	enum hold_kind kind;
	char id_raw[LIMIT_ID_BYTES];
	char id_key[LIMIT_ID_BYTES + 1];
};

#define NHOLDS (LIMIT_TASK_WAITERS + LIMIT_LISTENS)
static struct hold g_holds[NHOLDS];
static int g_nholds; /* holds[0..g_nholds) were ever used */

/* ---- output ---- */

static void batch_add(struct batch *b, const char *p, size_t n);

/* Send (or hold in batch b) what S.w holds: an error answer with its code,
 * else code 0. */
static void emit(struct mcp_session *s, struct batch *b, void *tag, int code)
{
	size_t n;
	const char *p = json_w_data(&S.w, &n);
	if (json_w_error(&S.w)) { /* cannot happen for our own fixed-size messages */
		log_error("internal error: a response could not be built (%d)", json_w_error(&S.w));
		return;
	}
	if (b)
		batch_add(b, p, n);
	else if (s->sink->send(s->ctx, tag, p, n, code) < 0)
		log_debug("a response could not be queued");
	if (S.w.b.cap > ((size_t)1 << 20))
		json_w_free(&S.w); /* a big result's memory goes back; the maximum stays */
}

/* Where one input's answers go: its session, its batch (or NULL), its tag. */
struct dest {
	struct mcp_session *s;
	struct batch *b;
	void *tag;
};

static void send_error(const struct dest *d, const struct jsonrpc_id *id, int code, const char *message)
{
	json_w_reset(&S.w);
	jsonrpc_error(&S.w, id, code, message);
	emit(d->s, d->b, d->tag, code);
}

/* Open {"jsonrpc":"2.0","id":..,"result":{ and return the writer. */
static struct json_w *result_begin(const struct jsonrpc_id *id)
{
	json_w_reset(&S.w);
	jsonrpc_result_begin(&S.w, id);
	S.res_at = S.w.b.len;
	json_w_obj(&S.w);
	return &S.w;
}

/* Close the result S.w holds: its resultType (2026-07-28 on), the object,
 * the envelope. */
static void result_close(int modern)
{
	if (modern) {
		json_w_key(&S.w, "resultType");
		json_w_cstr(&S.w, "complete");
	}
	json_w_obj_end(&S.w);
	jsonrpc_result_end(&S.w);
}

static void result_end(const struct dest *d, int modern)
{
	result_close(modern);
	emit(d->s, d->b, d->tag, 0);
}

void mcp_write_text_open(struct json_w *w)
{
	json_w_key(w, "content");
	json_w_arr(w);
	json_w_obj(w);
	json_w_key(w, "type");
	json_w_cstr(w, "text");
	json_w_key(w, "text");
}

void mcp_write_tool_error(struct json_w *w, const char *text)
{
	size_t n = strlen(text);
	if (n > ERROR_TEXT_MAX)
		n = ERROR_TEXT_MAX;
	mcp_write_text_open(w);
	json_w_str(w, text, n);
	json_w_obj_end(w);
	json_w_arr_end(w);
	json_w_key(w, "isError");
	json_w_bool(w, 1);
}

static void send_tool_error(const struct dest *d, const struct jsonrpc_id *id, enum mcp_version v, const char *text)
{
	mcp_write_tool_error(result_begin(id), text);
	result_end(d, v >= MCP_V_2026_07_28);
}

/* ---- inputs and their tags ---- */

/* 1 while a call or a batch of session s still owes an answer to tag. */
static int tag_busy(const struct mcp_session *s, const void *tag)
{
	for (int i = 0; i < S.ncalls; i++)
		if (S.calls[i].state != C_FREE && !S.calls[i].task && S.calls[i].s == s && S.calls[i].tag == tag)
			return 1;
	for (int i = 0; i < S.nbatches; i++)
		if (S.batches[i].used && S.batches[i].s == s && S.batches[i].tag == tag)
			return 1;
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind != H_FREE && g_holds[i].s == s && g_holds[i].tag == tag)
			return 1;
	return 0;
}

/* After an answer owed to tag was sent or dropped. */
static void tag_settled(struct mcp_session *s, void *tag)
{
	if (s->dropping || (s->in_input && s->in_tag == tag) || !s->sink->input_done || tag_busy(s, tag))
		return;
	s->sink->input_done(s->ctx, tag);
}

/* ---- batches (protocol 2025-03-26) ---- */

static struct batch *batch_new(struct mcp_session *s, void *tag)
{
	for (int i = 0; i < NBATCHES; i++)
		if (!S.batches[i].used) {
			struct batch *b = &S.batches[i];
			if (i == S.nbatches)
				S.nbatches++;
			b->used = 1;
			b->open = 1;
			b->pending = b->count = 0;
			b->out.len = 0;
			b->out.max = SIZE_MAX; /* batch_add keeps it near BATCH_BYTES_MAX */
			b->s = s;
			b->tag = tag;
			return b;
		}
	return NULL;
}

static int batch_put(struct batch *b, const char *p, size_t n)
{
	return buf_append(&b->out, p, n);
}

/* Room for the answers' own bytes; past it each further answer is a short
 * -32603 error, so a batch's reply stays bounded. */
#define BATCH_BYTES_MAX ((size_t)LIMIT_RESPONSE_BYTES)

static void batch_add(struct batch *b, const char *p, size_t n)
{
	static const char too_big[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":"
				      "\"Internal error: the batch reply would pass LIMIT_RESPONSE_BYTES\"}}";
	if (b->out.len + n + 1 > BATCH_BYTES_MAX) {
		p = too_big;
		n = sizeof too_big - 1;
	}
	if (batch_put(b, b->count ? "," : "[", 1) < 0 || batch_put(b, p, n) < 0) {
		log_error("out of memory holding a batch reply");
		return;
	}
	b->count++;
}

static void batch_free(struct batch *b)
{
	b->used = 0;
	b->s = NULL;
	b->tag = NULL;
	if (b->out.cap > 65536)
		buf_free(&b->out);
	b->out.len = 0;
}

/* Send the batch's array once its input is processed and no call is pending;
 * a batch of only notifications sends nothing. */
static void batch_maybe_flush(struct batch *b)
{
	struct mcp_session *s = b->s;
	if (b->open || b->pending || s->dropping)
		return;
	void *tag = b->tag;
	if (b->count && batch_put(b, "]", 1) == 0 && s->sink->send(s->ctx, tag, b->out.p, b->out.len, 0) < 0)
		log_debug("a batch reply could not be queued");
	batch_free(b);
	tag_settled(s, tag);
}

/* ---- calls ---- */

static void pump(void *arg);

static void schedule_pump(void)
{
	if (S.queued && S.running < LIMIT_CONCURRENT_CALLS && !S.pump.armed)
		loop_timer_set(&S.pump, loop_now_ms(), pump, NULL);
}

/* Take c out of the running or waiting count it is in (a sleeping call is in neither). */
static void unslot(struct mcp_call *c)
{
	if (c->state == C_RUNNING) {
		S.running--;
		c->s->running--;
	} else if (c->state == C_QUEUED) {
		S.queued--;
		c->s->queued--;
	}
}

static void release(struct mcp_call *c)
{
	struct mcp_session *s = c->s;
	void *tag = c->tag;
	loop_timer_clear(&c->timer);
	unslot(c);
	if (c->wait) {
		S.waits--;
		s->waits--;
	} else {
		S.plain--;
		s->plain--;
	}
	struct batch *b = c->batch;
	int detached = c->task != NULL;
	if (detached) {
		s->detached--;
		if (c->task->work == c) /* cancelled while working (tasks/cancel, session gone) */
			c->task->work = NULL;
	}
	c->state = C_FREE;
	c->started = c->wait = 0;
	c->task = NULL;
	c->modern_task = c->task_get = 0;
	c->batch = NULL;
	c->s = NULL;
	c->tag = NULL;
	if (detached) {
		/* its request was answered with the task: no input is owed anything */
	} else if (b) {
		b->pending--;
		batch_maybe_flush(b);
	} else {
		tag_settled(s, tag);
	}
	schedule_pump();
}

static void on_deadline(void *arg);

/* c takes a running slot: the tool starts, or continues after a sleep. */
static void start_call(struct mcp_call *c)
{
	c->state = C_RUNNING;
	S.running++;
	c->s->running++;
	loop_timer_set(&c->timer, c->deadline + MCP_BACKSTOP_MS, on_deadline, c);
	if (c->started) {
		c->tool->resume(c, c->state_buf, NULL);
		return;
	}
	c->started = 1;
	int r = c->tool->start(c, c->state_buf, c->deadline);
	if (r < 0 && c->state == C_RUNNING) /* nothing started, nothing answered */
		mcp_call_fail(c, "Internal error: the tool could not start the request.");
}

/* Start c now when a running slot is free and nobody is ahead; else it waits its turn. */
static void run_or_queue(struct mcp_call *c)
{
	c->seq = ++S.seq;
	if (S.running < LIMIT_CONCURRENT_CALLS && S.queued == 0 && !c->s->throttled) {
		start_call(c);
		return;
	}
	c->state = C_QUEUED;
	S.queued++;
	c->s->queued++;
	loop_timer_set(&c->timer, c->deadline, on_deadline, c);
	schedule_pump();
}

static void pump(void *arg)
{
	(void)arg;
	while (S.running < LIMIT_CONCURRENT_CALLS && S.queued) {
		struct mcp_call *next = NULL;
		for (int i = 0; i < S.ncalls; i++) {
			struct mcp_call *c = &S.calls[i];
			if (c->state == C_QUEUED && !c->s->throttled && (!next || c->seq < next->seq))
				next = c;
		}
		if (!next) /* every waiting call's session is held up */
			break;
		S.queued--;
		next->s->queued--;
		start_call(next);
	}
}

/* A call that slept ends its wait now, without a running slot: the tool
 * answers with what it has (from inside resume). */
static void hurry_call(struct mcp_call *c, const char *why)
{
	unslot(c);
	c->state = C_ENDING;
	loop_timer_set(&c->timer, loop_now_ms() + MCP_BACKSTOP_MS, on_deadline, c); /* if it does not */
	c->tool->resume(c, c->state_buf, why);
}

static void on_wake(void *arg)
{
	struct mcp_call *c = arg;
	if (S.hurry || loop_now_ms() >= c->deadline)
		hurry_call(c, S.hurry ? "kling-mcp is stopping" : "its deadline came");
	else
		run_or_queue(c);
}

static int tool_index(const struct mcp_tool *tool)
{
	for (size_t i = 0; i < S.reg->n; i++)
		if (S.reg->tools[i] == tool)
			return (int)i;
	return -1;
}

/* A 2026 call that declared the tasks extension and would now wait: answer
 * with the task (its id carries everything a later tasks/get needs) and end
 * the call. Returns 0, or -1 when no id can be made (the wait goes on as a
 * plain one). */
static int become_task(struct mcp_call *c)
{
	struct mtask_ref r;
	char id[MTASK_ID_MAX + 1];
	r.key_len = c->tool->task_key(c->state_buf, r.key, sizeof r.key);
	r.tool = tool_index(c->tool);
	r.created = mtask_now();
	r.wait_end = r.created + (c->arrival + c->tool->extra_ms(c->state_buf) - loop_now_ms());
	if (r.key_len == 0 || mtask_id_make(&r, id, sizeof id) < 0)
		return -1;
	struct json_w *w = result_begin(&c->id);
	json_w_key(w, "resultType");
	json_w_cstr(w, "task");
	mtask_write(w, id, MT_WORKING, c->note, r.created, r.created, 1);
	json_w_obj_end(w);
	jsonrpc_result_end(w);
	emit(c->s, c->batch, c->tag, 0);
	c->tool->cancel(c, c->state_buf);
	release(c);
	return 0;
}

const char *mcp_call_sleep(struct mcp_call *c, int64_t at_ms)
{
	struct mcp_session *s = c->s;
	if (c->state != C_RUNNING)
		return "Internal error: only a running call can sleep.";
	if (c->modern_task && !S.hurry && become_task(c) == 0)
		return NULL;
	if (S.hurry)
		return "kling-mcp is stopping, so the wait ended early.";
	if (!c->wait && (S.waits >= LIMIT_WAITS || s->waits >= s->wait_cap)) {
		static char why[300];
		if (S.waits >= LIMIT_WAITS)
			snprintf(why, sizeof why,
				 "The wait was not kept: %d get_task calls are waiting in this server, for all its "
				 "clients, of at most %d (LIMIT_WAITS).",
				 S.waits, LIMIT_WAITS);
		else
			snprintf(why, sizeof why,
				 "The wait was not kept: %d get_task calls are waiting in this session, of at most %d "
				 "(LIMIT_LISTEN_SESSION_CALLS).",
				 s->waits, s->wait_cap);
		return why;
	}
	if (!c->wait) { /* from now on it counts in the wait pool, not against plain calls */
		c->wait = 1;
		S.waits++;
		s->waits++;
		S.plain--;
		s->plain--;
	}
	unslot(c);
	c->state = C_SLEEPING;
	loop_timer_set(&c->timer, at_ms < c->deadline ? at_ms : c->deadline, on_wake, c);
	schedule_pump();
	return NULL;
}

static void hold_free(struct hold *h);
static void answer_listen(struct hold *h);

void mcp_hurry(void)
{
	S.hurry = 1;
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind == H_LISTEN)
			answer_listen(&g_holds[i]);
	for (int i = 0; i < S.ncalls; i++) {
		struct mcp_call *c = &S.calls[i];
		if (c->wait && (c->state == C_SLEEPING || c->state == C_QUEUED))
			hurry_call(c, "kling-mcp is stopping");
		else if (c->wait && c->state == C_RUNNING) /* a step in progress: answer now if it can */
			c->tool->resume(c, c->state_buf, "kling-mcp is stopping");
	}
}

static void on_deadline(void *arg)
{
	struct mcp_call *c = arg;
	char text[320];
	if (c->state == C_QUEUED && c->wait) { /* a wait that found no running slot in time */
		hurry_call(c, "no running slot came free before its deadline");
		return;
	}
	if (c->state == C_RUNNING) {
		c->tool->cancel(c, c->state_buf);
		snprintf(text, sizeof text,
			 "%s did not finish within %s%d ms (KLING_TIMEOUT_MS) and was stopped. Nothing was changed; "
			 "try again, or raise KLING_TIMEOUT_MS if the network is slow.",
			 c->tool->name, c->tool->extra_ms && c->tool->extra_ms(c->state_buf) ? "its wait plus " : "",
			 S.set->timeout_ms);
	} else if (c->state == C_ENDING) { /* a tool that did not answer when hurried */
		c->tool->cancel(c, c->state_buf);
		snprintf(text, sizeof text, "Internal error: %s did not answer when its wait ended.", c->tool->name);
	} else if (c->s->throttled) {
		snprintf(text, sizeof text,
			 "%s waited %d ms (KLING_TIMEOUT_MS) without starting: earlier answers were still unread "
			 "(the client reads its output slowly); try again later.",
			 c->tool->name, S.set->timeout_ms);
	} else if (S.running > 0) {
		snprintf(text, sizeof text,
			 "%s waited %d ms (KLING_TIMEOUT_MS) behind %d running call%s without starting; try again "
			 "later.",
			 c->tool->name, S.set->timeout_ms, S.running, S.running == 1 ? "" : "s");
	} else {
		snprintf(text, sizeof text, "%s waited %d ms (KLING_TIMEOUT_MS) without starting; try again later.",
			 c->tool->name, S.set->timeout_ms);
	}
	mcp_call_fail(c, text);
}

struct json_w *mcp_call_result_begin(struct mcp_call *c)
{
	struct json_w *w = result_begin(&c->id);
	if (c->task) { /* kept for tasks/result, whose answer MUST carry it */
		json_w_key(w, "_meta");
		json_w_obj(w);
		json_w_key(w, META_RELATED_TASK);
		json_w_obj(w);
		json_w_key(w, "taskId");
		json_w_cstr(w, c->task->id);
		json_w_obj_end(w);
		json_w_obj_end(w);
	}
	return w;
}

/* Remember a status or error text (a task's statusMessage), cut. */
static void call_note(struct mcp_call *c, const char *text)
{
	size_t n = strlen(text), cut = n < sizeof c->note - 1 ? n : sizeof c->note - 1;
	while (cut < n && cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--; /* never inside a UTF-8 character */
	memmove(c->note, text, cut);
	c->note[cut] = 0;
}

static void answer_held_results(struct mtask *t);

/* A 2025 task's call answered: the result object S.w holds becomes the task's. */
static void task_answered(struct mcp_call *c)
{
	struct mtask *t = c->task;
	size_t n;
	const char *p = json_w_data(&S.w, &n);
	if (mtask_end(t, c->failed ? MT_FAILED : MT_COMPLETED, p + S.res_at, n - S.res_at - 1,
		      c->failed ? c->note : NULL, mtask_now()) < 0)
		mtask_note(t, "The result could not be kept (larger than LIMIT_TASK_RESULT_BYTES, or memory is short).",
			   mtask_now());
	answer_held_results(t);
}

/* A 2026 tasks/get's look-up answered: S.w becomes the DetailedTask, with
 * the result inline once the work ended or the wait is over. */
static void task_get_answered(struct mcp_call *c)
{
	size_t n, len;
	int64_t now = mtask_now();
	const char *p = json_w_data(&S.w, &n);
	len = n - S.res_at - 1; /* the envelope's closing brace */
	char *res = malloc(len ? len : 1);
	int done = c->failed || c->tool->task_done(c->state_buf) || now >= c->task_wait_end;
	if (!res) {
		json_w_reset(&S.w);
		jsonrpc_error(&S.w, &c->id, JSONRPC_INTERNAL_ERROR, "Internal error: out of memory");
		return;
	}
	memcpy(res, p + S.res_at, len);
	struct json_w *w = result_begin(&c->id);
	mtask_write(w, c->task_id, done ? MT_COMPLETED : MT_WORKING, c->note, c->task_created, now, 1);
	if (done) {
		json_w_key(w, "result");
		json_w_raw(w, res, len);
	}
	free(res);
	result_close(1);
}

/* Send what S.w holds as the call's answer, then free the call. */
static void call_answered(struct mcp_call *c)
{
	if (c->state == C_FREE) { /* a tool bug: answered after cancel, or twice */
		log_error("internal error: %s answered a call that was already finished", c->tool ? c->tool->name : "?");
		return;
	}
	if (c->task)
		task_answered(c);
	else if (c->task_get)
		task_get_answered(c);
	if (!c->task)
		emit(c->s, c->batch, c->tag, 0);
	release(c);
}

void mcp_call_result_end(struct mcp_call *c)
{
	result_close(c->version >= MCP_V_2026_07_28);
	int err = json_w_error(&S.w);
	if (err) { /* the call is still answered, so the client never waits forever */
		char text[200];
		if (err == JSON_W_E_FULL)
			snprintf(text, sizeof text,
				 "The result of %s is larger than %d bytes (LIMIT_RESPONSE_BYTES); ask for fewer tasks "
				 "with a smaller page_size.",
				 c->tool->name, LIMIT_RESPONSE_BYTES);
		else
			snprintf(text, sizeof text, "Internal error: the result of %s could not be written (%d).",
				 c->tool->name, err);
		c->failed = 1;
		call_note(c, text);
		mcp_write_tool_error(mcp_call_result_begin(c), text);
		result_close(c->version >= MCP_V_2026_07_28);
	}
	call_answered(c);
}

void mcp_call_fail(struct mcp_call *c, const char *text)
{
	c->failed = 1;
	call_note(c, text);
	mcp_write_tool_error(mcp_call_result_begin(c), text);
	result_close(c->version >= MCP_V_2026_07_28);
	call_answered(c);
}

void mcp_call_progress(struct mcp_call *c, int64_t progress, int64_t total, const char *message)
{
	if (message) { /* a task's statusMessage */
		call_note(c, message);
		if (c->task)
			mtask_note(c->task, c->note, mtask_now());
	}
	/* 2026 tasks carry no progress (statusMessage only); a 2025 task's goes
	 * on after its CreateTaskResult where a stream is open for it */
	if (c->state != C_RUNNING || !c->progress_len || c->modern_task || (c->task && !c->s->untagged))
		return;
	char buf[LIMIT_ID_BYTES + 1024];
	struct json_w w;
	json_w_init_fixed(&w, buf, sizeof buf);
	json_w_obj(&w);
	json_w_key(&w, "jsonrpc");
	json_w_cstr(&w, "2.0");
	json_w_key(&w, "method");
	json_w_cstr(&w, "notifications/progress");
	json_w_key(&w, "params");
	json_w_obj(&w);
	json_w_key(&w, "progressToken");
	json_w_raw(&w, c->progress, c->progress_len);
	json_w_key(&w, "progress");
	json_w_int(&w, progress);
	if (total >= 0) {
		json_w_key(&w, "total");
		json_w_int(&w, total);
	}
	if (message) {
		size_t n = strlen(message);
		json_w_key(&w, "message");
		json_w_str(&w, message, n < 512 ? n : 512);
	}
	json_w_obj_end(&w);
	json_w_obj_end(&w);
	size_t n;
	const char *p = json_w_data(&w, &n);
	if (!json_w_error(&w) && c->s->sink->send(c->s->ctx, c->tag, p, n, 0) < 0)
		log_debug("a progress notification could not be queued");
}

enum mcp_version mcp_call_version(const struct mcp_call *c)
{
	return c->version;
}

void *mcp_call_state(struct mcp_call *c)
{
	return c->state_buf;
}

int mcp_calls_running(void) { return S.running; }
int mcp_calls_queued(void) { return S.queued; }
int mcp_calls_waiting(void) { return S.waits; }

/* The comparable form of an id: a string's unescaped bytes, an integer's
 * digits. Returns 0, or -1 when it does not fit. */
static int id_key(const struct json_doc *d, int t, char *out, size_t cap, size_t *len)
{
	if (json_type(d, t) == JSON_STRING)
		return json_unescape(d, t, out, cap, len) == 0 ? 0 : -1;
	size_t n;
	const char *p = json_raw(d, t, &n);
	if (!json_is_plain_int(d, t) || n >= cap)
		return -1;
	memcpy(out, p, n);
	*len = n;
	return 0;
}

static struct mcp_call *find_call(const struct mcp_session *s, enum json_type type, const char *key, size_t len)
{
	enum jsonrpc_id_kind kind = type == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	for (int i = 0; i < S.ncalls; i++) {
		struct mcp_call *c = &S.calls[i];
		if (c->state != C_FREE && !c->task && c->s == s && c->id.kind == kind && c->id_key_len == len &&
		    memcmp(c->id_key, key, len) == 0)
			return c;
	}
	return NULL;
}

static void cancel_call(struct mcp_call *c)
{
	if (c->started) /* running, or a wait between two steps */
		c->tool->cancel(c, c->state_buf);
	release(c);
}

/* ---- methods ---- */

enum method {
	M_UNKNOWN,
	M_INITIALIZE,
	M_PING,
	M_TOOLS_LIST,
	M_TOOLS_CALL,
	M_DISCOVER,
	M_TASKS_GET,
	M_TASKS_RESULT,
	M_TASKS_CANCEL,
	M_TASKS_UPDATE,
	M_TASKS_LIST,
	M_LISTEN
};

static enum method lookup(int t)
{
	static const struct {
		const char *name;
		enum method m;
	} table[] = {{"initialize", M_INITIALIZE}, {"ping", M_PING}, {"tools/list", M_TOOLS_LIST},
		     {"tools/call", M_TOOLS_CALL}, {"server/discover", M_DISCOVER}, {"tasks/get", M_TASKS_GET},
		     {"tasks/result", M_TASKS_RESULT}, {"tasks/cancel", M_TASKS_CANCEL},
		     {"tasks/update", M_TASKS_UPDATE}, {"tasks/list", M_TASKS_LIST},
		     {"subscriptions/listen", M_LISTEN}};
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (json_streq(&S.doc, t, table[i].name))
			return table[i].m;
	return M_UNKNOWN;
}

/* Unescaped text of string t for quoting in messages and logs, cut to fit
 * out, with text.h's rule applied so that a NUL or a terminal escape shows
 * as what it is (\u0000); "" for a non-string. */
static const char *quote_name(int t, char *out, size_t cap)
{
	char raw[256];
	size_t n = json_unescape_prefix(&S.doc, t, raw, sizeof raw);
	text_clean(raw, n, out, cap);
	return out;
}

static void method_not_found(const struct jsonrpc_msg *m, const struct dest *d)
{
	char name[128], msg[200];
	snprintf(msg, sizeof msg, "Method not found: %s", quote_name(m->method, name, sizeof name));
	send_error(d, &m->id, JSONRPC_METHOD_NOT_FOUND, msg);
}

/* {} as the value of key (capabilities are declared by presence). */
static void write_empty(struct json_w *w, const char *key)
{
	json_w_key(w, key);
	json_w_obj(w);
	json_w_obj_end(w);
}

/* Tasks exist in 2025-11-25 (the tasks capability; no list: tasks are bound
 * to their session, not to an authorization context) and 2026-07-28 (the
 * extension). */
static void write_capabilities(struct json_w *w, enum mcp_version v)
{
	json_w_key(w, "capabilities");
	json_w_obj(w);
	json_w_key(w, "tools");
	json_w_obj(w);
	json_w_key(w, "listChanged");
	json_w_bool(w, 0);
	json_w_obj_end(w);
	if (v == MCP_V_2025_11_25) {
		json_w_key(w, "tasks");
		json_w_obj(w);
		write_empty(w, "cancel");
		json_w_key(w, "requests");
		json_w_obj(w);
		json_w_key(w, "tools");
		json_w_obj(w);
		write_empty(w, "call");
		json_w_obj_end(w);
		json_w_obj_end(w);
		json_w_obj_end(w);
	} else if (v == MCP_V_2026_07_28) {
		json_w_key(w, "extensions");
		json_w_obj(w);
		write_empty(w, EXT_TASKS);
		json_w_obj_end(w);
	}
	json_w_obj_end(w);
}

/* The project's page and icon, from the build (the Makefile's PROJECT_URL
 * and PROJECT_ICON); none when it gave none. */
#ifndef KLING_PROJECT_URL
#define KLING_PROJECT_URL ""
#endif
#ifndef KLING_PROJECT_ICON
#define KLING_PROJECT_ICON ""
#endif
static const char g_project_url[] = KLING_PROJECT_URL, g_project_icon[] = KLING_PROJECT_ICON;

/* Implementation: title from 2025-06-18, websiteUrl and icons from 2025-11-25. */
static void write_server_info(struct json_w *w, enum mcp_version v)
{
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, SERVER_NAME);
	json_w_key(w, "version");
	json_w_cstr(w, KLING_VERSION);
	if (v >= MCP_V_2025_06_18) {
		json_w_key(w, "title");
		json_w_cstr(w, SERVER_TITLE);
	}
	if (v >= MCP_V_2025_11_25 && g_project_url[0] != '\0') {
		json_w_key(w, "websiteUrl");
		json_w_cstr(w, g_project_url);
	}
	if (v >= MCP_V_2025_11_25 && g_project_icon[0] != '\0') {
		json_w_key(w, "icons");
		json_w_arr(w);
		json_w_obj(w);
		json_w_key(w, "src");
		json_w_cstr(w, g_project_icon);
		json_w_obj_end(w);
		json_w_arr_end(w);
	}
	json_w_obj_end(w);
}

static void write_supported(struct json_w *w)
{
	json_w_arr(w);
	for (int v = MCP_V_2026_07_28; v > MCP_V_NONE; v--)
		json_w_cstr(w, g_version_names[v]);
	json_w_arr_end(w);
}

static void do_initialize(const struct jsonrpc_msg *m, const struct dest *d)
{
	struct mcp_session *s = d->s;
	int pv = json_get(&S.doc, m->params, "protocolVersion");
	enum mcp_version v = MCP_V_2025_11_25; /* what we offer to any other version */
	for (int i = MCP_V_2024_11_05; i <= MCP_V_2025_11_25; i++)
		if (json_streq(&S.doc, pv, g_version_names[i]))
			v = (enum mcp_version)i;
	char client[64], asked[32];
	log_info("%s: client \"%s\" asked for \"%s\"; speaking %s",
		 s->flow == FLOW_LEGACY ? "initialize again (a new session; calls in progress still answer)"
					: "initialize",
		 quote_name(json_get(&S.doc, json_get(&S.doc, m->params, "clientInfo"), "name"), client, sizeof client),
		 quote_name(pv, asked, sizeof asked), g_version_names[v]);
	s->flow = FLOW_LEGACY;
	s->version = v;
	s->initialized = 0;

	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "protocolVersion");
	json_w_cstr(w, g_version_names[v]);
	write_capabilities(w, v);
	json_w_key(w, "serverInfo");
	write_server_info(w, v);
	json_w_key(w, "instructions");
	json_w_cstr(w, S.reg->instructions);
	result_end(d, 0);
}

static void do_ping(const struct jsonrpc_msg *m, const struct dest *d)
{
	result_begin(&m->id);
	result_end(d, 0);
}

static void do_discover(const struct jsonrpc_msg *m, const struct dest *d)
{
	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "supportedVersions");
	write_supported(w);
	write_capabilities(w, MCP_V_2026_07_28);
	json_w_key(w, "instructions");
	json_w_cstr(w, S.reg->instructions);
	json_w_key(w, "ttlMs");
	json_w_int(w, CACHE_TTL_MS);
	json_w_key(w, "cacheScope");
	json_w_cstr(w, CACHE_SCOPE);
	json_w_key(w, "_meta");
	json_w_obj(w);
	json_w_key(w, META_SERVERINFO);
	write_server_info(w, MCP_V_2026_07_28);
	json_w_obj_end(w);
	result_end(d, 1);
}

static void do_tools_list(const struct jsonrpc_msg *m, const struct dest *d, enum mcp_version v)
{
	int cursor = json_get(&S.doc, m->params, "cursor");
	if (cursor >= 0) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: unknown cursor (tools/list has a single page; omit cursor)");
		return;
	}
	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "tools");
	json_w_arr(w);
	for (size_t i = 0; i < S.reg->n; i++)
		S.reg->tools[i]->describe(w, v == MCP_V_2025_11_25 && S.reg->tools[i]->task_key);
	json_w_arr_end(w);
	if (v >= MCP_V_2026_07_28) {
		json_w_key(w, "ttlMs");
		json_w_int(w, CACHE_TTL_MS);
		json_w_key(w, "cacheScope");
		json_w_cstr(w, CACHE_SCOPE);
	}
	result_end(d, v >= MCP_V_2026_07_28);
}

static void unknown_tool(const struct jsonrpc_msg *m, const struct dest *d, int name)
{
	char q[100], msg[400];
	int n = snprintf(msg, sizeof msg, "Invalid params: unknown tool \"%s\" (this server has: ",
			 quote_name(name, q, sizeof q));
	for (size_t i = 0; i < S.reg->n && n > 0 && (size_t)n < sizeof msg; i++)
		n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s", i ? ", " : "", S.reg->tools[i]->name);
	if (n > 0 && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - (size_t)n, ")");
	send_error(d, &m->id, JSONRPC_INVALID_PARAMS, msg);
}

/* The one admission rule: plain calls (running or waiting their turn; a
 * get_task wait between look-ups is counted apart, in the wait pool), per
 * session and in all. Returns 1 with the refusal in err (the limit that
 * applied and its own numbers), else 0. */
static int admission_refused(const struct mcp_session *s, char *err, size_t cap)
{
	if (S.plain >= LIMIT_CALL_SLOTS && !(s->plain >= s->cap && s->cap < SESSION_CALLS)) {
		snprintf(err, cap,
			 "Too many calls at once%s: %d calls in progress, of at most %d (LIMIT_CALL_SLOTS: "
			 "LIMIT_CONCURRENT_CALLS %d running, LIMIT_QUEUED_CALLS %d waiting their turn); waiting "
			 "get_task calls are counted apart. Try again when earlier calls have answered.",
			 s->plain >= S.plain ? "" : " in this server, for all its clients", S.plain, LIMIT_CALL_SLOTS,
			 LIMIT_CONCURRENT_CALLS, LIMIT_QUEUED_CALLS);
		return 1;
	}
	if (s->plain >= s->cap) {
		snprintf(err, cap,
			 "Too many calls at once in this session: %d calls in progress, of at most %d "
			 "(LIMIT_LISTEN_SESSION_CALLS); waiting get_task calls are counted apart. Try again when "
			 "earlier calls have answered.",
			 s->plain, s->cap);
		return 1;
	}
	return 0;
}

/* The request's comparable id (the key find_call uses). Returns 0, or -1
 * after answering (the id is in use by a call in progress). */
static int request_key(const struct jsonrpc_msg *m, const struct dest *d, char *key, size_t *keylen)
{
	if (id_key(&S.doc, m->id_tok, key, LIMIT_ID_BYTES + 1, keylen) < 0) { /* cannot happen: jsonrpc checked it */
		send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, "Internal error: unusable id");
		return -1;
	}
	if (find_call(d->s, json_type(&S.doc, m->id_tok), key, *keylen)) {
		send_error(d, &m->id, JSONRPC_INVALID_REQUEST,
			   "Invalid Request: this id is already used by a call in progress");
		return -1;
	}
	return 0;
}

/* A free call slot with its state zeroed (never NULL: at most
 * LIMIT_CALL_SLOTS + LIMIT_WAITS are busy, by the admission rules; the first
 * free slot is at most S.ncalls, so no slot past the ones used is read). */
static struct mcp_call *call_slot(void)
{
	struct mcp_call *c = NULL;
	for (int i = 0; i < NSLOTS && !c; i++)
		if (S.calls[i].state == C_FREE)
			c = &S.calls[i];
	if (c - S.calls == S.ncalls)
		S.ncalls++;
	memset(c->state_buf, 0, sizeof c->state_buf);
	return c;
}

/* Fill the admitted call c of request m (its id key given) and count it. */
static void call_setup(struct mcp_call *c, const struct jsonrpc_msg *m, const struct dest *d, enum mcp_version v,
		       const struct mcp_tool *tool, const char *key, size_t keylen, int wait)
{
	struct mcp_session *s = d->s;
	c->tool = tool;
	c->s = s;
	c->tag = d->tag;
	c->version = v;
	c->started = c->failed = 0;
	c->note[0] = 0;
	c->wait = wait;
	if (wait) {
		S.waits++;
		s->waits++;
	} else {
		S.plain++;
		s->plain++;
	}
	memcpy(c->id_raw, m->id.raw, m->id.len);
	c->id.kind = m->id.kind;
	c->id.raw = c->id_raw;
	c->id.len = m->id.len;
	memcpy(c->id_key, key, keylen);
	c->id_key_len = keylen;
	c->progress_len = 0;
	int tok = json_get(&S.doc, json_get(&S.doc, m->params, "_meta"), "progressToken");
	enum json_type tt = json_type(&S.doc, tok);
	if (tt == JSON_STRING || tt == JSON_NUMBER) {
		size_t n;
		const char *raw = json_raw(&S.doc, tok, &n);
		if (n <= sizeof c->progress) {
			memcpy(c->progress, raw, n);
			c->progress_len = n;
		}
	}
	c->batch = d->b;
	if (d->b)
		d->b->pending++;
	c->arrival = loop_now_ms();
	c->deadline = c->arrival + S.set->timeout_ms + (tool->extra_ms ? tool->extra_ms(c->state_buf) : 0);
	memset(&c->timer, 0, sizeof c->timer);
}

/* The request's _meta client capabilities declare the tasks extension. */
static int declares_tasks(const struct jsonrpc_msg *m)
{
	int caps = json_get(&S.doc, json_get(&S.doc, m->params, "_meta"), META_CAPS);
	int ext = json_get(&S.doc, json_get(&S.doc, caps, "extensions"), EXT_TASKS);
	return json_type(&S.doc, ext) == JSON_OBJECT;
}

/* A 2025-11-25 tools/call with params.task: the task, answered now; the
 * call goes on detached. Returns -1 after answering with a refusal. */
static int task_create(struct mcp_call *c, const struct jsonrpc_msg *m, const struct dest *d)
{
	char err[400];
	int64_t now = mtask_now();
	struct mtask *t = mtask_new(d->s, now, err, sizeof err);
	if (!t) {
		send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err);
		return -1;
	}
	t->work = c;
	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "task");
	json_w_obj(w);
	mtask_write(w, t->id, MT_WORKING, NULL, now, now, 0);
	json_w_obj_end(w);
	result_end(d, 0);
	c->task = t;
	c->tag = NULL; /* its input is answered: nothing more goes to that stream */
	d->s->detached++;
	return 0;
}

static void do_tools_call(const struct jsonrpc_msg *m, const struct dest *d, enum mcp_version v)
{
	struct mcp_session *s = d->s;
	int name = json_get(&S.doc, m->params, "name");
	if (json_type(&S.doc, name) != JSON_STRING) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   name < 0 ? "Invalid params: tools/call needs params.name, the tool to call"
				    : "Invalid params: params.name must be a string");
		return;
	}
	const struct mcp_tool *tool = NULL;
	for (size_t i = 0; i < S.reg->n; i++)
		if (json_streq(&S.doc, name, S.reg->tools[i]->name))
			tool = S.reg->tools[i];
	if (!tool) {
		unknown_tool(m, d, name);
		return;
	}
	int args = json_get(&S.doc, m->params, "arguments");
	if (args >= 0 && json_type(&S.doc, args) != JSON_OBJECT) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: params.arguments must be an object");
		return;
	}
	/* params.task exists only in 2025-11-25 (2026-07-28 servers MUST ignore it) */
	int task = v == MCP_V_2025_11_25 ? json_get(&S.doc, m->params, "task") : -1;
	if (task >= 0 && json_type(&S.doc, task) != JSON_OBJECT) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: params.task must be an object");
		return;
	}
	if (task >= 0 && !tool->task_key) {
		send_error(d, &m->id, JSONRPC_METHOD_NOT_FOUND,
			   "This tool cannot run as a task (its execution.taskSupport is forbidden): call it without "
			   "params.task");
		return;
	}
	char key[LIMIT_ID_BYTES + 1];
	size_t keylen = 0;
	if (request_key(m, d, key, &keylen) < 0)
		return;
	struct mcp_call *c = call_slot();
	char err[2048];
	err[0] = 0;
	if (tool->prepare(&S.doc, args, c->state_buf, err, sizeof err) < 0) {
		send_tool_error(d, &m->id, v, err[0] ? err : "Invalid arguments.");
		return;
	}
	/* a call that will wait takes a place in the wait pool from the start
	 * when there is one; otherwise it is a plain call (and answers after its
	 * first step, saying why it could not wait) */
	int wait = tool->resume && tool->extra_ms && tool->extra_ms(c->state_buf) > 0 && !S.hurry &&
		   S.waits < LIMIT_WAITS && s->waits < s->wait_cap;
	if (!wait && admission_refused(s, err, sizeof err)) {
		send_tool_error(d, &m->id, v, err);
		return;
	}
	call_setup(c, m, d, v, tool, key, keylen, wait);
	c->modern_task = v >= MCP_V_2026_07_28 && tool->task_key && declares_tasks(m);
	if (task >= 0 && task_create(c, m, d) < 0) {
		release(c);
		return;
	}
	run_or_queue(c);
}

/* ---- tasks and subscriptions: requests answered later ---- */

static void hold_free(struct hold *h)
{
	struct mcp_session *s = h->s;
	void *tag = h->tag;
	if (h->kind == H_RESULT)
		s->held_results--;
	else
		s->listens--;
	h->kind = H_FREE;
	h->s = NULL;
	h->task = NULL;
	tag_settled(s, tag);
}

/* Hold request m (kind) to answer later; NULL when none is free (kind's
 * limits: the caller checked the per-session ones). */
static struct hold *hold_new(enum hold_kind kind, const struct jsonrpc_msg *m, const struct dest *d)
{
	struct hold *h = NULL;
	int n = 0;
	for (int i = 0; i < g_nholds; i++)
		n += g_holds[i].kind == kind;
	if (n >= (kind == H_RESULT ? LIMIT_TASK_WAITERS : LIMIT_LISTENS))
		return NULL;
	for (int i = 0; i < NHOLDS && !h; i++)
		if (g_holds[i].kind == H_FREE)
			h = &g_holds[i];
	if (!h || id_key(&S.doc, m->id_tok, h->id_key, sizeof h->id_key, &h->id_key_len) < 0)
		return NULL;
	if (h - g_holds == g_nholds)
		g_nholds++;
	h->kind = kind;
	h->s = d->s;
	h->tag = d->tag;
	memcpy(h->id_raw, m->id.raw, m->id.len);
	h->id.kind = m->id.kind;
	h->id.raw = h->id_raw;
	h->id.len = m->id.len;
	if (kind == H_RESULT)
		d->s->held_results++;
	else
		d->s->listens++;
	return h;
}

/* tasks/result's answer for the ended task t into S.w: exactly its call's
 * answer (with the related-task _meta), or why it has none. Returns the
 * answer's error code (0 for a result), for the sink. */
static int write_task_result(const struct jsonrpc_id *id, const struct mtask *t)
{
	json_w_reset(&S.w);
	if (t->result) {
		jsonrpc_result_begin(&S.w, id);
		json_w_raw(&S.w, t->result, t->result_len);
		jsonrpc_result_end(&S.w);
		return 0;
	}
	jsonrpc_error(&S.w, id, JSONRPC_INTERNAL_ERROR, t->message);
	return JSONRPC_INTERNAL_ERROR;
}

static void answer_held_results(struct mtask *t)
{
	for (int i = 0; i < g_nholds; i++) {
		struct hold *h = &g_holds[i];
		if (h->kind == H_RESULT && h->task == t) {
			emit(h->s, NULL, h->tag, write_task_result(&h->id, t));
			hold_free(h);
		}
	}
}

static void answer_listen(struct hold *h)
{
	struct json_w *w = result_begin(&h->id);
	json_w_key(w, "_meta");
	json_w_obj(w);
	json_w_key(w, META_SUBSCRIPTION);
	json_w_raw(w, h->id.raw, h->id.len);
	json_w_obj_end(w);
	result_close(1);
	emit(h->s, NULL, h->tag, 0);
	hold_free(h);
}

/* params.taskId into out (NUL-terminated). Returns 0, or -1 after answering -32602. */
static int task_id_param(const struct jsonrpc_msg *m, const struct dest *d, char *out, size_t cap, size_t *n)
{
	int t = json_get(&S.doc, m->params, "taskId");
	if (json_type(&S.doc, t) == JSON_STRING && json_unescape(&S.doc, t, out, cap - 1, n) == 0) {
		out[*n] = 0;
		return 0;
	}
	send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
		   t < 0 ? "Invalid params: params.taskId is missing" : "Failed to retrieve task: Task not found");
	return -1;
}

/* tasks/get, tasks/result, tasks/cancel of 2025-11-25: the session's tasks. */
static void do_task(const struct jsonrpc_msg *m, const struct dest *d, enum method meth)
{
	char id[MTASK_ID_MAX + 1];
	size_t n;
	int64_t now = mtask_now();
	if (task_id_param(m, d, id, sizeof id, &n) < 0)
		return;
	struct mtask *t = mtask_find(d->s, id, n, now);
	if (!t) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Failed to retrieve task: Task not found (or expired: tasks are kept for their ttl)");
		return;
	}
	if (meth == M_TASKS_RESULT && t->status == MT_WORKING) { /* answered when it ends */
		struct hold *h = hold_new(H_RESULT, m, d);
		if (h)
			h->task = t;
		else
			send_error(d, &m->id, JSONRPC_INTERNAL_ERROR,
				   "Too many tasks/result requests waiting (LIMIT_TASK_WAITERS); poll tasks/get instead");
		return;
	}
	if (meth == M_TASKS_RESULT) {
		emit(d->s, d->b, d->tag, write_task_result(&m->id, t));
		return;
	}
	if (meth == M_TASKS_CANCEL) {
		if (t->status != MT_WORKING) {
			send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Cannot cancel a task that has already ended");
			return;
		}
		if (t->work)
			cancel_call(t->work);
		static const char text[] = "The task was cancelled (tasks/cancel) before it ended.";
		char buf[512];
		struct json_w w;
		json_w_init_fixed(&w, buf, sizeof buf);
		json_w_obj(&w);
		json_w_key(&w, "_meta");
		json_w_obj(&w);
		json_w_key(&w, META_RELATED_TASK);
		json_w_obj(&w);
		json_w_key(&w, "taskId");
		json_w_cstr(&w, t->id);
		json_w_obj_end(&w);
		json_w_obj_end(&w);
		mcp_write_tool_error(&w, text);
		json_w_obj_end(&w);
		size_t len;
		const char *p = json_w_data(&w, &len);
		mtask_end(t, MT_CANCELLED, p, len, text, now);
		answer_held_results(t);
	}
	struct json_w *w = result_begin(&m->id);
	mtask_write(w, t->id, t->status, t->message, t->created, t->updated, 0);
	result_end(d, 0);
}

static void missing_tasks_capability(const struct jsonrpc_msg *m, const struct dest *d)
{
	json_w_reset(&S.w);
	jsonrpc_error_begin(&S.w, &m->id, JSONRPC_MISSING_CAPABILITY,
			    "Missing required client capability: declare the extension " EXT_TASKS
			    " in params._meta[\"" META_CAPS "\"].extensions");
	json_w_key(&S.w, "data");
	json_w_obj(&S.w);
	json_w_key(&S.w, "requiredCapabilities");
	json_w_obj(&S.w);
	json_w_key(&S.w, "extensions");
	json_w_obj(&S.w);
	write_empty(&S.w, EXT_TASKS);
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	jsonrpc_error_end(&S.w);
	emit(d->s, d->b, d->tag, JSONRPC_MISSING_CAPABILITY);
}

/* tasks/get, tasks/update, tasks/cancel of 2026-07-28: the id is verified;
 * get looks the work up again, the others are acknowledged (no state:
 * cancelling is cooperative, and nothing of ours ever needs input). */
static void do_task_modern(const struct jsonrpc_msg *m, const struct dest *d, enum method meth)
{
	char id[MTASK_ID_MAX + 1];
	size_t n;
	struct mtask_ref r;
	const char *why;
	if (task_id_param(m, d, id, sizeof id, &n) < 0)
		return;
	int bad = mtask_id_read(id, n, mtask_now(), &r, &why) < 0;
	if (!bad && ((size_t)r.tool >= S.reg->n || !S.reg->tools[r.tool]->task_lookup)) {
		bad = 1;
		why = "not a task id of this server";
	}
	if (bad) {
		char msg[160];
		snprintf(msg, sizeof msg, "Failed to retrieve task: Task not found (%s)", why);
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS, msg);
		return;
	}
	if (meth != M_TASKS_GET) {
		result_begin(&m->id);
		result_end(d, 1);
		return;
	}
	const struct mcp_tool *tool = S.reg->tools[r.tool];
	char key[LIMIT_ID_BYTES + 1], err[400];
	size_t keylen;
	if (request_key(m, d, key, &keylen) < 0)
		return;
	struct mcp_call *c = call_slot();
	err[0] = 0;
	if (tool->task_lookup(c->state_buf, r.key, r.key_len, err, sizeof err) < 0 ||
	    admission_refused(d->s, err, sizeof err)) {
		send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err[0] ? err : "Internal error");
		return;
	}
	call_setup(c, m, d, MCP_V_2026_07_28, tool, key, keylen, 0);
	c->task_get = 1;
	c->task_created = r.created;
	c->task_wait_end = r.wait_end;
	memcpy(c->task_id, id, n + 1);
	run_or_queue(c);
}

/* subscriptions/listen: nothing of ours ever changes (no list_changed, no
 * resources, no task notifications), so the acknowledgement accepts no
 * notification at all; the request is then held open until the client
 * cancels it (stdio: notifications/cancelled; HTTP: closing the stream) or
 * the server stops (answered resultType "complete"). */
static void do_listen(const struct jsonrpc_msg *m, const struct dest *d)
{
	int ids = json_get(&S.doc, json_get(&S.doc, m->params, "notifications"), "taskIds");
	if (json_type(&S.doc, ids) == JSON_ARRAY && json_count(&S.doc, ids) > 0 && !declares_tasks(m)) {
		missing_tasks_capability(m, d);
		return;
	}
	struct hold *h = d->s->listens < LIMIT_SESSION_LISTENS && !S.hurry ? hold_new(H_LISTEN, m, d) : NULL;
	if (!h) {
		char err[200];
		snprintf(err, sizeof err,
			 "Too many subscriptions/listen streams open: at most %d per client (LIMIT_SESSION_LISTENS) "
			 "and %d in all (LIMIT_LISTENS)%s",
			 LIMIT_SESSION_LISTENS, LIMIT_LISTENS, S.hurry ? ", and the server is stopping" : "");
		send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err);
		return;
	}
	json_w_reset(&S.w);
	json_w_obj(&S.w);
	json_w_key(&S.w, "jsonrpc");
	json_w_cstr(&S.w, "2.0");
	json_w_key(&S.w, "method");
	json_w_cstr(&S.w, "notifications/subscriptions/acknowledged");
	json_w_key(&S.w, "params");
	json_w_obj(&S.w);
	json_w_key(&S.w, "_meta");
	json_w_obj(&S.w);
	json_w_key(&S.w, META_SUBSCRIPTION);
	json_w_raw(&S.w, m->id.raw, m->id.len);
	json_w_obj_end(&S.w);
	write_empty(&S.w, "notifications");
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	emit(d->s, NULL, d->tag, 0);
}

/* The 2026-07-28 per-request metadata. Returns 0, or -1 after answering. */
static int check_modern(const struct jsonrpc_msg *m, const struct dest *d)
{
	int meta = json_get(&S.doc, m->params, "_meta");
	int pv = json_get(&S.doc, meta, META_VERSION);
	if (json_type(&S.doc, pv) != JSON_STRING) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   pv < 0 ? "Invalid params: missing params._meta[\"" META_VERSION
				    "\"] (send initialize first to use protocol 2025-11-25 or earlier)"
				  : "Invalid params: params._meta[\"" META_VERSION "\"] must be a string");
		return -1;
	}
	if (!json_streq(&S.doc, pv, g_version_names[MCP_V_2026_07_28])) {
		char asked[40], msg[160];
		snprintf(msg, sizeof msg, "Unsupported protocol version \"%s\"", quote_name(pv, asked, sizeof asked));
		json_w_reset(&S.w);
		jsonrpc_error_begin(&S.w, &m->id, JSONRPC_UNSUPPORTED_VERSION, msg);
		json_w_key(&S.w, "data");
		json_w_obj(&S.w);
		json_w_key(&S.w, "supported");
		write_supported(&S.w);
		json_w_key(&S.w, "requested");
		size_t n;
		const char *raw = json_raw(&S.doc, pv, &n);
		json_w_raw(&S.w, raw, n);
		json_w_obj_end(&S.w);
		jsonrpc_error_end(&S.w);
		emit(d->s, d->b, d->tag, JSONRPC_UNSUPPORTED_VERSION);
		return -1;
	}
	if (json_type(&S.doc, json_get(&S.doc, meta, META_CAPS)) != JSON_OBJECT) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: params._meta[\"" META_CAPS "\"] must be an object");
		return -1;
	}
	return 0;
}

static void handle_request(const struct jsonrpc_msg *m, const struct dest *d)
{
	struct mcp_session *s = d->s;
	enum method meth = lookup(m->method);
	if (meth != M_UNKNOWN && m->params >= 0 && json_type(&S.doc, m->params) != JSON_OBJECT) {
		send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: MCP params must be an object");
		return;
	}
	int modern_meta = json_get(&S.doc, json_get(&S.doc, m->params, "_meta"), META_VERSION) >= 0;
	int modern_checked = 0;

	switch (s->flow) {
	case FLOW_NONE:
		switch (meth) {
		case M_INITIALIZE:
			do_initialize(m, d);
			return;
		case M_DISCOVER:
			if (!modern_meta || check_modern(m, d) == 0)
				do_discover(m, d);
			return;
		case M_PING:
			do_ping(m, d);
			return;
		case M_UNKNOWN:
			method_not_found(m, d);
			return;
		default:
			if (!modern_meta) {
				send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
					   "Invalid params: send initialize first (protocol 2025-11-25 and earlier), or "
					   "carry params._meta[\"" META_VERSION "\"] and [\"" META_CAPS
					   "\"] (protocol 2026-07-28)");
				return;
			}
			/* the flow is decided only by a request that is valid in it,
			 * so a client refused here may still fall back to initialize */
			if (check_modern(m, d) < 0)
				return;
			log_info("speaking protocol 2026-07-28 (per-request metadata)");
			s->flow = FLOW_MODERN;
			modern_checked = 1;
			break;
		}
		break;
	case FLOW_LEGACY:
		switch (meth) {
		case M_INITIALIZE: /* a bridge's next client: a fresh session */
			do_initialize(m, d);
			return;
		case M_PING:
			do_ping(m, d);
			return;
		case M_TOOLS_LIST:
			do_tools_list(m, d, s->version);
			return;
		case M_TOOLS_CALL:
			do_tools_call(m, d, s->version);
			return;
		case M_TASKS_GET:
		case M_TASKS_RESULT:
		case M_TASKS_CANCEL:
			if (s->version == MCP_V_2025_11_25) {
				do_task(m, d, meth);
				return;
			}
			method_not_found(m, d);
			return;
		default: /* server/discover is not part of the 2025 protocols, nor tasks/list here */
			method_not_found(m, d);
			return;
		}
	case FLOW_MODERN:
		break;
	}
	/* 2026-07-28 (tasks/result and tasks/list were removed with the extension) */
	if (meth == M_UNKNOWN || meth == M_INITIALIZE || meth == M_PING || meth == M_TASKS_RESULT ||
	    meth == M_TASKS_LIST) {
		method_not_found(m, d);
		return;
	}
	if (!modern_checked && check_modern(m, d) < 0)
		return;
	if (meth == M_DISCOVER)
		do_discover(m, d);
	else if (meth == M_LISTEN && !s->streams)
		method_not_found(m, d);
	else if (meth == M_LISTEN)
		do_listen(m, d);
	else if (meth >= M_TASKS_GET && !declares_tasks(m))
		missing_tasks_capability(m, d);
	else if (meth >= M_TASKS_GET)
		do_task_modern(m, d, meth);
	else if (meth == M_TOOLS_LIST)
		do_tools_list(m, d, MCP_V_2026_07_28);
	else
		do_tools_call(m, d, MCP_V_2026_07_28);
}

static void handle_notification(struct mcp_session *s, const struct jsonrpc_msg *m)
{
	if (m->method < 0)
		return;
	if (json_streq(&S.doc, m->method, "notifications/cancelled")) {
		int rid = json_get(&S.doc, m->params, "requestId");
		char key[LIMIT_ID_BYTES + 1];
		size_t n;
		enum json_type t = json_type(&S.doc, rid);
		if ((t == JSON_STRING || t == JSON_NUMBER) && id_key(&S.doc, rid, key, sizeof key, &n) == 0) {
			struct mcp_call *c = find_call(s, t, key, n);
			if (c) {
				log_info("call cancelled by the client");
				cancel_call(c);
			}
			enum jsonrpc_id_kind kind = t == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
			for (int i = 0; i < g_nholds; i++) /* a held tasks/result or subscriptions/listen */
				if (g_holds[i].kind != H_FREE && g_holds[i].s == s && g_holds[i].id.kind == kind &&
				    g_holds[i].id_key_len == n && memcmp(g_holds[i].id_key, key, n) == 0)
					hold_free(&g_holds[i]);
		}
	} else if (json_streq(&S.doc, m->method, "notifications/initialized")) {
		s->initialized = 1;
	}
}

/* Handle message token t; returns 1 when it is owed an answer. */
static int handle_message(int t, const struct dest *d)
{
	struct jsonrpc_msg m;
	jsonrpc_read(&S.doc, t, &m);
	switch (m.kind) {
	case JSONRPC_INVALID:
		send_error(d, &m.id, m.code, m.message);
		return 1;
	case JSONRPC_RESPONSE:
		log_debug("ignored a response from the client (this server sends no requests)");
		return 0;
	case JSONRPC_NOTIFICATION:
		handle_notification(d->s, &m);
		return 0;
	case JSONRPC_REQUEST:
		handle_request(&m, d);
		return 1;
	}
	return 0;
}

static int input(struct mcp_session *s, const char *msg, size_t len, void *tag)
{
	int code;
	char text[200];
	struct dest d = {s, NULL, tag};
	/* a UTF-8 byte order mark (Windows editors, some shells) opens the text: skip it */
	if (len >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0) {
		msg += 3;
		len -= 3;
	}
	enum jsonrpc_line k = jsonrpc_parse_line(&S.doc, msg, len, &code, text, sizeof text);
	if (k == JSONRPC_LINE_ERROR) {
		send_error(&d, NULL, code, text);
		return 1;
	}
	if (k == JSONRPC_LINE_SINGLE)
		return handle_message(0, &d);
	if (s->flow != FLOW_LEGACY || s->version != MCP_V_2025_03_26) {
		snprintf(text, sizeof text, "Invalid Request: batches exist only in protocol 2025-03-26 (this session: %s)",
			 s->flow == FLOW_LEGACY	? g_version_names[s->version]
			 : s->flow == FLOW_MODERN ? g_version_names[MCP_V_2026_07_28]
						  : "not initialized");
		send_error(&d, NULL, JSONRPC_INVALID_REQUEST, text);
		return 1;
	}
	d.b = batch_new(s, tag);
	if (!d.b) { /* cannot happen: a batch is only held while one of its calls is */
		send_error(&d, NULL, JSONRPC_INTERNAL_ERROR, "Internal error: too many batches in progress");
		return 1;
	}
	int owed = 0;
	for (int e = json_first(&S.doc, 0); e >= 0; e = json_next(&S.doc, e))
		owed |= handle_message(e, &d);
	d.b->open = 0;
	batch_maybe_flush(d.b);
	return owed;
}

int mcp_session_input(struct mcp_session *s, const char *msg, size_t len, void *tag)
{
	s->in_input = 1;
	s->in_tag = tag;
	int owed = input(s, msg, len, tag);
	s->in_input = 0;
	s->in_tag = NULL;
	if (owed)
		tag_settled(s, tag);
	return owed;
}

void mcp_session_oversize(struct mcp_session *s, size_t seen, void *tag)
{
	char msg[200];
	struct dest d = {s, NULL, tag};
	snprintf(msg, sizeof msg,
		 "Invalid Request: line longer than %d bytes (LIMIT_LINE_BYTES; %zu seen); skipped to the next newline",
		 LIMIT_LINE_BYTES, seen);
	send_error(&d, NULL, JSONRPC_INVALID_REQUEST, msg);
	if (s->sink->input_done)
		s->sink->input_done(s->ctx, tag);
}

/* Cancel the session's calls (of tag only, when one_tag) and drop their
 * batches, answering nothing. */
static void drop(struct mcp_session *s, int one_tag, const void *tag)
{
	s->dropping = 1;
	for (int i = 0; i < S.ncalls; i++)
		if (S.calls[i].state != C_FREE && S.calls[i].s == s &&
		    (!one_tag || (S.calls[i].tag == tag && !S.calls[i].task)))
			cancel_call(&S.calls[i]);
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind != H_FREE && g_holds[i].s == s && (!one_tag || g_holds[i].tag == tag))
			hold_free(&g_holds[i]);
	for (int i = 0; i < S.nbatches; i++)
		if (S.batches[i].used && S.batches[i].s == s && (!one_tag || S.batches[i].tag == tag))
			batch_free(&S.batches[i]);
	s->dropping = 0;
}

void mcp_session_cancel_tag(struct mcp_session *s, void *tag)
{
	drop(s, 1, tag);
}

void mcp_session_throttle(struct mcp_session *s, int on)
{
	if (s->throttled == !!on)
		return;
	s->throttled = !!on;
	if (!on)
		schedule_pump();
}

struct mcp_session *mcp_session_new(const struct mcp_sink *sink, void *ctx)
{
	struct mcp_session *s = calloc(1, sizeof *s);
	if (s) {
		s->sink = sink;
		s->ctx = ctx;
		s->cap = SESSION_CALLS;
		s->wait_cap = LIMIT_WAITS;
	}
	return s;
}

void mcp_session_cap(struct mcp_session *s, int calls)
{
	s->cap = calls < 1 ? 1 : calls > SESSION_CALLS ? SESSION_CALLS : calls;
	s->wait_cap = s->cap < LIMIT_WAITS ? s->cap : LIMIT_WAITS;
}

void mcp_session_untagged(struct mcp_session *s)
{
	s->untagged = 1;
}

void mcp_session_streams(struct mcp_session *s)
{
	s->streams = 1;
}

void mcp_session_modern(struct mcp_session *s)
{
	s->flow = FLOW_MODERN;
}

void mcp_session_free(struct mcp_session *s)
{
	if (!s)
		return;
	drop(s, 0, NULL);
	mtask_drop_owner(s);
	free(s);
}

enum mcp_version mcp_session_version(const struct mcp_session *s)
{
	return s->flow == FLOW_LEGACY ? s->version : s->flow == FLOW_MODERN ? MCP_V_2026_07_28 : MCP_V_NONE;
}

int mcp_session_calls(const struct mcp_session *s)
{
	return s->plain + s->waits - s->detached + s->held_results;
}

/* Tasks are bound to the credentials they were made with (the upstream key;
 * the listener's bearer token, which every HTTP caller presents), and live
 * for the longest call plus LIMIT_TASK_KEEP_MS. */
static int task_keys(const struct mcp_settings *set)
{
	char who[1024];
	snprintf(who, sizeof who, "%s\n%s", set->owner[0] ? set->owner[0] : "", set->owner[1] ? set->owner[1] : "");
	int r = mtask_init(set->task_key, who,
			   (int64_t)KLING_WAIT_MAX_S * 1000 + set->timeout_ms + MCP_BACKSTOP_MS + LIMIT_TASK_KEEP_MS);
	explicit_bzero(who, sizeof who);
	return r;
}

int mcp_init(const struct mcp_settings *set, const struct tool_registry *reg)
{
	/* S (mostly call slots) starts zeroed as static storage: only what an
	 * earlier init used (tests) is cleared, or every page of it would
	 * become resident. */
	memset(S.calls, 0, (size_t)S.ncalls * sizeof *S.calls);
	memset(S.batches, 0, (size_t)S.nbatches * sizeof *S.batches);
	memset(&S, 0, offsetof(struct core, calls));
	S.set = set;
	S.reg = reg;
	memset(g_holds, 0, (size_t)g_nholds * sizeof *g_holds);
	g_nholds = 0;
	if (task_keys(set) < 0)
		return -1;
	if (json_doc_init(&S.doc, LIMIT_JSON_TOKENS) < 0)
		return -1;
	json_w_init(&S.w, LIMIT_RESPONSE_BYTES);
	return 0;
}

void mcp_free(void)
{
	loop_timer_clear(&S.pump);
	json_doc_free(&S.doc);
	json_w_free(&S.w);
	for (int i = 0; i < S.nbatches; i++)
		buf_free(&S.batches[i].out);
}
