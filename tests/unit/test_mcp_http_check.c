/* Unit tests of mcp_http_check, the HTTP listener's pure helpers: the
 * --listen address, the constant-time token compare, comma lists, and
 * mirrored header values (=?base64?...?=). Inputs sit against an unreadable
 * page where a read past the end would matter. */
#include "mcp_http_check.h"
#include "t.h"

#include <sys/socket.h>

static void test_listen_parse(void)
{
	struct mcp_http_check_addr a;
	const char *why = NULL;
	T_CHECK("listen/PORT alone is 127.0.0.1",
		mcp_http_check_listen_parse("8080", &a, &why) == 0 && a.family == AF_INET && a.port == 8080 && a.loopback &&
			strcmp(a.host, "127.0.0.1") == 0);
	T_CHECK("listen/0.0.0.0:8080 is not loopback",
		mcp_http_check_listen_parse("0.0.0.0:8080", &a, &why) == 0 && !a.loopback && a.port == 8080);
	T_CHECK("listen/127.1.2.3 is loopback", mcp_http_check_listen_parse("127.1.2.3:1", &a, &why) == 0 && a.loopback);
	T_CHECK("listen/localhost:9 is 127.0.0.1",
		mcp_http_check_listen_parse("localhost:9", &a, &why) == 0 && strcmp(a.host, "127.0.0.1") == 0 && a.port == 9);
	T_CHECK("listen/[::1]:8080",
		mcp_http_check_listen_parse("[::1]:8080", &a, &why) == 0 && a.family == AF_INET6 && a.loopback &&
			strcmp(a.host, "[::1]") == 0);
	T_CHECK("listen/[::]:80 is not loopback", mcp_http_check_listen_parse("[::]:80", &a, &why) == 0 && !a.loopback);
	T_CHECK("listen/port 0 (any free port)", mcp_http_check_listen_parse("0", &a, &why) == 0 && a.port == 0);
	T_CHECK("listen/IPv6 without brackets refused", mcp_http_check_listen_parse("::1:80", &a, &why) == -1 && why);
	T_CHECK("listen/port 65536 refused", mcp_http_check_listen_parse("65536", &a, &why) == -1);
	T_CHECK("listen/port with a sign refused", mcp_http_check_listen_parse("-1", &a, &why) == -1);
	T_CHECK("listen/empty port refused", mcp_http_check_listen_parse("127.0.0.1:", &a, &why) == -1);
	T_CHECK("listen/empty address refused", mcp_http_check_listen_parse(":80", &a, &why) == -1);
	T_CHECK("listen/host name refused", mcp_http_check_listen_parse("example.com:80", &a, &why) == -1);
	T_CHECK("listen/bad IPv4 refused", mcp_http_check_listen_parse("1.2.3.400:80", &a, &why) == -1);
}

static void test_secret_equal(void)
{
	T_CHECK("secret/equal", mcp_http_check_secret_equal("abcdef", 6, "abcdef", 6));
	T_CHECK("secret/last byte differs", !mcp_http_check_secret_equal("abcdeg", 6, "abcdef", 6));
	T_CHECK("secret/prefix is not equal", !mcp_http_check_secret_equal("abc", 3, "abcdef", 6));
	T_CHECK("secret/longer is not equal", !mcp_http_check_secret_equal("abcdefg", 7, "abcdef", 6));
	T_CHECK("secret/empty against non-empty", !mcp_http_check_secret_equal("", 0, "abcdef", 6));
	const char *g = t_guarded("abcdef", 6);
	T_CHECK("secret/reads no byte past either", mcp_http_check_secret_equal(g, 6, "abcdef", 6));
}

static void test_list_has(void)
{
	const char *l = "https://a.example, http://B.example:8080 ,,x";
	T_CHECK("list/first item", mcp_http_check_list_has(l, "https://a.example", 17));
	T_CHECK("list/spaces and case ignored", mcp_http_check_list_has(l, "http://b.example:8080", 21));
	T_CHECK("list/last item", mcp_http_check_list_has(l, "x", 1));
	T_CHECK("list/no partial match", !mcp_http_check_list_has(l, "https://a.exampl", 16));
	T_CHECK("list/empty item never matches", !mcp_http_check_list_has(l, "", 0));
	T_CHECK("list/NULL list", !mcp_http_check_list_has(NULL, "x", 1));
}

static void test_header_decode(void)
{
	char out[64];
	int n = mcp_http_check_header_value_decode("tools/call", 10, out, sizeof out);
	T_CHECK("header/plain copied", n == 10 && memcmp(out, "tools/call", 10) == 0);
	n = mcp_http_check_header_value_decode("=?base64?bGlzdF90YXNrcw==?=", 27, out, sizeof out);
	T_CHECK("header/base64 decoded", n == 10 && memcmp(out, "list_tasks", 10) == 0);
	n = mcp_http_check_header_value_decode("=?BASE64?w6k=?=", 15, out, sizeof out);
	T_CHECK("header/base64 prefix case-insensitive, UTF-8 bytes", n == 2 && (unsigned char)out[0] == 0xc3);
	T_CHECK("header/bad base64 refused", mcp_http_check_header_value_decode("=?base64?a*b=?=", 15, out, sizeof out) == -1);
	T_CHECK("header/data after padding refused",
		mcp_http_check_header_value_decode("=?base64?YQ==YQ?=", 17, out, sizeof out) == -1);
	T_CHECK("header/too long for the buffer", mcp_http_check_header_value_decode("abcdef", 6, out, 5) == -1);
	const char *g = t_guarded("=?base64?YWJj", 13);
	n = mcp_http_check_header_value_decode(g, 13, out, sizeof out);
	T_CHECK("header/unterminated encoded word is taken as it is", n == 13);
}

int main(void)
{
	t_plan(33);
	test_listen_parse();
	test_secret_equal();
	test_list_has();
	test_header_decode();
	return t_done();
}
