/* cli_call — see cli_call.h. */
#include "cli_call.h"

#include "json.h"
#include "all_limits.h"
#include "log.h"
#include "loop.h"
#include "mcp.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALL_ID 2 /* the tools/call request's id; 1 is initialize's */

struct cli {
	int json_out;
	int answered;
	int rc;
	int stop;
	struct json_doc doc; /* for reading the answer */
};

/* Write all of buf to fd (retrying on EINTR and short writes). On failure,
 * says on stderr that the result could not be written, and why (once). */
static int write_all(int fd, const char *buf, size_t len)
{
	static int told;
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (fd == 1 && !told++)
				fprintf(stderr, "kling-mcp: the result could not be written to stdout: %s\n",
					n < 0 ? strerror(errno) : "nothing was written");
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The text blocks of result res, unescaped, each followed by a newline, to
 * fd. Returns 0, or -1 when memory is short or a write failed. */
static int print_texts(const struct json_doc *d, int res, int fd)
{
	int content = json_get(d, res, "content");
	for (int c = json_first(d, content); c >= 0; c = json_next(d, c)) {
		if (!json_streq(d, json_get(d, c, "type"), "text"))
			continue;
		int t = json_get(d, c, "text");
		size_t cap = json_strlen(d, t) + 2, len = 0;
		char *s = malloc(cap);
		if (!s || json_unescape(d, t, s, cap, &len) != 0) {
			free(s);
			return -1;
		}
		s[len++] = '\n';
		int rc = write_all(fd, s, len);
		free(s);
		if (rc)
			return -1;
	}
	return 0;
}

/* A progress notification: its message on stderr (a person is watching). */
static void show_progress(const struct json_doc *d)
{
	char msg[256];
	json_unescape_prefix(d, json_get(d, json_get(d, 0, "params"), "message"), msg, sizeof msg);
	if (msg[0])
		fprintf(stderr, "kling-mcp: %s\n", msg);
}

/* What the session sends: initialize's answer (ignored), progress, and the
 * call's answer, which decides the exit status. */
static int sink_send(void *ctx, void *tag, const char *msg, size_t len, int code)
{
	struct cli *c = ctx;
	struct json_doc *d = &c->doc;
	(void)tag, (void)code;
	if (json_parse(d, msg, len) != 0) {
		fprintf(stderr, "kling-mcp: internal error: an answer that is not JSON\n");
		c->rc = 1, c->answered = 1;
		return 0;
	}
	if (json_streq(d, json_get(d, 0, "method"), "notifications/progress")) {
		show_progress(d);
		return 0;
	}
	int64_t id = 0;
	if (json_int(d, json_get(d, 0, "id"), &id) != 0 || id != CALL_ID)
		return 0;
	c->answered = 1;
	int err = json_get(d, 0, "error");
	if (err >= 0) { /* unknown tool, arguments not an object: a usage error */
		char m[512];
		json_unescape_prefix(d, json_get(d, err, "message"), m, sizeof m);
		fprintf(stderr, "kling-mcp: %s\n", m);
		c->rc = 2;
		return 0;
	}
	int res = json_get(d, 0, "result");
	if (json_type(d, json_get(d, res, "isError")) == JSON_TRUE) {
		print_texts(d, res, 1);
		print_texts(d, res, 2);
		c->rc = 1;
		return 0;
	}
	int rc = 0;
	if (c->json_out) {
		size_t n = 0;
		const char *raw = json_raw(d, json_get(d, res, "structuredContent"), &n);
		rc = raw ? write_all(1, raw, n) || write_all(1, "\n", 1) : -1;
		if (!raw)
			fprintf(stderr, "kling-mcp: the tool gave no structuredContent\n");
	} else {
		rc = print_texts(d, res, 1);
	}
	c->rc = rc ? 1 : 0;
	return 0;
}

static void on_stop(void *arg, int fd, short revents)
{
	struct cli *c = arg;
	(void)revents;
	loop_unwatch(fd);
	c->stop = 1;
}

static const struct mcp_sink g_sink = {sink_send, NULL};

/* The request text: tools/call of tool with args (a JSON object, already
 * checked) — the tool name escaped by the writer, args copied verbatim. */
static int build_call(struct json_w *w, const char *tool, const char *args, size_t args_len, int progress)
{
	json_w_obj(w);
	json_w_key(w, "jsonrpc");
	json_w_cstr(w, "2.0");
	json_w_key(w, "id");
	json_w_int(w, CALL_ID);
	json_w_key(w, "method");
	json_w_cstr(w, "tools/call");
	json_w_key(w, "params");
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, tool);
	json_w_key(w, "arguments");
	json_w_raw(w, args, args_len);
	if (progress) {
		json_w_key(w, "_meta");
		json_w_obj(w);
		json_w_key(w, "progressToken");
		json_w_cstr(w, "cli");
		json_w_obj_end(w);
	}
	json_w_obj_end(w);
	json_w_obj_end(w);
	return json_w_error(w) ? -1 : 0;
}

int cli_call_run(const char *tool, const char *args, int json_out, int stop_fd)
{
	static const char init[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
				   "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
				   "\"clientInfo\":{\"name\":\"kling-mcp call\",\"version\":\"" KLING_VERSION "\"}}}";
	static const char initialized[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
	struct cli c = {.json_out = json_out, .rc = 1};
	if (!args)
		args = "{}";
	size_t args_len = strlen(args);
	if (json_doc_init(&c.doc, LIMIT_JSON_TOKENS) != 0) {
		fprintf(stderr, "kling-mcp: out of memory\n");
		return 1;
	}
	int rc = json_parse(&c.doc, args, args_len);
	if (rc != 0 || json_type(&c.doc, 0) != JSON_OBJECT) {
		fprintf(stderr, "kling-mcp: the arguments must be a JSON object, like '{\"status\":\"failed\"}'%s%s\n",
			rc ? ": " : "", rc ? json_strerror(rc) : "");
		json_doc_free(&c.doc);
		return 2;
	}
	struct json_w w;
	json_w_init(&w, LIMIT_LINE_BYTES);
	struct mcp_session *s = NULL;
	if (build_call(&w, tool, args, args_len, isatty(2)) != 0) {
		fprintf(stderr, "kling-mcp: the arguments are too long\n");
		c.rc = 2;
		goto exit;
	}
	s = mcp_session_new(&g_sink, &c);
	if (!s) {
		fprintf(stderr, "kling-mcp: out of memory\n");
		goto exit;
	}
	size_t len = 0;
	const char *req = json_w_data(&w, &len);
	mcp_session_input(s, init, sizeof init - 1, NULL);
	mcp_session_input(s, initialized, sizeof initialized - 1, NULL);
	mcp_session_input(s, req, len, NULL);
	if (stop_fd >= 0)
		loop_watch(stop_fd, POLLIN, on_stop, &c);
	while (!c.answered && !c.stop) {
		if (!loop_pending()) {
			fprintf(stderr, "kling-mcp: internal error: the call has nothing to wait for\n");
			break;
		}
		if (loop_run_once(-1) < 0) {
			fprintf(stderr, "kling-mcp: poll failed\n");
			break;
		}
	}
	if (stop_fd >= 0)
		loop_unwatch(stop_fd);
	if (c.stop)
		fprintf(stderr, "kling-mcp: stopped by a signal\n");
exit:
	mcp_session_free(s);
	json_w_free(&w);
	json_doc_free(&c.doc);
	return c.answered ? c.rc : 1;
}
