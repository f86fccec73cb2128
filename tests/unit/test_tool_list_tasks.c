/* Unit tests of the list_tasks tool: argument validation (through the
 * tool's prepare), the result check, the text layout, and structuredContent
 * — escaped exactly and conforming to the declared outputSchema (checked by a
 * small JSON Schema subset validator below: type, enum, required,
 * properties, additionalProperties:false, items, minLength, minimum,
 * maximum, format date-time). */
#include "kling_config.h"
#include "kling.h"
#include "iso8601.h"
#include "mcp.h"
#include "t.h"
#include "t_tool.h"
#include "tool_list_tasks.h"

#include <stdint.h>

static struct json_doc D, S;
static struct kling_config CFG;

/* prepare() on arguments given as JSON text. The state begins with the
 * struct kling_list_query (the first member of the tool's private state). */
static int prep(const char *args_json, const struct kling_list_query **q)
{
	*q = (const struct kling_list_query *)(const void *)STATE;
	return t_prepare(&lt_tool, &D, args_json);
}

static int refused_naming(const char *args, const char *needle)
{
	const struct kling_list_query *q;
	return prep(args, &q) == -1 && strstr(ERR, needle) != NULL;
}

static void test_validation(void)
{
	const struct kling_list_query *q;
	T_CHECK("lt/args: empty object accepted", prep("{}", &q) == 0);
	T_CHECK("lt/args: defaults", q->page == 1 && !q->page_given && q->page_size == 10 && q->status == KLING_STATUS_NONE &&
					     q->product == KLING_PRODUCT_NONE && q->start_ms == -1 && q->end_ms == -1 &&
					     q->cursor_len == 0);
	T_CHECK("lt/args: all seven accepted",
		prep("{\"page\":3,\"page_size\":100,\"status\":\"failed\",\"start_time\":\"2026-11-01\",\"end_time\":"
		     "\"2026-11-29\",\"product_type\":\"try_on\"}",
		     &q) == 0);
	T_CHECK("lt/args: values stored", q->page == 3 && q->page_given && q->page_size == 100 && q->status == KLING_FAILED &&
						  q->product == KLING_TRY_ON && q->start_ms == INT64_C(1793491200000) &&
						  q->end_ms == INT64_C(1795910400000) + 86399999);
	T_CHECK("lt/args: page 2.0 counts as the integer 2", prep("{\"page\":2.0}", &q) == 0 && q->page == 2);
	T_CHECK("lt/args: page_size 1e2 counts as 100", prep("{\"page_size\":1e2}", &q) == 0 && q->page_size == 100);
	T_CHECK("lt/args: escaped enum value equals succeed", prep("{\"status\":\"\\u0073ucceed\"}", &q) == 0 && q->status == KLING_SUCCEED);
	T_CHECK("lt/args: escaped argument name is recognized", prep("{\"p\\u0061ge\":4}", &q) == 0 && q->page == 4);
	T_CHECK("lt/args: page 0 refused naming page", refused_naming("{\"page\":0}", "page must be an integer from 1"));
	T_CHECK("lt/args: page -1 refused", refused_naming("{\"page\":-1}", "page must be"));
	T_CHECK("lt/args: page 1.5 refused", refused_naming("{\"page\":1.5}", "page must be an integer of at least 1"));
	T_CHECK("lt/args: page \"2\" refused, quoting it", refused_naming("{\"page\":\"2\"}", "got \"2\""));
	T_CHECK("lt/args: null means not given (page)", prep("{\"page\":null}", &q) == 0 && q->page == 1 && !q->page_given);
	T_CHECK("lt/args: null means not given (every optional argument)",
		prep("{\"page_size\":null,\"status\":null,\"start_time\":null,\"end_time\":null,\"cursor\":null,"
		     "\"product_type\":null}", &q) == 0 && q->page_size == 10 && q->status == KLING_STATUS_NONE &&
			q->start_ms == -1 && q->end_ms == -1 && q->cursor_len == 0 && q->product == KLING_PRODUCT_NONE);
	T_CHECK("lt/args: page beyond int range refused", refused_naming("{\"page\":99999999999999999999}", "from 1 to 2147483647"));
	T_CHECK("lt/args: page_size 0 refused", refused_naming("{\"page_size\":0}", "page_size must be an integer from 1 to 100"));
	T_CHECK("lt/args: page_size 101 refused", refused_naming("{\"page_size\":101}", "page_size must be an integer from 1 to 100"));
	T_CHECK("lt/args: page_size true refused", refused_naming("{\"page_size\":true}", "got true"));
	T_CHECK("lt/args: status case matters", refused_naming("{\"status\":\"Succeed\"}",
							       "status must be one of submitted, processing, succeed, failed"));
	T_CHECK("lt/args: status succeeded (the /tasks word) refused", refused_naming("{\"status\":\"succeeded\"}", "status must be"));
	T_CHECK("lt/args: empty status refused", refused_naming("{\"status\":\"\"}", "status must be"));
	T_CHECK("lt/args: product_type refused", refused_naming("{\"product_type\":\"audio\"}", "product_type must be one of video, image, try_on"));
	T_CHECK("lt/args: bad start_time refused with an example", refused_naming("{\"start_time\":\"yesterday\"}", "start_time must be an ISO 8601"));
	T_CHECK("lt/args: Feb 30 refused", refused_naming("{\"end_time\":\"2026-02-30\"}", "end_time must be"));
	T_CHECK("lt/args: numeric time refused", refused_naming("{\"start_time\":1795910400}", "start_time must be"));
	T_CHECK("lt/args: start after end refused, both shown",
		refused_naming("{\"start_time\":\"2026-11-29T10:00:00+08:00\",\"end_time\":\"2026-11-29T01:00:00Z\"}",
			       "start_time (2026-11-29T02:00:00.000Z) is after end_time (2026-11-29T01:00:00.000Z)"));
	T_CHECK("lt/args: start equal to end accepted",
		prep("{\"start_time\":\"2026-11-29T01:00:00Z\",\"end_time\":\"2026-11-29T09:00:00+08:00\"}", &q) == 0);
	T_CHECK("lt/args: same date as start and end covers the day",
		prep("{\"start_time\":\"2026-11-29\",\"end_time\":\"2026-11-29\"}", &q) == 0 &&
			q->end_ms - q->start_ms == 86399999);
	T_CHECK("lt/args: cursor kept", prep("{\"cursor\":\"abc\\/=\"}", &q) == 0 && q->cursor_len == 5 && strcmp(q->cursor, "abc/=") == 0);
	T_CHECK("lt/args: empty cursor refused", refused_naming("{\"cursor\":\"\"}", "cursor must be the next_cursor"));
	T_CHECK("lt/args: non-string cursor refused", refused_naming("{\"cursor\":5}", "cursor must be"));
	{
		static char big[LIMIT_CURSOR_BYTES + 32];
		strcpy(big, "{\"cursor\":\"");
		size_t n = strlen(big);
		memset(big + n, 'c', LIMIT_CURSOR_BYTES);
		strcpy(big + n + LIMIT_CURSOR_BYTES, "\"}");
		T_CHECK("lt/args: cursor of LIMIT_CURSOR_BYTES accepted", prep(big, &q) == 0 && q->cursor_len == LIMIT_CURSOR_BYTES);
		big[n + LIMIT_CURSOR_BYTES] = 'c';
		strcpy(big + n + LIMIT_CURSOR_BYTES + 1, "\"}");
		T_CHECK("lt/args: cursor over LIMIT_CURSOR_BYTES refused", refused_naming(big, "1 to 1024 bytes"));
	}
	T_CHECK("lt/args: cursor with page 2 refused", refused_naming("{\"cursor\":\"x\",\"page\":2}", "either cursor or page"));
	T_CHECK("lt/args: cursor with page 1 accepted", prep("{\"cursor\":\"x\",\"page\":1}", &q) == 0);
	T_CHECK("lt/args: unknown argument named", refused_naming("{\"limit\":5}", "unknown argument \"limit\"; list_tasks takes page"));
	T_CHECK("lt/args: several unknown arguments named",
		refused_naming("{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7}", "unknown arguments \"a\", \"b\", \"c\", \"d\", \"e\" and 2 more"));
	T_CHECK("lt/args: repeated argument refused", refused_naming("{\"page\":1,\"page\":2}", "page is given more than once"));
	T_CHECK("lt/args: every problem listed at once",
		refused_naming("{\"page\":0,\"status\":\"x\"}", "Invalid arguments:\n- page must") && strstr(ERR, "\n- status must"));
	T_CHECK("lt/args: one problem reads as one sentence", refused_naming("{\"page\":0}", "Invalid argument: page"));
	T_CHECK("lt/args: a long bad value is cut", refused_naming(
		"{\"status\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "...") &&
		strlen(ERR) < 200);
	T_CHECK("lt/args: absent arguments (-1) accepted", prep("", &q) == 0 && q->page == 1);

	/* configuration: after validation */
	strcpy(CFG.error, "KLING_REGION must be global or cn");
	T_CHECK("lt/config: a bad argument is reported before config.error", refused_naming("{\"page\":0}", "page must"));
	T_CHECK("lt/config: config.error is quoted", refused_naming("{}", "misconfigured: KLING_REGION must be global or cn"));
	CFG.error[0] = 0;
	char *key = CFG.api_key;
	CFG.api_key = NULL;
	T_CHECK("lt/config: missing credentials name the variables",
		refused_naming("{}", "KLING_API_KEY") && strstr(ERR, "KLING_ACCESS_KEY") && strstr(ERR, "KLING_SECRET_KEY"));
	T_CHECK("lt/config: a bad argument is reported before missing credentials", refused_naming("{\"page\":0}", "page must"));
	CFG.api_key = key;
}

/* ---- rendering ---- */

#define S(x) {(x), sizeof(x) - 1}
static const char NASTY[] = "Fehler: \"quota\" \\ \xC3\xBC" "berschritten\n\tnext\x01 \xE2\x80\x94 \xE5\xAD\x97 "
			    "\xF0\x9F\x98\x80 \xE2\x80\xA8sep\x7F end";

static const struct kling_output OUTS[] = {
	{S("video"), S("https://cdn.example/v.mp4?sig=a&b=1"), S("https://cdn.example/v_wm.mp4"), S("5.1")},
	{S("image"), S("https://cdn.example/i.png"), {NULL, 0}, {NULL, 0}},
};
static const struct kling_task TASKS[] = {
	{S("866532"), KLING_SUCCEED, {NULL, 0}, S("text2video"), S("kling-v2-1"), S("job-7"), INT64_C(1795922400000),
	 INT64_C(1795922460123), OUTS, 2},
	{S("866533"), KLING_FAILED, S(NASTY), {NULL, 0}, {NULL, 0}, {NULL, 0}, INT64_C(1795922400000), 0, NULL, 0},
	{S("t\xE2\x80\xA8\"3"), KLING_PROCESSING, {"", 0}, {"", 0}, {NULL, 0}, {NULL, 0}, 0, 0, NULL, 0},
};

static struct json_w W;

static const char *render(const struct kling_list_result *r, int structured)
{
	json_w_reset(&W);
	json_w_obj(&W);
	tool_list_tasks_render(&W, r, structured);
	json_w_obj_end(&W);
	size_t n;
	const char *p = json_w_data(&W, &n);
	if (json_w_error(&W) || json_parse(&D, p, n) != 0)
		return NULL;
	static char text[8192];
	int t = json_get(&D, json_first(&D, json_get(&D, 0, "content")), "text");
	if (json_unescape(&D, t, text, sizeof text, NULL) != 0)
		return NULL;
	return text;
}

static void test_text(void)
{
	struct kling_list_result r = {KLING_API_TASKS, 1, 10, 0, 0, {NULL, 0}, NULL, 0};
	T_STREQ("lt/text: empty page, total known", render(&r, 1),
		"Kling AI Task List (Page 1):\n\nTotal Tasks: 0\n\nNo tasks found.");
	r.total = -1;
	r.page = 4;
	T_STREQ("lt/text: total unknown is left out", render(&r, 1), "Kling AI Task List (Page 4):\n\nNo tasks found.");
	struct kling_list_result full = {KLING_API_LEGACY, 2, 3, 137, 1, S("cur/2=="), TASKS, 3};
	T_STREQ("lt/text: the seed's layout with results, failures and the next page",
		render(&full, 1),
		"Kling AI Task List (Page 2):\n"
		"\nTotal Tasks: 137"
		"\n\nTasks:"
		"\n\n1. Task ID: 866532"
		"\n   Type: text2video"
		"\n   Status: succeed"
		"\n   Created: 2026-11-29T03:20:00.000Z"
		"\n   Updated: 2026-11-29T03:21:00.123Z"
		"\n   Model: kling-v2-1"
		"\n   External ID: job-7"
		"\n   Result (video, 5.1 s): https://cdn.example/v.mp4?sig=a&b=1"
		"\n   Watermarked: https://cdn.example/v_wm.mp4"
		"\n   Result (image): https://cdn.example/i.png"
		"\n\n2. Task ID: 866533"
		"\n   Type: N/A"
		"\n   Status: failed"
		"\n   Failure: Fehler: \"quota\" \\ \xC3\xBC" "berschritten  next\\u0001 \xE2\x80\x94 \xE5\xAD\x97 \xF0\x9F\x98\x80  sep\\u007f end"
		"\n   Created: 2026-11-29T03:20:00.000Z"
		"\n\n3. Task ID: t \"3"
		"\n   Type: N/A"
		"\n   Status: processing"
		"\n\nMore tasks: call list_tasks with cursor \"cur/2==\" to get the next page.");
	full.next_cursor.ptr = NULL;
	full.next_cursor.len = 0;
	const char *t = render(&full, 1);
	T_CHECK("lt/text: without a cursor the hint names the next page number",
		t && strstr(t, "More tasks: call list_tasks with page 3 to get the next page."));
	full.has_more = 0;
	t = render(&full, 1);
	T_CHECK("lt/text: no hint on the last page", t && !strstr(t, "More tasks"));
	T_CHECK("lt/text: no structuredContent for old protocols", render(&full, 0) && json_get(&D, 0, "structuredContent") < 0);
}

static int str_is(int t, const char *want, size_t n)
{
	return json_streqn(&D, t, want, n);
}

static void test_structured(void)
{
	struct kling_list_result full = {KLING_API_TASKS, 1, 3, 137, 1, S("next/=="), TASKS, 3};
	T_CHECK("lt/structured: renders", render(&full, 1) != NULL);
	int sc = json_get(&D, 0, "structuredContent");
	int64_t v;
	T_CHECK("lt/structured: top-level fields", str_is(json_get(&D, sc, "backend"), "tasks", 5) &&
							json_int(&D, json_get(&D, sc, "page"), &v) == 0 && v == 1 &&
							json_int(&D, json_get(&D, sc, "page_size"), &v) == 0 && v == 3 &&
							json_int(&D, json_get(&D, sc, "total"), &v) == 0 && v == 137 &&
							json_type(&D, json_get(&D, sc, "has_more")) == JSON_TRUE &&
							str_is(json_get(&D, sc, "next_cursor"), "next/==", 7));
	int tasks = json_get(&D, sc, "tasks");
	int t1 = json_first(&D, tasks), t2 = json_next(&D, t1), t3 = json_next(&D, t2);
	T_CHECK("lt/structured: three tasks", json_count(&D, tasks) == 3 && t3 >= 0);
	T_CHECK("lt/structured: task fields", str_is(json_get(&D, t1, "task_id"), "866532", 6) &&
						     str_is(json_get(&D, t1, "status"), "succeed", 7) &&
						     str_is(json_get(&D, t1, "created_at"), "2026-11-29T03:20:00.000Z", 24) &&
						     str_is(json_get(&D, t1, "updated_at"), "2026-11-29T03:21:00.123Z", 24) &&
						     str_is(json_get(&D, t1, "external_task_id"), "job-7", 5));
	int o1 = json_first(&D, json_get(&D, t1, "outputs")), o2 = json_next(&D, o1);
	T_CHECK("lt/structured: outputs", str_is(json_get(&D, o1, "url"), OUTS[0].url.ptr, OUTS[0].url.len) &&
						  str_is(json_get(&D, o1, "duration"), "5.1", 3) &&
						  json_get(&D, o2, "watermark_url") < 0 && json_get(&D, o2, "duration") < 0);
	static const char NASTY_SHOWN[] = "Fehler: \"quota\" \\ \xC3\xBC" "berschritten\n\tnext\\u0001 \xE2\x80\x94 "
					  "\xE5\xAD\x97 \xF0\x9F\x98\x80 \xE2\x80\xA8sep\\u007f end";
	T_CHECK("lt/structured: quotes, backslashes, newline, tab, U+2028 and emoji come back exactly; controls and "
		"DEL as the visible \\u00XX",
		str_is(json_get(&D, t2, "status_message"), NASTY_SHOWN, sizeof NASTY_SHOWN - 1));
	size_t n;
	const char *raw = json_str_raw(&D, json_get(&D, t2, "status_message"), &n);
	T_CHECK("lt/structured: the message is escaped as JSON wants",
		raw && memmem(raw, n, "\\\"quota\\\" \\\\ ", 13) && memmem(raw, n, "\\n\\tnext\\\\u0001", 15) &&
			memmem(raw, n, "\\u2028sep\\\\u007f", 16));
	T_CHECK("lt/structured: absent fields are left out, never empty strings",
		json_get(&D, t2, "task_type") < 0 && json_get(&D, t2, "model_name") < 0 && json_get(&D, t2, "updated_at") < 0 &&
			json_get(&D, t3, "status_message") < 0 && json_get(&D, t3, "task_type") < 0 &&
			json_get(&D, t3, "created_at") < 0);
	T_CHECK("lt/structured: outputs always present (possibly empty)",
		json_type(&D, json_get(&D, t3, "outputs")) == JSON_ARRAY && json_count(&D, json_get(&D, t3, "outputs")) == 0);
	T_CHECK("lt/structured: id with U+2028 and a quote comes back exactly",
		str_is(json_get(&D, t3, "task_id"), "t\xE2\x80\xA8\"3", 6));
	full.has_more = 0;
	full.total = -1;
	render(&full, 1);
	sc = json_get(&D, 0, "structuredContent");
	T_CHECK("lt/structured: no next_cursor and no total when not applicable",
		json_get(&D, sc, "next_cursor") < 0 && json_get(&D, sc, "total") < 0 &&
			json_type(&D, json_get(&D, sc, "has_more")) == JSON_FALSE);

	/* invalid UTF-8 from upstream still gives valid JSON */
	static const struct kling_task bad[] = {{S("x\xFF\xC3"), KLING_SUBMITTED, S("m\xED\xA0\x80"), {NULL, 0}, {NULL, 0}, {NULL, 0}, 0, 0, NULL, 0}};
	struct kling_list_result r = {KLING_API_SEED, 1, 1, 1, 0, {NULL, 0}, bad, 1};
	T_CHECK("lt/structured: invalid UTF-8 becomes U+FFFD, output stays valid JSON",
		render(&r, 1) && str_is(json_get(&D, json_first(&D, json_get(&D, json_get(&D, 0, "structuredContent"), "tasks")), "task_id"),
					"x\xEF\xBF\xBD\xEF\xBF\xBD", 7));
}

static void test_check(void)
{
	const char *why = NULL;
	struct kling_list_result ok = {KLING_API_TASKS, 1, 3, 137, 1, S("n"), TASKS, 3};
	T_CHECK("lt/check: a good result passes", tool_list_tasks_result_check(&ok, &why) == 0);
	struct kling_list_result r = ok;
	r.backend = (enum kling_api)99;
	T_CHECK("lt/check: unknown backend name", tool_list_tasks_result_check(&r, &why) < 0 && strstr(why, "backend"));
	r = ok;
	r.page = 0;
	T_CHECK("lt/check: page 0", tool_list_tasks_result_check(&r, &why) < 0);
	struct kling_task t = TASKS[0];
	t.status = KLING_STATUS_NONE;
	r = ok;
	r.tasks = &t;
	r.ntasks = 1;
	T_CHECK("lt/check: task without status", tool_list_tasks_result_check(&r, &why) < 0 && strstr(why, "status"));
	t = TASKS[0];
	t.task_id.len = 0;
	T_CHECK("lt/check: task without id", tool_list_tasks_result_check(&r, &why) < 0 && strstr(why, "task_id"));
	t = TASKS[0];
	struct kling_output o = OUTS[0];
	o.type.len = 0;
	t.outputs = &o;
	t.noutputs = 1;
	T_CHECK("lt/check: output without type", tool_list_tasks_result_check(&r, &why) < 0);
	T_CHECK("lt/names", strcmp(kling_task_status_name(KLING_SUCCEED), "succeed") == 0 && kling_task_status_name(KLING_STATUS_NONE) == NULL &&
				    strcmp(kling_task_product_name(KLING_TRY_ON), "try_on") == 0 && kling_task_product_name(99) == NULL);
}

/* ---- a JSON Schema subset, enough for our outputSchema ---- */

static int schema_errors;
static char schema_where[256];

static int validate(int sch, int val, const char *path);

static int type_ok(int sch, int val)
{
	int ty = json_get(&S, sch, "type");
	if (ty < 0)
		return 1;
	enum json_type t = json_type(&D, val);
	int64_t v;
	if (json_streq(&S, ty, "object"))
		return t == JSON_OBJECT;
	if (json_streq(&S, ty, "array"))
		return t == JSON_ARRAY;
	if (json_streq(&S, ty, "string"))
		return t == JSON_STRING;
	if (json_streq(&S, ty, "boolean"))
		return t == JSON_TRUE || t == JSON_FALSE;
	if (json_streq(&S, ty, "integer"))
		return json_int(&D, val, &v) == 0;
	if (json_streq(&S, ty, "number"))
		return t == JSON_NUMBER;
	return 0;
}

static int bad(const char *path, const char *what)
{
	if (!schema_errors++)
		snprintf(schema_where, sizeof schema_where, "%s: %s", path, what);
	return 0;
}

static int validate(int sch, int val, const char *path)
{
	char sub[200];
	if (!type_ok(sch, val))
		return bad(path, "type");
	int e = json_get(&S, sch, "enum");
	if (e >= 0) {
		int found = 0;
		size_t n;
		const char *raw = json_raw(&D, val, &n);
		for (int k = json_first(&S, e); k >= 0; k = json_next(&S, k)) {
			size_t m;
			const char *r2 = json_raw(&S, k, &m);
			found |= m == n && memcmp(raw, r2, n) == 0;
		}
		if (!found)
			return bad(path, "enum");
	}
	int64_t lim, v;
	if (json_int(&S, json_get(&S, sch, "minLength"), &lim) == 0 && (int64_t)json_strlen(&D, val) < lim)
		return bad(path, "minLength");
	if (json_int(&S, json_get(&S, sch, "minimum"), &lim) == 0 && (json_int(&D, val, &v) != 0 || v < lim))
		return bad(path, "minimum");
	if (json_int(&S, json_get(&S, sch, "maximum"), &lim) == 0 && (json_int(&D, val, &v) != 0 || v > lim))
		return bad(path, "maximum");
	if (json_streq(&S, json_get(&S, sch, "format"), "date-time")) {
		char buf[64];
		size_t n;
		int64_t ms;
		int donly;
		if (json_unescape(&D, val, buf, sizeof buf, &n) != 0 || n != ISO8601_LEN ||
		    iso8601_parse(buf, n, &ms, &donly) != 0 || donly)
			return bad(path, "format date-time");
	}
	if (json_type(&D, val) == JSON_OBJECT) {
		int props = json_get(&S, sch, "properties");
		int req = json_get(&S, sch, "required");
		for (int k = json_first(&S, req); k >= 0; k = json_next(&S, k)) {
			size_t n;
			const char *name = json_str_raw(&S, k, &n);
			if (json_getn(&D, val, name, n) < 0) {
				snprintf(sub, sizeof sub, "%s.%.*s", path, (int)n, name);
				return bad(sub, "required");
			}
		}
		for (int k = json_first(&D, val); k >= 0; k = json_next(&D, k)) {
			size_t n;
			const char *name = json_str_raw(&D, k, &n);
			snprintf(sub, sizeof sub, "%s.%.*s", path, (int)n, name);
			int ps = json_getn(&S, props, name, n);
			if (ps < 0) {
				if (json_type(&S, json_get(&S, sch, "additionalProperties")) == JSON_FALSE)
					return bad(sub, "additional property");
				continue;
			}
			if (!validate(ps, json_value(&D, k), sub))
				return 0;
		}
	}
	if (json_type(&D, val) == JSON_ARRAY) {
		int items = json_get(&S, sch, "items");
		int i = 0;
		for (int k = json_first(&D, val); k >= 0; k = json_next(&D, k), i++) {
			snprintf(sub, sizeof sub, "%s[%d]", path, i);
			if (items >= 0 && !validate(items, k, sub))
				return 0;
		}
	}
	return 1;
}

static int conforms(const struct kling_list_result *r)
{
	if (!render(r, 1))
		return 0;
	schema_errors = 0;
	return validate(0, json_get(&D, 0, "structuredContent"), "structuredContent");
}

static void test_schema(void)
{
	T_CHECK("lt/schema: outputSchema is valid JSON",
		json_parse(&S, lt_output_schema, strlen(lt_output_schema)) == 0 && json_type(&S, 0) == JSON_OBJECT);
	T_CHECK("lt/schema: outputSchema root is type object", json_streq(&S, json_get(&S, 0, "type"), "object"));
	struct kling_list_result full = {KLING_API_TASKS, 1, 3, 137, 1, S("next"), TASKS, 3};
	T_CHECK("lt/schema: a full page conforms", conforms(&full));
	if (schema_errors)
		printf("# %s\n", schema_where);
	struct kling_list_result empty = {KLING_API_SEED, 7, 100, -1, 0, {NULL, 0}, NULL, 0};
	T_CHECK("lt/schema: an empty page with unknown total conforms", conforms(&empty));
	struct kling_task t = TASKS[0];
	t.created_ms = ISO8601_MAX_MS + 1; /* a nonsense time is left out, not rendered wrongly */
	t.updated_ms = -5;
	struct kling_list_result odd = {KLING_API_LEGACY, 1, 1, 0, 0, {NULL, 0}, &t, 1};
	T_CHECK("lt/schema: out-of-range times are left out and the result conforms",
		conforms(&odd) && json_get(&D, json_first(&D, json_get(&D, json_get(&D, 0, "structuredContent"), "tasks")),
					   "created_at") < 0);
	/* the checker itself must catch a broken document */
	T_CHECK("lt/schema: the checker rejects a missing required field",
		json_parse(&D, "{\"page\":1}", 10) == 0 && !validate(0, 0, "x"));
	T_CHECK("lt/schema: inputSchema is valid JSON with all seven properties",
		json_parse(&S, lt_input_schema, strlen(lt_input_schema)) == 0 &&
			json_count(&S, json_get(&S, 0, "properties")) == 7 &&
			json_type(&S, json_get(&S, 0, "additionalProperties")) == JSON_FALSE);
}

int main(void)
{
	t_plan(78);
	json_doc_init(&D, LIMIT_JSON_TOKENS);
	json_doc_init(&S, 4096);
	json_w_init(&W, LIMIT_RESPONSE_BYTES);
	static char apikey[] = "test-key";
	CFG.api_key = apikey;
	CFG.timeout_ms = 1000;
	kling_init(&CFG);
	test_validation();
	test_text();
	test_structured();
	test_check();
	test_schema();
	json_w_free(&W);
	json_doc_free(&D);
	json_doc_free(&S);
	return t_done();
}
