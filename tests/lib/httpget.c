/*
 * httpget — the HTTP client (http_client.h) from the command line, for the test
 * suites and for measuring. Reads the environment like kling-mcp does
 * (KLING_CA_FILE, SSL_CERT_FILE, HTTPS_PROXY, NO_PROXY, KLING_LOG_LEVEL).
 *
 * usage: httpget [options] HOST PORT PATH...
 *   -X METHOD  GET (default) or POST       -d BODY  request body
 *   -a VALUE   Authorization value         -t MS    deadline of each request (5000)
 *   -n N       run the list N times        -p       run the list's requests at once
 *   -w MS      pause between rounds, turning the loop (idle connections watched)
 *   -c MS      cancel each request after MS; reports CANCELLED (done must not run)
 *   -b         print each body              -s       use http_client_run() (synchronous)
 *   -x         the first done callback cancels its own op and shuts the
 *              client down (both must be harmless there); later requests
 *              must then be refused
 * One line per request:
 *   REQ i STATUS s LEN n REUSED r RETRY s CT type SUM fnv1a US microseconds
 *   REQ i ERROR message US microseconds
 * then "CPU_US n" (user+system time of the whole run), "VmHWM_KB n" and
 * "VmRSS_KB n" (peak and current resident memory, from /proc), and in
 * ASan builds "HEAP when bytes" (heap in use at start, after the requests
 * with idle connections pooled, after http_client_shutdown). Exit 0 unless
 * usage.
 */
#include "kling_config.h"
#include "http_client.h"
#include "log.h"
#include "loop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/allocator_interface.h>
#define HAVE_HEAP_STATS 1
#endif
#endif

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct job {
	int index;
	int64_t start_us;
	int finished;
	struct http_op *op;
	struct loop_timer cancel;
};

static int g_print_body, g_outstanding, g_shutdown_in_done;

static void done(void *ctx, const struct http_response *resp, const char *error)
{
	struct job *j = ctx;
	long long us = (long long)(now_us() - j->start_us);
	if (j->finished++)
		printf("REQ %d DONE-TWICE\n", j->index);
	loop_timer_clear(&j->cancel);
	g_outstanding--;
	if (error) {
		printf("REQ %d ERROR %s US %lld\n", j->index, error, us);
	} else {
		uint32_t h = 2166136261u;
		for (size_t i = 0; i < resp->body_len; i++)
			h = (h ^ (unsigned char)resp->body[i]) * 16777619u;
		printf("REQ %d STATUS %d LEN %zu REUSED %d RETRY %d CT %s SUM %08x US %lld\n", j->index, resp->status,
		       resp->body_len, resp->reused, resp->retry_after_s, resp->content_type[0] ? resp->content_type : "-",
		       h, us);
		if (resp->body[resp->body_len] != 0)
			printf("REQ %d BODY-NOT-NUL-TERMINATED\n", j->index);
		if (g_print_body)
			printf("BODY %.*s\n", (int)resp->body_len, resp->body);
	}
	if (g_shutdown_in_done) {
		g_shutdown_in_done = 0;
		http_client_cancel(j->op);
		http_client_shutdown();
		printf("REQ %d SHUTDOWN-IN-DONE\n", j->index);
	}
	fflush(stdout);
}

static void on_cancel(void *arg)
{
	struct job *j = arg;
	http_client_cancel(j->op);
	g_outstanding--;
	printf("REQ %d CANCELLED US %lld\n", j->index, (long long)(now_us() - j->start_us));
	fflush(stdout);
}

static void heap(const char *when)
{
#ifdef HAVE_HEAP_STATS
	printf("HEAP %s %zu\n", when, __sanitizer_get_current_allocated_bytes());
#else
	(void)when;
#endif
}

static void pause_ms(int ms)
{
	int64_t until = loop_now_ms() + ms;
	while (loop_now_ms() < until)
		loop_run_once((int)(until - loop_now_ms()));
}

int main(int argc, char **argv)
{
	struct http_request req = {.method = "GET"};
	int timeout = 5000, rounds = 1, parallel = 0, wait_ms = 0, cancel_ms = -1, sync = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "-p")) {
			parallel = 1;
		} else if (!strcmp(o, "-s")) {
			sync = 1;
		} else if (!strcmp(o, "-x")) {
			g_shutdown_in_done = 1;
		} else if (!strcmp(o, "-b")) {
			g_print_body = 1;
		} else if (!v) {
			goto usage;
		} else {
			i++;
			if (!strcmp(o, "-X"))
				req.method = v;
			else if (!strcmp(o, "-d"))
				req.body = v, req.body_len = strlen(v);
			else if (!strcmp(o, "-a"))
				req.authorization = v;
			else if (!strcmp(o, "-t"))
				timeout = (int)strtol(v, NULL, 10);
			else if (!strcmp(o, "-n"))
				rounds = (int)strtol(v, NULL, 10);
			else if (!strcmp(o, "-w"))
				wait_ms = (int)strtol(v, NULL, 10);
			else if (!strcmp(o, "-c"))
				cancel_ms = (int)strtol(v, NULL, 10);
			else
				goto usage;
		}
	}
	if (argc - i < 3)
		goto usage;
	req.host = argv[i];
	req.port = (unsigned short)strtol(argv[i + 1], NULL, 10);
	char **paths = argv + i + 2;
	int npaths = argc - i - 2;

	static char outbuf[1 << 16]; /* static, so the heap figures do not count it */
	setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);
	signal(SIGPIPE, SIG_IGN);
	struct kling_config cfg;
	kling_config_load(&cfg);
	log_set_level(cfg.log_level);
	if (http_client_init(cfg.ca_file, cfg.https_proxy, cfg.no_proxy) != 0)
		printf("INIT-ERROR\n");
	heap("start");

	int total = rounds * npaths, k = 0;
	struct job *jobs = calloc((size_t)total, sizeof *jobs);
	for (int r = 0; r < rounds; r++) {
		if (r && wait_ms > 0)
			pause_ms(wait_ms);
		for (int p = 0; p < npaths; p++) {
			struct job *j = &jobs[k];
			j->index = k++;
			req.path = paths[p];
			j->start_us = now_us();
			g_outstanding++;
			if (sync) {
				if (http_client_run(&req, loop_now_ms() + timeout, done, j) != 0)
					printf("REQ %d RUN-FAILED\n", j->index);
				continue;
			}
			j->op = http_client_start(&req, loop_now_ms() + timeout, done, j);
			if (!j->op) {
				printf("REQ %d START-FAILED\n", j->index);
				g_outstanding--;
				continue;
			}
			if (cancel_ms >= 0)
				loop_timer_set(&j->cancel, loop_now_ms() + cancel_ms, on_cancel, j);
			if (!parallel)
				while (g_outstanding > 0)
					loop_run_once(-1);
		}
		while (g_outstanding > 0)
			loop_run_once(-1);
	}
	if (cancel_ms >= 0) /* a cancelled request must stay silent: give it time */
		pause_ms(200);
	heap("after-requests");
	http_client_shutdown();
	heap("after-shutdown");
	printf("PENDING-AFTER-SHUTDOWN %d\n", loop_pending());
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("CPU_US %lld\n",
	       (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	FILE *st = fopen("/proc/self/status", "r"); /* absent in an empty chroot */
	char line[128];
	while (st && fgets(line, sizeof line, st))
		if (!strncmp(line, "VmHWM:", 6) || !strncmp(line, "VmRSS:", 6))
			printf("%.5s_KB %ld\n", line, strtol(line + 6, NULL, 10));
	if (st)
		fclose(st);
	free(jobs);
	kling_config_wipe(&cfg);
	return 0;
usage:
	fprintf(stderr, "usage: httpget [-X M] [-d BODY] [-a AUTH] [-t MS] [-n N] [-p] [-w MS] [-c MS] [-b] [-s] [-x] "
			"HOST PORT PATH...\n");
	return 2;
}
