/* cli_probe — see cli_probe.h. */
#include "cli_probe.h"

#include "all_limits.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *url, const char *why)
{
	fprintf(stderr, "kling-mcp --probe %.200s: %s\n", url, why);
	return 1;
}

/* Split "http://host[:port][/path]" into host (brackets removed), port and
 * path, with the Host header's value (as written). 0, or -1. */
static int split_url(const char *url, char *host, size_t hcap, char *port, char *authority, const char **path)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *a = url + 7;
	size_t alen = strcspn(a, "/?#");
	*path = a[alen] == '/' ? a + alen : "/";
	if (alen == 0 || alen >= hcap || strpbrk(*path, " \r\n") || memchr(a, '@', alen))
		return -1;
	memcpy(authority, a, alen);
	authority[alen] = 0;
	const char *h = authority, *colon = strrchr(authority, ':');
	if (*h != '[' && colon != strchr(h, ':'))
		return -1; /* an IPv6 literal needs its brackets */
	size_t hl = colon ? (size_t)(colon - h) : alen;
	if (*h == '[') { /* an IPv6 literal */
		const char *close = strchr(h, ']');
		if (!close || (close[1] && close[1] != ':'))
			return -1;
		colon = close[1] ? close + 1 : NULL;
		h++;
		hl = (size_t)(close - h);
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	const char *p = colon ? colon + 1 : "80";
	size_t pl = strlen(p);
	memcpy(port, p, pl < 6 ? pl + 1 : 1);
	return hl && pl && pl < 6 && strspn(p, "0123456789") == pl && strlen(*path) <= 150 ? 0 : -1;
}

int cli_probe_run(const char *url)
{
	char host[LIMIT_HOST_BYTES], authority[LIMIT_HOST_BYTES], port[6], buf[256];
	const char *path;
	if (split_url(url, host, sizeof host, port, authority, &path) < 0)
		return fail(url, "not an http://host[:port][/path] URL");
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return fail(url, "cannot resolve the host");
	int fd = -1;
	struct timeval tv = {PROBE_TIMEOUT_MS / 1000, (PROBE_TIMEOUT_MS % 1000) * 1000};
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) { /* "localhost": ::1, then 127.0.0.1 */
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* on Linux the send timeout also bounds connect() */
		if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
				connect(fd, a->ai_addr, a->ai_addrlen) != 0)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return fail(url, "cannot connect");
	int n = snprintf(buf, sizeof buf, "GET %.150s HTTP/1.1\r\nHost: %.60s\r\nConnection: close\r\n\r\n", path,
			 authority);
	ssize_t got = send(fd, buf, (size_t)n, MSG_NOSIGNAL) == n ? recv(fd, buf, sizeof buf - 1, 0) : -1;
	close(fd);
	if (got < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return fail(url, "no HTTP answer");
	buf[12] = 0;
	if (buf[9] != '2') {
		fprintf(stderr, "kling-mcp --probe %.200s: HTTP %s\n", url, buf + 9);
		return 1;
	}
	return 0;
}
