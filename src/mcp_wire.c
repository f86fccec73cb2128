/* mcp_wire — see mcp_wire.h. */
#include "mcp_wire.h"

#include "all_limits.h"
#include "log.h"
#include "loop.h"
#include "outq.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
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

struct mcp_wire {
	int open;
	int in, out;
	int in_flags, out_flags; /* as found, restored at close; -1 = unknown */
	const struct mcp_wire_handlers *h;
	void *ctx;

	char *ibuf;
	size_t ilen;   /* bytes held */
	size_t iscan;  /* bytes at the front known to hold no '\n' */
	int discarding; /* skipping the rest of an oversize line */
	int eof;
	int paused;

	struct outq out_q; /* unbounded: input pauses past PAUSE_AT instead */
	int failed, status;
	int high; /* pressure reported high */
	struct loop_timer resume;
};

static void fail(struct mcp_wire *w, int status, const char *why)
{
	if (w->failed)
		return;
	w->failed = 1;
	w->status = status;
	if (status)
		log_error("standard output: %s", why);
	else
		log_info("standard output: %s", why);
	loop_unwatch(w->in);
	loop_unwatch(w->out);
	loop_timer_clear(&w->resume);
}

static void flush(struct mcp_wire *w);

static void update_in_watch(struct mcp_wire *w)
{
	if (!w->eof && !w->failed)
		loop_set_events(w->in, w->paused ? 0 : POLLIN);
}

/* Past PAUSE_AT unread bytes: stop reading and tell the owner (who starts no
 * more work) until the reader has caught up to RESUME_AT. */
static void check_pressure(struct mcp_wire *w)
{
	if (w->paused || w->failed || mcp_wire_backlog(w) <= PAUSE_AT)
		return;
	log_debug("output backlog %zu bytes: reading paused until the client catches up", mcp_wire_backlog(w));
	w->paused = 1;
	update_in_watch(w);
	if (!w->high && w->h->pressure) {
		w->high = 1;
		w->h->pressure(w->ctx, 1);
	}
}

static void deliver(struct mcp_wire *w, const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	if (n > LIMIT_LINE_BYTES) {
		w->h->oversize(w->ctx, n);
		return;
	}
	size_t k = 0;
	while (k < n && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (k == n)
		return; /* blank */
	w->h->line(w->ctx, p, n);
}

/* Hand out every complete buffered line (unless paused), then keep the
 * partial rest at the front of the buffer. */
static void process(struct mcp_wire *w)
{
	size_t start = 0;
	while (!w->paused && !w->failed && start < w->ilen) {
		char *p = w->ibuf + start;
		size_t n = w->ilen - start;
		size_t from = start == 0 ? w->iscan : 0;
		char *nl = memchr(p + from, '\n', n - from);
		if (w->discarding) {
			if (!nl) {
				start = w->ilen;
				break;
			}
			start += (size_t)(nl - p) + 1;
			w->discarding = 0;
			continue;
		}
		if (!nl) {
			if (n >= IBUF_CAP) {
				w->discarding = 1;
				start = w->ilen;
				w->h->oversize(w->ctx, n);
			}
			break;
		}
		start += (size_t)(nl - p) + 1;
		w->iscan = 0;
		deliver(w, p, (size_t)(nl - p));
		check_pressure(w);
	}
	if (start) {
		memmove(w->ibuf, w->ibuf + start, w->ilen - start);
		w->ilen -= start;
		w->iscan = 0;
	}
	if (!w->paused && !w->discarding)
		w->iscan = w->ilen; /* whatever is left has no newline */
}

/* Input ended: a last line without its newline still counts. */
static void input_ended(struct mcp_wire *w)
{
	w->eof = 1;
	loop_unwatch(w->in);
	if (w->ilen && !w->discarding && !w->failed)
		deliver(w, w->ibuf, w->ilen);
	w->ilen = 0;
	w->h->eof(w->ctx);
}

static void on_in(void *arg, int fd, short revents)
{
	struct mcp_wire *w = arg;
	(void)revents;
	if (w->eof || w->paused || w->failed || w->ilen == IBUF_CAP)
		return; /* a full buffer is always consumed by process(): defensive */
	ssize_t r;
	do
		r = read(fd, w->ibuf + w->ilen, IBUF_CAP - w->ilen);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r > 0) {
		w->ilen += (size_t)r;
		process(w);
		return;
	}
	if (r < 0)
		log_warn("standard input: read failed (%s); treating it as its end", strerror(errno));
	input_ended(w);
}

static void on_resume(void *arg)
{
	struct mcp_wire *w = arg;
	if (!w->paused || w->failed || mcp_wire_backlog(w) > RESUME_AT)
		return;
	log_debug("output backlog drained: reading again");
	w->paused = 0;
	if (w->high && w->h->pressure) {
		w->high = 0;
		w->h->pressure(w->ctx, 0);
	}
	process(w);
	update_in_watch(w);
}

static void on_out(void *arg, int fd, short revents)
{
	(void)fd;
	(void)revents;
	flush(arg);
}

static void flush(struct mcp_wire *w)
{
	if (w->failed)
		return;
	int r = outq_flush(&w->out_q, w->out, 0, OBUF_KEEP);
	if (r == OUTQ_ERROR) {
		if (errno == EPIPE)
			fail(w, 0, "the client closed it");
		else
			fail(w, 1, errno ? strerror(errno) : "write returned 0");
		return;
	}
	loop_set_events(w->out, r == OUTQ_AGAIN ? POLLOUT : 0);
	/* resume input from the loop, never from inside a line handler */
	if (w->paused && mcp_wire_backlog(w) <= RESUME_AT && !w->resume.armed)
		loop_timer_set(&w->resume, loop_now_ms(), on_resume, w);
}

struct mcp_wire *mcp_wire_open(int in_fd, int out_fd, const struct mcp_wire_handlers *h, void *ctx)
{
	struct mcp_wire *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->in = in_fd;
	w->out = out_fd;
	w->h = h;
	w->ctx = ctx;
	w->in_flags = w->out_flags = -1;
	outq_init(&w->out_q, SIZE_MAX);
	w->ibuf = malloc(IBUF_CAP);
	if (!w->ibuf) {
		free(w);
		return NULL;
	}
	w->in_flags = fcntl(in_fd, F_GETFL);
	if (w->in_flags >= 0)
		fcntl(in_fd, F_SETFL, w->in_flags | O_NONBLOCK);
	w->out_flags = fcntl(out_fd, F_GETFL);
	if (w->out_flags >= 0)
		fcntl(out_fd, F_SETFL, w->out_flags | O_NONBLOCK);
	if (loop_watch(in_fd, POLLIN, on_in, w) < 0 || loop_watch(out_fd, 0, on_out, w) < 0) {
		mcp_wire_close(w);
		return NULL;
	}
	w->open = 1;
	return w;
}

int mcp_wire_send(struct mcp_wire *w, const char *msg, size_t len)
{
	if (w->failed || !w->open)
		return -1;
	size_t pending = mcp_wire_backlog(w);
	char *p = outq_room(&w->out_q, len + 1);
	if (!p) {
		fail(w, 1, "out of memory for the output queue");
		return -1;
	}
	memcpy(p, msg, len);
	p[len] = '\n';
	outq_commit(&w->out_q, len + 1);
	if (pending == 0) /* otherwise a write is already waiting for POLLOUT */
		flush(w);
	check_pressure(w);
	return w->failed ? -1 : 0;
}

size_t mcp_wire_backlog(const struct mcp_wire *w)
{
	return outq_pending(&w->out_q);
}

int mcp_wire_done(const struct mcp_wire *w)
{
	return w->failed || (w->eof && outq_pending(&w->out_q) == 0);
}

int mcp_wire_failed(const struct mcp_wire *w)
{
	return w->failed;
}

int mcp_wire_status(const struct mcp_wire *w)
{
	return w->failed ? w->status : 0;
}

void mcp_wire_close(struct mcp_wire *w)
{
	if (!w)
		return;
	loop_unwatch(w->in);
	loop_unwatch(w->out);
	loop_timer_clear(&w->resume);
	if (w->in_flags >= 0)
		fcntl(w->in, F_SETFL, w->in_flags);
	if (w->out_flags >= 0)
		fcntl(w->out, F_SETFL, w->out_flags);
	free(w->ibuf);
	outq_free(&w->out_q);
	free(w);
}
