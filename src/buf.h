/*
 * buf — a bounded growable byte buffer (reserve, then append): the one place
 * that grows memory by doubling. Every buffer has a maximum: a reserve that
 * would take it past max fails and leaves the bytes held as they were, so a
 * hostile peer cannot grow it without limit and the caller can still answer
 * with what it holds.
 *
 * Growth doubles the capacity (or jumps to what is asked when that is more),
 * never past max, and never overflows size_t. The bytes are p[0..len); p may
 * move on any reserve or append (keep offsets, not pointers, across them).
 * A buf owns p (freed by buf_free); the fields may be read, and len lowered,
 * by its owner. Not thread-safe; no callbacks, so re-entrancy does not arise.
 */
#ifndef KLING_BUF_H
#define KLING_BUF_H

#include <stddef.h>

struct buf {
	char *p;    /* the bytes, NULL until the first reserve */
	size_t len; /* bytes held */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes cap may reach */
};

#define BUF_E_MAX (-1)   /* len + more would pass max */
#define BUF_E_NOMEM (-2) /* out of memory */

/* An empty buffer that will hold at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Room for more bytes after len (cap - len >= more): 0, or BUF_E_MAX /
 * BUF_E_NOMEM with p, len and cap unchanged. The slow path is buf_grow. */
int buf_grow(struct buf *b, size_t more);
static inline int buf_reserve(struct buf *b, size_t more)
{
	return more <= b->cap - b->len ? 0 : buf_grow(b, more);
}

/* Copy n bytes to the end: 0, or as buf_reserve (nothing appended). */
int buf_append(struct buf *b, const void *s, size_t n);

/* Free the bytes; the buffer is empty again (same maximum). */
void buf_free(struct buf *b);

#endif
