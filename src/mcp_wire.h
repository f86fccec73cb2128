/*
 * mcp_wire — the stdio transport: newline-framed messages over non-blocking
 * standard input and output, driven by the poll loop. (Not called "stdio":
 * a src/stdio.h would shadow <stdio.h>.)
 *
 * Input: bytes are split at '\n'; a '\r' before it is dropped; lines that are
 * empty or only spaces/tabs are skipped. A line longer than LIMIT_LINE_BYTES
 * is reported once through `oversize` as soon as it is known to be too long,
 * and its bytes are thrown away up to the next newline, never buffered. A
 * last line without a newline is still delivered at end of input.
 *
 * Output: mcp_wire_send() queues one message and its '\n'; the queue is written in
 * order, completely, as fast as the reader takes it, and never dropped for
 * slowness. While more than half of LIMIT_STDOUT_BACKLOG waits, input lines
 * are not read and the owner is told (`pressure`) so that it starts no more
 * work; both resume once a quarter is left. The owner bounds the output by
 * admitting less.
 *
 * The state is a struct mcp_wire; the descriptors are passed in. Single-threaded.
 */
#ifndef KLING_MCP_WIRE_H
#define KLING_MCP_WIRE_H

#include <stddef.h>

struct mcp_wire;

struct mcp_wire_handlers {
	/* One complete line, without '\n' or a final '\r'. The bytes are valid
	 * only during the call. */
	void (*line)(void *ctx, const char *line, size_t len);
	/* A line longer than LIMIT_LINE_BYTES began; seen = bytes seen so far. */
	void (*oversize)(void *ctx, size_t seen);
	/* Input ended (end of file or a read error); called once. */
	void (*eof)(void *ctx);
	/* Unread output passed half of LIMIT_STDOUT_BACKLOG (high 1), or came
	 * back to a quarter of it (high 0). May be NULL. */
	void (*pressure)(void *ctx, int high);
};

/* Start reading in_fd and writing out_fd (both made non-blocking; their
 * flags are restored by mcp_wire_close). The handlers struct must outlive the
 * wire. Returns the wire, or NULL if the loop has no room or memory is short. */
struct mcp_wire *mcp_wire_open(int in_fd, int out_fd, const struct mcp_wire_handlers *h, void *ctx);

/* Queue msg[0..len) plus '\n' for output (copied). Returns 0, or -1 when the
 * wire has failed (write error, reader gone, out of memory). */
int mcp_wire_send(struct mcp_wire *w, const char *msg, size_t len);

/* Bytes queued and not yet written. */
size_t mcp_wire_backlog(const struct mcp_wire *w);

/* 1 when input ended and all output was written, or output failed. */
int mcp_wire_done(const struct mcp_wire *w);

/* 1 when output failed (or the reader went away): nothing more can be sent. */
int mcp_wire_failed(const struct mcp_wire *w);

/* 0 when the wire ended normally (including a reader that went away), 1
 * when it failed (write error, out of memory). */
int mcp_wire_status(const struct mcp_wire *w);

/* Stop watching, free the buffers, restore the descriptors' flags, free w
 * (NULL is a no-op). */
void mcp_wire_close(struct mcp_wire *w);

#endif
