/* mcp_stdio — see mcp_stdio.h. */
#include "mcp_stdio.h"

#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "mcp_wire.h"

#include <poll.h>

struct server {
	struct mcp_wire *wire;
	struct mcp_session *session;
	int stop;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct server *sv = ctx;
	mcp_session_input(sv->session, line, len, NULL);
}

static void on_oversize(void *ctx, size_t seen)
{
	struct server *sv = ctx;
	mcp_session_oversize(sv->session, seen, NULL);
}

static void on_eof(void *ctx)
{
	struct server *sv = ctx;
	int n = mcp_session_calls(sv->session);
	if (n)
		log_info("end of input: answering the %d call%s in progress, then exiting", n, n == 1 ? "" : "s");
}

static void on_pressure(void *ctx, int high)
{
	struct server *sv = ctx;
	mcp_session_throttle(sv->session, high);
}

static int sink_send(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	struct server *sv = ctx;
	(void)tag, (void)code;
	return mcp_wire_send(sv->wire, msg, len);
}

static void on_stop(void *arg, int fd, short revents)
{
	struct server *sv = arg;
	(void)revents;
	loop_unwatch(fd);
	sv->stop = 1;
}

static const struct mcp_wire_handlers g_handlers = {on_line, on_oversize, on_eof, on_pressure};
static const struct mcp_sink g_sink = {sink_send, NULL};

int mcp_stdio_run(int in_fd, int out_fd, int stop_fd)
{
	int rc = 0;
	struct server sv = {NULL, NULL, 0};
	sv.session = mcp_session_new(&g_sink, &sv);
	if (!sv.session) {
		log_error("out of memory at start");
		return 1;
	}
	mcp_session_untagged(sv.session); /* stdout is always open: a task's progress goes on */
	mcp_session_streams(sv.session);  /* and a request may stay unanswered: subscriptions/listen */
	sv.wire = mcp_wire_open(in_fd, out_fd, &g_handlers, &sv);
	if (!sv.wire) {
		log_error("cannot set up standard input and output");
		mcp_session_free(sv.session);
		return 1;
	}
	if (stop_fd >= 0)
		loop_watch(stop_fd, POLLIN, on_stop, &sv);
	/* done: output failed, or input ended with every call answered and written;
	 * on a signal, waits answer at once with what they have (mcp_hurry) and
	 * the output is written (within LISTEN_DRAIN_MS); other calls in progress
	 * are not waited for (a hung API must not hold up the stop) */
	int64_t drain = -1;
	while (!mcp_wire_failed(sv.wire) && !(mcp_wire_done(sv.wire) && mcp_session_calls(sv.session) == 0)) {
		if (sv.stop && drain < 0) {
			drain = loop_now_ms() + LISTEN_DRAIN_MS;
			mcp_hurry();
		}
		if (drain >= 0 && (mcp_wire_backlog(sv.wire) == 0 || loop_now_ms() >= drain))
			break;
		if (!loop_pending()) { /* nothing can happen any more: do not spin */
			log_error("internal error: the server has nothing to wait for");
			rc = 1;
			break;
		}
		if (loop_run_once(drain >= 0 ? 100 : -1) < 0) {
			log_error("poll failed");
			rc = 1;
			break;
		}
	}
	if (stop_fd >= 0)
		loop_unwatch(stop_fd);
	mcp_session_free(sv.session); /* cancels what is left, answers nothing */
	if (!rc)
		rc = mcp_wire_status(sv.wire);
	mcp_wire_close(sv.wire);
	return rc;
}
