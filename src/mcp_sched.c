/* mcp_sched — the call scheduler: admission, slots, the queue, deadlines,
 * waits (sleep, wake, hurry) and the tool-facing result API of mcp_tool.h.
 * The shared state is in mcp_core.h. */
#include "mcp.h"
#include "mcp_core.h"

#include "mcp_jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "mcp_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- calls ---- */

static void pump(void *arg);

void mcp_sched_schedule_pump(void)
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

void mcp_sched_release(struct mcp_call *c)
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
		mcp_out_batch_maybe_flush(b);
	} else {
		mcp_out_tag_settled(s, tag);
	}
	mcp_sched_schedule_pump();
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
void mcp_sched_run_or_queue(struct mcp_call *c)
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
	mcp_sched_schedule_pump();
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
		mcp_sched_run_or_queue(c);
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
	struct mcp_task_ref r;
	char id[MCP_TASK_ID_MAX + 1];
	r.key_len = c->tool->task_key(c->state_buf, r.key, sizeof r.key);
	r.tool = tool_index(c->tool);
	r.created = mcp_task_now();
	r.wait_end = r.created + (c->arrival + c->tool->extra_ms(c->state_buf) - loop_now_ms());
	if (r.key_len == 0 || mcp_task_id_make(&r, id, sizeof id) < 0)
		return -1;
	struct json_w *w = mcp_out_result_begin(&c->id);
	json_w_key(w, "resultType");
	json_w_cstr(w, "task");
	mcp_task_write(w, id, MT_WORKING, c->note, r.created, r.created, 1);
	json_w_obj_end(w);
	mcp_jsonrpc_result_end(w);
	mcp_out_emit(c->s, c->batch, c->tag, 0);
	c->tool->cancel(c, c->state_buf);
	mcp_sched_release(c);
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
	mcp_sched_schedule_pump();
	return NULL;
}


void mcp_hurry(void)
{
	S.hurry = 1;
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind == H_LISTEN)
			mcp_held_answer_listen(&g_holds[i]);
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
	struct json_w *w = mcp_out_result_begin(&c->id);
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

/* A 2025 task's call answered: the result object S.w holds becomes the task's. */
static void task_answered(struct mcp_call *c)
{
	struct mcp_task *t = c->task;
	size_t n;
	const char *p = json_w_data(&S.w, &n);
	if (mcp_task_end(t, c->failed ? MT_FAILED : MT_COMPLETED, p + S.res_at, n - S.res_at - 1,
		      c->failed ? c->note : NULL, mcp_task_now()) < 0)
		mcp_task_note(t, "The result could not be kept (larger than LIMIT_TASK_RESULT_BYTES, or memory is short).",
			   mcp_task_now());
	mcp_held_answer_results(t);
}

/* A 2026 tasks/get's look-up answered: S.w becomes the DetailedTask, with
 * the result inline once the work ended or the wait is over. */
static void task_get_answered(struct mcp_call *c)
{
	size_t n, len;
	int64_t now = mcp_task_now();
	const char *p = json_w_data(&S.w, &n);
	len = n - S.res_at - 1; /* the envelope's closing brace */
	char *res = malloc(len ? len : 1);
	int done = c->failed || c->tool->task_done(c->state_buf) || now >= c->task_wait_end;
	if (!res) {
		json_w_reset(&S.w);
		mcp_jsonrpc_error(&S.w, &c->id, JSONRPC_INTERNAL_ERROR, "Internal error: out of memory");
		return;
	}
	memcpy(res, p + S.res_at, len);
	struct json_w *w = mcp_out_result_begin(&c->id);
	mcp_task_write(w, c->task_id, done ? MT_COMPLETED : MT_WORKING, c->note, c->task_created, now, 1);
	if (done) {
		json_w_key(w, "result");
		json_w_raw(w, res, len);
	}
	free(res);
	mcp_out_result_close(1);
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
		mcp_out_emit(c->s, c->batch, c->tag, 0);
	mcp_sched_release(c);
}

void mcp_call_result_end(struct mcp_call *c)
{
	mcp_out_result_close(c->version >= MCP_V_2026_07_28);
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
		mcp_out_result_close(c->version >= MCP_V_2026_07_28);
	}
	call_answered(c);
}

void mcp_call_fail(struct mcp_call *c, const char *text)
{
	c->failed = 1;
	call_note(c, text);
	mcp_write_tool_error(mcp_call_result_begin(c), text);
	mcp_out_result_close(c->version >= MCP_V_2026_07_28);
	call_answered(c);
}

void mcp_call_progress(struct mcp_call *c, int64_t progress, int64_t total, const char *message)
{
	if (message) { /* a task's statusMessage */
		call_note(c, message);
		if (c->task)
			mcp_task_note(c->task, c->note, mcp_task_now());
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
int mcp_sched_id_key(const struct json_doc *d, int t, char *out, size_t cap, size_t *len)
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

struct mcp_call *mcp_sched_find_call(const struct mcp_session *s, enum json_type type, const char *key, size_t len)
{
	enum mcp_jsonrpc_id_kind kind = type == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	for (int i = 0; i < S.ncalls; i++) {
		struct mcp_call *c = &S.calls[i];
		if (c->state != C_FREE && !c->task && c->s == s && c->id.kind == kind && c->id_key_len == len &&
		    memcmp(c->id_key, key, len) == 0)
			return c;
	}
	return NULL;
}

void mcp_sched_cancel_call(struct mcp_call *c)
{
	if (c->started) /* running, or a wait between two steps */
		c->tool->cancel(c, c->state_buf);
	mcp_sched_release(c);
}

/* The one admission rule: plain calls (running or waiting their turn; a
 * get_task wait between look-ups is counted apart, in the wait pool), per
 * session and in all. Returns 1 with the refusal in err (the limit that
 * applied and its own numbers), else 0. */
int mcp_sched_admission_refused(const struct mcp_session *s, char *err, size_t cap)
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
int mcp_sched_request_key(const struct mcp_jsonrpc_msg *m, const struct dest *d, char *key, size_t *keylen)
{
	/* cannot happen: jsonrpc checked it */
	if (mcp_sched_id_key(&S.doc, m->id_tok, key, LIMIT_ID_BYTES + 1, keylen) < 0) {
		mcp_out_send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, "Internal error: unusable id");
		return -1;
	}
	if (mcp_sched_find_call(d->s, json_type(&S.doc, m->id_tok), key, *keylen)) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_REQUEST,
			   "Invalid Request: this id is already used by a call in progress");
		return -1;
	}
	return 0;
}

/* A free call slot with its state zeroed (never NULL: at most
 * LIMIT_CALL_SLOTS + LIMIT_WAITS are busy, by the admission rules; the first
 * free slot is at most S.ncalls, so no slot past the ones used is read). */
struct mcp_call *mcp_sched_call_slot(void)
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
void mcp_sched_call_setup(struct mcp_call *c, const struct mcp_jsonrpc_msg *m, const struct dest *d, enum mcp_version v,
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
