/*
 * cli_call — `kling-mcp call TOOL [ARGS_JSON] [--json]`: one tool call made
 * through an MCP session, exactly as a client's would be (the same
 * validation, the same code path), then its answer printed: the text blocks
 * on standard output, or with --json the structuredContent as one JSON
 * document. Progress notifications are shown on standard error when it is a
 * terminal.
 */
#ifndef KLING_CLI_CALL_H
#define KLING_CLI_CALL_H

/* Make the call (mcp_init must have been called; args NULL = {}). Returns
 * the exit status: 0 success, 1 the tool answered isError (its text goes to
 * standard error too) or the call could not be made, 2 a usage error
 * (arguments not a JSON object, unknown tool). stop_fd (if >= 0) readable
 * ends the wait (status 1). */
int cli_call_run(const char *tool, const char *args, int json_out, int stop_fd);

#endif
