/*
 * mcp_task — the tasks of MCP tool calls, below the MCP core (mcp.c), which
 * owns the methods and the calls; this module names no tool.
 *
 * Protocol 2025-11-25 (tasks, SEP-1686): a task is kept in this process,
 * bound to its owner (the session that created it): an unguessable id (16
 * bytes from getrandom), its status, the last status message, and once it
 * ended its result (the CallToolResult object's JSON text), until its ttl
 * from creation. Bounded: LIMIT_TASKS in all, LIMIT_SESSION_TASKS per owner.
 *
 * Protocol 2026-07-28 (io.modelcontextprotocol/tasks): no state. The id
 * carries what any process sharing the key needs to resolve it again: the
 * key of the work (get_task: the Kling task id), which tool, when the task
 * was created and when its wait ends, 8 bytes of SHA-256 over the
 * credentials it was made with (the Kling key, and KLING_MCP_TOKEN when the
 * listener requires one), and an HMAC-SHA256 over all of it (cut to 16
 * bytes) with KLING_MCP_TASK_KEY, or a key drawn at random per process when
 * that is unset. All of it base64url, so it is safe in an Mcp-Name header.
 * A forged, altered, foreign or expired id is refused.
 *
 * Times are Unix ms of the wall clock (ids outlive one process's monotonic
 * clock); functions take "now" so that tests choose it.
 */
#ifndef KLING_MCP_TASK_H
#define KLING_MCP_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "all_limits.h"

/* The longest key of the work a 2026 id carries, and the longest id. */
#define MCP_TASK_KEY_MAX 128
#define MCP_TASK_ID_MAX 240
/* Polling hints: a 2025 task is read from memory; every 2026 tasks/get is
 * one look-up upstream (get_task's own wait looks at most every 5 s). */
#define MCP_TASK_POLL_MS 2000
#define MCP_TASK_POLL_MS_MODERN 5000

enum mcp_task_status { MT_WORKING, MT_COMPLETED, MT_FAILED, MT_CANCELLED };

/* "working", "completed", "failed", "cancelled". */
const char *mcp_task_status_name(enum mcp_task_status st);

/* Once at start. key: KLING_MCP_TASK_KEY (NULL: 32 random bytes);
 * principal: the credentials tasks are bound to, as one text (NULL: none);
 * ttl_ms: every task's. Returns 0, or -1 when no random bytes came. */
int mcp_task_init(const char *key, const char *principal, int64_t ttl_ms);
int64_t mcp_task_ttl_ms(void);

/* Unix ms now (CLOCK_REALTIME). */
int64_t mcp_task_now(void);

/* ---- 2025-11-25: tasks kept here ---- */

struct mcp_task {
	const void *owner;        /* NULL: a free record */
	char id[32];              /* "kta-" + 22 base64url characters */
	enum mcp_task_status status;
	int64_t created, updated; /* Unix ms */
	char message[200];        /* statusMessage; "" none */
	char *result;             /* the result object's JSON text once ended (heap) */
	size_t result_len;
	void *work;               /* the owner's handle of the work while working */
};

/* A new working task of owner, or NULL with the reason (the limit that
 * applied, with its numbers) in err. Expired tasks are dropped first. */
struct mcp_task *mcp_task_new(const void *owner, int64_t now, char *err, size_t errcap);

/* owner's task id[0..n), or NULL when there is none (or it expired). */
struct mcp_task *mcp_task_find(const void *owner, const char *id, size_t n, int64_t now);

/* The task by its work handle (NULL: none). */
struct mcp_task *mcp_task_of_work(const void *work);

/* A status message while working (cut at a whole character). */
void mcp_task_note(struct mcp_task *t, const char *message, int64_t now);

/* The task ends with status st and result json[0..n) (copied; a result
 * larger than LIMIT_TASK_RESULT_BYTES or out of memory: NULL is kept and
 * -1 returned). message NULL keeps the last one. */
int mcp_task_end(struct mcp_task *t, enum mcp_task_status st, const char *json, size_t n, const char *message, int64_t now);

/* Drop every task of owner (its session ended). */
void mcp_task_drop_owner(const void *owner);

/* Tasks kept, of owner (NULL: all); ended ones past their ttl are dropped first. */
int mcp_task_count(const void *owner);

/* ---- 2026-07-28: stateless ids ---- */

struct mcp_task_ref {
	char key[MCP_TASK_KEY_MAX + 1]; /* NUL-terminated */
	size_t key_len;
	int tool;                    /* the registry's index of the tool */
	int64_t created, wait_end;   /* Unix ms */
};

/* Write r's id (NUL-terminated) into out; returns its length, or -1 when
 * the key is longer than MCP_TASK_KEY_MAX or out too small. */
int mcp_task_id_make(const struct mcp_task_ref *r, char *out, size_t cap);

/* Read id[0..n) into r. Returns 0, or -1 with *why: not an id of this
 * server (bad form, wrong key or credentials, altered), or expired (now past
 * created + ttl). */
int mcp_task_id_read(const char *id, size_t n, int64_t now, struct mcp_task_ref *r, const char **why);

/* ---- writing ---- */

/* A Task's members: taskId, status, statusMessage (when not empty),
 * createdAt, lastUpdatedAt, then ttl and pollInterval (2025-11-25), or
 * ttlMs and pollIntervalMs (modern). */
void mcp_task_write(struct json_w *w, const char *id, enum mcp_task_status st, const char *message, int64_t created,
		 int64_t updated, int modern);

#endif
