/*
 * check — `kling-mcp --check`: diagnose configuration, clock, trust store,
 * name resolution + TLS, and credentials, one line each with OK or FAIL and
 * a hint, on standard output. For people setting the server up by hand, on a
 * router or in a container, before an MCP client hides the details.
 */
#ifndef KLING_CHECK_H
#define KLING_CHECK_H

struct config;

/* Run every check against cfg (http client and kling already initialized).
 * Returns 0 when all passed, else 1 (the exit status). */
int check_run(const struct config *cfg);

#endif
