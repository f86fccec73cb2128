/*
 * main — arguments, environment, signals, process hardening; the only
 * exit(). The server (wire + mcp session on the poll loop) is in mcp_stdio.c;
 * the tools it offers are named in tools.c.
 * With no argument kling-mcp serves MCP over stdio until standard input ends;
 * `call TOOL ...` makes one tool call through an MCP session (cli_call.c).
 */
#include "ca_bundle.h"
#include "cli_call.h"
#include "kling_config.h"
#include "log.h"
#include "cli_check.h"
#include "http_client.h"
#include "kling.h"
#include "kling_get.h"
#include "kling_list.h"
#include "mcp.h"
#include "cli_probe.h"
#include "net_proxy.h"
#include "mcp_stdio.h"
#include "tools.h"
#include "mcp_http.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mbedtls/version.h"

/* SIGTERM/SIGINT/SIGHUP write a byte here; the server watches the read end, so a
 * signal that lands just before poll() still wakes it (no race). */
static int g_stop_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	if (g_stop_pipe[1] >= 0) {
		char c = 1;
		ssize_t r = write(g_stop_pipe[1], &c, 1);
		(void)r; /* a full pipe already holds a wake-up */
	}
	errno = saved;
}

static void print_version(void)
{
	char mbed[64];
	mbedtls_version_get_string_full(mbed);
	printf("kling-mcp %s\n%s\ntarget %s\n", KLING_VERSION, mbed, KLING_TARGET);
	if (kling_ca_der_len)
		printf("embedded CA bundle: %u roots, %lu bytes of compact trust anchors\n", kling_ca_count, kling_ca_der_len);
	else
		printf("embedded CA bundle: none (built with EMBED_CA=0)\n");
}

static void setup_signals(void)
{
	if (pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		g_stop_pipe[0] = g_stop_pipe[1] = -1; /* then a signal ends the process the default way */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* a closed stdout or socket is an error return, not a death */
	if (g_stop_pipe[1] < 0)
		return; /* without the pipe the default action (ending the process) is the prompt exit */
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal: stop cleanly, restoring stdin/stdout's flags */
}

/* The keys live in this process's memory: no core file may carry them, and
 * no other process of the same user may read that memory (ptrace, /proc/PID/mem). */
static void harden_process(void)
{
	struct rlimit none = {0, 0};
	/* prlimit, not setrlimit: musl's setrlimit synchronizes every thread
	 * (1.4 KB of code for threads this process never has) */
	if (prlimit(0, RLIMIT_CORE, &none, NULL) < 0)
		log_warn("cannot switch core dumps off (%s)", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot mark the process not dumpable (%s)", strerror(errno));
}

/* `call TOOL [ARGS_JSON] [--json]`: 0, or -1 after printing the usage error. */
static int parse_call(int argc, char **argv, const char **tool, const char **args, int *json_out)
{
	static const char usage[] = "usage: kling-mcp call TOOL [ARGS_JSON] [--json]\n";
	if (argc < 3 || argv[2][0] == '-' || !argv[2][0]) {
		fprintf(stderr, "kling-mcp: call needs a tool name (list_tasks, get_task)\n%s", usage);
		return -1;
	}
	*tool = argv[2];
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && !*json_out) {
			*json_out = 1;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "kling-mcp: call: unknown option \"%s\"\n%s", argv[i], usage);
			return -1;
		} else if (!*args) {
			*args = argv[i];
		} else {
			fprintf(stderr, "kling-mcp: call: one argument too many: \"%s\"\n%s", argv[i], usage);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *call_tool = NULL, *call_args = NULL, *listen = NULL;
	int call_json = 0;
	if (argc == 3 && strcmp(argv[1], "--probe") == 0)
		return cli_probe_run(argv[2]); /* before any configuration: it reads none */
	if (argc >= 2 && strcmp(argv[1], "call") == 0) {
		if (parse_call(argc, argv, &call_tool, &call_args, &call_json) < 0)
			return 2;
	} else if (argc == 3 && strcmp(argv[1], "--listen") == 0) {
		listen = argv[2];
		argc = 1;
	} else if (argc == 2 && strncmp(argv[1], "--listen=", 9) == 0) {
		listen = argv[1] + 9;
		argc = 1;
	}
	if (!call_tool && (argc > 2 || (argc == 2 && strcmp(argv[1], "--help") != 0 &&
					strcmp(argv[1], "--version") != 0 && strcmp(argv[1], "--check") != 0))) {
		fprintf(stderr, "kling-mcp: unknown argument \"%s\"\n%s", argv[argc - 1], kling_config_help());
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(kling_config_help(), stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return 0;
	}
	harden_process();
	setup_signals();
	struct kling_config cfg;
	kling_config_load(&cfg);
	kling_config_wipe_environment();
	log_set_level(cfg.log_level);
	log_add_secret(cfg.api_key);
	log_add_secret(cfg.secret_key);
	log_add_secret(cfg.mcp_token);
	static char proxy_pass[256]; /* decoded, as a proxy's page might echo it */
	if (cfg.https_proxy && net_proxy_password(cfg.https_proxy, proxy_pass, sizeof proxy_pass))
		log_add_secret(proxy_pass);
	log_add_secret(cfg.task_key);
	if (listen)
		cfg.listen = listen;
	if (cfg.error[0])
		log_warn("configuration: %s", cfg.error);
	const char *token_file = getenv("KLING_MCP_TOKEN_FILE");
	if (cfg.listen && !cfg.mcp_token && token_file && *token_file && argc != 2) {
		/* a token was meant but not read: never serve without it */
		log_error("--listen: no token from KLING_MCP_TOKEN_FILE (%s): not starting", cfg.error);
		kling_config_wipe(&cfg);
		return 2;
	}
	/* a bad HTTPS_PROXY is logged here and named by every call */
	http_client_init(cfg.ca_file, cfg.https_proxy, cfg.no_proxy);
	kling_init(&cfg);
	/* the MCP core's values: the call timeout, and what tasks are bound to */
	static struct mcp_settings mset;
	mset.timeout_ms = cfg.timeout_ms;
	mset.task_key = cfg.task_key;
	mset.owner[0] = cfg.api_key ? cfg.api_key : cfg.access_key;
	mset.owner[1] = cfg.mcp_token;
	int rc;
	if (argc == 2 && !call_tool) {
		rc = cli_check_run(&cfg);
	} else if (mcp_init(&mset, &kling_tools) < 0) {
		log_error("out of memory at start");
		rc = 1;
	} else {
		rc = call_tool	 ? cli_call_run(call_tool, call_args, call_json, g_stop_pipe[0])
		     : cfg.listen ? mcp_http_run(&cfg, g_stop_pipe[0])
				  : mcp_stdio_run(0, 1, g_stop_pipe[0]);
		mcp_free();
	}
	kling_get_shutdown();
	kling_list_shutdown();
	kling_shutdown();
	http_client_shutdown();
	log_clear_secrets();
	explicit_bzero(proxy_pass, sizeof proxy_pass);
	kling_config_wipe(&cfg);
	exit(rc);
}
