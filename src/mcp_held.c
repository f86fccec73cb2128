/* mcp_held — tasks and subscriptions: requests answered later (holds,
 * tasks/get|result|cancel|update, subscriptions/listen). The shared state is
 * in mcp_core.h. */
#include "mcp.h"
#include "mcp_core.h"

#include "mcp_jsonrpc.h"
#include "mcp_task.h"

#include <stdio.h>
#include <string.h>

/* ---- tasks and subscriptions: requests answered later ---- */

struct hold g_holds[NHOLDS];
int g_nholds;

/* The request's _meta client capabilities declare the tasks extension. */
int mcp_held_declares_tasks(const struct mcp_jsonrpc_msg *m)
{
	int caps = json_get(&S.doc, json_get(&S.doc, m->params, "_meta"), META_CAPS);
	int ext = json_get(&S.doc, json_get(&S.doc, caps, "extensions"), EXT_TASKS);
	return json_type(&S.doc, ext) == JSON_OBJECT;
}

void mcp_held_free(struct hold *h)
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
	mcp_out_tag_settled(s, tag);
}

/* Hold request m (kind) to answer later; NULL when none is free (kind's
 * limits: the caller checked the per-session ones). */
static struct hold *hold_new(enum hold_kind kind, const struct mcp_jsonrpc_msg *m, const struct dest *d)
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
	if (!h || mcp_sched_id_key(&S.doc, m->id_tok, h->id_key, sizeof h->id_key, &h->id_key_len) < 0)
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
static int write_task_result(const struct mcp_jsonrpc_id *id, const struct mcp_task *t)
{
	json_w_reset(&S.w);
	if (t->result) {
		mcp_jsonrpc_result_begin(&S.w, id);
		json_w_raw(&S.w, t->result, t->result_len);
		mcp_jsonrpc_result_end(&S.w);
		return 0;
	}
	mcp_jsonrpc_error(&S.w, id, JSONRPC_INTERNAL_ERROR, t->message);
	return JSONRPC_INTERNAL_ERROR;
}

void mcp_held_answer_results(struct mcp_task *t)
{
	for (int i = 0; i < g_nholds; i++) {
		struct hold *h = &g_holds[i];
		if (h->kind == H_RESULT && h->task == t) {
			mcp_out_emit(h->s, NULL, h->tag, write_task_result(&h->id, t));
			mcp_held_free(h);
		}
	}
}

void mcp_held_answer_listen(struct hold *h)
{
	struct json_w *w = mcp_out_result_begin(&h->id);
	json_w_key(w, "_meta");
	json_w_obj(w);
	json_w_key(w, META_SUBSCRIPTION);
	json_w_raw(w, h->id.raw, h->id.len);
	json_w_obj_end(w);
	mcp_out_result_close(1);
	mcp_out_emit(h->s, NULL, h->tag, 0);
	mcp_held_free(h);
}

/* params.taskId into out (NUL-terminated). Returns 0, or -1 after answering -32602. */
static int task_id_param(const struct mcp_jsonrpc_msg *m, const struct dest *d, char *out, size_t cap, size_t *n)
{
	int t = json_get(&S.doc, m->params, "taskId");
	if (json_type(&S.doc, t) == JSON_STRING && json_unescape(&S.doc, t, out, cap - 1, n) == 0) {
		out[*n] = 0;
		return 0;
	}
	mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
		   t < 0 ? "Invalid params: params.taskId is missing" : "Failed to retrieve task: Task not found");
	return -1;
}

/* tasks/get, tasks/result, tasks/cancel of 2025-11-25: the session's tasks. */
void mcp_held_do_task(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum method meth)
{
	char id[MCP_TASK_ID_MAX + 1];
	size_t n;
	int64_t now = mcp_task_now();
	if (task_id_param(m, d, id, sizeof id, &n) < 0)
		return;
	struct mcp_task *t = mcp_task_find(d->s, id, n, now);
	if (!t) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Failed to retrieve task: Task not found (or expired: tasks are kept for their ttl)");
		return;
	}
	if (meth == M_TASKS_RESULT && t->status == MT_WORKING) { /* answered when it ends */
		struct hold *h = hold_new(H_RESULT, m, d);
		if (h)
			h->task = t;
		else
			mcp_out_send_error(d, &m->id, JSONRPC_INTERNAL_ERROR,
				   "Too many tasks/result requests waiting (LIMIT_TASK_WAITERS); poll tasks/get instead");
		return;
	}
	if (meth == M_TASKS_RESULT) {
		mcp_out_emit(d->s, d->b, d->tag, write_task_result(&m->id, t));
		return;
	}
	if (meth == M_TASKS_CANCEL) {
		if (t->status != MT_WORKING) {
			mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
					   "Cannot cancel a task that has already ended");
			return;
		}
		if (t->work)
			mcp_sched_cancel_call(t->work);
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
		mcp_task_end(t, MT_CANCELLED, p, len, text, now);
		mcp_held_answer_results(t);
	}
	struct json_w *w = mcp_out_result_begin(&m->id);
	mcp_task_write(w, t->id, t->status, t->message, t->created, t->updated, 0);
	mcp_out_result_end(d, 0);
}

void mcp_held_missing_tasks_capability(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	json_w_reset(&S.w);
	mcp_jsonrpc_error_begin(&S.w, &m->id, JSONRPC_MISSING_CAPABILITY,
			    "Missing required client capability: declare the extension " EXT_TASKS
			    " in params._meta[\"" META_CAPS "\"].extensions");
	json_w_key(&S.w, "data");
	json_w_obj(&S.w);
	json_w_key(&S.w, "requiredCapabilities");
	json_w_obj(&S.w);
	json_w_key(&S.w, "extensions");
	json_w_obj(&S.w);
	mcp_out_write_empty(&S.w, EXT_TASKS);
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	mcp_jsonrpc_error_end(&S.w);
	mcp_out_emit(d->s, d->b, d->tag, JSONRPC_MISSING_CAPABILITY);
}

/* tasks/get, tasks/update, tasks/cancel of 2026-07-28: the id is verified;
 * get looks the work up again, the others are acknowledged (no state:
 * cancelling is cooperative, and nothing of ours ever needs input). */
void mcp_held_do_task_modern(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum method meth)
{
	char id[MCP_TASK_ID_MAX + 1];
	size_t n;
	struct mcp_task_ref r;
	const char *why;
	if (task_id_param(m, d, id, sizeof id, &n) < 0)
		return;
	int bad = mcp_task_id_read(id, n, mcp_task_now(), &r, &why) < 0;
	if (!bad && ((size_t)r.tool >= S.reg->n || !S.reg->tools[r.tool]->task_lookup)) {
		bad = 1;
		why = "not a task id of this server";
	}
	if (bad) {
		char msg[160];
		snprintf(msg, sizeof msg, "Failed to retrieve task: Task not found (%s)", why);
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS, msg);
		return;
	}
	if (meth != M_TASKS_GET) {
		mcp_out_result_begin(&m->id);
		mcp_out_result_end(d, 1);
		return;
	}
	const struct mcp_tool *tool = S.reg->tools[r.tool];
	char key[LIMIT_ID_BYTES + 1], err[400];
	size_t keylen;
	if (mcp_sched_request_key(m, d, key, &keylen) < 0)
		return;
	struct mcp_call *c = mcp_sched_call_slot();
	err[0] = 0;
	if (tool->task_lookup(c->state_buf, r.key, r.key_len, err, sizeof err) < 0 ||
	    mcp_sched_admission_refused(d->s, err, sizeof err)) {
		mcp_out_send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err[0] ? err : "Internal error");
		return;
	}
	mcp_sched_call_setup(c, m, d, MCP_V_2026_07_28, tool, key, keylen, 0);
	c->task_get = 1;
	c->task_created = r.created;
	c->task_wait_end = r.wait_end;
	memcpy(c->task_id, id, n + 1);
	mcp_sched_run_or_queue(c);
}

/* subscriptions/listen: nothing of ours ever changes (no list_changed, no
 * resources, no task notifications), so the acknowledgement accepts no
 * notification at all; the request is then held open until the client
 * cancels it (stdio: notifications/cancelled; HTTP: closing the stream) or
 * the server stops (answered resultType "complete"). */
void mcp_held_do_listen(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	int ids = json_get(&S.doc, json_get(&S.doc, m->params, "notifications"), "taskIds");
	if (json_type(&S.doc, ids) == JSON_ARRAY && json_count(&S.doc, ids) > 0 && !mcp_held_declares_tasks(m)) {
		mcp_held_missing_tasks_capability(m, d);
		return;
	}
	struct hold *h = d->s->listens < LIMIT_SESSION_LISTENS && !S.hurry ? hold_new(H_LISTEN, m, d) : NULL;
	if (!h) {
		char err[200];
		snprintf(err, sizeof err,
			 "Too many subscriptions/listen streams open: at most %d per client (LIMIT_SESSION_LISTENS) "
			 "and %d in all (LIMIT_LISTENS)%s",
			 LIMIT_SESSION_LISTENS, LIMIT_LISTENS, S.hurry ? ", and the server is stopping" : "");
		mcp_out_send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err);
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
	mcp_out_write_empty(&S.w, "notifications");
	json_w_obj_end(&S.w);
	json_w_obj_end(&S.w);
	mcp_out_emit(d->s, NULL, d->tag, 0);
}

