/* server — see server.h. */
#include "server.h"

#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "wire.h"

#include <poll.h>

static int g_stop;

static void on_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	mcp_on_line(line, len);
}

static void on_oversize(void *ctx, size_t seen)
{
	(void)ctx;
	mcp_on_oversize(seen);
}

static void on_eof(void *ctx)
{
	(void)ctx;
	mcp_drop_calls(); /* nobody is left to read their answers */
}

static void on_stop(void *arg, int fd, short revents)
{
	(void)arg;
	(void)revents;
	loop_unwatch(fd);
	g_stop = 1;
}

static const struct wire_handlers g_handlers = {on_line, on_oversize, on_eof};

int server_run(const struct config *cfg, int stop_fd)
{
	int rc = 0;
	g_stop = 0;
	if (mcp_init(cfg, wire_send) < 0) {
		log_error("out of memory at start");
		return 1;
	}
	if (wire_open(0, 1, &g_handlers, NULL) < 0) {
		log_error("cannot set up standard input and output");
		mcp_free();
		return 1;
	}
	if (stop_fd >= 0)
		loop_watch(stop_fd, POLLIN, on_stop, NULL);
	while (!g_stop && !wire_done()) {
		if (!loop_pending()) { /* nothing can happen any more: do not spin */
			log_error("internal error: the server has nothing to wait for");
			rc = 1;
			break;
		}
		if (loop_run_once(-1) < 0) {
			log_error("poll failed");
			rc = 1;
			break;
		}
	}
	if (stop_fd >= 0)
		loop_unwatch(stop_fd);
	mcp_free();
	if (!rc)
		rc = wire_status();
	wire_close();
	return rc;
}
