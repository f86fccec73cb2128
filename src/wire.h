/*
 * wire — the stdio transport: newline-framed messages over non-blocking
 * standard input and output, driven by the poll loop. (Not called "stdio":
 * a src/stdio.h would shadow <stdio.h>.)
 *
 * Input: bytes are split at '\n'; a '\r' before it is dropped; lines that are
 * empty or only spaces/tabs are skipped. A line longer than LIMIT_LINE_BYTES
 * is reported once through `oversize` as soon as it is known to be too long,
 * and its bytes are thrown away up to the next newline, never buffered. A
 * last line without a newline is still delivered at end of input.
 *
 * Output: wire_send() queues one message and its '\n'; the queue is written in
 * order, completely, as fast as the reader takes it. While more than half of
 * LIMIT_STDOUT_BACKLOG waits, input lines are not read (back-pressure on a
 * client that sends without reading); past the limit the wire fails.
 *
 * One wire per process (it is standard input and output); single-threaded.
 */
#ifndef KLING_WIRE_H
#define KLING_WIRE_H

#include <stddef.h>

struct wire_handlers {
	/* One complete line, without '\n' or a final '\r'. The bytes are valid
	 * only during the call. */
	void (*line)(void *ctx, const char *line, size_t len);
	/* A line longer than LIMIT_LINE_BYTES began; seen = bytes seen so far. */
	void (*oversize)(void *ctx, size_t seen);
	/* Input ended (end of file or a read error); called once. */
	void (*eof)(void *ctx);
};

/* Start reading in_fd and writing out_fd (both made non-blocking; their
 * flags are restored by wire_close). The handlers struct must outlive the
 * wire. Returns 0, or -1 if the loop has no room or memory is short. */
int wire_open(int in_fd, int out_fd, const struct wire_handlers *h, void *ctx);

/* Queue msg[0..len) plus '\n' for output (copied). Returns 0, or -1 when the
 * wire has failed or this message would pass LIMIT_STDOUT_BACKLOG (the wire
 * then fails: a client that does not read is disconnected). */
int wire_send(const char *msg, size_t len);

/* Bytes queued and not yet written. */
size_t wire_backlog(void);

/* 1 when the wire is finished: input ended and all output was written, or
 * output failed. The server stops then. */
int wire_done(void);

/* 0 when the wire ended normally (including a reader that went away), 1
 * when it failed (backlog overflow, write error). */
int wire_status(void);

/* Stop watching, free the buffers, restore the descriptors' flags. */
void wire_close(void);

#endif
