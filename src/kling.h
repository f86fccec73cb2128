/*
 * kling — the Kling API behind list_tasks: the three backends (tasks,
 * legacy, seed), the Authorization header (API key, or the AK/SK pair's JWT),
 * reading replies (kling_parse) and errors (kling_err), and the retry policy.
 *
 * One call is a small state machine in the poll loop: build a request, send
 * it with http_start(), read the reply, and either answer, fetch the next
 * page (cursor walk, legacy merge), or retry after a pause. Retries: on
 * 1302/1303/5000-5002 and HTTP 429/500/502/503/504, at most
 * KLING_MAX_RETRIES, after 1 s then 2 s or the Retry-After the service asks
 * for, and never past the call's deadline.
 */
#ifndef KLING_KLING_H
#define KLING_KLING_H

#include "tool_list_tasks.h"

struct config;

#define KLING_MAX_RETRIES 2

/* Remember cfg (which must outlive the server) and install the backend of
 * list_tasks (lt_set_backend). Call after http_client_init(). */
void kling_init(const struct config *cfg);

/* The backend, for tests and --check. */
extern const struct lt_backend kling_backend;

/* Free what kling holds between calls (the reply parser's tokens, the cached
 * JWT). */
void kling_shutdown(void);

#endif
