/*
 * mcp_http_check — the pure checks and parsers of the MCP HTTP listener
 * (mcp_http): the --listen address, the constant-time token compare, comma
 * lists (KLING_MCP_ALLOWED_HOSTS, KLING_MCP_ALLOWED_ORIGINS), the Accept
 * test, whether a Host or Origin names the listener, and mirrored header
 * values (MCP 2026-07-28). No I/O, no state: what a check needs of the
 * listener is passed in.
 */
#ifndef KLING_MCP_HTTP_CHECK_H
#define KLING_MCP_HTTP_CHECK_H

#include <stddef.h>

/* A listening address. */
struct mcp_http_check_addr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network order: 4 bytes for AF_INET */
	unsigned port;           /* 0 = any free port */
	int loopback;            /* 127.0.0.0/8 or ::1 */
	char host[68];           /* "127.0.0.1" or "[::1]" as it appears in a Host header */
};

/* Parse "[ADDR:]PORT": PORT alone means 127.0.0.1; ADDR is an IPv4 literal,
 * "localhost" (127.0.0.1) or a bracketed IPv6 literal ("[::1]:8080").
 * Returns 0, or -1 with *why set (a static sentence). */
int mcp_http_check_listen_parse(const char *s, struct mcp_http_check_addr *out, const char **why);

/* 1 when a[0..alen) equals b[0..blen); the time depends only on the
 * lengths, never on where the bytes differ. */
int mcp_http_check_secret_equal(const char *a, size_t alen, const char *b, size_t blen);

/* 1 when the comma-separated list (spaces around items ignored) holds an
 * item equal to v[0..n), ASCII case-insensitively. NULL list: 0. */
int mcp_http_check_list_has(const char *list, const char *v, size_t n);

/* A mirrored header's value (MCP 2026-07-28): "=?base64?...?=" is decoded,
 * anything else copied. Returns the length written to out (cap bytes), or
 * -1 when the encoding is invalid or does not fit. */
int mcp_http_check_header_value_decode(const char *v, size_t n, char *out, size_t cap);

/* Does a comma list of media ranges (Accept, accept[0..len); NULL: no
 * Accept header, which accepts anything) name type (or a wildcard)? */
int mcp_http_check_accepts(const char *accept, size_t len, const char *type);

/* v[0..n) names the listener at addr whose port is port_text: a loopback
 * name or its own address, with its port (or, unless need_port, none). */
int mcp_http_check_names_us(const struct mcp_http_check_addr *addr, const char *port_text, const char *v, size_t n,
			    int need_port);

/* Host value allowed: names_us, or in allowed_hosts
 * (KLING_MCP_ALLOWED_HOSTS, NULL when unset). */
int mcp_http_check_host_allowed(const struct mcp_http_check_addr *addr, const char *port_text,
				const char *allowed_hosts, const char *v, size_t n);

#endif
