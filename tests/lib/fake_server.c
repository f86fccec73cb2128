/*
 * fake_server — the real server core (mcp_stdio_run: wire + mcp + list_tasks)
 * behind the fake list_tasks backend of tests/lib/fake_backend.h, for the
 * protocol and SDK suites (built as build/tools/fake_server). It is a test
 * program, never part of the product binary.
 *
 *   fake_server           self-checks of the fake backend (PASS/FAIL lines,
 *                         run by tests/suites/test_fake_server.sh)
 *   fake_server --serve   an MCP server on stdin/stdout using the fake backend
 *
 * The fake backend's behaviour is chosen by the call's cursor argument (see
 * fake_backend.h); every cancel is reported on stderr.
 */
#include "kling_config.h"
#include "kling.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"
#include "mcp_stdio.h"
#include "t.h"
#include "tool_list_tasks.h"
#include "tools.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "fake_backend.h"

/* SIGTERM/SIGHUP wake the server through a pipe, as in the product's main. */
static int g_stop[2] = {-1, -1};

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	char c = 1;
	ssize_t r = write(g_stop[1], &c, 1);
	(void)r;
	errno = saved;
}

/* Self-checks of the test apparatus (no arguments): named mock-self/, so
 * tests/run.sh counts them with the mock's own checks. */
static int g_got;
static const char *g_err;
static int g_called;
static void catch_done(void *ctx, const struct kling_list_result *r, const char *error)
{
	(void)ctx;
	const char *why;
	g_called = 1;
	g_err = error;
	g_got = r && tool_list_tasks_result_check(r, &why) == 0 ? (int)r->ntasks : -1;
}

/* Start q on the fake: 1 when nothing was answered inside start and the
 * answer then came from the loop. */
static int run_fake(const struct kling_list_query *q)
{
	g_called = 0;
	struct kling_op *op = fake_start(q, 0, catch_done, NULL);
	if (!op || g_called)
		return 0;
	for (int i = 0; i < 10 && !g_called; i++)
		loop_run_once(100);
	return g_called;
}

static int self_check(void)
{
	t_plan(5);
	struct kling_list_query q;
	memset(&q, 0, sizeof q);
	q.page = 1;
	q.page_size = 100;
	g_got = -2;
	T_CHECK("mock-self/fake/a full page is a valid result, never given inside start",
		run_fake(&q) == 1 && g_got == 100);
	q.status = KLING_FAILED;
	q.page_size = 1;
	T_CHECK("mock-self/fake/status filter", run_fake(&q) == 1 && g_got == 1);
	strcpy(q.cursor, "error");
	q.cursor_len = 5;
	g_err = NULL;
	T_CHECK("mock-self/fake/error mode", run_fake(&q) == 1 && g_err != NULL);
	strcpy(q.cursor, "slow");
	q.cursor_len = 4;
	struct kling_op *op = fake_start(&q, 0, catch_done, NULL);
	T_CHECK("mock-self/fake/slow mode returns an op", op != NULL && fake_running == 1);
	fflush(stdout);
	int saved = dup(2);
	int devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	fake_cancel(op);
	dup2(saved, 2);
	close(devnull);
	close(saved);
	T_CHECK("mock-self/fake/cancel frees it", fake_running == 0);
	return t_done();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return self_check();
	if (strcmp(argv[1], "--serve") != 0) {
		fprintf(stderr, "usage: %s [--serve]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(g_stop, O_CLOEXEC | O_NONBLOCK) == 0) {
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
	}
	struct kling_config cfg;
	kling_config_load(&cfg);
	log_set_level(cfg.log_level);
	fake_verbose = 1;
	kling_list_use_backend(&fake_backend);
	int rc = 1;
	kling_init(&cfg);
	static struct mcp_settings set;
	set = (struct mcp_settings){cfg.timeout_ms, cfg.task_key, {cfg.api_key ? cfg.api_key : cfg.access_key, NULL}};
	if (mcp_init(&set, &kling_tools) == 0) {
		rc = mcp_stdio_run(0, 1, g_stop[0]);
		mcp_free();
	}
	kling_config_wipe(&cfg);
	return rc;
}
