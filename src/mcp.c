/* mcp — see mcp.h. Here: versions, the method table and dispatch, initialize,
 * tools/list and tools/call, sessions, mcp_init/mcp_free. The rest of the core:
 * mcp_out.c, mcp_sched.c, mcp_held.c; their shared state: mcp_core.h. */
#include "mcp.h"
#include "mcp_core.h"

#include "mcp_jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "mcp_task.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_NAME "kling-mcp"
#define SERVER_TITLE "Kling AI task list"
/* Cache hints of 2026-07-28: what we list never changes while the process
 * runs and holds nothing user-specific. */
#define CACHE_TTL_MS 3600000
#define CACHE_SCOPE "public"

static const char *const g_version_names[] = {NULL, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
					      "2026-07-28"};

const char *mcp_version_name(enum mcp_version v)
{
	return v > MCP_V_NONE && v <= MCP_V_2026_07_28 ? g_version_names[v] : NULL;
}

struct core S;

/* ---- methods ---- */

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

static void method_not_found(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	char name[128], msg[200];
	snprintf(msg, sizeof msg, "Method not found: %s", quote_name(m->method, name, sizeof name));
	mcp_out_send_error(d, &m->id, JSONRPC_METHOD_NOT_FOUND, msg);
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
		mcp_out_write_empty(w, "cancel");
		json_w_key(w, "requests");
		json_w_obj(w);
		json_w_key(w, "tools");
		json_w_obj(w);
		mcp_out_write_empty(w, "call");
		json_w_obj_end(w);
		json_w_obj_end(w);
		json_w_obj_end(w);
	} else if (v == MCP_V_2026_07_28) {
		json_w_key(w, "extensions");
		json_w_obj(w);
		mcp_out_write_empty(w, EXT_TASKS);
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
	/* cppcheck-suppress knownConditionTrueFalse ; the build may define KLING_PROJECT_URL */
	if (v >= MCP_V_2025_11_25 && g_project_url[0] != '\0') {
		json_w_key(w, "websiteUrl");
		json_w_cstr(w, g_project_url);
	}
	/* cppcheck-suppress knownConditionTrueFalse ; the build may define KLING_PROJECT_ICON */
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

static void do_initialize(const struct mcp_jsonrpc_msg *m, const struct dest *d)
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

	struct json_w *w = mcp_out_result_begin(&m->id);
	json_w_key(w, "protocolVersion");
	json_w_cstr(w, g_version_names[v]);
	write_capabilities(w, v);
	json_w_key(w, "serverInfo");
	write_server_info(w, v);
	json_w_key(w, "instructions");
	json_w_cstr(w, S.reg->instructions);
	mcp_out_result_end(d, 0);
}

static void do_ping(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	mcp_out_result_begin(&m->id);
	mcp_out_result_end(d, 0);
}

static void do_discover(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	struct json_w *w = mcp_out_result_begin(&m->id);
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
	mcp_out_result_end(d, 1);
}

static void do_tools_list(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum mcp_version v)
{
	int cursor = json_get(&S.doc, m->params, "cursor");
	if (cursor >= 0) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: unknown cursor (tools/list has a single page; omit cursor)");
		return;
	}
	struct json_w *w = mcp_out_result_begin(&m->id);
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
	mcp_out_result_end(d, v >= MCP_V_2026_07_28);
}

static void unknown_tool(const struct mcp_jsonrpc_msg *m, const struct dest *d, int name)
{
	char q[100], msg[400];
	int n = snprintf(msg, sizeof msg, "Invalid params: unknown tool \"%s\" (this server has: ",
			 quote_name(name, q, sizeof q));
	for (size_t i = 0; i < S.reg->n && n > 0 && (size_t)n < sizeof msg; i++)
		n += snprintf(msg + n, sizeof msg - (size_t)n, "%s%s", i ? ", " : "", S.reg->tools[i]->name);
	if (n > 0 && (size_t)n < sizeof msg)
		snprintf(msg + n, sizeof msg - (size_t)n, ")");
	mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS, msg);
}

/* A 2025-11-25 tools/call with params.task: the task, answered now; the
 * call goes on detached. Returns -1 after answering with a refusal. */
static int task_create(struct mcp_call *c, const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	char err[400];
	int64_t now = mcp_task_now();
	struct mcp_task *t = mcp_task_new(d->s, now, err, sizeof err);
	if (!t) {
		mcp_out_send_error(d, &m->id, JSONRPC_INTERNAL_ERROR, err);
		return -1;
	}
	t->work = c;
	struct json_w *w = mcp_out_result_begin(&m->id);
	json_w_key(w, "task");
	json_w_obj(w);
	mcp_task_write(w, t->id, MT_WORKING, NULL, now, now, 0);
	json_w_obj_end(w);
	mcp_out_result_end(d, 0);
	c->task = t;
	c->tag = NULL; /* its input is answered: nothing more goes to that stream */
	d->s->detached++;
	return 0;
}

static void do_tools_call(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum mcp_version v)
{
	struct mcp_session *s = d->s;
	int name = json_get(&S.doc, m->params, "name");
	if (json_type(&S.doc, name) != JSON_STRING) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
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
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
				   "Invalid params: params.arguments must be an object");
		return;
	}
	/* params.task exists only in 2025-11-25 (2026-07-28 servers MUST ignore it) */
	int task = v == MCP_V_2025_11_25 ? json_get(&S.doc, m->params, "task") : -1;
	if (task >= 0 && json_type(&S.doc, task) != JSON_OBJECT) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: params.task must be an object");
		return;
	}
	if (task >= 0 && !tool->task_key) {
		mcp_out_send_error(d, &m->id, JSONRPC_METHOD_NOT_FOUND,
			   "This tool cannot run as a task (its execution.taskSupport is forbidden): call it without "
			   "params.task");
		return;
	}
	char key[LIMIT_ID_BYTES + 1];
	size_t keylen = 0;
	if (mcp_sched_request_key(m, d, key, &keylen) < 0)
		return;
	struct mcp_call *c = mcp_sched_call_slot();
	char err[2048];
	err[0] = 0;
	if (tool->prepare(&S.doc, args, c->state_buf, err, sizeof err) < 0) {
		mcp_out_send_tool_error(d, &m->id, v, err[0] ? err : "Invalid arguments.");
		return;
	}
	/* a call that will wait takes a place in the wait pool from the start
	 * when there is one; otherwise it is a plain call (and answers after its
	 * first step, saying why it could not wait) */
	int wait = tool->resume && tool->extra_ms && tool->extra_ms(c->state_buf) > 0 && !S.hurry &&
		   S.waits < LIMIT_WAITS && s->waits < s->wait_cap;
	if (!wait && mcp_sched_admission_refused(s, err, sizeof err)) {
		mcp_out_send_tool_error(d, &m->id, v, err);
		return;
	}
	mcp_sched_call_setup(c, m, d, v, tool, key, keylen, wait);
	c->modern_task = v >= MCP_V_2026_07_28 && tool->task_key && mcp_held_declares_tasks(m);
	if (task >= 0 && task_create(c, m, d) < 0) {
		mcp_sched_release(c);
		return;
	}
	mcp_sched_run_or_queue(c);
}

/* The 2026-07-28 per-request metadata. Returns 0, or -1 after answering. */
static int check_modern(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	int meta = json_get(&S.doc, m->params, "_meta");
	int pv = json_get(&S.doc, meta, META_VERSION);
	if (json_type(&S.doc, pv) != JSON_STRING) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   pv < 0 ? "Invalid params: missing params._meta[\"" META_VERSION
				    "\"] (send initialize first to use protocol 2025-11-25 or earlier)"
				  : "Invalid params: params._meta[\"" META_VERSION "\"] must be a string");
		return -1;
	}
	if (!json_streq(&S.doc, pv, g_version_names[MCP_V_2026_07_28])) {
		char asked[40], msg[160];
		snprintf(msg, sizeof msg, "Unsupported protocol version \"%s\"", quote_name(pv, asked, sizeof asked));
		json_w_reset(&S.w);
		mcp_jsonrpc_error_begin(&S.w, &m->id, JSONRPC_UNSUPPORTED_VERSION, msg);
		json_w_key(&S.w, "data");
		json_w_obj(&S.w);
		json_w_key(&S.w, "supported");
		write_supported(&S.w);
		json_w_key(&S.w, "requested");
		size_t n;
		const char *raw = json_raw(&S.doc, pv, &n);
		json_w_raw(&S.w, raw, n);
		json_w_obj_end(&S.w);
		mcp_jsonrpc_error_end(&S.w);
		mcp_out_emit(d->s, d->b, d->tag, JSONRPC_UNSUPPORTED_VERSION);
		return -1;
	}
	if (json_type(&S.doc, json_get(&S.doc, meta, META_CAPS)) != JSON_OBJECT) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: params._meta[\"" META_CAPS "\"] must be an object");
		return -1;
	}
	return 0;
}

static void handle_request(const struct mcp_jsonrpc_msg *m, const struct dest *d)
{
	struct mcp_session *s = d->s;
	enum method meth = lookup(m->method);
	if (meth != M_UNKNOWN && m->params >= 0 && json_type(&S.doc, m->params) != JSON_OBJECT) {
		mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: MCP params must be an object");
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
				mcp_out_send_error(d, &m->id, JSONRPC_INVALID_PARAMS,
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
				mcp_held_do_task(m, d, meth);
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
		mcp_held_do_listen(m, d);
	else if (meth >= M_TASKS_GET && !mcp_held_declares_tasks(m))
		mcp_held_missing_tasks_capability(m, d);
	else if (meth >= M_TASKS_GET)
		mcp_held_do_task_modern(m, d, meth);
	else if (meth == M_TOOLS_LIST)
		do_tools_list(m, d, MCP_V_2026_07_28);
	else
		do_tools_call(m, d, MCP_V_2026_07_28);
}

static void handle_notification(struct mcp_session *s, const struct mcp_jsonrpc_msg *m)
{
	if (m->method < 0)
		return;
	if (json_streq(&S.doc, m->method, "notifications/cancelled")) {
		int rid = json_get(&S.doc, m->params, "requestId");
		char key[LIMIT_ID_BYTES + 1];
		size_t n;
		enum json_type t = json_type(&S.doc, rid);
		if ((t == JSON_STRING || t == JSON_NUMBER) && mcp_sched_id_key(&S.doc, rid, key, sizeof key, &n) == 0) {
			struct mcp_call *c = mcp_sched_find_call(s, t, key, n);
			if (c) {
				log_info("call cancelled by the client");
				mcp_sched_cancel_call(c);
			}
			enum mcp_jsonrpc_id_kind kind = t == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
			for (int i = 0; i < g_nholds; i++) /* a held tasks/result or subscriptions/listen */
				if (g_holds[i].kind != H_FREE && g_holds[i].s == s && g_holds[i].id.kind == kind &&
				    g_holds[i].id_key_len == n && memcmp(g_holds[i].id_key, key, n) == 0)
					mcp_held_free(&g_holds[i]);
		}
	} else if (json_streq(&S.doc, m->method, "notifications/initialized")) {
		s->initialized = 1;
	}
}

/* Handle message token t; returns 1 when it is owed an answer. */
static int handle_message(int t, const struct dest *d)
{
	struct mcp_jsonrpc_msg m;
	mcp_jsonrpc_read(&S.doc, t, &m);
	switch (m.kind) {
	case JSONRPC_INVALID:
		mcp_out_send_error(d, &m.id, m.code, m.message);
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
	enum mcp_jsonrpc_line k = mcp_jsonrpc_parse_line(&S.doc, msg, len, &code, text, sizeof text);
	if (k == JSONRPC_LINE_ERROR) {
		mcp_out_send_error(&d, NULL, code, text);
		return 1;
	}
	if (k == JSONRPC_LINE_SINGLE)
		return handle_message(0, &d);
	if (s->flow != FLOW_LEGACY || s->version != MCP_V_2025_03_26) {
		snprintf(text, sizeof text, "Invalid Request: batches exist only in protocol 2025-03-26 (this session: %s)",
			 s->flow == FLOW_LEGACY	? g_version_names[s->version]
			 : s->flow == FLOW_MODERN ? g_version_names[MCP_V_2026_07_28]
						  : "not initialized");
		mcp_out_send_error(&d, NULL, JSONRPC_INVALID_REQUEST, text);
		return 1;
	}
	d.b = mcp_out_batch_new(s, tag);
	if (!d.b) { /* cannot happen: a batch is only held while one of its calls is */
		mcp_out_send_error(&d, NULL, JSONRPC_INTERNAL_ERROR, "Internal error: too many batches in progress");
		return 1;
	}
	int owed = 0;
	for (int e = json_first(&S.doc, 0); e >= 0; e = json_next(&S.doc, e))
		owed |= handle_message(e, &d);
	d.b->open = 0;
	mcp_out_batch_maybe_flush(d.b);
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
		mcp_out_tag_settled(s, tag);
	return owed;
}

void mcp_session_oversize(struct mcp_session *s, size_t seen, void *tag)
{
	char msg[200];
	struct dest d = {s, NULL, tag};
	snprintf(msg, sizeof msg,
		 "Invalid Request: line longer than %d bytes (LIMIT_LINE_BYTES; %zu seen); skipped to the next newline",
		 LIMIT_LINE_BYTES, seen);
	mcp_out_send_error(&d, NULL, JSONRPC_INVALID_REQUEST, msg);
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
			mcp_sched_cancel_call(&S.calls[i]);
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind != H_FREE && g_holds[i].s == s && (!one_tag || g_holds[i].tag == tag))
			mcp_held_free(&g_holds[i]);
	for (int i = 0; i < S.nbatches; i++)
		if (S.batches[i].used && S.batches[i].s == s && (!one_tag || S.batches[i].tag == tag))
			mcp_out_batch_free(&S.batches[i]);
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
		mcp_sched_schedule_pump();
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
	mcp_task_drop_owner(s);
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
	int r = mcp_task_init(set->task_key, who,
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
