/* cli_check — see cli_check.h. */
#include "cli_check.h"

#include "kling_config.h"
#include "http_client.h"
#include "iso8601.h"
#include "kling.h"
#include "kling_list.h"
#include "loop.h"
#include "text.h"
#include "tls_store.h"
#include "mcp_http_check.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Before this the clock is surely wrong: certificates would seem not yet
 * valid and tokens not yet usable (2025-01-01T00:00:00Z). */
#define CHECK_SANE_CLOCK_S 1735689600

static int g_failed;

/* One result; detail (which may quote the service) gets text.h's rule. */
static void line(int ok, const char *what, const char *detail, const char *hint)
{
	char safe[1200 * TEXT_REP_MAX];
	text_clean(detail, strlen(detail), safe, sizeof safe);
	printf("[%s] %-13s %s\n", ok ? " OK " : "FAIL", what, safe);
	if (!ok && hint && *hint)
		printf("       %-13s hint: %s\n", "", hint);
	g_failed |= !ok;
}

/* "abcd... (40 bytes)": enough to tell keys apart, not enough to use one. */
static const char *masked(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	if (n >= 12)
		snprintf(out, cap, "%.4s... (%zu bytes)", s, n);
	else
		snprintf(out, cap, "(%zu bytes)", n);
	return out;
}

static void check_config(const struct kling_config *c)
{
	char buf[768], a[64], b[64];
	int n = snprintf(buf, sizeof buf, "https://%s%s%s:%u%s, backend %s%s", strchr(c->host, ':') ? "[" : "", c->host,
			 strchr(c->host, ':') ? "]" : "", c->port, c->base_path,
			 kling_task_api_name(kling_config_effective_backend(c)), c->backend == KLING_API_AUTO ? " (auto)" : "");
	if (c->api_key)
		snprintf(buf + n, sizeof buf - (size_t)n, ", KLING_API_KEY %s", masked(c->api_key, a, sizeof a));
	else if (c->access_key && c->secret_key)
		snprintf(buf + n, sizeof buf - (size_t)n, ", KLING_ACCESS_KEY %s, KLING_SECRET_KEY %s",
			 masked(c->access_key, a, sizeof a), masked(c->secret_key, b, sizeof b));
	if (c->error[0]) {
		line(0, "configuration", c->error, "see kling-mcp --help");
		return;
	}
	if (!kling_config_has_credentials(c)) {
		line(0, "configuration", buf, "no credentials: set KLING_API_KEY, or KLING_ACCESS_KEY and KLING_SECRET_KEY");
		return;
	}
	line(1, "configuration", buf, NULL);
}

/* Only with --listen/KLING_MCP_LISTEN: the address parses, and off loopback
 * a token is set (else the listener refuses to start). */
static void check_listener(const struct kling_config *c)
{
	struct mcp_http_check_addr a;
	const char *why = NULL;
	char buf[256], t[64];
	if (!c->listen)
		return;
	if (mcp_http_check_listen_parse(c->listen, &a, &why) < 0) {
		snprintf(buf, sizeof buf, "KLING_MCP_LISTEN \"%.60s\": %s", c->listen, why);
		line(0, "listener", buf, "[ADDR:]PORT, e.g. 8080, 127.0.0.1:8080 or [::]:8080");
		return;
	}
	snprintf(buf, sizeof buf, "http://%s:%u/mcp, %s%s", a.host, a.port,
		 c->mcp_token ? "KLING_MCP_TOKEN " : a.loopback ? "loopback, no token" : "no token",
		 c->mcp_token ? masked(c->mcp_token, t, sizeof t) : "");
	line(a.loopback || c->mcp_token, "listener", buf,
	     "not loopback: set KLING_MCP_TOKEN (or KLING_MCP_TOKEN_FILE), or the listener will not start");
}

static void check_clock(void)
{
	time_t now = time(NULL);
	char iso[ISO8601_LEN + 1] = "?";
	iso8601_format((int64_t)now * 1000, iso);
	char buf[128];
	snprintf(buf, sizeof buf, "%s (UTC)", iso);
	line(now >= CHECK_SANE_CLOCK_S, "clock", buf,
	     "the clock is before 2025: certificates and tokens will be refused; set it (NTP) first");
}

static void check_store(void)
{
	char err[512];
	if (tls_store_load(err, sizeof err) == 0)
		line(1, "trust store", tls_store_source(), NULL);
	else
		line(0, "trust store", err, "set KLING_CA_FILE to a PEM bundle, or build with the embedded bundle");
}

struct wait {
	int done, status;
	char text[1024];
	size_t ntasks;
	const char *backend;
};

static void on_http(void *ctx, const struct http_response *resp, const char *error)
{
	struct wait *w = ctx;
	w->done = 1;
	if (error)
		snprintf(w->text, sizeof w->text, "%s", error);
	else
		w->status = resp->status;
}

static void check_connection(const struct kling_config *c)
{
	struct wait w = {0};
	char path[CONFIG_PATH_MAX + 2];
	snprintf(path, sizeof path, "%s/", c->base_path);
	struct http_request req = {.method = "GET", .host = c->host, .port = c->port, .path = path};
	int64_t t0 = loop_now_ms();
	if (http_client_run(&req, t0 + c->timeout_ms, on_http, &w) != 0 || !w.done) {
		line(0, "connection", "could not run the request", NULL);
		return;
	}
	if (w.status) {
		char buf[1200];
		snprintf(buf, sizeof buf, "name resolved, TCP and TLS to %s:%u verified (HTTP %d in %lld ms)", c->host,
			 c->port, w.status, (long long)(loop_now_ms() - t0));
		line(1, "connection", buf, NULL);
	} else {
		line(0, "connection", w.text,
		     "check the network, KLING_BASE_URL/KLING_REGION, HTTPS_PROXY, and the trust store above");
	}
}

static void on_list(void *ctx, const struct kling_list_result *r, const char *error)
{
	struct wait *w = ctx;
	w->done = 1;
	if (error) {
		snprintf(w->text, sizeof w->text, "%s", error);
	} else {
		w->status = 1;
		w->ntasks = r->ntasks;
		w->backend = kling_task_api_name(r->backend);
	}
}

static void check_credentials(const struct kling_config *c)
{
	if (!kling_config_has_credentials(c) || c->error[0]) {
		line(0, "credentials", "not tried: fix the configuration first", NULL);
		return;
	}
	struct kling_list_query q = {.page = 1, .page_size = 1, .start_ms = -1, .end_ms = -1};
	struct wait w = {0};
	struct kling_op *op = kling_list_backend_get()->list_start(&q, loop_now_ms() + c->timeout_ms, on_list, &w);
	while (op && !w.done)
		if (loop_run_once(-1) < 0)
			break;
	if (w.status) {
		char buf[1200];
		snprintf(buf, sizeof buf, "list_tasks of one task answered (%zu task%s, backend %s)", w.ntasks,
			 w.ntasks == 1 ? "" : "s", w.backend);
		line(1, "credentials", buf, NULL);
		if (kling_config_effective_backend(c) == KLING_API_LEGACY)
			printf("       %-13s note: %s\n", "", KLING_LEGACY_3_0_NOTE);
	} else {
		line(0, "credentials", w.done ? w.text : "the call did not finish", NULL);
	}
}

int cli_check_run(const struct kling_config *cfg)
{
	printf("kling-mcp %s --check\n", KLING_VERSION);
	check_config(cfg);
	check_listener(cfg);
	check_clock();
	check_store();
	check_connection(cfg);
	check_credentials(cfg);
	printf("%s\n", g_failed ? "Some checks failed." : "All checks passed.");
	return g_failed ? 1 : 0;
}
