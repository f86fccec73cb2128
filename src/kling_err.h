/*
 * kling_err — what a Kling error code means, whether it is worth retrying,
 * and the sentence a user (or an assistant) needs to act on it.
 * Pure functions; no I/O.
 */
#ifndef KLING_ERR_H
#define KLING_ERR_H

#include <stddef.h>

#include "kling_task.h"

/* Which credential signed the request, and (enum kling_api) which endpoint family
 * it went to:
 * the same code can need a different hint (1002 on /tasks with AK/SK). */
enum kling_auth { KLING_AUTH_API_KEY, KLING_AUTH_JWT };

/* An error reported by the service: HTTP status, and when the body was a
 * Kling envelope, its code (else 0), message and request_id (NUL-terminated,
 * may be empty). */
struct kling_error {
	int http_status;
	int code;
	const char *message;
	const char *request_id;
};

/* 1 when a retry may succeed: rate limit and concurrency (1302, 1303), the
 * service's own faults (5000-5002), HTTP 429 without an account code, and
 * HTTP 500/502/503/504 (also when the body carries a code that is not
 * Kling's, as gateways write {"code":503}). Never for Kling's auth, account,
 * permission, whitelist or request codes (1000-1999 but 1302/1303), nor
 * other 4xx. */
int kling_err_retryable(int http_status, int code);

/* Write the sentence for e into out[cap] (NUL-terminated, truncated to fit):
 * "Kling API error <code> (HTTP <status>): <message> (request_id <id>). <hint>"
 * or, for a body that was not a Kling envelope, "Kling API answered HTTP
 * <status> <reason> at <path>. <hint>". Returns the length written. */
size_t kling_err_text(const struct kling_error *e, enum kling_api ep, enum kling_auth auth,
		      const char *path, char *out, size_t cap);

#endif
