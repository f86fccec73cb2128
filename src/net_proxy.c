/* net_proxy — see net_proxy.h. */
#include "net_proxy.h"

#include "hex.h"
#include "text.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Percent-decode s[0..len) into out (cap bytes, NUL-terminated). Returns the
 * decoded length, or -1 (bad escape, NUL, too long). */
static int pct_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hex_value((unsigned char)s[i + 1]), lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || n + 1 >= cap)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return (int)n;
}

static void b64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = (char)(i + 1 < len ? tab[(v >> 6) & 63] : '=');
		out[o++] = (char)(i + 2 < len ? tab[v & 63] : '=');
	}
	out[o] = 0;
}

int net_proxy_password(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *end = p + strcspn(p, "/?#"), *at = NULL, *colon;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	int n = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1), out, cap) : -1;
	if (n < 0 && cap)
		out[0] = 0;
	return n < 0 ? 0 : n;
}

int net_proxy_parse_url(const char *url, struct net_proxy_url *out, char *err, size_t errcap)
{
	memset(out, 0, sizeof *out);
	const char *p = url, *sep = strstr(url, "://");
	if (sep) {
		if ((size_t)(sep - url) != 4 || !text_ieq(url, 4, "http", 4)) {
			/* Never echo the URL: it may carry a password. */
			snprintf(err, errcap,
				 "HTTPS_PROXY must be an http:// proxy URL (http://[user:pass@]host:port); "
				 "the %.*s:// scheme is not supported",
				 (int)((size_t)(sep - url) < 16 ? sep - url : 16), url);
			return -1;
		}
		p = sep + 3;
	}
	size_t rest = strcspn(p, "/?#");
	const char *end = p + rest;
	if (*end && strcmp(end, "/") != 0) {
		snprintf(err, errcap, "HTTPS_PROXY must name only a host and port (http://host:port), not a path");
		return -1;
	}
	const char *at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q; /* the last '@': a password may hold one unescaped */
	const char *h = p;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		char user[256], pass[256];
		size_t ul = colon ? (size_t)(colon - p) : (size_t)(at - p);
		int un = pct_decode(p, ul, user, sizeof user);
		int pn = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1), pass, sizeof pass) : 0;
		if (!colon)
			pass[0] = 0;
		if (un < 0 || pn < 0) {
			explicit_bzero(user, sizeof user);
			explicit_bzero(pass, sizeof pass);
			snprintf(err, errcap, "HTTPS_PROXY: the user name or password has a bad %%-escape or is too long");
			return -1;
		}
		unsigned char both[512];
		memcpy(both, user, (size_t)un);
		both[un] = ':';
		memcpy(both + un + 1, pass, (size_t)pn);
		b64(both, (size_t)un + 1 + (size_t)pn, out->auth);
		explicit_bzero(both, sizeof both);
		explicit_bzero(user, sizeof user);
		explicit_bzero(pass, sizeof pass);
		h = at + 1;
	}
	const char *hend, *port = NULL;
	if (*h == '[') {
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend)
			goto bad_host;
		h++;
		if (hend + 1 < end) {
			if (hend[1] != ':')
				goto bad_host;
			port = hend + 2;
		}
	} else {
		hend = memchr(h, ':', (size_t)(end - h));
		if (hend)
			port = hend + 1;
		else
			hend = end;
	}
	size_t hl = (size_t)(hend - h);
	if (hl == 0 || hl >= sizeof out->host)
		goto bad_host;
	for (size_t i = 0; i < hl; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == '_' || c == ':'))
			goto bad_host;
	}
	memcpy(out->host, h, hl);
	out->host[hl] = 0;
	out->port = 1080;
	if (port) {
		long v = 0;
		const char *q = port;
		for (; q < end && *q >= '0' && *q <= '9' && v <= 65535; q++)
			v = v * 10 + (*q - '0');
		if (q == port || q != end || v < 1 || v > 65535) {
			snprintf(err, errcap, "HTTPS_PROXY has an invalid port (1 to 65535)");
			goto fail;
		}
		out->port = (unsigned short)v;
	}
	return 0;
bad_host:
	snprintf(err, errcap, "HTTPS_PROXY has no valid host (http://[user:pass@]host:port)");
fail:
	net_proxy_wipe(out);
	return -1;
}

/* Does host end with the domain d[0..dl) at a label boundary, or equal it? */
static int domain_match(const char *host, const char *d, size_t dl)
{
	size_t hl = strlen(host);
	if (dl == 0 || dl > hl || !text_ieq(host + hl - dl, dl, d, dl))
		return 0;
	return dl == hl || host[hl - dl - 1] == '.';
}

/* The bytes of the IP literal s[0..n) into out (16 bytes); returns 4 or 16,
 * or 0 when s is not an IP literal. */
static size_t ip_bytes(const char *s, size_t n, unsigned char *out)
{
	char tmp[64];
	if (n == 0 || n >= sizeof tmp)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (inet_pton(AF_INET, tmp, out) == 1)
		return 4;
	return inet_pton(AF_INET6, tmp, out) == 1 ? 16 : 0;
}

/* One NO_PROXY entry e[0..n) against host (ip[0..ipn) its bytes when it is an
 * IP literal). An IP entry, with or without a /prefix (CIDR), matches IP
 * hosts only; a name entry matches names only, as a domain suffix. */
static int entry_match(const char *e, size_t n, const char *host, const unsigned char *ip, size_t ipn)
{
	const char *addr = e, *end = e + n, *rest;
	size_t alen;
	if (*e == '[') { /* [v6], [v6]:port or [v6]/prefix */
		const char *rb = memchr(e, ']', n);
		if (!rb)
			return 0;
		addr = e + 1;
		alen = (size_t)(rb - addr);
		rest = rb + 1;
	} else {
		const char *slash = memchr(e, '/', n);
		const char *colon = memchr(e, ':', n);
		/* A bare IPv6 entry has several ':'; one ':' starts a port. */
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1)))
			colon = NULL;
		rest = slash ? slash : colon ? colon : end;
		alen = (size_t)(rest - e);
	}
	unsigned char net[16];
	size_t netn = ip_bytes(addr, alen, net);
	if (netn) {
		unsigned bits = (unsigned)netn * 8;
		if (rest < end && *rest == '/') {
			const char *q = rest + 1;
			unsigned v = 0;
			for (; q < end && *q >= '0' && *q <= '9' && v <= 128; q++)
				v = v * 10 + (unsigned)(*q - '0');
			if (q == rest + 1 || q != end || v > bits)
				return 0; /* a prefix that is not one: the entry matches nothing */
			bits = v;
		}
		if (netn != ipn)
			return 0;
		size_t full = bits / 8;
		unsigned part = (0xff00u >> (bits % 8)) & 0xffu; /* the leading bits of the next byte */
		return memcmp(ip, net, full) == 0 && (full == netn || ((ip[full] ^ net[full]) & part) == 0);
	}
	if (ipn || *e == '[')
		return 0; /* domain rules are for names: ".0.0.1" does not match 127.0.0.1 */
	if (alen && *e == '.') {
		e++;
		alen--;
	}
	return domain_match(host, e, alen);
}

int net_proxy_bypass(const char *no_proxy, const char *host)
{
	if (!no_proxy)
		return 0;
	unsigned char ip[16];
	size_t ipn = ip_bytes(host, strlen(host), ip);
	const char *p = no_proxy;
	while (*p) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0)
			continue;
		if (n == 1 && *s == '*')
			return 1;
		if (entry_match(s, n, host, ip, ipn))
			return 1;
	}
	return 0;
}

int net_proxy_connect_request(const struct net_proxy_url *p, const char *host, unsigned short port, char *out, size_t cap)
{
	char hp[300];
	int h = snprintf(hp, sizeof hp, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	if (h < 0 || (size_t)h >= sizeof hp)
		return -1;
	int n = snprintf(out, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", hp, hp,
			 p->auth[0] ? "Proxy-Authorization: Basic " : "", p->auth, p->auth[0] ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

void net_proxy_wipe(struct net_proxy_url *p) { explicit_bzero(p->auth, sizeof p->auth); }
