/* TEMPORARY: see mcp_session_compat.h. */
#include "mcp_session_compat.h"

#include <stdlib.h>
#include <string.h>

struct mcp_session {
	const struct mcp_sink *sink;
	void *ctx;
};

struct pend {
	struct mcp_session *s;
	void *tag;
	int dead;
};

static const struct config *g_cfg;
static int g_live;
static struct mcp_session *g_cur;
static void *g_cur_tag;
static int g_sync;
static struct pend g_q[512];
static int g_qn;

static int out(const char *msg, size_t len)
{
	int note = len > 25 && memcmp(msg, "{\"jsonrpc\":\"2.0\",\"method\"", 25) == 0;
	if (g_cur) {
		g_sync += !note;
		return g_cur->sink->send(g_cur->ctx, g_cur_tag, msg, len);
	}
	if (g_qn == 0)
		return -1;
	struct pend p = g_q[0];
	if (note)
		return p.dead ? 0 : p.s->sink->send(p.s->ctx, p.tag, msg, len);
	memmove(g_q, g_q + 1, sizeof *g_q * (size_t)--g_qn);
	if (p.dead)
		return 0;
	int r = p.s->sink->send(p.s->ctx, p.tag, msg, len);
	if (p.s->sink->input_done)
		p.s->sink->input_done(p.s->ctx, p.tag);
	return r;
}

int mcp_compat_init(const struct config *cfg)
{
	g_cfg = cfg;
	return mcp_init(cfg, out);
}

struct mcp_session *mcp_session_new(const struct mcp_sink *sink, void *ctx)
{
	struct mcp_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (g_live == 0 && g_qn == 0) {
		mcp_free();
		mcp_init(g_cfg, out);
	}
	g_live++;
	s->sink = sink;
	s->ctx = ctx;
	return s;
}

int mcp_session_input(struct mcp_session *s, const char *msg, size_t len, void *tag)
{
	int before = mcp_calls_running() + mcp_calls_queued();
	g_cur = s;
	g_cur_tag = tag;
	g_sync = 0;
	mcp_on_line(msg, len);
	g_cur = NULL;
	int calls = mcp_calls_running() + mcp_calls_queued() - before;
	if (calls > 0 && g_qn < 512)
		g_q[g_qn++] = (struct pend){s, tag, 0};
	return g_sync + (calls > 0);
}

void mcp_session_cancel_tag(struct mcp_session *s, void *tag)
{
	for (int i = 0; i < g_qn; i++)
		if (g_q[i].s == s && g_q[i].tag == tag)
			g_q[i].dead = 1;
}

void mcp_session_free(struct mcp_session *s)
{
	for (int i = 0; i < g_qn; i++)
		if (g_q[i].s == s)
			g_q[i].dead = 1;
	g_live--;
	free(s);
}

void mcp_session_modern_only(struct mcp_session *s)
{
	(void)s; /* the shim has one shared flow */
}
