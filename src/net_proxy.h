/*
 * net_proxy — HTTPS_PROXY and NO_PROXY as curl reads them, and the CONNECT
 * request. Pure functions: no I/O, no allocation. The tunnel itself is
 * driven by net_conn.c.
 */
#ifndef KLING_NET_PROXY_H
#define KLING_NET_PROXY_H

#include "all_limits.h"

#include <stddef.h>

#define PROXY_HOST_MAX LIMIT_HOST_BYTES
#define PROXY_AUTH_MAX 700 /* base64 of "user:pass", each up to 255 bytes decoded */

struct net_proxy_url {
	char host[PROXY_HOST_MAX]; /* name or IP literal, IPv6 without brackets */
	unsigned short port;       /* 1080 when the URL names none, as curl */
	char auth[PROXY_AUTH_MAX]; /* base64("user:pass") for Basic, "" without credentials (a secret) */
};

/* Parse "http://[user[:pass]@]host[:port][/]" (a URL without a scheme is
 * taken as http://, as curl does). user and pass are percent-decoded.
 * Returns 0, or -1 with a sentence in err[0..errcap) that never repeats the
 * credentials: another scheme (https://, socks5://...), bad port, bad host,
 * bad percent escape. */
int net_proxy_parse_url(const char *url, struct net_proxy_url *out, char *err, size_t errcap);

/* The password of url's user:pass, percent-decoded, into out[0..cap); its
 * length (0, with out "", when there is none or it is unreadable). So that
 * it can be masked wherever it would be written (log.h). */
int net_proxy_password(const char *url, char *out, size_t cap);

/* 1 when NO_PROXY (no_proxy may be NULL) says host is reached directly:
 * "*"; for a host name, an entry equal to it or to one of its parent domains,
 * with or without a leading dot ("example.com" and ".example.com" both match
 * example.com and a.example.com); for an IP literal host, an entry with the
 * same address or a CIDR block holding it ("127.0.0.0/8", "::1/128",
 * "[fd00::]/8") — domain rules never match an IP. Case-insensitive; entries
 * are separated by commas or blanks; IPv6 entries may be bracketed; an
 * entry's ":port" is ignored. */
int net_proxy_bypass(const char *no_proxy, const char *host);

/* Write "CONNECT host:port HTTP/1.1" with Host and, when the proxy has
 * credentials, Proxy-Authorization: Basic. Returns its length, or -1 if it
 * does not fit in out[0..cap). */
int net_proxy_connect_request(const struct net_proxy_url *p, const char *host, unsigned short port, char *out, size_t cap);

/* Overwrite the credentials in p. */
void net_proxy_wipe(struct net_proxy_url *p);

#endif
