/* mcp_out — the core's output: answers and tool errors built in S.w, the
 * inputs' tags, batches. The shared state is in mcp_core.h. */
#include "mcp.h"
#include "mcp_core.h"

#include "buf.h"
#include "mcp_jsonrpc.h"
#include "log.h"

#include <stdint.h>
#include <string.h>

/* A tool's error text is cut here so the answer always fits. */
#define ERROR_TEXT_MAX (64 * 1024)

/* ---- output ---- */

static void batch_add(struct batch *b, const char *p, size_t n);

/* Send (or hold in batch b) what S.w holds: an error answer with its code,
 * else code 0. */
void mcp_out_emit(struct mcp_session *s, struct batch *b, void *tag, int code)
{
	size_t n;
	const char *p = json_w_data(&S.w, &n);
	if (json_w_error(&S.w)) { /* cannot happen for our own fixed-size messages */
		log_error("internal error: a response could not be built (%d)", json_w_error(&S.w));
		return;
	}
	if (b)
		batch_add(b, p, n);
	else if (s->sink->send(s->ctx, tag, p, n, code) < 0)
		log_debug("a response could not be queued");
	if (S.w.b.cap > ((size_t)1 << 20))
		json_w_free(&S.w); /* a big result's memory goes back; the maximum stays */
}


void mcp_out_send_error(const struct dest *d, const struct mcp_jsonrpc_id *id, int code, const char *message)
{
	json_w_reset(&S.w);
	mcp_jsonrpc_error(&S.w, id, code, message);
	mcp_out_emit(d->s, d->b, d->tag, code);
}

/* Open {"jsonrpc":"2.0","id":..,"result":{ and return the writer. */
struct json_w *mcp_out_result_begin(const struct mcp_jsonrpc_id *id)
{
	json_w_reset(&S.w);
	mcp_jsonrpc_result_begin(&S.w, id);
	S.res_at = S.w.b.len;
	json_w_obj(&S.w);
	return &S.w;
}

/* Close the result S.w holds: its resultType (2026-07-28 on), the object,
 * the envelope. */
void mcp_out_result_close(int modern)
{
	if (modern) {
		json_w_key(&S.w, "resultType");
		json_w_cstr(&S.w, "complete");
	}
	json_w_obj_end(&S.w);
	mcp_jsonrpc_result_end(&S.w);
}

void mcp_out_result_end(const struct dest *d, int modern)
{
	mcp_out_result_close(modern);
	mcp_out_emit(d->s, d->b, d->tag, 0);
}

void mcp_write_text_open(struct json_w *w)
{
	json_w_key(w, "content");
	json_w_arr(w);
	json_w_obj(w);
	json_w_key(w, "type");
	json_w_cstr(w, "text");
	json_w_key(w, "text");
}

void mcp_write_tool_error(struct json_w *w, const char *text)
{
	size_t n = strlen(text);
	if (n > ERROR_TEXT_MAX)
		n = ERROR_TEXT_MAX;
	mcp_write_text_open(w);
	json_w_str(w, text, n);
	json_w_obj_end(w);
	json_w_arr_end(w);
	json_w_key(w, "isError");
	json_w_bool(w, 1);
}

void mcp_out_send_tool_error(const struct dest *d, const struct mcp_jsonrpc_id *id, enum mcp_version v, const char *text)
{
	mcp_write_tool_error(mcp_out_result_begin(id), text);
	mcp_out_result_end(d, v >= MCP_V_2026_07_28);
}

/* ---- inputs and their tags ---- */

/* 1 while a call or a batch of session s still owes an answer to tag. */
static int tag_busy(const struct mcp_session *s, const void *tag)
{
	for (int i = 0; i < S.ncalls; i++)
		if (S.calls[i].state != C_FREE && !S.calls[i].task && S.calls[i].s == s && S.calls[i].tag == tag)
			return 1;
	for (int i = 0; i < S.nbatches; i++)
		if (S.batches[i].used && S.batches[i].s == s && S.batches[i].tag == tag)
			return 1;
	for (int i = 0; i < g_nholds; i++)
		if (g_holds[i].kind != H_FREE && g_holds[i].s == s && g_holds[i].tag == tag)
			return 1;
	return 0;
}

/* After an answer owed to tag was sent or dropped. */
void mcp_out_tag_settled(struct mcp_session *s, void *tag)
{
	if (s->dropping || (s->in_input && s->in_tag == tag) || !s->sink->input_done || tag_busy(s, tag))
		return;
	s->sink->input_done(s->ctx, tag);
}

/* ---- batches (protocol 2025-03-26) ---- */

struct batch *mcp_out_batch_new(struct mcp_session *s, void *tag)
{
	for (int i = 0; i < NBATCHES; i++)
		if (!S.batches[i].used) {
			struct batch *b = &S.batches[i];
			if (i == S.nbatches)
				S.nbatches++;
			b->used = 1;
			b->open = 1;
			b->pending = b->count = 0;
			b->out.len = 0;
			b->out.max = SIZE_MAX; /* batch_add keeps it near BATCH_BYTES_MAX */
			b->s = s;
			b->tag = tag;
			return b;
		}
	return NULL;
}

static int batch_put(struct batch *b, const char *p, size_t n)
{
	return buf_append(&b->out, p, n);
}

/* Room for the answers' own bytes; past it each further answer is a short
 * -32603 error, so a batch's reply stays bounded. */
#define BATCH_BYTES_MAX ((size_t)LIMIT_RESPONSE_BYTES)

static void batch_add(struct batch *b, const char *p, size_t n)
{
	static const char too_big[] = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":"
				      "\"Internal error: the batch reply would pass LIMIT_RESPONSE_BYTES\"}}";
	if (b->out.len + n + 1 > BATCH_BYTES_MAX) {
		p = too_big;
		n = sizeof too_big - 1;
	}
	if (batch_put(b, b->count ? "," : "[", 1) < 0 || batch_put(b, p, n) < 0) {
		log_error("out of memory holding a batch reply");
		return;
	}
	b->count++;
}

void mcp_out_batch_free(struct batch *b)
{
	b->used = 0;
	b->s = NULL;
	b->tag = NULL;
	if (b->out.cap > 65536)
		buf_free(&b->out);
	b->out.len = 0;
}

/* Send the batch's array once its input is processed and no call is pending;
 * a batch of only notifications sends nothing. */
void mcp_out_batch_maybe_flush(struct batch *b)
{
	struct mcp_session *s = b->s;
	if (b->open || b->pending || s->dropping)
		return;
	void *tag = b->tag;
	if (b->count && batch_put(b, "]", 1) == 0 && s->sink->send(s->ctx, tag, b->out.p, b->out.len, 0) < 0)
		log_debug("a batch reply could not be queued");
	mcp_out_batch_free(b);
	mcp_out_tag_settled(s, tag);
}


/* {} as the value of key (capabilities are declared by presence). */
void mcp_out_write_empty(struct json_w *w, const char *key)
{
	json_w_key(w, key);
	json_w_obj(w);
	json_w_obj_end(w);
}
