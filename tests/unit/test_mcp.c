/* The MCP core's session API with a registry of test tools (no list_tasks,
 * no network): answers go to their own session and tag, input_done,
 * cancel_tag, the admission rule over sessions, throttling, the backstop
 * deadline, progress notifications, the registry-built messages, and a
 * second initialize. */
#include "json.h"
#include "mcp_jsonrpc.h"
#include "loop.h"
#include "mcp.h"
#include "t.h"

#include <stdint.h>

/* ---- two test tools: "echo" answers from the loop (with progress), "hold" never answers ---- */

struct tstate {
	struct loop_timer timer;
	struct mcp_call *call;
	int hold;
};
static int g_started, g_cancelled, g_described;

static void echo_describe(struct json_w *w, int tasks)
{
	(void)tasks;
	g_described++;
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, "echo");
	json_w_obj_end(w);
}

static void hold_describe(struct json_w *w, int tasks)
{
	(void)tasks;
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, "hold");
	json_w_obj_end(w);
}

static int t_prepare(const struct json_doc *d, int args, void *state, char *err, size_t errcap)
{
	if (json_get(d, args, "bad") >= 0) {
		snprintf(err, errcap, "bad is refused");
		return -1;
	}
	(void)state;
	return 0;
}

static void on_echo(void *arg)
{
	struct tstate *st = arg;
	mcp_call_progress(st->call, 1, 2, "half");
	mcp_call_progress(st->call, 2, -1, NULL);
	struct json_w *w = mcp_call_result_begin(st->call);
	json_w_key(w, "content");
	json_w_arr(w);
	json_w_arr_end(w);
	mcp_call_result_end(st->call);
}

static int echo_start(struct mcp_call *call, void *state, int64_t deadline_ms)
{
	(void)deadline_ms;
	struct tstate *st = state;
	g_started++;
	st->call = call;
	memset(&st->timer, 0, sizeof st->timer);
	loop_timer_set(&st->timer, loop_now_ms(), on_echo, st);
	return 0;
}

static int hold_start(struct mcp_call *call, void *state, int64_t deadline_ms)
{
	(void)call;
	(void)state;
	(void)deadline_ms;
	g_started++;
	return 0;
}

static void t_cancel(struct mcp_call *call, void *state)
{
	(void)call;
	struct tstate *st = state;
	loop_timer_clear(&st->timer);
	g_cancelled++;
}

/* "nap" sleeps (mcp_call_sleep) arguments.ms after it starts, like a get_task
 * wait between two look-ups, then answers "woke", or "ended: <why>" when its
 * wait is ended early, or "refused: <why>" when it may not sleep. */
struct nstate {
	struct loop_timer timer;
	struct mcp_call *call;
	int64_t ms;
};
static int g_resumed;

static void nap_describe(struct json_w *w, int tasks)
{
	(void)tasks;
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, "nap");
	json_w_obj_end(w);
}

static int nap_prepare(const struct json_doc *d, int args, void *state, char *err, size_t errcap)
{
	struct nstate *st = state;
	(void)err;
	(void)errcap;
	st->ms = json_get(d, args, "ms") >= 0 ? 20 : 60000;
	return 0;
}

static void nap_answer(struct nstate *st, const char *what, const char *why)
{
	char text[512];
	snprintf(text, sizeof text, "%s%s%s", what, why ? ": " : "", why ? why : "");
	struct json_w *w = mcp_call_result_begin(st->call);
	mcp_write_text_open(w);
	json_w_cstr(w, text);
	json_w_obj_end(w);
	json_w_arr_end(w);
	mcp_call_result_end(st->call);
}

static void on_nap(void *arg)
{
	struct nstate *st = arg;
	const char *why = mcp_call_sleep(st->call, loop_now_ms() + st->ms);
	if (why)
		nap_answer(st, "refused", why);
}

static int nap_start(struct mcp_call *call, void *state, int64_t deadline_ms)
{
	(void)deadline_ms;
	struct nstate *st = state;
	g_started++;
	st->call = call;
	memset(&st->timer, 0, sizeof st->timer);
	loop_timer_set(&st->timer, loop_now_ms(), on_nap, st);
	return 0;
}

static void nap_resume(struct mcp_call *call, void *state, const char *end)
{
	(void)call;
	g_resumed++;
	nap_answer(state, end ? "ended" : "woke", end);
}

static void nap_cancel(struct mcp_call *call, void *state)
{
	(void)call;
	struct nstate *st = state;
	loop_timer_clear(&st->timer);
	g_cancelled++;
}

static const struct mcp_tool ECHO = {"echo", echo_describe, t_prepare, echo_start, t_cancel, NULL, NULL, NULL, NULL, NULL};
static const struct mcp_tool HOLD = {"hold", hold_describe, t_prepare, hold_start, t_cancel, NULL, NULL, NULL, NULL, NULL};
static int64_t nap_ms(const void *state)
{
	return ((const struct nstate *)state)->ms;
}

static const struct mcp_tool NAP = {"nap", nap_describe, nap_prepare, nap_start, nap_cancel, nap_ms, nap_resume, NULL, NULL, NULL};
static const struct mcp_tool *const TOOLS[] = {&ECHO, &HOLD, &NAP};
static const struct tool_registry REG = {TOOLS, 3, "test instructions"};

/* ---- two sinks ---- */

struct rec {
	int n;           /* messages */
	int done;        /* input_done calls */
	void *last_tag, *done_tag;
	int last_code;   /* the code passed with the last message */
	char last[4096];
};
static struct rec A, B;

static int rec_send(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	struct rec *r = ctx;
	r->n++;
	r->last_tag = tag;
	r->last_code = code;
	size_t n = len < sizeof r->last - 1 ? len : sizeof r->last - 1;
	memcpy(r->last, msg, n);
	r->last[n] = 0;
	return 0;
}

static void rec_done(void *ctx, void *tag)
{
	struct rec *r = ctx;
	r->done++;
	r->done_tag = tag;
}

static const struct mcp_sink SINK = {rec_send, rec_done};

static int in(struct mcp_session *s, const char *msg, void *tag)
{
	return mcp_session_input(s, msg, strlen(msg), tag);
}

static void turn(int n)
{
	while (n-- > 0)
		loop_run_once(0);
}

#define INIT "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}"
#define CALL(id, tool) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\",\"params\":{\"name\":\"" tool "\"}}"

#define NAP(id) "{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\",\"params\":{\"name\":\"nap\"}}"
#define NAP_SHORT(id)                                                                                            \
	"{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\",\"params\":{\"name\":\"nap\",\"arguments\":{\"ms\":1}}}"

/* Sleeping calls (the scheduler of waits): b is an initialized session with no call. */
static void waits(struct mcp_session *b)
{
	struct mcp_session *c = mcp_session_new(&SINK, &A);
	char msg[160];
	int ta, tb;
	in(c, INIT, &ta);
	A.n = B.n = 0;
	for (int i = 0; i < LIMIT_CONCURRENT_CALLS; i++) {
		snprintf(msg, sizeof msg, NAP("%d"), 200 + i);
		in(c, msg, &ta);
	}
	turn(2);
	T_CHECK("sleep/sleeping calls hold no running slot, they count in the wait pool",
		A.n == 0 && mcp_calls_running() == 0 && mcp_calls_waiting() == LIMIT_CONCURRENT_CALLS &&
			mcp_session_calls(c) == LIMIT_CONCURRENT_CALLS);
	g_started = 0;
	in(b, CALL("20", "echo"), &tb);
	T_CHECK("sleep/a plain call starts at once beside them", g_started == 1 && mcp_calls_queued() == 0);
	turn(2);
	T_CHECK("sleep/...and answers", B.n == 1 && strstr(B.last, "\"id\":20") != NULL);

	/* fill the wait pool: every plain slot is still there */
	for (int i = LIMIT_CONCURRENT_CALLS; i < LIMIT_WAITS; i++) {
		snprintf(msg, sizeof msg, NAP("%d"), 200 + i);
		in(c, msg, &ta);
		turn(1);
	}
	T_CHECK("sleep/LIMIT_WAITS calls asleep, nothing answered", A.n == 0 && mcp_calls_waiting() == LIMIT_WAITS);
	in(c, NAP("499"), &ta);
	turn(2);
	T_CHECK("sleep/one more may not sleep: told why, with the server's numbers and the limit",
		A.n == 1 && strstr(A.last, "refused: The wait was not kept: 128 get_task calls are waiting in this "
					   "server, for all its clients, of at most 128 (LIMIT_WAITS)") != NULL);
	B.n = 0;
	for (int i = 0; i < LIMIT_CALL_SLOTS; i++) {
		snprintf(msg, sizeof msg, CALL("%d", "hold"), 500 + i);
		in(b, msg, &tb);
	}
	T_CHECK("sleep/a full wait pool takes no plain call's place: LIMIT_CALL_SLOTS admitted",
		B.n == 0 && mcp_session_calls(b) == LIMIT_CALL_SLOTS && mcp_calls_running() == LIMIT_CONCURRENT_CALLS);
	mcp_session_cancel_tag(b, &tb);

	/* cancellation of a sleeping call: the tool is told, nothing is sent */
	g_cancelled = 0;
	A.n = 0;
	in(c, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":200}}", &ta);
	T_CHECK("sleep/a cancelled sleeping call: the tool cancels, nothing answered, its place freed",
		g_cancelled == 1 && A.n == 0 && mcp_calls_waiting() == LIMIT_WAITS - 1);

	/* shutdown: every sleeping call answers at once, none sleeps again */
	g_resumed = 0;
	mcp_hurry();
	T_CHECK("hurry/every sleeping call answers at once with why",
		g_resumed == LIMIT_WAITS - 1 && A.n == LIMIT_WAITS - 1 && mcp_calls_waiting() == 0 &&
			strstr(A.last, "ended: kling-mcp is stopping") != NULL);
	in(c, NAP("600"), &ta);
	turn(2);
	T_CHECK("hurry/...and a new call may not sleep", strstr(A.last, "refused: kling-mcp is stopping") != NULL);
	mcp_session_free(c);
}

/* Waking: a short sleep queues for a running slot again and resumes; one
 * whose deadline comes while queued ends its wait without an error; a
 * session's share of the wait pool. Needs a fresh core (mcp_hurry above). */
static void wakes(const struct mcp_settings *set)
{
	mcp_init(set, &REG);
	struct mcp_session *a = mcp_session_new(&SINK, &A);
	int ta, tb;
	char msg[160];
	in(a, INIT, &ta);
	A.n = 0;
	g_resumed = 0;
	in(a, NAP_SHORT("1"), &ta);
	int64_t t0 = loop_now_ms();
	while (A.n == 0 && loop_now_ms() - t0 < 2000)
		loop_run_once(10);
	T_CHECK("wake/a short sleep ends: resumed with a running slot, answers", g_resumed == 1 &&
										      strstr(A.last, "woke") != NULL);
	/* four calls that never answer hold every running slot: the woken nap waits its turn until its deadline */
	A.n = 0;
	in(a, NAP_SHORT("2"), &ta);
	turn(1);
	for (int i = 0; i < LIMIT_CONCURRENT_CALLS; i++) {
		snprintf(msg, sizeof msg, CALL("%d", "hold"), 10 + i);
		in(a, msg, &tb);
	}
	t0 = loop_now_ms();
	while (A.n == 0 && loop_now_ms() - t0 < 2000)
		loop_run_once(10);
	T_CHECK("wake/a woken wait whose deadline comes before a slot: ended, not an error",
		strstr(A.last, "ended: no running slot came free before its deadline") != NULL &&
			strstr(A.last, "\"id\":2") != NULL && !strstr(A.last, "isError"));
	mcp_session_cancel_tag(a, &tb);

	/* a listener session's share of the wait pool is its cap */
	mcp_session_cap(a, 2);
	A.n = 0;
	in(a, NAP("3"), &ta);
	in(a, NAP("4"), &ta);
	in(a, NAP("5"), &ta);
	turn(3);
	T_CHECK("share/a session's third wait past a cap of 2: refused naming it, with the session's numbers",
		A.n == 1 && strstr(A.last, "2 get_task calls are waiting in this session, of at most 2 "
					   "(LIMIT_LISTEN_SESSION_CALLS)") != NULL);
	in(a, CALL("6", "hold"), &tb);
	in(a, CALL("7", "hold"), &tb);
	in(a, CALL("8", "hold"), &tb);
	T_CHECK("share/its waits do not count against its plain calls; its own cap refuses the third, saying so",
		A.n == 2 && strstr(A.last, "in this session: 2 calls in progress, of at most 2") != NULL);
	mcp_session_free(a);
	mcp_free();
}

int main(void)
{
	t_plan(25 + 15 + 5);
	static const struct mcp_settings set = {100, NULL, {"k", NULL}};
	T_CHECK("init", mcp_init(&set, &REG) == 0);
	struct mcp_session *a = mcp_session_new(&SINK, &A), *b = mcp_session_new(&SINK, &B);
	int ta, tb;

	T_CHECK("session/starts undecided", mcp_session_version(a) == MCP_V_NONE);
	T_CHECK("input/a request owes one answer, sent inside the call, then input_done",
		in(a, INIT, &ta) == 1 && A.n == 1 && A.last_tag == &ta && A.done == 1 && A.done_tag == &ta && B.n == 0);
	T_CHECK("input/instructions come from the registry", strstr(A.last, "\"instructions\":\"test instructions\"") != NULL);
	T_CHECK("session/the version is the negotiated one", mcp_session_version(a) == MCP_V_2025_06_18);
	T_CHECK("input/a notification owes nothing", in(a, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &ta) == 0 &&
							A.n == 1 && A.done == 1);
	in(a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &ta);
	T_CHECK("tools/list/every tool described, without a version", g_described == 1 && strstr(A.last, "\"hold\"") != NULL);
	in(a, CALL("2", "nope"), &ta);
	T_CHECK("tools/call/an unknown tool names the registry's tools",
		strstr(A.last, "this server has: echo, hold, nap)") != NULL);
	in(a, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"bad\":1}}}", &ta);
	T_CHECK("tools/call/a refused argument is the tool's isError", strstr(A.last, "bad is refused") != NULL);

	/* a call answers from the loop, with progress, then input_done */
	A.n = A.done = 0;
	int owed = in(a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\","
		      "\"_meta\":{\"progressToken\":\"p1\"}}}", &tb);
	T_CHECK("call/owes one answer, none sent inside the call", owed == 1 && A.n == 0 && A.done == 0 &&
									 mcp_session_calls(a) == 1);
	turn(2);
	T_CHECK("call/two progress notifications and the result, all tagged", A.n == 3 && A.last_tag == &tb &&
										 strstr(A.last, "\"id\":4") != NULL);
	T_CHECK("call/...then input_done for its tag", A.done == 1 && A.done_tag == &tb && mcp_session_calls(a) == 0);

	/* cancel_tag: nothing answered, the tool cancelled */
	A.n = A.done = 0;
	g_cancelled = 0;
	in(a, CALL("5", "hold"), &tb);
	in(a, CALL("6", "hold"), &ta);
	mcp_session_cancel_tag(a, &tb);
	T_CHECK("cancel_tag/cancels only that tag's call, answers nothing",
		g_cancelled == 1 && A.n == 0 && mcp_session_calls(a) == 1);
	mcp_session_cancel_tag(a, &ta);

	/* the admission rule: a session's cap, and the process-wide pool */
	in(b, INIT, &tb);
	B.n = 0;
	A.n = 0;
	char msg[128];
	for (int i = 0; i < LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS; i++) {
		snprintf(msg, sizeof msg, CALL("%d", "hold"), 100 + i);
		in(a, msg, &ta);
	}
	T_CHECK("admit/a session holds LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS calls, unanswered",
		A.n == 0 && mcp_session_calls(a) == LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS &&
			mcp_calls_running() == LIMIT_CONCURRENT_CALLS);
	in(a, CALL("999", "hold"), &ta);
	T_CHECK("admit/one more is an isError naming the limits", A.n == 1 && strstr(A.last, "LIMIT_QUEUED_CALLS") &&
									 strstr(A.last, "isError"));
	in(b, CALL("1", "hold"), &tb);
	T_CHECK("admit/another session past the process-wide pool is told so", B.n == 1 && strstr(B.last, "all its clients"));
	T_CHECK("admit/...with the server's numbers, not the session's",
		strstr(B.last, "68 calls in progress, of at most 68 (LIMIT_CALL_SLOTS") != NULL);
	mcp_session_free(a);
	T_CHECK("free/cancels all of a session's calls, answering nothing", A.n == 1 && mcp_calls_running() == 0 &&
										  mcp_calls_queued() == 0);

	/* throttled: waiting calls do not start until released */
	g_started = 0;
	mcp_session_throttle(b, 1);
	B.n = 0;
	in(b, CALL("2", "echo"), &tb);
	turn(2);
	T_CHECK("throttle/a held-up session starts no call", g_started == 0 && B.n == 0 && mcp_session_calls(b) == 1);
	mcp_session_throttle(b, 0);
	turn(3);
	T_CHECK("throttle/...until released", g_started == 1 && B.n == 1 && strstr(B.last, "\"id\":2"));

	/* the backstop answers a tool that never does, MCP_BACKSTOP_MS after the tool's deadline */
	B.n = 0;
	int64_t t0 = loop_now_ms();
	in(b, CALL("3", "hold"), &tb);
	while (B.n == 0 && loop_now_ms() - t0 < 3000)
		loop_run_once(50);
	int64_t took = loop_now_ms() - t0;
	T_CHECK("backstop/answers a silent tool with the deadline's isError",
		B.n == 1 && strstr(B.last, "did not finish within 100 ms") != NULL);
	T_CHECK("backstop/...after the tool's deadline plus MCP_BACKSTOP_MS", took >= 100 + MCP_BACKSTOP_MS && took < 1500);

	/* bridges: a second initialize starts afresh */
	B.n = 0;
	in(b, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\"}}", &tb);
	T_CHECK("initialize/a second one is answered and negotiates again",
		B.n == 1 && strstr(B.last, "\"protocolVersion\":\"2025-03-26\"") && mcp_session_version(b) == MCP_V_2025_03_26);

	/* a BOM and a NUL in a method name */
	in(b, "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}", &tb);
	T_CHECK("bom/skipped", strstr(B.last, "\"result\":{}") != NULL);
	in(b, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"ping\\u0000\"}", &tb);
	T_CHECK("method/a NUL in a method name is shown escaped", strstr(B.last, "Method not found: ping\\\\u0000") != NULL);

	/* the code passed with each answer (HTTP's status comes from it) */
	T_CHECK("code/an error answer carries its code", B.last_code == JSONRPC_METHOD_NOT_FOUND);
	in(b, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\"}", &tb);
	T_CHECK("code/a result carries 0", B.last_code == 0 && strstr(B.last, "\"result\"") != NULL);
	in(b, "{\"jsonrpc\":", &tb);
	T_CHECK("code/a parse error carries -32700", B.last_code == JSONRPC_PARSE_ERROR);
	in(b, "[{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"nope\"}]", &tb);
	T_CHECK("code/a batch's array carries 0, even of errors only (2025-03-26)",
		B.last_code == 0 && B.last[0] == '[' && strstr(B.last, "-32601") != NULL);
	in(b, "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\"}}", &tb);
	turn(2);
	T_CHECK("code/a call's result (or isError) carries 0", B.last_code == 0 && strstr(B.last, "\"id\":14") != NULL);

	waits(b);
	mcp_session_free(b);
	mcp_free();
	T_CHECK("free/no timer left", loop_pending() == 0);
	wakes(&set);
	T_CHECK("free/no timer left after the waits", loop_pending() == 0);
	return t_done();
}
