/* tool_list_tasks — see tool_list_tasks.h. */
#include "tool_list_tasks.h"

#include "tools_render.h"

#include "iso8601.h"
#include "kling.h"
#include "kling_list.h"
#include "log.h"
#include "tools_args.h"
#include "tools_cred.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TOOL_NAME "list_tasks"
#define TOOL_TITLE "List Kling AI tasks"

static const char g_description[] =
	"List the generation tasks of the Kling AI account this server runs with (videos, images, virtual "
	"try-ons), newest first. For each task: id, type, status (submitted, processing, succeed, failed), "
	"failure message, model, creation and update times (ISO 8601, UTC) and result URLs (they expire 30 "
	"days after creation). Filter with status, product_type, and creation time with start_time/end_time "
	"(ISO 8601 such as 2026-11-29T03:20:00Z or 2026-11-29T11:20:00+08:00; no offset means UTC; a date "
	"alone as end_time covers that whole day). For the next page pass the previous result's next_cursor "
	"as cursor (or use page). Read-only: it never creates, changes or cancels a task.";

const char lt_input_schema[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"page\":{\"type\":\"integer\",\"minimum\":1,\"default\":1,"
	"\"description\":\"Page number for pagination (default: 1)\"},"
	"\"page_size\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":10,"
	"\"description\":\"Number of tasks per page (default: 10, max: 100)\"},"
	"\"status\":{\"type\":\"string\",\"enum\":[\"submitted\",\"processing\",\"succeed\",\"failed\"],"
	"\"description\":\"Filter tasks by status\"},"
	"\"start_time\":{\"type\":\"string\","
	"\"description\":\"Filter tasks created after this time (ISO 8601 format, e.g. 2026-11-29T03:20:00Z; "
	"no offset means UTC)\"},"
	"\"end_time\":{\"type\":\"string\","
	"\"description\":\"Filter tasks created before this time (ISO 8601 format; a date alone means the end "
	"of that day, UTC)\"},"
	"\"cursor\":{\"type\":\"string\",\"minLength\":1,"
	"\"description\":\"next_cursor of a previous list_tasks result, to get the page after it; "
	"pass it alone: it carries that listing's filters and page size (at most 1024 bytes)\"},"
	"\"product_type\":{\"type\":\"string\",\"enum\":[\"video\",\"image\",\"try_on\"],"
	"\"description\":\"Filter tasks by product: video, image or try_on (virtual try-on)\"}},"
	"\"required\":[],\"additionalProperties\":false}";

const char lt_output_schema[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"backend\":{\"type\":\"string\",\"enum\":[\"tasks\",\"legacy\",\"seed\"],"
	"\"description\":\"which Kling listing API answered\"},"
	"\"page\":{\"type\":\"integer\",\"minimum\":1},"
	"\"page_size\":{\"type\":\"integer\",\"minimum\":1},"
	"\"total\":{\"type\":\"integer\",\"minimum\":0,\"description\":\"matching tasks in all pages, when known\"},"
	"\"has_more\":{\"type\":\"boolean\"},"
	"\"next_cursor\":{\"type\":\"string\",\"minLength\":1,"
	"\"description\":\"pass as cursor to get the next page\"},"
	"\"tasks\":{\"type\":\"array\",\"items\":" TASK_RENDER_SCHEMA "}},"
	"\"required\":[\"backend\",\"page\",\"page_size\",\"has_more\",\"tasks\"],\"additionalProperties\":false}";

/* ---- the per-call state ---- */

struct lt_state {
	struct kling_list_query q;
	struct kling_op *op;
	const struct kling_backend *backend; /* the one that started op */
};

_Static_assert(sizeof(struct lt_state) <= MCP_TOOL_STATE_BYTES, "list_tasks state must fit the call slot");

/* ---- argument validation ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

enum arg { A_PAGE, A_PAGE_SIZE, A_STATUS, A_START, A_END, A_CURSOR, A_PRODUCT, NARGS };

#define TIME_HELP "must be an ISO 8601 date-time from 1970 to 9999 such as 2026-11-29T03:20:00Z, " \
		  "2026-11-29T11:20:00+08:00 or 2026-11-29"

static const struct targ_spec g_args[NARGS] = {
	[A_PAGE] = {.name = "page", .type = TARG_INTEGER, .min = 1, .max = KLING_PAGE_MAX,
		    .bad = "must be an integer from 1 to " STR(KLING_PAGE_MAX),
		    .bad_type = "must be an integer of at least 1 (default 1)"},
	[A_PAGE_SIZE] = {.name = "page_size", .type = TARG_INTEGER, .min = 1, .max = KLING_PAGE_SIZE_MAX,
			 .bad = "must be an integer from 1 to " STR(KLING_PAGE_SIZE_MAX) " (default " STR(
				 KLING_PAGE_SIZE_DEFAULT) ")"},
	[A_STATUS] = {.name = "status", .type = TARG_ENUM, .values = kling_status_names, .nvalues = KLING_FAILED,
		      .bad = "must be one of submitted, processing, succeed, failed"},
	[A_START] = {.name = "start_time", .type = TARG_DATE, .bad = TIME_HELP},
	[A_END] = {.name = "end_time", .type = TARG_DATE, .end = 1, .bad = TIME_HELP},
	[A_CURSOR] = {.name = "cursor", .type = TARG_STRING, .min = 1, .max = LIMIT_CURSOR_BYTES,
		      .bad = "must be the next_cursor string of a previous list_tasks result (1 to " STR(
			      LIMIT_CURSOR_BYTES) " bytes)"},
	[A_PRODUCT] = {.name = "product_type", .type = TARG_ENUM, .values = kling_product_names,
		       .nvalues = KLING_TRY_ON, .bad = "must be one of video, image, try_on"},
};

static int lt_prepare(const struct json_doc *d, int args, void *state, char *err, size_t errcap)
{
	struct lt_state *st = state;
	struct kling_list_query *q = &st->q;
	struct targs a;
	char *const strings[NARGS] = {[A_CURSOR] = q->cursor};
	tools_args_check(&a, TOOL_NAME, g_args, NARGS, d, args, strings);
	q->page = a.tok[A_PAGE] >= 0 ? (int)a.num[A_PAGE] : 1;
	q->page_given = a.tok[A_PAGE] >= 0;
	q->page_size = a.tok[A_PAGE_SIZE] >= 0 ? (int)a.num[A_PAGE_SIZE] : KLING_PAGE_SIZE_DEFAULT;
	q->status = a.tok[A_STATUS] >= 0 ? (enum kling_status)a.num[A_STATUS] : KLING_STATUS_NONE;
	q->product = a.tok[A_PRODUCT] >= 0 ? (enum kling_product)a.num[A_PRODUCT] : KLING_PRODUCT_NONE;
	q->start_ms = a.tok[A_START] >= 0 ? a.num[A_START] : -1;
	q->end_ms = a.tok[A_END] >= 0 ? a.num[A_END] : -1;
	q->cursor_len = a.tok[A_CURSOR] >= 0 ? (size_t)a.num[A_CURSOR] : 0;
	if (q->start_ms >= 0 && q->end_ms >= 0 && q->start_ms > q->end_ms) {
		char s1[ISO8601_LEN + 1], s2[ISO8601_LEN + 1];
		iso8601_format(q->start_ms, s1);
		iso8601_format(q->end_ms, s2);
		tools_args_problem(&a, "start_time (%s) is after end_time (%s)", s1, s2);
	}
	if (q->cursor_len && q->page_given && q->page > 1)
		tools_args_problem(&a, "give either cursor or page, not both: the cursor already says where the next page "
				  "starts");
	if (tools_args_finish(&a, err, errcap) != 0)
		return -1;

	/* the arguments are good: now whether a request could be sent at all */
	return tools_cred_ready(kling_settings(), err, errcap);
}

/* ---- start / done / cancel ---- */

static void on_done(void *ctx, const struct kling_list_result *r, const char *error)
{
	struct mcp_call *call = ctx;
	struct lt_state *st = mcp_call_state(call);
	st->op = NULL;
	const char *why;
	if (error || !r) {
		mcp_call_fail(call, error ? error : "Internal error: the backend gave neither a result nor an error.");
	} else if (tool_list_tasks_result_check(r, &why) < 0) {
		char text[200];
		const char *name = kling_task_api_name(r->backend);
		snprintf(text, sizeof text, "Internal error: the %s backend returned an unusable result (%s).",
			 name ? name : "?", why);
		mcp_call_fail(call, text);
	} else {
		struct json_w *w = mcp_call_result_begin(call);
		tool_list_tasks_render(w, r, 1); /* structuredContent whatever the version (older clients ignore it) */
		mcp_call_result_end(call);
	}
}

/* Never answers from here: the backend calls on_done from the loop. */
static int lt_start(struct mcp_call *call, void *state, int64_t deadline_ms)
{
	struct lt_state *st = state;
	st->backend = kling_list_backend_get();
	st->op = st->backend->list_start(&st->q, deadline_ms, on_done, call);
	return st->op ? 0 : -1;
}

static void lt_cancel(struct mcp_call *call, void *state)
{
	(void)call;
	struct lt_state *st = state;
	if (st->op)
		st->backend->cancel(st->op);
	st->op = NULL;
}

/* ---- the definition ---- */

static void lt_describe(struct json_w *w, int tasks)
{
	(void)tasks;
	mcp_tool_describe(w, TOOL_NAME, TOOL_TITLE, g_description, lt_input_schema, sizeof lt_input_schema - 1,
			  lt_output_schema, sizeof lt_output_schema - 1, 0);
}

const struct mcp_tool lt_tool = {TOOL_NAME, lt_describe, lt_prepare, lt_start, lt_cancel, NULL, NULL, NULL, NULL, NULL};

/* ---- rendering ---- */

static int has(struct kling_str s)
{
	return s.ptr && s.len;
}

int tool_list_tasks_result_check(const struct kling_list_result *r, const char **why)
{
	if (r->backend < KLING_API_TASKS || r->backend > KLING_API_SEED) {
		*why = "backend name";
		return -1;
	}
	if (r->page < 1 || r->page_size < 1) {
		*why = "page or page_size below 1";
		return -1;
	}
	if (r->ntasks && !r->tasks) {
		*why = "tasks missing";
		return -1;
	}
	for (size_t i = 0; i < r->ntasks; i++)
		if (tools_render_check(&r->tasks[i], why) < 0)
			return -1;
	return 0;
}

static void render_text(struct json_w *w, const struct kling_list_result *r)
{
	json_w_str_open(w);
	json_w_str_addc(w, "Kling AI Task List (Page ");
	json_w_str_add_int(w, r->page);
	json_w_str_addc(w, "):");
	if (r->total >= 0) {
		json_w_str_addc(w, "\n\nTotal Tasks: ");
		json_w_str_add_int(w, r->total);
	}
	if (r->ntasks == 0) {
		json_w_str_addc(w, "\n\nNo tasks found.");
		if (r->backend == KLING_API_LEGACY) /* where an AK/SK user looks first: Kling 3.0 tasks are not there */
			json_w_str_addc(w, " " KLING_LEGACY_3_0_NOTE);
	} else {
		json_w_str_addc(w, "\n\nTasks:");
		for (size_t i = 0; i < r->ntasks; i++) {
			json_w_str_addc(w, "\n\n");
			tools_render_text(w, &r->tasks[i], (int64_t)i + 1);
		}
	}
	if (r->has_more) {
		if (has(r->next_cursor)) {
			json_w_str_addc(w, "\n\nMore tasks: call list_tasks with cursor \"");
			tools_render_text_add(w, r->next_cursor);
			json_w_str_addc(w, "\" to get the next page.");
		} else {
			json_w_str_addc(w, "\n\nMore tasks: call list_tasks with page ");
			json_w_str_add_int(w, (int64_t)r->page + 1);
			json_w_str_addc(w, " to get the next page.");
		}
	}
	json_w_str_close(w);
}

static void render_structured(struct json_w *w, const struct kling_list_result *r)
{
	json_w_obj(w);
	json_w_key(w, "backend");
	json_w_cstr(w, kling_task_api_name(r->backend));
	json_w_key(w, "page");
	json_w_int(w, r->page);
	json_w_key(w, "page_size");
	json_w_int(w, r->page_size);
	if (r->total >= 0) {
		json_w_key(w, "total");
		json_w_int(w, r->total);
	}
	json_w_key(w, "has_more");
	json_w_bool(w, r->has_more);
	if (r->has_more && has(r->next_cursor)) {
		json_w_key(w, "next_cursor");
		json_w_str(w, r->next_cursor.ptr, r->next_cursor.len);
	}
	json_w_key(w, "tasks");
	json_w_arr(w);
	for (size_t i = 0; i < r->ntasks; i++)
		tools_render_json(w, &r->tasks[i]);
	json_w_arr_end(w);
	json_w_obj_end(w);
}

void tool_list_tasks_render(struct json_w *w, const struct kling_list_result *r, int structured)
{
	mcp_write_text_open(w);
	render_text(w, r);
	json_w_obj_end(w);
	json_w_arr_end(w);
	if (structured) {
		json_w_key(w, "structuredContent");
		render_structured(w, r);
	}
}
