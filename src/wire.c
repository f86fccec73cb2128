/* wire — see wire.h. */
#include "wire.h"

#include "kling_limits.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for the longest acceptable line plus "\r\n": holding LIMIT_LINE_BYTES
 * + 2 bytes without a newline proves the line too long. */
#define IBUF_CAP ((size_t)LIMIT_LINE_BYTES + 2)
#define PAUSE_AT ((size_t)LIMIT_STDOUT_BACKLOG / 2)
#define RESUME_AT ((size_t)LIMIT_STDOUT_BACKLOG / 4)
/* An output buffer grown past this is freed once drained. */
#define OBUF_KEEP ((size_t)1 << 20)

_Static_assert(LIMIT_RESPONSE_BYTES <= LIMIT_STDOUT_BACKLOG / 2,
	       "one full-size response must fit under the back-pressure threshold");

static struct {
	int open;
	int in, out;
	int in_flags, out_flags; /* as found, restored at close; -1 = unknown */
	const struct wire_handlers *h;
	void *ctx;

	char *ibuf;
	size_t ilen;   /* bytes held */
	size_t iscan;  /* bytes at the front known to hold no '\n' */
	int discarding; /* skipping the rest of an oversize line */
	int eof;
	int paused;

	char *obuf;
	size_t ooff, olen, ocap;
	int failed, status;
	struct loop_timer resume;
} W;

static void fail(int status, const char *why)
{
	if (W.failed)
		return;
	W.failed = 1;
	W.status = status;
	if (status)
		log_error("standard output: %s", why);
	else
		log_info("standard output: %s", why);
	loop_unwatch(W.in);
	loop_unwatch(W.out);
	loop_timer_clear(&W.resume);
}

static void flush(void);

static void update_in_watch(void)
{
	if (!W.eof && !W.failed)
		loop_set_events(W.in, W.paused ? 0 : POLLIN);
}

static void deliver(const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	if (n > LIMIT_LINE_BYTES) {
		W.h->oversize(W.ctx, n);
		return;
	}
	size_t k = 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (k == n)
		return; /* blank */
	W.h->line(W.ctx, p, n);
}

/* Hand out every complete buffered line (unless paused), then keep the
 * partial rest at the front of the buffer. */
static void process(void)
{
	size_t start = 0;
	while (!W.paused && !W.failed && start < W.ilen) {
		char *p = W.ibuf + start;
		size_t n = W.ilen - start;
		size_t from = start == 0 ? W.iscan : 0;
		char *nl = memchr(p + from, '\n', n - from);
		if (W.discarding) {
			if (!nl) {
				start = W.ilen;
				break;
			}
			start += (size_t)(nl - p) + 1;
			W.discarding = 0;
			continue;
		}
		if (!nl) {
			if (n >= IBUF_CAP) {
				W.discarding = 1;
				start = W.ilen;
				W.h->oversize(W.ctx, n);
			}
			break;
		}
		start += (size_t)(nl - p) + 1;
		W.iscan = 0;
		deliver(p, (size_t)(nl - p));
		if (wire_backlog() > PAUSE_AT) {
			log_debug("output backlog %zu bytes: reading paused until the client catches up", wire_backlog());
			W.paused = 1;
			update_in_watch();
		}
	}
	if (start) {
		memmove(W.ibuf, W.ibuf + start, W.ilen - start);
		W.ilen -= start;
		W.iscan = 0;
	}
	if (!W.paused && !W.discarding)
		W.iscan = W.ilen; /* whatever is left has no newline */
}

static void on_in(void *arg, int fd, short revents)
{
	(void)arg;
	(void)revents;
	if (W.eof || W.paused || W.failed || W.ilen == IBUF_CAP)
		return; /* a full buffer is always consumed by process(): defensive */
	ssize_t r;
	do
		r = read(fd, W.ibuf + W.ilen, IBUF_CAP - W.ilen);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r > 0) {
		W.ilen += (size_t)r;
		process();
		return;
	}
	if (r < 0)
		log_warn("standard input: read failed (%s); treating it as its end", strerror(errno));
	W.eof = 1;
	loop_unwatch(W.in);
	if (W.ilen && !W.discarding && !W.failed)
		deliver(W.ibuf, W.ilen); /* a last line without its newline */
	W.ilen = 0;
	W.h->eof(W.ctx);
}

static void on_resume(void *arg)
{
	(void)arg;
	if (!W.paused || W.failed || wire_backlog() > RESUME_AT)
		return;
	log_debug("output backlog drained: reading again");
	W.paused = 0;
	process();
	update_in_watch();
}

static void on_out(void *arg, int fd, short revents)
{
	(void)arg;
	(void)fd;
	(void)revents;
	flush();
}

static void flush(void)
{
	while (W.ooff < W.olen && !W.failed) {
		ssize_t r = write(W.out, W.obuf + W.ooff, W.olen - W.ooff);
		if (r > 0) {
			W.ooff += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			loop_set_events(W.out, POLLOUT);
			return;
		}
		if (r < 0 && errno == EPIPE)
			fail(0, "the client closed it");
		else
			fail(1, r < 0 ? strerror(errno) : "write returned 0");
		return;
	}
	if (W.failed)
		return;
	W.ooff = W.olen = 0;
	loop_set_events(W.out, 0);
	if (W.ocap > OBUF_KEEP) {
		free(W.obuf);
		W.obuf = NULL;
		W.ocap = 0;
	}
	/* resume input from the loop, never from inside a line handler */
	if (W.paused)
		loop_timer_set(&W.resume, loop_now_ms(), on_resume, NULL);
}

int wire_open(int in_fd, int out_fd, const struct wire_handlers *h, void *ctx)
{
	memset(&W, 0, sizeof W);
	W.in = in_fd;
	W.out = out_fd;
	W.h = h;
	W.ctx = ctx;
	W.ibuf = malloc(IBUF_CAP);
	if (!W.ibuf)
		return -1;
	W.in_flags = fcntl(in_fd, F_GETFL);
	if (W.in_flags >= 0)
		fcntl(in_fd, F_SETFL, W.in_flags | O_NONBLOCK);
	W.out_flags = fcntl(out_fd, F_GETFL);
	if (W.out_flags >= 0)
		fcntl(out_fd, F_SETFL, W.out_flags | O_NONBLOCK);
	if (loop_watch(in_fd, POLLIN, on_in, NULL) < 0 || loop_watch(out_fd, 0, on_out, NULL) < 0) {
		wire_close();
		return -1;
	}
	W.open = 1;
	return 0;
}

int wire_send(const char *msg, size_t len)
{
	if (W.failed || !W.open)
		return -1;
	size_t pending = W.olen - W.ooff;
	if (len + 1 > LIMIT_STDOUT_BACKLOG - pending) {
		fail(1, "the client is not reading its output (backlog over LIMIT_STDOUT_BACKLOG); disconnecting");
		return -1;
	}
	if (W.ocap - W.olen < len + 1) {
		if (W.ooff) {
			memmove(W.obuf, W.obuf + W.ooff, pending);
			W.ooff = 0;
			W.olen = pending;
		}
		if (W.ocap - W.olen < len + 1) {
			size_t cap = W.ocap ? W.ocap : 65536;
			while (cap - W.olen < len + 1)
				cap *= 2;
			if (cap > LIMIT_STDOUT_BACKLOG)
				cap = LIMIT_STDOUT_BACKLOG;
			char *nb = realloc(W.obuf, cap);
			if (!nb) {
				fail(1, "out of memory for the output queue");
				return -1;
			}
			W.obuf = nb;
			W.ocap = cap;
		}
	}
	memcpy(W.obuf + W.olen, msg, len);
	W.obuf[W.olen + len] = '\n';
	W.olen += len + 1;
	if (pending == 0) /* otherwise a write is already waiting for POLLOUT */
		flush();
	return W.failed ? -1 : 0;
}

size_t wire_backlog(void)
{
	return W.olen - W.ooff;
}

int wire_done(void)
{
	return W.failed || (W.eof && W.ooff == W.olen);
}

int wire_status(void)
{
	return W.failed ? W.status : 0;
}

void wire_close(void)
{
	loop_unwatch(W.in);
	loop_unwatch(W.out);
	loop_timer_clear(&W.resume);
	if (W.in_flags >= 0)
		fcntl(W.in, F_SETFL, W.in_flags);
	if (W.out_flags >= 0)
		fcntl(W.out, F_SETFL, W.out_flags);
	free(W.ibuf);
	free(W.obuf);
	W.ibuf = W.obuf = NULL;
	W.open = 0;
}
