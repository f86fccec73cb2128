/* t_tool — a tool's prepare() on arguments given as JSON text, for the
 * tools' unit tests: the call state zeroed, ERR emptied, the text parsed from
 * a guarded copy (t_guarded) into the caller's document. */
#ifndef T_TOOL_H
#define T_TOOL_H

#include "mcp.h"
#include "t.h"

#include <string.h>

static _Alignas(16) unsigned char STATE[MCP_TOOL_STATE_BYTES];
static char ERR[2048];

/* prepare()'s answer, or -2 when the test input itself is not JSON. An
 * empty text stands for a call without arguments. */
static inline int t_prepare(const struct mcp_tool *tool, struct json_doc *d, const char *args_json)
{
	memset(STATE, 0, sizeof STATE);
	ERR[0] = 0;
	size_t n = strlen(args_json);
	const char *p = t_guarded(args_json, n);
	if (n && json_parse(d, p, n) != 0) {
		strcpy(ERR, "(test input is not JSON)");
		return -2;
	}
	return tool->prepare(d, n ? 0 : -1, STATE, ERR, sizeof ERR);
}

#endif
