/*
 * main — arguments, environment, signals, the loop; the only exit().
 * With no argument kling-mcp serves MCP over stdio until standard input ends.
 */
#include "ca_bundle.h"
#include "config.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mbedtls/version.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static void print_version(void)
{
	char mbed[64];
	mbedtls_version_get_string_full(mbed);
	printf("kling-mcp %s\n%s\ntarget %s\n", KLING_VERSION, mbed, KLING_TARGET);
	if (kling_ca_der_len)
		printf("embedded CA bundle: %u certificates, %lu bytes DER\n", kling_ca_count, kling_ca_der_len);
	else
		printf("embedded CA bundle: none (built with EMBED_CA=0)\n");
}

static void setup_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL); /* a closed stdout or socket is an error return, not a death */
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Until the MCP layer lands: read standard input to its end. */
static void drain_stdin(void *arg, int fd, short revents)
{
	(void)revents;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		loop_unwatch(fd);
		*(int *)arg = 1;
	}
}

static int serve(const struct config *cfg)
{
	(void)cfg;
	int eof = 0;
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	loop_watch(0, POLLIN, drain_stdin, &eof);
	while (!eof && !g_stop)
		if (loop_run_once(-1) < 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--help") && strcmp(argv[1], "--version") &&
			 strcmp(argv[1], "--check"))) {
		fprintf(stderr, "kling-mcp: unknown argument \"%s\"\n%s", argv[argc - 1], config_help());
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(config_help(), stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return 0;
	}
	setup_signals();
	struct config cfg;
	config_load(&cfg);
	log_set_level(cfg.log_level);
	log_add_secret(cfg.api_key);
	log_add_secret(cfg.secret_key);
	if (cfg.error[0])
		log_warn("configuration: %s", cfg.error);
	int rc;
	if (argc == 2) { /* --check */
		fprintf(stderr, "kling-mcp: --check is not available in this build yet\n");
		rc = 1;
	} else {
		rc = serve(&cfg);
	}
	log_clear_secrets();
	config_wipe(&cfg);
	exit(rc);
}
