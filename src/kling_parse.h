/*
 * kling_parse — the Kling API's replies, read into the normalized tasks of
 * tool_list_tasks.h. Pure functions over a parsed document: no I/O; strings
 * are copied into the caller's arena, so the reply body may be released as
 * soon as a function returns.
 *
 * The three listing shapes (see the team's API notes):
 *   tasks   POST /tasks       data: {result:[TASK], next_cursor, has_more}
 *   legacy  GET /v1/<product> data: [ITEM]
 *   seed    GET /v1/task/list data: {total, tasks:[...]}
 * Times may be numbers or digit strings, in seconds or milliseconds: a value
 * of 100,000,000,000 or more is milliseconds (as seconds it would be past the
 * year 5000).
 */
#ifndef KLING_PARSE_H
#define KLING_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "json.h"
#include "tool_list_tasks.h"

/* The envelope {"code","message","request_id"} of any reply. */
struct kparse_envelope {
	int is_kling;          /* 1 when the body is an object with a numeric "code" */
	int64_t code;          /* 0 = success */
	char message[512];     /* unescaped, cut to fit; "" when absent */
	char request_id[128];
	int data;              /* handle of "data", -1 when absent */
};

/* One page of a reply, normalized. Arrays and strings live in the arena. */
struct kparse_page {
	struct lt_task *tasks;
	size_t ntasks;
	int has_more;          /* tasks: data.has_more; others: 0 */
	struct lt_str next_cursor;
	int64_t total;         /* seed: data.total; -1 when unknown */
};

/* Read the envelope of document d (already parsed). Never fails: a body
 * that is not a Kling envelope gives is_kling 0. */
void kparse_envelope(const struct json_doc *d, struct kparse_envelope *env);

/* Read the data member of a successful reply into p. product names the
 * legacy product the list came from (it becomes each task's task_type).
 * Returns 0, or -1 with *why naming what was missing or of the wrong type
 * ("data.result is not an array", "a task has no id"...), or out of memory. */
int kparse_tasks(const struct json_doc *d, int data, struct arena *a, struct kparse_page *p, const char **why);
int kparse_legacy(const struct json_doc *d, int data, const char *product, struct arena *a, struct kparse_page *p,
		  const char **why);
int kparse_seed(const struct json_doc *d, int data, struct arena *a, struct kparse_page *p, const char **why);

/* A timestamp in seconds or milliseconds, as milliseconds; 0 for <= 0. */
int64_t kparse_ms(int64_t v);

/* A status word of either vocabulary ("succeeded" or "succeed", ...), or
 * LT_STATUS_NONE when unknown. */
enum lt_status kparse_status(const char *s, size_t n);

/* Deep-copy task t into arena a (for moving a task out of a shorter-lived
 * arena). Returns 0, or -1 when out of memory. */
int kparse_copy_task(struct arena *a, const struct lt_task *t, struct lt_task *out);

#endif

/* ---- our cursors ----
 * A next_cursor carries everything its next page needs, so a client can pass
 * it alone: the backend, the page it leads to, the page size and the filters,
 * and for the tasks backend Kling's own cursor. Text form:
 *   <b>1.<page>.<page_size>.<status>.<product>.<start_ms|->.<end_ms|->.<upstream>
 * with <b> 't', 'l' or 's'; status and product as their enum numbers. */
struct kcursor {
	char backend;               /* 't', 'l' or 's' */
	int page;                   /* 1..LT_PAGE_MAX */
	int page_size;              /* 1..LT_PAGE_SIZE_MAX */
	enum lt_status status;
	enum lt_product product;
	int64_t start_ms, end_ms;   /* -1 = no bound */
	const char *upstream;       /* tasks: Kling's cursor (not NUL-terminated); else "" */
	size_t upstream_len;
};

/* Write k into out[cap] with a NUL. Returns the length, or -1 if it does not
 * fit. */
int kcursor_format(const struct kcursor *k, char *out, size_t cap);

/* Read s[0..n). Returns 0 with k filled (k->upstream points into s), or -1
 * when s is not a cursor of this form. */
int kcursor_parse(const char *s, size_t n, struct kcursor *k);
