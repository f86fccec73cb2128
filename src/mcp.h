/*
 * mcp — the Model Context Protocol server core: lifecycle and version
 * negotiation for 2024-11-05 ... 2026-07-28, the method table, the tool
 * registry, and tool calls (concurrency, queue, deadline, cancellation).
 *
 * Two flows; the first request that is valid in one of them decides:
 *  - 2025 flow: `initialize` (the client's version is echoed when it is
 *    2024-11-05, 2025-03-26, 2025-06-18 or 2025-11-25, otherwise 2025-11-25 is
 *    offered), then ping, tools/list, tools/call. Batches only in 2025-03-26.
 *  - 2026 flow (2026-07-28): no initialize; every request carries
 *    params._meta["io.modelcontextprotocol/protocolVersion"] and
 *    ["io.modelcontextprotocol/clientCapabilities"] (missing: -32602; another
 *    version: -32022 with data {supported, requested}); every result has
 *    resultType "complete"; server/discover answers without changing the flow.
 * Before either, initialize, server/discover and ping are answered; other
 * known methods without the modern _meta get -32602 saying how to start, and
 * a modern request that is refused (-32602/-32022) does not fix the flow, so
 * the client may still fall back to initialize. Unknown methods get -32601 at
 * once. Notifications are never answered. Params must be objects (-32602).
 *
 * Tool calls: at most LIMIT_CONCURRENT_CALLS run; later ones wait in arrival
 * order, at most LIMIT_QUEUED_CALLS (beyond: an isError result naming the
 * limit). Each has a deadline of config timeout_ms from its arrival; past it
 * the call is cancelled and answered with isError. notifications/cancelled
 * drops a waiting or running call and nothing is ever sent for it.
 *
 * Single-threaded; runs inside the poll loop. One instance per process.
 */
#ifndef KLING_MCP_H
#define KLING_MCP_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "kling_limits.h"

struct config;

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

/* ---- the tool registry: what a tool module provides ---- */

/* One tools/call in progress (opaque). */
struct mcp_call;

/* Private per-call bytes a tool may use (its parsed arguments, its backend
 * operation); suitably aligned for any type. */
#define MCP_TOOL_STATE_BYTES (LIMIT_CURSOR_BYTES + 512)

struct mcp_tool {
	const char *name;
	/* Once at start. cfg outlives the server. May be NULL. */
	void (*init)(const struct config *cfg);
	/* Write the tool's definition object for tools/list. Fields newer than
	 * version (title, outputSchema, annotations) are left out. */
	void (*describe)(struct json_w *w, enum mcp_version version);
	/* Check the arguments (object token args of d, or -1 when absent) and
	 * store what start needs in state (MCP_TOOL_STATE_BYTES, zeroed). On
	 * refusal write the isError text (NUL-terminated, at most errcap bytes)
	 * and return -1: nothing is started then. Returns 0 when accepted. */
	int (*prepare)(const struct json_doc *d, int args, void *state, char *err, size_t errcap);
	/* Begin the work; answer later (or right away, even inside start) with
	 * exactly one of mcp_call_result_begin/end or mcp_call_fail. deadline_ms
	 * is on the loop_now_ms() clock. Returns 0, or -1 if nothing could be
	 * started and no answer was given (the call then fails generically). */
	int (*start)(struct mcp_call *call, void *state, int64_t deadline_ms);
	/* Stop the work now (client cancelled, deadline, end of input). The tool
	 * must not answer or touch call after this returns. */
	void (*cancel)(struct mcp_call *call, void *state);
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

/* The call's private state (as given to prepare/start/cancel). */
void *mcp_call_state(struct mcp_call *call);

/* Write a tool error result's members (content + isError) into an open
 * result object. For tools and tests. */
void mcp_write_tool_error(struct json_w *w, const char *text);

/* ---- the server side ---- */

/* Where finished messages go (one JSON text, no newline). Returns 0 or -1. */
typedef int (*mcp_output_fn)(const char *msg, size_t len);

/* Prepare the server: buffers, tools' init. cfg must outlive the server.
 * Returns 0, or -1 when memory is short. */
int mcp_init(const struct config *cfg, mcp_output_fn out);

/* Handle one input line (no newline). Answers go to the output function,
 * now or later from the loop. */
void mcp_on_line(const char *line, size_t len);

/* A line longer than LIMIT_LINE_BYTES was skipped: answer -32600, no id. */
void mcp_on_oversize(size_t seen);

/* End of input: cancel every waiting and running call, answer none of them,
 * drop unfinished batches. */
void mcp_drop_calls(void);

/* Free what mcp_init took (calls must have been dropped). */
void mcp_free(void);

/* Calls waiting and running (for tests and logs). */
int mcp_calls_running(void);
int mcp_calls_queued(void);

#endif
