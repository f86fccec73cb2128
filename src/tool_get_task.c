/* tool_get_task — see tool_get_task.h. */
#include "tool_get_task.h"

#include "kling_config.h"
#include "json.h"
#include "kling.h"
#include "all_limits.h"
#include "kling_list.h"
#include "kling_task.h"
#include "log.h"
#include "loop.h"
#include "tools_render.h"
#include "text.h"
#include "tools_args.h"
#include "tools_cred.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOOL_NAME "get_task"
#define TOOL_TITLE "Get a Kling AI task"

static const char g_description[] =
	"Look up one Kling AI generation task by its task_id (or the external_task_id given when it was "
	"created): its status, failure reason and result URLs, also as resource links. With wait_seconds it "
	"waits for the task to finish (succeed or failed), looking again about every 1 to 5 seconds and "
	"reporting each status as progress; if the wait ends first, finished is false: call again to keep "
	"waiting. A long wait may outlast the client's own time limit for one call (often 60 s): when the "
	"client can call tools as tasks, prefer that form for long waits; otherwise wait at most about 50 "
	"seconds per call and call again.";

const char gt_input_schema[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"task_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":" GT_ID_MAX_STR ","
	"\"pattern\":\"^[A-Za-z0-9_.:-]+$\",\"description\":\"The task's id (give this or external_task_id)\"},"
	"\"external_task_id\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":" GT_ID_MAX_STR ","
	"\"pattern\":\"^[A-Za-z0-9_.:-]+$\","
	"\"description\":\"The id you gave the task when you created it (give this or task_id)\"},"
	"\"wait_seconds\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":" GT_WAIT_MAX_STR ","
	"\"description\":\"Wait up to this many seconds for the task to finish (default 0: answer at once)\"}},"
	"\"required\":[],\"additionalProperties\":false}";

const char gt_output_schema[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"backend\":{\"type\":\"string\",\"enum\":[\"tasks\",\"legacy\"],"
	"\"description\":\"which Kling API answered\"},"
	"\"task\":" TASK_RENDER_SCHEMA ","
	"\"finished\":{\"type\":\"boolean\",\"description\":\"the task is succeed or failed\"},"
	"\"waited_ms\":{\"type\":\"integer\",\"minimum\":0,"
	"\"description\":\"from the first look-up to the last\"},"
	"\"failed_lookups\":{\"type\":\"integer\",\"minimum\":1,"
	"\"description\":\"look-ups that failed during the wait (the task is as last seen)\"}},"
	"\"required\":[\"backend\",\"task\",\"finished\",\"waited_ms\"],\"additionalProperties\":false}";

/* ---- the per-call state ---- */

struct gt_state {
	struct kling_get_query q;
	char id[GT_ID_MAX + 1];
	int64_t wait_ms;          /* 0 = answer after the first look-up */
	struct mcp_call *call;
	int64_t deadline;         /* the call's, for every look-up */
	int64_t first, last;      /* loop ms when the first and the latest look-up began */
	int64_t backoff;          /* the next pause */
	int64_t timeout;          /* KLING_TIMEOUT_MS: each look-up's own bound */
	int polls;
	int done;                 /* the answer showed the task finished */
	int failed;               /* look-ups that failed after one answered */
	char last_error[160];     /* the latest of them, cut */
	struct kling_task *seen;  /* the task as last seen, while waiting (task_keep) */
	enum kling_api backend_seen; /* which API answered it */
	const struct kling_backend *backend;
	struct kling_get_op *op;  /* the look-up in flight, or NULL */
	struct loop_timer timer;  /* the pause before the next look-up */
};

_Static_assert(sizeof(struct gt_state) <= MCP_TOOL_STATE_BYTES, "get_task state must fit the call slot");

/* ---- links ---- */

struct ext_type {
	const char *ext, *mime;
};

static const struct ext_type g_ext_types[] = {
	{"mp4", "video/mp4"},   {"mov", "video/quicktime"}, {"webm", "video/webm"}, {"png", "image/png"},
	{"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"},     {"webp", "image/webp"}, {"gif", "image/gif"},
	{"mp3", "audio/mpeg"},  {"wav", "audio/wav"},       {"m4a", "audio/mp4"},
};

/* The entry of extension s[0..n) (any case), or NULL. */
static const struct ext_type *by_ext(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof g_ext_types / sizeof g_ext_types[0]; i++)
		if (text_ieq(s, n, g_ext_types[i].ext, strlen(g_ext_types[i].ext)))
			return &g_ext_types[i];
	return NULL;
}

/* The file kind of output o: from its URL's path ending, else from its type. */
static const struct ext_type *kind_of(const struct kling_output *o)
{
	const char *u = o->url.ptr;
	size_t n = o->url.len, end = 0;
	while (end < n && u[end] != '?' && u[end] != '#')
		end++;
	size_t dot = end;
	while (dot > 0 && u[dot - 1] != '.' && u[dot - 1] != '/')
		dot--;
	const struct ext_type *k = dot > 0 && u[dot - 1] == '.' ? by_ext(u + dot, end - dot) : NULL;
	if (k)
		return k;
	static const struct {
		const char *type, *ext;
	} usual[] = {{"video", "mp4"}, {"image", "png"}, {"audio", "mp3"}};
	for (size_t i = 0; i < sizeof usual / sizeof usual[0]; i++)
		if (o->type.len == strlen(usual[i].type) && memcmp(o->type.ptr, usual[i].type, o->type.len) == 0)
			return by_ext(usual[i].ext, 3);
	return NULL;
}

void tool_get_task_link_name(const struct kling_task *t, size_t k, char *name, size_t cap, const char **mime)
{
	const struct ext_type *kind = kind_of(&t->outputs[k]);
	const char *ext = kind ? kind->ext : "bin";
	*mime = kind ? kind->mime : "application/octet-stream";
	size_t same = 0, index = 0;
	for (size_t i = 0; i < t->noutputs; i++) {
		if (!tools_render_url_ok(t->outputs[i].url) || kind_of(&t->outputs[i]) != kind)
			continue;
		if (i < k)
			index++;
		same++;
	}
	int n = same > 1 ? snprintf(name, cap, "%.*s_%zu.%s", (int)t->task_id.len, t->task_id.ptr, index, ext)
			 : snprintf(name, cap, "%.*s.%s", (int)t->task_id.len, t->task_id.ptr, ext);
	if (n < 0 || (size_t)n >= cap)
		snprintf(name, cap, "result.%s", ext); /* an id too long for a file name */
}

/* ---- rendering ---- */

static int finished(const struct kling_task *t)
{
	return t->status == KLING_SUCCEED || t->status == KLING_FAILED;
}

/* What the wait adds to the text: the look-ups that failed, and why it ended early. */
static void render_wait_notes(struct json_w *w, const struct gt_state *st, const char *note)
{
	if (st->failed) {
		char failed[sizeof st->last_error + 120];
		snprintf(failed, sizeof failed, " %d later look-up%s failed (the last: %s)%s", st->failed,
			 st->failed == 1 ? "" : "s", st->last_error,
			 note || !st->seen ? "." : "; this is the task as last seen.");
		json_w_str_addc(w, failed);
	}
	if (note) {
		json_w_str_addc(w, " ");
		json_w_str_addc(w, note);
	}
}

static void render_text(struct json_w *w, const struct gt_state *st, const struct kling_task *t, const char *note)
{
	char secs[32];
	snprintf(secs, sizeof secs, "%lld.%lld s", (long long)((st->last - st->first) / 1000),
		 (long long)((st->last - st->first) % 1000 / 100));
	json_w_str_open(w);
	json_w_str_addc(w, "Kling AI Task:\n\n");
	tools_render_text(w, t, 0);
	if (finished(t)) {
		if (st->wait_ms) {
			json_w_str_addc(w, "\n\nFinished (");
			json_w_str_addc(w, kling_task_status_name(t->status));
			json_w_str_addc(w, ") after waiting ");
			json_w_str_addc(w, secs);
			json_w_str_addc(w, ".");
			render_wait_notes(w, st, note);
		}
	} else if (st->wait_ms) {
		json_w_str_addc(w, "\n\nNot finished after waiting ");
		json_w_str_addc(w, secs);
		json_w_str_addc(w, ": the task is ");
		json_w_str_addc(w, kling_task_status_name(t->status));
		json_w_str_addc(w, ".");
		render_wait_notes(w, st, note);
		json_w_str_addc(w, " Call get_task again with wait_seconds to keep waiting.");
	} else {
		json_w_str_addc(w, "\n\nNot finished: the task is ");
		json_w_str_addc(w, kling_task_status_name(t->status));
		json_w_str_addc(w, ". Call get_task with wait_seconds (up to " GT_WAIT_MAX_STR
				   ") to wait for it to finish.");
	}
	json_w_str_close(w);
}

/* The result's members: the text, the links (when the protocol knows
 * resource_link), structuredContent. */
static void gt_render(struct json_w *w, struct gt_state *st, enum kling_api backend,
		      const struct kling_task *t, const char *note, int links)
{
	st->done = finished(t);
	mcp_write_text_open(w);
	render_text(w, st, t, note);
	json_w_obj_end(w);
	for (size_t k = 0; links && k < t->noutputs; k++) {
		const struct kling_output *o = &t->outputs[k];
		if (!tools_render_url_ok(o->url))
			continue; /* the text says why */
		char name[GT_ID_MAX + 16];
		const char *mime;
		tool_get_task_link_name(t, k, name, sizeof name, &mime);
		json_w_obj(w);
		json_w_key(w, "type");
		json_w_cstr(w, "resource_link");
		json_w_key(w, "uri");
		json_w_str(w, o->url.ptr, o->url.len);
		json_w_key(w, "name");
		json_w_cstr(w, name);
		json_w_key(w, "mimeType");
		json_w_cstr(w, mime);
		json_w_obj_end(w);
	}
	json_w_arr_end(w);
	json_w_key(w, "structuredContent");
	json_w_obj(w);
	json_w_key(w, "backend");
	json_w_cstr(w, kling_task_api_name(backend));
	json_w_key(w, "task");
	tools_render_json(w, t);
	json_w_key(w, "finished");
	json_w_bool(w, finished(t));
	json_w_key(w, "waited_ms");
	json_w_int(w, st->last - st->first);
	if (st->failed) {
		json_w_key(w, "failed_lookups");
		json_w_int(w, st->failed);
	}
	json_w_obj_end(w);
}

/* ---- the wait ---- */

static void look(void *arg);

/* The task as last seen, kept between look-ups: a copy of t in one
 * allocation of at most LIMIT_WAIT_TASK_BYTES (NULL when larger or out of
 * memory: the wait then answers at once). */
/* Move string *s's bytes to *p (memcpy is not given the NULL of an absent one). */
static void keep_str(struct kling_str *s, char **p)
{
	if (s->len)
		memcpy(*p, s->ptr, s->len);
	s->ptr = *p;
	*p += s->len;
}

static struct kling_task *task_keep(const struct kling_task *t)
{
	size_t need = sizeof *t + t->noutputs * sizeof *t->outputs;
	for (size_t k = 0; k < t->noutputs; k++)
		need += t->outputs[k].type.len + t->outputs[k].url.len + t->outputs[k].watermark_url.len +
			t->outputs[k].duration.len;
	need += t->task_id.len + t->status_message.len + t->task_type.len + t->model_name.len + t->external_task_id.len;
	struct kling_task *c = need <= LIMIT_WAIT_TASK_BYTES ? malloc(need) : NULL;
	if (!c)
		return NULL;
	*c = *t;
	struct kling_output *o = (struct kling_output *)(c + 1);
	if (t->noutputs)
		memcpy(o, t->outputs, t->noutputs * sizeof *o);
	c->outputs = t->noutputs ? o : NULL;
	char *p = (char *)(o + t->noutputs);
	for (size_t k = 0; k < t->noutputs; k++) {
		keep_str(&o[k].type, &p);
		keep_str(&o[k].url, &p);
		keep_str(&o[k].watermark_url, &p);
		keep_str(&o[k].duration, &p);
	}
	keep_str(&c->task_id, &p);
	keep_str(&c->status_message, &p);
	keep_str(&c->task_type, &p);
	keep_str(&c->model_name, &p);
	keep_str(&c->external_task_id, &p);
	return c;
}

static void seen_drop(struct gt_state *st)
{
	free(st->seen);
	st->seen = NULL;
}

/* Answer with the task as last seen (st->seen), note (or NULL) said after
 * the status. */
static void answer_seen(struct gt_state *st, const char *note)
{
	struct json_w *w = mcp_call_result_begin(st->call);
	gt_render(w, st, st->backend_seen, st->seen, note, mcp_call_version(st->call) >= MCP_V_2025_06_18);
	seen_drop(st);
	mcp_call_result_end(st->call);
}

/* Between two look-ups: sleep without a running slot until the next, or
 * answer when the wait is over or cannot go on. */
static void wait_more(struct gt_state *st)
{
	int64_t now = loop_now_ms(), end = st->first + st->wait_ms;
	if (finished(st->seen) || now >= end || now >= st->deadline) {
		answer_seen(st, NULL);
		return;
	}
	int64_t at = now + st->backoff < end ? now + st->backoff : end;
	st->backoff = st->backoff * 3 / 2 > GT_BACKOFF_MAX_MS ? GT_BACKOFF_MAX_MS : st->backoff * 3 / 2;
	const char *why = mcp_call_sleep(st->call, at);
	if (why)
		answer_seen(st, why);
}

/* A look-up failed after an earlier one answered: counted, and the wait
 * goes on with the task as last seen. */
static void lookup_failed(struct gt_state *st, const char *error)
{
	st->failed++;
	size_t n = strlen(error), cut = n < sizeof st->last_error - 1 ? n : sizeof st->last_error - 1;
	while (cut < n && cut > 0 && ((unsigned char)error[cut] & 0xC0) == 0x80)
		cut--; /* never inside a UTF-8 character */
	memcpy(st->last_error, error, cut);
	st->last_error[cut] = 0;
	log_info("get_task: look-up %d failed, the wait goes on (%d failed)", st->polls, st->failed);
	wait_more(st);
}

static void on_found(void *ctx, const struct kling_get_result *r, const char *error)
{
	struct gt_state *st = ctx;
	struct mcp_call *call = st->call;
	st->op = NULL;
	st->polls++;
	const char *why;
	char text[GT_ID_MAX + 400];
	const char *fail = error ? error : !r ? "Internal error: the backend gave neither a result nor an error." : NULL;
	if (!fail && !r->task) {
		snprintf(text, sizeof text,
			 "No task with %s \"%s\" was found (asked the %s API). Check the id: list_tasks shows the "
			 "account's tasks and their ids.",
			 st->q.by_external ? "external_task_id" : "task_id", st->id, kling_task_api_name(r->backend));
		fail = text;
	} else if (!fail && tools_render_check(r->task, &why) < 0) {
		snprintf(text, sizeof text, "Internal error: the %s backend returned an unusable task (%s).",
			 kling_task_api_name(r->backend), why);
		fail = text;
	}
	if (fail) { /* an error only when no look-up ever answered */
		if (st->seen)
			lookup_failed(st, fail);
		else
			mcp_call_fail(call, fail);
		return;
	}
	st->q.product = r->product; /* legacy: later look-ups ask only the product that has it */
	const struct kling_task *t = r->task;
	int64_t now = loop_now_ms();
	char msg[160];
	snprintf(msg, sizeof msg, "%s (look-up %d, %lld.%lld s)", kling_task_status_name(t->status), st->polls,
		 (long long)((now - st->first) / 1000), (long long)((now - st->first) % 1000 / 100));
	mcp_call_progress(call, st->polls, -1, msg);
	seen_drop(st);
	st->backend_seen = r->backend;
	st->seen = st->wait_ms && !finished(t) ? task_keep(t) : NULL;
	if (!st->seen) { /* answered now: finished, no wait, or too large to keep */
		struct json_w *w = mcp_call_result_begin(call);
		gt_render(w, st, r->backend, t, NULL, mcp_call_version(call) >= MCP_V_2025_06_18);
		mcp_call_result_end(call);
		return;
	}
	wait_more(st);
}

/* One look-up (from the loop: a timer, start or resume). The first gets
 * KLING_TIMEOUT_MS; a later one as much, never past the call's deadline. */
static void look(void *arg)
{
	struct gt_state *st = arg;
	st->last = loop_now_ms();
	if (!st->backend->get_start) {
		mcp_call_fail(st->call, "Internal error: this backend has no look-up of one task.");
		return;
	}
	int64_t until = st->last + st->timeout < st->deadline ? st->last + st->timeout : st->deadline;
	st->op = st->backend->get_start(&st->q, until, on_found, st);
	if (!st->op && st->seen)
		lookup_failed(st, "kling-mcp is out of memory: the look-up could not start.");
	else if (!st->op)
		mcp_call_fail(st->call, "kling-mcp is out of memory: the look-up could not start.");
}

static int gt_start(struct mcp_call *call, void *state, int64_t deadline_ms)
{
	struct gt_state *st = state;
	st->call = call;
	st->q.id = st->id;
	st->deadline = deadline_ms;
	st->backend = kling_list_backend_get();
	st->first = st->last = loop_now_ms();
	const struct kling_config *cfg = kling_settings();
	st->timeout = cfg ? cfg->timeout_ms : deadline_ms - st->first - st->wait_ms;
	st->backoff = GT_BACKOFF_FIRST_MS;
	loop_timer_set(&st->timer, st->first, look, st); /* never answer from inside start */
	return 0;
}

static void gt_resume(struct mcp_call *call, void *state, const char *end)
{
	(void)call;
	struct gt_state *st = state;
	char note[200];
	if (!end) {
		look(st);
		return;
	}
	if (!st->seen) /* the first look-up is still to answer: it will (and cannot sleep after) */
		return;
	loop_timer_clear(&st->timer);
	if (st->op) /* a later look-up in progress: the task as last seen is the answer */
		st->backend->get_cancel(st->op);
	st->op = NULL;
	snprintf(note, sizeof note, "The wait ended early: %s.", end);
	answer_seen(st, note);
}

static void gt_cancel(struct mcp_call *call, void *state)
{
	(void)call;
	struct gt_state *st = state;
	loop_timer_clear(&st->timer);
	if (st->op)
		st->backend->get_cancel(st->op);
	st->op = NULL;
	seen_drop(st);
}

/* ---- as a task (mcp.h) ---- */

static int id_chars_ok(const char *s, int64_t n);
static int ready(char *err, size_t errcap);

static size_t gt_task_key(const void *state, char *out, size_t cap)
{
	const struct gt_state *st = state;
	const char *k = st->seen ? st->seen->task_id.ptr : st->q.by_external ? "" : st->id;
	size_t n = st->seen ? st->seen->task_id.len : strlen(k);
	if (n >= cap || !id_chars_ok(k, (int64_t)n))
		return 0;
	memcpy(out, k, n);
	out[n] = 0;
	return n;
}

static int gt_task_lookup(void *state, const char *key, size_t n, char *err, size_t errcap)
{
	struct gt_state *st = state;
	if (n == 0 || n > GT_ID_MAX || !id_chars_ok(key, (int64_t)n)) {
		snprintf(err, errcap, "Internal error: the task's key is not a Kling task id.");
		return -1;
	}
	memcpy(st->id, key, n);
	st->id[n] = 0;
	st->q.id_len = n;
	return ready(err, errcap);
}

static int gt_task_done(const void *state)
{
	const struct gt_state *st = state;
	return st->done;
}

static int64_t gt_wait(const void *state)
{
	const struct gt_state *st = state;
	return st->wait_ms;
}

/* ---- arguments ---- */

enum { A_TASK_ID, A_EXTERNAL, A_WAIT, NARGS };

static const struct targ_spec g_args[NARGS] = {
	[A_TASK_ID] = {.name = "task_id", .type = TARG_STRING, .min = 1, .max = GT_ID_MAX,
		       .bad = "must be a task id: 1 to " GT_ID_MAX_STR " characters"},
	[A_EXTERNAL] = {.name = "external_task_id", .type = TARG_STRING, .min = 1, .max = GT_ID_MAX,
			.bad = "must be the external id given at creation: 1 to " GT_ID_MAX_STR " characters"},
	[A_WAIT] = {.name = "wait_seconds", .type = TARG_INTEGER, .min = 0, .max = GT_WAIT_MAX,
		    .bad = "must be an integer from 0 to " GT_WAIT_MAX_STR " (seconds; default 0)"},
};

/* An id goes into a request path and query as it is: letters, digits and
 * _ . : - only (Kling's ids are digits). */
static int id_chars_ok(const char *s, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == ':' || c == '-'))
			return 0; /* also a NUL from \u0000: the id is exactly n bytes */
	}
	return 1;
}

/* Whether a look-up could be sent at all: 0, or -1 with the reason in err. */
static int ready(char *err, size_t errcap)
{
	const struct kling_config *cfg = kling_settings();
	if (tools_cred_ready(cfg, err, errcap) != 0)
		return -1;
	if (cfg && kling_config_effective_backend(cfg) == KLING_API_SEED) {
		snprintf(err, errcap,
			 "get_task cannot work with KLING_BACKEND=seed: the seed endpoint (GET /v1/task/list) has no "
			 "look-up of one task by id. Use list_tasks to find the task, or set KLING_BACKEND to tasks "
			 "(with KLING_API_KEY) or legacy.");
		return -1;
	}
	return 0;
}

static int gt_prepare(const struct json_doc *d, int args, void *state, char *err, size_t errcap)
{
	struct gt_state *st = state;
	char ext[GT_ID_MAX + 1] = "";
	char *const strings[NARGS] = {[A_TASK_ID] = st->id, [A_EXTERNAL] = ext};
	struct targs a;
	char g[TARGS_GOT_MAX + 8];
	tools_args_check(&a, TOOL_NAME, g_args, NARGS, d, args, strings);
	int have_id = a.tok[A_TASK_ID] >= 0, have_ext = a.tok[A_EXTERNAL] >= 0;
	if (have_id && !id_chars_ok(st->id, a.num[A_TASK_ID]))
		tools_args_problem(&a, "task_id may hold only letters, digits and _ . : -, got %s",
			      tools_args_got(d, a.tok[A_TASK_ID], g, sizeof g));
	if (have_ext && !id_chars_ok(ext, a.num[A_EXTERNAL]))
		tools_args_problem(&a, "external_task_id may hold only letters, digits and _ . : -, got %s",
			      tools_args_got(d, a.tok[A_EXTERNAL], g, sizeof g));
	if (have_id && have_ext)
		tools_args_problem(&a, "give task_id or external_task_id, not both");
	else if (!have_id && !have_ext && a.nproblems == 0)
		tools_args_problem(&a, "give task_id (the task's id) or external_task_id (the id given when it was created)");
	if (tools_args_finish(&a, err, errcap) != 0)
		return -1;
	if (have_ext)
		memcpy(st->id, ext, sizeof st->id);
	st->q.by_external = have_ext;
	st->q.id = NULL; /* set by start: the state may move before then */
	st->q.id_len = strlen(st->id);
	st->wait_ms = a.tok[A_WAIT] >= 0 ? a.num[A_WAIT] * 1000 : 0;

	/* the arguments are good: now whether a request could be sent at all */
	return ready(err, errcap);
}

static void gt_describe(struct json_w *w, int tasks)
{
	mcp_tool_describe(w, TOOL_NAME, TOOL_TITLE, g_description, gt_input_schema, sizeof gt_input_schema - 1,
			  gt_output_schema, sizeof gt_output_schema - 1, tasks);
}

const struct mcp_tool gt_tool = {TOOL_NAME, gt_describe, gt_prepare, gt_start,	  gt_cancel,	  gt_wait,
				 gt_resume, gt_task_key, gt_task_lookup, gt_task_done};
