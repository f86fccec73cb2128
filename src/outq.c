/* outq — see outq.h. */
#include "outq.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void outq_init(struct outq *q, size_t max)
{
	buf_init(&q->b, max);
	q->off = 0;
}

/* Room for n more bytes, moving the unwritten bytes to the front first when
 * the end has too little: 0 or buf_reserve's error. */
static int room(struct outq *q, size_t n)
{
	if (n > q->b.cap - q->b.len && q->off) {
		memmove(q->b.p, q->b.p + q->off, q->b.len - q->off);
		q->b.len -= q->off;
		q->off = 0;
	}
	return buf_reserve(&q->b, n);
}

char *outq_room(struct outq *q, size_t n)
{
	return room(q, n) < 0 ? NULL : q->b.p + q->b.len;
}

int outq_put(struct outq *q, const void *p, size_t n)
{
	int r = room(q, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(q->b.p + q->b.len, p, n);
	q->b.len += n;
	return 0;
}

int outq_flush(struct outq *q, int fd, int sock, size_t keep)
{
	while (q->off < q->b.len) {
		const char *p = q->b.p + q->off;
		size_t n = q->b.len - q->off;
		ssize_t r = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (r > 0) {
			q->off += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OUTQ_AGAIN;
		if (r == 0)
			errno = 0;
		return OUTQ_ERROR;
	}
	q->off = q->b.len = 0;
	if (q->b.cap > keep)
		buf_free(&q->b);
	return OUTQ_DONE;
}

void outq_free(struct outq *q)
{
	buf_free(&q->b);
	q->off = 0;
}
