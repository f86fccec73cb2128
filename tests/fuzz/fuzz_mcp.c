/*
 * fuzz_mcp — JSON-RPC lines through the whole dispatcher (mcp_session_input:
 * jsonrpc framing, lifecycle, both protocol flows, batches, tools/list,
 * tools/call with list_tasks' argument checks, the call queue, deadlines,
 * cancellation), with a fake list_tasks backend instead of the network.
 *
 * Input: byte 0 chooses the call deadline (odd: 0 ms, so every deadline
 * fires on the next loop turn; even: 30 s); the rest is split at '\n' into
 * lines (a line "\xff" stands for one over LIMIT_LINE_BYTES). After each line
 * the loop turns twice, so queued calls start and timers fire.
 *
 * The fake backend (tests/lib/fake_backend.h, shared with fake_server) picks its
 * behaviour from the cursor: none or other: a page at once; 'a' a page from
 * the loop; "delay:N" after N ms; 'e' an error text; 's' never answers (until
 * cancelled); 'b' an unusable result; "huge" one over LIMIT_RESPONSE_BYTES.
 *
 * Invariants: every output is one JSON object (or an array of them) with
 * "jsonrpc":"2.0", exactly one of result/error, and an id that is a string
 * or an integer when present; at the end of input every call is dropped,
 * every backend operation cancelled or answered, and no timer is left armed.
 */
#include "kling_config.h"
#include "kling.h"
#include "fuzz.h"
#include "json.h"
#include "loop.h"
#include "mcp.h"
#include "tool_list_tasks.h"
#include "tools.h"

#include <string.h>

static struct json_doc OUT;
static struct kling_config CFG;
static char KEY[] = "fuzz-api-key";

static void check_message(int t)
{
	FUZZ_ASSERT(json_type(&OUT, t) == JSON_OBJECT);
	FUZZ_ASSERT(json_streq(&OUT, json_get(&OUT, t, "jsonrpc"), "2.0"));
	int res = json_get(&OUT, t, "result"), err = json_get(&OUT, t, "error");
	FUZZ_ASSERT((res >= 0) != (err >= 0));
	int id = json_get(&OUT, t, "id");
	FUZZ_ASSERT(id < 0 || json_type(&OUT, id) == JSON_STRING || json_is_plain_int(&OUT, id));
	if (err >= 0) {
		int64_t code;
		FUZZ_ASSERT(json_int(&OUT, json_get(&OUT, err, "code"), &code) == 0);
		FUZZ_ASSERT(json_type(&OUT, json_get(&OUT, err, "message")) == JSON_STRING);
	}
}

static int output(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	(void)ctx;
	(void)tag;
	(void)code;
	FUZZ_ASSERT(memchr(msg, '\n', len) == NULL);
	FUZZ_ASSERT(json_parse(&OUT, msg, len) == 0);
	if (json_type(&OUT, 0) == JSON_ARRAY) {
		FUZZ_ASSERT(json_count(&OUT, 0) > 0);
		for (int e = json_first(&OUT, 0); e >= 0; e = json_next(&OUT, e))
			check_message(e);
	} else {
		check_message(0);
	}
	return 0;
}

#define FAKE_CHECK(cond) FUZZ_ASSERT(cond)
#include "../lib/fake_backend.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (json_doc_init(&OUT, LIMIT_JSON_TOKENS))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	memset(&CFG, 0, sizeof CFG);
	CFG.api_key = KEY;
	CFG.timeout_ms = fuzz_byte(&in) & 1 ? 0 : 30000;
	static const struct mcp_sink sink = {output, NULL};
	static struct mcp_settings set;
	set = (struct mcp_settings){CFG.timeout_ms, NULL, {CFG.api_key, NULL}};
	kling_init(&CFG);
	FUZZ_ASSERT(mcp_init(&set, &kling_tools) == 0);
	struct mcp_session *s = mcp_session_new(&sink, NULL);
	FUZZ_ASSERT(s);
	kling_list_use_backend(&fake_backend);
	const char *p = (const char *)in.p, *end = p + in.n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p == 1 && (unsigned char)*p == 0xFF)
			mcp_session_oversize(s, LIMIT_LINE_BYTES + 1, NULL);
		else
			mcp_session_input(s, p, (size_t)(le - p), NULL);
		loop_run_once(0);
		loop_run_once(0);
		p = nl ? nl + 1 : end;
	}
	mcp_session_free(s);
	FUZZ_ASSERT(mcp_calls_running() == 0 && mcp_calls_queued() == 0);
	FUZZ_ASSERT(fake_running == 0);
	mcp_free();
	FUZZ_ASSERT(loop_pending() == 0);
	kling_list_use_backend(NULL);
	return 0;
}
