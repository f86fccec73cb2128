/* mcp_http_check — see mcp_http_check.h. */
#include "mcp_http_check.h"

#include "text.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int mcp_http_check_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	/* Walk b's length whatever a holds, so timing tells at most a's length
	 * compared with b's, never a position. */
	unsigned char d = (unsigned char)(alen != blen);
	for (size_t i = 0; i < blen; i++)
		d |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
	return d == 0;
}

int mcp_http_check_list_has(const char *list, const char *v, size_t n)
{
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *s = p, *t = e;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t > s && text_ieq(s, (size_t)(t - s), v, n))
			return 1;
		p = *e ? e + 1 : e;
	}
	return 0;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int mcp_http_check_header_value_decode(const char *v, size_t n, char *out, size_t cap)
{
	static const char pre[] = "=?base64?", post[] = "?=";
	if (n >= sizeof pre - 1 + sizeof post - 1 && text_ieq(v, sizeof pre - 1, pre, sizeof pre - 1) &&
	    memcmp(v + n - 2, post, 2) == 0) {
		const char *p = v + sizeof pre - 1, *e = v + n - 2;
		size_t o = 0;
		unsigned acc = 0;
		int bits = 0, pad = 0;
		for (; p < e; p++) {
			if (*p == '=') {
				pad++;
				continue;
			}
			int d = b64val((unsigned char)*p);
			if (d < 0 || pad)
				return -1;
			acc = (acc << 6) | (unsigned)d;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (o == cap)
					return -1;
				out[o++] = (char)((acc >> bits) & 0xff);
			}
		}
		if (pad > 2)
			return -1;
		return (int)o;
	}
	if (n > cap)
		return -1;
	memcpy(out, v, n);
	return (int)n;
}

int mcp_http_check_listen_parse(const char *s, struct mcp_http_check_addr *out, const char **why)
{
	memset(out, 0, sizeof *out);
	const char *colon = strrchr(s, ':');
	const char *port = colon ? colon + 1 : s;
	char host[64];
	size_t hl = colon ? (size_t)(colon - s) : 0;
	if (hl >= sizeof host) {
		*why = "the address is too long";
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = 0;
	char *e;
	if (!*port || strspn(port, "0123456789") != strlen(port)) {
		*why = "PORT must be a number from 0 to 65535";
		return -1;
	}
	long p = strtol(port, &e, 10);
	if (p < 0 || p > 65535) {
		*why = "PORT must be a number from 0 to 65535";
		return -1;
	}
	out->port = (unsigned)p;
	if (colon && hl == 0) {
		*why = "the address before ':' is empty (use PORT alone for 127.0.0.1)";
		return -1;
	}
	if (!colon || strcmp(host, "localhost") == 0) {
		memcpy(host, "127.0.0.1", 10);
		hl = 9;
	}
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']') {
			*why = "an IPv6 address must be written in brackets: [::1]:PORT";
			return -1;
		}
		host[hl - 1] = 0;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host + 1, &a6) != 1) {
			*why = "not an IPv6 address";
			return -1;
		}
		out->family = AF_INET6;
		memcpy(out->addr, &a6, 16);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
		snprintf(out->host, sizeof out->host, "[%s]", host + 1);
		return 0;
	}
	struct in_addr a4;
	if (inet_pton(AF_INET, host, &a4) != 1) {
		*why = strchr(host, ':') ? "an IPv6 address must be written in brackets: [::1]:PORT"
					 : "ADDR must be an IPv4 address, localhost, or [IPv6]";
		return -1;
	}
	out->family = AF_INET;
	memcpy(out->addr, &a4, 4);
	out->loopback = out->addr[0] == 127;
	snprintf(out->host, sizeof out->host, "%s", host);
	return 0;
}

int mcp_http_check_accepts(const char *accept, size_t len, const char *type)
{
	if (!accept)
		return 1;
	/* a media range naming the type, or any type: a substring search is
	 * enough for the two types asked about */
	const char *p = accept, *end = p + len;
	size_t tl = strlen(type);
	for (; p < end; p++)
		if ((end - p >= 3 && p[0] == '*' && p[1] == '/' && p[2] == '*') ||
		    ((size_t)(end - p) >= tl && text_ieq(p, tl, type, tl)))
			return 1;
	return 0;
}

int mcp_http_check_names_us(const struct mcp_http_check_addr *addr, const char *port_text, const char *v, size_t n,
			    int need_port)
{
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", addr->host};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t l = strlen(names[i]);
		if (!need_port && text_ieq(v, n, names[i], l))
			return 1;
		if (n > l && text_ieq(v, l, names[i], l) && v[l] == ':' && n - l - 1 == strlen(port_text) &&
		    memcmp(v + l + 1, port_text, n - l - 1) == 0)
			return 1;
	}
	return 0;
}

int mcp_http_check_host_allowed(const struct mcp_http_check_addr *addr, const char *port_text,
				const char *allowed_hosts, const char *v, size_t n)
{
	return mcp_http_check_list_has(allowed_hosts, v, n) || mcp_http_check_names_us(addr, port_text, v, n, 0);
}
