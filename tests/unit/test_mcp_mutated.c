/* The MCP core (mcp.c) on mutated input: tens of thousands of lines made
 * by mutating valid MCP messages go through mcp_session_input, in each flow (2025
 * with batches, 2025-11-25, 2026-07-28). Nothing may crash (the sanitizer
 * build checks memory), every output must be one valid JSON object or array
 * carrying "jsonrpc":"2.0", and the core must still answer a ping after. */
#include "kling_config.h"
#include "kling.h"
#include "json.h"
#include "kling_list.h"
#include "kling_task.h"
#include "loop.h"
#include "mcp.h"
#include "t.h"
#include "tools.h"

#include <stdint.h>

static struct json_doc OUT;

/* A backend without network: every call fails, from the loop (0 ms timer),
 * as every backend answers. */
#define MAX_OPS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS + 8)
struct kling_op {
	int used;
	struct loop_timer timer;
	kling_list_done_fn done;
	void *ctx;
};
static struct kling_op g_ops[MAX_OPS];

static void fake_answer(void *arg)
{
	struct kling_op *op = arg;
	op->used = 0;
	op->done(op->ctx, NULL, "fake backend: no network in this test");
}

static struct kling_op *fake_start(const struct kling_list_query *q, int64_t deadline_ms, kling_list_done_fn done,
				   void *ctx)
{
	(void)q;
	(void)deadline_ms;
	for (int i = 0; i < MAX_OPS; i++) {
		struct kling_op *op = &g_ops[i];
		if (op->used)
			continue;
		op->used = 1;
		op->done = done;
		op->ctx = ctx;
		loop_timer_set(&op->timer, loop_now_ms(), fake_answer, op);
		return op;
	}
	return NULL;
}

static void fake_cancel(struct kling_op *op)
{
	loop_timer_clear(&op->timer);
	op->used = 0;
}

static const struct kling_backend FAKE = {fake_start, fake_cancel, NULL, NULL};
static long g_outputs, g_bad;
static char g_last[256];

static int capture(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	(void)ctx;
	(void)tag;
	(void)code;
	g_outputs++;
	int ok = json_parse(&OUT, msg, len) == 0;
	if (ok && json_type(&OUT, 0) == JSON_OBJECT)
		ok = json_streq(&OUT, json_get(&OUT, 0, "jsonrpc"), "2.0");
	else if (ok && json_type(&OUT, 0) == JSON_ARRAY)
		for (int e = json_first(&OUT, 0); e >= 0 && ok; e = json_next(&OUT, e))
			ok = json_streq(&OUT, json_get(&OUT, e, "jsonrpc"), "2.0");
	else
		ok = 0;
	if (!ok)
		g_bad++;
	size_t n = len < sizeof g_last - 1 ? len : sizeof g_last - 1;
	memcpy(g_last, msg, n);
	g_last[n] = 0;
	return 0;
}

static const char *const SEEDS[] = {
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
	"{\"jsonrpc\":\"2.0\",\"id\":\"s\\u00e9\",\"method\":\"tools/list\",\"params\":{}}",
	"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_tasks\",\"arguments\":"
	"{\"page\":2,\"page_size\":50,\"status\":\"succeed\",\"start_time\":\"2026-11-01T00:00:00+08:00\","
	"\"end_time\":\"2026-11-29\",\"product_type\":\"video\"}}}",
	"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"list_tasks\",\"arguments\":"
	"{\"cursor\":\"abc==\",\"page\":1}}}",
	"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"list_tasks\",\"arguments\":"
	"{\"\\u0073tatus\":\"\\u0073ucceed\",\"x\":[1,{\"y\":null}]}}}",
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":2,\"reason\":\"r\"}}",
	"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
	"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\","
	"\"capabilities\":{},\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}}}",
	"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"server/discover\",\"params\":{\"_meta\":{"
	"\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"_meta\":{"
	"\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}},"
	"\"name\":\"list_tasks\",\"arguments\":{\"page_size\":1e1}}}",
	"[{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"method\":\"n\"},5,"
	"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"list_tasks\"}}]",
	"{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,\"method\":\"nope\"}",
	"{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":{}}",
};
#define NSEEDS (sizeof SEEDS / sizeof *SEEDS)

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void)
{
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 7;
	g_rng ^= g_rng << 17;
	return (uint32_t)(g_rng >> 16);
}

static const char INTERESTING[] = "{}[],:\"\\ 0-1e.tfnu\x01\x7f\xc3\xa9\xed\xa0\x80\xff";

static size_t mutate(char *buf, size_t len, size_t cap)
{
	int n = 1 + (int)(rnd() % 4);
	for (int k = 0; k < n; k++) {
		size_t pos = len ? rnd() % len : 0;
		switch (rnd() % 6) {
		case 0: /* replace */
			if (len)
				buf[pos] = INTERESTING[rnd() % (sizeof INTERESTING - 1)];
			break;
		case 1: /* insert */
			if (len + 1 < cap) {
				memmove(buf + pos + 1, buf + pos, len - pos);
				buf[pos] = INTERESTING[rnd() % (sizeof INTERESTING - 1)];
				len++;
			}
			break;
		case 2: /* delete */
			if (len) {
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
			}
			break;
		case 3: /* duplicate a chunk */
		{
			size_t cl = 1 + rnd() % 16;
			if (pos + cl <= len && len + cl < cap) {
				memmove(buf + pos + cl, buf + pos, len - pos);
				len += cl;
			}
			break;
		}
		case 4: /* truncate */
			len = pos;
			break;
		default: /* flip a bit */
			if (len)
				buf[pos] ^= (char)(1u << (rnd() % 8));
		}
	}
	return len;
}

static void round_(const char *name, const char *opening, int iterations)
{
	static struct kling_config cfg;
	static char key[] = "fuzz-key";
	memset(&cfg, 0, sizeof cfg);
	cfg.api_key = key;
	cfg.timeout_ms = 1000;
	static const struct mcp_sink sink = {capture, NULL};
	static struct mcp_settings set = {1000, NULL, {"fuzz-key", NULL}};
	kling_init(&cfg);
	mcp_init(&set, &kling_tools);
	struct mcp_session *s = mcp_session_new(&sink, NULL);
	g_outputs = g_bad = 0;
	if (opening)
		mcp_session_input(s, opening, strlen(opening), NULL);
	char buf[4096];
	for (int i = 0; i < iterations; i++) {
		const char *seed = SEEDS[rnd() % NSEEDS];
		size_t len = strlen(seed);
		memcpy(buf, seed, len);
		len = mutate(buf, len, sizeof buf);
		const char *p = t_guarded(buf, len);
		mcp_session_input(s, p, len, NULL);
		loop_run_once(0);
	}
	for (int i = 0; i < 1000 && (mcp_calls_running() || mcp_calls_queued()); i++)
		loop_run_once(0);
	long before = g_outputs;
	static const char ping[] = "{\"jsonrpc\":\"2.0\",\"id\":\"final\",\"method\":\"ping\"}";
	static const char modern_ping[] = "{\"jsonrpc\":\"2.0\",\"id\":\"final\",\"method\":\"tools/list\",\"params\":{\"_meta\":{"
					  "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
					  "\"io.modelcontextprotocol/clientCapabilities\":{}}}}";
	mcp_session_input(s, ping, sizeof ping - 1, NULL);
	mcp_session_input(s, modern_ping, sizeof modern_ping - 1, NULL);
	char t[160];
	snprintf(t, sizeof t, "fuzz/%s: %d mutated lines, every output valid JSON-RPC (%ld outputs)", name, iterations,
		 g_outputs);
	T_CHECK(t, g_bad == 0 && g_outputs > iterations / 4);
	snprintf(t, sizeof t, "fuzz/%s: still answers afterwards", name);
	T_CHECK(t, g_outputs > before && strstr(g_last, "\"final\"") != NULL);
	T_CHECK("fuzz/no call left running", mcp_calls_running() == 0 && mcp_calls_queued() == 0);
	mcp_session_free(s);
	mcp_free();
}

int main(void)
{
	t_plan(12);
	json_doc_init(&OUT, LIMIT_JSON_TOKENS);
	kling_list_use_backend(&FAKE);
	round_("undecided", NULL, 15000);
	round_("2025-03-26 with batches",
	       "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\"}}",
	       15000);
	round_("2025-11-25",
	       "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}",
	       15000);
	round_("2026-07-28",
	       "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
	       "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
	       15000);
	json_doc_free(&OUT);
	return t_done();
}
