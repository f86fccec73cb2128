/* mcp — see mcp.h. */
#include "mcp.h"

#include "config.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "tool_list_tasks.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: adding a tool is one line here (and its module). */
static const struct mcp_tool *const g_tools[] = {&lt_tool};
/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, counted */
static const size_t NTOOLS = sizeof g_tools / sizeof *g_tools;

#define SERVER_NAME "kling-mcp"
#define SERVER_TITLE "Kling AI task list"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"
/* Cache hints of 2026-07-28: what we list never changes while the process
 * runs and holds nothing user-specific. */
#define CACHE_TTL_MS 3600000
#define CACHE_SCOPE "public"
/* A tool's error text is cut here so the answer always fits. */
#define ERROR_TEXT_MAX (64 * 1024)

static const char g_instructions[] =
	"kling-mcp lists the generation tasks (videos, images, virtual try-ons) of the Kling AI account "
	"whose credentials it was started with. Use list_tasks to see whether tasks finished, why they "
	"failed, and where their results are (result URLs expire 30 days after creation). Filter by "
	"status, product_type and creation time (ISO 8601); for the next page pass next_cursor back as "
	"cursor. It cannot create, change or cancel tasks.";

static const char *const g_version_names[] = {NULL, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25",
					      "2026-07-28"};

const char *mcp_version_name(enum mcp_version v)
{
	return v > MCP_V_NONE && v <= MCP_V_2026_07_28 ? g_version_names[v] : NULL;
}

/* ---- state ---- */

enum flow { FLOW_NONE, FLOW_LEGACY, FLOW_MODERN };

enum call_state { C_FREE = 0, C_QUEUED, C_RUNNING };

struct batch {
	int used;
	int open;      /* its line is still being processed */
	int pending;   /* calls of this batch not answered yet */
	int count;     /* answers held */
	char *buf;     /* "[" answer "," answer ... */
	size_t len, cap;
};

struct mcp_call {
	enum call_state state;
	unsigned long seq;      /* arrival order */
	const struct mcp_tool *tool;
	enum mcp_version version;
	struct batch *batch;
	struct jsonrpc_id id;   /* raw points into id_raw */
	char id_raw[LIMIT_ID_BYTES];
	char id_key[LIMIT_ID_BYTES + 1]; /* unescaped string id, or the integer's digits */
	size_t id_key_len;
	int64_t deadline;
	struct loop_timer timer;
	int starting, finished;
	alignas(max_align_t) unsigned char state_buf[MCP_TOOL_STATE_BYTES];
};

/* One slot more than can be busy: prepare() always has a place to write
 * before the queue limit is checked (validation errors come first). */
#define NSLOTS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS + 1)

static struct {
	const struct config *cfg;
	mcp_output_fn out;
	struct json_doc doc;
	struct json_w w; /* every message is built here, one at a time */
	enum flow flow;
	enum mcp_version version; /* negotiated (2025 flow) */
	int initialized;          /* notifications/initialized seen */
	int dropping;
	unsigned long seq;
	int running, queued;
	struct mcp_call calls[NSLOTS];
	struct batch batches[NSLOTS + 1];
	struct loop_timer pump;
} S;

/* ---- output ---- */

static void batch_add(struct batch *b, const char *p, size_t n);

/* Send (or hold in batch b) what S.w holds. */
static void emit(struct batch *b)
{
	size_t n;
	const char *p = json_w_data(&S.w, &n);
	if (json_w_error(&S.w)) { /* cannot happen for our own fixed-size messages */
		log_error("internal error: a response could not be built (%d)", json_w_error(&S.w));
		return;
	}
	if (b)
		batch_add(b, p, n);
	else if (S.out(p, n) < 0)
		log_debug("a response could not be queued");
	if (S.w.cap > ((size_t)1 << 20))
		json_w_free(&S.w); /* a big result's memory goes back; the maximum stays */
}

static void send_error(struct batch *b, const struct jsonrpc_id *id, int code, const char *message)
{
	json_w_reset(&S.w);
	jsonrpc_error(&S.w, id, code, message);
	emit(b);
}

/* Open {"jsonrpc":"2.0","id":..,"result":{ and return the writer. */
static struct json_w *result_begin(const struct jsonrpc_id *id)
{
	json_w_reset(&S.w);
	jsonrpc_result_begin(&S.w, id);
	json_w_obj(&S.w);
	return &S.w;
}

static void result_end(struct batch *b, int modern)
{
	if (modern) {
		json_w_key(&S.w, "resultType");
		json_w_cstr(&S.w, "complete");
	}
	json_w_obj_end(&S.w);
	jsonrpc_result_end(&S.w);
	emit(b);
}

void mcp_write_tool_error(struct json_w *w, const char *text)
{
	size_t n = strlen(text);
	if (n > ERROR_TEXT_MAX)
		n = ERROR_TEXT_MAX;
	json_w_key(w, "content");
	json_w_arr(w);
	json_w_obj(w);
	json_w_key(w, "type");
	json_w_cstr(w, "text");
	json_w_key(w, "text");
	json_w_str(w, text, n);
	json_w_obj_end(w);
	json_w_arr_end(w);
	json_w_key(w, "isError");
	json_w_bool(w, 1);
}

static void send_tool_error(struct batch *b, const struct jsonrpc_id *id, enum mcp_version v, const char *text)
{
	mcp_write_tool_error(result_begin(id), text);
	result_end(b, v >= MCP_V_2026_07_28);
}

/* ---- batches (protocol 2025-03-26) ---- */

static struct batch *batch_new(void)
{
	for (size_t i = 0; i < sizeof S.batches / sizeof *S.batches; i++)
		if (!S.batches[i].used) {
			struct batch *b = &S.batches[i];
			b->used = 1;
			b->open = 1;
			b->pending = b->count = 0;
			b->len = 0;
			return b;
		}
	return NULL;
}

static int batch_put(struct batch *b, const char *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n)
			cap *= 2;
		char *nb = realloc(b->buf, cap);
		if (!nb)
			return -1;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	return 0;
}

/* Room for the answers' own bytes; past it each further answer is a short
 * -32603 error, so a batch's reply stays bounded. */
#define BATCH_BYTES_MAX ((size_t)LIMIT_RESPONSE_BYTES)

static void batch_add(struct batch *b, const char *p, size_t n)
{
	static const char too_big[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":"
				      "\"Internal error: the batch reply would pass LIMIT_RESPONSE_BYTES\"}}";
	if (b->len + n + 1 > BATCH_BYTES_MAX) {
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
	if (b->cap > 65536) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
	b->len = 0;
}

/* Send the batch's array once its line is processed and no call is pending;
 * a batch of only notifications sends nothing. */
static void batch_maybe_flush(struct batch *b)
{
	if (b->open || b->pending || S.dropping)
		return;
	if (b->count && batch_put(b, "]", 1) == 0 && S.out(b->buf, b->len) < 0)
		log_debug("a batch reply could not be queued");
	batch_free(b);
}

/* ---- calls ---- */

static void pump(void *arg);

static void schedule_pump(void)
{
	if (S.queued && S.running < LIMIT_CONCURRENT_CALLS && !S.pump.armed)
		loop_timer_set(&S.pump, loop_now_ms(), pump, NULL);
}

static void release(struct mcp_call *c)
{
	loop_timer_clear(&c->timer);
	if (c->state == C_RUNNING)
		S.running--;
	else if (c->state == C_QUEUED)
		S.queued--;
	struct batch *b = c->batch;
	c->state = C_FREE;
	c->batch = NULL;
	if (b) {
		b->pending--;
		batch_maybe_flush(b);
	}
	schedule_pump();
}

/* After the call's answer was sent. */
static void finish(struct mcp_call *c)
{
	if (c->starting)
		c->finished = 1; /* answered inside start(): the starter releases */
	else
		release(c);
}

static void start_call(struct mcp_call *c)
{
	c->state = C_RUNNING;
	S.running++;
	c->starting = 1;
	c->finished = 0;
	int r = c->tool->start(c, c->state_buf, c->deadline);
	c->starting = 0;
	if (c->finished)
		release(c);
	else if (r < 0)
		mcp_call_fail(c, "Internal error: the tool could not start the request.");
}

static void pump(void *arg)
{
	(void)arg;
	while (S.running < LIMIT_CONCURRENT_CALLS && S.queued) {
		struct mcp_call *next = NULL;
		for (int i = 0; i < NSLOTS; i++)
			if (S.calls[i].state == C_QUEUED && (!next || S.calls[i].seq < next->seq))
				next = &S.calls[i];
		if (!next) { /* cannot happen: the count says one waits */
			S.queued = 0;
			break;
		}
		S.queued--;
		next->state = C_FREE; /* start_call counts it as running */
		start_call(next);
	}
}

static void on_deadline(void *arg)
{
	struct mcp_call *c = arg;
	char text[320];
	if (c->state == C_RUNNING) {
		c->tool->cancel(c, c->state_buf);
		snprintf(text, sizeof text,
			 "%s did not finish within %d ms (KLING_TIMEOUT_MS) and was stopped. Nothing was changed; "
			 "try again, or raise KLING_TIMEOUT_MS if the network is slow.",
			 c->tool->name, S.cfg->timeout_ms);
	} else {
		snprintf(text, sizeof text,
			 "%s waited %d ms (KLING_TIMEOUT_MS) behind %d running calls without starting; try again "
			 "later.",
			 c->tool->name, S.cfg->timeout_ms, S.running);
	}
	mcp_call_fail(c, text);
}

struct json_w *mcp_call_result_begin(struct mcp_call *c)
{
	return result_begin(&c->id);
}

void mcp_call_result_end(struct mcp_call *c)
{
	if (c->version >= MCP_V_2026_07_28) {
		json_w_key(&S.w, "resultType");
		json_w_cstr(&S.w, "complete");
	}
	json_w_obj_end(&S.w);
	jsonrpc_result_end(&S.w);
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
		send_tool_error(c->batch, &c->id, c->version, text);
	} else {
		emit(c->batch);
	}
	finish(c);
}

void mcp_call_fail(struct mcp_call *c, const char *text)
{
	send_tool_error(c->batch, &c->id, c->version, text);
	finish(c);
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

static struct mcp_call *find_call(enum json_type type, const char *key, size_t len)
{
	enum jsonrpc_id_kind kind = type == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	for (int i = 0; i < NSLOTS; i++) {
		struct mcp_call *c = &S.calls[i];
		if (c->state != C_FREE && c->id.kind == kind && c->id_key_len == len && memcmp(c->id_key, key, len) == 0)
			return c;
	}
	return NULL;
}

static void cancel_call(struct mcp_call *c)
{
	if (c->state == C_RUNNING)
		c->tool->cancel(c, c->state_buf);
	release(c);
}

/* ---- methods ---- */

enum method { M_UNKNOWN, M_INITIALIZE, M_PING, M_TOOLS_LIST, M_TOOLS_CALL, M_DISCOVER };

static enum method lookup(int t)
{
	static const struct {
		const char *name;
		enum method m;
	} table[] = {{"initialize", M_INITIALIZE}, {"ping", M_PING}, {"tools/list", M_TOOLS_LIST},
		     {"tools/call", M_TOOLS_CALL}, {"server/discover", M_DISCOVER}};
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (json_streq(&S.doc, t, table[i].name))
			return table[i].m;
	return M_UNKNOWN;
}

/* Unescaped text of string t, cut to fit out (for quoting names in
 * messages); "" for a non-string. */
static const char *quote_name(int t, char *out, size_t cap)
{
	json_unescape_prefix(&S.doc, t, out, cap);
	return out;
}

static void method_not_found(const struct jsonrpc_msg *m, struct batch *b)
{
	char name[128], msg[200];
	snprintf(msg, sizeof msg, "Method not found: %s", quote_name(m->method, name, sizeof name));
	send_error(b, &m->id, JSONRPC_METHOD_NOT_FOUND, msg);
}

static void write_capabilities(struct json_w *w)
{
	json_w_key(w, "capabilities");
	json_w_obj(w);
	json_w_key(w, "tools");
	json_w_obj(w);
	json_w_key(w, "listChanged");
	json_w_bool(w, 0);
	json_w_obj_end(w);
	json_w_obj_end(w);
}

static void write_server_info(struct json_w *w, int with_title)
{
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, SERVER_NAME);
	json_w_key(w, "version");
	json_w_cstr(w, KLING_VERSION);
	if (with_title) {
		json_w_key(w, "title");
		json_w_cstr(w, SERVER_TITLE);
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

static void do_initialize(const struct jsonrpc_msg *m, struct batch *b)
{
	int pv = json_get(&S.doc, m->params, "protocolVersion");
	enum mcp_version v = MCP_V_2025_11_25; /* what we offer to any other version */
	for (int i = MCP_V_2024_11_05; i <= MCP_V_2025_11_25; i++)
		if (json_streq(&S.doc, pv, g_version_names[i]))
			v = (enum mcp_version)i;
	S.flow = FLOW_LEGACY;
	S.version = v;
	char client[64], asked[32];
	log_info("initialize: client \"%s\" asked for \"%s\"; speaking %s",
		 quote_name(json_get(&S.doc, json_get(&S.doc, m->params, "clientInfo"), "name"), client, sizeof client),
		 quote_name(pv, asked, sizeof asked), g_version_names[v]);

	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "protocolVersion");
	json_w_cstr(w, g_version_names[v]);
	write_capabilities(w);
	json_w_key(w, "serverInfo");
	write_server_info(w, v >= MCP_V_2025_06_18);
	json_w_key(w, "instructions");
	json_w_cstr(w, g_instructions);
	result_end(b, 0);
}

static void do_ping(const struct jsonrpc_msg *m, struct batch *b)
{
	result_begin(&m->id);
	result_end(b, 0);
}

static void do_discover(const struct jsonrpc_msg *m, struct batch *b)
{
	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "supportedVersions");
	write_supported(w);
	write_capabilities(w);
	json_w_key(w, "instructions");
	json_w_cstr(w, g_instructions);
	json_w_key(w, "ttlMs");
	json_w_int(w, CACHE_TTL_MS);
	json_w_key(w, "cacheScope");
	json_w_cstr(w, CACHE_SCOPE);
	json_w_key(w, "_meta");
	json_w_obj(w);
	json_w_key(w, META_SERVERINFO);
	write_server_info(w, 1);
	json_w_obj_end(w);
	result_end(b, 1);
}

static void do_tools_list(const struct jsonrpc_msg *m, struct batch *b, enum mcp_version v)
{
	int cursor = json_get(&S.doc, m->params, "cursor");
	if (cursor >= 0) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: unknown cursor (tools/list has a single page; omit cursor)");
		return;
	}
	struct json_w *w = result_begin(&m->id);
	json_w_key(w, "tools");
	json_w_arr(w);
	for (size_t i = 0; i < NTOOLS; i++)
		g_tools[i]->describe(w, v);
	json_w_arr_end(w);
	if (v >= MCP_V_2026_07_28) {
		json_w_key(w, "ttlMs");
		json_w_int(w, CACHE_TTL_MS);
		json_w_key(w, "cacheScope");
		json_w_cstr(w, CACHE_SCOPE);
	}
	result_end(b, v >= MCP_V_2026_07_28);
}

static void do_tools_call(const struct jsonrpc_msg *m, struct batch *b, enum mcp_version v)
{
	int name = json_get(&S.doc, m->params, "name");
	if (json_type(&S.doc, name) != JSON_STRING) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS,
			   name < 0 ? "Invalid params: tools/call needs params.name, the tool to call"
				    : "Invalid params: params.name must be a string");
		return;
	}
	const struct mcp_tool *tool = NULL;
	for (size_t i = 0; i < NTOOLS; i++)
		if (json_streq(&S.doc, name, g_tools[i]->name))
			tool = g_tools[i];
	if (!tool) {
		char q[100], msg[240];
		snprintf(msg, sizeof msg, "Invalid params: unknown tool \"%s\" (this server has: list_tasks)",
			 quote_name(name, q, sizeof q));
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS, msg);
		return;
	}
	int args = json_get(&S.doc, m->params, "arguments");
	if (args >= 0 && json_type(&S.doc, args) != JSON_OBJECT) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: params.arguments must be an object");
		return;
	}
	char key[LIMIT_ID_BYTES + 1];
	size_t keylen = 0;
	if (id_key(&S.doc, m->id_tok, key, sizeof key, &keylen) < 0) { /* cannot happen: jsonrpc checked it */
		send_error(b, &m->id, JSONRPC_INTERNAL_ERROR, "Internal error: unusable id");
		return;
	}
	if (find_call(json_type(&S.doc, m->id_tok), key, keylen)) {
		send_error(b, &m->id, JSONRPC_INVALID_REQUEST,
			   "Invalid Request: this id is already used by a call in progress");
		return;
	}
	struct mcp_call *c = NULL;
	for (int i = 0; i < NSLOTS && !c; i++)
		if (S.calls[i].state == C_FREE)
			c = &S.calls[i];
	if (!c) { /* cannot happen: one slot is always spare */
		send_tool_error(b, &m->id, v, "Internal error: no call slot free.");
		return;
	}
	memset(c->state_buf, 0, sizeof c->state_buf);
	char err[2048];
	err[0] = 0;
	if (tool->prepare(&S.doc, args, c->state_buf, err, sizeof err) < 0) {
		send_tool_error(b, &m->id, v, err[0] ? err : "Invalid arguments.");
		return;
	}
	if (S.running >= LIMIT_CONCURRENT_CALLS && S.queued >= LIMIT_QUEUED_CALLS) {
		snprintf(err, sizeof err,
			 "Too many calls at once: %d running (LIMIT_CONCURRENT_CALLS) and %d waiting "
			 "(LIMIT_QUEUED_CALLS). Try again when earlier calls have answered.",
			 LIMIT_CONCURRENT_CALLS, LIMIT_QUEUED_CALLS);
		send_tool_error(b, &m->id, v, err);
		return;
	}
	c->tool = tool;
	c->version = v;
	c->seq = ++S.seq;
	memcpy(c->id_raw, m->id.raw, m->id.len);
	c->id.kind = m->id.kind;
	c->id.raw = c->id_raw;
	c->id.len = m->id.len;
	memcpy(c->id_key, key, keylen);
	c->id_key_len = keylen;
	c->batch = b;
	if (b)
		b->pending++;
	c->deadline = loop_now_ms() + S.cfg->timeout_ms;
	memset(&c->timer, 0, sizeof c->timer);
	loop_timer_set(&c->timer, c->deadline, on_deadline, c);
	if (S.running < LIMIT_CONCURRENT_CALLS && S.queued == 0) {
		start_call(c);
	} else {
		c->state = C_QUEUED;
		S.queued++;
		schedule_pump();
	}
}

/* The 2026-07-28 per-request metadata. Returns 0, or -1 after answering. */
static int check_modern(const struct jsonrpc_msg *m, struct batch *b)
{
	int meta = json_get(&S.doc, m->params, "_meta");
	int pv = json_get(&S.doc, meta, META_VERSION);
	if (json_type(&S.doc, pv) != JSON_STRING) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS,
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
		emit(b);
		return -1;
	}
	if (json_type(&S.doc, json_get(&S.doc, meta, META_CAPS)) != JSON_OBJECT) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS,
			   "Invalid params: params._meta[\"" META_CAPS "\"] must be an object");
		return -1;
	}
	return 0;
}

static void handle_request(const struct jsonrpc_msg *m, struct batch *b)
{
	enum method meth = lookup(m->method);
	if (meth != M_UNKNOWN && m->params >= 0 && json_type(&S.doc, m->params) != JSON_OBJECT) {
		send_error(b, &m->id, JSONRPC_INVALID_PARAMS, "Invalid params: MCP params must be an object");
		return;
	}
	int modern_meta = json_get(&S.doc, json_get(&S.doc, m->params, "_meta"), META_VERSION) >= 0;
	int modern_checked = 0;

	switch (S.flow) {
	case FLOW_NONE:
		switch (meth) {
		case M_INITIALIZE:
			do_initialize(m, b);
			return;
		case M_DISCOVER:
			if (!modern_meta || check_modern(m, b) == 0)
				do_discover(m, b);
			return;
		case M_PING:
			do_ping(m, b);
			return;
		case M_UNKNOWN:
			method_not_found(m, b);
			return;
		default:
			if (!modern_meta) {
				send_error(b, &m->id, JSONRPC_INVALID_PARAMS,
					   "Invalid params: send initialize first (protocol 2025-11-25 and earlier), or "
					   "carry params._meta[\"" META_VERSION "\"] and [\"" META_CAPS
					   "\"] (protocol 2026-07-28)");
				return;
			}
			/* the flow is decided only by a request that is valid in it,
			 * so a client refused here may still fall back to initialize */
			if (check_modern(m, b) < 0)
				return;
			log_info("speaking protocol 2026-07-28 (per-request metadata)");
			S.flow = FLOW_MODERN;
			modern_checked = 1;
			break;
		}
		break;
	case FLOW_LEGACY:
		switch (meth) {
		case M_INITIALIZE:
			send_error(b, &m->id, JSONRPC_INVALID_REQUEST, "Invalid Request: initialize was already received");
			return;
		case M_PING:
			do_ping(m, b);
			return;
		case M_TOOLS_LIST:
			do_tools_list(m, b, S.version);
			return;
		case M_TOOLS_CALL:
			do_tools_call(m, b, S.version);
			return;
		default: /* server/discover is not part of the 2025 protocols */
			method_not_found(m, b);
			return;
		}
	case FLOW_MODERN:
		break;
	}
	/* 2026-07-28 */
	if (meth == M_UNKNOWN || meth == M_INITIALIZE || meth == M_PING) {
		method_not_found(m, b);
		return;
	}
	if (!modern_checked && check_modern(m, b) < 0)
		return;
	if (meth == M_DISCOVER)
		do_discover(m, b);
	else if (meth == M_TOOLS_LIST)
		do_tools_list(m, b, MCP_V_2026_07_28);
	else
		do_tools_call(m, b, MCP_V_2026_07_28);
}

static void handle_notification(const struct jsonrpc_msg *m)
{
	if (m->method < 0)
		return;
	if (json_streq(&S.doc, m->method, "notifications/cancelled")) {
		int rid = json_get(&S.doc, m->params, "requestId");
		char key[LIMIT_ID_BYTES + 1];
		size_t n;
		enum json_type t = json_type(&S.doc, rid);
		if ((t == JSON_STRING || t == JSON_NUMBER) && id_key(&S.doc, rid, key, sizeof key, &n) == 0) {
			struct mcp_call *c = find_call(t, key, n);
			if (c) {
				log_info("call cancelled by the client");
				cancel_call(c);
			}
		}
	} else if (json_streq(&S.doc, m->method, "notifications/initialized")) {
		S.initialized = 1;
	}
}

static void handle_message(int t, struct batch *b)
{
	struct jsonrpc_msg m;
	jsonrpc_read(&S.doc, t, &m);
	switch (m.kind) {
	case JSONRPC_INVALID:
		send_error(b, &m.id, m.code, m.message);
		return;
	case JSONRPC_RESPONSE:
		log_debug("ignored a response from the client (this server sends no requests)");
		return;
	case JSONRPC_NOTIFICATION:
		handle_notification(&m);
		return;
	case JSONRPC_REQUEST:
		handle_request(&m, b);
		return;
	}
}

void mcp_on_line(const char *line, size_t len)
{
	int code;
	char msg[200];
	enum jsonrpc_line k = jsonrpc_parse_line(&S.doc, line, len, &code, msg, sizeof msg);
	if (k == JSONRPC_LINE_ERROR) {
		send_error(NULL, NULL, code, msg);
		return;
	}
	if (k == JSONRPC_LINE_SINGLE) {
		handle_message(0, NULL);
		return;
	}
	if (S.flow != FLOW_LEGACY || S.version != MCP_V_2025_03_26) {
		snprintf(msg, sizeof msg, "Invalid Request: batches exist only in protocol 2025-03-26 (this session: %s)",
			 S.flow == FLOW_LEGACY	? g_version_names[S.version]
			 : S.flow == FLOW_MODERN ? g_version_names[MCP_V_2026_07_28]
						  : "not initialized");
		send_error(NULL, NULL, JSONRPC_INVALID_REQUEST, msg);
		return;
	}
	struct batch *b = batch_new();
	if (!b) { /* cannot happen: a batch is only held while one of its calls is */
		send_error(NULL, NULL, JSONRPC_INTERNAL_ERROR, "Internal error: too many batches in progress");
		return;
	}
	for (int e = json_first(&S.doc, 0); e >= 0; e = json_next(&S.doc, e))
		handle_message(e, b);
	b->open = 0;
	batch_maybe_flush(b);
}

void mcp_on_oversize(size_t seen)
{
	char msg[200];
	snprintf(msg, sizeof msg,
		 "Invalid Request: line longer than %d bytes (LIMIT_LINE_BYTES; %zu seen); skipped to the next newline",
		 LIMIT_LINE_BYTES, seen);
	send_error(NULL, NULL, JSONRPC_INVALID_REQUEST, msg);
}

void mcp_drop_calls(void)
{
	S.dropping = 1;
	for (int i = 0; i < NSLOTS; i++)
		if (S.calls[i].state != C_FREE)
			cancel_call(&S.calls[i]);
	loop_timer_clear(&S.pump);
	for (size_t i = 0; i < sizeof S.batches / sizeof *S.batches; i++)
		if (S.batches[i].used)
			batch_free(&S.batches[i]);
	S.dropping = 0;
}

int mcp_init(const struct config *cfg, mcp_output_fn out)
{
	/* S (260 KB, mostly call slots) starts zeroed as static storage: the
	 * first init must not touch it, or every page of it becomes resident. */
	static int used;
	if (used)
		memset(&S, 0, sizeof S);
	used = 1;
	S.cfg = cfg;
	S.out = out;
	if (json_doc_init(&S.doc, LIMIT_JSON_TOKENS) < 0)
		return -1;
	json_w_init(&S.w, LIMIT_RESPONSE_BYTES);
	for (size_t i = 0; i < NTOOLS; i++)
		if (g_tools[i]->init)
			g_tools[i]->init(cfg);
	return 0;
}

void mcp_free(void)
{
	mcp_drop_calls();
	json_doc_free(&S.doc);
	json_w_free(&S.w);
	for (size_t i = 0; i < sizeof S.batches / sizeof *S.batches; i++) {
		free(S.batches[i].buf);
		S.batches[i].buf = NULL;
		S.batches[i].cap = 0;
	}
}
