/*
 * cli_check — `kling-mcp --check`: diagnose configuration, clock, trust store,
 * name resolution + TLS, and credentials, one line each with OK or FAIL and
 * a hint, on standard output. For people setting the server up by hand, on a
 * router or in a container, before an MCP client hides the details.
 */
#ifndef KLING_CLI_CHECK_H
#define KLING_CLI_CHECK_H

struct kling_config;

/* Run every check against cfg (http client and kling already initialized).
 * Returns 0 when all passed, else 1 (the exit status). */
int cli_check_run(const struct kling_config *cfg);

#endif
