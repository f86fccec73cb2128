/*
 * kling_parse — the Kling API's replies, read into the normalized tasks of
 * kling_task.h. Pure functions over a parsed document: no I/O; strings
 * are copied into the caller's arena, so the reply body may be released as
 * soon as a function returns, with log.h's masking of secrets applied (an
 * upstream may echo a credential in a task's message).
 *
 * The three listing shapes, and the two look-ups (see the team's API notes):
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
#include "all_limits.h"
#include "kling_task.h"

/* The envelope {"code","message","request_id"} of any reply. */
struct kling_parse_envelope {
	int is_kling;          /* 1 when the body is an object with a numeric "code" */
	int64_t code;          /* 0 = success */
	char message[KLING_MESSAGE_MAX];     /* unescaped, cut to fit; "" when absent */
	char request_id[KLING_REQUEST_ID_MAX];
	int data;              /* handle of "data", -1 when absent */
};

/* One page of a reply, normalized. Arrays and strings live in the arena. */
struct kling_parse_page {
	struct kling_task *tasks;
	size_t ntasks;
	int has_more;          /* tasks: data.has_more; others: 0 */
	struct kling_str next_cursor;
	int64_t total;         /* seed: data.total; -1 when unknown */
};

/* Read the envelope of document d (already parsed). Never fails: a body
 * that is not a Kling envelope gives is_kling 0. */
void kling_parse_envelope(const struct json_doc *d, struct kling_parse_envelope *env);

/* Read the data member of a successful reply into p. product names the
 * legacy product the list came from (it becomes each task's task_type).
 * Returns 0, or -1 with *why naming what was missing or of the wrong type
 * ("data.result is not an array", "a task has no id"...), or out of memory. */
int kling_parse_tasks(const struct json_doc *d, int data, struct arena *a, struct kling_parse_page *p, const char **why);
int kling_parse_legacy(const struct json_doc *d, int data, const char *product, struct arena *a, struct kling_parse_page *p,
		  const char **why);
int kling_parse_seed(const struct json_doc *d, int data, struct arena *a, struct kling_parse_page *p, const char **why);

/* A look-up's reply, one task:
 *   tasks   GET /tasks?task_ids=|external_task_ids=   data: [TASK] (also read: {result:[TASK]}, null)
 *   legacy  GET /v1/<product>/<id>                    data: ITEM (null, {} or [] when unknown)
 * kling_parse_tasks_get fills *t with the task whose id (external id when
 * by_external) is id[0..n); kling_parse_legacy_get with data's item, product
 * becoming its task_type. *found is 0 when there is none (not an error).
 * Returns 0, or -1 with *why as for the listings. */
int kling_parse_tasks_get(const struct json_doc *d, int data, const char *id, size_t n, int by_external, struct arena *a,
		     struct kling_task *t, int *found, const char **why);
int kling_parse_legacy_get(const struct json_doc *d, int data, const char *product, struct arena *a, struct kling_task *t,
		      int *found, const char **why);

/* A timestamp in seconds or milliseconds, as milliseconds; 0 for <= 0. */
int64_t kling_parse_ms(int64_t v);

/* A status word of either vocabulary ("succeeded" or "succeed", ...), or
 * KLING_STATUS_NONE when unknown. */
enum kling_status kling_parse_status(const char *s, size_t n);

/* Deep-copy task t into arena a (for moving a task out of a shorter-lived
 * arena). Returns 0, or -1 when out of memory. */
int kling_parse_copy_task(struct arena *a, const struct kling_task *t, struct kling_task *out);

#endif
