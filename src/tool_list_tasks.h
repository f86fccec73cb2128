/*
 * tool_list_tasks — the `list_tasks` tool (names prefixed lt_): its
 * definition, argument validation (a table for tools_args), and the
 * renderer of a result (text block + structuredContent). The task model and
 * the backend it calls live in the Kling layer (kling_task.h).
 *
 * Flow of one call: lt_tool.prepare validates the arguments into a struct
 * kling_list_query (a bad value is an isError result naming the argument; no request
 * leaves the process), then checks the configuration (config.error, then
 * missing credentials, each an isError). lt_tool.start hands the query to
 * the installed backend; the backend's done callback delivers either a
 * normalized struct kling_list_result, which is checked and rendered, or an error
 * text, which becomes the isError answer.
 */
#ifndef KLING_TOOL_LIST_TASKS_H
#define KLING_TOOL_LIST_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "kling_task.h"
#include "mcp_tool.h"

/* The tool, for the registry in mcp.c. */
extern const struct mcp_tool lt_tool;

/* ---- rendering (used by the tool; exposed for tests) ---- */

/* 0 when r can be rendered; else -1 and *why names the broken field (a
 * backend bug: empty task_id, status out of range, unknown backend name...). */
int tool_list_tasks_result_check(const struct kling_list_result *r, const char **why);

/* Write the members of a tools/call result for r into the open result object
 * of w: "content" (one text block in the seed's layout) and, when structured
 * is set (protocol 2025-06-18 and later), "structuredContent" matching the
 * tool's outputSchema. r must pass tool_list_tasks_result_check. */
void tool_list_tasks_render(struct json_w *w, const struct kling_list_result *r, int structured);

/* The tool's inputSchema and outputSchema (JSON text, static). */
extern const char lt_input_schema[];
extern const char lt_output_schema[];

#endif
