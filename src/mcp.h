/*
 * mcp — the Model Context Protocol server core: lifecycle and version
 * negotiation for 2024-11-05 ... 2026-07-28, the method table, sessions, and
 * tool calls (concurrency, queue, deadline, cancellation). The tools come
 * from the registry given to mcp_init; this module names none.
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
 * A UTF-8 byte order mark opening an input is skipped.
 *
 * Sessions: everything above is per session (one client: the stdio
 * connection, or one HTTP session). A second initialize in the 2025 flow is
 * answered and starts the session afresh (bridges serve many clients through
 * one stdio process); calls already accepted still answer.
 *
 * Tool calls: one admission rule for plain calls: a call is accepted while
 * its session has fewer than its cap (LIMIT_CONCURRENT_CALLS +
 * LIMIT_QUEUED_CALLS, or less: mcp_session_cap) and the process fewer than
 * LIMIT_CALL_SLOTS, running or waiting their turn; otherwise an isError result
 * names the limit that applied with its own numbers (the session's, or the
 * server's). At most LIMIT_CONCURRENT_CALLS run at once in the whole process;
 * the rest wait in the order they became ready. Each call has a deadline of
 * mcp_settings.timeout_ms (plus the tool's extra_ms) from its arrival, given to the
 * tool; if the tool has not answered MCP_BACKSTOP_MS after it, the call is
 * cancelled and answered with isError. notifications/cancelled drops a
 * waiting, running or sleeping call and nothing is ever sent for it. A
 * session whose output is held up (mcp_session_throttle) starts none of its
 * waiting calls.
 *
 * Waits (get_task's wait_seconds): a running slot is held only while the
 * tool works upstream. Between two steps the tool sleeps (mcp_call_sleep):
 * its slot goes to the next call, and the call moves from the plain calls to
 * the wait pool (LIMIT_WAITS in the process; a listener session's share is
 * its cap), so waits never keep plain calls from being admitted or from
 * running. When the sleep ends the call queues for a running slot like any
 * other (at the back) and the core calls tool->resume. When the pool is full
 * mcp_call_sleep refuses and the tool answers at once with what it has.
 * mcp_hurry (shutdown) ends every wait: sleeping and queued waits are resumed
 * at once to answer with what they have, and no call sleeps again.
 *
 * Tasks (mcp_task.h keeps them): under 2025-11-25 the initialize result
 * declares tasks {cancel, requests.tools.call} (no list: tasks are bound to
 * the session, not to an authorization context), tools/list marks a tool
 * with task_key "optional", and a tools/call with params.task is answered at
 * once with CreateTaskResult while the call goes on detached: its progress
 * still goes out on the original token where a stream is open for it
 * (mcp_session_untagged), its answer
 * becomes the task's result (isError: failed, with the text as
 * statusMessage). tasks/get, tasks/result (held until the task ends) and
 * tasks/cancel serve it; a plain call is unchanged. Under 2026-07-28
 * server/discover advertises the io.modelcontextprotocol/tasks extension; a
 * tools/call whose _meta client capabilities declare it becomes a task only
 * when the tool would sleep (mcp_call_sleep: the work has not ended), and is
 * then answered with a flat CreateTaskResult (resultType "task") whose id
 * carries the task (mcp_task.h); tasks/get looks the work up again
 * (task_lookup) and carries the result inline once task_done or the wait's
 * end; tasks/update and tasks/cancel are acknowledged; tasks/result and
 * tasks/list are -32601; tasks/get, update and cancel without the
 * declaration -32021.
 * subscriptions/listen (2026-07-28), where the transport can hold a stream
 * (mcp_session_streams), is acknowledged with an empty notifications set and
 * held open until the client cancels it or leaves;
 * mcp_hurry answers it (resultType "complete"). Capped: LIMIT_TASKS,
 * LIMIT_SESSION_TASKS, LIMIT_TASK_WAITERS, LIMIT_LISTENS, LIMIT_SESSION_LISTENS.
 *
 * What a tool provides and the calls it makes are in mcp_tool.h.
 *
 * Completions: a tool answers from the loop, never from inside start().
 * Answers that need no I/O (errors, ping, tools/list) are sent from inside
 * mcp_session_input.
 *
 * Single-threaded; runs inside the poll loop.
 */
#ifndef KLING_MCP_H
#define KLING_MCP_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "all_limits.h"
#include "mcp_tool.h"

/* ---- the server side ---- */

/* What the core takes from the configuration, as values (mcp_init). */
struct mcp_settings {
	int timeout_ms;       /* a call's deadline from its arrival (plus the tool's extra_ms) */
	const char *task_key; /* signs 2026-07-28 task ids; NULL: a random key */
	const char *owner[2]; /* the credentials tasks are bound to (the upstream key, the bearer token); NULL: none */
};

struct mcp_session;

/* Where a session's messages go. */
struct mcp_sink {
	/* One JSON text (no newline) answering/belonging to the input tagged
	 * tag; code: the JSON-RPC error code when it is an error answer, 0 for
	 * a result, a notification or a batch's array (HTTP takes its status
	 * from it). Returns 0 or -1. It must not free the session. */
	int (*send)(void *ctx, void *tag, const char *msg, size_t len, int code);
	/* Every answer owed to the input tagged tag was sent (or dropped by
	 * cancellation); called only for inputs that owed answers. May be NULL. */
	void (*input_done)(void *ctx, void *tag);
};

/* Process-wide, once: buffers, the task keys. set and reg must outlive the
 * server. Returns 0, or -1 when memory is short. */
int mcp_init(const struct mcp_settings *set, const struct tool_registry *reg);

/* Free what mcp_init took (sessions must be freed first). */
void mcp_free(void);

/* A new client. sink must outlive the session. NULL when memory is short. */
struct mcp_session *mcp_session_new(const struct mcp_sink *sink, void *ctx);

/* One JSON text (a line without its newline, or an HTTP body). Returns the
 * number of answers owed for it: 0 when it held only notifications or
 * responses (HTTP then says 202), else 1 (one response, or one batch array).
 * Answers needing no I/O may be sent from inside this call (input_done is
 * then called before it returns); tool results come later from the loop. */
int mcp_session_input(struct mcp_session *s, const char *msg, size_t len, void *tag);

/* An input longer than LIMIT_LINE_BYTES was skipped: answer -32600, no id. */
void mcp_session_oversize(struct mcp_session *s, size_t seen, void *tag);

/* The stream of tag closed: cancel its calls, drop its batches, answer nothing. */
void mcp_session_cancel_tag(struct mcp_session *s, void *tag);

/* Output is held up (on != 0): start none of this session's waiting calls
 * until it is called again with 0. Running calls still finish. */
void mcp_session_throttle(struct mcp_session *s, int on);

/* At most this many of the session's plain calls running and waiting
 * together (1 to LIMIT_CALL_SLOTS, which is also a new session's cap), and
 * as many of its waits in the wait pool (a new session: LIMIT_WAITS), so that
 * one client of many cannot take every slot; beyond it a call gets an isError
 * naming the cap (a wait: one look-up, answered at once). */
void mcp_session_cap(struct mcp_session *s, int calls);

/* Messages tied to no open input (a 2025-11-25 task's progress after its
 * CreateTaskResult) may go out through sink->send with tag NULL: stdio.
 * Otherwise they are dropped (HTTP today: the POST stream has closed and GET
 * /mcp is refused). */
void mcp_session_untagged(struct mcp_session *s);

/* The transport keeps an unanswered request's stream open as long as it
 * likes and delivers messages on it before the answer (stdio): then
 * subscriptions/listen is served (acknowledged, held open). Otherwise it is
 * answered -32601 as a method this server does not offer (HTTP: a POST that
 * does not accept an SSE reply). */
void mcp_session_streams(struct mcp_session *s);

/* The session speaks 2026-07-28 only (an HTTP request that named it): every
 * request needs the _meta version and capabilities, and initialize and ping
 * do not exist (-32601). Call before its first input. */
void mcp_session_modern(struct mcp_session *s);

/* Cancel everything of the session, answer nothing, free it. NULL is a no-op. */
void mcp_session_free(struct mcp_session *s);

/* The version negotiated (2025 flow) or 2026-07-28 (modern flow), or NONE. */
enum mcp_version mcp_session_version(const struct mcp_session *s);

/* The session's calls in progress: plain ones and waits, not the calls of
 * 2025-11-25 tasks (answered already), and the tasks/result requests held. */
int mcp_session_calls(const struct mcp_session *s);

/* Calls running, waiting for a running slot, and holding a place in the
 * wait pool, in the whole process (for tests and logs). */
int mcp_calls_running(void);
int mcp_calls_queued(void);
int mcp_calls_waiting(void);

/* Shutdown: end every call's waiting early. Waits answer at once with what
 * they have (get_task: the task as last seen, finished false), a step in
 * progress (an upstream request) stopped; a wait that has nothing yet (its
 * first look-up) finishes that step and answers instead of sleeping. Plain
 * calls go on. Calls admitted after still run; none sleeps. Every
 * subscriptions/listen held open is answered (resultType "complete"). */
void mcp_hurry(void);

#endif
