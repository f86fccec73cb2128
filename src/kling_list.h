/*
 * kling_list — list_tasks' work on the Kling API: the three listing
 * strategies, each on kling.c's request path:
 *   tasks   POST /tasks, walking Kling's cursor
 *   legacy  GET /v1/<product> for each product list, merged newest first
 *   seed    GET /v1/task/list
 * and our own cursors, encoded, decoded and checked here only. The real
 * struct kling_backend: these listings and kling_get's look-ups; and the
 * backend in use (kling_list_backend_get() returns it unless a test installs
 * another).
 */
#ifndef KLING_LIST_H
#define KLING_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "kling_task.h"

/* ---- our cursors ----
 * A next_cursor carries everything its next page needs, so a client can pass
 * it alone: the backend, the page it leads to, the page size and the filters,
 * and for the tasks backend Kling's own cursor. Text form:
 *   <b>1.<page>.<page_size>.<status>.<product>.<start_ms|->.<end_ms|->.<upstream>
 * with <b> 't', 'l' or 's'; status and product as their enum numbers; no
 * control characters anywhere. */
struct kcursor {
	char backend;               /* 't', 'l' or 's' */
	int page;                   /* 1..KLING_PAGE_MAX */
	int page_size;              /* 1..KLING_PAGE_SIZE_MAX */
	enum kling_status status;
	enum kling_product product;
	int64_t start_ms, end_ms;   /* -1 = no bound */
	const char *upstream;       /* tasks: Kling's cursor (not NUL-terminated); else "" */
	size_t upstream_len;
};

/* Write k into out[cap] with a NUL. Returns the length, or -1 if it does not
 * fit. */
int kling_list_cursor_format(const struct kcursor *k, char *out, size_t cap);

/* Read s[0..n). Returns 0 with k filled (k->upstream points into s), or -1
 * when s is not a cursor of this form. */
int kling_list_cursor_parse(const char *s, size_t n, struct kcursor *k);

/* The real backend. */
extern const struct kling_backend kling_list_backend;

/* The backend in use: the real Kling client unless a test installed its
 * own with kling_list_use_backend (kept by pointer; NULL restores the real one). */
const struct kling_backend *kling_list_backend_get(void);
void kling_list_use_backend(const struct kling_backend *b);

/* Free the spare call state kept between calls. */
void kling_list_shutdown(void);

#endif
