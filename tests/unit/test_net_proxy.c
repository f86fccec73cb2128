/* Unit tests of net_proxy.h: HTTPS_PROXY parsing (schemes, credentials,
 * percent-escapes, ports), NO_PROXY matching and the CONNECT request. */
#include "net_proxy.h"
#include "t.h"

static struct net_proxy_url P;
static char err[300];

static int parse(const char *url) { return net_proxy_parse_url(url, &P, err, sizeof err); }

static void test_parse(void)
{
	T_CHECK("proxy/plain", parse("http://proxy.example:3128") == 0 && !strcmp(P.host, "proxy.example") &&
				       P.port == 3128 && P.auth[0] == 0);
	T_CHECK("proxy/trailing slash", parse("http://p:8080/") == 0 && P.port == 8080);
	T_CHECK("proxy/scheme case-insensitive", parse("HTTP://p:1") == 0 && P.port == 1);
	T_CHECK("proxy/no scheme taken as http", parse("proxy:3128") == 0 && !strcmp(P.host, "proxy"));
	T_CHECK("proxy/default port 1080", parse("http://proxy") == 0 && P.port == 1080);
	T_CHECK("proxy/IPv6", parse("http://[::1]:3128") == 0 && !strcmp(P.host, "::1") && P.port == 3128);
	T_STREQ("proxy/user:pass to base64", parse("http://user:pass@p:8080") == 0 ? P.auth : "(failed)", "dXNlcjpwYXNz");
	T_STREQ("proxy/percent-decoded", parse("http://u%3Aser:p%40ss@h:1") == 0 ? P.auth : "(failed)",
		"dTpzZXI6cEBzcw=="); /* u:ser:p@ss */
	T_STREQ("proxy/last @ splits", parse("http://u:p@w@h:1") == 0 ? P.auth : "(failed)", "dTpwQHc="); /* u:p@w */
	T_CHECK("proxy/host after the last @", parse("http://u:p@w@h:1") == 0 && !strcmp(P.host, "h"));
	T_STREQ("proxy/user without password", parse("http://user@h:1") == 0 ? P.auth : "(failed)", "dXNlcjo=");
	T_CHECK("proxy/https refused", parse("https://p:443") == -1 && strstr(err, "http://") && strstr(err, "https://"));
	T_CHECK("proxy/socks refused without echoing the password",
		parse("socks5h://u:secretpw@h:1") == -1 && strstr(err, "socks5h") && !strstr(err, "secretpw"));
	T_CHECK("proxy/bad escape", parse("http://u:%zz@h:1") == -1 && !strstr(err, "%zz"));
	T_CHECK("proxy/escaped NUL refused", parse("http://u:a%00b@h:1") == -1);
	T_CHECK("proxy/port 0", parse("http://h:0") == -1);
	T_CHECK("proxy/port 65536", parse("http://h:65536") == -1);
	T_CHECK("proxy/port not a number", parse("http://h:8o") == -1);
	T_CHECK("proxy/empty port", parse("http://h:") == -1);
	T_CHECK("proxy/path refused", parse("http://h:80/x") == -1);
	T_CHECK("proxy/no host", parse("http://:80") == -1);
	T_CHECK("proxy/no host after credentials", parse("http://u:p@") == -1);
	T_CHECK("proxy/bad host character", parse("http://h\r\nX:80") == -1);
	T_CHECK("proxy/unclosed bracket", parse("http://[::1:80") == -1);
	T_CHECK("proxy/credentials wiped on failure", parse("http://u:p@h:0") == -1 && P.auth[0] == 0);
	parse("http://user:pass@p:8080");
	net_proxy_wipe(&P);
	T_CHECK("proxy/wipe", P.auth[0] == 0);
}

static void test_bypass(void)
{
	T_CHECK("no_proxy/unset", !net_proxy_bypass(NULL, "a.example.com"));
	T_CHECK("no_proxy/empty", !net_proxy_bypass("", "a.example.com"));
	T_CHECK("no_proxy/star", net_proxy_bypass("*", "anything"));
	T_CHECK("no_proxy/exact", net_proxy_bypass("example.com", "example.com"));
	T_CHECK("no_proxy/subdomain", net_proxy_bypass("example.com", "api.example.com"));
	T_CHECK("no_proxy/not a label boundary", !net_proxy_bypass("example.com", "notexample.com"));
	T_CHECK("no_proxy/leading dot matches the domain", net_proxy_bypass(".example.com", "example.com"));
	T_CHECK("no_proxy/leading dot matches subdomains", net_proxy_bypass(".example.com", "a.b.example.com"));
	T_CHECK("no_proxy/case-insensitive", net_proxy_bypass("EXAMPLE.com", "api.Example.COM"));
	T_CHECK("no_proxy/list with blanks", net_proxy_bypass("a.test , other.test,klingai.com", "api-singapore.klingai.com"));
	T_CHECK("no_proxy/list, no match", !net_proxy_bypass("a.test,b.test", "klingai.com"));
	T_CHECK("no_proxy/port ignored", net_proxy_bypass("localhost:8080", "localhost"));
	T_CHECK("no_proxy/IPv4", net_proxy_bypass("127.0.0.1", "127.0.0.1") && !net_proxy_bypass("127.0.0.1", "127.0.0.10"));
	T_CHECK("no_proxy/IPv6 bare", net_proxy_bypass("::1", "::1"));
	T_CHECK("no_proxy/IPv6 bracketed", net_proxy_bypass("[::1]:443", "::1"));
	T_CHECK("no_proxy/longer than the host", !net_proxy_bypass("api.example.com", "example.com"));
	T_CHECK("no_proxy/domain suffix never matches an IP", !net_proxy_bypass(".0.0.1", "127.0.0.1") &&
								  !net_proxy_bypass("0.0.1", "127.0.0.1") &&
								  !net_proxy_bypass("1", "127.0.0.1"));
	T_CHECK("no_proxy/IPv4 CIDR", net_proxy_bypass("127.0.0.0/8", "127.0.0.1") && net_proxy_bypass("10.1.2.0/23", "10.1.3.9") &&
					      !net_proxy_bypass("10.1.2.0/24", "10.1.3.9"));
	T_CHECK("no_proxy/CIDR /0 and /32", net_proxy_bypass("0.0.0.0/0", "192.0.2.1") &&
						    net_proxy_bypass("192.0.2.1/32", "192.0.2.1") &&
						    !net_proxy_bypass("192.0.2.1/32", "192.0.2.2"));
	T_CHECK("no_proxy/IPv6 CIDR", net_proxy_bypass("::1/128", "::1") && net_proxy_bypass("[fd00::]/8", "fd12::5") &&
					      !net_proxy_bypass("fd00::/8", "fe80::1"));
	T_CHECK("no_proxy/CIDR never matches a name", !net_proxy_bypass("127.0.0.0/8", "localhost"));
	T_CHECK("no_proxy/CIDR of the other family", !net_proxy_bypass("::/0", "127.0.0.1"));
	T_CHECK("no_proxy/bad prefix matches nothing", !net_proxy_bypass("127.0.0.0/33", "127.0.0.1") &&
							    !net_proxy_bypass("127.0.0.0/", "127.0.0.1") &&
							    !net_proxy_bypass("127.0.0.0/8x", "127.0.0.1"));
}

static void test_connect(void)
{
	char out[512];
	parse("http://user:pass@p:8080");
	int n = net_proxy_connect_request(&P, "api.example.com", 443, out, sizeof out);
	T_STREQ("connect/request with Basic auth", n > 0 ? out : "(failed)",
		"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n"
		"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
	parse("http://p:8080");
	n = net_proxy_connect_request(&P, "::1", 8443, out, sizeof out);
	T_STREQ("connect/IPv6 target, no auth", n > 0 ? out : "(failed)",
		"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
	T_CHECK("connect/too small", net_proxy_connect_request(&P, "h", 1, out, 10) == -1);
}

int main(void)
{
	t_plan(52);
	test_parse();
	test_bypass();
	test_connect();
	return t_done();
}
