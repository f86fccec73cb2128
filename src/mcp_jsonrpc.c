/* mcp_jsonrpc — see mcp_jsonrpc.h. */
#include "mcp_jsonrpc.h"

#include <stdio.h>
#include <string.h>

enum mcp_jsonrpc_line mcp_jsonrpc_parse_line(struct json_doc *d, const char *line, size_t len, int *code, char *message,
				     size_t cap)
{
	int r = json_parse(d, line, len);
	if (r == JSON_E_TOKENS) {
		*code = JSONRPC_INVALID_REQUEST;
		snprintf(message, cap, "Invalid Request: more than %d JSON values in one message (LIMIT_JSON_TOKENS)",
			 d->cap);
		return JSONRPC_LINE_ERROR;
	}
	if (r == JSON_E_DEPTH) {
		*code = JSONRPC_INVALID_REQUEST;
		snprintf(message, cap, "Invalid Request: JSON nested deeper than %d levels (LIMIT_JSON_DEPTH)",
			 LIMIT_JSON_DEPTH);
		return JSONRPC_LINE_ERROR;
	}
	if (r < 0) {
		*code = JSONRPC_PARSE_ERROR;
		snprintf(message, cap, "Parse error: %s at byte %zu", json_strerror(r), d->err_pos);
		return JSONRPC_LINE_ERROR;
	}
	if (json_type(d, 0) != JSON_ARRAY)
		return JSONRPC_LINE_SINGLE;
	int n = json_count(d, 0);
	if (n == 0) {
		*code = JSONRPC_INVALID_REQUEST;
		snprintf(message, cap, "Invalid Request: empty batch");
		return JSONRPC_LINE_ERROR;
	}
	if (n > LIMIT_BATCH_REQUESTS) {
		*code = JSONRPC_INVALID_REQUEST;
		snprintf(message, cap, "Invalid Request: batch of %d requests, more than %d (LIMIT_BATCH_REQUESTS)", n,
			 LIMIT_BATCH_REQUESTS);
		return JSONRPC_LINE_ERROR;
	}
	return JSONRPC_LINE_BATCH;
}

static void invalid(struct mcp_jsonrpc_msg *m, const char *message)
{
	m->kind = JSONRPC_INVALID;
	m->code = JSONRPC_INVALID_REQUEST;
	snprintf(m->message, sizeof m->message, "Invalid Request: %s", message);
}

void mcp_jsonrpc_read(const struct json_doc *d, int t, struct mcp_jsonrpc_msg *m)
{
	memset(m, 0, sizeof *m);
	m->method = m->params = m->id_tok = -1;
	if (json_type(d, t) != JSON_OBJECT) {
		invalid(m, "a message must be a JSON object");
		return;
	}
	static const char *const names[] = {"jsonrpc", "id", "method", "params", "result", "error"};
	enum { JSONRPC, ID, METHOD, PARAMS, RESULT, ERROR, NMEMBERS };
	int tok[NMEMBERS] = {-1, -1, -1, -1, -1, -1}, dup = -1;
	for (int k = json_first(d, t); k >= 0; k = json_next(d, k))
		for (int i = 0; i < NMEMBERS; i++)
			if (json_streq(d, k, names[i])) {
				if (tok[i] >= 0 && dup < 0)
					dup = i;
				tok[i] = json_value(d, k);
			}
	if (tok[ID] < 0) {
		if (tok[METHOD] >= 0) {
			m->kind = JSONRPC_NOTIFICATION;
			if (json_type(d, tok[METHOD]) == JSON_STRING)
				m->method = tok[METHOD];
			m->params = tok[PARAMS];
			return;
		}
		if (tok[RESULT] >= 0 || tok[ERROR] >= 0) {
			m->kind = JSONRPC_RESPONSE;
			return;
		}
		invalid(m, "no \"method\" member");
		return;
	}

	/* the id first, so that every later refusal can echo it */
	enum json_type it = json_type(d, tok[ID]);
	size_t idlen;
	const char *idraw = json_raw(d, tok[ID], &idlen);
	if (it == JSON_NULL) {
		invalid(m, "\"id\" must not be null");
		return;
	}
	if (it != JSON_STRING && !json_is_plain_int(d, tok[ID])) {
		invalid(m, "\"id\" must be a string or an integer");
		return;
	}
	if (idlen > LIMIT_ID_BYTES) {
		m->kind = JSONRPC_INVALID;
		m->code = JSONRPC_INVALID_REQUEST;
		snprintf(m->message, sizeof m->message, "Invalid Request: \"id\" longer than %d bytes (LIMIT_ID_BYTES)",
			 LIMIT_ID_BYTES);
		return;
	}
	m->id.kind = it == JSON_STRING ? JSONRPC_ID_STRING : JSONRPC_ID_INT;
	m->id.raw = idraw;
	m->id.len = idlen;
	m->id_tok = tok[ID];

	if (dup >= 0) {
		m->kind = JSONRPC_INVALID;
		m->code = JSONRPC_INVALID_REQUEST;
		snprintf(m->message, sizeof m->message, "Invalid Request: member \"%s\" appears twice", names[dup]);
		return;
	}
	if (tok[JSONRPC] < 0) {
		invalid(m, "missing \"jsonrpc\":\"2.0\"");
		return;
	}
	if (!json_streq(d, tok[JSONRPC], "2.0")) {
		invalid(m, "\"jsonrpc\" must be \"2.0\"");
		return;
	}
	if (tok[METHOD] < 0) {
		if (tok[RESULT] >= 0 || tok[ERROR] >= 0) {
			m->kind = JSONRPC_RESPONSE;
			return;
		}
		invalid(m, "no \"method\" member");
		return;
	}
	if (json_type(d, tok[METHOD]) != JSON_STRING) {
		invalid(m, "\"method\" must be a string");
		return;
	}
	if (tok[PARAMS] >= 0 && json_type(d, tok[PARAMS]) != JSON_OBJECT && json_type(d, tok[PARAMS]) != JSON_ARRAY) {
		invalid(m, "\"params\" must be an object or an array");
		return;
	}
	m->kind = JSONRPC_REQUEST;
	m->method = tok[METHOD];
	m->params = tok[PARAMS];
}

static void head(struct json_w *w, const struct mcp_jsonrpc_id *id)
{
	json_w_obj(w);
	json_w_key(w, "jsonrpc");
	json_w_cstr(w, "2.0");
	if (id && id->kind != JSONRPC_ID_NONE) {
		json_w_key(w, "id");
		json_w_raw(w, id->raw, id->len);
	}
}

void mcp_jsonrpc_result_begin(struct json_w *w, const struct mcp_jsonrpc_id *id)
{
	head(w, id);
	json_w_key(w, "result");
}

void mcp_jsonrpc_result_end(struct json_w *w)
{
	json_w_obj_end(w);
}

void mcp_jsonrpc_error_begin(struct json_w *w, const struct mcp_jsonrpc_id *id, int code, const char *message)
{
	head(w, id);
	json_w_key(w, "error");
	json_w_obj(w);
	json_w_key(w, "code");
	json_w_int(w, code);
	json_w_key(w, "message");
	json_w_cstr(w, message);
}

void mcp_jsonrpc_error_end(struct json_w *w)
{
	json_w_obj_end(w);
	json_w_obj_end(w);
}

void mcp_jsonrpc_error(struct json_w *w, const struct mcp_jsonrpc_id *id, int code, const char *message)
{
	mcp_jsonrpc_error_begin(w, id, code, message);
	mcp_jsonrpc_error_end(w);
}
