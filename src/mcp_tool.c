/* mcp_tool — see mcp_tool.h. */
#include "mcp_tool.h"

void mcp_tool_describe(struct json_w *w, const char *name, const char *title, const char *description,
		       const char *input_schema, size_t input_len, const char *output_schema, size_t output_len,
		       int task_optional)
{
	json_w_obj(w);
	json_w_key(w, "name");
	json_w_cstr(w, name);
	json_w_key(w, "title");
	json_w_cstr(w, title);
	json_w_key(w, "description");
	json_w_cstr(w, description);
	json_w_key(w, "inputSchema");
	json_w_raw(w, input_schema, input_len);
	json_w_key(w, "outputSchema");
	json_w_raw(w, output_schema, output_len);
	json_w_key(w, "annotations");
	json_w_obj(w);
	json_w_key(w, "title");
	json_w_cstr(w, title);
	json_w_key(w, "readOnlyHint");
	json_w_bool(w, 1);
	json_w_key(w, "destructiveHint");
	json_w_bool(w, 0);
	json_w_key(w, "idempotentHint");
	json_w_bool(w, 1);
	json_w_key(w, "openWorldHint");
	json_w_bool(w, 1);
	json_w_obj_end(w);
	if (task_optional) {
		json_w_key(w, "execution");
		json_w_obj(w);
		json_w_key(w, "taskSupport");
		json_w_cstr(w, "optional");
		json_w_obj_end(w);
	}
	json_w_obj_end(w);
}
