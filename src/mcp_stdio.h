/*
 * mcp_stdio — the stdio MCP server: one wire (the stdio transport) feeding one
 * mcp session, inside the poll loop, until input ends and every accepted call
 * was answered, or a stop is asked.
 */
#ifndef KLING_MCP_STDIO_H
#define KLING_MCP_STDIO_H

/* Serve MCP on in_fd/out_fd (mcp_init must have been called). Returns when
 * input has ended and every call accepted before was answered (each within
 * its deadline) and written, when output fails (the calls are dropped), or
 * at once when stop_fd (if >= 0) becomes readable (the calls are cancelled,
 * nothing more is written). Returns the exit status: 0, or 1 when output
 * failed or the loop broke. */
int mcp_stdio_run(int in_fd, int out_fd, int stop_fd);

#endif
