/* Unit tests of the JSON reader (strict validation, lookups, unescaping,
 * exact integers) and writer (escaping, UTF-8, sticky errors). Every parser
 * input sits flush against an unreadable page. */
#include "json.h"
#include "t.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>

static struct json_doc D;

static int parse(const char *s)
{
	return json_parse(&D, t_guarded(s, strlen(s)), strlen(s));
}

static int parse_n(const char *s, size_t n)
{
	return json_parse(&D, t_guarded(s, n), n);
}

static void test_accepts(void)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1", "-1", "0.5", "-0.5e-3", "1E+2", "1e2", "123456789012345678901234567890",
		"true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uD83D\\uDE00\"",
		" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \r\n", "{\"a\":1}", "[[[]]]", "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"",
		"\"\x7F\"", "[true,false,null]", "{\"\":0}", "\"\xEF\xBF\xBF\"", "\"\xF4\x8F\xBF\xBF\"",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		char name[160];
		snprintf(name, sizeof name, "json/accepts #%zu", i);
		T_CHECK(name, parse(ok[i]) == 0);
	}
}

struct bad {
	const char *s;
	size_t n; /* 0: strlen */
	int err;
};

static void test_rejects(void)
{
	static const struct bad bad[] = {
		{"{\"a\":1,}", 0, JSON_E_SYNTAX}, {"[1,,3]", 0, JSON_E_SYNTAX}, {"[10}", 0, JSON_E_SYNTAX},
		{"{\"a\" 1}", 0, JSON_E_SYNTAX}, {"{\"a\":}", 0, JSON_E_SYNTAX}, {"{1:2}", 0, JSON_E_SYNTAX},
		{"[1 2]", 0, JSON_E_SYNTAX}, {"[,1]", 0, JSON_E_SYNTAX}, {"[1,]", 0, JSON_E_SYNTAX},
		{"{,}", 0, JSON_E_SYNTAX}, {"{\"a\":1 \"b\":2}", 0, JSON_E_SYNTAX}, {"[", 0, JSON_E_SYNTAX},
		{"{", 0, JSON_E_SYNTAX}, {"]", 0, JSON_E_SYNTAX}, {"}", 0, JSON_E_SYNTAX}, {"{]", 0, JSON_E_SYNTAX},
		{"[}", 0, JSON_E_SYNTAX}, {"{} {}", 0, JSON_E_SYNTAX}, {"{}x", 0, JSON_E_SYNTAX}, {"1 2", 0, JSON_E_SYNTAX},
		{"01", 0, JSON_E_NUMBER}, {"-01", 0, JSON_E_NUMBER}, {"1.", 0, JSON_E_NUMBER}, {"-", 0, JSON_E_NUMBER},
		{"+1", 0, JSON_E_SYNTAX}, {".5", 0, JSON_E_SYNTAX}, {"1e", 0, JSON_E_NUMBER}, {"1e+", 0, JSON_E_NUMBER},
		{"1.e5", 0, JSON_E_NUMBER}, {"-a", 0, JSON_E_NUMBER}, {"1.2.3", 0, JSON_E_SYNTAX},
		{"0x10", 0, JSON_E_SYNTAX}, {"NaN", 0, JSON_E_SYNTAX}, {"Infinity", 0, JSON_E_SYNTAX},
		{"tru", 0, JSON_E_SYNTAX}, {"truex", 0, JSON_E_SYNTAX}, {"nul", 0, JSON_E_SYNTAX},
		{"True", 0, JSON_E_SYNTAX}, {"[fals]", 0, JSON_E_SYNTAX}, {"'a'", 0, JSON_E_SYNTAX},
		{"\"\\x\"", 0, JSON_E_STRING}, {"\"\\u12\"", 0, JSON_E_STRING}, {"\"\\u12g4\"", 0, JSON_E_STRING},
		{"\"\\\"", 0, JSON_E_STRING}, {"\"abc", 0, JSON_E_STRING}, {"\"a\tb\"", 0, JSON_E_STRING},
		{"\"a\nb\"", 0, JSON_E_STRING}, {"\"\x01\"", 0, JSON_E_STRING}, {"\"a\0b\"", 5, JSON_E_STRING},
		{"\"\\uD800\"", 0, JSON_E_SURROGATE}, {"\"\\uDC00\"", 0, JSON_E_SURROGATE},
		{"\"\\uD800\\u0041\"", 0, JSON_E_SURROGATE}, {"\"\\uD800x\"", 0, JSON_E_SURROGATE},
		{"\"\\uDBFF\\uDBFF\"", 0, JSON_E_SURROGATE}, {"\"\\uD800\\uZZZZ\"", 0, JSON_E_STRING},
		{"\"\xC0\xAF\"", 0, JSON_E_UTF8},         /* overlong '/' */
		{"\"\xE0\x80\xAF\"", 0, JSON_E_UTF8},     /* overlong, 3 bytes */
		{"\"\xF0\x80\x80\xAF\"", 0, JSON_E_UTF8}, /* overlong, 4 bytes */
		{"\"\xED\xA0\x80\"", 0, JSON_E_UTF8},     /* encoded surrogate U+D800 */
		{"\"\xF4\x90\x80\x80\"", 0, JSON_E_UTF8}, /* above U+10FFFF */
		{"\"\xF5\x80\x80\x80\"", 0, JSON_E_UTF8}, {"\"\x80\"", 0, JSON_E_UTF8}, {"\"\xC3\"", 0, JSON_E_UTF8},
		{"\"\xE2\x82\"", 0, JSON_E_UTF8}, {"\"\xC3(\"", 0, JSON_E_UTF8}, {"\"\xFF\"", 0, JSON_E_UTF8},
		{"\xC3\xA9", 0, JSON_E_UTF8}, {"\xEF\xBB\xBF{}", 0, JSON_E_UTF8}, /* a BOM is not JSON */
		{"", 0, JSON_E_EMPTY}, {"   ", 0, JSON_E_EMPTY}, {"{}\0", 3, JSON_E_SYNTAX},
		{"[1]\v", 0, JSON_E_SYNTAX}, {"\f[]", 0, JSON_E_SYNTAX},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char name[160];
		size_t n = bad[i].n ? bad[i].n : strlen(bad[i].s);
		int r = parse_n(bad[i].s, n);
		snprintf(name, sizeof name, "json/rejects #%zu (%s): got %d want %d", i, json_strerror(bad[i].err), r,
			 bad[i].err);
		T_CHECK(name, r == bad[i].err);
	}
	T_CHECK("json/error position points at the problem", parse("[1,2,,3]") == JSON_E_SYNTAX && D.err_pos == 5);
	T_CHECK("json/failed parse leaves no tokens", D.ntok == 0 && json_type(&D, 0) == JSON_NONE);
}

static void test_every_prefix_of_valid_is_invalid_or_valid_without_overread(void)
{
	/* Each prefix, guarded: must never crash; only the full text parses. */
	const char *s = "{\"a\":[1,-2.5e+3,\"\\u00e9\\uD83D\\uDE00\xC3\xA9\",true,false,null,{\"b\":{}}]}";
	size_t n = strlen(s);
	int ok = 1;
	for (size_t k = 0; k < n; k++)
		if (parse_n(s, k) == 0)
			ok = 0;
	T_CHECK("json/no strict prefix of a document parses (and none over-reads)", ok);
	T_CHECK("json/the full document parses", parse_n(s, n) == 0);
}

static void test_depth(void)
{
	char buf[2 * LIMIT_JSON_DEPTH + 8];
	size_t n = 0;
	for (int i = 0; i < LIMIT_JSON_DEPTH; i++)
		buf[n++] = '[';
	for (int i = 0; i < LIMIT_JSON_DEPTH; i++)
		buf[n++] = ']';
	T_CHECK("json/nesting at LIMIT_JSON_DEPTH is accepted", parse_n(buf, n) == 0);
	n = 0;
	for (int i = 0; i <= LIMIT_JSON_DEPTH; i++)
		buf[n++] = '[';
	T_CHECK("json/nesting beyond LIMIT_JSON_DEPTH is refused", parse_n(buf, n) == JSON_E_DEPTH);
	static char deep[1 << 20];
	memset(deep, '[', sizeof deep);
	T_CHECK("json/a megabyte of [ is refused quickly by depth", parse_n(deep, sizeof deep) == JSON_E_DEPTH);
}

static void test_tokens(void)
{
	struct json_doc small;
	json_doc_init(&small, 4);
	const char *a = "[1,2,3]", *b = "[1,2,3,4]", *c = "{\"a\":1,\"b\":2}";
	T_CHECK("json/exactly capacity tokens parse", json_parse(&small, a, strlen(a)) == 0 && small.ntok == 4);
	T_CHECK("json/one token over capacity is JSON_E_TOKENS", json_parse(&small, b, strlen(b)) == JSON_E_TOKENS);
	T_CHECK("json/keys count as tokens", json_parse(&small, c, strlen(c)) == JSON_E_TOKENS);
	json_doc_free(&small);
}

static void test_lookup(void)
{
	const char *s = "{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890123,\"method\":\"tools/call\","
			"\"params\":{\"name\":\"list_tasks\",\"arguments\":{\"\\u0073tatus\":\"\\u0073ucceed\","
			"\"page\":2,\"nested\":{\"x\":[1,{\"y\":2}],\"z\":3}},\"dup\":1,\"dup\":2},\"tail\":[]}";
	T_CHECK("json/lookup doc parses", parse(s) == 0);
	T_CHECK("json/root is an object with 5 members", json_type(&D, 0) == JSON_OBJECT && json_count(&D, 0) == 5);
	int params = json_get(&D, 0, "params");
	int args = json_get(&D, params, "arguments");
	T_CHECK("json/nested get", json_type(&D, args) == JSON_OBJECT);
	int st = json_get(&D, args, "status");
	T_CHECK("json/escaped key matches its unescaped name", st >= 0);
	T_CHECK("json/escaped value equals succeed", json_streq(&D, st, "succeed"));
	T_CHECK("json/streq is exact (no prefix match)", !json_streq(&D, st, "succee") && !json_streq(&D, st, "succeeds"));
	T_CHECK("json/get of a missing key is -1", json_get(&D, args, "missing") == -1);
	T_CHECK("json/get on a non-object is -1", json_get(&D, st, "x") == -1);
	T_CHECK("json/get chains through -1", json_get(&D, json_get(&D, 0, "nope"), "x") == -1);
	int64_t v = 0;
	T_CHECK("json/duplicate keys: last wins", json_int(&D, json_get(&D, params, "dup"), &v) == 0 && v == 2);
	T_CHECK("json/member after a nested object is found", json_type(&D, json_get(&D, 0, "tail")) == JSON_ARRAY);
	int nested = json_get(&D, args, "nested");
	int z = json_get(&D, nested, "z");
	T_CHECK("json/member after a nested array is found", json_int(&D, z, &v) == 0 && v == 3);
	size_t n;
	const char *raw = json_raw(&D, json_get(&D, 0, "id"), &n);
	T_CHECK("json/raw slice of a big integer is its digits", n == 23 && memcmp(raw, "12345678901234567890123", 23) == 0);
	raw = json_raw(&D, st, &n);
	T_CHECK("json/raw slice of a string keeps quotes and escapes", n == 14 && memcmp(raw, "\"\\u0073ucceed\"", 14) == 0);
	raw = json_raw(&D, nested, &n);
	T_CHECK("json/raw slice of an object", n == 23 && raw[0] == '{' && raw[n - 1] == '}');

	/* iteration */
	int keys = 0, saw_page = 0;
	for (int k = json_first(&D, args); k >= 0; k = json_next(&D, k)) {
		keys++;
		if (json_streq(&D, k, "page") && json_int(&D, json_value(&D, k), &v) == 0 && v == 2)
			saw_page = 1;
	}
	T_CHECK("json/object iteration visits each member once", keys == 3 && saw_page);
	int x = json_get(&D, nested, "x"), elems = 0;
	for (int e = json_first(&D, x); e >= 0; e = json_next(&D, e))
		elems++;
	T_CHECK("json/array iteration skips nested subtrees", elems == 2 && json_count(&D, x) == 2);
	T_CHECK("json/skip of the root is the token count", json_skip(&D, 0) == D.ntok);
	T_CHECK("json/first of an empty array is -1", json_first(&D, json_get(&D, 0, "tail")) == -1);
	T_CHECK("json/next of the root is -1", json_next(&D, 0) == -1);
	T_CHECK("json/value of a non-key is -1", json_value(&D, x) == -1);
}

static void test_unescape(void)
{
	char out[64];
	size_t n = 0;
	T_CHECK("json/unescape doc", parse("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\u0000z\",\"plain\"]") == 0);
	int s = json_first(&D, 0);
	T_CHECK("json/unescape ok", json_unescape(&D, s, out, sizeof out, &n) == 0);
	const char want[] = "a\"b\\c/d\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80\0z";
	T_CHECK("json/unescape bytes (incl. surrogate pair and NUL)", n == sizeof want - 1 && memcmp(out, want, n) == 0);
	T_CHECK("json/strlen agrees with unescape", json_strlen(&D, s) == n);
	T_CHECK("json/unescape NUL-terminates", out[n] == 0);
	T_CHECK("json/unescape into a buffer one byte short fails", json_unescape(&D, s, out, n, NULL) == JSON_E_SPACE);
	T_CHECK("json/unescape into exactly len+1 works", json_unescape(&D, s, out, n + 1, NULL) == 0);
	T_CHECK("json/unescape of a non-string is JSON_E_TYPE", json_unescape(&D, 0, out, sizeof out, NULL) == JSON_E_TYPE);
	T_CHECK("json/streqn with embedded NUL", json_streqn(&D, s, want, sizeof want - 1));
	T_CHECK("json/plain string streq", json_streq(&D, json_next(&D, s), "plain"));

	/* prefixes cut at whole characters, escaped or raw */
	T_CHECK("json/prefix doc", parse("[\"ab\\u00e9\xC3\xA9\xF0\x9F\x98\x80z\",7]") == 0);
	s = json_first(&D, 0);
	T_CHECK("json/prefix that fits everything", json_unescape_prefix(&D, s, out, sizeof out) == 11 &&
							 strcmp(out, "ab\xC3\xA9\xC3\xA9\xF0\x9F\x98\x80z") == 0);
	T_CHECK("json/prefix stops before an escaped character that does not fit",
		json_unescape_prefix(&D, s, out, 4) == 2 && strcmp(out, "ab") == 0);
	T_CHECK("json/prefix stops before a raw character that does not fit",
		json_unescape_prefix(&D, s, out, 6) == 4 && strcmp(out, "ab\xC3\xA9") == 0);
	T_CHECK("json/prefix keeps a 4-byte character whole", json_unescape_prefix(&D, s, out, 9) == 6);
	T_CHECK("json/prefix of cap 1 is empty", json_unescape_prefix(&D, s, out, 1) == 0 && out[0] == 0);
	T_CHECK("json/prefix of a non-string is empty", json_unescape_prefix(&D, json_next(&D, s), out, sizeof out) == 0 &&
							      out[0] == 0);
}

struct intcase {
	const char *s;
	int err;
	int64_t v;
};

static void test_int(void)
{
	static const struct intcase c[] = {
		{"0", 0, 0}, {"-0", 0, 0}, {"7", 0, 7}, {"-7", 0, -7}, {"2.0", 0, 2}, {"2e0", 0, 2}, {"200e-2", 0, 2},
		{"0.0e5", 0, 0}, {"1e2", 0, 100}, {"1E+2", 0, 100}, {"10e-1", 0, 1}, {"0e999999999999999999", 0, 0},
		{"1.5", JSON_E_NOT_INT, 0}, {"1e-1", JSON_E_NOT_INT, 0}, {"1e-99999999999999", JSON_E_NOT_INT, 0},
		{"9223372036854775807", 0, INT64_MAX}, {"-9223372036854775808", 0, INT64_MIN},
		{"9223372036854775808", JSON_E_RANGE, 0}, {"-9223372036854775809", JSON_E_RANGE, 0},
		{"1e18", 0, 1000000000000000000LL}, {"1e19", JSON_E_RANGE, 0}, {"1e99999999999999", JSON_E_RANGE, 0},
		{"92233720368547758070e-1", 0, INT64_MAX}, {"0.00000000000000000000000000001e29", 0, 1},
		{"123456789012345678901234567890", JSON_E_RANGE, 0}, {"\"5\"", JSON_E_TYPE, 0}, {"true", JSON_E_TYPE, 0},
		{"18446744073709551616", JSON_E_RANGE, 0}, {"-0.0", 0, 0},
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		char name[160];
		int64_t v = -12345;
		int r = parse(c[i].s) == 0 ? json_int(&D, 0, &v) : 99;
		snprintf(name, sizeof name, "json/int %s -> %d", c[i].s, r);
		T_CHECK(name, r == c[i].err && (r != 0 || v == c[i].v));
	}
	T_CHECK("json/plain int lexeme", parse("[12,-3,1.0,1e2]") == 0 && json_is_plain_int(&D, 1) &&
						 json_is_plain_int(&D, 2) && !json_is_plain_int(&D, 3) &&
						 !json_is_plain_int(&D, 4) && !json_is_plain_int(&D, 0));
}

static const char *wout(struct json_w *w)
{
	static char s[4096];
	size_t n;
	const char *p = json_w_data(w, &n);
	if (n >= sizeof s)
		n = sizeof s - 1;
	memcpy(s, p ? p : "", n);
	s[n] = 0;
	return s;
}

static void test_writer(void)
{
	struct json_w w;
	json_w_init(&w, 1 << 20);
	json_w_obj(&w);
	json_w_key(&w, "a");
	json_w_int(&w, 1);
	json_w_key(&w, "b");
	json_w_arr(&w);
	json_w_bool(&w, 1);
	json_w_bool(&w, 0);
	json_w_null(&w);
	json_w_int(&w, INT64_MIN);
	json_w_int(&w, INT64_MAX);
	json_w_obj(&w);
	json_w_obj_end(&w);
	json_w_arr(&w);
	json_w_arr_end(&w);
	json_w_arr_end(&w);
	json_w_key(&w, "k\"\\");
	json_w_cstr(&w, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f\xC2\x9B\xC2\xA0");
	json_w_obj_end(&w);
	T_CHECK("json/w complete value has no error", json_w_error(&w) == 0);
	T_STREQ("json/w commas, literals, extremes, escapes", wout(&w),
		"{\"a\":1,\"b\":[true,false,null,-9223372036854775808,9223372036854775807,{},[]],"
		"\"k\\\"\\\\\":\"q\\\"b\\\\s/\\n\\\\u000d\\t\\\\u0008\\\\u000c\\\\u0001\\\\u001f\\\\u007f"
		"\\\\u009b\xC2\xA0\"}");

	json_w_reset(&w);
	json_w_cstr(&w, "\xE2\x80\xA8 \xE2\x80\xA9 \xC3\xA9 \xF0\x9F\x98\x80 \xC3 \xC0\xAF \xED\xA0\x80 \xFF end");
	T_STREQ("json/w U+2028/2029 escaped, valid UTF-8 kept, invalid bytes become U+FFFD", wout(&w),
		"\"\\u2028 \\u2029 \xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
		"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD end\"");
	{
		char zero[] = {'a', 0, 'b'};
		json_w_reset(&w);
		json_w_str(&w, zero, 3);
		T_STREQ("json/w NUL byte written as the visible text \\u0000", wout(&w), "\"a\\\\u0000b\"");
	}

	json_w_reset(&w);
	json_w_str_open(&w);
	json_w_str_addc(&w, "page ");
	json_w_str_add_int(&w, -42);
	json_w_str_addc(&w, "\n\"x\"");
	json_w_str_close(&w);
	T_CHECK("json/w pieces make one string", json_w_error(&w) == 0);
	T_STREQ("json/w piecewise string", wout(&w), "\"page -42\\n\\\"x\\\"\"");

	/* misuse is sticky */
	json_w_reset(&w);
	json_w_obj(&w);
	json_w_int(&w, 1); /* value without key */
	json_w_key(&w, "a");
	json_w_int(&w, 2);
	json_w_obj_end(&w);
	T_CHECK("json/w value without key is a sticky state error", json_w_error(&w) == JSON_W_E_STATE);
	json_w_reset(&w);
	json_w_arr(&w);
	json_w_key(&w, "a");
	T_CHECK("json/w key in an array is an error", json_w_error(&w) == JSON_W_E_STATE);
	json_w_reset(&w);
	json_w_arr(&w);
	json_w_obj_end(&w);
	T_CHECK("json/w mismatched end is an error", json_w_error(&w) == JSON_W_E_STATE);
	json_w_reset(&w);
	json_w_int(&w, 1);
	json_w_int(&w, 2);
	T_CHECK("json/w a second top-level value is an error", json_w_error(&w) == JSON_W_E_STATE);
	json_w_reset(&w);
	json_w_obj(&w);
	T_CHECK("json/w unclosed container is reported", json_w_error(&w) == JSON_W_E_STATE);
	json_w_reset(&w);
	for (int i = 0; i <= LIMIT_JSON_DEPTH; i++)
		json_w_arr(&w);
	T_CHECK("json/w depth is bounded", json_w_error(&w) == JSON_W_E_STATE);
	json_w_free(&w);

	/* maximum size */
	json_w_init(&w, 10);
	json_w_cstr(&w, "12345678");
	T_CHECK("json/w exactly max bytes fits", json_w_error(&w) == 0 && w.b.len == 10);
	json_w_reset(&w);
	json_w_cstr(&w, "123456789");
	T_CHECK("json/w one byte over max is FULL", json_w_error(&w) == JSON_W_E_FULL);
	json_w_int(&w, 5);
	T_CHECK("json/w FULL is sticky", json_w_error(&w) == JSON_W_E_FULL);
	json_w_free(&w);

	char fb[8];
	json_w_init_fixed(&w, fb, sizeof fb);
	json_w_cstr(&w, "abcdefgh");
	T_CHECK("json/w fixed buffer never grows", json_w_error(&w) == JSON_W_E_FULL && w.b.p == fb);
	json_w_reset(&w);
	json_w_cstr(&w, "ab");
	T_CHECK("json/w fixed buffer reusable after reset", json_w_error(&w) == 0 && w.b.len == 4);

	/* growth across many reallocs */
	json_w_init(&w, 1 << 22);
	json_w_arr(&w);
	for (int i = 0; i < 60000; i++)
		json_w_int(&w, i);
	json_w_arr_end(&w);
	size_t n;
	const char *p = json_w_data(&w, &n);
	T_CHECK("json/w grows and its output parses", json_w_error(&w) == 0 && json_parse(&D, p, n) == 0 &&
							   json_count(&D, 0) == 60000);
	json_w_free(&w);
}

/* Every string of 1..3 bytes over a small alphabet: what the writer emits for
 * it must be valid JSON for our own reader and unescape back to the input when
 * the input was valid UTF-8. */
static void test_writer_roundtrip(void)
{
	static const unsigned char alpha[] = {0x00, 0x01, 0x1f, 0x20, '"', '\\', '/', 'a', 0x7f, 0x80, 0xbf, 0xc3,
					      0xa9, 0xe2, 0x80, 0xa8, 0xed, 0xf0, 0x9f, 0xff};
	size_t na = sizeof alpha;
	struct json_w w;
	json_w_init(&w, 1024);
	int all_parse = 1, all_roundtrip = 1;
	unsigned char in[3];
	char back[64];
	for (size_t len = 1; len <= 3; len++) {
		size_t total = 1;
		for (size_t k = 0; k < len; k++)
			total *= na;
		for (size_t x = 0; x < total; x++) {
			size_t y = x;
			for (size_t k = 0; k < len; k++) {
				in[k] = alpha[y % na];
				y /= na;
			}
			json_w_reset(&w);
			json_w_str(&w, (const char *)in, len);
			size_t n;
			const char *p = json_w_data(&w, &n);
			if (json_w_error(&w) || json_parse(&D, p, n) != 0) {
				all_parse = 0;
				continue;
			}
			/* What comes back is the input with text.h's rule applied: valid
			 * text unchanged, controls as \u00XX, bad bytes as U+FFFD. */
			char want[64];
			size_t wn = text_clean((const char *)in, len, want, sizeof want), bn;
			if (json_unescape(&D, 0, back, sizeof back, &bn) != 0 || bn != wn || memcmp(back, want, wn) != 0)
				all_roundtrip = 0;
		}
	}
	T_CHECK("json/w every short byte string is written as valid JSON", all_parse);
	T_CHECK("json/w text round-trips through write and unescape as text.h's rule has it", all_roundtrip);
	json_w_free(&w);
}

/* The repairing reader (upstream replies): a bad string is read with U+FFFD
 * in place of each invalid byte or unpaired surrogate escape; the rest of
 * the document is intact; anything else is refused as strictly as ever. */
static int repair(const char *s)
{
	return json_parse_repair(&D, t_guarded(s, strlen(s)), strlen(s));
}

#define FFFD "\xEF\xBF\xBD"

static void test_repair(void)
{
	static const struct {
		const char *json, *want;
	} fix[] = {
		{"\"\\ud800\"", FFFD},
		{"\"\\udc00x\"", FFFD "x"},
		{"\"a\\uD800\\u0041\"", "a" FFFD "A"},
		{"\"\\uDBFF\\uDBFF\\uDC00\"", FFFD "\xF4\x8F\xB0\x80"},
		{"\"\\ud800\"", FFFD},
		{"\"\xFF\"", FFFD},
		{"\"ok \xFF\xFE end\"", "ok " FFFD FFFD " end"},
		{"\"\xC3(\"", FFFD "("},
		{"\"\xED\xA0\x80\"", FFFD FFFD FFFD},
		{"\"\xE2\x82\"", FFFD FFFD},
		{"\"\xC3\xA9\\n\xFF\"", "\xC3\xA9\n" FFFD},
		{"\"a\x01\"", "a" FFFD},
		{"\"\x1b[31mred\x7f\t\"", FFFD "[31mred\x7f" FFFD},
	};
	char out[64], name[96];
	for (size_t i = 0; i < sizeof fix / sizeof fix[0]; i++) {
		size_t n = 0;
		snprintf(name, sizeof name, "json/repair reads bad string #%zu as U+FFFD", i);
		int ok = repair(fix[i].json) == 0 && D.dirty && json_strlen(&D, 0) == strlen(fix[i].want) &&
			 json_unescape(&D, 0, out, sizeof out, &n) == 0 && n == strlen(fix[i].want) &&
			 memcmp(out, fix[i].want, n) == 0 && json_streq(&D, 0, fix[i].want);
		T_CHECK(name, ok);
		T_CHECK("json/the strict reader still refuses it", parse(fix[i].json) < 0);
	}
	/* one bad string in a page: its neighbours and keys read as before */
	const char *page = "{\"data\":[{\"task_id\":\"1\",\"task_status_msg\":\"bad \\ud800 \xFF\"},"
			   "{\"task_id\":\"2\",\"task_status_msg\":\"fine \\u00e9\"}],\"code\":0}";
	T_CHECK("json/a page with one bad string parses when repairing", repair(page) == 0 && D.dirty);
	int arr = json_get(&D, 0, "data");
	int t1 = json_first(&D, arr), t2 = json_next(&D, t1);
	int64_t code = -1;
	T_CHECK("json/members after the bad string are found", json_int(&D, json_get(&D, 0, "code"), &code) == 0 && code == 0);
	T_CHECK("json/the bad string is repaired", json_streq(&D, json_get(&D, t1, "task_status_msg"), "bad " FFFD " " FFFD));
	T_CHECK("json/the next task's strings are intact", json_streq(&D, json_get(&D, t2, "task_id"), "2") &&
							       json_streq(&D, json_get(&D, t2, "task_status_msg"), "fine \xC3\xA9"));
	T_CHECK("json/a raw ESC in one task's message costs that byte, not the page",
		repair("{\"data\":[{\"m\":\"a\x1b[31m\"},{\"m\":\"b\"}]}") == 0 && D.dirty &&
			json_streq(&D, json_get(&D, json_first(&D, json_get(&D, 0, "data")), "m"), "a" FFFD "[31m") &&
			json_streq(&D, json_get(&D, json_next(&D, json_first(&D, json_get(&D, 0, "data"))), "m"), "b"));
	/* a repaired key is found by its repaired name */
	T_CHECK("json/a key with a bad byte is looked up by its repaired name",
		repair("{\"k\xFF\":1,\"k\":2}") == 0 && json_get(&D, 0, "k" FFFD) == 2 && json_get(&D, 0, "k") == 4);
	/* the prefix reader cuts before a replacement character, never inside one */
	char p[6];
	T_CHECK("json/unescape_prefix keeps U+FFFD whole",
		repair("\"ab\xFF\xFF\"") == 0 && json_unescape_prefix(&D, 0, p, sizeof p) == 5 &&
			memcmp(p, "ab" FFFD, 6) == 0);
	T_CHECK("json/unescape_prefix stops before a U+FFFD that does not fit",
		json_unescape_prefix(&D, 0, p, 5) == 2 && strcmp(p, "ab") == 0);
	/* a clean document is not dirty, and reads as the strict reader reads it */
	T_CHECK("json/a clean document is not marked repaired", repair("{\"a\":\"\\u00e9\xC3\xA9\"}") == 0 && !D.dirty &&
									 json_streq(&D, json_get(&D, 0, "a"), "\xC3\xA9\xC3\xA9"));
	T_CHECK("json/strict parse clears the mark", parse("\"x\"") == 0 && !D.dirty);
	/* repair is for strings only: everything else is refused as before */
	static const struct {
		const char *json;
		int err;
	} still[] = {
		{"\xFF", JSON_E_UTF8},          {"[1,\xFF]", JSON_E_UTF8},
		{"{\"a\":1,}", JSON_E_SYNTAX}, {"\"\\ud800\\uZZZZ\"", JSON_E_STRING},
		{"\"\\ud800\\u12\"", JSON_E_STRING}, {"[\x01]", JSON_E_SYNTAX},
		{"\"\\q\"", JSON_E_STRING},    {"\"\xFF", JSON_E_STRING},
	};
	for (size_t i = 0; i < sizeof still / sizeof still[0]; i++) {
		snprintf(name, sizeof name, "json/repair still refuses non-string fault #%zu", i);
		T_CHECK(name, repair(still[i].json) == still[i].err);
	}
}

int main(void)
{
	t_plan(241);
	json_doc_init(&D, LIMIT_JSON_TOKENS);
	test_accepts();
	test_rejects();
	test_every_prefix_of_valid_is_invalid_or_valid_without_overread();
	test_depth();
	test_tokens();
	test_lookup();
	test_unescape();
	test_repair();
	test_int();
	test_writer();
	test_writer_roundtrip();
	json_doc_free(&D);
	return t_done();
}
