/*
 * kling_task — the Kling layer's model of a task and its backend interface:
 * the status and product vocabularies, the listing APIs (one enum, one name
 * table), a listing query and its result, and struct kling_backend, the
 * seam through which a tool starts work on Kling (the real client, or a
 * test's fake installed with kling_list_use_backend, kling_list.h).
 *
 * Completion rule: a backend never calls done from inside the function that
 * started the work; it is delivered from the poll loop, exactly once, unless
 * the work was cancelled first.
 */
#ifndef KLING_TASK_H
#define KLING_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "all_limits.h"

enum kling_status { KLING_STATUS_NONE = 0, KLING_SUBMITTED, KLING_PROCESSING, KLING_SUCCEED, KLING_FAILED };
enum kling_product { KLING_PRODUCT_NONE = 0, KLING_VIDEO, KLING_IMAGE, KLING_TRY_ON };

/* The listing API a call goes to. AUTO is a configuration value only. */
enum kling_api { KLING_API_AUTO = 0, KLING_API_TASKS, KLING_API_LEGACY, KLING_API_SEED };

/* "submitted" ... / "video" ... / "tasks" ...; NULL for NONE (AUTO is
 * "auto") or out of range. */
const char *kling_task_status_name(enum kling_status s);
const char *kling_task_product_name(enum kling_product p);
const char *kling_task_api_name(enum kling_api a);

/* The tables behind the first two: [0] is NULL, then one name per value. */
extern const char *const kling_status_names[KLING_FAILED + 1];
extern const char *const kling_product_names[KLING_TRY_ON + 1];

/* A byte string (UTF-8) owned by the backend; len 0 = absent/unknown. */
struct kling_str {
	const char *ptr;
	size_t len;
};

struct kling_output {
	struct kling_str type;          /* required: "video", "image", "audio", ... */
	struct kling_str url;
	struct kling_str watermark_url;
	struct kling_str duration;      /* seconds as the API writes it, e.g. "5.1" */
};

struct kling_task {
	struct kling_str task_id;       /* required */
	enum kling_status status;       /* required, in the seed's vocabulary (succeeded -> KLING_SUCCEED) */
	struct kling_str status_message;
	struct kling_str task_type;
	struct kling_str model_name;
	struct kling_str external_task_id;
	int64_t created_ms;             /* Unix ms; 0 = unknown */
	int64_t updated_ms;             /* Unix ms; 0 = unknown */
	const struct kling_output *outputs;
	size_t noutputs;
};

/* What to list (valid values: the tool has checked ranges and formats; the
 * cursor's content is checked by the listing itself). */
struct kling_list_query {
	int page;                    /* 1..KLING_PAGE_MAX; 1 when not given */
	int page_given;              /* 1 when the caller passed page */
	int page_size;               /* 1..KLING_PAGE_SIZE_MAX; KLING_PAGE_SIZE_DEFAULT when not given */
	enum kling_status status;    /* KLING_STATUS_NONE = any status */
	enum kling_product product;  /* KLING_PRODUCT_NONE = any product */
	int64_t start_ms;            /* created at or after (Unix ms, UTC); -1 = no bound */
	int64_t end_ms;              /* created at or before (Unix ms, inclusive; a date alone is
	                                its last ms); -1 = no bound; start_ms <= end_ms when both */
	size_t cursor_len;           /* 0 = no cursor */
	char cursor[LIMIT_CURSOR_BYTES + 1]; /* NUL-terminated */
};

struct kling_list_result {
	enum kling_api backend;      /* TASKS, LEGACY or SEED */
	int page;                    /* >= 1 */
	int page_size;               /* >= 1 */
	int64_t total;               /* matching tasks in all pages; -1 = unknown */
	int has_more;                /* another page exists */
	struct kling_str next_cursor; /* when has_more and cursor paging is possible */
	const struct kling_task *tasks;
	size_t ntasks;
};

/* Work started through a backend (backend-defined): a listing, a look-up. */
struct kling_op;
struct kling_get_op;

/* Called exactly once per started operation that was not cancelled, from
 * the poll loop (never from inside list_start): with a result (error NULL)
 * or with an error text (result NULL) that becomes the isError answer as is
 * — it says what failed, the Kling code/message/request_id when there is
 * one, and a hint. Both are only read during the call. */
typedef void (*kling_list_done_fn)(void *ctx, const struct kling_list_result *result, const char *error);

/* What to look up: one task by id. */
struct kling_get_query {
	const char *id;              /* task_id, or external_task_id when by_external; [A-Za-z0-9_.:-], 1..KLING_TASK_ID_MAX bytes */
	size_t id_len;
	int by_external;
	const char *product;         /* legacy: ask only this product (a previous answer's); NULL = every product of the set */
};

struct kling_get_result {
	enum kling_api backend;      /* TASKS or LEGACY */
	const struct kling_task *task; /* NULL: no task has this id */
	const char *product;         /* legacy: the product that has it (outlives the server); else NULL */
};

/* Called exactly once per started look-up that was not cancelled, from the
 * poll loop: with a result (error NULL; its task may be NULL: unknown id) or
 * with an error text as for kling_list_done_fn. Only read during the call. */
typedef void (*kling_get_done_fn)(void *ctx, const struct kling_get_result *result, const char *error);

struct kling_backend {
	/* Begin listing q (copied) before deadline_ms (loop_now_ms() clock).
	 * Returns the operation, or NULL when out of memory (done is never
	 * called then). */
	struct kling_op *(*list_start)(const struct kling_list_query *q, int64_t deadline_ms, kling_list_done_fn done,
				       void *ctx);
	/* Stop op at once and release it; done is never called for it after. */
	void (*cancel)(struct kling_op *op);
	/* Begin looking q up (copied) before deadline_ms. Returns the
	 * operation (cancelled with get_cancel), or NULL when out of memory.
	 * NULL members: this backend has no look-up. */
	struct kling_get_op *(*get_start)(const struct kling_get_query *q, int64_t deadline_ms,
					  kling_get_done_fn done, void *ctx);
	void (*get_cancel)(struct kling_get_op *op);
};

/* Said where an AK/SK (legacy backend) user looks for tasks: the empty
 * listing and --check. Tasks of Kling 3.0 models exist only in /tasks. */
#define KLING_LEGACY_3_0_NOTE                                                                                  \
	"The legacy per-product lists do not show tasks of Kling 3.0 models (made through the path-style "     \
	"endpoints): only the tasks backend lists those, and it needs KLING_API_KEY."

#endif
