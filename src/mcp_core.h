/* mcp_core — the MCP core's shared state: private to the core's own .c files
 * (mcp.c, mcp_out.c, mcp_sched.c, mcp_held.c); nothing else includes it.
 * Everything outside the core goes through mcp.h and mcp_tool.h. */
#ifndef KLING_MCP_CORE_H
#define KLING_MCP_CORE_H

#include "buf.h"
#include "mcp_jsonrpc.h"
#include "loop.h"
#include "mcp_task.h"
#include "mcp_tool.h"

#include <stdalign.h>
#include <stddef.h>

/* mcp.h's, used here only through pointers: this header does not include
 * mcp.h (no include cycle); the core's .c files include mcp.h first. */
struct mcp_settings;
struct mcp_sink;

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_SERVERINFO "io.modelcontextprotocol/serverInfo"
#define META_RELATED_TASK "io.modelcontextprotocol/related-task"
#define META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"
#define EXT_TASKS "io.modelcontextprotocol/tasks"
#define JSONRPC_MISSING_CAPABILITY (-32021)

/* ---- state ---- */

enum flow { FLOW_NONE, FLOW_LEGACY, FLOW_MODERN };

/* QUEUED: waiting for a running slot; RUNNING: holding one; SLEEPING: a
 * wait between two steps (mcp_call_sleep), holding no running slot; ENDING:
 * a wait told to answer at once with what it has (no running slot either). */
enum call_state { C_FREE = 0, C_QUEUED, C_RUNNING, C_SLEEPING, C_ENDING };

struct batch {
	int used;
	int open;      /* its input is still being processed */
	int pending;   /* calls of this batch not answered yet */
	int count;     /* answers held */
	struct mcp_session *s;
	void *tag;
	struct buf out; /* "[" answer "," answer ... (bounded by batch_add) */
};

struct mcp_session {
	const struct mcp_sink *sink;
	void *ctx;
	enum flow flow;
	enum mcp_version version; /* negotiated (2025 flow) */
	int initialized;          /* notifications/initialized seen */
	int throttled;            /* output held up: start none of its waiting calls */
	int dropping;             /* cancelling without answering: batches are not sent */
	int running, queued;      /* its calls holding a running slot, and waiting for one */
	int plain;                /* its calls without a place in the wait pool */
	int waits;                /* its calls with one (mcp_call_sleep) */
	int cap;                  /* plain calls allowed: SESSION_CALLS or less */
	int wait_cap;             /* waits allowed: LIMIT_WAITS, or cap when the listener set one */
	int in_input;             /* inside mcp_session_input for in_tag */
	void *in_tag;
	int detached;             /* calls of 2025 tasks, answered already (in plain or waits) */
	int untagged;             /* messages tied to no input may be sent (tag NULL) */
	int streams;              /* an input's stream may stay open (subscriptions/listen) */
	int held_results, listens; /* requests held: tasks/result, subscriptions/listen */
};

struct mcp_call {
	enum call_state state;
	int started;            /* tool->start was called: cancel is owed */
	int wait;               /* holds a place in the wait pool (it slept once) */
	unsigned long seq;      /* order in the queue: arrival, or waking from a sleep */
	const struct mcp_tool *tool;
	struct mcp_session *s;
	void *tag;
	enum mcp_version version;
	struct batch *batch;
	struct mcp_jsonrpc_id id;   /* raw points into id_raw */
	char id_raw[LIMIT_ID_BYTES];
	char id_key[LIMIT_ID_BYTES + 1]; /* unescaped string id, or the integer's digits */
	size_t id_key_len;
	char progress[LIMIT_ID_BYTES];   /* params._meta.progressToken's JSON text */
	size_t progress_len;             /* 0: no token */
	int64_t deadline;                /* given to the tool; the backstop fires later */
	int64_t arrival;                 /* loop ms */
	int failed;                      /* answered with isError */
	char note[200];                  /* the last progress message, or the error text */
	struct mcp_task *task;              /* a 2025 task's call: answered already, detached */
	int modern_task;                 /* 2026: the request declared the tasks extension */
	int task_get;                    /* a 2026 tasks/get: the answer is a DetailedTask */
	int64_t task_created, task_wait_end;
	char task_id[MCP_TASK_ID_MAX + 1];  /* task_get: the id asked for */
	struct loop_timer timer;
	alignas(max_align_t) unsigned char state_buf[MCP_TOOL_STATE_BYTES];
};

/* One slot more than can be busy (plain calls, and waits apart): prepare()
 * always has a place to write before the admission rule is applied
 * (validation errors come first). */
#define NSLOTS (LIMIT_CALL_SLOTS + LIMIT_WAITS + 1)
/* Most calls one session may hold, running and waiting. */
#define SESSION_CALLS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS)

struct core {
	const struct mcp_settings *set;
	const struct tool_registry *reg;
	struct json_doc doc;
	struct json_w w; /* every message is built here, one at a time */
	unsigned long seq;
	size_t res_at;       /* where the result object S.w holds begins */
	int running, queued; /* calls holding a running slot, and waiting for one */
	int plain, waits;    /* calls admitted as plain ones, and holding a wait place */
	int hurry;           /* mcp_hurry was called: no call sleeps any more */
	/* Slots are taken from the front and only calls[0..ncalls) and
	 * batches[0..nbatches) were ever used: every walk stops there, so the
	 * pages of slots never needed (static storage, zero) are neither written
	 * nor read, and cost no memory. */
	int ncalls, nbatches;
	struct loop_timer pump;
	struct mcp_call calls[NSLOTS];
	struct batch batches[NSLOTS + 1];
};

/* The core's one instance (defined in mcp.c). */
extern struct core S;

#define NBATCHES ((int)(sizeof S.batches / sizeof *S.batches))

/* Requests answered later, outside any call: tasks/result until the task
 * ends, subscriptions/listen until the server stops. */
enum hold_kind { H_FREE, H_RESULT, H_LISTEN };

struct hold {
	struct mcp_session *s;
	void *tag;
	struct mcp_task *task;              /* H_RESULT */
	size_t id_key_len;
	struct mcp_jsonrpc_id id;            /* raw points into id_raw */
	enum hold_kind kind;
	char id_raw[LIMIT_ID_BYTES];
	char id_key[LIMIT_ID_BYTES + 1];
};

#define NHOLDS (LIMIT_TASK_WAITERS + LIMIT_LISTENS)
extern struct hold g_holds[NHOLDS];
extern int g_nholds; /* holds[0..g_nholds) were ever used */

/* Where one input's answers go: its session, its batch (or NULL), its tag. */
struct dest {
	struct mcp_session *s;
	struct batch *b;
	void *tag;
};

/* The methods the core answers (mcp.c's table; the handlers take one). */
enum method {
	M_UNKNOWN,
	M_INITIALIZE,
	M_PING,
	M_TOOLS_LIST,
	M_TOOLS_CALL,
	M_DISCOVER,
	M_TASKS_GET,
	M_TASKS_RESULT,
	M_TASKS_CANCEL,
	M_TASKS_UPDATE,
	M_TASKS_LIST,
	M_LISTEN
};

/* ---- mcp_out.c: output, inputs and their tags, batches ---- */
void mcp_out_emit(struct mcp_session *s, struct batch *b, void *tag, int code);
void mcp_out_send_error(const struct dest *d, const struct mcp_jsonrpc_id *id, int code, const char *message);
struct json_w *mcp_out_result_begin(const struct mcp_jsonrpc_id *id);
void mcp_out_result_close(int modern);
void mcp_out_result_end(const struct dest *d, int modern);
void mcp_out_send_tool_error(const struct dest *d, const struct mcp_jsonrpc_id *id, enum mcp_version v, const char *text);
void mcp_out_tag_settled(struct mcp_session *s, void *tag);
struct batch *mcp_out_batch_new(struct mcp_session *s, void *tag);
void mcp_out_batch_free(struct batch *b);
void mcp_out_batch_maybe_flush(struct batch *b);
void mcp_out_write_empty(struct json_w *w, const char *key);

/* ---- mcp_sched.c: calls, their slots, queue, deadlines and waits ---- */
void mcp_sched_schedule_pump(void);
void mcp_sched_release(struct mcp_call *c);
void mcp_sched_run_or_queue(struct mcp_call *c);
int mcp_sched_id_key(const struct json_doc *d, int t, char *out, size_t cap, size_t *len);
struct mcp_call *mcp_sched_find_call(const struct mcp_session *s, enum json_type type, const char *key, size_t len);
void mcp_sched_cancel_call(struct mcp_call *c);
int mcp_sched_admission_refused(const struct mcp_session *s, char *err, size_t cap);
int mcp_sched_request_key(const struct mcp_jsonrpc_msg *m, const struct dest *d, char *key, size_t *keylen);
struct mcp_call *mcp_sched_call_slot(void);
void mcp_sched_call_setup(struct mcp_call *c, const struct mcp_jsonrpc_msg *m, const struct dest *d, enum mcp_version v,
			  const struct mcp_tool *tool, const char *key, size_t keylen, int wait);

/* ---- mcp_held.c: tasks and subscriptions, requests answered later ---- */
int mcp_held_declares_tasks(const struct mcp_jsonrpc_msg *m);
void mcp_held_free(struct hold *h);
void mcp_held_answer_results(struct mcp_task *t);
void mcp_held_answer_listen(struct hold *h);
void mcp_held_do_task(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum method meth);
void mcp_held_do_task_modern(const struct mcp_jsonrpc_msg *m, const struct dest *d, enum method meth);
void mcp_held_missing_tasks_capability(const struct mcp_jsonrpc_msg *m, const struct dest *d);
void mcp_held_do_listen(const struct mcp_jsonrpc_msg *m, const struct dest *d);

#endif
