/*
 * tool_get_task — the `get_task` tool (names prefixed gt_): one task by
 * task_id or external_task_id, optionally waiting for it to finish.
 *
 * Flow of one call: prepare checks the arguments through the shared
 * validator (exactly one of task_id/external_task_id; wait_seconds 0..300)
 * and the configuration (credentials; the seed endpoint has no look-up), so
 * a refusal sends nothing. start asks the backend (kling_list_backend_get()) for
 * the task; each answer sends notifications/progress when the request
 * carried a progressToken; while the task is neither succeed nor failed and
 * the wait is not over, the next look-up follows after a pause that grows
 * from GT_BACKOFF_FIRST_MS by half each time up to GT_BACKOFF_MAX_MS, the
 * last one exactly at the wait's end. The call may take the wait plus
 * KLING_TIMEOUT_MS (the tool's wait_ms hook extends the core's deadline).
 * Between look-ups the call sleeps in the core's wait pool (mcp_call_sleep)
 * holding no running slot, keeping a copy of the task as last seen; the
 * core resumes it for the next look-up, or to answer at once with that task
 * (finished false, saying why) when the server stops or the pool is full.
 * Each look-up gets KLING_TIMEOUT_MS, never past the call's deadline; one
 * that fails or hangs after an earlier one answered is counted and the wait
 * goes on; an error only when no look-up ever answered. Cancellation drops
 * the pause or the look-up in flight at once.
 *
 * Result: text (the task as list_tasks prints it, and whether it finished),
 * one resource_link per result URL (protocol 2025-06-18 and later: the
 * content type is not known before), and structuredContent
 * {backend, task, finished, waited_ms} (and failed_lookups when some failed).
 */
#ifndef KLING_TOOL_GET_TASK_H
#define KLING_TOOL_GET_TASK_H

#include <stddef.h>

#include "json.h"
#include "all_limits.h"
#include "kling_task.h"
#include "mcp_tool.h"

extern const struct mcp_tool gt_tool;

#define GT_STR_(x) #x
#define GT_STR(x) GT_STR_(x)
#define GT_ID_MAX KLING_TASK_ID_MAX /* bytes of task_id or external_task_id */
#define GT_ID_MAX_STR GT_STR(KLING_TASK_ID_MAX)
#define GT_WAIT_MAX KLING_WAIT_MAX_S /* seconds: the longest wait one call may ask for */
#define GT_WAIT_MAX_STR GT_STR(KLING_WAIT_MAX_S)
#define GT_BACKOFF_FIRST_MS 1000
#define GT_BACKOFF_MAX_MS 5000

/* The name and MIME type of result k of t as a resource_link: <task_id>.<ext>
 * when t has one result of that kind, else <task_id>_<i>.<ext> (i counting
 * from 0 among them); the kind comes from the URL's path ending, else from
 * the output's type. name is NUL-terminated in name[cap]; *mime is static. */
void tool_get_task_link_name(const struct kling_task *t, size_t k, char *name, size_t cap, const char **mime);

/* The tool's inputSchema and outputSchema (JSON text, static). */
extern const char gt_input_schema[];
extern const char gt_output_schema[];

#endif
