/*
 * server — the stdio MCP server: the wire (standard input/output) feeding
 * the mcp core, inside the poll loop, until input ends or a stop is asked.
 */
#ifndef KLING_SERVER_H
#define KLING_SERVER_H

struct config;

/* Serve MCP on fds 0 and 1 until standard input ends (then finish writing
 * and return; calls still running are dropped), output fails, or stop_fd
 * (when >= 0) becomes readable (then return at once). cfg must stay valid.
 * Returns the exit status: 0, or 1 when output failed or the loop broke. */
int server_run(const struct config *cfg, int stop_fd);

#endif
