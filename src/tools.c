/* tools — see tools.h. */
#include "tools.h"

#include "tool_list_tasks.h"

static const struct mcp_tool *const g_tools[] = {&lt_tool};

const struct tool_registry kling_tools = {
	g_tools,
	sizeof g_tools / sizeof *g_tools, /* NOLINT(bugprone-sizeof-expression): an array of pointers, counted */
	"kling-mcp lists the generation tasks (videos, images, virtual try-ons) of the Kling AI account "
	"whose credentials it was started with. Use list_tasks to see whether tasks finished, why they "
	"failed, and where their results are (result URLs expire 30 days after creation). Filter by "
	"status, product_type and creation time (ISO 8601); for the next page pass next_cursor back as "
	"cursor. It cannot create, change or cancel tasks.",
};
