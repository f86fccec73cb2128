/*
 * tool_list_tasks — the `list_tasks` tool (names prefixed lt_): its
 * definition, argument validation, the seam to the backend that talks to
 * Kling, and the renderer of a result (text block + structuredContent).
 *
 * Flow of one call: lt_tool.prepare validates the arguments into a struct
 * lt_query (a bad value is an isError result naming the argument; no request
 * leaves the process), then checks the configuration (config.error, then
 * missing credentials, each an isError). lt_tool.start hands the query to
 * the installed backend; the backend's done callback delivers either a
 * normalized struct lt_result, which is checked and rendered, or an error
 * text, which becomes the isError answer.
 */
#ifndef KLING_TOOL_LIST_TASKS_H
#define KLING_TOOL_LIST_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "kling_limits.h"
#include "mcp.h"

/* The tool, for the registry in mcp.c. */
extern const struct mcp_tool lt_tool;

/* Bounds of the arguments. */
#define LT_PAGE_SIZE_DEFAULT 10
#define LT_PAGE_SIZE_MAX 100
#define LT_PAGE_MAX 2147483647

enum lt_status { LT_STATUS_NONE = 0, LT_SUBMITTED, LT_PROCESSING, LT_SUCCEED, LT_FAILED };
enum lt_product { LT_PRODUCT_NONE = 0, LT_VIDEO, LT_IMAGE, LT_TRY_ON };

/* "submitted" ... / "video" ...; NULL for NONE or out of range. */
const char *lt_status_name(enum lt_status s);
const char *lt_product_name(enum lt_product p);

/* ---- the backend seam ---- */

/* What to list; valid arguments only (prepare has checked them). */
struct lt_query {
	int page;                    /* 1..LT_PAGE_MAX; 1 when not given */
	int page_given;              /* 1 when the caller passed page */
	int page_size;               /* 1..LT_PAGE_SIZE_MAX; LT_PAGE_SIZE_DEFAULT when not given */
	enum lt_status status;       /* LT_STATUS_NONE = any status */
	enum lt_product product;     /* LT_PRODUCT_NONE = any product */
	int64_t start_ms;            /* created at or after (Unix ms, UTC); -1 = no bound */
	int64_t end_ms;              /* created at or before (Unix ms, inclusive; a date alone is
	                                its last ms); -1 = no bound; start_ms <= end_ms when both */
	size_t cursor_len;           /* 0 = no cursor */
	char cursor[LIMIT_CURSOR_BYTES + 1]; /* NUL-terminated; no control characters */
};

/* A byte string (UTF-8) owned by the backend; len 0 = absent/unknown. */
struct lt_str {
	const char *ptr;
	size_t len;
};

struct lt_output {
	struct lt_str type;          /* required: "video", "image", "audio", ... */
	struct lt_str url;
	struct lt_str watermark_url;
	struct lt_str duration;      /* seconds as the API writes it, e.g. "5.1" */
};

struct lt_task {
	struct lt_str task_id;       /* required */
	enum lt_status status;       /* required, in the seed's vocabulary (succeeded -> LT_SUCCEED) */
	struct lt_str status_message;
	struct lt_str task_type;
	struct lt_str model_name;
	struct lt_str external_task_id;
	int64_t created_ms;          /* Unix ms; 0 = unknown */
	int64_t updated_ms;          /* Unix ms; 0 = unknown */
	const struct lt_output *outputs;
	size_t noutputs;
};

struct lt_result {
	const char *backend;         /* required: "tasks", "legacy" or "seed" */
	int page;                    /* >= 1 */
	int page_size;               /* >= 1 */
	int64_t total;               /* matching tasks in all pages; -1 = unknown */
	int has_more;                /* another page exists */
	struct lt_str next_cursor;   /* when has_more and cursor paging is possible */
	const struct lt_task *tasks;
	size_t ntasks;
};

/* A started listing (backend-defined). */
struct lt_op;

/* Called exactly once per started operation that was not cancelled: with a
 * result (error NULL) or with an error text (result NULL) that becomes the
 * isError answer as is — say what failed, the Kling code/message/request_id
 * when there is one, and a hint. Both are only read during the call. It may
 * be called from inside start() (then start returns NULL); otherwise from the
 * poll loop. */
typedef void (*lt_done_fn)(void *ctx, const struct lt_result *result, const char *error);

struct lt_backend {
	/* Begin listing q (valid until done is called or cancel returns) before
	 * deadline_ms (loop_now_ms() clock). Returns the operation, or NULL when
	 * done was already called — or when nothing could start (the call then
	 * fails with a generic error). */
	struct lt_op *(*start)(const struct lt_query *q, int64_t deadline_ms, lt_done_fn done, void *ctx);
	/* Stop op at once and release it; done is never called for it after. */
	void (*cancel)(struct lt_op *op);
};

/* Install the backend (kept by pointer; must outlive the server). NULL
 * restores the default, which answers every call with an isError saying the
 * Kling API client is not built into this binary yet. */
void lt_set_backend(const struct lt_backend *b);

/* ---- rendering (used by the tool; exposed for tests) ---- */

/* 0 when r can be rendered; else -1 and *why names the broken field (a
 * backend bug: empty task_id, status out of range, unknown backend name...). */
int lt_result_check(const struct lt_result *r, const char **why);

/* Write the members of a tools/call result for r into the open result object
 * of w: "content" (one text block in the seed's layout) and, when structured
 * is set (protocol 2025-06-18 and later), "structuredContent" matching the
 * tool's outputSchema. r must pass lt_result_check. */
void lt_render(struct json_w *w, const struct lt_result *r, int structured);

/* The tool's inputSchema and outputSchema (JSON text, static). */
extern const char lt_input_schema[];
extern const char lt_output_schema[];

#endif
