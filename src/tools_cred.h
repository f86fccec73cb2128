/*
 * tools_cred — whether a tool's request could be sent at all, checked once
 * its arguments are good: the configuration read at start has no error and
 * names some credential (an API key, or the AK/SK pair). The isError text
 * says what to fix and where (the environment the MCP client starts
 * kling-mcp with).
 */
#ifndef TOOLS_CRED_H
#define TOOLS_CRED_H

#include <stddef.h>

struct kling_config;

/* 0, or -1 with the isError text naming the configuration error or the
 * missing credentials in err[cap] (cfg NULL: no configuration given, as in
 * unit tests of the arguments: 0). */
int tools_cred_ready(const struct kling_config *cfg, char *err, size_t cap);

#endif
