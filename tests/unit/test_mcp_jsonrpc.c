/* Unit tests of jsonrpc: line classification, message rules, id echo, and
 * the response/error writers. */
#include "mcp_jsonrpc.h"
#include "t.h"

static struct json_doc D;

static enum mcp_jsonrpc_line line(const char *s, int *code, char *msg)
{
	return mcp_jsonrpc_parse_line(&D, t_guarded(s, strlen(s)), strlen(s), code, msg, 200);
}

static void read1(const char *s, struct mcp_jsonrpc_msg *m)
{
	int code;
	char msg[200];
	if (line(s, &code, msg) != JSONRPC_LINE_SINGLE) {
		memset(m, 0, sizeof *m);
		m->kind = -1;
		return;
	}
	mcp_jsonrpc_read(&D, 0, m);
}

static int id_is(const struct mcp_jsonrpc_msg *m, const char *raw)
{
	return m->id.kind != JSONRPC_ID_NONE && m->id.len == strlen(raw) && memcmp(m->id.raw, raw, m->id.len) == 0;
}

static void test_lines(void)
{
	int code = 0;
	char msg[200];
	T_CHECK("jsonrpc/garbage is -32700", line("nope", &code, msg) == JSONRPC_LINE_ERROR && code == -32700);
	T_CHECK("jsonrpc/-32700 names the problem and byte", strstr(msg, "invalid JSON syntax at byte 0") != NULL);
	T_CHECK("jsonrpc/trailing comma is -32700", line("{\"a\":1,}", &code, msg) == JSONRPC_LINE_ERROR && code == -32700);
	T_CHECK("jsonrpc/empty batch is -32600", line("[]", &code, msg) == JSONRPC_LINE_ERROR && code == -32600);
	T_CHECK("jsonrpc/batch", line("[{},1]", &code, msg) == JSONRPC_LINE_BATCH);
	T_CHECK("jsonrpc/single", line("{}", &code, msg) == JSONRPC_LINE_SINGLE && line("5", &code, msg) == JSONRPC_LINE_SINGLE);
	char deep[200] = "";
	for (int i = 0; i < 65; i++)
		strcat(deep, "[");
	T_CHECK("jsonrpc/too deep is -32600 naming LIMIT_JSON_DEPTH",
		line(deep, &code, msg) == JSONRPC_LINE_ERROR && code == -32600 && strstr(msg, "LIMIT_JSON_DEPTH"));
	struct json_doc small;
	json_doc_init(&small, 3);
	T_CHECK("jsonrpc/too many tokens is -32600 naming LIMIT_JSON_TOKENS",
		mcp_jsonrpc_parse_line(&small, "[1,2,3]", 7, &code, msg, 200) == JSONRPC_LINE_ERROR && code == -32600 &&
			strstr(msg, "LIMIT_JSON_TOKENS"));
	json_doc_free(&small);
	char big[LIMIT_BATCH_REQUESTS * 3 + 8];
	size_t n = 0;
	big[n++] = '[';
	for (int i = 0; i <= LIMIT_BATCH_REQUESTS; i++) {
		memcpy(big + n, "{},", 3);
		n += 3;
	}
	big[n - 1] = ']';
	big[n] = 0;
	T_CHECK("jsonrpc/oversize batch is -32600 naming LIMIT_BATCH_REQUESTS",
		line(big, &code, msg) == JSONRPC_LINE_ERROR && code == -32600 && strstr(msg, "LIMIT_BATCH_REQUESTS"));
}

static void test_messages(void)
{
	struct mcp_jsonrpc_msg m;
	read1("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/request", m.kind == JSONRPC_REQUEST && m.id.kind == JSONRPC_ID_INT && id_is(&m, "7") &&
					   json_streq(&D, m.method, "ping") && m.params == -1);
	read1("{\"method\":\"tools/call\",\"params\":{},\"id\":\"a\\\"b\",\"jsonrpc\":\"2\\u002e0\"}", &m);
	T_CHECK("jsonrpc/member order and escapes do not matter; string id kept raw",
		m.kind == JSONRPC_REQUEST && m.id.kind == JSONRPC_ID_STRING && id_is(&m, "\"a\\\"b\"") && m.params >= 0);
	read1("{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890123456789,\"method\":\"x\"}", &m);
	T_CHECK("jsonrpc/big integer id kept digit for digit",
		m.kind == JSONRPC_REQUEST && id_is(&m, "123456789012345678901234567890123456789"));
	read1("{\"jsonrpc\":\"2.0\",\"id\":-5,\"method\":\"x\"}", &m);
	T_CHECK("jsonrpc/negative id", m.kind == JSONRPC_REQUEST && id_is(&m, "-5"));
	read1("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &m);
	T_CHECK("jsonrpc/notification", m.kind == JSONRPC_NOTIFICATION && m.method >= 0);
	read1("{\"method\":5}", &m);
	T_CHECK("jsonrpc/malformed notification is still a notification", m.kind == JSONRPC_NOTIFICATION && m.method == -1);
	read1("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", &m);
	T_CHECK("jsonrpc/client response", m.kind == JSONRPC_RESPONSE);
	read1("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/id null is -32600 without id, saying null is the matter",
		m.kind == JSONRPC_INVALID && m.code == -32600 && m.id.kind == JSONRPC_ID_NONE && strstr(m.message, "null"));
	read1("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/fractional id is -32600 without id", m.kind == JSONRPC_INVALID && m.id.kind == JSONRPC_ID_NONE);
	read1("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/exponent id is -32600 without id", m.kind == JSONRPC_INVALID && m.id.kind == JSONRPC_ID_NONE);
	read1("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/boolean id is -32600", m.kind == JSONRPC_INVALID && m.id.kind == JSONRPC_ID_NONE);
	read1("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/object id is -32600", m.kind == JSONRPC_INVALID && m.id.kind == JSONRPC_ID_NONE);
	read1("{\"id\":3,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/missing jsonrpc is -32600 echoing the id", m.kind == JSONRPC_INVALID && id_is(&m, "3") &&
									   strstr(m.message, "jsonrpc"));
	read1("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/wrong jsonrpc is -32600", m.kind == JSONRPC_INVALID && id_is(&m, "3"));
	read1("{\"jsonrpc\":2.0,\"id\":3,\"method\":\"ping\"}", &m);
	T_CHECK("jsonrpc/numeric jsonrpc is -32600", m.kind == JSONRPC_INVALID);
	read1("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":7}", &m);
	T_CHECK("jsonrpc/non-string method is -32600", m.kind == JSONRPC_INVALID && id_is(&m, "3"));
	read1("{\"jsonrpc\":\"2.0\",\"id\":3}", &m);
	T_CHECK("jsonrpc/no method is -32600", m.kind == JSONRPC_INVALID && id_is(&m, "3"));
	read1("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"x\",\"params\":\"s\"}", &m);
	T_CHECK("jsonrpc/scalar params is -32600", m.kind == JSONRPC_INVALID && strstr(m.message, "params"));
	read1("{\"jsonrpc\":\"2.0\",\"id\":3,\"id\":4,\"method\":\"x\"}", &m);
	T_CHECK("jsonrpc/duplicate member is -32600", m.kind == JSONRPC_INVALID && strstr(m.message, "twice"));
	read1("[1]", &m);
	T_CHECK("jsonrpc/array line is not a single message", (int)m.kind == -1);
	read1("\"hello\"", &m);
	T_CHECK("jsonrpc/non-object is -32600", m.kind == JSONRPC_INVALID && m.id.kind == JSONRPC_ID_NONE);
	read1("{}", &m);
	T_CHECK("jsonrpc/empty object is -32600", m.kind == JSONRPC_INVALID);
	char longid[LIMIT_ID_BYTES + 64];
	memset(longid, 0, sizeof longid);
	strcpy(longid, "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":\"");
	size_t n = strlen(longid);
	memset(longid + n, 'a', LIMIT_ID_BYTES - 1); /* with quotes: one byte over */
	strcpy(longid + n + LIMIT_ID_BYTES - 1, "\"}");
	read1(longid, &m);
	T_CHECK("jsonrpc/id over LIMIT_ID_BYTES is -32600 naming it", m.kind == JSONRPC_INVALID && strstr(m.message, "LIMIT_ID_BYTES"));
	longid[n + LIMIT_ID_BYTES - 2] = '"';
	longid[n + LIMIT_ID_BYTES - 1] = '}';
	longid[n + LIMIT_ID_BYTES] = 0;
	read1(longid, &m);
	T_CHECK("jsonrpc/id of exactly LIMIT_ID_BYTES is accepted", m.kind == JSONRPC_REQUEST && m.id.len == LIMIT_ID_BYTES);
}

static void test_writers(void)
{
	struct json_w w;
	json_w_init(&w, 4096);
	struct mcp_jsonrpc_id id = {JSONRPC_ID_STRING, "\"x\\u0041\"", 9};
	mcp_jsonrpc_result_begin(&w, &id);
	json_w_obj(&w);
	json_w_obj_end(&w);
	mcp_jsonrpc_result_end(&w);
	size_t n;
	const char *p = json_w_data(&w, &n);
	T_CHECK("jsonrpc/result echoes the id verbatim",
		json_w_error(&w) == 0 && n == 44 && memcmp(p, "{\"jsonrpc\":\"2.0\",\"id\":\"x\\u0041\",\"result\":{}}", n) == 0);
	json_w_reset(&w);
	mcp_jsonrpc_error(&w, NULL, -32700, "Parse error: \"x\"");
	p = json_w_data(&w, &n);
	static const char want[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"Parse error: \\\"x\\\"\"}}";
	T_CHECK("jsonrpc/error without id leaves id out", n == sizeof want - 1 && memcmp(p, want, n) == 0);
	json_w_reset(&w);
	struct mcp_jsonrpc_id none = {JSONRPC_ID_NONE, NULL, 0};
	mcp_jsonrpc_error_begin(&w, &none, -32022, "Unsupported");
	json_w_key(&w, "data");
	json_w_null(&w);
	mcp_jsonrpc_error_end(&w);
	p = json_w_data(&w, &n);
	T_CHECK("jsonrpc/error with data", json_w_error(&w) == 0 && json_parse(&D, p, n) == 0 &&
						   json_type(&D, json_get(&D, json_get(&D, 0, "error"), "data")) == JSON_NULL &&
						   json_get(&D, 0, "id") < 0);
	json_w_free(&w);
}

int main(void)
{
	t_plan(36);
	json_doc_init(&D, LIMIT_JSON_TOKENS);
	test_lines();
	test_messages();
	test_writers();
	json_doc_free(&D);
	return t_done();
}
