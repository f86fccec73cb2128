/*
 * cli_probe — `kling-mcp --probe URL`: one HTTP GET, exit 0 when the answer is
 * 2xx, else 1 with a short reason on stderr. For the health checks of a
 * service manager or a FROM scratch image, which has no shell and no curl:
 * HEALTHCHECK CMD ["/kling-mcp", "--probe", "http://127.0.0.1:8080/health"].
 * Plain http:// only (it probes the listener on loopback, never the Kling
 * API), blocking (nothing else runs in this mode), bounded by
 * PROBE_TIMEOUT_MS per step.
 */
#ifndef KLING_CLI_PROBE_H
#define KLING_CLI_PROBE_H

/* Returns the exit status: 0 for a 2xx answer, 1 for anything else. */
int cli_probe_run(const char *url);

#endif
