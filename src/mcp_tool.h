/*
 * mcp_tool — the tool author's half of the MCP core (mcp.h has the core's
 * own: sessions, transports, start): struct mcp_tool, which a tool fills, the
 * registry that hands the tools to the core (mcp_init), and what a tool calls
 * while it runs: the result writers, progress, mcp_call_sleep. How calls are
 * admitted, queued, timed and resumed is described at the top of mcp.h.
 *
 * Single-threaded; every function runs inside the poll loop.
 */
#ifndef KLING_MCP_TOOL_H
#define KLING_MCP_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "all_limits.h"

enum mcp_version {
	MCP_V_NONE = 0,
	MCP_V_2024_11_05,
	MCP_V_2025_03_26,
	MCP_V_2025_06_18,
	MCP_V_2025_11_25,
	MCP_V_2026_07_28,
};

/* "2025-11-25" etc.; NULL for MCP_V_NONE. */
const char *mcp_version_name(enum mcp_version v);

/* One tools/call in progress (opaque). */
struct mcp_call;

/* Private per-call bytes a tool may use (its parsed arguments, its backend
 * operation); suitably aligned for any type. */
#define MCP_TOOL_STATE_BYTES (LIMIT_CURSOR_BYTES + 512)

struct mcp_tool {
	const char *name;
	/* Write the tool's definition object for tools/list (every member,
	 * whatever version was negotiated: older clients ignore the new ones).
	 * tasks: the session speaks 2025-11-25, where a tool that can run as a
	 * task (task_key below) says so: "execution":{"taskSupport":"optional"}. */
	void (*describe)(struct json_w *w, int tasks);
	/* Check the arguments (object token args of d, or -1 when absent) and
	 * store what start needs in state (MCP_TOOL_STATE_BYTES, zeroed). On
	 * refusal write the isError text (NUL-terminated, at most errcap bytes)
	 * and return -1: nothing is started then. Returns 0 when accepted. */
	int (*prepare)(const struct json_doc *d, int args, void *state, char *err, size_t errcap);
	/* Begin the work; answer later, from the loop (never inside start), with
	 * exactly one of mcp_call_result_begin/end or mcp_call_fail. deadline_ms
	 * is on the loop_now_ms() clock: answer by then (a timeout naming where
	 * the work stuck); the core's own backstop fires MCP_BACKSTOP_MS later.
	 * Returns 0, or -1 if nothing could be started (the call then fails
	 * generically). */
	int (*start)(struct mcp_call *call, void *state, int64_t deadline_ms);
	/* Stop the work now (client cancelled, backstop, session closed). The
	 * tool must not answer or touch call after this returns. */
	void (*cancel)(struct mcp_call *call, void *state);
	/* How much longer than KLING_TIMEOUT_MS the call prepared in state may
	 * take (get_task's wait), in ms; its deadline grows by that much. NULL:
	 * none. */
	int64_t (*extra_ms)(const void *state);
	/* Continue a call that slept (mcp_call_sleep). end NULL: the call holds
	 * a running slot again; take the next step. end not NULL: it holds none
	 * and must answer now, from inside resume, with what it has; end says
	 * why the wait ended ("kling-mcp is stopping", "its deadline came", ...).
	 * mcp_hurry also calls it, with end, for a waiting call that is running
	 * a step: answer now (stopping that step) if there is something to answer
	 * with, else let the step finish (the call cannot sleep after it).
	 * NULL for a tool that never sleeps. */
	void (*resume)(struct mcp_call *call, void *state, const char *end);
	/* Tasks (see "Tasks" in mcp.h). A tool that can run as a task has all three;
	 * NULL: it never does. task_key: the key with which a later look-up finds
	 * the same work again (get_task: the Kling task id), written into out
	 * (cap bytes, NUL-terminated); returns its length, 0 when there is none.
	 * task_lookup: prepare state (zeroed) for one look-up of key[0..n) and no
	 * wait, as prepare would (refusal: err, -1). task_done: after the tool
	 * answered, 1 when the work it followed has ended (get_task: finished). */
	size_t (*task_key)(const void *state, char *out, size_t cap);
	int (*task_lookup)(void *state, const char *key, size_t n, char *err, size_t errcap);
	int (*task_done)(const void *state);
};

/* The tools a server offers (tools.c builds the product's). */
struct tool_registry {
	const struct mcp_tool *const *tools;
	size_t n;
	const char *instructions; /* initialize's and server/discover's "instructions" */
};

/* Answer a call with a result: returns the writer positioned inside the
 * result object; write its members ("content", "structuredContent", ...),
 * then call mcp_call_result_end, which sends it. A result larger than
 * LIMIT_RESPONSE_BYTES is replaced by an isError result saying so. */
struct json_w *mcp_call_result_begin(struct mcp_call *call);
void mcp_call_result_end(struct mcp_call *call);

/* Answer a call with {"content":[{"type":"text","text":text}],"isError":true}. */
void mcp_call_fail(struct mcp_call *call, const char *text);

/* The protocol version the call was made under. */
enum mcp_version mcp_call_version(const struct mcp_call *call);

/* Sleep until at_ms (loop clock; at most the call's deadline) without
 * holding a running slot: the call counts in the wait pool from now until it
 * answers (see "Waits" in mcp.h), then queues again and tool->resume
 * continues it. Only from a running call, and return at once after. Returns
 * NULL, or, when the call cannot sleep (the wait pool or the session's share
 * of it is full, with their numbers; the server is stopping), a sentence
 * saying why: the call keeps its slot and should answer now with what it has. */
const char *mcp_call_sleep(struct mcp_call *call, int64_t at_ms);

/* The call's private state (as given to prepare/start/cancel). */
void *mcp_call_state(struct mcp_call *call);

/* Progress for a call that carried params._meta.progressToken: sends
 * notifications/progress through the call's session and tag (progress
 * strictly increasing is the caller's duty); total < 0: none; message may be
 * NULL. No-op for a call without a token. Integers: src/ has no floating
 * point (soft-float targets), and steps (pages, requests) are whole. */
void mcp_call_progress(struct mcp_call *call, int64_t progress, int64_t total, const char *message);

/* Write a read-only tool's definition object for tools/list: name, title,
 * description, the two schemas (JSON text) and the annotations (read-only,
 * not destructive, idempotent, open world); task_optional:
 * "execution":{"taskSupport":"optional"} (2025-11-25). */
void mcp_tool_describe(struct json_w *w, const char *name, const char *title, const char *description,
		       const char *input_schema, size_t input_len, const char *output_schema, size_t output_len,
		       int task_optional);

/* Open a result's "content" array and its first block, a text one, up to
 * the text's value: the caller writes the value (a string), then closes the
 * block and the array. */
void mcp_write_text_open(struct json_w *w);

/* Write a tool error result's members (content + isError) into an open
 * result object. For tools and tests. */
void mcp_write_tool_error(struct json_w *w, const char *text);

#endif
