/* buf — see buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* The first allocation: small buffers stay small. */
#define BUF_FIRST_CAP 1024

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

int buf_grow(struct buf *b, size_t more)
{
	if (b->len > b->max || more > b->max - b->len)
		return BUF_E_MAX;
	size_t need = b->len + more;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap < BUF_FIRST_CAP / 2 ? BUF_FIRST_CAP : b->cap > b->max / 2 ? b->max : b->cap * 2;
	if (cap < need)
		cap = need;
	if (cap > b->max)
		cap = b->max;
	char *np = realloc(b->p, cap);
	if (!np)
		return BUF_E_NOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *s, size_t n)
{
	int r = buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
