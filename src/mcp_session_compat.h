/*
 * TEMPORARY (until the session objects of the restructuring land in mcp.h):
 * the session API the HTTP transport is written against, implemented over the
 * one process-wide mcp instance. Removed at the merge.
 */
#ifndef KLING_MCP_SESSION_COMPAT_H
#define KLING_MCP_SESSION_COMPAT_H

#include "mcp.h"

struct mcp_session;
struct mcp_sink {
	int (*send)(void *ctx, void *tag, const char *msg, size_t len);
	void (*input_done)(void *ctx, void *tag);
};
int mcp_compat_init(const struct config *cfg);
struct mcp_session *mcp_session_new(const struct mcp_sink *sink, void *ctx);
int mcp_session_input(struct mcp_session *s, const char *msg, size_t len, void *tag);
void mcp_session_cancel_tag(struct mcp_session *s, void *tag);
void mcp_session_free(struct mcp_session *s);
void mcp_session_modern_only(struct mcp_session *s);

#endif
