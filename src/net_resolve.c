/* net_resolve — see net_resolve.h. */
#include "net_resolve.h"

#include "log.h"
#include "loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST_MAX LIMIT_HOST_BYTES
/* The child's answer: status (EAI code), errno, count, then per address
 * the family byte and 16 address bytes. Under PIPE_BUF: one atomic write. */
#define MSG_ADDR 17
#define MSG_MAX (4 + 4 + 1 + LIMIT_RESOLVE_ADDRS * MSG_ADDR)
/* A child still running this long after its start is killed even if the
 * parent forgot it (the parent kills it at its caller's deadline anyway). */
#define CHILD_ALARM_S (MAX_TIMEOUT_MS / 1000 + 1)

struct net_resolve_op {
	net_resolve_fn fn;
	void *ctx;
	char host[HOST_MAX];
	unsigned short port;
	pid_t pid;          /* 0 when answered without a child */
	int fd;             /* read end of the child's pipe, or -1 */
	unsigned char msg[MSG_MAX];
	size_t got;
	struct loop_timer kick; /* answers literals and cache hits next turn */
	struct net_resolve_addrs addrs;
	struct net_resolve_op *next;
};

struct cache_entry {
	char host[HOST_MAX]; /* "" = free */
	struct net_resolve_addrs addrs;
	int64_t expires;
};

static struct net_resolve_op *g_ops;
static struct cache_entry g_cache[LIMIT_RESOLVE_CACHE];

int net_resolve_is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void set_port(struct net_resolve_addrs *a, unsigned short port)
{
	for (int i = 0; i < a->n; i++) {
		if (a->addr[i].ss_family == AF_INET)
			((struct sockaddr_in *)&a->addr[i])->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&a->addr[i])->sin6_port = htons(port);
	}
}

/* Append one address (4 or 16 bytes) of family af. */
static void add_addr(struct net_resolve_addrs *a, int af, const void *bytes)
{
	if (a->n == LIMIT_RESOLVE_ADDRS)
		return;
	struct sockaddr_storage *ss = &a->addr[a->n];
	memset(ss, 0, sizeof *ss);
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, bytes, 4);
		a->len[a->n] = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, bytes, 16);
		a->len[a->n] = sizeof *s6;
	}
	a->n++;
}

static struct cache_entry *cache_find(const char *host)
{
	int64_t now = loop_now_ms();
	for (int i = 0; i < LIMIT_RESOLVE_CACHE; i++) {
		struct cache_entry *e = &g_cache[i];
		if (e->host[0] && e->expires <= now)
			e->host[0] = 0;
		if (e->host[0] && strcmp(e->host, host) == 0)
			return e;
	}
	return NULL;
}

static void cache_put(const char *host, const struct net_resolve_addrs *a)
{
	struct cache_entry *e = cache_find(host);
	for (int i = 0; !e && i < LIMIT_RESOLVE_CACHE; i++)
		if (!g_cache[i].host[0])
			e = &g_cache[i];
	if (!e) { /* full: replace the entry that expires first */
		e = &g_cache[0];
		for (int i = 1; i < LIMIT_RESOLVE_CACHE; i++)
			if (g_cache[i].expires < e->expires)
				e = &g_cache[i];
	}
	snprintf(e->host, sizeof e->host, "%s", host);
	e->addrs = *a;
	e->expires = loop_now_ms() + RESOLVE_CACHE_TTL_MS;
}

static int same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
			      4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      16) == 0;
}

void net_resolve_prefer(const char *host, const struct sockaddr_storage *addr)
{
	struct cache_entry *e = cache_find(host);
	if (!e)
		return;
	struct net_resolve_addrs *a = &e->addrs;
	for (int i = 1; i < a->n; i++) {
		if (!same_ip(&a->addr[i], addr))
			continue;
		struct sockaddr_storage s = a->addr[i];
		socklen_t l = a->len[i];
		memmove(&a->addr[1], &a->addr[0], (size_t)i * sizeof a->addr[0]);
		memmove(&a->len[1], &a->len[0], (size_t)i * sizeof a->len[0]);
		a->addr[0] = s;
		a->len[0] = l;
		return;
	}
}

void net_resolve_forget(const char *host)
{
	struct cache_entry *e = cache_find(host);
	if (e)
		e->host[0] = 0;
}

static void unlink_op(struct net_resolve_op *op)
{
	for (struct net_resolve_op **p = &g_ops; *p; p = &(*p)->next) {
		if (*p == op) {
			*p = op->next;
			return;
		}
	}
}

/* Stop the child (if any) and release the op's fd and timer; not freed. */
static void stop(struct net_resolve_op *op)
{
	loop_timer_clear(&op->kick);
	if (op->fd >= 0) {
		loop_unwatch(op->fd);
		close(op->fd);
		op->fd = -1;
	}
	if (op->pid > 0) {
		/* SIGKILL then wait: bounded, and leaves no zombie. The child
		 * may have exited already; kill() is then harmless. */
		kill(op->pid, SIGKILL);
		while (waitpid(op->pid, NULL, 0) < 0 && errno == EINTR)
			;
		op->pid = 0;
	}
	unlink_op(op);
}

/* End op: free it, then tell its caller. */
static void finish(struct net_resolve_op *op, const struct net_resolve_addrs *a, const char *error)
{
	net_resolve_fn fn = op->fn;
	void *ctx = op->ctx;
	struct net_resolve_addrs copy;
	if (a)
		copy = *a;
	stop(op);
	free(op);
	fn(ctx, a ? &copy : NULL, error);
}

static void on_kick(void *arg)
{
	struct net_resolve_op *op = arg;
	finish(op, &op->addrs, NULL);
}

/* Parse the child's message into op->addrs; returns NULL or an error. */
static const char *parse_msg(struct net_resolve_op *op, char *err, size_t errcap)
{
	int32_t status, eno;
	if (op->got < 9) {
		snprintf(err, errcap, "DNS lookup of %s failed: the resolver process ended without an answer",
			 op->host);
		return err;
	}
	memcpy(&status, op->msg, 4);
	memcpy(&eno, op->msg + 4, 4);
	if (status != 0) {
		const char *why = status == EAI_SYSTEM ? strerror(eno) : gai_strerror(status);
		snprintf(err, errcap, "DNS lookup of %s failed: %s", op->host, why);
		return err;
	}
	int n = op->msg[8];
	if (n == 0 || 9 + (size_t)n * MSG_ADDR > op->got) {
		snprintf(err, errcap, "DNS lookup of %s found no IPv4 or IPv6 address", op->host);
		return err;
	}
	memset(&op->addrs, 0, sizeof op->addrs);
	for (int i = 0; i < n; i++) {
		const unsigned char *p = op->msg + 9 + i * MSG_ADDR;
		add_addr(&op->addrs, p[0] == 4 ? AF_INET : AF_INET6, p + 1);
	}
	return NULL;
}

static void on_pipe(void *arg, int fd, short revents)
{
	(void)revents;
	struct net_resolve_op *op = arg;
	ssize_t r = read(fd, op->msg + op->got, sizeof op->msg - op->got);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r > 0) {
		op->got += (size_t)r;
		if (op->got < sizeof op->msg)
			return;
	}
	/* end of the message: EOF, error, or a full buffer */
	char err[400];
	const char *e = parse_msg(op, err, sizeof err);
	if (e) {
		finish(op, NULL, e);
		return;
	}
	cache_put(op->host, &op->addrs);
	set_port(&op->addrs, op->port);
	finish(op, &op->addrs, NULL);
}

/* In the child: everything but the pipe closed, default signals. */
static void child_lookup(const char *host, int wfd)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	alarm(CHILD_ALARM_S);
	/* Another connection's socket kept open here would hide its close
	 * from the server; stdin/stdout kept open would hide ours. */
	struct rlimit rl;
	int maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 ? (int)rl.rlim_cur : 4096;
	for (int fd = 0; fd < maxfd; fd++)
		if (fd != wfd)
			close(fd);

	unsigned char msg[MSG_MAX];
	memset(msg, 0, sizeof msg);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int32_t status = getaddrinfo(host, NULL, &hints, &res), eno = errno;
	memcpy(msg, &status, 4);
	memcpy(msg + 4, &eno, 4);
	int n = 0;
	for (struct addrinfo *ai = status == 0 ? res : NULL; ai && n < LIMIT_RESOLVE_ADDRS; ai = ai->ai_next) {
		unsigned char *p = msg + 9 + n * MSG_ADDR;
		if (ai->ai_family == AF_INET) {
			p[0] = 4;
			memcpy(p + 1, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			p[0] = 6;
			memcpy(p + 1, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		/* getaddrinfo may list one address once per protocol */
		int dup = 0;
		for (int j = 0; j < n; j++)
			if (memcmp(msg + 9 + j * MSG_ADDR, p, MSG_ADDR) == 0)
				dup = 1;
		if (!dup)
			n++;
	}
	msg[8] = (unsigned char)n;
	size_t len = 9 + (size_t)n * MSG_ADDR;
	while (write(wfd, msg, len) < 0 && errno == EINTR)
		;
	_exit(0); /* no atexit handlers, no stdio flush: they belong to the parent */
}

struct net_resolve_op *net_resolve_start(const char *host, unsigned short port, net_resolve_fn fn, void *ctx, const char **why)
{
	*why = NULL;
	if (strlen(host) >= HOST_MAX) {
		*why = "the host name is too long";
		return NULL;
	}
	struct net_resolve_op *op = calloc(1, sizeof *op);
	if (!op) {
		*why = "out of memory";
		return NULL;
	}
	op->fn = fn;
	op->ctx = ctx;
	op->fd = -1;
	op->port = port;
	snprintf(op->host, sizeof op->host, "%s", host);

	unsigned char bytes[16];
	struct cache_entry *e;
	if (inet_pton(AF_INET, host, bytes) == 1) {
		add_addr(&op->addrs, AF_INET, bytes);
	} else if (inet_pton(AF_INET6, host, bytes) == 1) {
		add_addr(&op->addrs, AF_INET6, bytes);
	} else if ((e = cache_find(host)) != NULL) {
		op->addrs = e->addrs;
		log_debug("DNS: %s answered from the cache", host);
	} else {
		int p[2];
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) {
			*why = "cannot create a pipe for the DNS lookup";
			free(op);
			return NULL;
		}
		if (loop_watch(p[0], POLLIN, on_pipe, op) != 0) {
			*why = "too many open connections (LIMIT_LOOP_FDS)";
			close(p[0]);
			close(p[1]);
			free(op);
			return NULL;
		}
		pid_t pid = fork();
		if (pid == 0)
			child_lookup(host, p[1]);
		close(p[1]);
		if (pid < 0) {
			*why = "cannot start the DNS lookup (fork failed)";
			loop_unwatch(p[0]);
			close(p[0]);
			free(op);
			return NULL;
		}
		op->pid = pid;
		op->fd = p[0];
		op->next = g_ops;
		g_ops = op;
		log_debug("DNS: looking up %s (process %d)", host, (int)pid);
		return op;
	}
	set_port(&op->addrs, port);
	op->next = g_ops;
	g_ops = op;
	loop_timer_set(&op->kick, loop_now_ms(), on_kick, op);
	return op;
}

void net_resolve_cancel(struct net_resolve_op *op)
{
	if (!op)
		return;
	stop(op);
	free(op);
}

void net_resolve_shutdown(void)
{
	while (g_ops)
		net_resolve_cancel(g_ops);
	memset(g_cache, 0, sizeof g_cache);
}
