/*
 * outq — an output queue for a non-blocking fd (standard output, a client's
 * socket): bytes are put at the end and written from the front as the fd
 * takes them. Built on buf: what is written is skipped by a read offset and
 * moved out only when the room is needed (lazy compaction); the bytes not yet
 * written never pass the queue's maximum.
 *
 * The owner keeps one struct outq per fd and calls outq_flush when the fd is
 * writable. Not thread-safe; no callbacks, so re-entrancy does not arise.
 */
#ifndef KLING_OUTQ_H
#define KLING_OUTQ_H

#include "buf.h"

#include <stddef.h>

struct outq {
	struct buf b; /* the bytes b.p[off..b.len) are still to write */
	size_t off;
};

/* outq_flush's answers. */
#define OUTQ_DONE 0   /* all written: the queue is empty */
#define OUTQ_AGAIN 1  /* the fd takes no more now (EAGAIN): wait for POLLOUT */
#define OUTQ_ERROR (-1) /* the write failed (errno; 0 when it wrote nothing) */

/* An empty queue that will hold at most max bytes not yet written. */
void outq_init(struct outq *q, size_t max);

/* Put n bytes at the end: 0, or BUF_E_MAX (the unwritten bytes would pass
 * max) / BUF_E_NOMEM, with nothing put. */
int outq_put(struct outq *q, const void *p, size_t n);

/* Room for n more bytes at the end (written there, then outq_commit): a
 * pointer, or NULL as outq_put. Valid until the next call on the queue. */
char *outq_room(struct outq *q, size_t n);
static inline void outq_commit(struct outq *q, size_t n) { q->b.len += n; }

/* Bytes put and not yet written. */
static inline size_t outq_pending(const struct outq *q) { return q->b.len - q->off; }

/* Write to fd as much as it takes (send() without SIGPIPE when sock, else
 * write()), retrying EINTR: OUTQ_DONE, OUTQ_AGAIN or OUTQ_ERROR. An emptied
 * queue starts again at offset 0, its memory freed when it grew past keep. */
int outq_flush(struct outq *q, int fd, int sock, size_t keep);

/* Free the memory; the queue is empty (same maximum). */
void outq_free(struct outq *q);

#endif
