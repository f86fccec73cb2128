/*
 * mcp_jsonrpc — JSON-RPC 2.0 framing: one line in, a classified message view
 * out; responses and errors written through the JSON writer.
 *
 * Reading has no I/O and allocates nothing: the views point into the line and
 * the json_doc, and stay valid while both are unchanged.
 *
 * Ids are echoed verbatim (the exact source bytes, so a 40-digit integer or
 * an escaped string comes back byte for byte). An id that cannot be used —
 * null, a fraction, a boolean, an object, longer than LIMIT_ID_BYTES — is
 * left out of the error that refuses the message, since MCP clients reject
 * "id": null.
 */
#ifndef KLING_MCP_JSONRPC_H
#define KLING_MCP_JSONRPC_H

#include <stddef.h>

#include "json.h"

/* Standard codes, and the MCP 2026-07-28 "unsupported protocol version". */
#define JSONRPC_PARSE_ERROR (-32700)
#define JSONRPC_INVALID_REQUEST (-32600)
#define JSONRPC_METHOD_NOT_FOUND (-32601)
#define JSONRPC_INVALID_PARAMS (-32602)
#define JSONRPC_INTERNAL_ERROR (-32603)
#define JSONRPC_UNSUPPORTED_VERSION (-32022)

enum mcp_jsonrpc_id_kind {
	JSONRPC_ID_NONE = 0, /* absent, or present but unusable: never echoed */
	JSONRPC_ID_STRING,
	JSONRPC_ID_INT,
};

struct mcp_jsonrpc_id {
	enum mcp_jsonrpc_id_kind kind;
	const char *raw; /* the id's JSON text (a string keeps quotes and escapes) */
	size_t len;
};

enum mcp_jsonrpc_kind {
	JSONRPC_REQUEST,      /* has a usable id and a string method: answer it */
	JSONRPC_NOTIFICATION, /* has a method member and no id: never answered */
	JSONRPC_RESPONSE,     /* a response from the client (result/error, no method): ignored */
	JSONRPC_INVALID,      /* refuse with code/message (id echoed when usable) */
};

struct mcp_jsonrpc_msg {
	enum mcp_jsonrpc_kind kind;
	struct mcp_jsonrpc_id id;
	int id_tok;  /* the id's token when id.kind is not NONE, else -1 */
	int method;  /* string token (REQUEST; NOTIFICATION when it is a string, else -1) */
	int params;  /* object or array token, or -1 when absent */
	int code;    /* INVALID: the error code */
	char message[160]; /* INVALID: the error message */
};

/* What a line holds. */
enum mcp_jsonrpc_line {
	JSONRPC_LINE_ERROR = -1, /* refuse with the error filled in (id omitted) */
	JSONRPC_LINE_SINGLE = 0, /* token 0 is one message */
	JSONRPC_LINE_BATCH = 1,  /* token 0 is a non-empty array of at most LIMIT_BATCH_REQUESTS messages */
};

/* Parse one line (without its newline) into d. On JSONRPC_LINE_ERROR, *code
 * and message (NUL-terminated, cap bytes) say why: -32700 for text that is
 * not JSON, -32600 naming the limit for LIMIT_JSON_TOKENS, LIMIT_JSON_DEPTH
 * and LIMIT_BATCH_REQUESTS, and for an empty batch. */
enum mcp_jsonrpc_line mcp_jsonrpc_parse_line(struct json_doc *d, const char *line, size_t len, int *code, char *message,
				     size_t cap);

/* Classify message token t of d into m. Never fails: problems become
 * m->kind == JSONRPC_INVALID with code -32600 and a message. Rules: an
 * object; "jsonrpc" exactly "2.0"; "id" a string or a plain integer (no
 * fraction or exponent) of at most LIMIT_ID_BYTES bytes, never null; "method"
 * a string; "params", when present, an object or array; none of these
 * members twice. A message with "method" and no "id" is a notification even
 * if otherwise malformed (notifications are never answered). */
void mcp_jsonrpc_read(const struct json_doc *d, int t, struct mcp_jsonrpc_msg *m);

/* {"jsonrpc":"2.0","id":ID,"result":  — the caller writes one value, then
 * calls mcp_jsonrpc_result_end. id may be NULL or NONE only for tests. */
void mcp_jsonrpc_result_begin(struct json_w *w, const struct mcp_jsonrpc_id *id);
void mcp_jsonrpc_result_end(struct json_w *w);

/* {"jsonrpc":"2.0"[,"id":ID],"error":{"code":C,"message":M — the caller may
 * add members (e.g. "data"), then calls mcp_jsonrpc_error_end. The id is left out
 * when id is NULL or of kind NONE. */
void mcp_jsonrpc_error_begin(struct json_w *w, const struct mcp_jsonrpc_id *id, int code, const char *message);
void mcp_jsonrpc_error_end(struct json_w *w);

/* A whole error response with no data. */
void mcp_jsonrpc_error(struct json_w *w, const struct mcp_jsonrpc_id *id, int code, const char *message);

#endif
