/* Unit tests of the output queue: partial writes, EAGAIN, the maximum, lazy
 * compaction, a write error. */
#include "outq.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

/* Read everything available from fd into out (at most cap bytes). */
static size_t drain(int fd, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, out + n, cap - n);
		if (r <= 0)
			return n;
		n += (size_t)r;
	}
}

int main(void)
{
	t_plan(11);
	signal(SIGPIPE, SIG_IGN);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	int snd = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);

	struct outq q;
	outq_init(&q, 1 << 20);
	static char big[1 << 20], got[1 << 20];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	T_CHECK("outq/put queues", outq_put(&q, big, 200000) == 0 && outq_put(&q, big + 200000, 100000) == 0 &&
					   outq_pending(&q) == 300000 && q.b.cap > 300000);
	int r = outq_flush(&q, sv[0], 1, 65536);
	size_t left = outq_pending(&q);
	T_CHECK("outq/a full socket is EAGAIN with the rest kept", r == OUTQ_AGAIN && left > 0 && left < 300000);
	T_CHECK("outq/written bytes are skipped, not moved", q.off == 300000 - left && q.b.len == 300000);
	size_t n = drain(sv[1], got, sizeof got);
	T_CHECK("outq/the written part arrives in order", n == 300000 - left && memcmp(got, big, n) == 0);

	size_t off = q.off;
	char *tail = outq_room(&q, 3);
	T_CHECK("outq/room for a few bytes at the end without moving", tail && q.off == off);
	memcpy(tail, "xyz", 3);
	outq_commit(&q, 3);
	/* the rest of the maximum: only the unwritten bytes count */
	size_t room = (1 << 20) - left - 3;
	T_CHECK("outq/past the maximum is refused, nothing put",
		outq_put(&q, big, room + 1) == BUF_E_MAX && outq_pending(&q) == left + 3);
	T_CHECK("outq/a put that needs the front moves the rest there",
		outq_put(&q, big, room) == 0 && q.off == 0 && outq_pending(&q) == 1 << 20);

	size_t total = 0;
	char *all = malloc(1 << 21);
	for (int i = 0; i < 10000 && (r = outq_flush(&q, sv[0], 1, 65536)) == OUTQ_AGAIN; i++)
		total += drain(sv[1], all + total, (1 << 21) - total);
	total += drain(sv[1], all + total, (1 << 21) - total);
	T_CHECK("outq/partial writes end in DONE with every byte in order",
		r == OUTQ_DONE && total == (1 << 20) &&
			memcmp(all, big + 300000 - left, left) == 0 && memcmp(all + left, "xyz", 3) == 0 &&
			memcmp(all + left + 3, big, room) == 0);
	T_CHECK("outq/an emptied queue past keep gives its memory back", q.b.p == NULL && q.off == 0 && q.b.len == 0);
	free(all);

	T_CHECK("outq/write() for a non-socket fd",
		outq_put(&q, "hi", 2) == 0 && outq_flush(&q, sv[0], 0, 65536) == OUTQ_DONE &&
			drain(sv[1], got, 10) == 2 && memcmp(got, "hi", 2) == 0 && q.b.p != NULL);
	close(sv[1]);
	errno = 0;
	T_CHECK("outq/a peer gone is OUTQ_ERROR with errno, the bytes kept",
		outq_put(&q, "lost", 4) == 0 && outq_flush(&q, sv[0], 1, 65536) == OUTQ_ERROR && errno == EPIPE &&
			outq_pending(&q) == 4);
	outq_free(&q);
	close(sv[0]);
	return t_done();
}
