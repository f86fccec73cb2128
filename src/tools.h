/*
 * tools — the registry of every tool this server offers, in tools/list
 * order, with the server's instructions. Adding a tool is one line in
 * tools.c (and its module); the MCP core is handed this registry and names
 * no tool itself.
 */
#ifndef KLING_TOOLS_H
#define KLING_TOOLS_H

#include "mcp_tool.h"

extern const struct tool_registry kling_tools;

#endif
