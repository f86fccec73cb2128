/*
 * httpload — a small HTTP/1.1 keep-alive load generator for make bench: C
 * connections to 127.0.0.1:PORT each send the same request again as soon as
 * the previous answer is in, for SECONDS; prints requests per second and
 * latency percentiles.
 *   httpload PORT CONNS SECONDS REQUEST_FILE
 * REQUEST_FILE holds the whole request (head and body). Answers are framed by
 * their Content-Length; a status other than 200 counts as an error.
 * Output: "REQS n SECS s RPS r P50_US a P99_US b ERRORS e"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 1024
#define MAXLAT (1 << 22)

struct cl {
	int fd;
	size_t sent;
	char buf[65536];
	size_t have;
	long long t0;
};

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* The value of header name (lower case) in head[0..n), or NULL. */
static const char *header(const char *head, size_t n, const char *name)
{
	size_t k = strlen(name);
	for (const char *p = head; p + k < head + n; p++)
		if ((p == head || p[-1] == '\n') && strncasecmp(p, name, k) == 0 && p[k] == ':')
			return p + k + 1;
	return NULL;
}

/* Length of a complete answer at the front of buf (Content-Length or
 * chunked), 0 if incomplete, -1 when it cannot be framed. */
static long answer_len(const char *buf, size_t n, int *status)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end - buf) + 4;
	*status = atoi(buf + 9);
	const char *cl = header(buf, head, "content-length");
	if (cl) {
		long body = atol(cl);
		return head + (size_t)body <= n ? (long)(head + (size_t)body) : 0;
	}
	const char *te = header(buf, head, "transfer-encoding");
	if (!te || !strstr(te, "chunked"))
		return -1;
	size_t p = head;
	for (;;) {
		const char *nl = memmem(buf + p, n - p, "\r\n", 2);
		if (!nl)
			return 0;
		size_t sz = strtoul(buf + p, NULL, 16);
		p = (size_t)(nl - buf) + 2;
		if (sz == 0)
			return p + 2 <= n ? (long)(p + 2) : 0; /* no trailers */
		p += sz + 2;
		if (p > n)
			return 0;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: httpload PORT CONNS SECONDS REQUEST_FILE\n");
		return 2;
	}
	int port = atoi(argv[1]), nc = atoi(argv[2]);
	double secs = atof(argv[3]);
	if (nc < 1 || nc > MAXC)
		return 2;
	FILE *f = fopen(argv[4], "rb");
	if (!f)
		return 2;
	static char req[65536];
	size_t rlen = fread(req, 1, sizeof req, f);
	fclose(f);
	static struct cl c[MAXC];
	static struct pollfd pf[MAXC];
	static long long lat[MAXLAT];
	long nlat = 0, errors = 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < nc; i++) {
		c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(c[i].fd, (struct sockaddr *)&a, sizeof a) < 0) {
			perror("connect");
			return 1;
		}
	}
	long long start = now_us(), stop = start + (long long)(secs * 1e6);
	for (int i = 0; i < nc; i++)
		c[i].t0 = now_us();
	while (now_us() < stop) {
		for (int i = 0; i < nc; i++) {
			pf[i].fd = c[i].fd;
			pf[i].events = c[i].sent < rlen ? POLLOUT : POLLIN;
		}
		if (poll(pf, (nfds_t)nc, 100) < 0)
			return 1;
		for (int i = 0; i < nc; i++) {
			struct cl *x = &c[i];
			if (pf[i].revents & POLLOUT) {
				ssize_t w = send(x->fd, req + x->sent, rlen - x->sent, MSG_NOSIGNAL);
				if (w > 0)
					x->sent += (size_t)w;
			} else if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = recv(x->fd, x->buf + x->have, sizeof x->buf - x->have, 0);
				if (r <= 0) {
					fprintf(stderr, "connection %d closed by the server\n", i);
					return 1;
				}
				x->have += (size_t)r;
				int status = 0;
				long n = answer_len(x->buf, x->have, &status);
				if (n < 0 || (n == 0 && x->have == sizeof x->buf)) {
					fprintf(stderr, "unframed answer\n");
					return 1;
				}
				if (n > 0) {
					long long t = now_us();
					if (status != 200)
						errors++;
					if (nlat < MAXLAT)
						lat[nlat++] = t - x->t0;
					memmove(x->buf, x->buf + n, x->have - (size_t)n);
					x->have -= (size_t)n;
					x->sent = 0;
					x->t0 = t;
				}
			}
		}
	}
	double el = (double)(now_us() - start) / 1e6;
	qsort(lat, (size_t)nlat, sizeof *lat, cmp);
	printf("REQS %ld SECS %.3f RPS %.0f P50_US %lld P99_US %lld ERRORS %ld\n", nlat, el, nlat / el,
	       nlat ? lat[nlat / 2] : 0, nlat ? lat[(long)(nlat * 0.99)] : 0, errors);
	for (int i = 0; i < nc; i++)
		close(c[i].fd);
	return 0;
}
